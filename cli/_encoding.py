"""Turning queries (images, descriptor files, data set splits) into codes of an archive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cli.errors import MissingBank, UnsuitableQueries

__all__ = [
    "DescribedQueries",
    "EncodedQueries",
    "describe_queries",
    "encode_dataset_split",
    "encode_images",
    "encode_queries",
    "require_bank_for_images",
]


@dataclass
class EncodedQueries:
    """Names, class names ("?" if unknown) and binary codes of queries."""

    names: list[str]
    labels: list[str]
    codes: np.ndarray


@dataclass
class DescribedQueries:
    """Names, class names ("?" if unknown) and COSFIRE descriptors of queries.

    With angles asked for, ``angles_deg`` holds per query and filter the rotation of the
    filter's maximum (NaN rows for descriptor files without angles, which ``has_angles``
    marks False).
    """

    names: list[str]
    labels: list[str]
    descriptors: np.ndarray
    angles_deg: np.ndarray | None = None
    has_angles: np.ndarray | None = None


def describe_queries(
    queries: Sequence[str], bank, *, jobs: int = 1, angles: bool = False
) -> DescribedQueries:
    """Descriptors of QUERY arguments: image files (described with ``bank``) and descriptor
    ``.npz`` files (checked to come from ``bank``), in the order given; with ``angles`` also
    the angles of the filters' maxima (images: computed; files: where stored)."""
    from cosfire.descriptor import describe_report
    from cosfire.descriptor_file import load_descriptors
    from cosfire.images import load_image

    names: list[str] = []
    labels: list[str] = []
    blocks = []
    angle_blocks = []
    for query in queries:
        if query.lower().endswith(".npz"):
            described = load_descriptors(query)
            if bank is not None and described.bank_sha256 not in ("", bank.sha256):
                raise ValueError(
                    f"{query} was described with another filter bank than the archive's"
                )
            names.extend(described.paths)
            labels.extend(described.class_names[i] if i >= 0 else "?" for i in described.labels)
            blocks.append(described.descriptors)
            stored = described.angles_deg
            angle_blocks.append(
                (np.full(described.descriptors.shape, np.nan, np.float32), False)
                if stored is None
                else (np.asarray(stored), True)
            )
        else:
            if not Path(query).is_file():
                raise UnsuitableQueries(f"QUERY {query} does not exist")
            names.append(query)
            labels.append("?")
            report = describe_report(bank, [load_image(query)], n_jobs=jobs, angles=angles)
            blocks.append(report.descriptors)
            if angles:
                angle_blocks.append((report.angles_deg, True))
    descriptors = (
        np.concatenate(blocks) if blocks else np.zeros((0, bank.n_values), dtype=np.float32)
    )
    if not angles:
        return DescribedQueries(names, labels, descriptors)
    return DescribedQueries(
        names,
        labels,
        descriptors,
        np.concatenate([block for block, _ in angle_blocks]) if angle_blocks else descriptors * 0,
        np.concatenate([np.full(len(block), kept) for block, kept in angle_blocks])
        if angle_blocks
        else np.zeros(0, dtype=bool),
    )


def require_bank_for_images(queries: Sequence[str], bank, model) -> None:
    """Refuse image QUERY arguments when the archive has no bank to describe them with.

    An archive indexed from descriptors alone (``cosfire-hash index`` without --bank, e.g. the
    authors' descriptors from ``data import-mat``) is searched by descriptor files and by its
    own items; a CNN archive needs no bank.

    Raises
    ------
    MissingBank
        If an image is among ``queries`` and the archive has neither bank nor CNN model.
    """
    images = [q for q in queries if not q.lower().endswith(".npz") and Path(q).is_file()]
    if bank is None and images and not is_cnn(model):
        raise MissingBank(
            f"'{images[0]}' is an image, but this archive was indexed from descriptors without "
            "a filter bank: query it with descriptor .npz files or by the name of one of its "
            "items, or index again with --bank to search by images"
        )


def is_cnn(model) -> bool:
    """Whether ``model`` (a :class:`hashing.Encoder`) hashes images directly (a CNN baseline)."""
    return model.inputs == "images"


def encode_images(images: Sequence[np.ndarray], bank, model, *, jobs: int = 1) -> np.ndarray:
    """Codes of in-memory grey images: described with ``bank`` first unless ``model`` is a CNN."""
    if is_cnn(model):
        return model.encode(list(images))
    from cosfire.descriptor import describe

    return model.encode(describe(bank, list(images), n_jobs=jobs))


def encode_queries(queries: Sequence[str], bank, model, *, jobs: int = 1) -> EncodedQueries:
    """Codes of QUERY arguments: image files and descriptor ``.npz`` files, in order given."""
    from cosfire.descriptor_file import load_descriptors
    from cosfire.images import load_image

    names: list[str] = []
    labels: list[str] = []
    blocks = []
    for query in queries:
        if query.lower().endswith(".npz"):
            if is_cnn(model):
                raise UnsuitableQueries(
                    f"{query}: this archive's model is a CNN, which hashes images, not COSFIRE "
                    "descriptors; give image files"
                )
            described = load_descriptors(query)
            if bank is not None and described.bank_sha256 not in ("", bank.sha256):
                raise ValueError(
                    f"{query} was described with another filter bank than the archive's"
                )
            names.extend(described.paths)
            labels.extend(described.class_names[i] if i >= 0 else "?" for i in described.labels)
            blocks.append(model.encode(described.descriptors))
        else:
            if not Path(query).is_file():
                raise UnsuitableQueries(f"QUERY {query} does not exist")
            names.append(query)
            labels.append("?")
            blocks.append(encode_images([load_image(query)], bank, model, jobs=jobs))
    codes = np.concatenate(blocks) if blocks else np.zeros((0, model.bits), dtype=bool)
    return EncodedQueries(names, labels, codes)


def encode_dataset_split(
    source: str, split: str, bank, model, *, jobs: int = 1
) -> tuple[EncodedQueries, tuple[str, ...], np.ndarray]:
    """Codes of every image of a data set split; also its class names and integer labels."""
    from cosfire.datasets import open_dataset

    dataset = open_dataset(source)
    items = dataset.items(split)
    if is_cnn(model):
        codes = model.encode(dataset.read_many(items))
    else:
        from cosfire.descriptor import describe

        codes = model.encode(describe(bank, items, read=dataset.read, n_jobs=jobs))
    queries = EncodedQueries([dataset.name(i) for i in items], [i.class_name for i in items], codes)
    return queries, dataset.class_names, np.array([i.label for i in items])
