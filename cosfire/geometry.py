"""Pixel geometry shared by configuration and application: rounding and polar offsets.

Angles are counter-clockwise from the x axis with y pointing *up*, as in the COSFIRE papers,
while image rows grow *downwards*: the point at distance ``rho`` and angle ``phi`` from
(row, col) is ``(row - rho sin phi, col + rho cos phi)``. Offsets are rounded to whole pixels
(as the reference code does) with halves away from zero after snapping to 1e-9, so that two
angles a quarter-turn apart always round to rotated copies of each other; or truncated toward
zero (MATLAB ``fix``, the 2013 COSFIRE code), after the same snapping so that an offset that is
whole in exact arithmetic (``10 sin 30deg = 4.999...``) stays whole.
"""

from __future__ import annotations

import numpy as np

__all__ = ["polar_offsets", "polar_offsets_subpixel", "round_half_away", "truncate_toward_zero"]


def round_half_away(values: np.ndarray | float) -> np.ndarray:
    """Round to integers with halves away from zero (MATLAB's ``round``), as int64.

    Examples
    --------
    >>> round_half_away(np.array([0.5, 2.5, -2.5, 1.4, 2.4999999999999996])).tolist()
    [1, 3, -3, 1, 3]
    """
    snapped = np.round(np.asarray(values, dtype=np.float64), 9)
    return (np.sign(snapped) * np.floor(np.abs(snapped) + 0.5)).astype(np.int64)


def truncate_toward_zero(values: np.ndarray | float) -> np.ndarray:
    """Truncate toward zero (MATLAB's ``fix``) after snapping to 1e-9, as int64.

    Examples
    --------
    >>> truncate_toward_zero(np.array([2.7, -2.7, 4.999999999999999, -0.5])).tolist()
    [2, -2, 5, 0]
    """
    return np.trunc(np.round(np.asarray(values, dtype=np.float64), 9)).astype(np.int64)


def polar_offsets(
    rho: np.ndarray | float, phi: np.ndarray | float, *, rounding: str = "round"
) -> tuple[np.ndarray, np.ndarray]:
    """Return (row, column) pixel offsets of the points at distance ``rho``, angle ``phi``.

    ``rounding`` is ``"round"`` (halves away from zero) or ``"fix"`` (toward zero).

    Examples
    --------
    >>> dy, dx = polar_offsets(np.array([5.0, 5.0]), np.array([0.0, np.pi / 2]))
    >>> dy.tolist(), dx.tolist()
    ([0, -5], [5, 0])
    >>> [v.item() for v in polar_offsets(3.0, np.pi / 6, rounding="fix")]  # (-1.5, 2.598)
    [-1, 2]
    """
    if rounding not in ("round", "fix"):
        raise ValueError(f"rounding must be 'round' or 'fix', got {rounding!r}")
    to_pixels = round_half_away if rounding == "round" else truncate_toward_zero
    rho = np.asarray(rho, dtype=np.float64)
    phi = np.asarray(phi, dtype=np.float64)
    return to_pixels(-rho * np.sin(phi)), to_pixels(rho * np.cos(phi))


def polar_offsets_subpixel(
    rho: np.ndarray | float, phi: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return exact offsets split into whole pixels (floor, int64) and fractions in [0, 1).

    Fractions within 1e-9 of a whole pixel are snapped to it, so that offsets that are whole
    in exact arithmetic need one pixel, not four.

    Examples
    --------
    >>> row, col, row_fraction, col_fraction = polar_offsets_subpixel(2.0, np.pi / 4)
    >>> row.item(), col.item(), round(row_fraction.item(), 4), round(col_fraction.item(), 4)
    (-2, 1, 0.5858, 0.4142)
    """
    rho = np.asarray(rho, dtype=np.float64)
    phi = np.asarray(phi, dtype=np.float64)
    row = np.round(-rho * np.sin(phi), 9)
    col = np.round(rho * np.cos(phi), 9)
    row_floor, col_floor = np.floor(row), np.floor(col)
    return (
        row_floor.astype(np.int64),
        col_floor.astype(np.int64),
        row - row_floor,
        col - col_floor,
    )
