"""Input filters of a COSFIRE filter: DoG (centre-surround) and Gabor (oriented) channels.

A *channel* is one input filter with fixed parameters. Its response to an image is the
convolution, half-wave rectified (negative values set to 0) and then thresholded at ``t1``
times its own maximum, as in the reference MATLAB code. Channels are small frozen dataclasses
so that they can key caches, be compared, and be written to JSON.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

import cv2
import numpy as np

__all__ = [
    "Channel",
    "DoGChannel",
    "GaborChannel",
    "channel_from_dict",
    "dog_response",
    "gabor_response",
    "threshold_response",
]

Polarity = Literal["on", "off"]


@dataclass(frozen=True)
class DoGChannel:
    """A difference-of-Gaussians channel.

    Parameters
    ----------
    sigma : float
        Standard deviation of the outer (surround) Gaussian, in pixels.
    polarity : {"on", "off"}
        "on" responds to a bright blob on a dark surround (kernel ``G(ratio*sigma) - G(sigma)``),
        "off" to the opposite.
    ratio : float
        Inner sigma divided by outer sigma (0.5 in the reference code).
    """

    sigma: float
    polarity: Polarity = "on"
    ratio: float = 0.5
    kind: ClassVar[str] = "dog"

    def __post_init__(self) -> None:
        if not self.sigma > 0:
            raise ValueError(f"DoG sigma must be > 0, got {self.sigma}")
        if self.polarity not in ("on", "off"):
            raise ValueError(f"DoG polarity must be 'on' or 'off', got {self.polarity!r}")
        if not 0 < self.ratio < 1:
            raise ValueError(f"DoG sigma ratio must lie in (0, 1), got {self.ratio}")

    def response(self, image: np.ndarray) -> np.ndarray:
        """Return the rectified response of this channel to ``image`` (float32)."""
        return dog_response(image, sigma=self.sigma, ratio=self.ratio, polarity=self.polarity)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict (with ``kind``)."""
        return {"kind": self.kind, **asdict(self)}

    @property
    def support_px(self) -> float:
        """Radius (pixels) beyond which the kernel is negligible."""
        return 3.0 * self.sigma


@dataclass(frozen=True)
class GaborChannel:
    """A Gabor channel (an oriented, band-pass input filter).

    Parameters
    ----------
    wavelength : float
        Wavelength of the cosine factor, in pixels.
    orientation : float
        Orientation of the stripes' normal, in radians (counter-clockwise from the x axis,
        y pointing up).
    aspect : float
        Spatial aspect ratio of the Gaussian envelope (0.5 in the COSFIRE papers).
    bandwidth : float
        Half-response spatial-frequency bandwidth in octaves; sets the envelope's sigma.
    phase : float
        Phase offset in radians: 0 gives a symmetric (line) detector, pi/2 an antisymmetric
        (edge) detector.
    """

    wavelength: float
    orientation: float
    aspect: float = 0.5
    bandwidth: float = 1.0
    phase: float = 0.0
    kind: ClassVar[str] = "gabor"

    def __post_init__(self) -> None:
        if not self.wavelength >= 2:
            raise ValueError(f"Gabor wavelength must be >= 2 pixels, got {self.wavelength}")
        if not self.aspect > 0 or not self.bandwidth > 0:
            raise ValueError("Gabor aspect and bandwidth must be > 0")

    @property
    def sigma(self) -> float:
        """Sigma of the Gaussian envelope implied by wavelength and bandwidth."""
        two_b = 2.0**self.bandwidth
        return self.wavelength / math.pi * math.sqrt(math.log(2) / 2) * (two_b + 1) / (two_b - 1)

    @property
    def support_px(self) -> float:
        """Radius (pixels) beyond which the kernel is negligible."""
        return 3.0 * self.sigma / min(self.aspect, 1.0)

    def response(self, image: np.ndarray) -> np.ndarray:
        """Return the rectified response of this channel to ``image`` (float32)."""
        return gabor_response(
            image,
            wavelength=self.wavelength,
            orientation=self.orientation,
            aspect=self.aspect,
            bandwidth=self.bandwidth,
            phase=self.phase,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict (with ``kind``)."""
        return {"kind": self.kind, **asdict(self)}


Channel = DoGChannel | GaborChannel


def channel_from_dict(spec: dict[str, Any]) -> Channel:
    """Build a channel from the dict written by its ``to_dict``.

    Examples
    --------
    >>> channel_from_dict(DoGChannel(5.0).to_dict())
    DoGChannel(sigma=5.0, polarity='on', ratio=0.5)
    """
    fields = {key: value for key, value in spec.items() if key != "kind"}
    kind = spec.get("kind")
    if kind == "dog":
        return DoGChannel(**fields)
    if kind == "gabor":
        return GaborChannel(**fields)
    raise ValueError(f"unknown input-filter kind {kind!r}; expected 'dog' or 'gabor'")


def _gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    radius = max(1, math.ceil(3 * sigma))
    return cv2.GaussianBlur(
        image, (2 * radius + 1, 2 * radius + 1), sigma, sigma, borderType=cv2.BORDER_REFLECT
    )


def dog_response(
    image: np.ndarray, *, sigma: float, ratio: float = 0.5, polarity: Polarity = "on"
) -> np.ndarray:
    """Return the half-wave rectified difference-of-Gaussians response of ``image``.

    The on-centre kernel is ``G(ratio * sigma) - G(sigma)`` (each Gaussian of unit sum);
    off-centre is its negative. Borders are handled by symmetric reflection.

    Parameters
    ----------
    image : ndarray, shape (H, W)
        Grey image, float.
    sigma : float
        Outer sigma in pixels.
    ratio : float
        Inner sigma / outer sigma.
    polarity : {"on", "off"}

    Returns
    -------
    ndarray of float32, shape (H, W)
        Non-negative response.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((31, 31), np.float32); image[15, 15] = 1
    >>> response = dog_response(image, sigma=2.0)
    >>> bool(response[15, 15] == response.max() > 0)
    True
    """
    grey = np.asarray(image, dtype=np.float32)
    difference = _gaussian(grey, ratio * sigma) - _gaussian(grey, sigma)
    if polarity == "off":
        difference = -difference
    return np.maximum(difference, 0.0, out=difference)


def gabor_kernel(
    *, wavelength: float, orientation: float, aspect: float, bandwidth: float, phase: float
) -> np.ndarray:
    """Return a zero-mean Gabor kernel whose positive part sums to 1 (float32)."""
    channel = GaborChannel(wavelength, orientation, aspect, bandwidth, phase)
    sigma = channel.sigma
    radius = max(1, math.ceil(channel.support_px))
    ys, xs = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float64)
    # x along the orientation's normal; image rows grow downwards, so y_up = -row.
    x_rot = xs * math.cos(orientation) - ys * math.sin(orientation)
    y_rot = xs * math.sin(orientation) + ys * math.cos(orientation)
    envelope = np.exp(-(x_rot**2 + (aspect * y_rot) ** 2) / (2 * sigma**2))
    kernel = envelope * np.cos(2 * math.pi * x_rot / wavelength + phase)
    kernel -= kernel.mean()
    positive_sum = kernel[kernel > 0].sum()
    return (kernel / positive_sum).astype(np.float32)


def gabor_response(
    image: np.ndarray,
    *,
    wavelength: float,
    orientation: float,
    aspect: float = 0.5,
    bandwidth: float = 1.0,
    phase: float = 0.0,
) -> np.ndarray:
    """Return the half-wave rectified Gabor response of ``image`` (float32).

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((41, 41), np.float32); image[:, 20] = 1  # a vertical line
    >>> vertical = gabor_response(image, wavelength=6, orientation=0.0)
    >>> horizontal = gabor_response(image, wavelength=6, orientation=np.pi / 2)
    >>> bool(vertical.max() > 10 * horizontal.max())
    True
    """
    kernel = gabor_kernel(
        wavelength=wavelength,
        orientation=orientation,
        aspect=aspect,
        bandwidth=bandwidth,
        phase=phase,
    )
    grey = np.asarray(image, dtype=np.float32)
    # filter2D correlates; flipping the kernel makes it a convolution.
    response = cv2.filter2D(grey, cv2.CV_32F, kernel[::-1, ::-1], borderType=cv2.BORDER_REFLECT)
    return np.maximum(response, 0.0, out=response)


def threshold_response(response: np.ndarray, t1: float) -> np.ndarray:
    """Return ``response`` with values below ``t1 * max(response)`` set to 0 (a new array).

    Examples
    --------
    >>> import numpy as np
    >>> threshold_response(np.array([0.0, 0.04, 0.5, 1.0], np.float32), 0.05).tolist()
    [0.0, 0.0, 0.5, 1.0]
    """
    thresholded = np.array(response, dtype=np.float32, copy=True)
    peak = float(thresholded.max()) if thresholded.size else 0.0
    if peak <= 0:
        thresholded[:] = 0
        return thresholded
    thresholded[thresholded < t1 * peak] = 0
    return thresholded
