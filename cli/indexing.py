"""Indexing: hash described galaxies (or, for a CNN model, images) into a searchable archive.

Click-free, so that a notebook can do what ``cosfire-hash index`` does; the command parses its
options, calls :func:`index_archive` and prints. It lives in ``cli`` because it joins
``cosfire`` (descriptor files, banks, data sets), ``hashing`` (the model) and ``retrieval``
(the archive).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from cli.errors import UsageProblem

__all__ = ["IndexedArchive", "index_archive"]


@dataclass(frozen=True)
class IndexedArchive:
    """What :func:`index_archive` wrote.

    Attributes
    ----------
    archive : retrieval.Archive
        The archive as saved.
    path : Path
        Where it was saved.
    distinct_codes : int
        How many different codes its galaxies have (equal codes cannot be told apart).
    searchable_by_images : bool
        False for an archive indexed from descriptors without a filter bank: it is searched
        by descriptor files and by the names of its own items only.
    """

    archive: Any
    path: Path
    distinct_codes: int
    searchable_by_images: bool


def index_archive(
    model_path: Path,
    output: Path,
    *,
    descriptors_path: Path | None = None,
    bank_path: Path | None = None,
    dataset: str | None = None,
    split: str = "train",
    kind: Literal["exact", "ivf", "hnsw", "multihash"] = "exact",
) -> IndexedArchive:
    """Hash galaxies with a model and write them as a searchable archive (``.chx``).

    Parameters
    ----------
    model_path : Path
        Hashing model (``cosfire-hash train`` or :func:`hashing.save_model`).
    output : Path
        Archive to write (atomically).
    descriptors_path : Path, optional
        Descriptor file of the galaxies (``cosfire-hash describe`` or ``data import-mat``);
        needed for an MLP model. The archive keeps the descriptors (for anomalies) and the
        angles of the filters' maxima where the file has them (for the angle of a match).
    bank_path : Path, optional
        The filter bank the descriptors were made with, so that the archive can be searched
        by images; checked against the descriptor file and the model.
    dataset, split : str
        For a CNN model: the data set split whose images are hashed directly.
    kind : {"exact", "ivf", "hnsw", "multihash"}
        Exact search, or an approximate index for huge archives.

    Returns
    -------
    IndexedArchive

    Raises
    ------
    UsageProblem
        If the inputs do not suit the model (descriptors for a CNN, no descriptors for an MLP).
    ValueError
        If the descriptors, bank and model were not made with one another.

    Examples
    --------
    >>> written = index_archive(  # doctest: +SKIP
    ...     Path("model.pt"), Path("archive.chx"),
    ...     descriptors_path=Path("train.npz"), bank_path=Path("bank.json"))
    >>> len(written.archive), written.distinct_codes  # doctest: +SKIP
    """
    from cli._encoding import encode_dataset_split, is_cnn
    from cli._provenance import file_sha256
    from hashing.model import load_model
    from retrieval.archive import Archive, save_archive
    from retrieval.index import HammingIndex

    model = load_model(model_path)
    cnn = is_cnn(model)
    if cnn:
        if dataset is None or descriptors_path is not None or bank_path is not None:
            raise UsageProblem(
                "a CNN model indexes images: give --dataset (and --split), no bank or "
                "descriptor file"
            )
        encoded, class_names, labels = encode_dataset_split(dataset, split, None, model)
        codes, paths = encoded.codes, encoded.names
        descriptors, angles = None, None
        bank_record = ("", "")
        extra = {"dataset": dataset, "split": split}
    else:
        if descriptors_path is None:
            raise UsageProblem(
                "give DESCRIPTORS.npz (from `cosfire-hash describe` or `data import-mat`) and "
                "the --bank it was described with"
            )
        described, bank_sha256 = _checked_descriptors(
            descriptors_path, bank_path, model, model_path
        )
        codes = model.encode(described.descriptors)
        paths, class_names, labels = described.paths, described.class_names, described.labels
        # kept beside the codes: anomalies rank the items by their descriptors, search turns
        # the angles into the rotation of a match
        descriptors, angles = described.descriptors, described.angles_deg
        bank_record = (
            (str(bank_path.resolve()), file_sha256(bank_path))
            if bank_path is not None
            else ("", bank_sha256)  # what the descriptor file records ("" if nothing)
        )
        extra = {"descriptors": str(descriptors_path)}
    hamming_index = HammingIndex(model.bits, kind=kind)
    hamming_index.add(codes)
    archive = Archive(
        index=hamming_index,
        paths=tuple(paths),
        labels=labels,
        class_names=class_names,
        bank_path=bank_record[0],
        bank_sha256=bank_record[1],
        model_path=str(model_path.resolve()),
        model_sha256=file_sha256(model_path),
        extra=extra,
        descriptors=descriptors,
        angles_deg=angles,
    )
    save_archive(archive, output)
    return IndexedArchive(
        archive=archive,
        path=output,
        distinct_codes=len({row.tobytes() for row in np.asarray(codes)}),
        searchable_by_images=archive.has_bank or cnn,
    )


def _checked_descriptors(descriptors_path: Path, bank_path: Path | None, model, model_path: Path):
    """The descriptor file and the filter bank's content checksum, once the descriptor file,
    the bank and the model are known to belong together."""
    from cosfire.bank import load_bank
    from cosfire.descriptor_file import load_descriptors

    described = load_descriptors(descriptors_path, mmap=True)
    # without a bank file the descriptors' own record stands for it
    bank_sha256 = load_bank(bank_path).sha256 if bank_path is not None else described.bank_sha256
    source = bank_path if bank_path is not None else f"the bank of {descriptors_path}"
    if described.bank_sha256 not in ("", bank_sha256):
        raise ValueError(
            f"{descriptors_path} was described with another filter bank than {bank_path}; "
            "describe the images again with this bank"
        )
    if model.bank_sha256 and bank_sha256 and model.bank_sha256 != bank_sha256:
        raise ValueError(
            f"{model_path} was trained on descriptors of another filter bank than {source}"
        )
    return described, bank_sha256
