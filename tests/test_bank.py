"""Filter banks: reproducible configuration, exact JSON round trip, clear errors."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import numpy as np
import pytest

from cosfire.bank import BANK_FORMAT_VERSION, FilterBank, configure_bank, load_bank
from cosfire.configure import FilterConfig
from cosfire.descriptor import describe
from cosfire.preprocess import Preprocessing


def galaxies(seed: int, count: int, size: int = 48) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    images = []
    for _ in range(count):
        image = np.zeros((size, size))
        for _ in range(rng.integers(1, 4)):
            row, col = rng.uniform(16, 32, 2)
            image += np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / rng.uniform(2, 6))
        images.append((image / image.max()).astype(np.float32))
    return images


CONFIG = FilterConfig(sigma=2.0, polarity="both", rhos=(0, 4, 8), t1=0.1)


@pytest.fixture(scope="module")
def small_bank() -> FilterBank:
    images = galaxies(0, 12)
    labels = np.repeat([0, 1, 2], 4)
    return configure_bank(
        images,
        labels,
        class_names=("a", "b", "c"),
        per_class=2,
        seed=7,
        config=CONFIG,
        preprocessing=Preprocessing(crop_px=None),
    )


def test_bank_layout_and_reproducibility(small_bank: FilterBank) -> None:
    assert small_bank.n_filters == 6
    assert small_bank.filter_class == (0, 0, 1, 1, 2, 2)
    assert small_bank.filter_index == (0, 1, 0, 1, 0, 1)
    again = configure_bank(
        galaxies(0, 12),
        np.repeat([0, 1, 2], 4),
        class_names=("a", "b", "c"),
        per_class=2,
        seed=7,
        config=CONFIG,
        preprocessing=Preprocessing(crop_px=None),
    )
    assert again.sha256 == small_bank.sha256
    other_seed = configure_bank(
        galaxies(0, 12),
        np.repeat([0, 1, 2], 4),
        class_names=("a", "b", "c"),
        per_class=2,
        seed=8,
        config=CONFIG,
        preprocessing=Preprocessing(crop_px=None),
    )
    assert other_seed.sha256 != small_bank.sha256


def test_bank_json_round_trip_is_exact(small_bank: FilterBank, tmp_path) -> None:
    path = small_bank.save(tmp_path / "bank.json")
    loaded = load_bank(path)
    assert loaded.filters == small_bank.filters
    assert loaded.to_dict() == small_bank.to_dict()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == small_bank.sha256 == loaded.sha256
    images = galaxies(1, 3)
    np.testing.assert_array_equal(describe(loaded, images), describe(small_bank, images))


def test_bank_cut_to_fewer_filters_per_class(small_bank: FilterBank) -> None:
    cut = small_bank.per_class_subset(1)
    assert cut.filter_class == (0, 1, 2)
    assert cut.filters == tuple(small_bank.filters[i] for i in (0, 2, 4))


def test_newer_or_foreign_files_are_refused(small_bank: FilterBank, tmp_path) -> None:
    spec = small_bank.to_dict()
    spec["format_version"] = BANK_FORMAT_VERSION + 1
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="upgrade cosfire-hash"):
        load_bank(newer)
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"hello": 1}')
    with pytest.raises(ValueError, match="not a cosfire-hash filter bank"):
        load_bank(foreign)
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\xff not json")
    with pytest.raises(ValueError, match="not a filter bank JSON"):
        load_bank(garbage)
    with pytest.raises(FileNotFoundError, match="cosfire-hash configure"):
        load_bank(tmp_path / "missing.json")


def test_too_few_usable_prototypes_is_a_clear_error() -> None:
    blank = [np.zeros((40, 40), np.float32)] * 3
    with pytest.raises(ValueError, match="usable prototypes"):
        configure_bank(blank, [0, 0, 0], class_names=("empty",), per_class=1, config=CONFIG)


def test_parallel_backends_give_identical_descriptors(small_bank: FilterBank) -> None:
    images = galaxies(2, 9)
    serial = describe(small_bank, images)
    assert (serial > 0).any()
    for backend in ("threading", "loky"):
        parallel = describe(small_bank, images, n_jobs=2, backend=backend, chunk_size=2)
        np.testing.assert_array_equal(parallel, serial)


def test_progress_callback_counts_every_image(small_bank: FilterBank) -> None:
    seen: list[int] = []
    describe(small_bank, galaxies(3, 5), chunk_size=2, progress=seen.append)
    assert seen == [2, 2, 1]


def test_a_mixed_bank_takes_its_configs_in_turn_and_describes_like_its_parts() -> None:
    images, labels = galaxies(0, 12), np.repeat([0, 1, 2], 4)
    small, large = CONFIG, FilterConfig(sigma=3.0, polarity="both", rhos=(0, 4, 8), t1=0.1)
    options = dict(
        class_names=("a", "b", "c"), per_class=2, seed=7, preprocessing=Preprocessing(crop_px=None)
    )
    mixed = configure_bank(images, labels, config=[small, large], **options)
    only_small = configure_bank(images, labels, config=small, **options)
    only_large = configure_bank(images, labels, config=large, **options)
    # filter k of a class uses config k % 2, on the prototype a one-config bank would draw
    sigmas = [{part.channel.sigma for part in f.tuples} for f in mixed.filters]
    assert sigmas == [{2.0}, {3.0}] * 3
    for k in range(mixed.n_filters):
        assert mixed.filters[k] == (only_small if k % 2 == 0 else only_large).filters[k]
    assert [c["sigma"] for c in mixed.metadata["config"]] == [2.0, 3.0]
    # one plan over both sigmas answers what each one-config bank answers alone
    queries = galaxies(1, 4)
    expected = np.where(
        np.arange(mixed.n_filters) % 2 == 0,
        describe(only_small, queries),
        describe(only_large, queries),
    )
    np.testing.assert_allclose(describe(mixed, queries), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="non-empty sequence"):
        configure_bank(images, labels, config=[], **options)


def test_only_banks_that_smooth_carry_the_newer_format_version(small_bank: FilterBank) -> None:
    assert small_bank.to_dict()["format_version"] == 1  # older releases read it, same checksum
    smoothing = replace(small_bank, preprocessing=Preprocessing(crop_px=None, smooth_px=1.0))
    spec = smoothing.to_dict()
    assert spec["format_version"] == 2
    assert FilterBank.from_dict(spec).preprocessing.smooth_px == 1.0


def test_banks_with_matlab_conventions_carry_format_version_3(
    small_bank: FilterBank, tmp_path
) -> None:
    for changes in ({"shift": "fix"}, {"blur_rule": "exact"}, {"shift": "round", "border": "wrap"}):
        params = replace(small_bank.filters[0].params, **changes)
        changed = (replace(small_bank.filters[0], params=params),) + small_bank.filters[1:]
        bank = replace(small_bank, filters=changed)
        assert bank.to_dict()["format_version"] == 3 <= BANK_FORMAT_VERSION
        loaded = load_bank(bank.save(tmp_path / "bank.json"))
        assert loaded.filters[0].params == params
        assert loaded.sha256 == bank.sha256
    assert "border" not in json.dumps(small_bank.to_dict())  # defaults stay out of old files
