"""Blurring of input-filter responses: the position tolerance of COSFIRE tuples.

Follows the parameter convention of the reference MATLAB code (method notes, section 1):
a tuple at distance ``rho`` from the centre gets a neighbourhood of radius
``r = round((sigma0 + alpha * rho) / 2)`` pixels (MATLAB rounding, halves away from zero),
a ``(2r + 1) x (2r + 1)`` window and a Gaussian of sigma ``r / 3``; ``r = 0`` means no blur.

Two blurs exist:

* ``"max"`` (Azzopardi & Petkov 2013): the value at a pixel is the maximum over the window of
  ``response(p - d) * G(d)`` with ``G`` a Gaussian of peak 1;
* ``"sum"``: ordinary convolution with the same Gaussian normalised to unit sum.

Outside the image the response is taken as 0 (empty sky).
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from cosfire.geometry import round_half_away

__all__ = ["BlurKind", "blur_radius", "blur_window", "blurred_response"]

BlurKind = Literal["max", "sum"]


def blur_radius(rho: float, *, sigma0: float, alpha: float) -> int:
    """Return the blur neighbourhood radius in pixels for a tuple at distance ``rho``.

    Examples
    --------
    >>> [blur_radius(rho, sigma0=0.5, alpha=0.15) for rho in (0, 5, 10, 15, 20, 25)]
    [0, 1, 1, 1, 2, 2]
    """
    return max(0, int(round_half_away((sigma0 + alpha * rho) / 2.0)))


def blur_window(radius: int, *, normalise: bool) -> np.ndarray:
    """Return the ``(2r+1, 2r+1)`` Gaussian window (sigma ``r/3``), peak 1 or unit sum.

    Examples
    --------
    >>> blur_window(0, normalise=False).tolist()
    [[1.0]]
    >>> round(float(blur_window(2, normalise=True).sum()), 6)
    1.0
    """
    if radius == 0:
        return np.ones((1, 1), dtype=np.float32)
    sigma = radius / 3.0
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    squared = offsets[:, None] ** 2 + offsets[None, :] ** 2
    window = np.exp(-squared / (2.0 * sigma**2))
    if normalise:
        window /= window.sum()
    return window.astype(np.float32)


def _max_blur(response: np.ndarray, radius: int) -> np.ndarray:
    window = blur_window(radius, normalise=False)
    height, width = response.shape
    padded = np.zeros((height + 2 * radius, width + 2 * radius), dtype=np.float32)
    padded[radius : radius + height, radius : radius + width] = response
    blurred = response.copy()  # the window's centre weight is 1
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            weight = window[dy + radius, dx + radius]
            if (dy == 0 and dx == 0) or weight < 1e-12:
                continue
            # value at p takes response(p - d) * G(d)
            shifted = padded[radius - dy : radius - dy + height, radius - dx : radius - dx + width]
            np.maximum(blurred, shifted * weight, out=blurred)
    return blurred


def blurred_response(response: np.ndarray, radius: int, kind: BlurKind = "max") -> np.ndarray:
    """Return ``response`` blurred over a neighbourhood of ``radius`` pixels (float32).

    Parameters
    ----------
    response : ndarray, shape (H, W)
        A non-negative input-filter response.
    radius : int
        Neighbourhood radius from :func:`blur_radius`; 0 returns a copy.
    kind : {"max", "sum"}
        Weighted maximum (the 2013 paper) or Gaussian convolution.

    Examples
    --------
    >>> import numpy as np
    >>> response = np.zeros((5, 5), np.float32); response[2, 2] = 1
    >>> blurred = blurred_response(response, 2, "max")
    >>> float(blurred[2, 2]), bool(0 < blurred[2, 3] < 1)
    (1.0, True)
    """
    values = np.asarray(response, dtype=np.float32)
    if radius == 0:
        return values.copy()
    if kind == "max":
        return _max_blur(values, radius)
    if kind == "sum":
        window = blur_window(radius, normalise=True)
        return cv2.filter2D(values, cv2.CV_32F, window, borderType=cv2.BORDER_CONSTANT)
    raise ValueError(f"blur must be 'max' or 'sum', got {kind!r}")
