"""A Hamming-space index of binary codes, on faiss's binary indexes.

Codes of any length are accepted; they are packed MSB-first and zero-padded to whole bytes,
which leaves Hamming distances unchanged. ``kind="exact"`` (``IndexBinaryFlat``) returns the
true k nearest codes; among equal distances the smaller id comes first, exactly so at the k-th
place. faiss's flat search scans the codes in insertion order and keeps the first-seen among
codes tied at the k-th distance, so when ids grow with insertion order (the default, and every
archive) one faiss search sorted by (distance, id) is exact; for other ids the index asks for
more neighbours until the whole tie group at the k-th distance is in hand, then sorts. ``kind="hnsw"`` (``IndexBinaryHNSW``) and ``kind="multihash"``
(``IndexBinaryMultiHash``) are approximate, for archives of tens of millions of codes; their
recall against exact search is measured in ``benchmarks/bench_search.py``. ``kind="ivf"``
(``IndexBinaryIVF``: codes bucketed by binary k-means, ``ivf_probes`` buckets searched per
query) is the approximate index to use for large archives: on clustered 64-bit codes it was
tens of times faster than exact search at about 99 % recall@100.

Saved indexes (:meth:`HammingIndex.to_bytes`, format version 2) hold the codes and ids and,
for the trained or built approximate kinds (IVF, HNSW), faiss's own serialisation of the index
(``faiss.serialize_index_binary``): loading reads the bucket centres and the graph back instead
of re-training the k-means or re-building the graph, so a loaded index returns exactly what
the saved one did. Version-1 files (codes and settings only) still load; their approximate
index is built again on load, as before.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Literal

import numpy as np

from retrieval._atomic import atomic_write, check_format_version
from retrieval.codes import as_packed, n_bytes

__all__ = ["INDEX_FORMAT_VERSION", "HammingIndex", "IndexKind"]

INDEX_FORMAT_VERSION = 2
#: kinds whose faiss index is saved in faiss's own format (trained / built state)
_NATIVE_KINDS = ("ivf", "hnsw")
IndexKind = Literal["exact", "ivf", "hnsw", "multihash"]


def _faiss():
    import faiss

    return faiss


class HammingIndex:
    """Binary codes with ids, searchable by Hamming distance.

    Parameters
    ----------
    bits : int
        Code length (any positive integer).
    kind : {"exact", "ivf", "hnsw", "multihash"}
        Exact brute force (faiss ``IndexBinaryFlat``) or an approximate index.
    ivf_lists : int, optional
        Buckets of the IVF index (default about 4 sqrt(n), at most one per 39 training codes),
        fixed by the first ``add``, which also trains the bucket centres (on at most 100,000 of
        its codes).
    ivf_probes : int
        Buckets searched per query.
    hnsw_neighbours : int
        Graph degree M of the HNSW index.
    multihash_tables : int
        Hash tables of the multi-hash index (each hashes ``bits // tables`` bits).
    hnsw_ef_search : int
        Candidate list length of HNSW search (at least k is used); larger is slower and
        finds more of the true neighbours.
    multihash_flips : int
        Bits flipped when probing the multi-hash tables; larger finds more, slower.

    Examples
    --------
    >>> index = HammingIndex(4)
    >>> index.add(np.array([[0, 0, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], dtype=bool), ids=[10, 20, 30])
    >>> distances, ids = index.search(np.array([[1, 0, 0, 0]], dtype=bool), 2)
    >>> distances.tolist(), ids.tolist()
    ([[0, 1]], [[30, 10]])
    """

    def __init__(
        self,
        bits: int,
        *,
        kind: IndexKind = "exact",
        hnsw_neighbours: int = 16,
        multihash_tables: int = 4,
        hnsw_ef_search: int = 256,
        multihash_flips: int = 2,
        ivf_lists: int | None = None,
        ivf_probes: int = 16,
    ) -> None:
        if not isinstance(bits, int | np.integer) or bits <= 0:
            raise ValueError(f"bits must be a positive integer, got {bits!r}")
        if kind not in ("exact", "ivf", "hnsw", "multihash"):
            raise ValueError(f"kind must be 'exact', 'ivf', 'hnsw' or 'multihash', got {kind!r}")
        self.bits = int(bits)
        self.kind: IndexKind = kind
        self.hnsw_neighbours = hnsw_neighbours
        self.multihash_tables = multihash_tables
        self.hnsw_ef_search = hnsw_ef_search
        self.multihash_flips = multihash_flips
        self.ivf_lists = ivf_lists
        self.ivf_probes = ivf_probes
        self._codes = np.zeros((0, n_bytes(self.bits)), dtype=np.uint8)
        self._ids = np.zeros(0, dtype=np.int64)
        self._ids_increasing = True
        # made by the first add (an IVF index trains on it) or restored by from_bytes
        self._index = None

    def _new_faiss_index(self, training: np.ndarray | None = None):
        faiss = _faiss()
        dimension = 8 * n_bytes(self.bits)
        if self.kind == "exact":
            return faiss.IndexBinaryFlat(dimension)
        if self.kind == "ivf":
            assert training is not None
            sample = training
            if len(sample) > 100_000:
                sample = sample[
                    np.random.default_rng(0).choice(len(sample), 100_000, replace=False)
                ]
            lists = self.ivf_lists or int(np.clip(4 * np.sqrt(len(training)), 1, 65536))
            # k-means wants about 39 training codes per bucket
            lists = max(1, min(lists, len(sample) // 39 or 1))
            self.ivf_lists = lists
            self._quantizer = faiss.IndexBinaryFlat(dimension)
            index = faiss.IndexBinaryIVF(self._quantizer, dimension, lists)
            index.train(np.ascontiguousarray(sample))
            return index
        if self.kind == "hnsw":
            return faiss.IndexBinaryHNSW(dimension, self.hnsw_neighbours)
        bits_per_table = max(1, min(self.bits // self.multihash_tables, 24))
        index = faiss.IndexBinaryMultiHash(dimension, self.multihash_tables, bits_per_table)
        index.nflip = self.multihash_flips
        return index

    def __len__(self) -> int:
        return int(self._ids.size)

    @property
    def codes(self) -> np.ndarray:
        """The packed codes, in insertion order (uint8, (n, ceil(bits/8)))."""
        return self._codes

    @property
    def ids(self) -> np.ndarray:
        """The ids, in insertion order (int64)."""
        return self._ids

    def add(self, codes: np.ndarray, ids: np.ndarray | list[int] | None = None) -> None:
        """Add codes (bool/0-1 ``(n, bits)`` or packed uint8 ``(n, ceil(bits/8))``) with ids.

        ``ids`` default to consecutive integers after the current size.
        """
        packed = as_packed(codes, self.bits)
        if ids is None:
            new_ids = np.arange(len(self), len(self) + len(packed), dtype=np.int64)
        else:
            new_ids = np.asarray(ids, dtype=np.int64).reshape(-1)
            if new_ids.size != len(packed):
                raise ValueError(f"{new_ids.size} ids given for {len(packed)} codes")
        if new_ids.size:
            previous_last = self._ids[-1] if len(self) else np.iinfo(np.int64).min
            self._ids_increasing &= bool(
                new_ids[0] > previous_last and np.all(np.diff(new_ids) > 0)
            )
        if self._index is None:
            self._index = self._new_faiss_index(packed)
        self._index.add(np.ascontiguousarray(packed))
        self._codes = np.concatenate([self._codes, packed]) if len(self) else packed.copy()
        self._ids = np.concatenate([self._ids, new_ids])

    def _check_k(self, k: int) -> int:
        if not isinstance(k, int | np.integer) or k <= 0:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if k > len(self):
            raise ValueError(
                f"k={k} is larger than the index ({len(self)} codes); ask for at most {len(self)}"
            )
        return int(k)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the k nearest codes of every query: distances (int32) and ids (int64).

        Both have shape ``(n_queries, k)``, nearest first; ties in distance are ordered by
        ascending id (exact index).
        """
        k = self._check_k(k)
        packed = np.ascontiguousarray(as_packed(queries, self.bits))
        if self.kind != "exact":
            if self.kind == "hnsw":
                self._index.hnsw.efSearch = max(k, self.hnsw_ef_search)
            if self.kind == "ivf":
                self._index.nprobe = self.ivf_probes
            distances, positions = self._index.search(packed, k)
            # an approximate index may find fewer than k codes: those slots hold id -1
            missing = positions < 0
            distances = np.where(missing, np.iinfo(np.int32).max, distances)
            found = np.where(missing, -1, self._ids[np.maximum(positions, 0)])
            return distances.astype(np.int32), found
        if self._ids_increasing:
            distances, positions = self._index.search(packed, k)
            order = np.lexsort((positions, distances), axis=1)
            return (
                np.take_along_axis(distances, order, axis=1).astype(np.int32),
                self._ids[np.take_along_axis(positions, order, axis=1)],
            )
        size = len(self)
        out_distances = np.empty((len(packed), k), dtype=np.int32)
        out_ids = np.empty((len(packed), k), dtype=np.int64)
        pending = np.arange(len(packed))
        wanted = min(size, k + max(8, k // 2))
        while pending.size:
            distances, positions = self._index.search(packed[pending], wanted)
            # complete when the k-th distance's whole tie group came back
            complete = (distances[:, -1] > distances[:, k - 1]) | (wanted == size)
            done = pending[complete]
            found_ids = self._ids[positions[complete]]
            found_distances = distances[complete]
            order = np.lexsort((found_ids, found_distances), axis=1)[:, :k]
            out_distances[done] = np.take_along_axis(found_distances, order, axis=1)
            out_ids[done] = np.take_along_axis(found_ids, order, axis=1)
            pending = pending[~complete]
            wanted = min(size, 4 * wanted)
        return out_distances, out_ids

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the index to ``path`` (an ``.npz``) atomically and return the path."""
        target = Path(path)
        with atomic_write(target, "wb") as handle:
            handle.write(self.to_bytes())
        return target

    @property
    def is_native(self) -> bool:
        """Whether :meth:`to_bytes` stores faiss's own serialisation (trained IVF, HNSW)."""
        return self.kind in _NATIVE_KINDS and self._index is not None

    def to_bytes(self) -> bytes:
        """Return the index as the bytes of an ``.npz`` (codes, ids, settings, version).

        For a trained IVF or a built HNSW index, the faiss index itself is stored too
        (``faiss_index``, faiss's binary serialisation as uint8), so loading does not re-train.
        """
        native = {}
        if self.is_native:
            native["faiss_index"] = _faiss().serialize_index_binary(self._index)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            **native,
            codes=self._codes,
            ids=self._ids,
            bits=np.int64(self.bits),
            kind=np.array(self.kind),
            hnsw_neighbours=np.int64(self.hnsw_neighbours),
            multihash_tables=np.int64(self.multihash_tables),
            hnsw_ef_search=np.int64(self.hnsw_ef_search),
            multihash_flips=np.int64(self.multihash_flips),
            ivf_lists=np.int64(self.ivf_lists or 0),
            ivf_probes=np.int64(self.ivf_probes),
            format_version=np.int64(INDEX_FORMAT_VERSION),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, *, name: str = "index") -> HammingIndex:
        """Rebuild an index from :meth:`to_bytes` output (no pickles)."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as stored:
                fields = {key: stored[key] for key in stored.files}
        except (OSError, ValueError) as error:
            raise ValueError(f"{name} is not a readable Hamming index ({error})") from error
        version = int(fields.get("format_version", 0))
        check_format_version(version, INDEX_FORMAT_VERSION, what="a Hamming index", source=name)
        index = cls(
            int(fields["bits"]),
            kind=str(fields["kind"]),  # type: ignore[arg-type]
            hnsw_neighbours=int(fields["hnsw_neighbours"]),
            multihash_tables=int(fields["multihash_tables"]),
            hnsw_ef_search=int(fields.get("hnsw_ef_search", 256)),
            multihash_flips=int(fields.get("multihash_flips", 2)),
            ivf_lists=int(fields.get("ivf_lists", 0)) or None,
            ivf_probes=int(fields.get("ivf_probes", 16)),
        )
        if "faiss_index" in fields:
            index._restore(fields, name=name)
        elif len(fields["ids"]):
            index.add(fields["codes"], fields["ids"])
        return index

    def _restore(self, fields: dict[str, np.ndarray], *, name: str) -> None:
        """Take codes, ids and the faiss index as saved, without training or building."""
        try:
            native = _faiss().deserialize_index_binary(
                np.ascontiguousarray(fields["faiss_index"], dtype=np.uint8)
            )
        except RuntimeError as error:
            raise ValueError(f"{name} holds an unreadable faiss index ({error})") from error
        codes = as_packed(fields["codes"], self.bits)
        ids = np.asarray(fields["ids"], dtype=np.int64).reshape(-1)
        if native.ntotal != len(codes) or len(ids) != len(codes):
            raise ValueError(
                f"{name}: the faiss index holds {native.ntotal} codes, the file {len(codes)} "
                f"codes and {len(ids)} ids; rebuild the index"
            )
        self._index = native
        self._codes = codes.copy()
        self._ids = ids
        self._ids_increasing = bool(np.all(np.diff(ids) > 0))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> HammingIndex:
        """Read an index written by :meth:`save`."""
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"index file '{source}' does not exist")
        return cls.from_bytes(source.read_bytes(), name=f"'{source}'")
