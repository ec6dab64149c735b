"""Figures drawn by the command line (matplotlib, imported on use).

Every function builds a :class:`matplotlib.figure.Figure` outside pyplot (no backend is chosen
and no global figure registry is touched), writes it as PNG when given a path, and returns it.
Galaxy thumbnails are cropped to the sources: a square centred on the cutout's centre (where
FIRST and the synthetic set put the source), just large enough for the source plus a margin
(:func:`source_crop_px`), the side written below each thumbnail.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "plot_anomalies",
    "plot_per_class",
    "plot_pr_curve",
    "plot_search_results",
    "source_crop_px",
]

#: smallest thumbnail side: a compact source still shows its beam-sized blob, not 3 pixels
MIN_CROP_PX = 32


def _figure(**options):
    from matplotlib.figure import Figure

    return Figure(**options)


def _save(figure, path: Path | None):
    if path is not None:
        from cosfire import atomic_write

        with atomic_write(Path(path), "wb") as handle:
            figure.savefig(handle, format="png", dpi=100)
    return figure


def source_crop_px(
    image: np.ndarray,
    *,
    threshold: float = 0.1,
    join_px: int = 4,
    margin_px: int = 6,
    min_px: int = MIN_CROP_PX,
) -> int:
    """Return the side (px) of the smallest centred square crop holding the central source.

    The source is the pixels above ``threshold`` times the brightest pixel of the central
    third of the image, joined across gaps of up to ``2 * join_px`` pixels, in the parts that
    reach into that central third (a radio galaxy's core and lobes, not a stray source near
    the edge). The side is twice the source's largest row or column distance from the centre
    plus ``margin_px`` on each side, at least ``min_px`` and at most the image.

    Examples
    --------
    >>> image = np.zeros((300, 300), np.float32); image[120:180, 145:155] = 1.0
    >>> source_crop_px(image)  # rows 120..179 reach 29.5 px from the centre, + 6 px each side
    72
    """
    from scipy import ndimage

    height, width = image.shape
    centre_row, centre_col = (height - 1) / 2, (width - 1) / 2
    whole = min(height, width)
    third_rows = slice(height // 3, height - height // 3)
    third_cols = slice(width // 3, width - width // 3)
    central = image[third_rows, third_cols]
    peak = float(central.max()) if central.size else 0.0
    if peak <= 0:
        return whole
    bright = image > threshold * peak
    parts, _ = ndimage.label(ndimage.binary_dilation(bright, iterations=join_px))
    kept = np.unique(parts[third_rows, third_cols])
    kept = kept[kept > 0]
    rows, cols = np.mgrid[0:height, 0:width]
    source = bright & np.isin(parts, kept)
    if not source.any():
        return whole
    half = max(np.abs(rows[source] - centre_row).max(), np.abs(cols[source] - centre_col).max())
    side = int(np.ceil(2 * (half + margin_px))) + 1
    return int(np.clip(side, min(min_px, whole), whole))


def _read(path: str, angle_deg: float | None = None) -> np.ndarray | None:
    """The image at ``path``, turned counter-clockwise by ``angle_deg`` about its centre."""
    from cosfire.datasets import read_source

    try:
        image = read_source(path)
    except (OSError, ValueError):
        return None
    if angle_deg is not None:
        from cosfire.orientation import rotate_image

        image = rotate_image(image, angle_deg)
    return image


def _fitted_crop(image: np.ndarray | None, max_px: int | None) -> int | None:
    """The crop side fitted to ``image``'s source, at most ``max_px``."""
    if image is None:
        return max_px
    side = source_crop_px(image)
    return min(side, max_px) if max_px else side


def _show(axis, image: np.ndarray | None, crop_px: int | None) -> None:
    from cosfire.preprocess import center_crop

    if image is None:
        axis.text(0.5, 0.5, "image\nnot found", ha="center", va="center", fontsize=7)
    else:
        axis.imshow(center_crop(image, crop_px) if crop_px else image, cmap="inferno")


def _crop_text(crop_px: int | None, image: np.ndarray | None) -> str:
    if not crop_px or image is None or crop_px >= max(image.shape):
        return "whole image"
    return f"crop {crop_px} px"


def plot_search_results(
    queries: Sequence[tuple[str, str, list[dict]]],
    path: Path | None = None,
    *,
    crop_px: int | None = 150,
):
    """Draw each query (name, label, results) beside its top-k results; return the Figure.

    A result with an ``angle_deg`` is drawn turned by it, so that it lines up with the query.
    Each thumbnail is the central square fitted to its source (:func:`source_crop_px`), at
    most ``crop_px`` (the crop the descriptors saw; None: no upper bound), its side written
    below it ("crop 48 px"). Written as PNG to ``path`` if given.
    """
    turned = any(r.get("angle_deg") is not None for _, _, results in queries for r in results)
    columns = 1 + max(len(results) for _, _, results in queries)
    figure = _figure(figsize=(1.7 * columns, 2.1 * len(queries) + 0.3), layout="constrained")
    axes = figure.subplots(len(queries), columns, squeeze=False)
    rows = []
    for name, label, results in queries:
        known = label not in ("?", "")
        query_title = f"query: {label}" if known else f"query\n{Path(name).name[:22]}"
        panels = [(name, query_title, "tab:blue", None)]
        for r in results:
            title = f"#{r['rank']} {r['label']} d={r['distance']}"
            if r.get("angle_deg") is not None:
                title += f"\nturned {r['angle_deg']:.0f} deg"
            colour = ("tab:green" if r["label"] == label else "tab:red") if known else "grey"
            panels.append((r["path"], title, colour, r.get("angle_deg")))
        rows.append([(_read(image_path, angle), t, c) for image_path, t, c, angle in panels])
    for row_axes, panels in zip(axes, rows, strict=True):
        for column, axis in enumerate(row_axes):
            axis.set_xticks([])
            axis.set_yticks([])
            if column >= len(panels):
                axis.set_axis_off()
                continue
            image, title, colour = panels[column]
            side = _fitted_crop(image, crop_px)  # every galaxy on the scale of its source
            _show(axis, image, side)
            axis.set_xlabel(_crop_text(side, image), fontsize=7)
            axis.set_title(title, fontsize=7, color=colour if column else "black")
            for spine in axis.spines.values():
                spine.set_color(colour)
                spine.set_linewidth(2 if column else 1)
    whole = {max(image.shape) for row in rows for image, _, _ in row if image is not None}
    figure.suptitle(
        "the central square of every image, fitted to its source (side below it) of "
        f"{'/'.join(str(w) for w in sorted(whole))} px images"
        + ("; results turned by their angle to the query" if turned else ""),
        fontsize=8,
    )
    return _save(figure, path)


def plot_pr_curve(
    recall: np.ndarray, precision: np.ndarray, path: Path | None = None, *, title: str
):
    """Precision-recall curve over Hamming radii; return the Figure (PNG at ``path`` if given)."""
    figure = _figure(figsize=(5, 4.2), layout="constrained")
    axis = figure.subplots()
    axis.plot(recall, precision, "o-", ms=3)
    axis.set_xlabel("recall")
    axis.set_ylabel("precision")
    axis.set_xlim(0, 1.02)
    axis.set_ylim(0, 1.02)
    axis.grid(alpha=0.3)
    axis.set_title(title, fontsize=10)
    return _save(figure, path)


def plot_per_class(report: dict, path: Path | None = None, *, keys: Sequence[str]):
    """Bar chart of the report's metrics per class; return the Figure (PNG at ``path``)."""
    classes = list(report["per_class"])
    figure = _figure(figsize=(1.6 + 1.4 * len(classes), 4), layout="constrained")
    axis = figure.subplots()
    width = 0.8 / len(keys)
    for offset, key in enumerate(keys):
        values = [report["per_class"][c][key] for c in classes]
        positions = np.arange(len(classes)) + offset * width
        axis.bar(positions, values, width, label=key.replace("_", " "))
    axis.set_xticks(np.arange(len(classes)) + width * (len(keys) - 1) / 2, classes)
    axis.set_ylim(0, 1)
    axis.legend(fontsize=8)
    axis.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def plot_anomalies(
    entries: Sequence[dict],
    path: Path | None = None,
    *,
    title: str,
    crop_px: int | None = None,
    columns: int = 5,
):
    """Draw the ranked unusual galaxies (rank, score, path, label) as a grid; return the Figure.

    Each thumbnail is the central square fitted to its source (:func:`source_crop_px`), at
    most ``crop_px``, its side written below it. Written as PNG to ``path`` if given.
    """
    columns = max(1, min(columns, len(entries)))
    rows = max(1, -(-len(entries) // columns))
    figure = _figure(figsize=(1.9 * columns, 2.3 * rows + 0.6), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for axis in axes.ravel():
        axis.set_xticks([])
        axis.set_yticks([])
    for axis in axes.ravel()[len(entries) :]:
        axis.set_axis_off()
    for axis, entry in zip(axes.ravel(), entries, strict=False):
        image = _read(entry["path"])
        side = _fitted_crop(image, crop_px)  # each unusual galaxy on its own scale
        _show(axis, image, side)
        label = "" if entry["label"] in ("?", "") else f" {entry['label']}"
        axis.set_title(
            f"#{entry['rank']}{label} s={entry['score']:.3g}\n{Path(entry['path']).name[:24]}",
            fontsize=7,
        )
        axis.set_xlabel(_crop_text(side, image), fontsize=7)
    figure.suptitle(
        f"{title}\nthe central square of every image, fitted to its source (side below it)",
        fontsize=9,
    )
    return _save(figure, path)
