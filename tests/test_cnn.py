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
    _epoch_order,
    build_backbone,
    compact_config,
    count_multiply_adds,
    prepare_images,
    train_cnn_hashing,
)
from hashing.compact import CompactCNN, rotate_and_crop  # noqa: E402
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


@pytest.mark.parametrize("backbone", ["compact", "densenet161", "hrnet_w18"])
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
    config = CNNConfig(
        backbone="hrnet_w18",
        bits=6,
        input_px=32,
        crop_px=None,
        epochs=2,
        frozen_epochs=1,
        batch_size=4,
        seed=1,
    )
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
    with pytest.raises(ValueError, match="compact, densenet161, hrnet_w18"):
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
    options = "--backbone hrnet_w18 --bits 8 --input-px 32 --epochs 1 --train-limit 2 --quiet"
    run("train", *options.split(), "--dataset", str(synthetic_root), "-o", str(model))
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


def test_compact_backbone_is_small_and_pools_globally() -> None:
    network = CompactCNN()
    assert 200_000 <= sum(p.numel() for p in network.parameters()) <= 300_000
    # global average pooling: any input size gives one feature vector per image
    assert network(torch.zeros(3, 3, 96, 96)).shape == network(torch.zeros(3, 3, 64, 64)).shape
    with pytest.raises(ValueError, match="no pretrained weights"):
        build_backbone("compact", pretrained=True)


def test_rotation_never_samples_outside_the_stored_square() -> None:
    # a constant square stays constant under every angle and flip only if no output pixel
    # reads from outside it (bilinear sampling outside gives zeros)
    out = rotate_and_crop(torch.ones(16, 1, 46, 46), 32, torch.Generator().manual_seed(0))
    assert out.shape == (16, 1, 32, 32)
    torch.testing.assert_close(out, torch.ones_like(out))


def test_rotation_turns_a_bar() -> None:
    # a horizontal bar through the centre: over 64 random angles its pixels leave the
    # horizontal axis, and the mass stays near the centre (an angle, not a shift)
    images = torch.zeros(64, 1, 46, 46)
    images[:, :, 22:24, 13:33] = 1
    out = rotate_and_crop(images, 32, torch.Generator().manual_seed(1))
    off_axis = out[:, 0, :12].sum(dim=(1, 2)) + out[:, 0, 20:].sum(dim=(1, 2))
    assert (off_axis > 1).float().mean() > 0.5
    assert out[:, 0, 15:17, 15:17].min() > 0.3


def test_balanced_epochs_draw_classes_equally() -> None:
    labels = torch.tensor([0] * 90 + [1] * 10)
    order = _epoch_order(labels, True, torch.Generator().manual_seed(0))
    assert len(order) == 100 and 35 <= int((labels[order] == 1).sum()) <= 65
    plain = _epoch_order(labels, False, torch.Generator().manual_seed(0))
    assert sorted(plain.tolist()) == list(range(100))


def test_compact_cnn_trains_joint_heads_and_keeps_its_classifier(tmp_path: Path) -> None:
    images, labels = spots(12, 0)
    config = compact_config(
        bits=6, joint_bits=(4,), input_px=32, crop_px=None, epochs=1, batch_size=4, seed=2
    )
    model, history = train_cnn_hashing(images, labels, images[:4], labels[:4], config=config)
    assert len(history.valid_map) == 1 and model.network.n_classes == 2
    codes_6, codes_4 = model.encode_images(images), model.encode_images(images, bits=4)
    assert codes_6.shape == (12, 6) and codes_4.shape == (12, 4) and codes_4.dtype == bool
    predicted = model.predict_classes(images)
    assert predicted.shape == (12,) and set(predicted.tolist()) <= {0, 1}
    with pytest.raises(ValueError, match="heads of"):
        model.encode_images(images, bits=8)
    loaded = load_model(model.save(tmp_path / "compact.pt"))
    assert isinstance(loaded, CNNHashingModel) and loaded.config.backbone == "compact"
    np.testing.assert_array_equal(loaded.encode_images(images, bits=4), codes_4)
    np.testing.assert_array_equal(loaded.predict_classes(images), predicted)


def test_compact_cnn_learns_bars_from_squares() -> None:
    # two easy shapes in any orientation: the loss falls and the codes separate the classes
    # (a loss that trains nothing, or rotations that destroy the shapes, would not)
    images, labels = spots(32, 3)
    config = compact_config(bits=4, input_px=32, crop_px=None, epochs=6, batch_size=8, seed=0)
    _, history = train_cnn_hashing(images, labels, images, labels, config=config)
    assert history.train_loss[-1] < 0.6 * history.train_loss[0]
    assert history.best_valid_map == pytest.approx(1.0)


def test_a_model_without_class_head_refuses_to_classify() -> None:
    images, labels = spots(4, 0)
    config = compact_config(
        bits=4, input_px=32, crop_px=None, epochs=1, batch_size=4, class_weight=0.0
    )
    model, _ = train_cnn_hashing(images, labels, images, labels, config=config)
    with pytest.raises(ValueError, match="no classifier head"):
        model.predict_classes(images)


def test_compact_cnn_through_the_command_line(synthetic_root: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.main import main

    model = tmp_path / "compact.pt"
    options = "--backbone compact --bits 8 --input-px 32 --epochs 1 --quiet".split()
    result = CliRunner().invoke(
        main, ["train", *options, "--dataset", str(synthetic_root), "-o", str(model)]
    )
    assert result.exit_code == 0, result.output
    assert "validation mAP@100" in result.output
    loaded = load_model(model)
    assert loaded.config.backbone == "compact" and loaded.config.rotation == "any"
    assert loaded.config.input_px == 32 and loaded.network.n_classes == 4
    pretrained = ["--backbone", "compact", "--pretrained", "--dataset", str(synthetic_root)]
    refused = CliRunner().invoke(main, ["train", *pretrained, "-o", str(model)])
    assert refused.exit_code == 2 and "from scratch" in refused.output


def test_bench_report_section_states_mean_sd_and_labels_reduced_rows() -> None:
    import importlib.util

    path = Path(__file__).parents[1] / "benchmarks" / "bench_cnn.py"
    spec = importlib.util.spec_from_file_location("bench_cnn", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    def seed(accuracy: float) -> dict:
        return {
            "test_accuracy": accuracy,
            "map_at_100": {"8": 0.3, "36": 0.4},
            "rotated_map_at_100": 0.39,
            "noise_map_at_100": {"0.05": 0.3, "0.1": 0.2, "0.2": 0.1},
            "train_seconds": 480.0,
            "inference_ms_per_image": 2.0,
            "best_epoch": 30,
            "epochs_run": 40,
            "valid_map_at_100": 0.4,
        }

    results = bench.summarise(
        {
            "config": compact_config(joint_bits=(8,)).to_dict(),
            "train_images": 1758,
            "cpu_threads": 2,
            "parameters": 250_000,
            "multiply_adds": 41_000_000,
            "seeds": {"0": seed(0.70), "1": seed(0.72), "2": seed(0.74)},
            "pretrained_rows": [
                {
                    "method": "densenet161 + triplet",
                    "bits": 8,
                    "map_at_100": 0.17,
                    "train_seconds": 100,
                    "schedule": "64 px, no pretrained weights",
                }
            ],
        }
    )
    # accuracies 70, 72, 74 %: mean 72, sample sd sqrt((4 + 0 + 4) / 2) = 2
    assert results["mean"]["test_accuracy"] == pytest.approx(0.72)
    assert results["sd"]["test_accuracy"] == pytest.approx(0.02)
    text = bench.report_section(results)
    assert "## Against a CNN trained from scratch" in text
    assert "| 70.0 | 72.0 | 74.0 | 72.0 +- 2.0 |" in text
    assert "8.0 min of training per model" in text and "8- and 36-bit hash heads" in text
    assert "## With a GPU and pretrained weights" in text
    assert "densenet161 + triplet (reduced CPU schedule, not a baseline)" in text
    assert "not a baseline" not in bench.report_section({**results, "pretrained_rows": []})
