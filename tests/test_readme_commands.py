"""Every ``cosfire-hash`` command in the README runs, so that documentation cannot drift.

The commands run in README order in one folder, through click's test runner, on the embedded
synthetic set: ``first`` becomes ``synthetic``, shell wildcards are expanded (with a small ``--per-class`` where the README
relies on the FIRST default of 93), ``my_cutout.png`` is a synthetic galaxy, long schedules are
shortened (``--epochs 1``, one code length without robustness runs for the second pipeline).
The pretrained DenseNet161 weights (``--weights densenet161.pth``) are a randomly initialised
network saved in the layout of the ImageNet file torchvision publishes (its legacy layer names;
no download in tests), and its training sees 8 images of 32 px; without torchvision (the
``cnn`` extra) those three commands are left out.

The Examples of every command's ``--help`` run afterwards in the same folder, in workflow order,
with the same adaptations (and a small grid for ``tune``); ``data fetch`` runs with pooch's
download replaced by a stand-in (no network in tests), and ``data fetch --check`` is left out
where the FIRST zip is not present.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import COMMANDS, main
from cosfire.datasets import FIRST_URL

README = Path(__file__).resolve().parents[1] / "README.md"


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
    if words[0] == "train" and "--weights" in words:
        words += ["--input-px", "32", "--train-limit", "8", "--batch-size", "4"]
    if words[0] == "pipeline" and pipelines_seen > 0:
        words += ["--bits", "8", "--main-bits", "8", "--no-robustness", "--quiet"]
    return words


def test_readme_lists_the_main_commands():
    names = {shlex.split(c)[1] for c in readme_commands()}
    assert {"pipeline", "configure", "describe", "train", "index", "search", "evaluate"} <= names


def help_examples() -> list[str]:
    """Return the ``cosfire-hash`` lines of every command's ``--help`` Examples section."""
    import click

    context = click.Context(main, info_name="cosfire-hash")
    examples = []
    for name in main.list_commands(context):
        command = main.get_command(context, name)
        commands = (
            [command.get_command(context, sub) for sub in command.list_commands(context)]
            if isinstance(command, click.Group)
            else [command]
        )
        for leaf in commands:
            text = leaf.get_help(click.Context(leaf, info_name=f"cosfire-hash {name}"))
            section = (
                text.split("Examples:", 1)[1].split("Options:", 1)[0] if "Examples:" in text else ""
            )
            examples += [line.strip() for line in section.splitlines() if line.strip()]
    return examples


def test_every_command_shows_examples_in_its_help():
    examples = help_examples()
    assert all(line.startswith("cosfire-hash ") for line in examples), examples
    names = {
        " ".join(shlex.split(line)[1:3]) if line.split()[1] == "data" else line.split()[1]
        for line in examples
    }
    assert names == set(COMMANDS) - {"data"} | {
        "data info",
        "data synth",
        "data fetch",
        "data import-mat",
    }


NEEDS_TORCHVISION = ("--weights", "cnn.pt", "cnn.chx")


def pretrained_weights() -> bool:
    """Write ``densenet161.pth`` as torchvision publishes DenseNet161 (legacy layer names:
    ``denselayer1.norm.1``), randomly initialised; False without torchvision."""
    import re

    import torch

    try:
        from torchvision.models import densenet161
    except ImportError:
        return False
    torch.manual_seed(0)
    state = densenet161(weights=None).state_dict()
    legacy = {
        re.sub(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.", r"\1.\2.", k): v
        for k, v in state.items()
    }
    assert legacy != state  # the published layout differs from the model's names
    torch.save(legacy, "densenet161.pth")
    return True


@pytest.fixture(scope="module")
def demo_workspace(tmp_path_factory) -> Path:
    """A folder in which every README command ran, in README order (``runs/demo`` and more)."""
    from PIL import Image

    from cosfire.datasets import open_dataset

    workspace = tmp_path_factory.mktemp("readme")
    previous = os.getcwd()
    os.chdir(workspace)
    try:
        dataset = open_dataset("synthetic")
        galaxy = dataset.read(dataset.items("test")[0])
        Image.fromarray(np.uint8(np.clip(galaxy, 0, 1) * 255)).save("my_cutout.png")
        Path("new_cutouts").mkdir()
        for number, item in enumerate(dataset.items("test")[1:3]):
            picture = np.uint8(np.clip(dataset.read(item), 0, 1) * 255)
            Image.fromarray(picture).save(f"new_cutouts/{number}.png")
        with_torchvision = pretrained_weights()
        pipelines = 0
        ran = []
        for command in readme_commands():
            if not with_torchvision and any(marker in command for marker in NEEDS_TORCHVISION):
                continue
            arguments = adapted(command, pipelines)
            result = CliRunner().invoke(main, arguments)
            ran.append((command, result.exit_code, result.output))
            pipelines += arguments[0] == "pipeline"
    finally:
        os.chdir(previous)
    (workspace / "readme-runs.json").write_text(json.dumps(ran))
    return workspace


@pytest.mark.slow
def test_every_readme_command_runs(demo_workspace: Path):
    ran = json.loads((demo_workspace / "readme-runs.json").read_text())
    for command, exit_code, output in ran:
        assert exit_code == 0, f"{command}\n{output}"
    if importlib.util.find_spec("torchvision") is None:
        cnn = [c for c in readme_commands() if any(m in c for m in NEEDS_TORCHVISION)]
        assert len(ran) == len(readme_commands()) - len(cnn)
    else:
        assert len(ran) == len(readme_commands())
        assert any("--weights densenet161.pth" in command for command, _, _ in ran)


#: the order in which the help examples build on one another's files
WORKFLOW = ("data", "configure", "describe", "explain", "train", "index", "search", "anomalies")
WORKFLOW += ("evaluate", "tune", "pipeline")


def workflow_position(command: str) -> int:
    return WORKFLOW.index(command.split()[1])


@pytest.mark.slow
def test_every_help_example_runs(demo_workspace: Path, monkeypatch) -> None:
    """Every Examples line of ``--help`` runs in the README's folder, on the synthetic set."""
    import scipy.io

    monkeypatch.chdir(demo_workspace)
    # what the examples take as given: the authors' MATLAB file (a small one in their layout),
    # a tuning grid small enough for a test
    parts = {
        part: {name: np.random.default_rng(0).random((6, 8)) for name in ("FRI", "FRII")}
        for part in ("training", "testing")
    }
    scipy.io.savemat("COSFIREdescriptor_train_valid.mat", {"COSFIREdescriptor": parts})
    Path("grid.json").write_text(json.dumps({"sigma": [2.0, 4.0], "rho_max": [10]}))
    first_zip = os.environ.get("COSFIRE_HASH_DATA")
    downloads = downloads_without_network(monkeypatch, demo_workspace)
    ran, skipped = 0, []
    for command in sorted(help_examples(), key=workflow_position):
        if "galaxy_data.zip" in command:  # the FIRST zip, checked by its checksum
            if not first_zip:
                skipped.append(command)
                continue
            command = command.replace("galaxy_data.zip", shlex.quote(first_zip))
        arguments = adapted(command, pipelines_seen=1)
        if arguments[0] == "tune":
            arguments += ["--grid", "grid.json", "--per-class", "2", "--pool-per-class", "6"]
            arguments += ["--development-per-class", "12", "--folds", "3", "--repeats", "1"]
            arguments += ["--jobs", "1", "--quiet"]
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == 0, f"{command}\n{result.output}"
        ran += 1
    assert downloads == [FIRST_URL]  # `data fetch` asked for the FIRST zip, once
    assert ran >= len(help_examples()) - 1 and len(skipped) <= 1, skipped


def downloads_without_network(monkeypatch, folder: Path) -> list[str]:
    """Make ``data fetch`` download nothing: pooch's retrieve checks it is asked for the FIRST
    zip with the shipped checksum and hands back a path; returns the URLs asked for."""
    import pooch

    from cosfire.datasets import first_checksum

    urls: list[str] = []

    def retrieve(url, known_hash, fname, path, progressbar):
        assert known_hash == f"sha256:{first_checksum()}"
        urls.append(url)
        return str(folder / fname)

    monkeypatch.setattr(pooch, "retrieve", retrieve)
    return urls
