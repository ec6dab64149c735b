"""Configuration of a COSFIRE filter from one prototype image and a point of interest.

For each radius rho the thresholded input responses are sampled on the circle of radius rho
around the centre, one sample per degree at whole-pixel positions. Along the circle the
maximum over channels is taken; its local maxima (a plateau counts once, at its middle; peaks
closer than ``eta`` merge into the stronger) are the tuple positions, and at each of them every
channel whose response is at least ``t2`` times the peak becomes a tuple
``(channel, rho, phi)``. ``rho = 0`` tests the centre itself. Differences smaller than
:data:`PEAK_RTOL` times the largest input response (values below :data:`PEAK_FLOOR` times it)
count as float round-off, not as peaks.

Two *conventions* name the application options of the authors' two MATLAB code bases
(:data:`cosfire.conventions.CONVENTIONS`): ``"cosfire2013"`` (the 2013 COSFIRE code the radio
papers build on) and ``"bcosfire"`` (the 2015 B-COSFIRE vessel code). Options passed explicitly
override them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from cosfire.blur import BlurKind, BlurRule
from cosfire.conventions import APPLICATION_DEFAULTS, CONVENTIONS, Convention
from cosfire.filter import (
    BorderRule,
    CosfireFilter,
    CosfireTuple,
    FilterParams,
    ShiftRule,
    WeightRule,
)
from cosfire.geometry import polar_offsets
from cosfire.input_filters import Channel, DoGChannel, GaborChannel, threshold_response

__all__ = [
    "DEFAULT_RHOS",
    "PEAK_FLOOR",
    "PEAK_RTOL",
    "FilterConfig",
    "NoTuplesError",
    "circular_peaks",
    "configure",
    "configure_from_channels",
    "configure_gabor",
    "configure_with",
    "dog_channels",
    "gabor_channels",
]

#: The radio papers' best setting: rho = 0:5:30 pixels.
DEFAULT_RHOS: tuple[float, ...] = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0)
_SAMPLES_PER_CIRCLE = 360

#: Float32 round-off in a flat input response (a few 1e-8 on images in [0, 1]) must not become
#: tuples when t1 = 0: along a circle, values below ``PEAK_FLOOR`` times the largest input
#: response count as 0, and a peak must exceed its neighbours by more than ``PEAK_RTOL`` times
#: it. Real near-ties on FIRST galaxies differ by a few 1e-6 of the maximum; they stay apart.
PEAK_RTOL = 1e-6
PEAK_FLOOR = 1e-5


class NoTuplesError(ValueError):
    """Raised when a prototype yields no tuple, so no filter can be configured."""


@dataclass(frozen=True)
class FilterConfig:
    """Every option of filter configuration, for configuring many filters alike (a bank).

    ``input_filter`` chooses DoG (``sigma``, ``polarity``, ``sigma_ratio``) or Gabor
    (``wavelengths``, ``orientations``, ``aspect``, ``bandwidth``, ``phases``) channels; the rest
    are shared. Defaults are the radio-galaxy papers' best setting: DoG sigma 5, rho 0:5:30,
    t1 0.05, sigma0 0.5, alpha 0.10, on-centre.

    ``convention`` (``"cosfire2013"`` or ``"bcosfire"``, see
    :data:`~cosfire.conventions.CONVENTIONS`) fills the application options ``blur``,
    ``blur_rule``, ``shift``, ``weighted``, ``weight_rule`` and ``border`` that are left as
    None; None without a convention means the defaults (max blur, radius rule, bilinear shifts,
    weighted with the radio rule, zero border). The filled-in
    values are stored, so ``dataclasses.replace(config, convention=...)`` keeps them: build a
    new config to change convention.

    Examples
    --------
    >>> config = FilterConfig(sigma=2.4, convention="bcosfire", border="zero")
    >>> config.blur, config.blur_rule, config.shift, config.weighted, config.border
    ('sum', 'exact', 'round', False, 'zero')
    >>> FilterConfig().shift
    'bilinear'
    """

    input_filter: Literal["dog", "gabor"] = "dog"
    sigma: float | tuple[float, ...] = 5.0
    polarity: Literal["on", "off", "both"] = "on"
    sigma_ratio: float = 0.5
    wavelengths: tuple[float, ...] = (8.0,)
    orientations: int = 12
    aspect: float = 0.5
    bandwidth: float = 1.0
    phases: tuple[float, ...] = (0.0,)
    rhos: tuple[float, ...] = DEFAULT_RHOS
    t1: float = 0.05
    t2: float = 0.75
    eta: float = math.pi / 8
    sigma0: float = 0.5
    alpha: float = 0.10
    blur: BlurKind | None = None
    weighted: bool | None = None
    weight_rule: WeightRule | None = None
    shift: ShiftRule | None = None
    blur_rule: BlurRule | None = None
    border: BorderRule | None = None
    convention: Convention | None = None

    def __post_init__(self) -> None:
        if self.convention is not None and self.convention not in CONVENTIONS:
            raise ValueError(
                f"convention must be one of {sorted(CONVENTIONS)} or None, got {self.convention!r}"
            )
        fill = CONVENTIONS[self.convention] if self.convention else APPLICATION_DEFAULTS
        for name in APPLICATION_DEFAULTS:
            if getattr(self, name) is None:
                object.__setattr__(self, name, fill[name])
        if self.input_filter not in ("dog", "gabor"):
            raise ValueError(f"input_filter must be 'dog' or 'gabor', got {self.input_filter!r}")
        if self.polarity not in ("on", "off", "both"):
            raise ValueError(f"polarity must be 'on', 'off' or 'both', got {self.polarity!r}")
        for name in ("sigma", "wavelengths", "phases", "rhos"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        if not self.rhos or min(self.rhos) < 0:
            raise ValueError(f"rhos must be a non-empty list of distances >= 0, got {self.rhos}")
        if not 0 < self.t2 <= 1:
            raise ValueError(f"t2 must lie in (0, 1], got {self.t2}")
        self.params()  # validates t1, sigma0, alpha, blur, weight_rule

    def params(self) -> FilterParams:
        """Return the application parameters of filters configured with this config."""
        return FilterParams(
            t1=self.t1,
            sigma0=self.sigma0,
            alpha=self.alpha,
            blur=self.blur,
            weighted=self.weighted,
            weight_rule=self.weight_rule,
            shift=self.shift,
            blur_rule=self.blur_rule,
            border=self.border,
        )

    def channels(self) -> tuple[Channel, ...]:
        """Return the input channels this config samples."""
        if self.input_filter == "dog":
            return dog_channels(self.sigma, polarity=self.polarity, sigma_ratio=self.sigma_ratio)
        return gabor_channels(
            self.wavelengths,
            orientations=self.orientations,
            aspect=self.aspect,
            bandwidth=self.bandwidth,
            phases=self.phases,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict (``blur_rule``, ``border`` and ``convention`` only when they
        differ from their defaults, so that configs that do not use them keep their bytes)."""
        spec = asdict(self)
        for key, value in spec.items():
            if isinstance(value, tuple):
                spec[key] = list(value)
        for key, default in (("blur_rule", "radius"), ("border", "zero"), ("convention", None)):
            if spec[key] == default:
                del spec[key]
        return spec

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> FilterConfig:
        """Inverse of :meth:`to_dict`."""
        fields = dict(spec)
        for key in ("wavelengths", "phases", "rhos"):
            if key in fields:
                fields[key] = tuple(fields[key])
        if isinstance(fields.get("sigma"), list):
            fields["sigma"] = tuple(fields["sigma"])
        return cls(**fields)


def dog_channels(
    sigma: float | Sequence[float],
    *,
    polarity: Literal["on", "off", "both"] = "on",
    sigma_ratio: float = 0.5,
) -> tuple[DoGChannel, ...]:
    """Return DoG channels for every sigma and polarity requested.

    Examples
    --------
    >>> [c.polarity for c in dog_channels(5.0, polarity="both")]
    ['on', 'off']
    """
    sigmas = (sigma,) if np.isscalar(sigma) else tuple(sigma)
    if polarity not in ("on", "off", "both"):
        raise ValueError(f"polarity must be 'on', 'off' or 'both', got {polarity!r}")
    polarities = ("on", "off") if polarity == "both" else (polarity,)
    return tuple(DoGChannel(float(s), p, sigma_ratio) for s in sigmas for p in polarities)


def gabor_channels(
    wavelengths: Sequence[float],
    *,
    orientations: int = 12,
    aspect: float = 0.5,
    bandwidth: float = 1.0,
    phases: Sequence[float] = (0.0,),
) -> tuple[GaborChannel, ...]:
    """Return Gabor channels for every wavelength, phase and ``orientations`` angles in [0, pi).

    Examples
    --------
    >>> len(gabor_channels([4.0, 8.0], orientations=6))
    12
    """
    if orientations < 1:
        raise ValueError(f"orientations must be >= 1, got {orientations}")
    thetas = [math.pi * i / orientations for i in range(orientations)]
    return tuple(
        GaborChannel(float(w), theta, aspect, bandwidth, float(ph))
        for w in wavelengths
        for ph in phases
        for theta in thetas
    )


def circular_peaks(
    signal: np.ndarray,
    *,
    rtol: float = PEAK_RTOL,
    floor: float = PEAK_FLOOR,
    scale: float | None = None,
) -> np.ndarray:
    """Return indices of the local maxima (> 0) of a circular 1-D signal.

    Values up to ``floor * scale`` count as 0 and neighbours within ``rtol * scale`` of each
    other as equal (float round-off); ``scale`` defaults to the signal's maximum. A plateau
    counts once, at its middle (rounded down). A signal that is constant and positive has one
    peak, at index 0.

    Parameters
    ----------
    signal : ndarray, shape (N,)
    rtol, floor : float
        Relative tolerances (0 compares exactly).
    scale : float, optional
        The value the tolerances are relative to, e.g. the largest input response of a
        prototype, so that round-off ripples in an otherwise empty circle are not peaks.

    Examples
    --------
    >>> circular_peaks(np.array([0, 1, 0, 2, 2, 2, 0, 0])).tolist()
    [1, 4]
    >>> circular_peaks(np.array([3, 0, 0, 1])).tolist()  # wraps around
    [0]
    >>> circular_peaks(np.array([0, 1, 1 + 1e-12, 1, 0, 2e-12, 0, 0])).tolist()  # round-off
    [2]
    """
    values = np.asarray(signal, dtype=np.float64)
    size = values.size
    if size == 0 or values.max() <= 0:
        return np.empty(0, dtype=np.int64)
    reference = values.max() if scale is None else float(scale)
    values = np.where(values > floor * reference, values, 0.0)
    tolerance = rtol * reference
    # joined[i]: samples i and i + 1 (circularly) differ by round-off only
    joined = np.abs(values - np.roll(values, -1)) <= tolerance
    if joined.all():
        return np.zeros(1, dtype=np.int64) if values.max() > 0 else np.empty(0, dtype=np.int64)
    start = (int(np.flatnonzero(~joined)[0]) + 1) % size  # a plateau begins here
    rolled = np.roll(values, -start)
    run_starts = np.flatnonzero(np.r_[True, ~np.roll(joined, -start)[:-1]])
    run_lengths = np.diff(np.r_[run_starts, size])
    run_values = np.maximum.reduceat(rolled, run_starts)
    left = np.roll(run_values, 1)
    right = np.roll(run_values, -1)
    is_peak = (run_values > left) & (run_values > right) & (run_values > 0)
    middles = run_starts[is_peak] + (run_lengths[is_peak] - 1) // 2
    return np.sort((middles + start) % size).astype(np.int64)


def _merge_close_peaks(peaks: np.ndarray, strengths: np.ndarray, min_gap: int) -> np.ndarray:
    """Keep the strongest peaks so that kept ones are at least ``min_gap`` samples apart."""
    kept: list[int] = []
    for index in np.argsort(-strengths[peaks], kind="stable"):
        candidate = int(peaks[index])
        gaps = [
            min(abs(candidate - other), _SAMPLES_PER_CIRCLE - abs(candidate - other))
            for other in kept
        ]
        if all(gap >= min_gap for gap in gaps):
            kept.append(candidate)
    return np.array(sorted(kept), dtype=np.int64)


def _validate_prototype(prototype: np.ndarray, center: tuple[int, int] | None) -> tuple[int, int]:
    if prototype.ndim != 2:
        raise ValueError(f"prototype must be a 2-D grey image, got shape {prototype.shape}")
    if not np.all(np.isfinite(prototype)):
        raise ValueError("prototype contains NaN or inf; replace them (e.g. with 0) first")
    height, width = prototype.shape
    row, col = (height // 2, width // 2) if center is None else (int(center[0]), int(center[1]))
    if not (0 <= row < height and 0 <= col < width):
        raise ValueError(f"center {(row, col)} lies outside the {height}x{width} prototype")
    return row, col


def configure_from_channels(
    prototype: np.ndarray,
    center: tuple[int, int] | None,
    channels: Sequence[Channel],
    *,
    rhos: Sequence[float] = DEFAULT_RHOS,
    t2: float = 0.75,
    eta: float = math.pi / 8,
    params: FilterParams | None = None,
    label: str | None = None,
    source: str | None = None,
    configured_with: dict[str, Any] | None = None,
) -> CosfireFilter:
    """Configure a filter on ``prototype`` around ``center`` from arbitrary input channels.

    :func:`configure` (DoG) and :func:`configure_gabor` are the usual entry points; this is
    the shared engine behind them.

    Raises
    ------
    NoTuplesError
        If no channel responds anywhere on the circles.
    """
    params = FilterParams() if params is None else params
    image = np.asarray(prototype, dtype=np.float32)
    row, col = _validate_prototype(image, center)
    height, width = image.shape
    channels = tuple(channels)
    responses = np.stack(
        [threshold_response(channel.response(image), params.t1) for channel in channels]
    )
    largest_response = float(responses.max())
    angles = np.deg2rad(np.arange(_SAMPLES_PER_CIRCLE, dtype=np.float64))
    min_gap = max(1, math.ceil(math.degrees(eta) - 1e-9))
    parts: list[CosfireTuple] = []
    for rho in sorted(float(r) for r in rhos):
        if rho == 0:
            values = responses[:, row, col]
            peak = values.max()
            if peak > PEAK_FLOOR * largest_response:
                parts.extend(
                    CosfireTuple(channels[c], 0.0, 0.0) for c in np.flatnonzero(values >= t2 * peak)
                )
            continue
        dy, dx = polar_offsets(rho, angles)
        rows, cols = row + dy, col + dx
        inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        samples = np.zeros((len(channels), angles.size), dtype=np.float32)
        samples[:, inside] = responses[:, rows[inside], cols[inside]]
        strongest = samples.max(axis=0)
        peaks = _merge_close_peaks(
            circular_peaks(strongest, scale=largest_response), strongest, min_gap
        )
        for peak in peaks:
            for c in np.flatnonzero(samples[:, peak] >= t2 * strongest[peak]):
                parts.append(CosfireTuple(channels[c], rho, float(angles[peak])))
    if not parts:
        raise NoTuplesError(
            f"the prototype{f' {source!r}' if source else ''} yields no tuple at centre "
            f"{(row, col)}: no input response survives t1={params.t1} on the circles "
            f"rho={list(rhos)}; lower t1, change sigma, or choose another prototype or centre"
        )
    return CosfireFilter(
        tuples=tuple(parts),
        params=params,
        center=(row, col),
        label=label,
        source=source,
        configured_with=dict(configured_with or {}),
    )


def configure(
    prototype: np.ndarray,
    center: tuple[int, int] | None = None,
    *,
    sigma: float | Sequence[float] = 5.0,
    polarity: Literal["on", "off", "both"] = "on",
    sigma_ratio: float = 0.5,
    rhos: Sequence[float] = DEFAULT_RHOS,
    t1: float = 0.05,
    t2: float = 0.75,
    eta: float = math.pi / 8,
    sigma0: float = 0.5,
    alpha: float = 0.10,
    blur: BlurKind | None = None,
    weighted: bool | None = None,
    weight_rule: WeightRule | None = None,
    shift: ShiftRule | None = None,
    blur_rule: BlurRule | None = None,
    border: BorderRule | None = None,
    convention: Convention | None = None,
    label: str | None = None,
    source: str | None = None,
) -> CosfireFilter:
    """Return a COSFIRE filter with DoG input configured on ``prototype`` around ``center``.

    Parameters
    ----------
    prototype : ndarray, shape (H, W)
        Grey prototype image, float in [0, 1].
    center : (row, col), optional
        Point of interest; default the image centre ``(H // 2, W // 2)``.
    sigma : float or sequence of float
        DoG outer sigma(s), pixels.
    polarity : {"on", "off", "both"}
        DoG polarity; "both" samples on- and off-centre channels.
    sigma_ratio : float
        Inner / outer sigma of the DoG.
    rhos : sequence of float
        Circle radii in pixels (0 = the centre itself).
    t1 : float
        Input responses below ``t1 * max`` are set to 0.
    t2 : float
        At a peak, channels with at least ``t2`` times the peak value become tuples.
    eta : float
        Peaks closer than ``eta`` radians on a circle merge into the stronger one.
    sigma0, alpha : float
        Blur of a tuple at distance rho (see ``blur_rule``).
    blur : {"max", "sum"}, optional
        Blur kind (see :mod:`cosfire.blur`); default ``"max"``.
    weighted : bool, optional
        Weighted (2013 paper, the default) or plain geometric mean.
    weight_rule : {"radio", "half"}, optional
        Width of the tuple weights (see :class:`~cosfire.filter.FilterParams`); default
        ``"radio"``.
    shift : {"bilinear", "round", "fix"}, optional
        Sub-pixel bilinear shifts (the default), or whole pixels rounded (B-COSFIRE code) or
        truncated toward zero (2013 code).
    blur_rule : {"radius", "exact"}, optional
        Blur radius ``round((sigma0 + alpha * rho) / 2)`` px with sigma ``radius / 3`` (the
        default), or sigma ``(sigma0 + alpha * rho) / 6`` (B-COSFIRE code).
    border : {"zero", "wrap"}, optional
        Shifted maps read 0 beyond the image (the default) or wrap around (B-COSFIRE code).
    convention : {"cosfire2013", "bcosfire"}, optional
        The authors' MATLAB code base whose application options fill those left as None
        (see :data:`~cosfire.conventions.CONVENTIONS`); options passed explicitly override it.
    label, source : str, optional
        Class and origin of the prototype, kept in the filter.

    Returns
    -------
    CosfireFilter

    Raises
    ------
    NoTuplesError
        If the prototype yields no tuple.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((64, 64), np.float32)
    >>> image[32, 32] = image[32, 44] = 1.0  # a core and a blob 12 px to its right
    >>> bank_filter = configure(image, sigma=2.0, rhos=(0, 12), t1=0.1)
    >>> [(part.rho, round(float(np.degrees(part.phi)))) for part in bank_filter.tuples]
    [(0.0, 0), (12.0, 0)]
    >>> vessel = configure(image, sigma=2.0, rhos=(0, 12), t1=0.1, convention="bcosfire")
    >>> vessel.params.blur, vessel.params.blur_rule, vessel.params.shift, vessel.params.border
    ('sum', 'exact', 'round', 'wrap')
    """
    config = FilterConfig(
        input_filter="dog",
        sigma=tuple(sigma) if not np.isscalar(sigma) else float(sigma),
        polarity=polarity,
        sigma_ratio=sigma_ratio,
        rhos=tuple(float(r) for r in rhos),
        t1=t1,
        t2=t2,
        eta=eta,
        sigma0=sigma0,
        alpha=alpha,
        blur=blur,
        weighted=weighted,
        weight_rule=weight_rule,
        shift=shift,
        blur_rule=blur_rule,
        border=border,
        convention=convention,
    )
    return configure_with(prototype, center, config, label=label, source=source)


def configure_gabor(
    prototype: np.ndarray,
    center: tuple[int, int] | None = None,
    *,
    wavelengths: Sequence[float] = (8.0,),
    orientations: int = 12,
    aspect: float = 0.5,
    bandwidth: float = 1.0,
    phases: Sequence[float] = (0.0,),
    rhos: Sequence[float] = DEFAULT_RHOS,
    t1: float = 0.05,
    t2: float = 0.75,
    eta: float = math.pi / 8,
    sigma0: float = 0.5,
    alpha: float = 0.10,
    blur: BlurKind | None = None,
    weighted: bool | None = None,
    weight_rule: WeightRule | None = None,
    shift: ShiftRule | None = None,
    blur_rule: BlurRule | None = None,
    border: BorderRule | None = None,
    convention: Convention | None = None,
    label: str | None = None,
    source: str | None = None,
) -> CosfireFilter:
    """Return a COSFIRE filter with Gabor input, configured like :func:`configure`.

    The channels are Gabor filters of every ``wavelengths`` x ``phases`` x ``orientations``
    (equally spaced in [0, pi)); the rest of the parameters mean what they mean in
    :func:`configure`.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((64, 64), np.float32); image[20:44, 32] = 1.0  # a vertical bar
    >>> bar = configure_gabor(image, wavelengths=(6.0,), orientations=4, rhos=(0, 6), t1=0.2)
    >>> centre = bar.tuples[0]  # at the centre the vertical-line channel answers
    >>> centre.rho, round(float(np.degrees(centre.channel.orientation)))
    (0.0, 0)
    """
    config = FilterConfig(
        input_filter="gabor",
        wavelengths=tuple(float(w) for w in wavelengths),
        orientations=orientations,
        aspect=aspect,
        bandwidth=bandwidth,
        phases=tuple(float(p) for p in phases),
        rhos=tuple(float(r) for r in rhos),
        t1=t1,
        t2=t2,
        eta=eta,
        sigma0=sigma0,
        alpha=alpha,
        blur=blur,
        weighted=weighted,
        weight_rule=weight_rule,
        shift=shift,
        blur_rule=blur_rule,
        border=border,
        convention=convention,
    )
    return configure_with(prototype, center, config, label=label, source=source)


def configure_with(
    prototype: np.ndarray,
    center: tuple[int, int] | None,
    config: FilterConfig,
    *,
    label: str | None = None,
    source: str | None = None,
) -> CosfireFilter:
    """Return a filter configured on ``prototype`` with every option taken from ``config``.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((64, 64), np.float32); image[32, 32] = 1.0
    >>> len(configure_with(image, None, FilterConfig(sigma=2.0, rhos=(0,))).tuples)
    1
    """
    return configure_from_channels(
        prototype,
        center,
        config.channels(),
        rhos=config.rhos,
        t2=config.t2,
        eta=config.eta,
        params=config.params(),
        label=label,
        source=source,
        configured_with=config.to_dict(),
    )
