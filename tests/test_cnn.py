"""CNN baselines build without weights, train on tiny inputs, save and load as models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

pytest.importorskip("torchvision")
pytest.importorskip("timm")

from hashing.cnn import (  # noqa: E402
    CNNConfig,
    CNNHashingModel,
    build_backbone,
    count_multiply_adds,
    prepare_images,
    train_cnn_hashing,
)
from hashing.model import load_model  # noqa: E402


def spots(count: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 2
    images = []
    for label in labels:
        image = np.zeros((64, 64), np.float32)
        if label:
            image[20:44, 30:34] = 1  # a bar
        else:
            image[28:36, 28:36] = 1  # a square
        images.append(np.rot90(image, rng.integers(0, 4)).copy())
    return images, labels


@pytest.mark.parametrize("backbone", ["densenet161", "hrnet_w18"])
def test_backbones_build_without_weights(backbone: str) -> None:
    features, dimension = build_backbone(backbone)
    assert features(torch.zeros(1, 3, 64, 64)).shape == (1, dimension)


def test_prepare_images_replicates_grey_and_normalises() -> None:
    batch = prepare_images([np.zeros((300, 300), np.float32)], crop_px=150, input_px=32)
    assert batch.shape == (1, 3, 32, 32)
    assert torch.allclose(
        batch[0, :, 0, 0], torch.tensor([-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225])
    )


def test_training_saving_and_loading_a_tiny_cnn(tmp_path: Path) -> None:
    images, labels = spots(8, 0)
    config = CNNConfig(backbone="hrnet_w18", bits=6, input_px=32, crop_px=None, epochs=2,
                       frozen_epochs=1, batch_size=4, seed=1)  # fmt: skip
    model, history = train_cnn_hashing(images, labels, images[:4], labels[:4], config=config)
    assert len(history.valid_map) == 2
    codes = model.encode_images(images)
    assert codes.shape == (8, 6) and codes.dtype == bool
    loaded = load_model(model.save(tmp_path / "cnn.pt"))
    assert isinstance(loaded, CNNHashingModel) and loaded.bits == 6 and loaded.threshold == 0.5
    np.testing.assert_array_equal(loaded.encode_images(images), codes)


def test_multiply_adds_by_hand() -> None:
    # conv: 8 out channels x 16 positions x (3 x 3 x 3) = 3456; linear: 2 x 128 = 256
    network = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Flatten(), nn.Linear(128, 2))
    assert count_multiply_adds(network, (1, 3, 4, 4)) == 3456 + 256


def test_bad_backbone_name() -> None:
    with pytest.raises(ValueError, match="densenet161, hrnet_w18"):
        CNNConfig(backbone="resnet50")  # type: ignore[arg-type]


def test_unknown_triplet_mining_is_refused() -> None:
    with pytest.raises(ValueError, match="batch_all or batch_hard"):
        CNNConfig(mining="hardest")  # type: ignore[arg-type]


def test_hrnet_input_size_must_divide_by_32() -> None:
    with pytest.raises(ValueError, match="divisible by 32"):
        CNNConfig(backbone="hrnet_w18", input_px=48)
    assert CNNConfig(backbone="densenet161", input_px=48).input_px == 48


def test_cnn_baseline_through_the_command_line(synthetic_root: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.main import main

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    model = tmp_path / "cnn.pt"
    run("train", "--backbone", "hrnet_w18", "--dataset", str(synthetic_root), "--bits", "8",
        "--input-px", "32", "--epochs", "1", "--train-limit", "2", "-o", str(model), "--quiet")  # fmt: skip
    archive = tmp_path / "cnn.chx"
    run(
        "index",
        "--model",
        str(model),
        "--dataset",
        str(synthetic_root),
        "--split",
        "train",
        "-o",
        str(archive),
    )
    image = sorted((synthetic_root / "test" / "FRII").glob("*.png"))[0]
    assert "rank" in run("search", str(archive), str(image), "-k", "3")
    report = run(
        "evaluate",
        str(archive),
        "--dataset",
        str(synthetic_root),
        "--split",
        "test",
        "--k",
        "5",
        "--json",
    )
    assert '"map_at_5"' in report
    result = CliRunner().invoke(main, ["train", "--backbone", "hrnet_w18", "-o", str(model)])
    assert result.exit_code == 2 and "--dataset" in result.output
