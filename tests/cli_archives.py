"""A small archive built the way a user builds one: configure, describe, train, index."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cli.main import main


def _run(*args: str) -> None:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


def build_archive(data_root: Path, work: Path, *, per_class: int, epochs: int) -> dict[str, Path]:
    """Run the CLI from a labelled folder to ``a.chx``; return the files by name.

    Keys: ``bank.json``, ``train.npz``, ``test.npz``, ``model.pt`` (12 bits, ``epochs`` epochs,
    valid = the test split) and ``archive`` (the training split indexed with the bank).
    """
    files = {name: work / name for name in ("bank.json", "train.npz", "test.npz", "model.pt")}
    files["archive"] = work / "a.chx"
    _run(
        "configure",
        "--dataset",
        str(data_root),
        "--per-class",
        str(per_class),
        "--rotations",
        "8",
        "-o",
        str(files["bank.json"]),
    )
    for split in ("train", "test"):
        _run(
            "describe",
            "--bank",
            str(files["bank.json"]),
            str(data_root),
            "--split",
            split,
            "-o",
            str(files[f"{split}.npz"]),
            "--quiet",
        )
    _run(
        "train",
        str(files["train.npz"]),
        "--valid",
        str(files["test.npz"]),
        "--bits",
        "12",
        "--epochs",
        str(epochs),
        "-o",
        str(files["model.pt"]),
        "--quiet",
    )
    _run(
        "index",
        "--bank",
        str(files["bank.json"]),
        "--model",
        str(files["model.pt"]),
        str(files["train.npz"]),
        "-o",
        str(files["archive"]),
    )
    return files
