"""Preprocessing of cutouts before filtering, as the radio-galaxy papers do it.

Steps, in order, each a named option of :class:`Preprocessing`:

1. ``crop_px``: a centre crop to ``crop_px`` x ``crop_px`` pixels (the papers use 150 px of
   FIRST at 1.8 arcsec/px; the Griese et al. PNGs are 300 px). Images already smaller are kept.
2. ``smooth_px`` (default None: off): a Gaussian of this sigma (pixels) smooths the image, a
   matched filter below the beam (FIRST's 5.4 arcsec beam is a Gaussian of sigma 1.3 px at
   1.8 arcsec/px). It lifts a galaxy above the pixel noise: after the clipping and scaling
   below, the noise that survives is about 3 times fainter next to the galaxy's peak, so DoG
   responses to it fall under t1. It matters for noisy cutouts, above all with small DoG
   sigmas, which answer to single-pixel noise; ``smooth_px=1`` keeps FIRST galaxies'
   structure (see benchmarks/first_radio_galaxies.md).
3. ``noise_clip`` (default 3): pixels below the background median plus ``noise_clip`` times the
   background rms are set to 0. The rms is estimated robustly (median absolute deviation of the
   pixels, times 1.4826), so the galaxy itself barely moves it. FIRST PNGs already had this
   done at 3 sigma (their background is exactly 0, so the step changes nothing there); noisy
   cutouts (FITS, other surveys, FIRST with added noise) need it: without it every noise
   bump becomes a DoG response, and COSFIRE's AND of tuples starts answering to noise.
4. ``scale``: ``"max"`` divides by the maximum so the image spans [0, 1]; ``"none"`` keeps
   the values.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy.ndimage import gaussian_filter

__all__ = ["Preprocessing", "background_rms", "center_crop", "preprocess"]


@dataclass(frozen=True)
class Preprocessing:
    """Options of :func:`preprocess` (see the module docstring).

    Examples
    --------
    >>> Preprocessing().crop_px
    150
    """

    crop_px: int | None = 150
    noise_clip: float | None = 3.0
    scale: Literal["max", "none"] = "max"
    smooth_px: float | None = None

    def __post_init__(self) -> None:
        if self.crop_px is not None and self.crop_px < 8:
            raise ValueError(f"crop_px must be >= 8 pixels or None, got {self.crop_px}")
        if self.noise_clip is not None and self.noise_clip < 0:
            raise ValueError(f"noise_clip must be >= 0 or None, got {self.noise_clip}")
        if self.smooth_px is not None and not (
            math.isfinite(self.smooth_px) and self.smooth_px > 0
        ):
            raise ValueError(f"smooth_px must be > 0 pixels or None, got {self.smooth_px}")
        if self.scale not in ("max", "none"):
            raise ValueError(f"scale must be 'max' or 'none', got {self.scale!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict (``smooth_px`` only when set, so that files written before
        it existed keep their checksums)."""
        spec = asdict(self)
        if self.smooth_px is None:
            del spec["smooth_px"]
        return spec

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> Preprocessing:
        """Inverse of :meth:`to_dict`."""
        return cls(**spec)


def center_crop(image: np.ndarray, size: int) -> np.ndarray:
    """Return the central ``size`` x ``size`` part of ``image`` (the image if smaller).

    Examples
    --------
    >>> center_crop(np.arange(16).reshape(4, 4), 2).tolist()
    [[5, 6], [9, 10]]
    """
    height, width = image.shape
    top = max(0, (height - size) // 2)
    left = max(0, (width - size) // 2)
    return image[top : top + min(size, height), left : left + min(size, width)]


def background_rms(image: np.ndarray) -> float:
    """Return a robust estimate of the background noise rms (1.4826 x MAD).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(background_rms(rng.normal(0, 2.0, (200, 200))), 1)
    2.0
    """
    values = np.asarray(image, dtype=np.float64).ravel()
    median = np.median(values)
    return float(1.4826 * np.median(np.abs(values - median)))


def preprocess(image: np.ndarray, preprocessing: Preprocessing | None = None) -> np.ndarray:
    """Return ``image`` cropped, noise-clipped and scaled as ``preprocessing`` says (float32).

    Examples
    --------
    >>> image = np.zeros((300, 300), np.float32); image[150, 150] = 0.5
    >>> out = preprocess(image)
    >>> out.shape, float(out.max())
    ((150, 150), 1.0)
    """
    options = Preprocessing() if preprocessing is None else preprocessing
    result = np.asarray(image, dtype=np.float32)
    if result.ndim != 2:
        raise ValueError(f"expected a 2-D grey image, got shape {result.shape}")
    if options.crop_px is not None:
        result = center_crop(result, options.crop_px)
    result = np.array(result, dtype=np.float32, copy=True)
    if options.smooth_px is not None:
        result = gaussian_filter(result, options.smooth_px, mode="reflect").astype(np.float32)
    if options.noise_clip is not None:
        level = np.median(result) + options.noise_clip * background_rms(result)
        result[result < level] = 0
    if options.scale == "max":
        peak = float(result.max()) if result.size else 0.0
        if peak > 0:
            result /= peak
    return result
