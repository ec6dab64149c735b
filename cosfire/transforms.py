"""Dataset images rotated or made noisy, reproducibly: the perturbed queries of robustness
measurements (``cosfire-hash pipeline``, the benchmarks) and rotated training copies."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cosfire.datasets import DatasetItem, GalaxyDataset

__all__ = ["TransformedReader"]


class TransformedReader:
    """Reads dataset items, then rotates them by a per-item random angle or adds noise.

    Picklable, so parallel workers can use it. The angle / noise of an item derive from its
    name and the seed, so reruns see the same perturbed images. Rotation is about the image
    centre (bicubic, zero outside, negative ringing clipped); noise is Gaussian with standard
    deviation ``noise`` times the image's peak.

    Examples
    --------
    >>> from cosfire.datasets import open_dataset
    >>> galaxies = open_dataset("synthetic"); item = galaxies.items("test")[0]
    >>> turned = TransformedReader(galaxies, rotate=True, seed=0)
    >>> turned(item).shape == galaxies.read(item).shape, 0 <= turned.angle(item) < 360
    (True, True)
    """

    def __init__(
        self, dataset: GalaxyDataset, *, rotate: bool = False, noise: float = 0.0, seed: int = 0
    ) -> None:
        self.dataset = dataset
        self.rotate = rotate
        self.noise = noise
        self.seed = seed

    def _rng(self, item: DatasetItem) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(item.path.encode())])

    def angle(self, item: DatasetItem) -> float:
        """The rotation angle of ``item`` in degrees (counter-clockwise, in [0, 360)).

        Examples
        --------
        >>> from cosfire.datasets import open_dataset
        >>> galaxies = open_dataset("synthetic"); item = galaxies.items("test")[0]
        >>> TransformedReader(galaxies, seed=1).angle(item) == TransformedReader(galaxies, seed=1).angle(item)
        True
        """
        return float(self._rng(item).uniform(0.0, 360.0))

    def __call__(self, item: DatasetItem) -> np.ndarray:
        import cv2

        image = self.dataset.read(item)
        if self.rotate:
            height, width = image.shape
            matrix = cv2.getRotationMatrix2D(
                ((width - 1) / 2, (height - 1) / 2), self.angle(item), 1.0
            )
            image = cv2.warpAffine(
                image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderValue=0
            )
            image = np.clip(image, 0, None)
        if self.noise > 0:
            rng = self._rng(item)
            rng.uniform()  # decouple from the angle draw
            image = image + rng.normal(0.0, self.noise * float(image.max()), image.shape).astype(
                np.float32
            )
        return image.astype(np.float32)
