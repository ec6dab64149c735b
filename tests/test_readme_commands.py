"""Every ``cosfire-hash`` command in the README runs, so that documentation cannot drift.

The commands run in README order in one folder, through click's test runner, on the embedded
synthetic set: ``first`` becomes ``synthetic``, shell wildcards are expanded (with a small ``--per-class`` where the README
relies on the FIRST default of 93), ``my_cutout.png`` is a synthetic galaxy, long schedules are
shortened (``--epochs 1``, one code length without robustness runs for the second pipeline).
Commands that need pretrained weights (``--weights``) and the ones using their model are left
out: they need files no test can have.
"""

from __future__ import annotations

import glob
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import main

README = Path(__file__).resolve().parents[1] / "README.md"
NEEDS_WEIGHTS = ("--weights", "cnn.pt", "cnn.chx")


def readme_commands() -> list[str]:
    """Return the README's ``cosfire-hash`` command lines, continuation lines joined."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith("cosfire-hash "):
                commands.append(line)
    return commands


def adapted(command: str, pipelines_seen: int) -> list[str]:
    """Return the arguments of ``command`` adapted to the synthetic set and a short budget."""
    words = shlex.split(command)[1:]
    words = ["synthetic" if w == "first" else w for w in words]
    words = [match for w in words for match in (sorted(glob.glob(w)) if "*" in w else [w])]
    if words[0] == "configure" and "--per-class" not in words:
        words += ["--per-class", "3"]
    if words[0] == "train" and "--backbone" in words:
        words += ["--epochs", "1", "--quiet"]
    if words[0] == "pipeline" and pipelines_seen > 0:
        words += ["--bits", "8", "--main-bits", "8", "--no-robustness", "--quiet"]
    return words


def test_readme_lists_the_main_commands():
    names = {shlex.split(c)[1] for c in readme_commands()}
    assert {"pipeline", "configure", "describe", "train", "index", "search", "evaluate"} <= names


@pytest.mark.slow
def test_every_readme_command_runs(tmp_path, monkeypatch):
    from PIL import Image

    from cosfire.datasets import open_dataset

    monkeypatch.chdir(tmp_path)
    dataset = open_dataset("synthetic")
    galaxy = dataset.read(dataset.items("test")[0])
    Image.fromarray(np.uint8(np.clip(galaxy, 0, 1) * 255)).save("my_cutout.png")
    Path("new_cutouts").mkdir()
    for number, item in enumerate(dataset.items("test")[1:3]):
        picture = np.uint8(np.clip(dataset.read(item), 0, 1) * 255)
        Image.fromarray(picture).save(f"new_cutouts/{number}.png")
    pipelines = 0
    ran = 0
    for command in readme_commands():
        if any(marker in command for marker in NEEDS_WEIGHTS):
            continue
        arguments = adapted(command, pipelines)
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == 0, f"{command}\n{result.output}"
        pipelines += arguments[0] == "pipeline"
        ran += 1
    assert ran >= 10
