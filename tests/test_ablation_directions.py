"""The issue-15 prototypes of ``benchmarks/bench_descriptor_ablation.py`` do what their rows say."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from cosfire.bank import FilterBank
from cosfire.configure import configure
from cosfire.descriptor import describe
from cosfire.preprocess import Preprocessing


@pytest.fixture(scope="module")
def bench():
    path = Path(__file__).parents[1] / "benchmarks" / "bench_descriptor_ablation.py"
    spec = importlib.util.spec_from_file_location("bench_descriptor_ablation", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_descriptor_ablation"] = module  # so that its classes pickle
    spec.loader.exec_module(module)
    return module


def _pair(size: int = 96, gap: int = 12) -> np.ndarray:
    image = np.zeros((size, size), np.float32)
    image[size // 2, size // 2] = image[size // 2, size // 2 + gap] = 1.0
    return image


def _bank(image: np.ndarray) -> FilterBank:
    pair = configure(image, sigma=2.0, rhos=(0, 12), t1=0.1)
    return FilterBank((pair,), ("pair",), (0,), (0,), Preprocessing(crop_px=None))


def test_scaled_bank_multiplies_rho_and_sigma_and_finds_the_scaled_pattern(bench) -> None:
    image = _pair()
    bank = _bank(image)
    scaled = bench.scaled_bank(bank, (2.0,))
    part = scaled.filters[0].tuples[-1]
    original = bank.filters[0].tuples[-1]
    assert part.rho == 2 * original.rho and part.channel.sigma == 2 * original.channel.sigma
    # the pair at twice the gap, drawn with twice the blob size, answers the scaled filter best
    large = np.zeros((160, 160), np.float32)
    for col in (80, 104):
        large[79:82, col - 1 : col + 2] = 1.0
    small_response, large_response = describe(bank, [large])[0, 0], describe(scaled, [large])[0, 0]
    assert large_response > small_response


def test_push_pull_channel_is_silent_where_the_opposite_polarity_answers(bench) -> None:
    flat = np.zeros((64, 64), np.float32)
    flat[32, 32] = 1.0
    channel = bench.PushPullDoG(2.0)
    push = bench.dog_response(flat, sigma=2.0)
    response = channel.response(flat)
    assert response.max() > 0 and response[32, 32] == pytest.approx(push[32, 32])
    assert np.all(response <= push + 1e-7)
    # on a dark hole in a bright field the push ring is cancelled where the wide pull answers
    hole = 1.0 - flat
    assert channel.response(hole).sum() < bench.dog_response(hole, sigma=2.0).sum()


def test_rotation_features_turn_with_the_image(bench) -> None:
    rng = np.random.default_rng(0)
    values = rng.random((3, 5))
    angles = rng.integers(0, 24, size=(3, 5)) * 15.0
    angles[0, 1] = np.nan
    values[0, 1] = 0.0
    features = bench.rotation_features(values, angles)
    assert features.shape == (3, 5, 3)
    assert np.allclose(features, bench.rotation_features(values, (angles + 90.0) % 360))
    assert np.all(features[0, 1] == 0)
    assert np.allclose(features[..., 1] ** 2 + features[..., 2] ** 2, np.isfinite(angles) * 1.0)


def test_mrmr_takes_the_informative_filter_first_and_only_allowed_prototypes(bench) -> None:
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1], 20)
    noise = rng.random((40, 4))
    noise[:, 2] += 3.0 * labels  # filter 2 separates the classes
    pool = {
        "single": noise.astype(np.float32),
        "filter_class": np.array([0, 0, 1, 1]),
        "prototype_row": np.array([0, 1, 21, 22]),
    }
    allowed = np.arange(0, 40)
    assert 2 in bench.mrmr_filters(pool, 1, allowed, labels)
    # without filter 2's prototype among the rows, class 1 has to take filter 3
    chosen = bench.mrmr_filters(pool, 1, np.setdiff1d(allowed, [21]), labels)
    assert 3 in chosen and 2 not in chosen and chosen.size == 2


def test_extent_zoom_brings_radii_together(bench) -> None:
    rows, cols = np.indices((300, 300))
    radius = np.hypot(rows - 149.5, cols - 149.5)
    small = np.exp(-(radius**2) / (2 * 4.0**2)).astype(np.float32)
    large = np.exp(-(radius**2) / (2 * 8.0**2)).astype(np.float32)
    options = Preprocessing(crop_px=150, noise_clip=None)
    r_small = bench.second_moment_radius(small, options)
    r_large = bench.second_moment_radius(large, options)
    assert r_large == pytest.approx(2 * r_small, rel=0.05)
    zoomed = bench.zoom_about_centre(small, 2.0)
    assert bench.second_moment_radius(zoomed, options) == pytest.approx(r_large, rel=0.05)
