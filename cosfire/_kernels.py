"""Compiled inner loop: the maximum response of every filter of a plan on one image.

The response of a filter is zero wherever any tuple's shifted map is zero, so it can only be
positive at pixels where its sparsest tuple is non-zero. For every rotation the kernel walks
the non-zero pixels of that tuple's map (its *support*), looks the other tuples up at their
shifts (sparsest first, so that most candidates fail at the first look-up) and stops a
candidate as soon as an upper bound on its final value cannot beat the best value found so far.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["filter_maxima"]


@numba.njit(cache=True, nogil=True)
def filter_maxima(
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
    out: np.ndarray,
) -> None:
    """Write into ``out[f]`` the maximum over pixels, variants and rotations of filter f.

    Array meanings are those of :class:`cosfire.plan.ApplicationPlan` and
    :class:`cosfire.plan.ResponseMaps`; the result equals ``response_maps(...).max((1, 2))``.
    """
    height = log_maps.shape[1]
    width = log_maps.shape[2]
    n_variants = tuple_map.shape[1]
    n_rotations = tuple_dy.shape[2]
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
                for s in range(support_start[anchor_map], support_start[anchor_map + 1]):
                    row = support_rows[s]
                    col = support_cols[s]
                    y = row - anchor_dy
                    x = col - anchor_dx
                    if y < 0 or y >= height or x < 0 or x >= width:
                        continue
                    value = anchor_weight * log_maps[anchor_map, row, col]
                    if value + bound[1] <= best:
                        continue
                    alive = True
                    for k in range(1, n_parts):
                        t = order[k]
                        yy = y + tuple_dy[t, v, r]
                        xx = x + tuple_dx[t, v, r]
                        if yy < 0 or yy >= height or xx < 0 or xx >= width:
                            alive = False
                            break
                        looked_up = log_maps[tuple_map[t, v], yy, xx]
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
