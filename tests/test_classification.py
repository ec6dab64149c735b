"""The one SVM protocol that scores descriptors, its cross-validation and paired tests."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.classification import (
    CrossValidation,
    SVMProtocol,
    accuracy_interval,
    compare_paired,
    cross_validate,
    svm_accuracy,
    svm_accuracy_by_c,
)


def _blobs(seed: int = 0, per_class: int = 30, spread: float = 0.4):
    rng = np.random.default_rng(seed)
    centres = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    labels = np.repeat(np.arange(3), per_class)
    features = np.abs(centres[labels] + rng.normal(0, spread, (labels.size, 3)))
    return features, labels


def test_protocol_refuses_unknown_kernel_and_bad_c():
    with pytest.raises(ValueError, match="kernel"):
        SVMProtocol(kernel="linear")
    with pytest.raises(ValueError, match="cs"):
        SVMProtocol(cs=(0.0,))


def test_svm_separates_blobs_and_scores_each_c():
    features, labels = _blobs()
    scores = svm_accuracy_by_c(features, labels, features, labels)
    assert set(scores) == {1.0, 10.0, 100.0}
    accuracy, predicted = svm_accuracy(features, labels, features, labels, c=10.0)
    assert accuracy >= 0.85
    assert accuracy == pytest.approx(float((predicted == labels).mean()))


def test_standardisation_is_fit_on_training_rows_only():
    protocol = SVMProtocol(normalisation="l2+standard")
    train = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    other = np.array([[5.0, 0.0]])
    train_rows, other_rows = protocol.prepare(train, other)
    assert np.allclose(train_rows.mean(axis=0), 0.0)
    assert not np.allclose(other_rows, 0.0)


def test_cross_validation_columns_see_only_training_rows():
    features, labels = _blobs(per_class=20)
    seen: list[tuple[int, int]] = []

    def columns(training_rows: np.ndarray, fold: int) -> np.ndarray:
        seen.append((fold, training_rows.size))
        return np.array([0, 1, 2])

    result = cross_validate(features, labels, folds=4, repeats=2, columns=columns)
    assert [fold for fold, _ in seen] == list(range(8))
    assert all(size == 45 for _, size in seen)  # 3/4 of 60 rows train every fold
    assert result.scores.shape == (8,)
    assert result.mean > 0.8


def test_separable_features_beat_noise_significantly():
    features, labels = _blobs(per_class=40)
    noise = np.random.default_rng(1).random(features.shape)
    good = cross_validate(features, labels, folds=5, repeats=2, seed=3)
    bad = cross_validate(noise, labels, folds=5, repeats=2, seed=3)
    comparison = compare_paired(bad, good)
    assert comparison.mean_difference > 0.3
    assert comparison.p_value < 0.01
    assert compare_paired(good, good).p_value == 1.0


def test_paired_comparison_needs_the_same_folds():
    a = CrossValidation(5, 1, 0, 100, {1.0: (0.7,) * 5})
    b = CrossValidation(5, 1, 1, 100, {1.0: (0.8,) * 5})
    with pytest.raises(ValueError, match="same folds"):
        compare_paired(a, b)


@pytest.mark.parametrize("accuracy", [0.0, 0.5, 0.735, 1.0])
def test_wilson_interval_contains_the_accuracy(accuracy):
    low, high = accuracy_interval(accuracy, 200)
    assert 0.0 <= low <= accuracy + 1e-12 and accuracy - 1e-12 <= high <= 1.0
    assert high - low < 0.15
    narrow_low, narrow_high = accuracy_interval(accuracy, 2000)
    assert narrow_high - narrow_low <= high - low
