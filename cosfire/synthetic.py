"""Procedural radio galaxies that look like FIRST cutouts: the data set that ships with the code.

The four classes of the FIRST radio-galaxy set (Griese et al. 2023) are drawn from simple
physical sketches, observed with a FIRST-like beam and noise, and then treated the way the
FIRST cutouts were: pixels below three times the noise are set to zero and the rest is scaled
to 0..255. They let tests, examples and the Quickstart run anywhere in seconds, without the
download; they are not a substitute for real data when measuring performance.

=========  ===================================================================================
kind       model
=========  ===================================================================================
Compact    an unresolved or slightly elongated point source
FRI        a bright core with two-sided jets that fade and widen outwards (edge-darkened)
FRII       two lobes with bright hot spots at their outer ends; the core faint or absent
           (edge-brightened)
Bent       a core with jets that bend to one side into tails: wide-angle (C/U) or
           narrow-angle (V) tailed sources
=========  ===================================================================================

Geometry is in pixels of 1.8 arcsec, as in FIRST; the beam is a circular Gaussian of
2.8 px (5 arcsec) FWHM and sources stay within the central ~100 px of a 300 px cutout.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import cv2
import numpy as np

from cosfire._atomic import atomic_write

__all__ = [
    "BEAM_FWHM_PX",
    "DEFAULT_N_PER_CLASS",
    "GALAXY_KINDS",
    "SYNTHETIC_VERSION",
    "make_galaxy",
    "write_synthetic_dataset",
]

#: the classes, in the alphabetical order used for labels everywhere
GALAXY_KINDS: tuple[str, ...] = ("Bent", "Compact", "FRI", "FRII")
#: FWHM of the restoring beam in pixels (5 arcsec at 1.8 arcsec per pixel)
BEAM_FWHM_PX = 3.0
#: images per class in each split written by :func:`write_synthetic_dataset` by default
DEFAULT_N_PER_CLASS: dict[str, int] = {"train": 30, "valid": 10, "test": 10}
#: bumped whenever the generator's output changes, so cached copies are regenerated
SYNTHETIC_VERSION = 1

_BEAM_SIGMA_PX = BEAM_FWHM_PX / (2.0 * np.sqrt(2.0 * np.log(2.0)))
_NOISE_CUT = 3.5
_WIDTH_LEVELS_PX = np.array([0.0, 0.6, 1.2, 2.0, 3.0, 4.5, 6.5])


class _Sky:
    """Point components (x, y, flux, intrinsic sigma) that render to a beam-convolved image."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = []

    def add(self, x: np.ndarray, y: np.ndarray, flux: np.ndarray, sigma: np.ndarray) -> None:
        x, y, flux, sigma = np.broadcast_arrays(
            *(np.asarray(v, float) for v in (x, y, flux, sigma))
        )
        self._parts.append(np.stack([x.ravel(), y.ravel(), flux.ravel(), sigma.ravel()]))

    def render(self, size: int) -> np.ndarray:
        """Return the sky convolved with its components' widths and the beam, float64."""
        x, y, flux, sigma = np.concatenate(self._parts, axis=1)
        # split each component between the two nearest width levels, so one blur per level
        sigma = np.clip(sigma, 0.0, _WIDTH_LEVELS_PX[-1])
        upper = np.clip(
            np.searchsorted(_WIDTH_LEVELS_PX, sigma, side="right"), 1, len(_WIDTH_LEVELS_PX) - 1
        )
        lower_width, upper_width = _WIDTH_LEVELS_PX[upper - 1], _WIDTH_LEVELS_PX[upper]
        upper_share = (sigma - lower_width) / (upper_width - lower_width)
        # work in the bounding box of the components plus the widest blur's reach: ~10x faster
        reach = int(np.ceil(4 * np.hypot(_WIDTH_LEVELS_PX[-1], _BEAM_SIGMA_PX)))
        top, left = max(0, int(y.min()) - reach), max(0, int(x.min()) - reach)
        bottom, right = min(size, int(y.max()) + reach + 2), min(size, int(x.max()) + reach + 2)
        window = np.zeros((max(bottom - top, 1), max(right - left, 1)))
        for level, width in enumerate(_WIDTH_LEVELS_PX):
            share = np.where(upper == level, upper_share, 0.0) + np.where(
                upper - 1 == level, 1 - upper_share, 0.0
            )
            if not np.any(share > 0):
                continue
            layer = np.zeros(window.shape, np.float32)
            _splat(layer, x - left, y - top, flux * share)
            blur = float(np.hypot(width, _BEAM_SIGMA_PX))
            window += cv2.GaussianBlur(layer, (0, 0), blur, borderType=cv2.BORDER_CONSTANT)
        image = np.zeros((size, size))
        image[top : top + window.shape[0], left : left + window.shape[1]] = window
        return image


def _splat(layer: np.ndarray, x: np.ndarray, y: np.ndarray, flux: np.ndarray) -> None:
    """Add point fluxes at sub-pixel positions by bilinear weights (flux is conserved)."""
    height, width = layer.shape
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    for dx, dy, weight in (
        (0, 0, (1 - fx) * (1 - fy)),
        (1, 0, fx * (1 - fy)),
        (0, 1, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        xi, yi = x0 + dx, y0 + dy
        inside = (xi >= 0) & (xi < width) & (yi >= 0) & (yi < height)
        np.add.at(layer, (yi[inside], xi[inside]), (flux * weight)[inside])


def _smooth_noise(n: int, rng: np.random.Generator, *, correlation: float) -> np.ndarray:
    """Return ``n`` values of unit-rms noise correlated over ``correlation`` samples."""
    raw = rng.standard_normal(n + int(6 * correlation) + 1)
    smooth = cv2.GaussianBlur(raw.reshape(1, -1), (0, 0), sigmaX=correlation, sigmaY=0).ravel()
    # white noise blurred by a Gaussian of sigma c has variance 1 / (2 sqrt(pi) c)
    return smooth[:n] * np.sqrt(2 * np.sqrt(np.pi) * correlation)


def _jet(
    sky: _Sky,
    rng: np.random.Generator,
    *,
    origin: tuple[float, float],
    direction_rad: np.ndarray,
    brightness: np.ndarray,
    width_px: np.ndarray,
    clumpiness: float = 0.5,
    step_px: float = 0.5,
) -> None:
    """Add a clumpy jet that follows ``direction_rad``, one sample every ``step_px``."""
    x = origin[0] + np.cumsum(step_px * np.cos(direction_rad))
    y = origin[1] + np.cumsum(step_px * np.sin(direction_rad))
    clumps = np.exp(clumpiness * _smooth_noise(len(x), rng, correlation=3.0 / step_px))
    # scatter the samples across the jet so that it is patchy rather than a smooth tube
    across = rng.normal(0.0, 0.6, len(x)) * width_px
    x, y = x - across * np.sin(direction_rad), y + across * np.cos(direction_rad)
    sky.add(x, y, brightness * clumps * step_px, 0.6 * width_px)


def _compact(sky: _Sky, rng: np.random.Generator, cx: float, cy: float, scale: float) -> None:
    length = rng.uniform(0.0, 1.6) * scale  # intrinsic extent, mostly below the beam
    angle = rng.uniform(0, np.pi)
    t = np.linspace(-1, 1, 9)
    weights = np.exp(-0.5 * (2 * t) ** 2)
    sky.add(cx + t * length * np.cos(angle), cy + t * length * np.sin(angle), weights, 0.3)


def _fri(sky: _Sky, rng: np.random.Generator, cx: float, cy: float, scale: float) -> None:
    axis = rng.uniform(0, 2 * np.pi)
    length = np.exp(rng.uniform(np.log(10), np.log(50))) * scale
    sky.add(cx, cy, rng.uniform(0.5, 2.5), 0.3)  # the core: the brightest point
    fade_px = rng.uniform(5.0, 15.0)
    power = rng.uniform(0.9, 1.6)
    for side, boost in ((0, 1.0), (1, rng.uniform(0.35, 1.0))):  # counter-jet often fainter
        jet_length = length * (1.0 if side == 0 else rng.uniform(0.55, 1.0))
        s = np.arange(0.5, jet_length, 0.5)
        wiggle = rng.normal(0, 0.12) * np.sin(
            2 * np.pi * s / rng.uniform(15, 40) + rng.uniform(0, 2 * np.pi)
        )
        drift = rng.normal(0, np.deg2rad(12)) * s / jet_length
        direction = axis + side * (np.pi + rng.normal(0, np.deg2rad(8))) + wiggle + drift
        taper = np.clip((jet_length - s) / (0.3 * jet_length), 0, 1) ** 0.7
        brightness = rng.uniform(0.8, 1.5) * boost * (1 + s / fade_px) ** -power * taper
        for _ in range(rng.integers(0, 3)):  # knots
            brightness *= 1 + rng.uniform(0.5, 2.0) * np.exp(
                -0.5 * ((s - rng.uniform(0.2, 0.8) * jet_length) / 1.5) ** 2
            )
        width = 0.4 + s * np.tan(np.deg2rad(rng.uniform(3, 9)))
        _jet(
            sky,
            rng,
            origin=(cx, cy),
            direction_rad=direction,
            brightness=brightness,
            width_px=width,
        )


def _frii(sky: _Sky, rng: np.random.Generator, cx: float, cy: float, scale: float) -> None:
    axis = rng.uniform(0, 2 * np.pi)
    distance = np.exp(rng.uniform(np.log(3.5), np.log(30))) * scale
    if rng.random() < 0.6:  # a faint core, absent in 40 % of sources
        sky.add(cx, cy, rng.uniform(0.05, 0.5), 0.3)
    for side in (0, 1):
        reach = distance * (1.0 if side == 0 else rng.uniform(0.7, 1.0))
        angle = axis + side * (np.pi + rng.normal(0, np.deg2rad(7)))
        ux, uy = np.cos(angle), np.sin(angle)
        hot_flux = rng.uniform(0.3, 1.0)
        sky.add(cx + reach * ux, cy + reach * uy, hot_flux, rng.uniform(0.2, 1.0))
        # the lobe: backflow from the hot spot towards the core, brightest at the hot spot
        lobe_length = reach * rng.uniform(0.4, 1.0)
        n_points = 60
        t = rng.uniform(0, 1, n_points) ** rng.uniform(1.5, 3.0)  # 0 at the hot spot
        along = reach - t * lobe_length
        across = rng.normal(0, rng.uniform(0.8, 3.0) * scale, n_points) * (0.5 + t)
        lobe_flux = hot_flux * rng.uniform(0.6, 2.5) / n_points
        sky.add(
            cx + along * ux - across * uy,
            cy + along * uy + across * ux,
            lobe_flux * rng.uniform(0.3, 1.7, n_points),
            rng.uniform(0.8, 2.5, n_points),
        )


def _bent(sky: _Sky, rng: np.random.Generator, cx: float, cy: float, scale: float) -> None:
    tail = rng.uniform(0, 2 * np.pi)
    narrow = rng.random() < 0.4  # narrow-angle (V) or wide-angle (C/U) tails
    opening = np.deg2rad(rng.uniform(15, 35) if narrow else rng.uniform(60, 100))
    length = rng.uniform(15, 45) * scale
    sky.add(cx, cy, rng.uniform(0.3, 1.5), 0.3)
    fade_px = rng.uniform(8.0, 20.0)
    for sign in (-1, 1):
        jet_length = length * rng.uniform(0.7, 1.0)
        s = np.arange(0.5, jet_length, 0.5)
        bend_px = jet_length * rng.uniform(0.15, 0.5)
        direction = (
            tail
            + sign * opening * np.exp(-s / bend_px)
            + 0.25 * _smooth_noise(len(s), rng, correlation=12.0)  # tails meander
        )
        taper = np.clip((jet_length - s) / (0.3 * jet_length), 0, 1) ** 0.7
        brightness = rng.uniform(0.6, 1.2) * (1 + s / fade_px) ** -0.8 * taper
        width = np.minimum(0.5 + s * np.tan(np.deg2rad(rng.uniform(2, 6))), 4.0)
        _jet(
            sky,
            rng,
            origin=(cx, cy),
            direction_rad=direction,
            brightness=brightness,
            width_px=width,
            clumpiness=1.0,
        )


_MODELS = {"Bent": _bent, "Compact": _compact, "FRI": _fri, "FRII": _frii}


def make_galaxy(kind: str, *, size: int = 300, rng: np.random.Generator) -> np.ndarray:
    """Return one synthetic radio galaxy of class ``kind`` as a ``size`` x ``size`` uint8 image.

    The source is drawn with random orientation, extent and brightness, convolved with a
    FIRST-like beam, given correlated Gaussian noise, and then treated like the FIRST cutouts:
    pixels below three times the noise rms become 0 and the rest is scaled so that the
    threshold maps to 0 and the brightest pixel to 255. For ``size`` below 150 the source is
    shrunk in proportion so that it stays inside the image.

    Parameters
    ----------
    kind : {"Bent", "Compact", "FRI", "FRII"}
        The morphological class (see the module docstring).
    size : int, default 300
        Width and height in pixels (at least 32).
    rng : numpy.random.Generator
        The source of randomness; the same generator state gives the same image.

    Returns
    -------
    ndarray of uint8, shape (size, size)

    Examples
    --------
    >>> import numpy as np
    >>> image = make_galaxy("FRII", rng=np.random.default_rng(0))
    >>> image.shape, image.dtype, int(image.max())
    ((300, 300), dtype('uint8'), 255)
    """
    if kind not in _MODELS:
        raise ValueError(f"unknown galaxy kind {kind!r}; choose one of {', '.join(GALAXY_KINDS)}")
    if size < 32:
        raise ValueError(f"size={size} is too small for a galaxy; use at least 32 pixels")
    scale = min(1.0, size / 150)
    centre = (size - 1) / 2
    cx, cy = centre + rng.uniform(-1.5, 1.5, 2)
    sky = _Sky()
    _MODELS[kind](sky, rng, cx, cy, scale)
    source = sky.render(size)
    dynamic_range = np.exp(rng.uniform(np.log(15), np.log(300)))  # peak / threshold
    source *= _NOISE_CUT * dynamic_range / source.max()
    if rng.random() < 0.1:  # an unrelated faint source elsewhere in the field, as in FIRST
        radius, angle = rng.uniform(0.3, 0.48) * size, rng.uniform(0, 2 * np.pi)
        other = _Sky()
        other.add(centre + radius * np.cos(angle), centre + radius * np.sin(angle), 1.0, 0.3)
        other_image = other.render(size)
        source += other_image * (rng.uniform(4, 25) / other_image.max())
    noise = cv2.GaussianBlur(
        rng.standard_normal((size, size)).astype(np.float32), (0, 0), _BEAM_SIGMA_PX
    )
    observed = source + noise / noise.std()
    above = np.clip((observed - _NOISE_CUT) / (observed.max() - _NOISE_CUT), 0.0, 1.0)
    return np.round(above * 255).astype(np.uint8)


def write_synthetic_dataset(
    root: str | os.PathLike[str],
    *,
    n_per_class: dict[str, int] | None = None,
    size: int = 300,
    seed: int = 0,
) -> Path:
    """Write a synthetic FIRST-like data set as PNG files and return its top folder.

    The layout is the one of the FIRST zip: ``<root>/galaxy_data/<split>/<class>/<class>_<i>.png``
    with ``i`` zero-padded to four digits. Each image has its own random stream derived from
    ``seed``, split, class and ``i``, so the same arguments always write the same bytes and
    asking for more images adds files without changing the existing ones. Files are written
    atomically; existing files of the same name are replaced.

    Parameters
    ----------
    root : path
        Folder to write into (created if needed).
    n_per_class : dict of str to int, optional
        Images per class for each split, e.g. ``{"train": 30, "valid": 10, "test": 10}``
        (the default, :data:`DEFAULT_N_PER_CLASS`).
    size : int, default 300
        Image width and height in pixels.
    seed : int, default 0
        Seed of the whole set.

    Returns
    -------
    Path
        ``<root>/galaxy_data``.

    Examples
    --------
    >>> import tempfile
    >>> top = write_synthetic_dataset(tempfile.mkdtemp(), n_per_class={"train": 2}, size=64)
    >>> sorted(p.name for p in (top / "train" / "FRII").iterdir())
    ['FRII_0000.png', 'FRII_0001.png']
    """
    counts = dict(DEFAULT_N_PER_CLASS if n_per_class is None else n_per_class)
    for split, count in counts.items():
        if not split or "/" in split or split.startswith(".") or count < 0:
            raise ValueError(
                f"n_per_class: bad entry {split!r}: {count!r}; use e.g. {{'train': 30}}"
            )
    top = Path(root) / "galaxy_data"
    for split, count in counts.items():
        for kind in GALAXY_KINDS:
            for index in range(count):
                stream = np.random.SeedSequence(
                    [seed, zlib.crc32(split.encode()), zlib.crc32(kind.encode()), index]
                )
                image = make_galaxy(kind, size=size, rng=np.random.default_rng(stream))
                ok, encoded = cv2.imencode(".png", image)
                if not ok:  # pragma: no cover - OpenCV always encodes uint8 PNG
                    raise RuntimeError(f"could not encode {kind} image {index} as PNG")
                with atomic_write(top / split / kind / f"{kind}_{index:04d}.png") as handle:
                    handle.write(encoded.tobytes())
    return top
