"""The descriptor file: COSFIRE descriptors of many images with their labels, in one ``.npz``.

Layout (``np.savez``, no pickles, ``format_version`` 1):

============== ================== ===================================================
key            dtype / shape      meaning
============== ================== ===================================================
descriptors    float32 (n, F)     one row per image, one column per filter
labels         int64 (n,)         index into ``class_names``; -1 when unknown
class_names    str (C,)           class names, e.g. ``FRI FRII Bent Compact``
paths          str (n,)           where each row came from (file path or zip member)
bank_sha256    str ()             SHA-256 of the filter bank JSON ("" if unknown)
filter_class   int64 (F,)         class index of the prototype of each column (-1 unknown)
filter_index   int64 (F,)         index of the filter within its class
angles_deg     float32 (n, F)     optional: rotation (degrees, counter-clockwise) at
                                  which each filter reached its maximum; NaN where it
                                  did not respond (and for ``extras`` columns)
format_version int64 ()           this layout's version
============== ================== ===================================================

``angles_deg`` is an optional member: files without it (all files written before it existed)
load with ``angles_deg=None``, and readers that do not know it ignore it, so the format
version stays 1.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cosfire._atomic import atomic_write, check_format_version

__all__ = [
    "DESCRIPTOR_FORMAT_VERSION",
    "DescriptorSet",
    "load_descriptors",
    "save_descriptors",
    "write_descriptor_blocks",
]

DESCRIPTOR_FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class DescriptorSet:
    """Descriptors of ``n`` images with labels, class names and provenance.

    Parameters
    ----------
    descriptors : ndarray of float32, shape (n, F)
    labels : ndarray of int64, shape (n,)
        Index into ``class_names``; -1 for an unknown class.
    class_names : tuple of str
    paths : tuple of str
        Source of each row.
    bank_sha256 : str
        SHA-256 of the filter bank file that produced the columns ("" if unknown).
    filter_class, filter_index : ndarray of int64, shape (F,)
        For every column, the class of the filter's prototype and its index within that class,
        so a bank can be cut to fewer filters per class.
    angles_deg : ndarray of float32, shape (n, F), optional
        Rotation (degrees) at which each filter reached its maximum on each image, NaN where
        it did not respond (:mod:`cosfire.orientation`); None when not kept.

    Examples
    --------
    >>> import numpy as np
    >>> ds = DescriptorSet(np.zeros((2, 3), np.float32), np.array([0, 1]), ("a", "b"), ("x", "y"))
    >>> ds.n_images, ds.n_filters
    (2, 3)
    """

    descriptors: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    paths: tuple[str, ...]
    bank_sha256: str = ""
    filter_class: np.ndarray = field(default=None)  # type: ignore[assignment]
    filter_index: np.ndarray = field(default=None)  # type: ignore[assignment]
    angles_deg: np.ndarray | None = None

    def __post_init__(self) -> None:
        descriptors = self.descriptors
        if not (isinstance(descriptors, np.ndarray) and descriptors.dtype == np.float32):
            descriptors = np.asarray(descriptors, dtype=np.float32)
        if descriptors.ndim != 2:
            raise ValueError(f"descriptors must be 2-D (n, F), got shape {descriptors.shape}")
        n, n_filters = descriptors.shape
        labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        if labels.shape != (n,):
            raise ValueError(f"labels has {labels.size} entries but there are {n} descriptors")
        if len(self.paths) != n:
            raise ValueError(f"paths has {len(self.paths)} entries but there are {n} descriptors")
        if labels.size and (labels.max() >= len(self.class_names) or labels.min() < -1):
            raise ValueError(
                f"labels must lie in -1..{len(self.class_names) - 1} (class_names has "
                f"{len(self.class_names)} names), got {labels.min()}..{labels.max()}"
            )
        filter_class = (
            np.full(n_filters, -1, np.int64)
            if self.filter_class is None
            else np.asarray(self.filter_class, dtype=np.int64)
        )
        filter_index = (
            np.arange(n_filters, dtype=np.int64)
            if self.filter_index is None
            else np.asarray(self.filter_index, dtype=np.int64)
        )
        if filter_class.shape != (n_filters,) or filter_index.shape != (n_filters,):
            raise ValueError("filter_class and filter_index need one entry per descriptor column")
        if self.angles_deg is not None:
            angles = self.angles_deg
            if not (isinstance(angles, np.ndarray) and angles.dtype == np.float32):
                angles = np.asarray(angles, dtype=np.float32)
            if angles.shape != descriptors.shape:
                raise ValueError(
                    f"angles_deg has shape {angles.shape}, the descriptors {descriptors.shape}"
                )
            object.__setattr__(self, "angles_deg", angles)
        object.__setattr__(self, "descriptors", descriptors)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "class_names", tuple(str(c) for c in self.class_names))
        object.__setattr__(self, "paths", tuple(str(p) for p in self.paths))
        object.__setattr__(self, "filter_class", filter_class)
        object.__setattr__(self, "filter_index", filter_index)

    @property
    def n_images(self) -> int:
        """Number of rows."""
        return int(self.descriptors.shape[0])

    @property
    def n_filters(self) -> int:
        """Number of columns (filters in the bank)."""
        return int(self.descriptors.shape[1])

    def select(self, rows: np.ndarray) -> DescriptorSet:
        """Return the rows given by an index or boolean array.

        Examples
        --------
        >>> import numpy as np
        >>> ds = DescriptorSet(np.eye(3, dtype=np.float32), [0, 1, 0], ("a", "b"), ("p", "q", "r"))
        >>> ds.select(np.array([0, 2])).paths
        ('p', 'r')
        """
        index = np.arange(self.n_images)[rows]
        return DescriptorSet(
            self.descriptors[index],
            self.labels[index],
            self.class_names,
            tuple(self.paths[i] for i in index),
            self.bank_sha256,
            self.filter_class,
            self.filter_index,
            None if self.angles_deg is None else self.angles_deg[index],
        )


def _write_member(bundle: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    with bundle.open(f"{name}.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _write_streamed(
    bundle: zipfile.ZipFile, name: str, blocks: Iterable[np.ndarray], n_rows: int, n_columns: int
) -> None:
    """Write a float32 (n_rows, n_columns) member from row blocks."""
    header = {
        "descr": np.lib.format.dtype_to_descr(np.dtype("<f4")),
        "fortran_order": False,
        "shape": (int(n_rows), int(n_columns)),
    }
    written = 0
    with bundle.open(f"{name}.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array_header_2_0(member, header)
        for block in blocks:
            values = np.ascontiguousarray(block, dtype="<f4")
            if values.ndim != 2 or values.shape[1] != n_columns:
                raise ValueError(
                    f"a block of shape {values.shape} does not have {n_columns} columns"
                )
            member.write(values.tobytes())
            written += values.shape[0]
    if written != n_rows:
        raise ValueError(f"{written} {name} rows were written, {n_rows} announced")


def write_descriptor_blocks(
    path: str | os.PathLike[str],
    blocks: Iterable[np.ndarray],
    *,
    n_images: int,
    n_filters: int,
    labels: np.ndarray | Sequence[int],
    class_names: Sequence[str],
    paths: Sequence[str],
    bank_sha256: str = "",
    filter_class: np.ndarray | None = None,
    filter_index: np.ndarray | None = None,
    angle_blocks: Iterable[np.ndarray] | None = None,
) -> Path:
    """Write a descriptor file from row blocks, never holding all rows in memory.

    The layout is the one of :func:`save_descriptors` (an uncompressed ``.npz``); ``blocks``
    must yield float32-convertible arrays of ``n_filters`` columns, ``n_images`` rows in all,
    and ``angle_blocks`` (optional) the ``angles_deg`` rows in the same blocks. The file is
    written atomically.
    """
    target = Path(path)
    with (
        atomic_write(target, "wb") as handle,
        zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as bundle,
    ):
        _write_streamed(bundle, "descriptors", blocks, n_images, n_filters)
        if angle_blocks is not None:
            _write_streamed(bundle, "angles_deg", angle_blocks, n_images, n_filters)
        _write_member(bundle, "labels", np.asarray(labels, dtype=np.int64))
        _write_member(bundle, "class_names", np.array(tuple(class_names), dtype=str))
        _write_member(bundle, "paths", np.array(tuple(paths), dtype=str))
        _write_member(bundle, "bank_sha256", np.array(bank_sha256))
        _write_member(
            bundle,
            "filter_class",
            np.full(n_filters, -1, np.int64)
            if filter_class is None
            else np.asarray(filter_class, np.int64),
        )
        _write_member(
            bundle,
            "filter_index",
            np.arange(n_filters, dtype=np.int64)
            if filter_index is None
            else np.asarray(filter_index, np.int64),
        )
        _write_member(bundle, "format_version", np.array(DESCRIPTOR_FORMAT_VERSION, dtype=np.int64))
    return target


def save_descriptors(descriptor_set: DescriptorSet, path: str | os.PathLike[str]) -> Path:
    """Write ``descriptor_set`` to ``path`` atomically and return the path.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> ds = DescriptorSet(np.ones((1, 2), np.float32), [0], ("a",), ("x.png",))
    >>> p = save_descriptors(ds, pathlib.Path(tempfile.mkdtemp()) / "d.npz")
    >>> load_descriptors(p).descriptors.tolist()
    [[1.0, 1.0]]
    """
    rows = descriptor_set.descriptors
    angles = descriptor_set.angles_deg
    step = 65536
    starts = range(0, max(len(rows), 1), step)
    return write_descriptor_blocks(
        path,
        (rows[start : start + step] for start in starts),
        n_images=descriptor_set.n_images,
        n_filters=descriptor_set.n_filters,
        labels=descriptor_set.labels,
        class_names=descriptor_set.class_names,
        paths=descriptor_set.paths,
        bank_sha256=descriptor_set.bank_sha256,
        filter_class=descriptor_set.filter_class,
        filter_index=descriptor_set.filter_index,
        angle_blocks=None if angles is None else (angles[start : start + step] for start in starts),
    )


def _memmap_member(source: Path, name: str) -> np.ndarray | None:
    """Memory-map an uncompressed ``.npy`` member of a zip; None if it is compressed."""
    with zipfile.ZipFile(source) as bundle:
        info = bundle.getinfo(f"{name}.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    with open(source, "rb") as handle:
        handle.seek(info.header_offset)
        local = handle.read(30)
        if local[:4] != b"PK\x03\x04":
            raise ValueError("damaged zip header")
        name_length = int.from_bytes(local[26:28], "little")
        extra_length = int.from_bytes(local[28:30], "little")
        start = info.header_offset + 30 + name_length + extra_length
        handle.seek(start)
        version = np.lib.format.read_magic(handle)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(handle)
        offset = handle.tell()
    if fortran or dtype.hasobject:
        return None
    return np.memmap(source, dtype=dtype, mode="r", offset=offset, shape=shape)


def _check_finite(descriptors: np.ndarray, source: Path) -> None:
    step = 65536
    for start in range(0, len(descriptors), step):
        block = np.asarray(descriptors[start : start + step])
        finite = np.isfinite(block).all(axis=1)
        if not finite.all():
            bad_rows = np.flatnonzero(~finite) + start
            raise ValueError(
                f"'{source}' holds NaN or inf in descriptor rows (first: row {bad_rows[0]}); "
                "recompute those descriptors or drop the rows"
            )


def load_descriptors(path: str | os.PathLike[str], *, mmap: bool = False) -> DescriptorSet:
    """Read a descriptor file written by :func:`save_descriptors`.

    Parameters
    ----------
    path : path
    mmap : bool
        Memory-map the descriptor matrix instead of reading it (for files larger than memory).

    Raises
    ------
    ValueError
        If the file is not a descriptor file, is from a newer format version, or holds NaN/inf.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"descriptor file '{source}' does not exist")
    try:
        with np.load(source, allow_pickle=False) as archive:
            names = set(archive.files)
            large = ("descriptors", "angles_deg")
            contents = {key: archive[key] for key in archive.files if not (mmap and key in large)}
        for key in large if mmap else ():
            if key not in names:
                continue
            mapped = _memmap_member(source, key)
            if mapped is None:
                with np.load(source, allow_pickle=False) as archive:
                    mapped = archive[key]
            contents[key] = mapped
    except (OSError, ValueError, zipfile.BadZipFile, KeyError) as error:
        raise ValueError(
            f"'{source}' is not a readable descriptor file ({error}); "
            "create one with `cosfire-hash describe`"
        ) from error
    missing = {"descriptors", "labels", "class_names", "paths"} - contents.keys()
    if missing:
        raise ValueError(
            f"'{source}' is not a descriptor file: missing {sorted(missing)}; "
            "create one with `cosfire-hash describe`"
        )
    version = int(contents.get("format_version", DESCRIPTOR_FORMAT_VERSION))
    check_format_version(
        version, DESCRIPTOR_FORMAT_VERSION, what="a descriptor file", source=f"'{source}'"
    )
    descriptors = contents["descriptors"]
    _check_finite(descriptors, source)
    return DescriptorSet(
        descriptors=descriptors,
        labels=contents["labels"],
        class_names=tuple(contents["class_names"].tolist()),
        paths=tuple(contents["paths"].tolist()),
        bank_sha256=str(contents["bank_sha256"]) if "bank_sha256" in contents else "",
        filter_class=contents.get("filter_class"),
        filter_index=contents.get("filter_index"),
        angles_deg=contents.get("angles_deg"),
    )
