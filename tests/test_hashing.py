"""Hashing: losses by hand, reproducible training, model files, clear errors."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
import torch

import hashing
from hashing import (
    DSHLoss,
    HashingModel,
    TrainingConfig,
    dsh_loss,
    load_model,
    train_hashing,
    triplet_loss,
)
from hashing.network import HashingNetwork, NetworkConfig
from hashing.training import codes_map


def test_import_hashing_is_this_project() -> None:
    # PyPI has an unrelated distribution called "hashing" (and one called "retrieval").
    assert Path(hashing.__file__).resolve().parent.parent == Path(__file__).resolve().parents[1]
    retrieval = importlib.import_module("retrieval")
    assert hasattr(retrieval, "HammingIndex") or hasattr(retrieval, "__all__")
    assert Path(retrieval.__file__).resolve().parent.parent == Path(__file__).resolve().parents[1]


def test_dsh_loss_on_three_samples_by_hand() -> None:
    # u0 = (1, 1), u1 = (1, -1), u2 = (0.5, 1); labels 0, 0, 1; margin 4; alpha 0.1
    u = torch.tensor([[1.0, 1.0], [1.0, -1.0], [0.5, 1.0]])
    labels = torch.tensor([0, 0, 1])
    # squared distances: d01 = 4, d02 = 0.25, d12 = 4.25
    # similar pair (0,1): 0.5 * 4 = 2, counted twice (0,1) and (1,0) -> 4
    # dissimilar (0,2): 0.5 * max(4 - 0.25, 0) = 1.875, twice -> 3.75
    # dissimilar (1,2): 0.5 * max(4 - 4.25, 0) = 0, twice -> 0
    # pair mean = (4 + 3.75) / 9 = 0.861111
    # q = (| |u| - 1 |).sum(1) = (0, 0, 0.5); regulariser = alpha * 2 * mean(q) = 0.1 * 2 * 1/6
    expected = (4 + 3.75) / 9 + 0.1 * 2 * (0.5 / 3)
    assert float(dsh_loss(u, labels, margin=4.0, alpha=0.1)) == pytest.approx(expected)
    assert float(DSHLoss(margin=4.0, alpha=0.1)(u, labels)) == pytest.approx(expected)
    # default margin is 2k = 4 for k = 2 bits
    assert float(DSHLoss(alpha=0.1)(u, labels)) == pytest.approx(expected)


def test_triplet_loss_by_hand() -> None:
    out = torch.tensor([[0.0], [1.0], [3.0]])
    labels = torch.tensor([0, 0, 1])
    # anchor 0: hardest positive d=1, nearest negative d=9 -> max(1 - 9 + 2, 0) = 0
    # anchor 1: positive d=1, negative d=4 -> max(1 - 4 + 2, 0) = 0 ... margin 4: 1
    # anchor 2: no positive -> not counted
    assert float(triplet_loss(out, labels, margin=4.0)) == pytest.approx((0 + 1) / 2)
    # batch_all: triplets (0,1,2): 1-9+4 <0 ; (1,0,2): 1-4+4 = 1 -> mean over positive = 1
    assert float(triplet_loss(out, labels, margin=4.0, mining="batch_all")) == pytest.approx(1.0)


def blobs(seed: int, n_per_class: int = 40, dim: int = 20) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).random((3, dim)) * 3
    labels = np.repeat(np.arange(3), n_per_class)
    values = centres[labels] + rng.normal(0, 0.6, (labels.size, dim))
    return np.abs(values).astype(np.float32), labels


CONFIG = TrainingConfig(bits=8, epochs=12, patience=12, batch_size=24, seed=3)


def test_training_is_bit_for_bit_reproducible_and_learns() -> None:
    x, y = blobs(0)
    vx, vy = blobs(1, 10)
    first, history = train_hashing(x, y, vx, vy, config=CONFIG)
    second, _ = train_hashing(x, y, vx, vy, config=CONFIG)
    for key, value in first.network.state_dict().items():
        assert torch.equal(value, second.network.state_dict()[key]), key
    assert np.array_equal(first.encode(vx), second.encode(vx))
    other, _ = train_hashing(x, y, vx, vy, config=TrainingConfig(**{**CONFIG.to_dict(), "seed": 4}))
    assert not np.array_equal(first.real_codes(vx), other.real_codes(vx))
    assert history.best_valid_map > 0.8
    assert len(history.valid_map) == len(history.train_loss) == history.epochs[-1]


def test_threshold_sweep_is_stored(tmp_path: Path) -> None:
    x, y = blobs(0)
    config = TrainingConfig(**{**CONFIG.to_dict(), "threshold": "sweep", "epochs": 3})
    model, history = train_hashing(x, y, x, y, config=config)
    assert len(history.threshold_sweep) == 21
    assert model.threshold == max(history.threshold_sweep, key=history.threshold_sweep.get)
    loaded = load_model(model.save(tmp_path / "m.pt"))
    assert loaded.threshold == model.threshold


def test_model_file_round_trip_and_errors(tmp_path: Path) -> None:
    x, y = blobs(0)
    model, _ = train_hashing(
        x, y, x, y, config=TrainingConfig(bits=5, epochs=2), bank_sha256="ab" * 32
    )
    path = model.save(tmp_path / "model.pt")
    loaded = load_model(path)
    assert loaded.bits == 5 and loaded.bank_sha256 == "ab" * 32
    np.testing.assert_array_equal(loaded.encode(x), model.encode(x))
    with pytest.raises(ValueError, match="descriptors of 20 values"):
        loaded.encode(x[:, :7])
    with pytest.raises(ValueError, match="NaN"):
        loaded.encode(np.full((2, 20), np.nan, np.float32))
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a readable cosfire-hash model"):
        load_model(tmp_path / "junk.pt")
    header_newer = torch.load(path, weights_only=True)
    header_newer["header"] = header_newer["header"].replace(
        '"format_version": 1', '"format_version": 99'
    )
    torch.save(header_newer, tmp_path / "newer.pt")
    with pytest.raises(ValueError, match="upgrade cosfire-hash"):
        load_model(tmp_path / "newer.pt")


def test_configuration_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="bits must be a positive integer"):
        TrainingConfig(bits=0)
    with pytest.raises(ValueError, match="bits"):
        NetworkConfig(input_dim=3, bits=-1)
    x, y = blobs(0)
    with pytest.raises(ValueError, match="validation 7"):
        train_hashing(x, y, x[:, :7], y, config=CONFIG)


def test_standardisation_is_part_of_the_model(tmp_path: Path) -> None:
    x, y = blobs(0)
    config = TrainingConfig(**{**CONFIG.to_dict(), "normalisation": "l2+standard", "epochs": 2})
    model, _ = train_hashing(x, y, x, y, config=config)
    assert not torch.allclose(model.network.feature_std, torch.ones(20))
    loaded = load_model(model.save(tmp_path / "m.pt"))
    np.testing.assert_array_equal(loaded.real_codes(x), model.real_codes(x))


def test_encode_of_an_untrained_model_has_the_right_shape() -> None:
    model = HashingModel(HashingNetwork(NetworkConfig(input_dim=4, bits=36)))
    codes = model.encode(np.ones((3, 4), np.float32))
    assert codes.shape == (3, 36) and codes.dtype == bool


def test_auxiliary_classification_loss_trains_and_is_not_saved(tmp_path: Path) -> None:
    x, y = blobs(0)
    plain, _ = train_hashing(x, y, x, y, config=TrainingConfig(**{**CONFIG.to_dict(), "epochs": 3}))
    config = TrainingConfig(**{**CONFIG.to_dict(), "epochs": 3, "class_weight": 5.0})
    model, history = train_hashing(x, y, x, y, config=config)
    assert not np.array_equal(model.real_codes(x), plain.real_codes(x))
    assert history.best_valid_map > 0.5
    saved = torch.load(model.save(tmp_path / "m.pt"), weights_only=True)["state_dict"]
    assert all(key.startswith(("layers.", "feature_")) for key in saved)


def test_augmented_training_chooses_its_epoch_against_the_given_database() -> None:
    x, y = blobs(0)
    vx, vy = blobs(1, n_per_class=10)
    rng = np.random.default_rng(5)
    jittered = (x * rng.uniform(0.5, 1.5, x.shape)).astype(np.float32)
    augmented_x, augmented_y = np.vstack([x, jittered]), np.concatenate([y, y])
    config = TrainingConfig(**{**CONFIG.to_dict(), "epochs": 4, "threshold": "sweep"})
    model, history = train_hashing(augmented_x, augmented_y, vx, vy, config=config, database=(x, y))
    # the selection score is the mAP against the database given, not the augmented set
    expected = codes_map(model.encode(vx), vy, model.encode(x), y, config.map_k)
    assert history.best_valid_map == pytest.approx(expected)
    against_augmented = codes_map(
        model.encode(vx), vy, model.encode(augmented_x), augmented_y, config.map_k
    )
    assert against_augmented != pytest.approx(expected)


def test_hash_centres_are_far_apart_and_seeded():
    from hashing.losses import hash_centres

    hadamard = hash_centres(4, 16)
    distances = (hadamard[:, None, :] != hadamard[None, :, :]).sum(-1)
    assert set(distances[~torch.eye(4, dtype=bool)].tolist()) == {8}
    drawn = hash_centres(4, 36, seed=3)
    assert torch.equal(drawn, hash_centres(4, 36, seed=3))
    assert set(drawn.unique().tolist()) == {-1.0, 1.0}
    pairwise = (drawn[:, None, :] != drawn[None, :, :]).sum(-1)
    assert pairwise[~torch.eye(4, dtype=bool)].min() >= 14  # well above random pairs' worst


def test_csq_loss_prefers_the_own_centre():
    from hashing.losses import CSQLoss, hash_centres

    centres = hash_centres(2, 8)
    loss = CSQLoss(centres)
    labels = torch.tensor([0, 1])
    on_centres = loss(centres * 0.99, labels)
    swapped = loss(centres.flip(0) * 0.99, labels)
    assert float(on_centres) < 0.05 < float(swapped)


def test_training_with_csq_puts_classes_on_their_centres():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 30)
    descriptors = rng.random((90, 8), dtype=np.float32)
    descriptors[np.arange(90), labels] += 2.0
    config = TrainingConfig(bits=8, epochs=30, loss="csq", class_weight=0.0, patience=30)
    model, history = train_hashing(descriptors, labels, descriptors, labels, config=config)
    from hashing.losses import hash_centres

    codes = model.encode(descriptors)
    centres = hash_centres(3, 8, seed=config.seed).numpy() > 0
    to_centres = (codes[:, None, :] != centres[None, :, :]).sum(-1)
    assert history.best_valid_map > 0.95
    assert (to_centres.argmin(axis=1) == labels).mean() > 0.95  # each code nearest its centre


def test_training_config_refuses_unknown_choices():
    with pytest.raises(ValueError, match="loss"):
        TrainingConfig(loss="csqq")
    with pytest.raises(ValueError, match="optimizer"):
        TrainingConfig(optimizer="sgd")


def test_refit_learns_from_the_validation_split_for_the_chosen_epochs():
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1], 20)
    descriptors = rng.random((40, 6), dtype=np.float32)
    descriptors[:, 0] += labels
    valid = rng.random((10, 6), dtype=np.float32)
    valid_labels = np.repeat([0, 1], 5)
    valid[:, 0] += valid_labels
    base = TrainingConfig(bits=4, epochs=8, patience=8, loss="csq", class_weight=0.0)
    plain, plain_history = train_hashing(descriptors, labels, valid, valid_labels, config=base)
    refit, refit_history = train_hashing(
        descriptors,
        labels,
        valid,
        valid_labels,
        config=TrainingConfig(**{**base.to_dict(), "refit": True}),
    )
    assert refit_history.best_epoch == plain_history.best_epoch  # the same choice of epochs
    # the refit network standardises with statistics of train + valid, the plain one of train
    pooled = np.concatenate([descriptors, valid])
    norms = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    assert np.allclose(refit.network.feature_mean.numpy(), norms.mean(axis=0), atol=1e-5)
    assert not np.allclose(plain.network.feature_mean.numpy(), norms.mean(axis=0), atol=1e-5)
    with pytest.raises(ValueError, match="refit"):
        TrainingConfig(refit=True, threshold="sweep")
