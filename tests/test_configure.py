"""Configuration of filters from prototypes: tuples where the structure is, clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cosfire.apply import apply
from cosfire.configure import PEAK_RTOL, NoTuplesError, circular_peaks, configure
from cosfire.filter import CosfireFilter


def dots(size: int, points: list[tuple[int, int]], value: float = 1.0) -> np.ndarray:
    image = np.zeros((size, size), np.float32)
    for row, col in points:
        image[row, col] = value
    return image


def test_tuples_sit_at_the_prototype_structure() -> None:
    # a centre dot, one 10 px to the right (phi 0) and one 10 px above (phi 90 degrees)
    image = dots(64, [(32, 32), (32, 42), (22, 32)])
    found = configure(image, sigma=1.5, rhos=(0, 10), t1=0.1)
    pairs = sorted((part.rho, round(math.degrees(part.phi))) for part in found.tuples)
    assert pairs == [(0.0, 0), (10.0, 0), (10.0, 90)]
    assert found.center == (32, 32)


def test_polarity_both_and_t2_choose_channels() -> None:
    image = dots(64, [(32, 32)])
    both = configure(image, sigma=2.0, polarity="both", rhos=(0, 5), t1=0.1)
    # on-centre answers at the dot; off-centre (the dark ring) answers on the circle
    assert {part.channel.polarity for part in both.tuples if part.rho == 0} == {"on"}
    assert {part.channel.polarity for part in both.tuples if part.rho == 5} == {"off"}


def test_blank_prototype_is_a_clear_error() -> None:
    with pytest.raises(NoTuplesError, match="yields no tuple"):
        configure(np.zeros((40, 40), np.float32), sigma=2.0, source="blank.png")


def test_center_outside_and_bad_shape_are_errors() -> None:
    with pytest.raises(ValueError, match="outside"):
        configure(dots(20, [(10, 10)]), (30, 3), sigma=2.0)
    with pytest.raises(ValueError, match="2-D"):
        configure(np.zeros((4, 4, 3), np.float32))


def test_close_peaks_merge_into_the_stronger() -> None:
    # two dots 10 degrees apart on a circle of radius 12: eta = 22.5 degrees merges them
    image = dots(64, [(32, 32)])
    for degrees, value in ((0, 1.0), (10, 0.6)):
        angle = math.radians(degrees)
        image[round(32 - 12 * math.sin(angle)), round(32 + 12 * math.cos(angle))] = value
    merged = configure(image, sigma=1.0, rhos=(12,), t1=0.05)
    separate = configure(image, sigma=1.0, rhos=(12,), t1=0.05, eta=math.radians(5))
    assert len(merged.tuples) == 1 and len(separate.tuples) == 2


@pytest.mark.parametrize("seed", range(4))
def test_response_at_own_centre_is_the_maximum(seed: int) -> None:
    # Prototypes whose centre is the one brightest structure: an isolated core with fainter
    # satellites at random positions within the filter's reach.
    rng = np.random.default_rng(seed)
    image = dots(96, [(48, 48)])
    for _ in range(4):
        angle, rho = rng.uniform(0, 2 * np.pi), rng.uniform(8, 20)
        image[round(48 - rho * np.sin(angle)), round(48 + rho * np.cos(angle))] = rng.uniform(
            0.3, 0.7
        )
    prototype_filter = configure(image, sigma=2.0, rhos=(0, 5, 10, 15, 20), t1=0.05)
    response = apply(prototype_filter, image)
    assert response[prototype_filter.center] == response.max() > 0


@given(st.lists(st.floats(0, 1), min_size=3, max_size=40), st.integers(0, 39))
@example([0.0, 0.9999999999999999, 1.0], 0)  # a plateau 1 ulp high on one side
def test_circular_peaks_are_local_maxima_and_shift_with_the_signal(
    values: list[float], shift: int
) -> None:
    signal = np.array(values)
    peaks = circular_peaks(signal)
    # neighbours within the round-off tolerance are one plateau, so a peak may sit 1 ulp low
    slack = PEAK_RTOL * signal.max()
    for peak in peaks:
        assert signal[peak] > 0
        assert signal[peak] >= signal[(peak - 1) % signal.size] - slack
        assert signal[peak] >= signal[(peak + 1) % signal.size] - slack
    rolled = circular_peaks(np.roll(signal, shift % signal.size))
    assert len(rolled) == len(peaks)


def test_filter_round_trips_through_dict() -> None:
    image = dots(64, [(32, 32), (32, 42)])
    original = configure(image, sigma=1.5, polarity="both", rhos=(0, 10), t1=0.1, label="pair")
    restored = CosfireFilter.from_dict(original.to_dict())
    assert restored == original
    assert restored.subset([0]).tuples == original.tuples[:1]
