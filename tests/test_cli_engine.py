"""End to end through the command line: configure and describe on a slice of real galaxies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from cli.main import main
from cosfire.bank import load_bank
from cosfire.descriptor_file import load_descriptors


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_configure_and_describe_a_real_slice(real_slice: Path, tmp_path: Path) -> None:
    bank_path = tmp_path / "bank.json"
    output = run(
        "configure",
        "--dataset",
        str(real_slice),
        "--split",
        "train",
        "--per-class",
        "2",
        "--seed",
        "3",
        "--rotations",
        "12",
        "-o",
        str(bank_path),
    )
    assert "8 filters" in output
    bank = load_bank(bank_path)
    assert bank.class_names == ("Bent", "Compact", "FRI", "FRII")
    assert bank.filter_class == (0, 0, 1, 1, 2, 2, 3, 3)
    assert len(bank.rotations_deg) == 12
    assert json.loads(bank_path.read_text())["format_version"] == 1

    descriptors_path = tmp_path / "test.npz"
    run(
        "describe",
        "--bank",
        str(bank_path),
        str(real_slice),
        "--split",
        "test",
        "-o",
        str(descriptors_path),
        "--jobs",
        "2",
        "--quiet",
    )
    described = load_descriptors(descriptors_path)
    assert described.descriptors.shape == (16, 8)
    assert described.descriptors.dtype == np.float32
    assert described.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4
    assert described.class_names == bank.class_names
    assert described.bank_sha256 == bank.sha256
    assert all(Path(p).is_file() for p in described.paths)
    assert (described.descriptors > 0).mean() > 0.3
    with np.load(descriptors_path, allow_pickle=False) as raw:
        assert {"descriptors", "labels", "class_names", "paths", "bank_sha256"} <= set(raw.files)

    # loose files are described too, with unknown labels
    loose = tmp_path / "loose.npz"
    files = sorted((real_slice / "test" / "FRI").glob("*.png"))[:2]
    run("describe", "--bank", str(bank_path), *map(str, files), "-o", str(loose), "--quiet")
    unlabelled = load_descriptors(loose)
    assert unlabelled.labels.tolist() == [-1, -1]
    np.testing.assert_allclose(unlabelled.descriptors, described.descriptors[8:10], rtol=1e-6)


def test_configure_on_one_prototype(real_slice: Path, tmp_path: Path) -> None:
    image = sorted((real_slice / "train" / "FRII").glob("*.png"))[0]
    bank_path = tmp_path / "one.json"
    run(
        "configure",
        "--prototype",
        str(image),
        "--label",
        "FRII",
        "--center",
        "75,75",
        "--sigma",
        "4",
        "--rhos",
        "0:5:20",
        "-o",
        str(bank_path),
    )
    bank = load_bank(bank_path)
    assert bank.n_filters == 1 and bank.filters[0].center == (75, 75)
    assert max(bank.filters[0].rhos) <= 20


def test_user_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["configure", "-o", str(tmp_path / "b.json")])
    assert result.exit_code != 0 and "exactly one of --dataset or --prototype" in result.output
    result = CliRunner().invoke(
        main, ["configure", "--dataset", str(tmp_path / "nowhere.zip"), "-o", "b.json"]
    )
    assert result.exit_code == 1
    assert "does not exist" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(
        main, ["configure", "--dataset", "synthetic", "--rhos", "a:b", "-o", "b.json"]
    )
    assert result.exit_code == 2 and "--rhos" in result.output


def test_help_does_not_import_heavy_packages() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; from cli.main import main; "
        "CliRunner().invoke(main, ['--help']); "
        "print(sorted(m for m in ('torch', 'faiss', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_configure_a_mixed_bank(tmp_path: Path) -> None:
    bank_path = tmp_path / "mixed.json"
    run(
        "configure",
        "--dataset",
        "synthetic",
        "--per-class",
        "2",
        "--bank-sigmas",
        "2,4",
        "--smooth-px",
        "1",
        "--rotations",
        "4",
        "-o",
        str(bank_path),
    )
    bank = load_bank(bank_path)
    assert bank.preprocessing.smooth_px == 1.0
    sigmas = [{part.channel.sigma for part in f.tuples} for f in bank.filters]
    assert sigmas == [{2.0}, {4.0}] * len(bank.class_names)
    for sigmas in ("0,2", "2,nan"):
        refused = CliRunner().invoke(
            main, ["configure", "--dataset", "synthetic", "--bank-sigmas", sigmas, "-o", "b.json"]
        )
        assert refused.exit_code == 2 and "--bank-sigmas" in refused.output
    image = tmp_path / "one.png"
    image.write_bytes(b"")
    refused = CliRunner().invoke(
        main, ["configure", "--prototype", str(image), "--bank-sigmas", "2", "-o", "b.json"]
    )
    assert refused.exit_code == 2 and "--dataset only" in refused.output
