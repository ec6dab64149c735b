"""Preprocessing: sub-beam smoothing lifts galaxies above the noise and keeps old files valid."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosfire.preprocess import Preprocessing, background_rms, preprocess


def noisy_blob(seed: int, size: int = 96) -> np.ndarray:
    """A beam-sized Gaussian blob (sigma 3 px) at the centre on Gaussian noise of rms 0.05."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size] - size / 2
    blob = np.exp(-(rows**2 + cols**2) / (2 * 3.0**2))
    return (blob + rng.normal(0.0, 0.05, (size, size))).astype(np.float32)


def test_smoothing_before_clipping_lifts_the_galaxy_above_the_noise() -> None:
    far = np.ones((96, 96), bool)
    far[30:66, 30:66] = False  # well away from the blob: only noise
    for seed in range(5):
        image = noisy_blob(seed)
        plain = preprocess(image, Preprocessing(crop_px=None))
        smoothed = preprocess(image, Preprocessing(crop_px=None, smooth_px=1.0))
        # the brightest noise left after 3-rms clipping, next to the galaxy's peak (1.0)
        assert plain[far].max() > 0.12
        assert smoothed[far].max() < plain[far].max() / 2
        # the galaxy stays, its peak at the centre
        assert smoothed[46:51, 46:51].max() == 1.0
        assert np.all(smoothed[44:53, 44:53] > 0)


def test_smoothing_is_off_by_default_and_absent_from_old_files() -> None:
    image = noisy_blob(1)
    # the default is the pre-smoothing recipe: crop, clip at median + 3 rms, scale to the peak
    expected = image.copy()
    expected[expected < np.median(expected) + 3 * background_rms(expected)] = 0
    np.testing.assert_allclose(
        preprocess(image, Preprocessing(crop_px=None)), expected / expected.max(), rtol=1e-6
    )
    # files written before smooth_px existed load and serialise as they were
    assert "smooth_px" not in Preprocessing().to_dict()
    assert (
        Preprocessing.from_dict({"crop_px": 150, "noise_clip": 3.0, "scale": "max"}).smooth_px
        is None
    )
    assert Preprocessing(smooth_px=1.0).to_dict()["smooth_px"] == 1.0
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="smooth_px must be > 0"):
            Preprocessing(smooth_px=bad)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), smooth=st.floats(0.3, 3.0))
def test_preprocessed_images_span_zero_to_one(seed: int, smooth: float) -> None:
    out = preprocess(noisy_blob(seed, 48), Preprocessing(crop_px=None, smooth_px=smooth))
    assert out.dtype == np.float32 and out.shape == (48, 48)
    assert out.min() == 0.0 and out.max() == pytest.approx(1.0)
