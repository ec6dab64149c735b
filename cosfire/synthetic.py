"""Procedural radio galaxies: the embedded default data set, so everything runs offline.

Four morphologies, drawn as sums of Gaussian components seen through a FIRST-like beam
(FWHM about 2.8 px, i.e. 5 arcsec at 1.8 arcsec/px), with noise, then treated as the FIRST
PNGs were: pixels below 3 sigma of the noise set to 0 and the rest scaled to 0..255.

* ``Compact``: an unresolved or barely resolved source.
* ``FRI``: a bright core with two jets that fade and widen outwards (edge-darkened).
* ``FRII``: two lobes with bright hot spots at their *outer* edges, a faint or absent core
  (edge-brightened).
* ``Bent``: a core whose two jets bend towards the same side (wide- and narrow-angle tails).

Orientation, size, brightness ratios and noise are random; everything is seeded. These are
not simulations: they carry the morphological cues that distinguish the classes, which is
what tests, examples and the Quickstart need.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

__all__ = ["KINDS", "make_galaxy", "write_synthetic_dataset"]

KINDS = ("Bent", "Compact", "FRI", "FRII")
_BEAM_SIGMA_PX = 2.8 / 2.355
DEFAULT_COUNTS = {"train": 30, "valid": 10, "test": 10}


def _render(components: list[tuple[float, float, float, float]], size: int) -> np.ndarray:
    """Sum Gaussian components (row, col, amplitude, sigma) on a size x size grid."""
    image = np.zeros((size, size), dtype=np.float64)
    for row, col, amplitude, sigma in components:
        radius = int(math.ceil(4 * sigma)) + 1
        top, bottom = max(0, int(row) - radius), min(size, int(row) + radius + 1)
        left, right = max(0, int(col) - radius), min(size, int(col) + radius + 1)
        if top >= bottom or left >= right:
            continue
        rows = np.arange(top, bottom)[:, None] - row
        cols = np.arange(left, right)[None, :] - col
        image[top:bottom, left:right] += amplitude * np.exp(-(rows**2 + cols**2) / (2 * sigma**2))
    return image


def _jet(
    start: tuple[float, float],
    angle: float,
    length: float,
    *,
    bend: float,
    brightness: tuple[float, float],
    width: tuple[float, float],
    rng: np.random.Generator,
) -> list[tuple[float, float, float, float]]:
    """Components along a (possibly bending) path; brightness and width go from first to last."""
    row, col = start
    steps = max(2, int(length / 1.2))
    components = []
    for i in range(steps):
        fraction = i / (steps - 1)
        angle += bend / steps + rng.normal(0, 0.03)
        row -= 1.2 * math.sin(angle)
        col += 1.2 * math.cos(angle)
        amplitude = brightness[0] + (brightness[1] - brightness[0]) * fraction
        sigma = width[0] + (width[1] - width[0]) * fraction
        # overlapping components along the path add up; scale so the ridge peaks at amplitude
        overlap = min(1.0, 1.2 / (2.5 * sigma))
        components.append((row, col, amplitude * overlap * rng.uniform(0.8, 1.2), sigma))
    return components


def _components(kind: str, center: tuple[float, float], rng: np.random.Generator):
    theta = rng.uniform(0, 2 * math.pi)
    row, col = center
    if kind == "Compact":
        return [(row, col, 1.0, rng.uniform(0.3, 1.2))]
    if kind == "FRI":
        parts = [(row, col, 1.0, 0.8)]
        for side in (0, math.pi):
            length = rng.uniform(10, 35)
            parts += _jet(
                (row, col), theta + side, length, bend=rng.normal(0, 0.3),
                brightness=(0.5, 0.05), width=(0.8, 3.0), rng=rng,
            )  # fmt: skip
        return parts
    if kind == "FRII":
        parts = [(row, col, rng.uniform(0.0, 0.3), 0.8)]
        for side in (0, math.pi):
            reach = rng.uniform(15, 45)
            angle = theta + side + rng.normal(0, 0.08)
            tip = (row - reach * math.sin(angle), col + reach * math.cos(angle))
            parts.append((tip[0], tip[1], rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.5)))
            # the lobe: diffuse emission from the hot spot back towards the core
            back = angle + math.pi
            parts += _jet(
                tip, back, reach * rng.uniform(0.3, 0.6), bend=0.0,
                brightness=(0.25, 0.03), width=(2.0, 3.5), rng=rng,
            )  # fmt: skip
        return parts
    if kind == "Bent":
        parts = [(row, col, 1.0, 0.8)]
        opening = rng.uniform(0.3, 1.2)  # half-angle between the tails at their start
        for sign in (-1, 1):
            start_angle = theta + sign * (math.pi / 2 + opening)
            parts += _jet(
                (row, col), start_angle, rng.uniform(15, 40), bend=-sign * rng.uniform(0.8, 1.6),
                brightness=(0.5, 0.08), width=(0.9, 2.5), rng=rng,
            )  # fmt: skip
        return parts
    raise ValueError(f"unknown galaxy kind {kind!r}; choose one of {', '.join(KINDS)}")


def make_galaxy(kind: str, *, size: int = 300, rng: np.random.Generator) -> np.ndarray:
    """Return one synthetic radio galaxy of ``kind`` as a ``size`` x ``size`` uint8 image.

    Examples
    --------
    >>> image = make_galaxy("FRII", size=128, rng=np.random.default_rng(0))
    >>> image.shape, image.dtype, int(image.max())
    ((128, 128), dtype('uint8'), 255)
    """
    center = (size / 2 + rng.normal(0, 1.0), size / 2 + rng.normal(0, 1.0))
    sky = _render(_components(kind, center, rng), size)
    observed = cv2.GaussianBlur(sky, (0, 0), _BEAM_SIGMA_PX)
    noise_rms = observed.max() * rng.uniform(0.01, 0.04)
    observed = observed + rng.normal(0, noise_rms, observed.shape)
    observed[observed < 3 * noise_rms] = 0
    return np.round(255 * observed / observed.max()).astype(np.uint8)


def write_synthetic_dataset(
    root: str | os.PathLike[str],
    *,
    n_per_class: dict[str, int] | None = None,
    size: int = 300,
    seed: int = 0,
) -> Path:
    """Write a synthetic data set laid out like the FIRST zip and return its folder.

    The layout is ``<root>/galaxy_data/<split>/<class>/<class>_<i>.png``. The folder is built
    in a temporary sibling and renamed into place, so an interrupted run leaves nothing half
    written.

    Parameters
    ----------
    root : path
        Parent folder.
    n_per_class : dict, optional
        Images per class for each split (default train 30, valid 10, test 10).
    size : int
        Image side in pixels (FIRST PNGs: 300).
    seed : int
        Everything random derives from it.

    Examples
    --------
    >>> import tempfile
    >>> folder = write_synthetic_dataset(tempfile.mkdtemp(), n_per_class={"train": 1}, size=64)
    >>> sorted(p.name for p in (folder / "train").iterdir())
    ['Bent', 'Compact', 'FRI', 'FRII']
    """
    counts = DEFAULT_COUNTS if n_per_class is None else n_per_class
    target = Path(root) / "galaxy_data"
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".galaxy_data.", dir=target.parent))
    try:
        for split_index, (split, count) in enumerate(sorted(counts.items())):
            for kind_index, kind in enumerate(KINDS):
                rng = np.random.default_rng([seed, split_index, kind_index])
                folder = staging / split / kind
                folder.mkdir(parents=True)
                for i in range(count):
                    image = make_galaxy(kind, size=size, rng=rng)
                    cv2.imwrite(str(folder / f"{kind}_{i:04d}.png"), image)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
