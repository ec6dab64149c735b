"""Data sets: layouts, the real FIRST zip, the synthetic set, offline download handling."""

from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from cosfire import datasets
from cosfire.datasets import open_dataset, stratified_subset
from cosfire.synthetic import GALAXY_KINDS as KINDS
from cosfire.synthetic import make_galaxy, write_synthetic_dataset


def make_folder(root: Path, layout: dict[str, dict[str, int]]) -> Path:
    for split, classes in layout.items():
        for class_name, count in classes.items():
            folder = root / split / class_name if split else root / class_name
            folder.mkdir(parents=True)
            for i in range(count):
                cv2.imwrite(str(folder / f"{i}.png"), np.full((8, 8), i * 10, np.uint8))
    return root


def test_folder_with_splits_and_a_zip_of_it_agree(tmp_path: Path) -> None:
    root = make_folder(
        tmp_path / "data" / "top", {"train": {"b": 2, "a": 1}, "test": {"a": 1, "b": 1}}
    )
    folder_set = open_dataset(tmp_path / "data")
    assert folder_set.splits == ("test", "train") and folder_set.class_names == ("a", "b")
    assert [(i.class_name, i.label) for i in folder_set.items("train")] == [
        ("a", 0),
        ("b", 1),
        ("b", 1),
    ]
    archive_path = tmp_path / "data.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for file in sorted(root.rglob("*.png")):
            archive.write(file, file.relative_to(tmp_path / "data").as_posix())
        archive.writestr("top/train/a/.hidden.png", b"junk")
    zip_set = open_dataset(archive_path)
    assert zip_set.counts("train") == folder_set.counts("train") == {"a": 1, "b": 2}
    for a, b in zip(zip_set.items("train"), folder_set.items("train"), strict=True):
        np.testing.assert_array_equal(zip_set.read(a), folder_set.read(b))


def test_class_folders_without_splits_form_split_all(tmp_path: Path) -> None:
    dataset = open_dataset(make_folder(tmp_path, {"": {"x": 2, "y": 1}}))
    assert dataset.splits == ("all",) and dataset.counts("all") == {"x": 2, "y": 1}
    with pytest.raises(ValueError, match="no split 'train'; choose one of all"):
        dataset.items("train")


def test_bad_sources_are_clear(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_dataset(tmp_path / "missing")
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable zip"):
        open_dataset(tmp_path / "bad.zip")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        open_dataset(tmp_path / "empty")


def test_real_first_zip_counts(real_data_zip: Path) -> None:
    dataset = open_dataset(real_data_zip)
    assert dataset.splits == ("all", "test", "train", "valid")
    assert dataset.class_names == ("Bent", "Compact", "FRI", "FRII")
    assert dataset.counts("all") == {"Bent": 348, "Compact": 391, "FRI": 495, "FRII": 924}
    assert dataset.counts("train") == {"Bent": 248, "Compact": 291, "FRI": 395, "FRII": 824}
    for split in ("valid", "test"):
        assert dataset.counts(split) == dict.fromkeys(dataset.class_names, 50)
    image = dataset.read(dataset.items("test")[0])
    assert image.shape == (300, 300) and image.dtype == np.float32 and image.max() == 1.0


def test_first_uses_the_environment_variable_and_never_the_network(monkeypatch, real_data_zip):
    monkeypatch.setenv(datasets.DATA_ENV, str(real_data_zip))
    monkeypatch.setattr(datasets, "fetch_first", lambda *a, **k: pytest.fail("network used"))
    assert open_dataset("first").source == str(real_data_zip)


def test_fetch_first_reports_how_to_get_the_file_by_hand(monkeypatch, tmp_path) -> None:
    import pooch

    def offline(*args, **kwargs):
        raise OSError("no route to host")

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(RuntimeError, match="COSFIRE_HASH_DATA"):
        datasets.fetch_first(tmp_path)


def test_fetch_first_passes_the_shipped_checksum(monkeypatch, tmp_path) -> None:
    import pooch

    seen = {}

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        seen.update(url=url, known_hash=known_hash)
        return str(tmp_path / fname)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    assert datasets.fetch_first(tmp_path).name == "galaxy_data.zip"
    assert seen["known_hash"] == "sha256:" + datasets.first_checksum()
    assert len(datasets.first_checksum()) == 64 and "7689127" in seen["url"]


def test_stratified_subset_is_seeded_and_balanced(real_data_zip: Path) -> None:
    items = open_dataset(real_data_zip).items("train")
    first = stratified_subset(items, 5, seed=1)
    assert stratified_subset(items, 5, seed=1) == first != stratified_subset(items, 5, seed=2)
    assert sorted(item.class_name for item in first) == sorted(
        list(("Bent", "Compact", "FRI", "FRII")) * 5
    )


def test_synthetic_set_is_deterministic_and_laid_out_like_first(tmp_path: Path) -> None:
    counts = {"train": 2, "test": 1}
    a = write_synthetic_dataset(tmp_path / "a", n_per_class=counts, size=96, seed=5)
    b = write_synthetic_dataset(tmp_path / "b", n_per_class=counts, size=96, seed=5)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*.png"))
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*.png"))
    assert len(files_a) == 12
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files_a)
    dataset = open_dataset(a)
    assert dataset.class_names == KINDS and dataset.counts("train") == dict.fromkeys(KINDS, 2)


def test_synthetic_morphologies_differ_as_their_classes_do() -> None:
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:300, 0:300]
    radius = np.hypot(rows - 150, cols - 150)

    def extent(kind: str) -> float:
        image = make_galaxy(kind, rng=rng).astype(float)
        return float(np.median([radius[image > 0.2 * image.max()].max()]))

    compact = np.median([extent("Compact") for _ in range(5)])
    extended = np.median([extent(kind) for kind in ("FRI", "FRII", "Bent") for _ in range(5)])
    assert compact < 5 < 10 < extended
    # FRII: brightest emission far from the centre (hot spots); FRI: at the core
    frii = [make_galaxy("FRII", rng=rng) for _ in range(5)]
    fri = [make_galaxy("FRI", rng=rng) for _ in range(5)]
    peak_radius = lambda image: radius.ravel()[image.argmax()]  # noqa: E731
    assert np.median([peak_radius(i) for i in frii]) > 2 * np.median([peak_radius(i) for i in fri])
