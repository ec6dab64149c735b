"""Archives: round trip, and a clear error (never a wrong answer) for every kind of damage."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from retrieval.archive import ARCHIVE_FORMAT_VERSION, Archive, load_archive, save_archive
from retrieval.index import HammingIndex


@pytest.fixture()
def archive_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    index = HammingIndex(36)
    index.add(rng.integers(0, 2, (64, 36)).astype(bool))
    archive = Archive(
        index,
        tuple(f"g{i}.png" for i in range(64)),
        rng.integers(0, 4, 64),
        ("Bent", "Compact", "FRI", "FRII"),
        "bank.json",
        "a" * 64,
        "model.pt",
        "b" * 64,
        {"note": "test"},
    )
    return save_archive(archive, tmp_path / "a.chx")


def test_round_trip(archive_file: Path) -> None:
    archive = load_archive(archive_file)
    assert len(archive) == 64 and archive.index.bits == 36
    assert archive.paths[3] == "g3.png" and archive.class_names[2] == "FRI"
    assert archive.bank_sha256 == "a" * 64 and archive.model_sha256 == "b" * 64
    assert archive.extra == {"note": "test"}
    again = load_archive(save_archive(archive, archive_file.with_name("b.chx")))
    assert np.array_equal(again.index.codes, archive.index.codes)
    assert np.array_equal(again.labels, archive.labels)


@pytest.mark.parametrize("keep", [10, 200, 0.5, -30])
def test_truncated_archive_fails_cleanly(archive_file: Path, keep: float) -> None:
    data = archive_file.read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep
    archive_file.write_bytes(data[:cut])
    with pytest.raises(ValueError, match="damaged|not a cosfire-hash archive"):
        load_archive(archive_file)


def rewrite(path: Path, change) -> None:
    with zipfile.ZipFile(path) as bundle:
        members = {name: bundle.read(name) for name in bundle.namelist()}
    change(members)
    with zipfile.ZipFile(path, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)


def test_flipped_byte_in_codes_is_detected(archive_file: Path) -> None:
    def flip(members):
        data = bytearray(members["index.npz"])
        data[len(data) // 2] ^= 0xFF
        members["index.npz"] = bytes(data)

    rewrite(archive_file, flip)
    with pytest.raises(ValueError, match="checksum of index.npz"):
        load_archive(archive_file)


def test_edited_manifest_is_detected(archive_file: Path) -> None:
    def edit(members):
        manifest = json.loads(members["manifest.json"])
        manifest["items"] = 63
        members["manifest.json"] = json.dumps(manifest).encode()

    rewrite(archive_file, edit)
    with pytest.raises(ValueError, match="disagree"):
        load_archive(archive_file)


def test_newer_format_asks_for_an_upgrade(archive_file: Path) -> None:
    def newer(members):
        manifest = json.loads(members["manifest.json"])
        manifest["format_version"] = ARCHIVE_FORMAT_VERSION + 1
        members["manifest.json"] = json.dumps(manifest).encode()

    rewrite(archive_file, newer)
    with pytest.raises(ValueError, match="upgrade cosfire-hash"):
        load_archive(archive_file)


def test_path_traversal_member_is_refused(archive_file: Path, tmp_path: Path) -> None:
    rewrite(archive_file, lambda members: members.update({"../../evil.txt": b"x"}))
    with pytest.raises(ValueError, match="unsafe member name"):
        load_archive(archive_file)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_other_files_are_not_archives(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("hello.txt", "hi")
    (tmp_path / "other.chx").write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="not a cosfire-hash archive"):
        load_archive(tmp_path / "other.chx")
    with pytest.raises(FileNotFoundError, match="cosfire-hash index"):
        load_archive(tmp_path / "missing.chx")


def test_descriptors_round_trip_as_format_version_2(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    index = HammingIndex(12)
    index.add(rng.integers(0, 2, (5, 12)).astype(bool))
    descriptors = rng.random((5, 7), dtype=np.float32)
    path = save_archive(
        Archive(
            index,
            tuple(f"g{i}.png" for i in range(5)),
            np.zeros(5),
            ("A",),
            descriptors=descriptors,
        ),
        tmp_path / "d.chx",
    )
    with zipfile.ZipFile(path) as bundle:
        assert json.loads(bundle.read("manifest.json"))["format_version"] == 2
    loaded = load_archive(path)
    assert loaded.descriptors is not None and loaded.descriptors.dtype == np.float32
    assert np.array_equal(loaded.descriptors, descriptors)
    with pytest.raises(ValueError, match="one row per item"):
        Archive(
            index, tuple(f"g{i}.png" for i in range(5)), np.zeros(5), descriptors=np.ones((4, 7))
        )


def test_archive_without_descriptors_stays_format_version_1(archive_file: Path) -> None:
    # written before descriptors were stored (or by a CNN model): loads, with no descriptors
    with zipfile.ZipFile(archive_file) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        assert "descriptors.npz" not in bundle.namelist()
    assert manifest["format_version"] == 1
    assert load_archive(archive_file).descriptors is None


def test_edited_descriptors_are_detected(tmp_path: Path) -> None:
    index = HammingIndex(8)
    index.add(np.zeros((3, 8), dtype=bool))
    path = save_archive(
        Archive(index, ("a", "b", "c"), np.zeros(3), descriptors=np.ones((3, 4))),
        tmp_path / "e.chx",
    )

    def edit(members):
        buffer = io.BytesIO()
        np.savez(buffer, descriptors=np.zeros((3, 4), np.float32))
        members["descriptors.npz"] = buffer.getvalue()

    rewrite(path, edit)
    with pytest.raises(ValueError, match="checksum of descriptors.npz"):
        load_archive(path)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_archive_is_format_version_3_and_loads_without_training(
    kind: str, tmp_path: Path, monkeypatch
) -> None:
    rng = np.random.default_rng(7)
    index = HammingIndex(24, kind=kind)
    index.add(rng.integers(0, 2, (1500, 24)).astype(bool))
    archive = Archive(index, tuple(f"g{i}.png" for i in range(1500)), np.zeros(1500), ("A",))
    path = save_archive(archive, tmp_path / f"{kind}.chx")
    with zipfile.ZipFile(path) as bundle:
        assert json.loads(bundle.read("manifest.json"))["format_version"] == 3
    queries = rng.integers(0, 2, (20, 24)).astype(bool)
    expected = index.search(queries, 8)

    def rebuilt(self, training=None):
        raise AssertionError("the archive's index was trained or built again on load")

    monkeypatch.setattr(HammingIndex, "_new_faiss_index", rebuilt)
    loaded = load_archive(path)
    assert loaded.index.kind == kind and loaded.index.is_native
    for got, want in zip(loaded.index.search(queries, 8), expected, strict=True):
        assert np.array_equal(got, want)


def test_archive_written_before_faiss_format_still_loads(tmp_path: Path) -> None:
    # format version 2 with an IVF index stored as codes and settings (index format 1)
    rng = np.random.default_rng(8)
    codes = rng.integers(0, 2, (300, 16)).astype(bool)
    index = HammingIndex(16, kind="ivf")
    index.add(codes)
    path = save_archive(
        Archive(
            index,
            tuple(f"g{i}" for i in range(300)),
            np.zeros(300),
            ("A",),
            descriptors=np.ones((300, 3), np.float32),
        ),
        tmp_path / "old.chx",
    )

    def as_old_release(members):
        with np.load(io.BytesIO(members["index.npz"])) as stored:
            fields = {key: stored[key] for key in stored.files if key != "faiss_index"}
        fields["format_version"] = np.int64(1)
        buffer = io.BytesIO()
        np.savez(buffer, **fields)
        members["index.npz"] = buffer.getvalue()
        manifest = json.loads(members["manifest.json"])
        manifest["format_version"] = 2
        manifest["members"]["index.npz"] = hashlib.sha256(buffer.getvalue()).hexdigest()
        members["manifest.json"] = json.dumps(manifest).encode()

    rewrite(path, as_old_release)
    loaded = load_archive(path)
    assert loaded.index.kind == "ivf" and len(loaded) == 300
    distances, ids = loaded.index.search(codes[:4], 1)
    assert np.all(distances == 0) and ids[:, 0].tolist() == [0, 1, 2, 3]


def test_archive_without_a_bank_finds_its_items(tmp_path: Path) -> None:
    index = HammingIndex(8)
    index.add(np.eye(8, dtype=bool)[:3])
    archive = Archive(
        index,
        ("train/FRI/a.png", "train/FRII/a.png", "train/Bent/c.png"),
        np.arange(3),
        ("FRI", "FRII", "Bent"),
    )
    loaded = load_archive(save_archive(archive, tmp_path / "nobank.chx"))
    assert not loaded.has_bank and loaded.bank_path == ""
    assert loaded.item_position("c.png") == 2
    assert loaded.item_position("train/FRII/a.png") == 1
    assert loaded.item_position("a.png") is None  # two items share the name
    assert loaded.item_position("missing.png") is None
