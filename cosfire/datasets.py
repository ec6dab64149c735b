"""Labelled galaxy images: the FIRST radio-galaxy set, any folder laid out like it, and the
embedded synthetic set.

A data set is a zip or a folder of ``<split>/<class>/<image>`` (an extra top folder such as
``galaxy_data/`` is fine) or of ``<class>/<image>`` (one split, called ``all``). Images are read
straight from the zip, never extracted.

The FIRST set is Griese et al. (2023), *A new public radio galaxy data set*, Data in Brief;
Zenodo record 7689127, MIT licence; the FIRST images are for non-commercial scholarly use.
``open_dataset("first")`` uses ``COSFIRE_HASH_DATA`` (a local zip or folder; no network) when it
is set, else downloads the zip once with a SHA-256 check (:func:`fetch_first`).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from cosfire.images import IMAGE_SUFFIXES, load_image

__all__ = [
    "DATA_ENV",
    "FIRST_URL",
    "DatasetItem",
    "GalaxyDataset",
    "fetch_first",
    "first_checksum",
    "open_dataset",
    "read_source",
    "source_name",
    "stratified_subset",
    "synthetic_dataset_path",
]

DATA_ENV = "COSFIRE_HASH_DATA"
CACHE_ENV = "COSFIRE_HASH_CACHE"
FIRST_URL = "https://zenodo.org/records/7689127/files/galaxy_data.zip?download=1"


@dataclass(frozen=True)
class DatasetItem:
    """One labelled image: where it is, its class index and name, and its split."""

    path: str
    label: int
    class_name: str
    split: str


def _is_image(name: str) -> bool:
    lowered = name.lower()
    base = PurePosixPath(lowered).name
    return not base.startswith(".") and any(lowered.endswith(s) for s in IMAGE_SUFFIXES)


def _layout(relative_paths: Sequence[str]) -> dict[str, list[tuple[str, str, str]]]:
    """Group image paths into {split: [(class, name, path)]}, dropping a shared top folder."""
    parts = [PurePosixPath(p).parts for p in relative_paths]
    while parts and all(len(p) > 3 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]
    depths = {len(p) for p in parts}
    grouped: dict[str, list[tuple[str, str, str]]] = {}
    for original, p in zip(relative_paths, parts, strict=True):
        if depths == {3}:
            split, class_name = p[0], p[1]
        elif depths == {2}:
            split, class_name = "all", p[0]
        else:
            raise ValueError(
                "images must sit in <split>/<class>/ or <class>/ folders; found paths of "
                f"depths {sorted(depths)}, e.g. {original!r}"
            )
        grouped.setdefault(split, []).append((class_name, p[-1], original))
    return grouped


_OPEN_ZIPS: dict[tuple[int, str], zipfile.ZipFile] = {}


def _zip_handle(path: str) -> zipfile.ZipFile:
    """One open ZipFile per process and path (reading many members stays cheap)."""
    key = (os.getpid(), path)
    handle = _OPEN_ZIPS.get(key)
    if handle is None:
        handle = _OPEN_ZIPS[key] = zipfile.ZipFile(path)
    return handle


@dataclass(frozen=True)
class GalaxyDataset:
    """A labelled image collection split into named splits.

    Attributes
    ----------
    source : str
        The zip file or folder.
    splits : tuple of str
        Split names, sorted (e.g. ``all``, ``test``, ``train``, ``valid``).
    class_names : tuple of str
        Class names, sorted alphabetically; the same for every split.

    Examples
    --------
    >>> import tempfile
    >>> from cosfire.synthetic import write_synthetic_dataset
    >>> folder = write_synthetic_dataset(tempfile.mkdtemp(), n_per_class={"train": 2}, size=64)
    >>> dataset = open_dataset(folder)
    >>> dataset.splits, dataset.class_names
    (('train',), ('Bent', 'Compact', 'FRI', 'FRII'))
    >>> item = dataset.items("train")[0]
    >>> item.class_name, dataset.read(item).shape
    ('Bent', (64, 64))
    """

    source: str
    splits: tuple[str, ...]
    class_names: tuple[str, ...]
    _items: dict[str, tuple[DatasetItem, ...]] = field(repr=False, compare=False)

    @property
    def is_zip(self) -> bool:
        """Whether images are read from a zip file."""
        return self.source.lower().endswith(".zip")

    def items(self, split: str) -> tuple[DatasetItem, ...]:
        """Return the images of ``split``, sorted by class then file name."""
        if split not in self._items:
            raise ValueError(
                f"{self.source} has no split {split!r}; choose one of {', '.join(self.splits)}"
            )
        return self._items[split]

    def counts(self, split: str) -> dict[str, int]:
        """Return {class name: number of images} in ``split``."""
        labels = [item.class_name for item in self.items(split)]
        return {name: labels.count(name) for name in self.class_names}

    def read(self, item: DatasetItem) -> np.ndarray:
        """Return the image of ``item`` (2-D float32, see :func:`cosfire.images.load_image`)."""
        if self.is_zip:
            data = _zip_handle(self.source).read(item.path)
            return load_image(data, name=f"{self.source}:{item.path}")
        return load_image(item.path)

    def name(self, item: DatasetItem) -> str:
        """Return a name for ``item`` that :func:`read_source` reads back anywhere."""
        return source_name(self.source, item.path) if self.is_zip else item.path

    def read_many(self, items: Sequence[DatasetItem]) -> list[np.ndarray]:
        """Return the images of ``items`` in order."""
        return [self.read(item) for item in items]


_ZIP_SEPARATOR = "::"


def source_name(zip_path: str | os.PathLike[str], member: str) -> str:
    """Return ``"<zip>::<member>"``, the name of an image inside a zip.

    Examples
    --------
    >>> source_name("/data/galaxy_data.zip", "galaxy_data/test/FRI/a.png")
    '/data/galaxy_data.zip::galaxy_data/test/FRI/a.png'
    """
    return f"{zip_path}{_ZIP_SEPARATOR}{member}"


def read_source(name: str) -> np.ndarray:
    """Return the image named by a file path or by ``"<zip>::<member>"``."""
    zip_path, separator, member = str(name).partition(_ZIP_SEPARATOR)
    if separator and zip_path.lower().endswith(".zip"):
        if not Path(zip_path).is_file():
            raise FileNotFoundError(f"zip '{zip_path}' (holding {member}) does not exist")
        try:
            data = _zip_handle(zip_path).read(member)
        except KeyError:
            raise FileNotFoundError(f"'{member}' is not in '{zip_path}'") from None
        return load_image(data, name=name)
    return load_image(name)


def _index(source: Path) -> GalaxyDataset:
    if source.is_file() and source.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(source) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/") and _is_image(n)]
        except zipfile.BadZipFile as error:
            raise ValueError(
                f"'{source}' is not a readable zip ({error}); download it again "
                "(`cosfire-hash data fetch`)"
            ) from error
        relative = names
    elif source.is_dir():
        files = [p for p in source.rglob("*") if p.is_file() and _is_image(p.name)]
        relative = [p.relative_to(source).as_posix() for p in files]
    else:
        raise FileNotFoundError(
            f"data set '{source}' does not exist; give a zip, a folder of <split>/<class>/ "
            f"images, 'first' or 'synthetic'"
        )
    if not relative:
        raise ValueError(f"'{source}' holds no images ({', '.join(IMAGE_SUFFIXES)})")
    grouped = _layout(relative)
    class_names = tuple(sorted({c for entries in grouped.values() for c, _, _ in entries}))
    items: dict[str, tuple[DatasetItem, ...]] = {}
    for split, entries in grouped.items():
        ordered = sorted(entries, key=lambda e: (class_names.index(e[0]), e[1]))
        items[split] = tuple(
            DatasetItem(
                path=path if source.is_file() else str(source / path),
                label=class_names.index(class_name),
                class_name=class_name,
                split=split,
            )
            for class_name, _, path in ordered
        )
    return GalaxyDataset(
        source=str(source), splits=tuple(sorted(items)), class_names=class_names, _items=items
    )


def cache_dir() -> Path:
    """Folder for downloads and generated data (``COSFIRE_HASH_CACHE`` or the OS cache)."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    import pooch

    return Path(pooch.os_cache("cosfire-hash"))


def first_checksum() -> str:
    """Return the SHA-256 of the FIRST zip from the package's ``SHA256SUMS``."""
    sums = Path(__file__).with_name("SHA256SUMS").read_text().split()
    return sums[sums.index("galaxy_data.zip") - 1]


def fetch_first(cache: str | os.PathLike[str] | None = None, *, progress: bool = True) -> Path:
    """Download the FIRST zip (once; SHA-256 checked) and return its path.

    Raises
    ------
    RuntimeError
        If the download fails; the message says how to get the file by hand.
    """
    import pooch

    folder = Path(cache) if cache is not None else cache_dir()
    try:
        path = pooch.retrieve(
            FIRST_URL,
            known_hash=f"sha256:{first_checksum()}",
            fname="galaxy_data.zip",
            path=folder,
            progressbar=progress,
        )
    except Exception as error:  # network errors come in many types
        raise RuntimeError(
            f"could not download the FIRST data set ({error}). Download galaxy_data.zip from "
            f"Zenodo record 7689127 ({FIRST_URL}) by hand and set {DATA_ENV}=/path/to/it"
        ) from error
    return Path(path)


def synthetic_dataset_path(seed: int = 0) -> Path:
    """Return the folder of the embedded synthetic set, generating it on first use.

    The set is written into a temporary folder and renamed into place, so an interrupted
    generation is never mistaken for a complete set.
    """
    import shutil
    import tempfile

    from cosfire.synthetic import SYNTHETIC_VERSION, write_synthetic_dataset

    root = cache_dir() / f"synthetic-v{SYNTHETIC_VERSION}-seed{seed}"
    folder = root / "galaxy_data"
    if not folder.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
        try:
            written = write_synthetic_dataset(staging, seed=seed)
            try:
                os.replace(written, folder)
            except OSError:  # another process finished first
                if not folder.is_dir():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def open_dataset(source: str | os.PathLike[str] | None = "first") -> GalaxyDataset:
    """Open a labelled data set.

    Parameters
    ----------
    source : str or path
        A zip, a folder of ``<split>/<class>/`` or ``<class>/`` images, ``"first"`` (the
        FIRST set: ``COSFIRE_HASH_DATA`` if set, else a one-time download) or ``"synthetic"``
        (the embedded synthetic set, generated once into the cache).

    Examples
    --------
    >>> open_dataset("synthetic").counts("test")
    {'Bent': 10, 'Compact': 10, 'FRI': 10, 'FRII': 10}
    """
    if source is None or str(source) == "first":
        local = os.environ.get(DATA_ENV)
        path = Path(local) if local else fetch_first()
    elif str(source) == "synthetic":
        path = synthetic_dataset_path()
    else:
        path = Path(source)
    return _index(path)


def stratified_subset(
    items: Sequence[DatasetItem], n_per_class: int, *, seed: int = 0
) -> tuple[DatasetItem, ...]:
    """Return up to ``n_per_class`` items of every class, drawn with ``seed``, in input order.

    Examples
    --------
    >>> items = [DatasetItem(f"{i}.png", i % 2, "ab"[i % 2], "train") for i in range(10)]
    >>> sorted(item.label for item in stratified_subset(items, 2, seed=0))
    [0, 0, 1, 1]
    """
    rng = np.random.default_rng(seed)
    labels = np.array([item.label for item in items])
    chosen: list[int] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        chosen.extend(rng.choice(members, size=min(n_per_class, members.size), replace=False))
    return tuple(items[i] for i in sorted(chosen))
