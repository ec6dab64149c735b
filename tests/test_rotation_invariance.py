"""Descriptors do not change when a galaxy is turned (exactly for quarter turns)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from galaxy_samples import first_galaxies
from hypothesis import given, settings
from hypothesis import strategies as st

from cosfire.bank import configure_bank
from cosfire.configure import FilterConfig
from cosfire.descriptor import describe


@pytest.fixture(scope="module")
def real_bank_and_images():
    train, labels = first_galaxies("train", per_class=12, stride=9)
    bank = configure_bank(
        train, labels, class_names=("Bent", "Compact", "FRI", "FRII"), per_class=4, seed=1
    )
    test, _ = first_galaxies("test", per_class=5, stride=3)
    return bank, test


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    height, width = image.shape
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderValue=0)


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_quarter_turns_leave_every_descriptor_value_unchanged(real_bank_and_images, quarter_turns):
    bank, images = real_bank_and_images
    original = describe(bank, images)
    turned = describe(bank, [np.rot90(image, quarter_turns).copy() for image in images])
    assert (original > 0).mean() > 0.3
    np.testing.assert_allclose(turned, original, rtol=1e-3, atol=1e-6)


def test_45_degree_turn_changes_descriptors_by_less_than_5_percent(real_bank_and_images):
    bank, images = real_bank_and_images
    original = describe(bank, images)
    turned = describe(bank, [rotate(image, 45.0) for image in images])
    relative_change = np.linalg.norm(turned - original, axis=1) / np.linalg.norm(original, axis=1)
    assert np.median(relative_change) < 0.05


def blobs(seed: int, size: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    image = np.zeros((size, size))
    for _ in range(5):
        row, col = rng.uniform(12, 28, 2)
        image += rng.uniform(0.2, 1) * np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / 3.0)
    return (image / image.max()).astype(np.float32)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3))
def test_quarter_turn_invariance_holds_for_random_images(seed: int, quarter_turns: int) -> None:
    prototype = blobs(seed)
    bank = configure_bank(
        [prototype],
        [0],
        class_names=("x",),
        per_class=1,
        config=FilterConfig(sigma=1.5, polarity="both", rhos=(0, 3, 6, 9), t1=0.05),
        preprocessing=None,
    )
    images = [prototype, blobs(seed + 1)]
    original = describe(bank, images)
    turned = describe(bank, [np.rot90(image, quarter_turns).copy() for image in images])
    np.testing.assert_allclose(turned, original, rtol=1e-3, atol=1e-7)
