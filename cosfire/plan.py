"""Shared precomputation for applying many filters to many images.

An :class:`ApplicationPlan` flattens a list of filters into arrays: which blurred response
map each tuple reads, its weight, and its whole-pixel shift for every rotation (and scale /
reflection variant). Blurred maps are keyed by (channel, t1, blur kind, radius, sigma), so a
map is computed once per image however many tuples and filters of a bank use it.

Shift convention: for rotation ``psi`` the tuple (rho, phi) reads its blurred map at
``p + offset(rho, phi + psi)``, so that the value found at distance rho and angle phi + psi
from a point arrives at that point. With ``shift="round"`` the offset is rounded to whole
pixels (``"fix"``: truncated toward zero); with ``"bilinear"`` it is ``floor + fraction`` and
the map is read by bilinear interpolation between the four pixels around ``p + floor``.
Reflection maps phi to ``pi - phi``; a scale ``upsilon`` multiplies rho (and the blur radius
follows the scaled rho). A filter with ``border="wrap"`` reads across the image edges
circularly (``filter_wrap``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cosfire.blur import BlurKind, blur_radius, blur_sigma, blurred_response
from cosfire.filter import CosfireFilter
from cosfire.geometry import polar_offsets, polar_offsets_subpixel
from cosfire.input_filters import Channel, threshold_response

__all__ = [
    "DEFAULT_ROTATIONS_DEG",
    "ApplicationPlan",
    "MapKey",
    "ResponseMaps",
    "compute_maps",
    "make_plan",
]

#: 24 rotations in steps of 15 degrees (the B-COSFIRE choice; the radio papers don't say).
DEFAULT_ROTATIONS_DEG: tuple[float, ...] = tuple(float(d) for d in range(0, 360, 15))


@dataclass(frozen=True)
class MapKey:
    """Identifies one blurred response map: a channel thresholded at t1, blurred by radius.

    ``sigma`` is the blur Gaussian's sigma, None for the radius rule's ``radius / 3``.
    """

    channel: Channel
    t1: float
    blur: BlurKind
    radius: int
    sigma: float | None = None


@dataclass(frozen=True, eq=False)
class ApplicationPlan:
    """Filters flattened into arrays for fast application (see module docstring).

    Attributes
    ----------
    map_keys : tuple of MapKey
        The blurred maps the filters read, in map-index order.
    tuple_start : int64 (F + 1,)
        Tuples of filter f are ``tuple_start[f]:tuple_start[f + 1]``.
    tuple_weight : float64 (T,)
        Normalised geometric-mean weight of each tuple.
    tuple_map : int64 (T, V)
        Map index each tuple reads, per variant (scale x reflection).
    tuple_dy, tuple_dx : int64 (T, V, R)
        Row / column offset each tuple reads at, per variant and rotation (the whole-pixel
        part for bilinear shifts).
    tuple_fy, tuple_fx : float64 (T, V, R)
        Sub-pixel fractions in [0, 1) of the offsets (all 0 for whole-pixel shifts).
    tuple_whole : bool (T, V)
        Whether a tuple's offsets are whole pixels at every rotation of a variant.
    t3 : float64 (F,)
        Output threshold of each filter (response maps only).
    filter_wrap : bool (F,)
        Whether a filter's shifted maps wrap around the image edges (``border="wrap"``).
    """

    map_keys: tuple[MapKey, ...]
    tuple_start: np.ndarray
    tuple_weight: np.ndarray
    tuple_map: np.ndarray
    tuple_dy: np.ndarray
    tuple_dx: np.ndarray
    tuple_fy: np.ndarray
    tuple_fx: np.ndarray
    tuple_whole: np.ndarray
    t3: np.ndarray
    filter_wrap: np.ndarray
    rotations_deg: tuple[float, ...]
    scales: tuple[float, ...]
    reflection: bool

    @property
    def n_filters(self) -> int:
        """Number of filters in the plan."""
        return int(self.tuple_start.size - 1)

    @property
    def max_offset(self) -> int:
        """Largest shift in pixels along either axis."""
        if self.tuple_dy.size == 0:
            return 0
        return int(max(np.abs(self.tuple_dy).max(), np.abs(self.tuple_dx).max())) + 1


def _variants(scales: Sequence[float], reflection: bool) -> list[tuple[float, bool]]:
    return [
        (float(s), flip) for s in scales for flip in ((False, True) if reflection else (False,))
    ]


def make_plan(
    filters: Sequence[CosfireFilter],
    *,
    rotations_deg: Sequence[float] = DEFAULT_ROTATIONS_DEG,
    scales: Sequence[float] = (1.0,),
    reflection: bool = False,
) -> ApplicationPlan:
    """Return the application plan of ``filters`` for the given rotations and variants.

    Parameters
    ----------
    filters : sequence of CosfireFilter
    rotations_deg : sequence of float
        Rotation offsets psi in degrees (rotation invariance = max over these).
    scales : sequence of float
        Scale factors upsilon applied to every rho (scale invariance = max over these).
    reflection : bool
        Also apply each filter mirrored (phi -> pi - phi).

    Examples
    --------
    >>> from cosfire.filter import CosfireTuple, FilterParams
    >>> from cosfire.input_filters import DoGChannel
    >>> part = CosfireTuple(DoGChannel(2.0), 5.0, 0.0)
    >>> plan = make_plan([CosfireFilter((part,), FilterParams())], rotations_deg=(0, 90))
    >>> plan.tuple_dy[0, 0].tolist(), plan.tuple_dx[0, 0].tolist()
    ([0, -5], [5, 0])
    """
    if len(filters) == 0:
        raise ValueError("make_plan needs at least one filter")
    if len(rotations_deg) == 0 or len(scales) == 0:
        raise ValueError("rotations and scales must not be empty")
    if min(scales) <= 0:
        raise ValueError(f"scales must be > 0, got {list(scales)}")
    psi = np.deg2rad(np.asarray(rotations_deg, dtype=np.float64))
    variants = _variants(scales, reflection)
    map_index: dict[MapKey, int] = {}
    starts, weights, maps, dys, dxs, fys, fxs, t3 = [0], [], [], [], [], [], [], []
    wraps: list[bool] = []
    for bank_filter in filters:
        params = bank_filter.params
        weights.append(bank_filter.weights())
        t3.append(params.t3)
        wraps.append(params.border == "wrap")
        for part in bank_filter.tuples:
            part_maps, part_dy, part_dx, part_fy, part_fx = [], [], [], [], []
            for scale, flip in variants:
                rho = part.rho * scale
                phi = np.pi - part.phi if flip else part.phi
                blur = {"sigma0": params.sigma0, "alpha": params.alpha, "rule": params.blur_rule}
                radius = blur_radius(rho, **blur)
                sigma = blur_sigma(rho, **blur) if params.blur_rule == "exact" else None
                key = MapKey(part.channel, params.t1, params.blur, radius, sigma)
                part_maps.append(map_index.setdefault(key, len(map_index)))
                if params.shift == "bilinear":
                    dy, dx, fy, fx = polar_offsets_subpixel(rho, phi + psi)
                else:
                    dy, dx = polar_offsets(rho, phi + psi, rounding=params.shift)
                    fy = fx = np.zeros(psi.size)
                part_dy.append(dy)
                part_dx.append(dx)
                part_fy.append(fy)
                part_fx.append(fx)
            maps.append(part_maps)
            dys.append(part_dy)
            dxs.append(part_dx)
            fys.append(part_fy)
            fxs.append(part_fx)
        starts.append(starts[-1] + len(bank_filter.tuples))
    return ApplicationPlan(
        map_keys=tuple(map_index),
        tuple_start=np.asarray(starts, dtype=np.int64),
        tuple_weight=np.concatenate(weights).astype(np.float64),
        tuple_map=np.asarray(maps, dtype=np.int64),
        tuple_dy=np.asarray(dys, dtype=np.int64),
        tuple_dx=np.asarray(dxs, dtype=np.int64),
        tuple_fy=np.asarray(fys, dtype=np.float64),
        tuple_fx=np.asarray(fxs, dtype=np.float64),
        tuple_whole=np.all((np.asarray(fys) == 0) & (np.asarray(fxs) == 0), axis=2),
        t3=np.asarray(t3, dtype=np.float64),
        filter_wrap=np.asarray(wraps, dtype=bool),
        rotations_deg=tuple(float(d) for d in rotations_deg),
        scales=tuple(float(s) for s in scales),
        reflection=bool(reflection),
    )


@dataclass(frozen=True, eq=False)
class ResponseMaps:
    """The blurred response maps of one image, in the plan's map order.

    Attributes
    ----------
    maps : float64 (M, H, W)
        Every blurred map.
    log_maps : float64 (M, H, W)
        Natural log of every blurred map; ``-inf`` where the map is 0.
    block_any : bool (M, H + 1, W + 1)
        ``block_any[m, y + 1, x + 1]`` says whether any of the pixels ``(y..y+1, x..x+1)`` of
        map m is non-zero (a one-read zero test for bilinear look-ups).
    block_start, block_rows, block_cols : int64
        The blocks of map m with a non-zero pixel are ``block_start[m]:block_start[m + 1]``,
        given by their top-left corner ``(y, x)``, ``-1 <= y < H``, ``-1 <= x < W``, largest
        corner value first.
    block_max_log : float64 (B,)
        Log of the largest of each block's four pixels (an upper bound on a bilinear read).
    support_start : int64 (M + 1,)
        Non-zero pixels of map m are ``support_start[m]:support_start[m + 1]`` of the next two,
        largest value first (so that a search for the maximum can stop early).
    support_rows, support_cols : int64 (N,)
    map_max_log : float64 (M,)
        Largest log value of each map (``-inf`` for an all-zero map).
    """

    maps: np.ndarray
    log_maps: np.ndarray
    block_any: np.ndarray
    support_start: np.ndarray
    support_rows: np.ndarray
    support_cols: np.ndarray
    block_start: np.ndarray
    block_rows: np.ndarray
    block_cols: np.ndarray
    block_max_log: np.ndarray
    map_max_log: np.ndarray


def compute_maps(plan: ApplicationPlan, image: np.ndarray) -> ResponseMaps:
    """Return the blurred response maps that ``plan`` needs for ``image``.

    Each thresholded channel response is computed once and each blurred map once, whatever
    number of tuples read them.
    """
    grey = np.asarray(image, dtype=np.float32)
    thresholded: dict[tuple[Channel, float], np.ndarray] = {}
    maps = np.empty((len(plan.map_keys),) + grey.shape, dtype=np.float64)
    log_maps = np.empty_like(maps)
    block_any = np.zeros((len(plan.map_keys), grey.shape[0] + 1, grey.shape[1] + 1), dtype=bool)
    starts, rows, cols, max_logs = [0], [], [], []
    block_starts, block_rows, block_cols, block_max_logs = [0], [], [], []
    padded = np.zeros((grey.shape[0] + 2, grey.shape[1] + 2))
    for index, key in enumerate(plan.map_keys):
        source = thresholded.get((key.channel, key.t1))
        if source is None:
            source = threshold_response(key.channel.response(grey), key.t1)
            thresholded[(key.channel, key.t1)] = source
        if key.sigma is None:
            blurred = blurred_response(source, key.radius, key.blur)
        else:
            blurred = blurred_response(source, key.radius, key.blur, sigma=key.sigma)
        maps[index] = blurred
        positive = blurred > 0
        # pixel (r, c) is a corner of the blocks starting at (r-1..r, c-1..c), i.e. of
        # block_any entries (r..r+1, c..c+1)
        corner_of = block_any[index]
        corner_of[:-1, :-1] |= positive
        corner_of[1:, :-1] |= positive
        corner_of[:-1, 1:] |= positive
        corner_of[1:, 1:] |= positive
        corner_rows, corner_cols = np.nonzero(corner_of)
        # the largest of each block's four pixels: block (y, x) is padded[y+1..y+2, x+1..x+2]
        padded[1:-1, 1:-1] = blurred
        block_max = np.maximum(
            np.maximum(padded[:-1, :-1], padded[1:, :-1]),
            np.maximum(padded[:-1, 1:], padded[1:, 1:]),
        )[corner_rows, corner_cols]
        by_block_max = np.argsort(-block_max, kind="stable")
        block_rows.append(corner_rows[by_block_max] - 1)
        block_cols.append(corner_cols[by_block_max] - 1)
        block_max_logs.append(np.log(block_max[by_block_max]))
        block_starts.append(block_starts[-1] + corner_rows.size)
        log_map = log_maps[index]
        log_map.fill(-np.inf)
        np.log(blurred, out=log_map, where=positive)
        nonzero_rows, nonzero_cols = np.nonzero(positive)
        by_value = np.argsort(-blurred[nonzero_rows, nonzero_cols], kind="stable")
        nonzero_rows, nonzero_cols = nonzero_rows[by_value], nonzero_cols[by_value]
        rows.append(nonzero_rows)
        cols.append(nonzero_cols)
        starts.append(starts[-1] + nonzero_rows.size)
        # largest first: the map's maximum is its first support pixel
        max_logs.append(log_map[nonzero_rows[0], nonzero_cols[0]] if nonzero_rows.size else -np.inf)
    return ResponseMaps(
        maps=maps,
        log_maps=log_maps,
        block_any=block_any,
        support_start=np.asarray(starts, dtype=np.int64),
        support_rows=np.concatenate(rows).astype(np.int64),
        support_cols=np.concatenate(cols).astype(np.int64),
        block_start=np.asarray(block_starts, dtype=np.int64),
        block_rows=np.concatenate(block_rows).astype(np.int64),
        block_cols=np.concatenate(block_cols).astype(np.int64),
        block_max_log=np.concatenate(block_max_logs).astype(np.float64),
        map_max_log=np.asarray(max_logs, dtype=np.float64),
    )
