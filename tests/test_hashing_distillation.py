"""Distillation sets: true labels for the training rows, the teacher's for the rest."""

from __future__ import annotations

import numpy as np
import pytest

from hashing.distillation import distillation_set


def test_training_rows_keep_their_labels_and_extra_rows_take_the_teachers() -> None:
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.2]], dtype=np.float32)
    y = np.array([1, 1, 0])  # deliberately not what the teacher would say
    rotated = np.array([[0.1, 0.8], [0.7, 0.1]], dtype=np.float32)
    calls = []

    def teacher(descriptors: np.ndarray) -> np.ndarray:
        calls.append(descriptors.shape[0])
        return np.argmax(descriptors, axis=1)

    rows, labels = distillation_set(x, y, teacher, mixup_copies=0, unlabelled=[rotated])
    assert rows.dtype == np.float32 and labels.dtype == np.int64
    assert np.array_equal(rows, np.concatenate([x, rotated]))
    # training rows: their own labels (1, 1, 0); rotated rows: argmax (1, 0)
    assert labels.tolist() == [1, 1, 0, 1, 0]
    assert calls == [2]  # one teacher call for all extra rows


def test_mixtures_lie_between_two_training_rows_and_are_seeded() -> None:
    x = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    y = np.array([0, 1, 2])

    def teacher(descriptors: np.ndarray) -> np.ndarray:
        return np.full(len(descriptors), 7)

    rows, labels = distillation_set(x, y, teacher, mixup_copies=3, seed=4)
    assert rows.shape == (3 + 3 * 3, 2) and labels[3:].tolist() == [7] * 9
    mixed = rows[3:]
    # every mixture of the triangle's corners stays inside it: x, y >= 0, x + y <= 2
    assert (mixed >= 0).all() and (mixed.sum(axis=1) <= 2 + 1e-6).all()
    again, _ = distillation_set(x, y, teacher, mixup_copies=3, seed=4)
    other, _ = distillation_set(x, y, teacher, mixup_copies=3, seed=5)
    assert np.array_equal(rows, again) and not np.array_equal(rows, other)


def test_nothing_to_teach_returns_the_training_rows() -> None:
    x = np.ones((2, 3), dtype=np.float32)
    rows, labels = distillation_set(x, [0, 1], lambda d: d[:, 0], mixup_copies=0)
    assert np.array_equal(rows, x) and labels.tolist() == [0, 1]


def test_bad_inputs_are_refused_with_the_reason() -> None:
    x = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="mixup_copies"):
        distillation_set(x, [0, 1], lambda d: d[:, 0], mixup_copies=-1)
    with pytest.raises(ValueError, match="3 values"):
        distillation_set(x, [0, 1], lambda d: d[:, 0], unlabelled=[np.ones((1, 4))])
    with pytest.raises(ValueError, match="returned 1 labels"):
        distillation_set(x, [0, 1], lambda d: np.zeros(1), mixup_copies=1)
