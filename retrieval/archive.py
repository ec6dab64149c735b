"""The archive file (``.chx``): a searchable collection of galaxies a user can carry around.

One uncompressed zip holding

* ``index.npz``: the Hamming index (codes and ids, :class:`~retrieval.index.HammingIndex`);
* ``items.npz``: per item, in index order: label (int64) and path;
* ``descriptors.npz`` (format version 2, optional): per item, in index order, the COSFIRE
  descriptor the code was made from (float32, (n, F)), for what needs more than the codes
  (ranking unusual galaxies, :mod:`retrieval.anomalies`);
* ``angles.npz`` (optional): per item, in index order, the rotation (degrees) at which each
  filter reached its maximum (float32, (n, F), NaN where it did not respond), for the angle of
  a match (``cosfire.orientation``);
* ``manifest.json``: format name and version, code length, item count, class names, the
  paths and SHA-256 of the filter bank and the hashing model the codes were made with, free
  ``extra`` provenance, and the SHA-256 of every other member.

Writes are atomic. Loading reads members into memory (nothing is extracted, so member names
cannot escape a folder), refuses names with ``..`` or absolute paths, checks every checksum and
shape, and raises a ``ValueError`` naming the file and the fix for anything truncated, edited or
too new: a damaged archive never gives an answer.

Archives without descriptors (CNN archives, or codes given without them) are written as format
version 1, which cosfire-hash before version 2 also reads; version-1 archives load with
``descriptors=None``. Archives whose index is an IVF or HNSW index are written as format
version 3: their ``index.npz`` holds faiss's own serialisation of the trained index (index
format version 2, :mod:`retrieval.index`), which loads without re-training; releases before
it refuse such archives with "upgrade cosfire-hash" instead of misreading them.

An archive may have no filter bank (``bank_path`` ""): a CNN archive, whose model hashes
images, or an archive of descriptors made elsewhere (the authors' MATLAB descriptors imported
by ``cosfire-hash data import-mat``). The latter is searched by descriptors and by its own
items (:meth:`Archive.item_position`), not by images. ``angles.npz`` needs no new version: readers that do not know it skip it,
and archives without it load with ``angles_deg=None``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from retrieval._atomic import atomic_write, check_format_version
from retrieval.index import HammingIndex

__all__ = ["ARCHIVE_FORMAT_VERSION", "Archive", "load_archive", "save_archive"]

ARCHIVE_FORMAT_VERSION = 3
_FORMAT = "cosfire-hash archive"
_MEMBERS = ("index.npz", "items.npz")
_DESCRIPTORS = "descriptors.npz"
_ANGLES = "angles.npz"


@dataclass(eq=False)
class Archive:
    """A Hamming index with what each code stands for and how the codes were made.

    Attributes
    ----------
    index : HammingIndex
    paths : tuple of str
        Source of every item, in the index's insertion order.
    labels : int64 array
        Class index of every item (-1 unknown).
    class_names : tuple of str
    bank_path, bank_sha256, model_path, model_sha256 : str
        The filter bank and hashing model that turn an image into a code of this archive.
    extra : dict
        Free JSON-able provenance (dataset, split, settings).
    descriptors : float32 array (n, F) or None
        The COSFIRE descriptor of every item, in index order (None: not stored, as in
        archives of format version 1 and of CNN models).
    angles_deg : float32 array (n, F) or None
        Per item and filter, the rotation (degrees) of the filter's maximum, NaN where it did
        not respond (None: not stored).

    Examples
    --------
    >>> index = HammingIndex(3); index.add(np.array([[1, 0, 1], [0, 0, 0]], dtype=bool))
    >>> archive = Archive(index, ("a.png", "b.png"), np.array([0, 1]), ("FRI", "FRII"))
    >>> archive.lookup(np.array([1]))[0]
    ('b.png', 'FRII')
    """

    index: HammingIndex
    paths: tuple[str, ...]
    labels: np.ndarray
    class_names: tuple[str, ...] = ()
    bank_path: str = ""
    bank_sha256: str = ""
    model_path: str = ""
    model_sha256: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    descriptors: np.ndarray | None = None
    angles_deg: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.paths = tuple(str(p) for p in self.paths)
        if self.angles_deg is not None:
            self.angles_deg = np.asarray(self.angles_deg, dtype=np.float32)
            if self.angles_deg.ndim != 2 or len(self.angles_deg) != len(self.paths):
                raise ValueError(
                    f"archive angles have shape {self.angles_deg.shape}, expected one row "
                    f"per item ({len(self.paths)})"
                )
        if self.descriptors is not None:
            self.descriptors = np.asarray(self.descriptors, dtype=np.float32)
            if self.descriptors.ndim != 2 or len(self.descriptors) != len(self.paths):
                raise ValueError(
                    f"archive descriptors have shape {self.descriptors.shape}, expected one row "
                    f"per item ({len(self.paths)})"
                )
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        self.class_names = tuple(str(c) for c in self.class_names)
        if not (len(self.index) == len(self.paths) == self.labels.size):
            raise ValueError(
                f"archive parts disagree: {len(self.index)} codes, {len(self.paths)} paths, "
                f"{self.labels.size} labels"
            )
        if not np.array_equal(self.index.ids, np.arange(len(self.index))):
            raise ValueError("archive index ids must be 0..n-1 (the item positions)")

    def __len__(self) -> int:
        return len(self.index)

    @property
    def has_bank(self) -> bool:
        """Whether the archive records the filter bank that turns an image into a descriptor."""
        return bool(self.bank_path)

    def item_position(self, name: str) -> int | None:
        """Return the position of the item whose path, or unique file name, is ``name``.

        None when no item, or more than one item, has that file name.

        Examples
        --------
        >>> index = HammingIndex(3); index.add(np.zeros((2, 3), dtype=bool))
        >>> archive = Archive(index, ("train/FRI/a.png", "train/FRII/b.png"), np.array([0, 1]))
        >>> archive.item_position("b.png"), archive.item_position("train/FRI/a.png")
        (1, 0)
        """
        if name in self.paths:
            return self.paths.index(name)
        matches = [i for i, path in enumerate(self.paths) if PurePosixPath(path).name == name]
        return matches[0] if len(matches) == 1 else None

    def label_name(self, label: int) -> str:
        """Return the class name of ``label`` ("?" for unknown)."""
        return self.class_names[label] if 0 <= label < len(self.class_names) else "?"

    def lookup(self, ids: np.ndarray) -> list[tuple[str, str]]:
        """Return (path, class name) of every id."""
        return [(self.paths[i], self.label_name(int(self.labels[i]))) for i in np.ravel(ids)]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _items_bytes(archive: Archive) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, labels=archive.labels, paths=np.array(archive.paths, dtype=str))
    return buffer.getvalue()


def _array_bytes(name: str, values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **{name: values})
    return buffer.getvalue()


def _format_version(archive: Archive) -> int:
    if archive.index.is_native:
        return 3
    return 2 if archive.descriptors is not None else 1


def save_archive(archive: Archive, path: str | os.PathLike[str]) -> Path:
    """Write ``archive`` to ``path`` atomically (an interrupted write leaves the old file).

    The format version written is the lowest that holds the archive: 1 without descriptors
    (readable by older releases), 2 with them, 3 when the index is stored in faiss's format.
    """
    members = {"index.npz": archive.index.to_bytes(), "items.npz": _items_bytes(archive)}
    if archive.descriptors is not None:
        members[_DESCRIPTORS] = _array_bytes("descriptors", archive.descriptors)
    if archive.angles_deg is not None:
        members[_ANGLES] = _array_bytes("angles_deg", archive.angles_deg)
    manifest = {
        "format": _FORMAT,
        "format_version": _format_version(archive),
        "bits": archive.index.bits,
        "kind": archive.index.kind,
        "items": len(archive),
        "class_names": list(archive.class_names),
        "bank": {"path": archive.bank_path, "sha256": archive.bank_sha256},
        "model": {"path": archive.model_path, "sha256": archive.model_sha256},
        "extra": archive.extra,
        "members": {name: _sha256(data) for name, data in members.items()},
    }
    target = Path(path)
    with atomic_write(target, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as bundle:
            bundle.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
            for name, data in members.items():
                bundle.writestr(name, data)
    return target


def _damaged(source: Path, what: str) -> ValueError:
    return ValueError(
        f"archive '{source}' is damaged ({what}); rebuild it with `cosfire-hash index` or copy it "
        "again"
    )


def load_archive(path: str | os.PathLike[str]) -> Archive:
    """Read and verify an archive written by :func:`save_archive`.

    Raises
    ------
    ValueError
        If the file is not an archive, is truncated or edited (a checksum or shape does not
        match), holds unsafe member names, or comes from a newer format version.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(
            f"archive '{source}' does not exist; build one with `cosfire-hash index`"
        )
    try:
        with zipfile.ZipFile(source) as bundle:
            names = bundle.namelist()
            for name in names:
                pure = PurePosixPath(name)
                if pure.is_absolute() or ".." in pure.parts or "\\" in name:
                    raise _damaged(source, f"unsafe member name {name!r}")
            if "manifest.json" not in names:
                raise ValueError(
                    f"'{source}' is not a cosfire-hash archive (no manifest.json); build one "
                    "with `cosfire-hash index`"
                )
            contents = {name: bundle.read(name) for name in names}
    except zipfile.BadZipFile as error:
        raise _damaged(source, f"not a complete zip: {error}") from error
    except (zipfile.LargeZipFile, OSError, EOFError) as error:
        raise _damaged(source, str(error)) from error
    try:
        manifest = json.loads(contents["manifest.json"])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _damaged(source, "unreadable manifest") from error
    if manifest.get("format") != _FORMAT:
        raise ValueError(f"'{source}' is not a cosfire-hash archive")
    version = int(manifest.get("format_version", 0))
    check_format_version(version, ARCHIVE_FORMAT_VERSION, what="an archive", source=f"'{source}'")
    checksums = manifest.get("members", {})
    stored = _MEMBERS + tuple(name for name in (_DESCRIPTORS, _ANGLES) if name in checksums)
    for name in stored:
        if name not in contents:
            raise _damaged(source, f"missing {name}")
        if _sha256(contents[name]) != checksums.get(name):
            raise _damaged(source, f"checksum of {name} does not match the manifest")
    index = HammingIndex.from_bytes(contents["index.npz"], name=f"'{source}'")
    with np.load(io.BytesIO(contents["items.npz"]), allow_pickle=False) as items:
        labels, paths = items["labels"], items["paths"]
    if index.bits != manifest.get("bits") or len(index) != manifest.get("items"):
        raise _damaged(source, "the manifest and the index disagree")
    descriptors = None
    if _DESCRIPTORS in stored:
        with np.load(io.BytesIO(contents[_DESCRIPTORS]), allow_pickle=False) as fields:
            descriptors = fields["descriptors"]
        if descriptors.dtype != np.float32 or not np.all(np.isfinite(descriptors)):
            raise _damaged(source, "descriptors are not finite float32 values")
    angles = None
    if _ANGLES in stored:
        with np.load(io.BytesIO(contents[_ANGLES]), allow_pickle=False) as fields:
            angles = fields["angles_deg"]
        if angles.dtype != np.float32:
            raise _damaged(source, "angles are not float32 values")
    try:
        return Archive(
            index=index,
            paths=tuple(paths.tolist()),
            labels=labels,
            class_names=tuple(manifest.get("class_names", ())),
            bank_path=manifest["bank"]["path"],
            bank_sha256=manifest["bank"]["sha256"],
            model_path=manifest["model"]["path"],
            model_sha256=manifest["model"]["sha256"],
            extra=manifest.get("extra", {}),
            descriptors=descriptors,
            angles_deg=angles,
        )
    except ValueError as error:
        raise _damaged(source, str(error)) from error
