"""Tests of cosfire.synthetic: FIRST-like treatment, determinism, and class morphology."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from cosfire.synthetic import GALAXY_KINDS, make_galaxy, write_synthetic_dataset


def galaxies(kind: str, n: int = 40, size: int = 300) -> list[np.ndarray]:
    return [make_galaxy(kind, size=size, rng=np.random.default_rng([11, i])) for i in range(n)]


def shape_features(image: np.ndarray) -> tuple[float, float, float]:
    """Return (distance of the brightest pixel, distance of the flux centroid, r90) in px.

    Distances are from the image centre, over pixels within 60 px of it; r90 is the radius
    holding 90 % of that flux.
    """
    pixels = image.astype(float)
    rows, cols = np.indices(pixels.shape)
    centre = (pixels.shape[0] - 1) / 2
    radius = np.hypot(rows - centre, cols - centre)
    pixels = np.where(radius < 60, pixels, 0.0)
    peak = np.unravel_index(np.argmax(pixels), pixels.shape)
    total = pixels.sum()
    centroid = ((pixels * rows).sum() / total, (pixels * cols).sum() / total)
    order = np.argsort(radius.ravel())
    cumulative = np.cumsum(pixels.ravel()[order])
    r90 = radius.ravel()[order][np.searchsorted(cumulative, 0.9 * cumulative[-1])]
    return (
        float(np.hypot(peak[0] - centre, peak[1] - centre)),
        float(np.hypot(centroid[0] - centre, centroid[1] - centre)),
        float(r90),
    )


@pytest.mark.parametrize("kind", GALAXY_KINDS)
def test_first_like_treatment(kind):
    for image in galaxies(kind, n=10):
        assert image.dtype == np.uint8 and image.shape == (300, 300)
        assert image.max() == 255  # scaled by the maximum
        assert 0.0003 < np.count_nonzero(image) / image.size < 0.02  # mostly empty sky, as FIRST
        values = np.unique(image[image > 0])
        assert values[0] <= 3  # the 3-sigma threshold maps to 0: faint values start near 1


@pytest.mark.parametrize("kind", GALAXY_KINDS)
def test_sources_stay_in_the_central_100_px(kind):
    for image in galaxies(kind, n=20):
        rows, cols = np.nonzero(image > 25)  # the source, above noise specks
        assert np.all(np.abs(rows - 149.5) < 60) and np.all(np.abs(cols - 149.5) < 60)


def test_compact_is_a_point_source_at_the_centre():
    features = np.array([shape_features(image) for image in galaxies("Compact")])
    assert np.all(features[:, 0] <= 3)  # peak at the centre
    assert np.median(features[:, 2]) < 5  # 90 % of the flux within the beam


def test_fri_is_brightest_near_the_core_and_frii_at_the_outer_edges():
    # Fanaroff & Riley (1974): the distance of the brightest part relative to the extent
    fri = np.array([shape_features(image) for image in galaxies("FRI")])
    frii = np.array([shape_features(image) for image in galaxies("FRII")])
    fri_ratio = fri[:, 0] / fri[:, 2]
    frii_ratio = frii[:, 0] / frii[:, 2]
    assert np.median(fri_ratio) < 0.35
    assert np.median(frii_ratio) > 0.6
    assert np.median(fri[:, 2]) > 8 and np.median(frii[:, 2]) > 6  # both resolved


def test_bent_tails_go_to_one_side():
    bent = np.array([shape_features(image) for image in galaxies("Bent")])
    frii = np.array([shape_features(image) for image in galaxies("FRII")])
    assert np.median(bent[:, 1] / bent[:, 2]) > 0.4  # centroid far off the core
    assert np.median(frii[:, 1] / frii[:, 2]) < 0.3  # two-sided sources stay balanced


def test_same_generator_state_same_image_and_seeds_differ():
    first = make_galaxy("Bent", rng=np.random.default_rng(5))
    again = make_galaxy("Bent", rng=np.random.default_rng(5))
    other = make_galaxy("Bent", rng=np.random.default_rng(6))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_small_images_keep_the_source_inside():
    for kind in GALAXY_KINDS:
        image = make_galaxy(kind, size=48, rng=np.random.default_rng(1))
        assert image.shape == (48, 48) and image.max() == 255


def test_bad_arguments():
    with pytest.raises(ValueError, match="Spiral.*Bent, Compact, FRI, FRII"):
        make_galaxy("Spiral", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="size=16"):
        make_galaxy("FRI", size=16, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_per_class"):
        write_synthetic_dataset("unused", n_per_class={"train": -1})


def digest_tree(top) -> dict[str, str]:
    return {
        path.relative_to(top).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(top.rglob("*"))
        if path.is_file()
    }


def test_written_set_layout_and_determinism(tmp_path):
    counts = {"train": 3, "test": 1}
    top = write_synthetic_dataset(tmp_path / "a", n_per_class=counts, size=64, seed=7)
    assert top == tmp_path / "a" / "galaxy_data"
    files = digest_tree(top)
    assert len(files) == 4 * 4
    assert "train/FRII/FRII_0002.png" in files and "test/Bent/Bent_0000.png" in files
    assert not any(name.split("/")[-1].startswith(".") for name in files)  # no temp files left
    again = digest_tree(
        write_synthetic_dataset(tmp_path / "b", n_per_class=counts, size=64, seed=7)
    )
    assert again == files
    other_seed = digest_tree(
        write_synthetic_dataset(tmp_path / "c", n_per_class=counts, size=64, seed=8)
    )
    assert other_seed.keys() == files.keys() and other_seed != files


def test_more_images_do_not_change_existing_ones(tmp_path):
    small = digest_tree(write_synthetic_dataset(tmp_path / "s", n_per_class={"train": 2}, size=64))
    large = digest_tree(write_synthetic_dataset(tmp_path / "l", n_per_class={"train": 4}, size=64))
    assert all(large[name] == digest for name, digest in small.items())
    assert len(large) == 2 * len(small)


def test_synthetic_set_reads_like_first(synthetic_root):
    from cosfire.images import load_image

    image = load_image(synthetic_root / "train" / "FRI" / "FRI_0000.png")
    assert image.dtype == np.float32 and image.shape == (300, 300)
    assert image.min() == 0.0 and image.max() == 1.0
