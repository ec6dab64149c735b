"""cosfire-hash train and data import-mat through the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import main
from cosfire.descriptor_file import DescriptorSet, load_descriptors, save_descriptors
from hashing import load_model

REFERENCE = Path(__file__).resolve().parents[2] / (
    "shared/data/cosfire-reference/COSFIREdescriptor_train_valid.mat"
)


def descriptor_file(path: Path, seed: int, n_per_class: int = 30, dim: int = 16) -> Path:
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(7).random((3, dim)) * 2
    labels = np.repeat(np.arange(3), n_per_class)
    values = np.abs(centres[labels] + rng.normal(0, 0.5, (labels.size, dim))).astype(np.float32)
    paths = tuple(f"img{i}.png" for i in range(labels.size))
    save_descriptors(DescriptorSet(values, labels, ("a", "b", "c"), paths, "f" * 64), path)
    return path


def test_train_writes_model_and_curve(tmp_path: Path) -> None:
    train = descriptor_file(tmp_path / "train.npz", 0)
    valid = descriptor_file(tmp_path / "valid.npz", 1, n_per_class=8)
    model_path = tmp_path / "model.pt"
    result = CliRunner().invoke(
        main,
        [
            "train",
            str(train),
            "--valid",
            str(valid),
            "--bits",
            "12",
            "--epochs",
            "6",
            "--seed",
            "2",
            "-o",
            str(model_path),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "validation mAP@100" in result.output
    model = load_model(model_path)
    assert model.bits == 12 and model.bank_sha256 == "f" * 64
    assert model.metadata["class_names"] == ["a", "b", "c"]
    assert (tmp_path / "model.curve.png").stat().st_size > 1000


def test_train_without_valid_holds_out_a_stratified_fifth(tmp_path: Path) -> None:
    train = descriptor_file(tmp_path / "train.npz", 0)
    result = CliRunner().invoke(
        main,
        [
            "train",
            str(train),
            "--bits",
            "8",
            "--epochs",
            "2",
            "-o",
            str(tmp_path / "m.pt"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert load_model(tmp_path / "m.pt").metadata["training"]["bits"] == 8


def test_train_refuses_mismatched_files(tmp_path: Path) -> None:
    train = descriptor_file(tmp_path / "train.npz", 0, dim=16)
    valid = descriptor_file(tmp_path / "valid.npz", 1, dim=10)
    result = CliRunner().invoke(
        main, ["train", str(train), "--valid", str(valid), "-o", str(tmp_path / "m.pt")]
    )
    assert result.exit_code == 1 and "same filter bank" in result.output
    result = CliRunner().invoke(main, ["train", str(train), "--bits", "0", "-o", "m.pt"])
    assert result.exit_code == 2 and "--bits" in result.output


def test_import_mat_converts_the_reference_descriptors(tmp_path: Path) -> None:
    if not REFERENCE.is_file():
        pytest.skip("the authors' reference .mat file is not beside the checkout")
    result = CliRunner().invoke(
        main, ["data", "import-mat", str(REFERENCE), "-o", str(tmp_path / "ref")]
    )
    assert result.exit_code == 0, result.output
    training = load_descriptors(tmp_path / "ref-training.npz")
    testing = load_descriptors(tmp_path / "ref-testing.npz")
    assert training.descriptors.shape == (1180, 200) and testing.descriptors.shape == (398, 200)
    assert training.class_names == ("FRI", "FRII", "Bent", "Compact")
    assert np.bincount(training.labels).tolist() == [215, 434, 305, 226]
    assert np.bincount(testing.labels).tolist() == [74, 144, 100, 80]
    assert training.filter_class.tolist() == [0] * 50 + [1] * 50 + [2] * 50 + [3] * 50


def test_import_mat_rejects_other_files(tmp_path: Path) -> None:
    from scipy.io import savemat

    savemat(tmp_path / "other.mat", {"something": np.ones(3)})
    result = CliRunner().invoke(
        main, ["data", "import-mat", str(tmp_path / "other.mat"), "-o", "x"]
    )
    assert result.exit_code == 1 and "no COSFIREdescriptor struct" in result.output


@pytest.mark.parametrize("recipe", ["dsh", "csq", "papers"])
def test_train_trains_the_recipe_the_pipeline_trains(tmp_path: Path, recipe: str) -> None:
    from dataclasses import replace

    from hashing.training import RECIPES, TrainingConfig

    train = descriptor_file(tmp_path / "train.npz", 0)
    valid = descriptor_file(tmp_path / "valid.npz", 1, n_per_class=8)
    model_path = tmp_path / "model.pt"
    options = ["--recipe", recipe] if recipe != "dsh" else []  # dsh: no option at all
    result = CliRunner().invoke(
        main,
        [
            "train",
            str(train),
            "--valid",
            str(valid),
            "--epochs",
            "2",
            "-o",
            str(model_path),
            "--quiet",
            *options,
        ],
    )
    assert result.exit_code == 0, result.output
    recorded = load_model(model_path).metadata["training"]
    assert recorded == replace(RECIPES[recipe], epochs=2).to_dict()
    if recipe == "dsh":
        assert recorded == replace(TrainingConfig(), epochs=2).to_dict()
