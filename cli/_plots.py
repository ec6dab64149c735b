"""Figures drawn by the command line (matplotlib, imported on use)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["plot_anomalies", "plot_per_class", "plot_pr_curve", "plot_search_results"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> Path:
    from cosfire import atomic_write

    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=100)
    _pyplot().close(figure)
    return path


def _thumbnail(path: str, crop_px: int | None, angle_deg: float | None = None) -> np.ndarray | None:
    """The image at ``path``, turned counter-clockwise by ``angle_deg`` about its centre (the
    whole image, before the centre crop, so the crop holds no empty corners), centre-cropped."""
    from cosfire.datasets import read_source
    from cosfire.preprocess import center_crop

    try:
        image = read_source(path)
    except (OSError, ValueError):
        return None
    if angle_deg is not None:
        from cosfire.orientation import rotate_image

        image = rotate_image(image, angle_deg)
    return center_crop(image, crop_px) if crop_px else image


def plot_search_results(
    queries: Sequence[tuple[str, str, list[dict]]], path: Path, *, crop_px: int | None = 150
) -> Path:
    """Draw each query (name, label, results) beside its top-k results; write a PNG.

    A result with an ``angle_deg`` is drawn turned by it, so that it lines up with the query.
    """
    plt = _pyplot()
    turned = any(r.get("angle_deg") is not None for _, _, results in queries for r in results)
    columns = 1 + max(len(results) for _, _, results in queries)
    figure, axes = plt.subplots(
        len(queries), columns, figsize=(1.7 * columns, 1.9 * len(queries)), squeeze=False
    )
    for row, (name, label, results) in enumerate(queries):
        known = label not in ("?", "")
        query_title = f"query: {label}" if known else f"query\n{Path(name).name[:22]}"
        panels = [(name, query_title, "tab:blue", None)] + [
            (r["path"], f"#{r['rank']} {r['label']} d={r['distance']}"
             + (f"\nturned {r['angle_deg']:.0f} deg" if r.get("angle_deg") is not None else ""),
             ("tab:green" if r["label"] == label else "tab:red") if known else "grey",
             r.get("angle_deg"))
            for r in results
        ]  # fmt: skip
        for column, axis in enumerate(axes[row]):
            axis.set_xticks([])
            axis.set_yticks([])
            if column >= len(panels):
                axis.set_axis_off()
                continue
            image_path, title, colour, angle = panels[column]
            image = _thumbnail(image_path, crop_px, angle)
            if image is None:
                axis.text(0.5, 0.5, "image\nnot found", ha="center", va="center", fontsize=7)
            else:
                axis.imshow(image, cmap="inferno")
            axis.set_title(title, fontsize=7, color=colour if column else "black")
            for spine in axis.spines.values():
                spine.set_color(colour)
                spine.set_linewidth(2 if column else 1)
    crop_text = f"central {crop_px} x {crop_px} px of each image" if crop_px else "whole images"
    figure.suptitle(
        crop_text + ("; results turned by their angle to the query" if turned else ""), fontsize=8
    )
    figure.tight_layout()
    return _save(figure, path)


def plot_pr_curve(recall: np.ndarray, precision: np.ndarray, path: Path, *, title: str) -> Path:
    """Precision-recall curve over Hamming radii; write a PNG."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(5, 4.2), constrained_layout=True)
    axis.plot(recall, precision, "o-", ms=3)
    axis.set_xlabel("recall")
    axis.set_ylabel("precision")
    axis.set_xlim(0, 1.02)
    axis.set_ylim(0, 1.02)
    axis.grid(alpha=0.3)
    axis.set_title(title, fontsize=10)
    return _save(figure, path)


def plot_per_class(report: dict, path: Path, *, keys: Sequence[str]) -> Path:
    """Bar chart of the report's metrics per class; write a PNG."""
    plt = _pyplot()
    classes = list(report["per_class"])
    figure, axis = plt.subplots(figsize=(1.6 + 1.4 * len(classes), 4), constrained_layout=True)
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
    entries: Sequence[dict], path: Path, *, title: str, crop_px: int = 100, columns: int = 5
) -> Path:
    """Draw the ranked unusual galaxies (rank, score, path, label) as a grid; write a PNG.

    Each thumbnail is the central ``crop_px`` x ``crop_px`` pixels of its image, where the
    source lies; the figure says so.
    """
    plt = _pyplot()
    columns = max(1, min(columns, len(entries)))
    rows = max(1, -(-len(entries) // columns))
    figure, axes = plt.subplots(
        rows, columns, figsize=(1.9 * columns, 2.3 * rows + 0.6), squeeze=False,
        layout="constrained",
    )  # fmt: skip
    for axis in axes.ravel():
        axis.set_xticks([])
        axis.set_yticks([])
    for axis in axes.ravel()[len(entries) :]:
        axis.set_axis_off()
    for axis, entry in zip(axes.ravel(), entries, strict=False):
        image = _thumbnail(entry["path"], crop_px)
        if image is None:
            axis.text(0.5, 0.5, "image\nnot found", ha="center", va="center", fontsize=7)
        else:
            axis.imshow(image, cmap="inferno")
        label = "" if entry["label"] in ("?", "") else f" {entry['label']}"
        axis.set_title(
            f"#{entry['rank']}{label} s={entry['score']:.3g}\n{Path(entry['path']).name[:24]}",
            fontsize=7,
        )
    figure.suptitle(f"{title}\ncentral {crop_px} x {crop_px} px of each image", fontsize=9)
    return _save(figure, path)
