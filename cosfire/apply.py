"""Application of a COSFIRE filter to an image: the full response map.

For each rotation psi (and scale / reflection variant) every tuple's blurred response map is
shifted by (rho, phi + psi) and the shifted maps are combined by a weighted geometric mean,
computed in the log domain (a zero anywhere makes the output zero: the filter is an AND of its
parts). Rotation invariance is the pixel-wise maximum over psi.

:func:`apply` returns the whole map, for looking at. Descriptors need only each filter's
maximum, which :mod:`cosfire.descriptor` computes much faster on the maps' non-zero support.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cosfire.filter import CosfireFilter
from cosfire.plan import (
    DEFAULT_ROTATIONS_DEG,
    ApplicationPlan,
    ResponseMaps,
    compute_maps,
    make_plan,
)

__all__ = ["apply", "response_maps"]


def _shifted(
    values: np.ndarray, dy: int, dx: int, fill: float, *, wrap: bool = False
) -> np.ndarray:
    """Return ``out[y, x] = values[y + dy, x + dx]``, ``fill`` where that falls outside
    (or, with ``wrap``, read from the opposite edge)."""
    if wrap:
        return np.roll(values, (-dy, -dx), axis=(0, 1))
    height, width = values.shape
    out = np.full_like(values, fill)
    if abs(dy) >= height or abs(dx) >= width:
        return out
    out[max(0, -dy) : height - max(0, dy), max(0, -dx) : width - max(0, dx)] = values[
        max(0, dy) : height - max(0, -dy), max(0, dx) : width - max(0, -dx)
    ]
    return out


def _shifted_log(
    maps: ResponseMaps, index: int, dy: int, dx: int, fy: float, fx: float, wrap: bool
) -> np.ndarray:
    """Return the log of map ``index`` read at offset ``(dy + fy, dx + fx)`` (bilinear)."""
    if fy == 0 and fx == 0:
        return _shifted(maps.log_maps[index], dy, dx, -np.inf, wrap=wrap)
    interpolated = np.zeros(maps.maps.shape[1:])
    for row_step, row_weight in ((0, 1 - fy), (1, fy)):
        for col_step, col_weight in ((0, 1 - fx), (1, fx)):
            if row_weight * col_weight > 0:
                interpolated += (row_weight * col_weight) * _shifted(
                    maps.maps[index], dy + row_step, dx + col_step, 0.0
                )
    with np.errstate(divide="ignore"):
        return np.log(interpolated)


def response_maps(plan: ApplicationPlan, image: np.ndarray) -> np.ndarray:
    """Return the rotation-invariant response map of every filter in ``plan`` (float32).

    Parameters
    ----------
    plan : ApplicationPlan
        From :func:`cosfire.plan.make_plan`.
    image : ndarray, shape (H, W)

    Returns
    -------
    ndarray of float32, shape (F, H, W)
    """
    maps = compute_maps(plan, image)
    shape = maps.log_maps.shape[1:]
    n_variants, n_rotations = plan.tuple_dy.shape[1], plan.tuple_dy.shape[2]
    out = np.zeros((plan.n_filters,) + shape, dtype=np.float32)
    for f in range(plan.n_filters):
        parts = range(plan.tuple_start[f], plan.tuple_start[f + 1])
        best = np.full(shape, -np.inf)
        for v in range(n_variants):
            for r in range(n_rotations):
                combined = np.zeros(shape)
                for t in parts:
                    combined += plan.tuple_weight[t] * _shifted_log(
                        maps,
                        int(plan.tuple_map[t, v]),
                        int(plan.tuple_dy[t, v, r]),
                        int(plan.tuple_dx[t, v, r]),
                        float(plan.tuple_fy[t, v, r]),
                        float(plan.tuple_fx[t, v, r]),
                        bool(plan.filter_wrap[f]),
                    )
                np.maximum(best, combined, out=best)
        response = np.exp(best).astype(np.float32)
        if plan.t3[f] > 0 and response.max() > 0:
            response[response < plan.t3[f] * response.max()] = 0
        out[f] = response
    return out


def apply(
    cosfire_filter: CosfireFilter,
    image: np.ndarray,
    *,
    rotations: Sequence[float] = DEFAULT_ROTATIONS_DEG,
    scales: Sequence[float] = (1.0,),
    reflection: bool = False,
) -> np.ndarray:
    """Return the response map of ``cosfire_filter`` to ``image`` (float32, the image's shape).

    Parameters
    ----------
    cosfire_filter : CosfireFilter
        From :func:`cosfire.configure`.
    image : ndarray, shape (H, W)
        Grey image, float in [0, 1], preprocessed like the prototype.
    rotations : sequence of float
        Rotation offsets psi in degrees; the response is the maximum over them. Default 24
        steps of 15 degrees; ``(0,)`` switches rotation invariance off.
    scales : sequence of float
        Scale factors applied to every rho; the response is the maximum over them.
    reflection : bool
        Also respond to the mirror image of the prototype's pattern.

    Returns
    -------
    ndarray of float32, shape (H, W)
        The weighted geometric mean of the shifted, blurred tuple responses, maximised over
        rotations (and scales / reflection); values below ``t3 * max`` set to 0.

    Examples
    --------
    >>> import numpy as np
    >>> from cosfire.configure import configure
    >>> image = np.zeros((64, 64), np.float32); image[32, 32] = image[32, 44] = 1.0
    >>> pair = configure(image, sigma=2.0, rhos=(0, 12), t1=0.1)
    >>> turned = np.rot90(image)  # the same pair, rotated by 90 degrees
    >>> response = apply(pair, turned)
    >>> bool(response[31, 32] == response.max() > 0)  # found at the rotated core
    True
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"image must be a 2-D grey array, got shape {image.shape}")
    plan = make_plan(
        [cosfire_filter], rotations_deg=rotations, scales=scales, reflection=reflection
    )
    return response_maps(plan, image)[0]
