"""Compiled inner loop: the maximum response of every filter of a plan on one image.

The response of a filter is zero wherever any tuple's shifted map is zero, so it can only be
positive where its sparsest tuple is non-zero. For every rotation the kernel walks the pixels
where that tuple (the *anchor*) is non-zero: the non-zero pixels of its map for whole-pixel
shifts, or the 2x2 blocks holding a non-zero pixel for sub-pixel (bilinear) shifts. At each
candidate it looks the other tuples up at their shifts (sparsest first, so that most
candidates fail at the first look-up) and stops as soon as an upper bound on the candidate's
final value cannot beat the best value found so far. Filters with ``border="wrap"`` (whole-pixel
shifts only) read across the image edges circularly, as :func:`cosfire.apply.apply` does.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["filter_maxima"]


@numba.njit(cache=True, nogil=True, inline="always")
def _read_log(
    maps, log_maps, block_any, m, y, x, fy, fx, height, width
):  # pragma: no cover - compiled
    """Log of map ``m`` at ``(y + fy, x + fx)`` (bilinear), ``-inf`` where zero or outside."""
    if fy == 0.0 and fx == 0.0:
        if y < 0 or y >= height or x < 0 or x >= width:
            return -np.inf
        return log_maps[m, y, x]
    # block_any[m, y + 1, x + 1]: is any of the four pixels (y..y+1, x..x+1) non-zero?
    if y < -1 or y >= height or x < -1 or x >= width or not block_any[m, y + 1, x + 1]:
        return -np.inf
    total = 0.0
    for corner in range(4):
        row_step = corner >> 1
        col_step = corner & 1
        weight = (fy if row_step else 1.0 - fy) * (fx if col_step else 1.0 - fx)
        yy = y + row_step
        xx = x + col_step
        if weight > 0.0 and 0 <= yy < height and 0 <= xx < width:
            total += weight * maps[m, yy, xx]
    if total > 0.0:
        return math.log(total)
    return -np.inf


@numba.njit(cache=True, nogil=True)
def filter_maxima(
    maps: np.ndarray,
    log_maps: np.ndarray,
    block_any: np.ndarray,
    support_start: np.ndarray,
    support_rows: np.ndarray,
    support_cols: np.ndarray,
    block_start: np.ndarray,
    block_rows: np.ndarray,
    block_cols: np.ndarray,
    block_max_log: np.ndarray,
    map_max_log: np.ndarray,
    tuple_start: np.ndarray,
    tuple_weight: np.ndarray,
    tuple_map: np.ndarray,
    tuple_whole: np.ndarray,
    tuple_dy: np.ndarray,
    tuple_dx: np.ndarray,
    tuple_fy: np.ndarray,
    tuple_fx: np.ndarray,
    filter_wrap: np.ndarray,
    out: np.ndarray,
    out_where: np.ndarray,
) -> None:  # pragma: no cover - compiled; checked against the dense path in the tests
    """Write into ``out[f]`` the maximum over pixels, variants and rotations of filter f.

    Array meanings are those of :class:`cosfire.plan.ApplicationPlan` and
    :class:`cosfire.plan.ResponseMaps`; the result equals ``response_maps(...).max((1, 2))``.
    ``out_where[f]`` (int64, 4 columns) receives where that maximum was first reached:
    variant, rotation index, row and column of the filter's centre (all -1 where the filter
    does not respond). Recording it costs a few stores per improvement of the maximum.
    """
    height = log_maps.shape[1]
    width = log_maps.shape[2]
    n_variants = tuple_map.shape[1]
    n_rotations = tuple_dy.shape[2]
    for f in range(tuple_start.size - 1):
        first = tuple_start[f]
        n_parts = tuple_start[f + 1] - first
        wrap = filter_wrap[f]
        best = -np.inf
        out_where[f, 0] = -1
        out_where[f, 1] = -1
        out_where[f, 2] = -1
        out_where[f, 3] = -1
        counts = np.empty(n_parts, dtype=np.int64)
        bound = np.empty(n_parts + 1, dtype=np.float64)
        for v in range(n_variants):
            empty = False
            for k in range(n_parts):
                m = tuple_map[first + k, v]
                if tuple_whole[first + k, v]:
                    counts[k] = support_start[m + 1] - support_start[m]
                else:
                    counts[k] = block_start[m + 1] - block_start[m]
                if counts[k] == 0:
                    empty = True
            if empty:
                continue
            order = np.argsort(counts, kind="mergesort") + first
            # bound[k]: the most that tuples order[k:] can still add to a candidate's log value
            bound[n_parts] = 0.0
            for k in range(n_parts - 1, -1, -1):
                t = order[k]
                bound[k] = bound[k + 1] + tuple_weight[t] * map_max_log[tuple_map[t, v]]
            anchor = order[0]
            anchor_map = tuple_map[anchor, v]
            anchor_weight = tuple_weight[anchor]
            for r in range(n_rotations):
                anchor_dy = tuple_dy[anchor, v, r]
                anchor_dx = tuple_dx[anchor, v, r]
                anchor_fy = tuple_fy[anchor, v, r]
                anchor_fx = tuple_fx[anchor, v, r]
                anchor_whole = anchor_fy == 0.0 and anchor_fx == 0.0
                if anchor_whole:
                    first_site = support_start[anchor_map]
                    last_site = support_start[anchor_map + 1]
                    site_rows = support_rows
                    site_cols = support_cols
                else:
                    first_site = block_start[anchor_map]
                    last_site = block_start[anchor_map + 1]
                    site_rows = block_rows
                    site_cols = block_cols
                for s in range(first_site, last_site):
                    # sites come largest first: once a site's upper bound cannot beat the
                    # best value, no later site of this rotation can either
                    if anchor_whole:
                        value = anchor_weight * log_maps[anchor_map, site_rows[s], site_cols[s]]
                        if value + bound[1] <= best:
                            break
                    elif anchor_weight * block_max_log[s] + bound[1] <= best:
                        break
                    y = site_rows[s] - anchor_dy
                    x = site_cols[s] - anchor_dx
                    if wrap:  # whole-pixel shifts only (FilterParams refuses bilinear)
                        y %= height
                        x %= width
                    elif y < 0 or y >= height or x < 0 or x >= width:
                        continue
                    if not anchor_whole:
                        value = anchor_weight * _read_log(
                            maps,
                            log_maps,
                            block_any,
                            anchor_map,
                            site_rows[s],
                            site_cols[s],
                            anchor_fy,
                            anchor_fx,
                            height,
                            width,
                        )
                    if value + bound[1] <= best:
                        continue
                    alive = True
                    for k in range(1, n_parts):
                        t = order[k]
                        yy = y + tuple_dy[t, v, r]
                        xx = x + tuple_dx[t, v, r]
                        if tuple_whole[t, v]:
                            if wrap:
                                yy %= height
                                xx %= width
                            elif yy < 0 or yy >= height or xx < 0 or xx >= width:
                                alive = False
                                break
                            looked_up = log_maps[tuple_map[t, v], yy, xx]
                        else:
                            looked_up = _read_log(
                                maps,
                                log_maps,
                                block_any,
                                tuple_map[t, v],
                                yy,
                                xx,
                                tuple_fy[t, v, r],
                                tuple_fx[t, v, r],
                                height,
                                width,
                            )
                        if looked_up == -np.inf:
                            alive = False
                            break
                        value += tuple_weight[t] * looked_up
                        if value + bound[k + 1] <= best:
                            alive = False
                            break
                    if alive and value > best:
                        best = value
                        out_where[f, 0] = v
                        out_where[f, 1] = r
                        out_where[f, 2] = y
                        out_where[f, 3] = x
        out[f] = np.exp(best) if best > -np.inf else 0.0
