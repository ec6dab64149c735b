"""The angle of a match: per-filter angles of the maxima and the rotation estimated from them."""

from __future__ import annotations

import numpy as np
import pytest

from cosfire.bank import FilterBank
from cosfire.configure import configure
from cosfire.descriptor import describe_report, plan_maxima, plan_peaks, prepare_image
from cosfire.orientation import angle_error_deg, relative_rotation, rotate_image, self_similarity


def _blob(image: np.ndarray, row: float, col: float, sigma: float, peak: float) -> None:
    rows, cols = np.mgrid[: image.shape[0], : image.shape[1]]
    image += peak * np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / (2 * sigma**2))


def _asymmetric_shape(size: int = 97) -> np.ndarray:
    """A bright core with three unequal blobs at unequal angles: no rotational symmetry."""
    image = np.zeros((size, size), np.float32)
    centre = (size - 1) / 2
    _blob(image, centre, centre, 2.0, 1.0)
    for rho, phi_deg, peak in ((14, 10, 0.9), (10, 130, 0.6), (18, 235, 0.8)):
        phi = np.deg2rad(phi_deg)
        _blob(image, centre - rho * np.sin(phi), centre + rho * np.cos(phi), 2.0, peak)
    return image / image.max()


@pytest.fixture(scope="module")
def shape_bank() -> FilterBank:
    shape = _asymmetric_shape()
    filters = tuple(
        configure(shape, sigma=sigma, rhos=rhos, t1=0.1, center=(48, 48))
        for sigma, rhos in ((2.0, (0, 10, 14, 18)), (3.0, (0, 12, 18)), (2.0, (0, 6, 10)))
    )
    return FilterBank(filters, ("shape",), (0, 0, 0), (0, 1, 2))


def test_peaks_equal_maxima_and_follow_a_quarter_turn(shape_bank: FilterBank) -> None:
    shape = _asymmetric_shape()
    upright = plan_peaks(shape_bank.plan, shape)
    turned = plan_peaks(shape_bank.plan, np.rot90(shape))  # 90 degrees counter-clockwise
    np.testing.assert_array_equal(upright.values, plan_maxima(shape_bank.plan, shape))
    np.testing.assert_allclose(turned.values, upright.values, rtol=1e-5)
    # every filter fits the prototype upright at psi = 0 and the turned copy at psi = 90
    np.testing.assert_array_equal(upright.angles_deg, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(turned.angles_deg, [90.0, 90.0, 90.0])
    # the centre (48, 48) of a 97 px image stays where it is under np.rot90
    np.testing.assert_array_equal(upright.rows, [48, 48, 48])
    np.testing.assert_array_equal(turned.rows, [48, 48, 48])
    np.testing.assert_array_equal(turned.cols, [48, 48, 48])


@pytest.mark.parametrize("theta", [30.0, 45.0, 90.0, 135.0, 200.0, 270.0, 322.0])
def test_recovers_a_known_rotation_of_an_asymmetric_shape(
    shape_bank: FilterBank, theta: float
) -> None:
    shape = _asymmetric_shape()
    turned = rotate_image(shape, theta)  # the query: the match turned by theta
    match = plan_peaks(shape_bank.plan, shape)
    query = plan_peaks(shape_bank.plan, turned)
    estimate = relative_rotation(query.angles_deg, match.angles_deg, query.values, match.values)
    assert angle_error_deg(estimate, theta) <= 15.0
    # and the other way round: the query turned back gives the match
    back = relative_rotation(match.angles_deg, query.angles_deg, match.values, query.values)
    assert angle_error_deg(back, -theta) <= 15.0


def test_relative_rotation_weights_and_missing_filters() -> None:
    # two strong filters agree on 90, one weak filter says 180, one filter responded to one
    # image only (NaN) and must not vote
    query = np.array([90.0, 120.0, 180.0, np.nan])
    match = np.array([0.0, 30.0, 0.0, 10.0])
    values = np.array([0.9, 0.8, 0.1, 0.9])
    assert relative_rotation(query, match, values, values) == pytest.approx(90.0)
    # the weight is the smaller of the two values: a filter silent on the match cannot win
    assert relative_rotation(query, match, values, [0.0, 0.0, 0.1, 0.9]) == pytest.approx(180.0)
    assert np.isnan(relative_rotation(query, match, values, np.zeros(4)))
    # wrapping: votes at 350 and 10 average to 0, not 180
    assert relative_rotation([350.0, 10.0], [0.0, 0.0], [1, 1], [1, 1]) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="one entry per filter"):
        relative_rotation([0.0], [0.0, 1.0], [1.0], [1.0])


def test_describe_report_keeps_angles_only_when_asked(shape_bank: FilterBank) -> None:
    shape = _asymmetric_shape()
    images = [shape, np.rot90(shape), np.zeros_like(shape)]
    plain = describe_report(shape_bank, images)
    kept = describe_report(shape_bank, images, angles=True, chunk_size=2)
    assert plain.angles_deg is None
    np.testing.assert_array_equal(kept.descriptors, plain.descriptors)
    angles = kept.angles_deg
    assert angles.shape == (3, 3) and angles.dtype == np.float32
    np.testing.assert_array_equal(angles[:2], [[0, 0, 0], [90, 90, 90]])
    assert np.isnan(angles[2]).all()  # no filter responds to an empty image
    expected = plan_peaks(shape_bank.plan, prepare_image(shape_bank, images[1]))
    np.testing.assert_array_equal(angles[1], expected.angles_deg)


def test_rotate_image_is_counter_clockwise_like_rot90() -> None:
    shape = _asymmetric_shape()
    np.testing.assert_allclose(rotate_image(shape, 90.0), np.rot90(shape), atol=1e-5)


def test_descriptor_file_keeps_angles_and_old_files_load_without(tmp_path) -> None:
    from cosfire.descriptor_file import DescriptorSet, load_descriptors, save_descriptors

    descriptors = np.array([[0.5, 0.0], [0.2, 0.7]], np.float32)
    angles = np.array([[15.0, np.nan], [300.0, 45.0]], np.float32)
    with_angles = DescriptorSet(descriptors, [0, 1], ("a", "b"), ("x", "y"), angles_deg=angles)
    for mmap in (False, True):
        loaded = load_descriptors(save_descriptors(with_angles, tmp_path / "a.npz"), mmap=mmap)
        np.testing.assert_array_equal(loaded.angles_deg, angles)  # NaN stays NaN
        np.testing.assert_array_equal(loaded.select(np.array([1])).angles_deg, angles[1:])
    without = DescriptorSet(descriptors, [0, 1], ("a", "b"), ("x", "y"))
    assert load_descriptors(save_descriptors(without, tmp_path / "b.npz")).angles_deg is None
    with pytest.raises(ValueError, match="angles_deg has shape"):
        DescriptorSet(descriptors, [0, 1], ("a", "b"), ("x", "y"), angles_deg=angles[:1])


def test_archive_keeps_angles_and_old_archives_load_without(tmp_path) -> None:
    import json
    import zipfile

    from retrieval.archive import Archive, load_archive, save_archive
    from retrieval.index import HammingIndex

    index = HammingIndex(4)
    index.add(np.array([[1, 0, 1, 0], [0, 1, 1, 0]], dtype=bool))
    angles = np.array([[30.0, np.nan], [0.0, 345.0]], np.float32)
    archive = Archive(
        index,
        ("a.png", "b.png"),
        np.array([0, 1]),
        ("A", "B"),
        descriptors=np.ones((2, 2), np.float32),
        angles_deg=angles,
    )
    loaded = load_archive(save_archive(archive, tmp_path / "new.chx"))
    np.testing.assert_array_equal(loaded.angles_deg, angles)
    with zipfile.ZipFile(tmp_path / "new.chx") as bundle:
        assert json.loads(bundle.read("manifest.json"))["format_version"] == 2
    archive.angles_deg = None
    assert load_archive(save_archive(archive, tmp_path / "old.chx")).angles_deg is None


def test_small_filters_do_not_vote_when_extents_are_given() -> None:
    # a wide filter (20 px) says 90, two small ones (5 px: 1.3 px per 15 degree step) say 0
    query, match = np.array([90.0, 0.0, 0.0]), np.zeros(3)
    values = np.array([0.5, 0.9, 0.9])
    assert relative_rotation(query, match, values, values) == pytest.approx(0.0)
    extents = np.array([20.0, 5.0, 5.0])
    assert relative_rotation(query, match, values, values, extents_px=extents) == 90.0
    with pytest.raises(ValueError, match="extents_px has shape"):
        relative_rotation(query, match, values, values, extents_px=extents[:2])


def test_filter_extents_cover_every_column(shape_bank: FilterBank) -> None:
    from cosfire.orientation import filter_extents_px

    np.testing.assert_array_equal(filter_extents_px(shape_bank), [18.0, 18.0, 10.0])


def test_min_agreement_gives_no_angle_for_scattered_votes() -> None:
    # four equal votes at 0, 90, 180 and 270: the best bin holds a quarter of the weight
    query, match, values = np.array([0.0, 90.0, 180.0, 270.0]), np.zeros(4), np.ones(4)
    assert np.isfinite(relative_rotation(query, match, values, values))
    assert np.isnan(relative_rotation(query, match, values, values, min_agreement=0.5))
    # three of four agree on 90: 75 % of the weight
    agreeing = np.array([90.0, 90.0, 90.0, 270.0])
    assert relative_rotation(agreeing, match, values, values, min_agreement=0.5) == 90.0


def test_self_similarity_turns_about_the_source_not_the_image_centre() -> None:
    rows, cols = np.mgrid[:61, :61]
    dot = np.exp(-((rows - 32.0) ** 2 + (cols - 27.0) ** 2) / 6.0)  # 3 px off the centre
    assert self_similarity(dot, 137.0) > 0.98
    # about the image centre the same dot moves by about 6 px and no longer matches itself
    assert np.corrcoef(dot.ravel(), rotate_image(dot, 137.0).ravel())[0, 1] < 0.2
    bar = np.exp(-((rows - 30.0) ** 2) / 2.0 - (cols - 30.0) ** 2 / 80.0)
    assert self_similarity(bar, 180.0) > 0.98
    assert self_similarity(bar, 90.0) < 0.3


def test_first_galaxies_turned_by_known_angles_are_found_at_that_angle() -> None:
    """Issue 18: within one step (15 deg) in >= 90 % of the cases that are not symmetric."""
    from galaxy_samples import CLASSES, first_galaxies

    from cosfire.bank import configure_bank
    from cosfire.orientation import filter_extents_px

    train, train_labels = first_galaxies("train", per_class=60, stride=5)
    bank = configure_bank(train, train_labels, class_names=CLASSES, per_class=10, seed=0)
    originals, labels = first_galaxies("valid", per_class=10, stride=3)
    true_deg = np.random.default_rng(0).uniform(0.0, 360.0, size=len(originals))
    turned = [rotate_image(image, angle) for image, angle in zip(originals, true_deg, strict=True)]
    described = describe_report(bank, originals + turned, angles=True)
    n = len(originals)
    extents = filter_extents_px(bank)
    estimated = np.array(
        [
            relative_rotation(
                described.angles_deg[n + i],
                described.angles_deg[i],
                described.descriptors[n + i],
                described.descriptors[i],
                extents_px=extents,
            )
            for i in range(n)
        ]
    )
    right = angle_error_deg(estimated, true_deg) <= 15.0
    symmetric = np.array(
        [
            not right[i]
            and self_similarity(prepare_image(bank, originals[i]), estimated[i] - true_deg[i])
            >= 0.9
            for i in range(n)
        ]
    )
    assert (~symmetric).sum() >= 0.75 * n  # most galaxies have one right answer
    assert right[~symmetric].mean() >= 0.9
    assert right[labels != CLASSES.index("Compact")].mean() >= 0.85  # extended: mostly right
