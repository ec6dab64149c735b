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
format_version int64 ()           this layout's version
============== ================== ===================================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cosfire._atomic import atomic_write

__all__ = ["DESCRIPTOR_FORMAT_VERSION", "DescriptorSet", "load_descriptors", "save_descriptors"]

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

    def __post_init__(self) -> None:
        descriptors = np.asarray(self.descriptors, dtype=np.float32)
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
        )


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
    target = Path(path)
    with atomic_write(target, "wb") as handle:
        np.savez(
            handle,
            descriptors=descriptor_set.descriptors,
            labels=descriptor_set.labels,
            class_names=np.array(descriptor_set.class_names, dtype=str),
            paths=np.array(descriptor_set.paths, dtype=str),
            bank_sha256=np.array(descriptor_set.bank_sha256),
            filter_class=descriptor_set.filter_class,
            filter_index=descriptor_set.filter_index,
            format_version=np.array(DESCRIPTOR_FORMAT_VERSION, dtype=np.int64),
        )
    return target


def load_descriptors(path: str | os.PathLike[str]) -> DescriptorSet:
    """Read a descriptor file written by :func:`save_descriptors`.

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
            contents = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as error:
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
    if version > DESCRIPTOR_FORMAT_VERSION:
        raise ValueError(
            f"'{source}' has descriptor format version {version}, newer than this cosfire-hash "
            f"understands ({DESCRIPTOR_FORMAT_VERSION}); upgrade cosfire-hash"
        )
    descriptors = contents["descriptors"]
    if not np.all(np.isfinite(descriptors)):
        bad_rows = np.flatnonzero(~np.all(np.isfinite(descriptors), axis=1))
        raise ValueError(
            f"'{source}' holds NaN or inf in {bad_rows.size} rows (first: row {bad_rows[0]}); "
            "recompute those descriptors or drop the rows"
        )
    return DescriptorSet(
        descriptors=descriptors,
        labels=contents["labels"],
        class_names=tuple(contents["class_names"].tolist()),
        paths=tuple(contents["paths"].tolist()),
        bank_sha256=str(contents["bank_sha256"]) if "bank_sha256" in contents else "",
        filter_class=contents.get("filter_class"),
        filter_index=contents.get("filter_index"),
    )
