"""Pictures of what a filter looks for, where it responds, and why two galaxies match.

Figures are :class:`matplotlib.figure.Figure` objects made outside pyplot (no backend or
global state is touched).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cosfire.apply import apply
from cosfire.filter import CosfireFilter
from cosfire.plan import DEFAULT_ROTATIONS_DEG

__all__ = ["explain", "explain_match", "support_half_px"]

_COLOURS = ["tab:red", "tab:orange", "tab:green", "tab:purple", "tab:pink", "tab:olive"]


def _draw_parts(
    axis: Any,
    cosfire_filter: CosfireFilter,
    row: float,
    col: float,
    *,
    psi_rad: float = 0.0,
    scale: float = 1.0,
    flip: bool = False,
    circles: bool = False,
) -> None:
    """Draw the filter's tuples around (row, col), turned by ``psi_rad`` (and scaled/mirrored).

    Each tuple is a point (with ``circles``, a circle of its DoG sigma) joined to the centre,
    one colour per input channel; dotted circles mark the radii, a yellow cross the centre.
    """
    from matplotlib.patches import Circle

    for rho in sorted(set(cosfire_filter.rhos.tolist())):
        if rho > 0:
            axis.add_patch(
                Circle((col, row), rho * scale, fill=False, color="tab:cyan", lw=0.6, ls=":")
            )
    channels = cosfire_filter.channels
    for part in cosfire_filter.tuples:
        colour = _COLOURS[channels.index(part.channel) % len(_COLOURS)]
        phi = (np.pi - part.phi if flip else part.phi) + psi_rad
        x = col + part.rho * scale * np.cos(phi)
        y = row - part.rho * scale * np.sin(phi)
        axis.plot([col, x], [row, y], color=colour, lw=0.8, alpha=0.7)
        sigma = getattr(part.channel, "sigma", None)
        if circles and sigma:
            axis.add_patch(Circle((x, y), float(sigma), fill=False, color=colour, lw=1.0))
        else:
            axis.plot(x, y, "o", color=colour, ms=4, mec="white", mew=0.5)
    axis.plot(col, row, "+", color="yellow", ms=10)


def support_half_px(cosfire_filter: CosfireFilter, *, margin_px: int = 8) -> int:
    """Return the half side (px) of a square holding the filter's support and a margin.

    The support reaches, over all tuples, the tuple's distance ``rho`` plus the radius of its
    blur window (:func:`cosfire.blur.blur_radius`).

    Examples
    --------
    >>> from cosfire.configure import configure
    >>> image = np.zeros((64, 64), np.float32); image[32, 32] = image[32, 44] = 1.0
    >>> support_half_px(configure(image, sigma=2.0, rhos=(0, 12), t1=0.1), margin_px=8)
    21
    """
    from cosfire.blur import blur_radius

    params = cosfire_filter.params
    reach = max(
        part.rho
        + blur_radius(part.rho, sigma0=params.sigma0, alpha=params.alpha, rule=params.blur_rule)
        for part in cosfire_filter.tuples
    )
    return int(np.ceil(reach)) + margin_px


def _draw_tuples(axis: Any, cosfire_filter: CosfireFilter, image: np.ndarray, half_px: int) -> None:
    row, col = cosfire_filter.center
    _crop_around(axis, image, int(row), int(col), half_px, cmap="gray")
    _draw_parts(axis, cosfire_filter, row, col)
    title = f"{len(cosfire_filter.tuples)} tuples"
    if cosfire_filter.label:
        title = f"{cosfire_filter.label}: {title}"
    axis.set_title(title, fontsize=9)


def explain(
    cosfire_filter: CosfireFilter,
    prototype: np.ndarray,
    image: np.ndarray | None = None,
    *,
    rotations: Sequence[float] = DEFAULT_ROTATIONS_DEG,
    margin_px: int = 8,
    path: str | os.PathLike[str] | None = None,
) -> Any:
    """Return a matplotlib figure of a filter over its prototype and its response to an image.

    Panels: the prototype with the filter's circles and tuples (one colour per input channel,
    the yellow cross is the centre); the filter's response map on ``image`` (default: the
    prototype itself) with the position of the maximum; and ``image`` itself. Every panel is
    zoomed to the filter's support (:func:`support_half_px`: the largest rho plus its blur
    radius, plus ``margin_px``): the prototype around the filter's centre, the response and
    the image around the strongest response (the image centre if there is none); the
    figure's title states the crop.

    Parameters
    ----------
    cosfire_filter : CosfireFilter
    prototype : ndarray, shape (H, W)
        The (preprocessed) image the filter was configured on.
    image : ndarray, optional
        Another (preprocessed) image to show the response on.
    rotations : sequence of float
        Rotation set used for the response map.
    margin_px : int
        Pixels around the filter's support kept in the crops.
    path : path, optional
        If given, the figure is also written there as PNG.

    Examples
    --------
    >>> import numpy as np
    >>> from cosfire.configure import configure
    >>> image = np.zeros((64, 64), np.float32); image[32, 32] = image[32, 44] = 1.0
    >>> figure = explain(configure(image, sigma=2.0, rhos=(0, 12), t1=0.1), image)
    >>> len(figure.axes), figure.axes[0].images[0].get_array().shape  # 2 x 21 + 1 px crop
    (4, (43, 43))
    """
    from matplotlib.figure import Figure

    target = prototype if image is None else image
    response = apply(cosfire_filter, target, rotations=rotations)
    # a Figure of its own, outside pyplot: no global backend or figure registry is touched
    figure = Figure(figsize=(11, 3.8), layout="constrained")
    axes = figure.subplots(1, 3)
    half = support_half_px(cosfire_filter, margin_px=margin_px)
    _draw_tuples(axes[0], cosfire_filter, prototype, half)
    top = float(response.max())
    peak_row, peak_col = (int(v) for v in np.unravel_index(int(response.argmax()), response.shape))
    if top <= 0:
        peak_row, peak_col = target.shape[0] // 2, target.shape[1] // 2
    _crop_around(
        axes[1], response, peak_row, peak_col, half, cmap="magma", vmin=0, vmax=max(top, 1e-12)
    )
    if top > 0:
        axes[1].plot(peak_col, peak_row, "c+", ms=10)
    axes[1].set_title(f"response (max {top:.3g})" if top > 0 else "no response", fontsize=9)
    figure.colorbar(axes[1].images[0], ax=axes[1], shrink=0.8)
    top_row, bottom, left, right = _crop_around(
        axes[2], target, peak_row, peak_col, half, cmap="gray"
    )
    axes[2].set_title("image" if image is not None else "prototype", fontsize=9)
    figure.suptitle(
        f"crop {2 * half + 1} px: the filter's support (rho + blur) + {margin_px} px; response "
        f"and image around the strongest response, rows {top_row}-{bottom - 1}, cols "
        f"{left}-{right - 1} of {target.shape[0]} x {target.shape[1]} px",
        fontsize=8,
    )
    if path is not None:
        from cosfire._atomic import atomic_write

        with atomic_write(Path(path), "wb") as handle:
            figure.savefig(handle, format="png", dpi=110)
    return figure


def _crop_around(
    axis: Any, image: np.ndarray, row: int, col: int, half_px: int, **shown: Any
) -> tuple[int, int, int, int]:
    """Show the part of ``image`` within ``half_px`` of (row, col) in image coordinates.

    ``shown`` goes to ``imshow`` (default colour map: inferno).
    """
    top, bottom = max(0, row - half_px), min(image.shape[0], row + half_px + 1)
    left, right = max(0, col - half_px), min(image.shape[1], col + half_px + 1)
    extent = (left - 0.5, right - 0.5, bottom - 0.5, top - 0.5)
    shown = {"cmap": "inferno", **shown}
    axis.imshow(image[top:bottom, left:right], origin="upper", extent=extent, **shown)
    axis.set_xlim(left - 0.5, right - 0.5)
    axis.set_ylim(bottom - 0.5, top - 0.5)
    axis.set_xticks([])
    axis.set_yticks([])
    return top, bottom, left, right


def explain_match(
    bank: Any,
    query_image: np.ndarray,
    match_image: np.ndarray,
    *,
    top: int = 3,
    read_prototype: Callable[[str], np.ndarray] | None = None,
    margin_px: int = 8,
    query_name: str = "query",
    match_name: str = "match",
    path: str | os.PathLike[str] | None = None,
) -> Any:
    """Return a figure of the filters that make ``match_image`` similar to ``query_image``.

    The filters drawn are the ``top`` ones with the highest ``min(query value, match value)``
    (they respond strongly to both galaxies, so they pull the two descriptors together). One
    row per filter: its prototype with its tuples (psi = 0), then the query and the match, each
    cropped to the filter's support (its largest rho plus ``margin_px``) around the place where
    the filter responded most, with the tuples drawn there at the rotation where it responded
    (circles of the DoG sigma). Panel titles give the values, rotations and crops; the figure's
    title the angle of the match (:func:`cosfire.orientation.relative_rotation`).

    Parameters
    ----------
    bank : FilterBank
    query_image, match_image : ndarray, shape (H, W)
        The two galaxies as read (they are preprocessed like the bank's images).
    top : int
        Number of filters drawn.
    read_prototype : callable, optional
        Reads a filter's prototype from its ``source`` (default
        :func:`cosfire.datasets.read_source`); an unreadable prototype leaves its panel with
        the tuples on an empty background.
    margin_px : int
        Pixels around the filter's support kept in the crops.
    query_name, match_name : str
        Names for the titles.
    path : path, optional
        If given, the figure is also written there as PNG.

    Examples
    --------
    >>> import numpy as np
    >>> from cosfire.bank import FilterBank
    >>> from cosfire.configure import configure
    >>> image = np.zeros((64, 64), np.float32); image[32, 32] = image[32, 44] = 1.0
    >>> bank = FilterBank((configure(image, sigma=2.0, rhos=(0, 12), t1=0.1),), ("pair",))
    >>> figure = explain_match(bank, image, np.rot90(image), top=1)
    >>> len(figure.axes)  # prototype, query, match
    3
    """
    from matplotlib.figure import Figure

    from cosfire.descriptor import plan_peaks, prepare_image
    from cosfire.orientation import filter_extents_px, relative_rotation, rotation_step_deg
    from cosfire.preprocess import preprocess

    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    if read_prototype is None:
        from cosfire.datasets import read_source as read_prototype
    query = prepare_image(bank, query_image, name=query_name)
    match = prepare_image(bank, match_image, name=match_name)
    query_peaks = plan_peaks(bank.plan, query)
    match_peaks = plan_peaks(bank.plan, match)
    shared = np.minimum(query_peaks.values, match_peaks.values)
    order = np.argsort(-shared, kind="stable")
    chosen = [int(f) for f in order[:top] if shared[f] > 0]
    angle = relative_rotation(
        query_peaks.angles_deg,
        match_peaks.angles_deg,
        query_peaks.values,
        match_peaks.values,
        step_deg=rotation_step_deg(bank.rotations_deg),
        extents_px=filter_extents_px(bank)[: bank.n_filters],  # the filters' columns
    )
    n_flips = 2 if bank.reflection else 1
    rows = max(1, len(chosen))
    figure = Figure(figsize=(9.0, 3.1 * rows + 0.5), layout="constrained")
    axes = figure.subplots(rows, 3, squeeze=False)
    angle_text = "unknown" if not np.isfinite(angle) else f"{angle:.0f} deg"
    figure.suptitle(
        f"why {match_name} matches {query_name}: the {len(chosen)} filters responding most "
        f"strongly to both (highest min of the two values)\nangle of the match: {angle_text} "
        "(counter-clockwise); crops: the filter's support + "
        f"{margin_px} px around its strongest response",
        fontsize=9,
    )
    if not chosen:
        for axis in axes[0]:
            axis.set_axis_off()
        axes[0][1].text(0.5, 0.5, "no filter responds to both galaxies", ha="center")
    for row_axes, f in zip(axes, chosen, strict=False):
        bank_filter = bank.filters[f]
        half = int(np.ceil(bank_filter.support_radius * max(bank.scales))) + margin_px
        try:
            prototype = preprocess(read_prototype(bank_filter.source or ""), bank.preprocessing)
        except (OSError, ValueError):
            prototype = None
        centre_row, centre_col = (int(v) for v in bank_filter.center)
        if prototype is None:
            prototype = np.zeros((2 * half + 1, 2 * half + 1), np.float32)
            centre_row = centre_col = half
            row_axes[0].text(
                centre_col,
                2,
                "prototype not readable",
                ha="center",
                va="top",
                color="white",
                fontsize=7,
            )
        _crop_around(row_axes[0], prototype, centre_row, centre_col, half)
        _draw_parts(row_axes[0], bank_filter, centre_row, centre_col, circles=True)
        label = f" ({bank_filter.label})" if bank_filter.label else ""
        row_axes[0].set_title(
            f"filter {f}{label}: prototype\n{Path(str(bank_filter.source)).name[:30]}", fontsize=7
        )
        for axis, image, peaks, name in (
            (row_axes[1], query, query_peaks, query_name),
            (row_axes[2], match, match_peaks, match_name),
        ):
            variant = int(peaks.variant[f])
            r, c = int(peaks.rows[f]), int(peaks.cols[f])
            top_row, bottom, left, right = _crop_around(axis, image, r, c, half)
            _draw_parts(
                axis,
                bank_filter,
                r,
                c,
                psi_rad=float(np.deg2rad(peaks.angles_deg[f])),
                scale=bank.scales[variant // n_flips],
                flip=bank.reflection and variant % 2 == 1,
                circles=True,
            )
            axis.set_title(
                f"{name[:24]}: {peaks.values[f]:.3g} at psi {peaks.angles_deg[f]:.0f} deg\n"
                f"rows {top_row}-{bottom - 1}, cols {left}-{right - 1} of "
                f"{image.shape[0]}x{image.shape[1]} px",
                fontsize=7,
            )
    if path is not None:
        from cosfire._atomic import atomic_write

        with atomic_write(Path(path), "wb") as handle:
            figure.savefig(handle, format="png", dpi=100)
    return figure
