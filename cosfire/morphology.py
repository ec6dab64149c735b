"""Rotation-invariant measurements of a source's shape, beside the COSFIRE responses.

These are not COSFIRE responses: they summarise the preprocessed cutout directly, and a bank
appends them to its descriptors only when asked (``FilterBank.extras``). Every value is
unchanged when the image is rotated about the source's flux-weighted centre (up to
resampling), so they keep the descriptor rotation invariant:

* ``radial``: the fraction of the flux in annuli around the flux-weighted centre
  (logarithmically spaced radii from 2 to 60 px);
* ``angular``: in each annulus, and over the whole source, the magnitudes of the first
  angular Fourier harmonics (m = 1..4) of the flux, relative to the flux there: m = 1 says
  how one-sided the emission is (bent, head-tail), m = 2 how two-sided (straight doubles);
* ``moments``: the number and total area of connected components above the background, the
  principal second moments of the flux and their ratio, eccentricity, solidity, axis lengths
  and extent of the brightest component (scikit-image ``regionprops``), the distance and flux
  ratio of the two brightest components, and the seven Hu moments (log-scaled);
* ``lbp``: histograms of uniform rotation-invariant local binary patterns (scikit-image) at
  radii 1, 2 and 3 px over the source's pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["MORPHOLOGY_GROUPS", "morphology_features", "morphology_names"]

#: the measurement groups, in the order their values are appended
MORPHOLOGY_GROUPS: tuple[str, ...] = ("radial", "angular", "moments", "lbp")

_ANNULI = 8
_HARMONICS = 4
_ANGLE_BINS = 36
_LBP_SCALES: tuple[tuple[int, int], ...] = ((8, 1), (8, 2), (16, 3))
# fmt: skip below: a table of feature names, one row per group as they are computed
_MOMENT_NAMES: tuple[str, ...] = (
    "log_components", "log_area", "log_major_moment", "log_minor_moment", "moment_ratio",
    "eccentricity", "solidity", "log_major_axis", "log_minor_axis", "extent",
    "log_pair_distance", "pair_flux_ratio",
    "hu1", "hu2", "hu3", "hu4", "hu5", "hu6", "hu7",
)  # fmt: skip


def _group_size(group: str) -> int:
    return {
        "radial": _ANNULI,
        "angular": (_ANNULI + 1) * _HARMONICS,
        "moments": len(_MOMENT_NAMES),
        "lbp": sum(points + 2 for points, _ in _LBP_SCALES),
    }[group]


def _check_groups(groups: Sequence[str]) -> tuple[str, ...]:
    unknown = [g for g in groups if g not in MORPHOLOGY_GROUPS]
    if unknown or not groups:
        raise ValueError(
            f"morphology groups must be a non-empty subset of {MORPHOLOGY_GROUPS}, got {groups}"
        )
    return tuple(groups)


def morphology_names(groups: Sequence[str] = MORPHOLOGY_GROUPS) -> tuple[str, ...]:
    """Return the names of the values :func:`morphology_features` returns for ``groups``.

    Examples
    --------
    >>> morphology_names(("radial",))[:2]
    ('radial_0', 'radial_1')
    >>> len(morphology_names())
    101
    """
    names: list[str] = []
    for group in _check_groups(groups):
        if group == "moments":
            names += [f"moments_{name}" for name in _MOMENT_NAMES]
        else:
            names += [f"{group}_{k}" for k in range(_group_size(group))]
    return tuple(names)


def _polar(image: np.ndarray, total: float) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.indices(image.shape, dtype=np.float64)
    centre_row = float((image * rows).sum() / total)
    centre_col = float((image * cols).sum() / total)
    radius = np.hypot(rows - centre_row, cols - centre_col)
    angle = np.arctan2(rows - centre_row, cols - centre_col)
    return radius, angle


def _harmonics(angle: np.ndarray, flux: np.ndarray) -> np.ndarray:
    bins = ((angle + np.pi) / (2 * np.pi) * _ANGLE_BINS).astype(np.int64) % _ANGLE_BINS
    profile = np.bincount(bins, weights=flux, minlength=_ANGLE_BINS)
    total = profile.sum()
    if total <= 0:
        return np.zeros(_HARMONICS)
    return np.abs(np.fft.rfft(profile))[1 : _HARMONICS + 1] / total


def _radial_and_angular(image: np.ndarray, total: float) -> tuple[np.ndarray, np.ndarray]:
    radius, angle = _polar(image, total)
    edges = np.r_[0.0, np.geomspace(2.0, 60.0, _ANNULI)]
    radial, angular = [], []
    for inner, outer in zip(edges[:-1], edges[1:], strict=True):
        ring = (radius >= inner) & (radius < outer)
        radial.append(image[ring].sum() / total)
        angular.append(_harmonics(angle[ring], image[ring]))
    angular.append(_harmonics(angle.ravel(), image.ravel()))
    return np.asarray(radial), np.concatenate(angular)


def _moments(image: np.ndarray) -> np.ndarray:
    import cv2
    from skimage.measure import label, regionprops

    values = np.zeros(len(_MOMENT_NAMES))
    regions = sorted(
        regionprops(label(image > 0), intensity_image=image),
        key=lambda region: -float(region.image_intensity.sum()),
    )
    values[0] = np.log1p(len(regions))
    values[1] = np.log1p(sum(region.area for region in regions))
    moments = cv2.moments(image.astype(np.float64))
    mu20, mu02, mu11 = (moments[k] / moments["m00"] for k in ("mu20", "mu02", "mu11"))
    spread = np.sqrt(((mu20 - mu02) / 2) ** 2 + mu11**2)
    major, minor = (mu20 + mu02) / 2 + spread, max((mu20 + mu02) / 2 - spread, 0.0)
    values[2:5] = np.log1p(major), np.log1p(minor), np.sqrt(minor / (major + 1e-12))
    brightest = regions[0]
    values[5:10] = (
        brightest.eccentricity,
        brightest.solidity,
        np.log1p(brightest.axis_major_length),
        np.log1p(brightest.axis_minor_length),
        brightest.extent,
    )
    if len(regions) > 1:
        first = np.asarray(regions[0].centroid_weighted)
        second = np.asarray(regions[1].centroid_weighted)
        values[10] = np.log1p(np.linalg.norm(first - second))
        values[11] = regions[1].image_intensity.sum() / regions[0].image_intensity.sum()
    hu = cv2.HuMoments(moments).ravel()
    values[12:] = -np.sign(hu) * np.log10(np.abs(hu) + 1e-30)
    return values


def _lbp(image: np.ndarray) -> np.ndarray:
    from skimage.feature import local_binary_pattern

    grey = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    source = image > 0
    histograms = []
    for points, radius in _LBP_SCALES:
        codes = local_binary_pattern(grey, points, radius, method="uniform")
        counts = np.bincount(codes[source].astype(np.int64), minlength=points + 2)
        histograms.append(counts / max(counts.sum(), 1))
    return np.concatenate(histograms)


def morphology_features(
    image: np.ndarray, *, groups: Sequence[str] = MORPHOLOGY_GROUPS
) -> np.ndarray:
    """Return the rotation-invariant shape measurements of a preprocessed cutout (float32).

    Parameters
    ----------
    image : ndarray, shape (H, W)
        A preprocessed image (background 0, source > 0, scaled to [0, 1]), as
        :func:`cosfire.preprocess` returns it.
    groups : sequence of str
        Which of :data:`MORPHOLOGY_GROUPS` to measure, in that order.

    Returns
    -------
    ndarray, shape (len(morphology_names(groups)),)
        All zeros for an empty image.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((64, 64), np.float32); image[30:34, 20:44] = 1.0
    >>> values = morphology_features(image)
    >>> values.shape, values.dtype
    ((101,), dtype('float32'))
    >>> bool(np.allclose(values, morphology_features(np.rot90(image)), atol=1e-4))
    True
    """
    groups = _check_groups(groups)
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"morphology needs a 2-D image, got shape {image.shape}")
    total = float(image.sum())
    if total <= 0:
        return np.zeros(len(morphology_names(groups)), dtype=np.float32)
    parts: dict[str, np.ndarray] = {}
    if "radial" in groups or "angular" in groups:
        parts["radial"], parts["angular"] = _radial_and_angular(image, total)
    if "moments" in groups:
        parts["moments"] = _moments(image)
    if "lbp" in groups:
        parts["lbp"] = _lbp(image)
    return np.concatenate([parts[group] for group in groups]).astype(np.float32)
