"""The vectorised engine and the compiled descriptor kernel agree with plain loops."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from galaxy_samples import first_galaxies
from reference_cosfire import reference_apply

from cosfire.apply import apply
from cosfire.bank import FilterBank
from cosfire.configure import configure, configure_gabor
from cosfire.descriptor import plan_maxima
from cosfire.plan import make_plan
from cosfire.preprocess import preprocess


def blob_image(seed: int, size: int = 48, blobs: int = 7) -> np.ndarray:
    """Random Gaussian blobs near the centre, background exactly zero."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    image = np.zeros((size, size))
    for _ in range(blobs):
        row, col = rng.uniform(size * 0.25, size * 0.75, 2)
        width = rng.uniform(1.0, 2.5)
        image += rng.uniform(0.3, 1) * np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / width**2)
    return (image / image.max()).astype(np.float32)


VARIANTS = [
    {"blur": "max", "weighted": True, "weight_rule": "radio", "shift": "round"},
    {"blur": "sum", "weighted": True, "weight_rule": "half", "shift": "bilinear"},
    {"blur": "max", "weighted": False, "weight_rule": "radio", "shift": "bilinear"},
    {"convention": "bcosfire"},  # exact sigma, sum blur, round, unweighted, wrap
    {"convention": "cosfire2013"},  # radius rule, max blur, fix, weighted
    {"blur": "max", "blur_rule": "exact", "shift": "fix", "border": "wrap"},
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", [0, 1])
def test_dense_apply_matches_plain_loops_on_random_images(variant: dict, seed: int) -> None:
    prototype, other = blob_image(seed), blob_image(seed + 100)
    dog_filter = configure(
        prototype,
        sigma=2.0,
        polarity="both",
        rhos=(0, 3, 6, 9),
        t1=0.1,
        sigma0=1.0,
        alpha=0.3,
        **variant,
    )
    assert len(dog_filter.tuples) >= 3
    for image in (prototype, other):
        expected = reference_apply(dog_filter, image, rotations_deg=(0, 30, 90))
        got = apply(dog_filter, image, rotations=(0, 30, 90))
        assert image is other or expected.max() > 0
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_gabor_filter_matches_plain_loops() -> None:
    prototype = blob_image(3)
    gabor_filter = configure_gabor(
        prototype, wavelengths=(4.0,), orientations=4, rhos=(0, 4), t1=0.2, t2=0.9
    )
    expected = reference_apply(gabor_filter, prototype, rotations_deg=(0, 45))
    np.testing.assert_allclose(apply(gabor_filter, prototype, rotations=(0, 45)), expected, 1e-5)


def test_sparse_kernel_equals_dense_maximum_on_random_images() -> None:
    images = [blob_image(seed, size=64, blobs=9) for seed in range(4)]
    filters = [
        configure(image, sigma=2.0, rhos=(0, 4, 8, 12), t1=0.05, sigma0=1.0, alpha=0.2)
        for image in images
    ]
    for changes in (
        {"blur": "sum", "weighted": False},
        {"shift": "bilinear"},
        {
            "blur": "sum",
            "blur_rule": "exact",
            "shift": "round",
            "weighted": False,
            "border": "wrap",
        },
        {"shift": "fix"},
        {"shift": "fix", "border": "wrap", "blur_rule": "exact"},
    ):
        params = dataclasses.replace(filters[0].params, **changes)
        filters.append(dataclasses.replace(filters[1], params=params))
    plan = make_plan(filters, scales=(1.0, 1.2), reflection=True)
    from cosfire.apply import response_maps

    for image in images:
        dense = response_maps(plan, image).max(axis=(1, 2))
        sparse = plan_maxima(plan, image)
        assert (dense > 0).sum() >= 2
        np.testing.assert_allclose(sparse, dense, rtol=1e-5, atol=1e-9)


def test_engine_matches_plain_loops_on_real_galaxies() -> None:
    images, _ = first_galaxies(per_class=1)
    galaxies = [preprocess(image) for image in images]
    prototype_filter = configure(galaxies[3])  # radio defaults: sigma 5, rho 0:5:30
    assert len(prototype_filter.tuples) >= 3
    rotations = (0.0, 45.0, 270.0)
    for galaxy in (galaxies[3], galaxies[2]):
        expected = reference_apply(prototype_filter, galaxy, rotations_deg=rotations)
        dense = apply(prototype_filter, galaxy, rotations=rotations)
        np.testing.assert_allclose(dense, expected, rtol=1e-5, atol=1e-8)
        bank = FilterBank((prototype_filter,), rotations_deg=rotations)
        assert plan_maxima(bank.plan, galaxy)[0] == pytest.approx(expected.max(), rel=1e-5)


def test_wrapped_borders_match_plain_loops_and_the_kernel() -> None:
    prototype = blob_image(0)
    straddling = np.roll(prototype, (24, 24), axis=(0, 1))  # the pattern crosses the corners
    wrapped = configure(prototype, sigma=2.0, rhos=(0, 4, 8, 12), t1=0.1, convention="bcosfire")
    rotations = (0.0, 30.0, 90.0)
    expected = reference_apply(wrapped, straddling, rotations_deg=rotations)
    got = apply(wrapped, straddling, rotations=rotations)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    zero_params = dataclasses.replace(wrapped.params, border="zero")
    zero = apply(dataclasses.replace(wrapped, params=zero_params), straddling, rotations=rotations)
    assert got.max() > 2 * zero.max()  # only reads across the edges find the whole pattern
    bank = FilterBank((wrapped,), rotations_deg=rotations)
    assert plan_maxima(bank.plan, straddling)[0] == pytest.approx(expected.max(), rel=1e-5)
