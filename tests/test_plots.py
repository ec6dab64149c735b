"""Pictures a person can read: thumbnails cropped to the source, explanations zoomed to the
filter's support, each with its crop stated, drawn without pyplot."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli._plots import plot_anomalies, plot_search_results, source_crop_px
from cosfire.synthetic import make_galaxy


def galaxy_file(folder: Path, kind: str, seed: int) -> tuple[Path, np.ndarray]:
    image = make_galaxy(kind, rng=np.random.default_rng(seed))
    path = folder / f"{kind}-{seed}.png"
    cv2.imwrite(str(path), image)
    return path, image.astype(np.float32) / 255


def central_flux(image: np.ndarray, side: int) -> float:
    """Share of the image's flux inside its central ``side`` x ``side`` square."""
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    return float(image[top : top + side, left : left + side].sum() / image.sum())


def test_source_crop_fits_a_small_source_and_holds_it() -> None:
    for kind, seed in (("Compact", 0), ("FRII", 1), ("Bent", 2)):
        image = make_galaxy(kind, rng=np.random.default_rng(seed)).astype(np.float32)
        side = source_crop_px(image)
        assert 32 <= side < 300
        assert central_flux(image, side) > 0.97, (kind, side)
    compact = make_galaxy("Compact", rng=np.random.default_rng(0)).astype(np.float32)
    assert source_crop_px(compact) < 100  # a compact source is not shown in a 300 px frame
    assert source_crop_px(np.zeros((300, 300), np.float32)) == 300  # nothing to fit: all


def shown_side(axis) -> int:
    rows, cols = axis.images[0].get_array().shape
    assert rows == cols
    return rows


def test_search_thumbnails_are_cropped_to_the_source_and_say_so(tmp_path: Path) -> None:
    query, query_image = galaxy_file(tmp_path, "Compact", 3)
    match, match_image = galaxy_file(tmp_path, "FRII", 1)  # lobes 45 px apart
    results = [
        {"rank": 1, "label": "FRII", "distance": 2, "path": str(match)},
        {"rank": 2, "label": "Bent", "distance": 5, "path": str(tmp_path / "gone.png")},
    ]
    figure = plot_search_results([(str(query), "Compact", results)], tmp_path / "q.png")
    assert (tmp_path / "q.png").stat().st_size > 2000
    query_axis, match_axis, missing_axis = figure.axes[:3]
    for axis, image in ((query_axis, query_image), (match_axis, match_image)):
        side = shown_side(axis)
        assert side < 300 and central_flux(image, side) > 0.97
        assert axis.get_xlabel() == f"crop {side} px"
    assert shown_side(query_axis) < shown_side(match_axis)  # each on the scale of its source
    assert not missing_axis.images and "not found" in missing_axis.texts[0].get_text()
    # the crop never exceeds what the descriptors saw
    figure = plot_search_results([(str(match), "FRII", results[:1])], crop_px=40)
    assert shown_side(figure.axes[0]) <= 40


def test_anomaly_thumbnails_are_cropped_to_the_source(tmp_path: Path) -> None:
    path, image = galaxy_file(tmp_path, "Bent", 5)
    entries = [{"rank": 1, "score": 3.2, "path": str(path), "label": "Bent"}]
    figure = plot_anomalies(entries, tmp_path / "a.png", title="most unusual")
    side = shown_side(figure.axes[0])
    assert side < 300 and central_flux(image, side) > 0.97
    assert figure.axes[0].get_xlabel() == f"crop {side} px"


def test_explanation_is_zoomed_to_the_filters_support() -> None:
    from cosfire.configure import configure
    from cosfire.explain import explain, support_half_px

    image = np.zeros((300, 300), np.float32)
    image[150, 150] = image[150, 162] = image[138, 150] = 1.0
    bank_filter = configure(image, sigma=2.0, rhos=(0, 12), t1=0.1)
    figure = explain(bank_filter, image, margin_px=8)
    half = support_half_px(bank_filter, margin_px=8)
    assert half == 12 + 1 + 8  # largest rho, its blur radius, the margin
    row, col = bank_filter.center
    prototype_axis, response_axis, image_axis = figure.axes[:3]
    for axis in (prototype_axis, response_axis, image_axis):
        assert shown_side(axis) == 2 * half + 1 < 300
    # the prototype panel holds every tuple of the filter (image coordinates)
    left, right, bottom, top = prototype_axis.images[0].get_extent()
    for part in bank_filter.tuples:
        x = col + part.rho * np.cos(part.phi)
        y = row - part.rho * np.sin(part.phi)
        assert left < x < right and top < y < bottom
    assert f"crop {2 * half + 1} px" in figure.get_suptitle()


ROOT = Path(__file__).resolve().parents[1]
LIBRARY_MODULES = sorted(
    str(path.relative_to(ROOT))
    for package in ("cosfire", "hashing", "retrieval", "cli")
    for path in (ROOT / package).rglob("*.py")
)


@pytest.mark.parametrize("module", LIBRARY_MODULES)
def test_figures_are_drawn_without_pyplot_or_a_backend_switch(module: str) -> None:
    source = (ROOT / module).read_text()
    assert not re.search(
        r"matplotlib\.use\(|import matplotlib\.pyplot|from matplotlib import pyplot", source
    )
