"""Pictures of what a filter looks for and where it responds (matplotlib)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cosfire.apply import apply
from cosfire.filter import CosfireFilter
from cosfire.plan import DEFAULT_ROTATIONS_DEG

__all__ = ["explain"]


def _draw_tuples(axis: Any, cosfire_filter: CosfireFilter, image: np.ndarray) -> None:
    from matplotlib.patches import Circle

    row, col = cosfire_filter.center
    axis.imshow(image, cmap="gray", origin="upper")
    for rho in sorted(set(cosfire_filter.rhos.tolist())):
        if rho > 0:
            axis.add_patch(Circle((col, row), rho, fill=False, color="tab:cyan", lw=0.6, ls=":"))
    channels = cosfire_filter.channels
    colours = ["tab:red", "tab:orange", "tab:green", "tab:purple", "tab:pink", "tab:olive"]
    for part in cosfire_filter.tuples:
        colour = colours[channels.index(part.channel) % len(colours)]
        x = col + part.rho * np.cos(part.phi)
        y = row - part.rho * np.sin(part.phi)
        axis.plot([col, x], [row, y], color=colour, lw=0.8, alpha=0.7)
        axis.plot(x, y, "o", color=colour, ms=4, mec="white", mew=0.5)
    axis.plot(col, row, "+", color="yellow", ms=10)
    title = f"{len(cosfire_filter.tuples)} tuples"
    if cosfire_filter.label:
        title = f"{cosfire_filter.label}: {title}"
    axis.set_title(title, fontsize=9)
    axis.set_axis_off()


def explain(
    cosfire_filter: CosfireFilter,
    prototype: np.ndarray,
    image: np.ndarray | None = None,
    *,
    rotations: Sequence[float] = DEFAULT_ROTATIONS_DEG,
    path: str | os.PathLike[str] | None = None,
) -> Any:
    """Return a matplotlib figure of a filter over its prototype and its response to an image.

    Panels: the prototype with the filter's circles and tuples (one colour per input channel,
    the yellow cross is the centre); the filter's response map on ``image`` (default: the
    prototype itself) with the position of the maximum; and ``image`` itself.

    Parameters
    ----------
    cosfire_filter : CosfireFilter
    prototype : ndarray, shape (H, W)
        The (preprocessed) image the filter was configured on.
    image : ndarray, optional
        Another (preprocessed) image to show the response on.
    rotations : sequence of float
        Rotation set used for the response map.
    path : path, optional
        If given, the figure is also written there as PNG.

    Examples
    --------
    >>> import numpy as np
    >>> from cosfire.configure import configure
    >>> image = np.zeros((64, 64), np.float32); image[32, 32] = image[32, 44] = 1.0
    >>> figure = explain(configure(image, sigma=2.0, rhos=(0, 12), t1=0.1), image)
    >>> len(figure.axes)
    4
    """
    from matplotlib.figure import Figure

    target = prototype if image is None else image
    response = apply(cosfire_filter, target, rotations=rotations)
    # a Figure of its own, outside pyplot: no global backend or figure registry is touched
    figure = Figure(figsize=(11, 3.8), layout="constrained")
    axes = figure.subplots(1, 3)
    _draw_tuples(axes[0], cosfire_filter, prototype)
    top = float(response.max())
    shown = axes[1].imshow(response, cmap="magma", origin="upper", vmin=0, vmax=max(top, 1e-12))
    peak_row, peak_col = np.unravel_index(int(response.argmax()), response.shape)
    if top > 0:
        axes[1].plot(peak_col, peak_row, "c+", ms=10)
    axes[1].set_title(f"response (max {top:.3g})" if top > 0 else "no response", fontsize=9)
    axes[1].set_axis_off()
    figure.colorbar(shown, ax=axes[1], shrink=0.8)
    axes[2].imshow(target, cmap="gray", origin="upper")
    axes[2].set_title("image" if image is not None else "prototype", fontsize=9)
    axes[2].set_axis_off()
    if path is not None:
        from cosfire._atomic import atomic_write

        with atomic_write(Path(path), "wb") as handle:
            figure.savefig(handle, format="png", dpi=110)
    return figure
