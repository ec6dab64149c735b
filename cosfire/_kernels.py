"""Compiled inner loop: the maximum response of every filter of a plan on one image.

The response of a filter is zero wherever any tuple's shifted map is zero, so it can only be
positive at pixels where its sparsest tuple is non-zero. For every rotation the kernel walks
the non-zero pixels of that tuple's map (its *support*; for a sub-pixel shift, every pixel
whose four interpolation neighbours include one), looks the other tuples up at their shifts
(sparsest first, so that most candidates fail at the first look-up) and stops a candidate as
soon as an upper bound on its final value cannot beat the best value found so far.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["filter_maxima"]


@numba.njit(cache=True, nogil=True, inline="always")
def _read_log(maps, log_maps, m, y, x, fy, fx, height, width):  # pragma: no cover - compiled
    """Log of map ``m`` at ``(y + fy, x + fx)`` (bilinear), ``-inf`` where zero or outside."""
    if fy == 0.0 and fx == 0.0:
        if y < 0 or y >= height or x < 0 or x >= width:
            return -np.inf
        return log_maps[m, y, x]
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
    support_start: np.ndarray,
    support_rows: np.ndarray,
    support_cols: np.ndarray,
    map_max_log: np.ndarray,
    tuple_start: np.ndarray,
    tuple_weight: np.ndarray,
    tuple_map: np.ndarray,
    tuple_dy: np.ndarray,
    tuple_dx: np.ndarray,
    tuple_fy: np.ndarray,
    tuple_fx: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled; checked against the dense path in the tests
    """Write into ``out[f]`` the maximum over pixels, variants and rotations of filter f.

    Array meanings are those of :class:`cosfire.plan.ApplicationPlan` and
    :class:`cosfire.plan.ResponseMaps`; the result equals ``response_maps(...).max((1, 2))``.
    """
    height = log_maps.shape[1]
    width = log_maps.shape[2]
    n_variants = tuple_map.shape[1]
    n_rotations = tuple_dy.shape[2]
    visited = np.zeros((height, width), dtype=np.int64)
    whole_plan = not (np.any(tuple_fy != 0.0) or np.any(tuple_fx != 0.0))
    token = 0
    for f in range(tuple_start.size - 1):
        first = tuple_start[f]
        n_parts = tuple_start[f + 1] - first
        best = -np.inf
        counts = np.empty(n_parts, dtype=np.int64)
        bound = np.empty(n_parts + 1, dtype=np.float64)
        for v in range(n_variants):
            empty = False
            for k in range(n_parts):
                m = tuple_map[first + k, v]
                counts[k] = support_start[m + 1] - support_start[m]
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
                whole_pixel = anchor_fy == 0.0 and anchor_fx == 0.0
                token += 1
                for corner in range(1 if whole_pixel else 4):
                    row_step = corner >> 1
                    col_step = corner & 1
                    corner_weight = (anchor_fy if row_step else 1.0 - anchor_fy) * (
                        anchor_fx if col_step else 1.0 - anchor_fx
                    )
                    if corner_weight <= 0.0:
                        continue
                    for s in range(support_start[anchor_map], support_start[anchor_map + 1]):
                        y = support_rows[s] - anchor_dy - row_step
                        x = support_cols[s] - anchor_dx - col_step
                        if y < 0 or y >= height or x < 0 or x >= width:
                            continue
                        if not whole_pixel:
                            if visited[y, x] == token:
                                continue
                            visited[y, x] = token
                        if whole_pixel:
                            value = (
                                anchor_weight * log_maps[anchor_map, y + anchor_dy, x + anchor_dx]
                            )
                        else:
                            value = anchor_weight * _read_log(
                                maps,
                                log_maps,
                                anchor_map,
                                y + anchor_dy,
                                x + anchor_dx,
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
                            if whole_plan:
                                yy = y + tuple_dy[t, v, r]
                                xx = x + tuple_dx[t, v, r]
                                if yy < 0 or yy >= height or xx < 0 or xx >= width:
                                    alive = False
                                    break
                                looked_up = log_maps[tuple_map[t, v], yy, xx]
                            else:
                                looked_up = _read_log(
                                    maps,
                                    log_maps,
                                    tuple_map[t, v],
                                    y + tuple_dy[t, v, r],
                                    x + tuple_dx[t, v, r],
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
        out[f] = np.exp(best) if best > -np.inf else 0.0
