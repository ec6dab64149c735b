"""Codes and the Hamming index: exact agreement with brute force, ties by id, round trips."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.codes import as_packed, hamming_distances, pack_codes, unpack_codes
from retrieval.index import HammingIndex


def brute_force(queries: np.ndarray, database: np.ndarray, ids: np.ndarray, k: int):
    """Plain ranking: Hamming distance, then id; the documented tie rule."""
    distances = (queries[:, None, :] != database[None, :, :]).sum(axis=2)
    order = np.lexsort((np.broadcast_to(ids, distances.shape), distances), axis=1)[:, :k]
    return np.take_along_axis(distances, order, axis=1), ids[order]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 130), st.integers(1, 60), st.integers(0, 2**31))
def test_pack_unpack_round_trip_and_distances(bits: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 2, (n, bits)).astype(bool)
    packed = pack_codes(codes)
    assert packed.shape == (n, (bits + 7) // 8)
    assert np.array_equal(unpack_codes(packed, bits), codes)
    distances = hamming_distances(packed, packed)
    assert np.array_equal(distances, distances.T) and np.all(np.diag(distances) == 0)
    expected = (codes[:, None, :] != codes[None, :, :]).sum(axis=2)
    assert np.array_equal(distances, expected)
    # triangle inequality
    a, b, c = rng.integers(0, n, 3)
    assert distances[a, c] <= distances[a, b] + distances[b, c]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([3, 8, 36, 64, 72]), st.integers(1, 300), st.integers(0, 2**31))
def test_exact_search_equals_brute_force_with_many_ties(bits: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    # few distinct codes -> many ties at every distance
    pool = rng.integers(0, 2, (max(2, n // 10), bits)).astype(bool)
    database = pool[rng.integers(0, len(pool), n)]
    # increasing ids (the fast path) and shuffled ids (the tie-group pass)
    ids = np.sort(rng.permutation(10 * n)[:n]) if seed % 2 else rng.permutation(10 * n)[:n]
    ids = ids.astype(np.int64)
    queries = rng.integers(0, 2, (5, bits)).astype(bool)
    k = int(rng.integers(1, n + 1))
    index = HammingIndex(bits)
    index.add(database, ids)
    distances, found = index.search(queries, k)
    expected_distances, expected_ids = brute_force(queries, database, ids, k)
    assert np.array_equal(distances, expected_distances)
    assert np.array_equal(found, expected_ids)
    assert distances.dtype == np.int32 and found.dtype == np.int64


def test_packed_and_boolean_inputs_agree() -> None:
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 2, (50, 36)).astype(bool)
    a, b = HammingIndex(36), HammingIndex(36)
    a.add(codes)
    b.add(pack_codes(codes))
    assert np.array_equal(a.search(codes[:3], 7)[1], b.search(pack_codes(codes[:3]), 7)[1])


def test_bad_arguments_are_clear() -> None:
    with pytest.raises(ValueError, match="bits must be a positive integer"):
        HammingIndex(0)
    index = HammingIndex(8)
    index.add(np.zeros((3, 8), dtype=bool))
    with pytest.raises(ValueError, match="larger than the index"):
        index.search(np.zeros((1, 8), dtype=bool), 4)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        index.search(np.zeros((1, 8), dtype=bool), 0)
    with pytest.raises(ValueError, match="expected 8-bit codes"):
        index.add(np.zeros((2, 9), dtype=bool))
    with pytest.raises(ValueError, match="binary"):
        as_packed(np.full((1, 8), 2), 8)
    with pytest.raises(ValueError, match="beyond bit 4"):
        as_packed(np.array([[0b00001000]], dtype=np.uint8), 4)


def test_save_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    index = HammingIndex(36)
    index.add(rng.integers(0, 2, (200, 36)).astype(bool), np.arange(200) * 3)
    loaded = HammingIndex.load(index.save(tmp_path / "i.npz"))
    queries = rng.integers(0, 2, (4, 36)).astype(bool)
    assert len(loaded) == 200 and loaded.bits == 36
    for got, expected in zip(loaded.search(queries, 10), index.search(queries, 10), strict=True):
        assert np.array_equal(got, expected)


@pytest.mark.parametrize("kind", ["ivf", "hnsw", "multihash"])
def test_approximate_kinds_find_exact_duplicates(kind: str) -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 2, (500, 64)).astype(bool)
    index = HammingIndex(64, kind=kind)
    index.add(codes)
    distances, ids = index.search(codes[:20], 5)
    assert np.all(distances[:, 0] == 0)
    assert np.array_equal(ids[:, 0], np.arange(20))


def _refuse_rebuilding(monkeypatch) -> None:
    """Make any training or building of a faiss index fail the test."""

    def rebuilt(self, training=None):
        raise AssertionError("the faiss index was trained or built again on load")

    monkeypatch.setattr(HammingIndex, "_new_faiss_index", rebuilt)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_index_loads_in_faiss_format_without_training(
    kind: str, tmp_path: Path, monkeypatch
) -> None:
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 2, (2000, 36)).astype(bool)
    index = HammingIndex(36, kind=kind)
    index.add(codes)
    queries = rng.integers(0, 2, (30, 36)).astype(bool)
    expected = index.search(queries, 10)
    path = index.save(tmp_path / f"{kind}.npz")
    with np.load(path) as stored:
        assert int(stored["format_version"]) == 2 and stored["faiss_index"].dtype == np.uint8
    _refuse_rebuilding(monkeypatch)
    loaded = HammingIndex.load(path)
    assert loaded._index.is_trained and loaded._index.ntotal == 2000
    if kind == "ivf":
        assert loaded._index.nlist == index._index.nlist == index.ivf_lists
    for got, want in zip(loaded.search(queries, 10), expected, strict=True):
        assert np.array_equal(got, want)
    # the restored index keeps working: new codes are found (no training needed for them)
    loaded.add(codes[:1], ids=[5000])
    distances, ids = loaded.search(codes[:1], 2)
    assert distances[0].tolist() == [0, 0] and 5000 in ids[0]


def test_index_files_of_format_version_1_still_load() -> None:
    # an IVF index saved before faiss's format was stored: codes and settings only, rebuilt
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 2, (400, 16)).astype(bool)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        codes=pack_codes(codes),
        ids=np.arange(400, dtype=np.int64),
        bits=np.int64(16),
        kind=np.array("ivf"),
        hnsw_neighbours=np.int64(16),
        multihash_tables=np.int64(4),
        hnsw_ef_search=np.int64(256),
        multihash_flips=np.int64(2),
        ivf_lists=np.int64(0),
        ivf_probes=np.int64(16),
        format_version=np.int64(1),
    )
    loaded = HammingIndex.from_bytes(buffer.getvalue())
    assert loaded.kind == "ivf" and len(loaded) == 400 and loaded.is_native
    distances, ids = loaded.search(codes[:5], 1)
    assert np.all(distances == 0) and ids[:, 0].tolist() == [0, 1, 2, 3, 4]


def test_damaged_faiss_member_is_a_clear_error() -> None:
    index = HammingIndex(16, kind="hnsw")
    index.add(np.random.default_rng(6).integers(0, 2, (50, 16)).astype(bool))
    with np.load(io.BytesIO(index.to_bytes())) as stored:
        fields = {key: stored[key] for key in stored.files}
    fields["faiss_index"] = fields["faiss_index"][:40]
    buffer = io.BytesIO()
    np.savez(buffer, **fields)
    with pytest.raises(ValueError, match="unreadable faiss index"):
        HammingIndex.from_bytes(buffer.getvalue())
