"""Searching an archive: the galaxies most similar to query images, descriptor rows or items.

Click-free, so that a notebook can do what ``cosfire-hash search`` does; the command parses its
options, calls :func:`search_archive` and prints. It lives in ``cli`` because it joins
``cosfire`` (banks, angles), ``hashing`` (the archive's model) and ``retrieval`` (the archive).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cli.errors import MissingBank, UnsuitableQueries

__all__ = ["ArchiveSearch", "MissingBank", "UnsuitableQueries", "explain_result", "search_archive"]


@dataclass(frozen=True)
class ArchiveSearch:
    """What :func:`search_archive` found.

    Attributes
    ----------
    results : list of dict
        Per query, in the order given: ``{"query", "label", "results"}``, each result
        ``{"rank", "path", "label", "distance"}`` and, where filter angles are known,
        ``"angle_deg"`` (counter-clockwise, the turn that makes the match look like the query;
        None where no filter responded to both).
    notes : tuple of str
        Why some results have no angle (a CNN archive, an archive or descriptor file without
        angles); empty when every result has one.
    ids : ndarray of int, shape (queries, k)
        Archive positions of the results.
    archive, bank, model
        The loaded archive, its filter bank (None for CNN or bankless archives) and model.
    queries : tuple of str
        The queries as given (file names, or archive items' names).
    """

    results: list[dict[str, Any]]
    notes: tuple[str, ...]
    ids: np.ndarray
    archive: Any
    bank: Any
    model: Any
    queries: tuple[str, ...] = ()

    @property
    def crop_px(self) -> int | None:
        """The side of the centre crop the bank or the CNN model saw (None: the whole image);
        galaxy thumbnails stay within it."""
        if self.bank is not None:
            return self.bank.preprocessing.crop_px
        return getattr(getattr(self.model, "config", None), "crop_px", None)


def search_archive(
    archive_path: Path,
    queries: tuple[str, ...] | list[str],
    *,
    k: int = 10,
    bank_path: Path | None = None,
    model_path: Path | None = None,
    require_bank: bool = False,
) -> ArchiveSearch:
    """Return the ``k`` archive galaxies nearest in Hamming distance to every query.

    Parameters
    ----------
    archive_path : Path
        The archive (``cosfire-hash index``).
    queries : sequence of str
        Image files (described with the archive's bank and hashed with its model; a CNN model
        hashes them directly), descriptor ``.npz`` files, or the path or file name of galaxies
        in the archive (their stored codes are the queries).
    k : int
        Results per query; ties in distance keep archive order.
    bank_path, model_path : Path, optional
        Files to use instead of those the archive records (checked against its checksums).
    require_bank : bool
        Refuse, before any query is read, an archive without a filter bank (for what needs
        the filters, such as explaining a match).

    Returns
    -------
    ArchiveSearch

    Raises
    ------
    MissingBank
        If ``require_bank`` and the archive has no filter bank.
    UnsuitableQueries
        If ``k`` exceeds the archive, or a query is neither a file nor an archive item, or is an
        image while the archive has no bank to describe it with.

    Examples
    --------
    >>> found = search_archive(Path("archive.chx"), ["my_cutout.png"], k=5)  # doctest: +SKIP
    >>> [hit["path"] for hit in found.results[0]["results"]]  # doctest: +SKIP
    """
    from cli._encoding import require_bank_for_images
    from cli._provenance import archive_bank_and_model
    from retrieval.archive import load_archive

    archive = load_archive(archive_path)
    if k > len(archive):
        raise UnsuitableQueries(
            f"-k {k} is larger than the archive: it holds {len(archive)} galaxies"
        )
    bank, model = archive_bank_and_model(archive, bank_path, model_path)
    if require_bank and bank is None:
        raise MissingBank(
            "this archive has no filter bank (built from a CNN model or from descriptors "
            "alone); use an archive from `cosfire-hash index --bank`"
        )
    positions = _item_positions(archive, queries)
    require_bank_for_images([q for q in queries if q not in positions], bank, model)
    names, labels, codes, described = _query_codes(archive, queries, positions, bank, model)
    distances, ids = archive.index.search(codes, k)
    match_angles, notes = _match_angles(archive, described, ids, bank, model)
    results = []
    for query_number, (name, label, row_distances, row_ids) in enumerate(
        zip(names, labels, distances, ids, strict=True)
    ):
        found = [
            {"rank": rank + 1, "path": path, "label": found_label, "distance": int(distance)}
            for rank, ((path, found_label), distance) in enumerate(
                zip(archive.lookup(row_ids), row_distances, strict=True)
            )
        ]
        angles = match_angles[query_number]
        for hit, angle in zip(found, angles if angles is not None else (), strict=False):
            hit["angle_deg"] = round(float(angle), 1) if math.isfinite(angle) else None
        results.append({"query": name, "label": label, "results": found})
    return ArchiveSearch(
        results, tuple(notes), np.asarray(ids), archive, bank, model, tuple(queries)
    )


def explain_result(
    found: ArchiveSearch, path: Path, *, query_number: int = 0, rank: int = 1
) -> Path:
    """Draw why a search result matched its query (the filters both respond to) into a PNG.

    Parameters
    ----------
    found : ArchiveSearch
        From :func:`search_archive` on an archive with a filter bank.
    path : Path
        PNG to write.
    query_number : int
        Which query (0: the first).
    rank : int
        Which of its results (1: the nearest).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    MissingBank
        If the archive has no filter bank.
    UnsuitableQueries
        If there is no such result, or the query or the match cannot be read as an image (a
        descriptor row whose image moved, say).

    Examples
    --------
    >>> found = search_archive(Path("archive.chx"), ["my_cutout.png"], k=5)  # doctest: +SKIP
    >>> explain_result(found, Path("why.png"), rank=1)  # doctest: +SKIP
    """
    from cosfire.datasets import read_source
    from cosfire.explain import explain_match
    from cosfire.images import load_image

    if found.bank is None:
        raise MissingBank("explaining a match draws COSFIRE filters; this archive has no bank")
    if not 0 <= query_number < len(found.results) or not 1 <= rank <= found.ids.shape[1]:
        raise UnsuitableQueries(
            f"there are {len(found.results)} queries with {found.ids.shape[1]} results each; "
            f"query {query_number}, rank {rank} is not one of them"
        )

    def read(source: str, what: str) -> np.ndarray:
        try:
            return read_source(source)
        except (OSError, ValueError):
            raise UnsuitableQueries(
                f"cannot read the {what} image '{source}' to explain the match; it has moved "
                "or is not a readable image"
            ) from None

    query = found.queries[query_number] if found.queries else ""
    query_name = found.results[query_number]["query"]
    # an image file is read as given; a descriptor file's row or an archive item from its path
    is_image_file = Path(query).is_file() and not query.lower().endswith(".npz")
    query_image = load_image(query) if is_image_file else read(query_name, "query")
    match_path = found.archive.paths[int(found.ids[query_number][rank - 1])]
    explain_match(
        found.bank,
        query_image,
        read(match_path, "matching"),
        path=path,
        query_name=Path(query_name).name,
        match_name=Path(match_path).name,
    )
    return path


def _item_positions(archive, queries: tuple[str, ...]) -> dict[str, int]:
    """The QUERY arguments that name one of the archive's galaxies (not a file), by position."""
    positions = {}
    for query in queries:
        if Path(query).is_file():
            continue
        position = archive.item_position(query)
        if position is None:
            raise UnsuitableQueries(
                f"'{query}' is neither a file nor the path or unique file name of a galaxy in "
                "the archive"
            )
        positions[query] = position
    return positions


def _query_codes(archive, queries, positions: dict[str, int], bank, model):
    """Names, class names, packed codes and (with a bank) descriptors of the queries, in order.

    A query naming an archive galaxy takes its stored code, descriptors and angles.
    """
    import numpy as np

    from cli._encoding import DescribedQueries, describe_queries, encode_queries
    from retrieval.codes import as_packed

    names, labels, codes, descriptors, angles, has_angles = [], [], [], [], [], []
    for query in queries:
        if query in positions:
            row = positions[query]
            names.append(archive.paths[row])
            labels.append(archive.label_name(int(archive.labels[row])))
            codes.append(archive.index.codes[row : row + 1])
            if archive.descriptors is not None:
                descriptors.append(archive.descriptors[row : row + 1])
                stored = archive.angles_deg
                kept = stored is not None
                angles.append(stored[row : row + 1] if kept else descriptors[-1] * np.nan)
                has_angles.append([kept])
        elif bank is None:  # a CNN, or descriptors without a bank: codes only
            encoded = encode_queries([query], bank, model)
            names += encoded.names
            labels += encoded.labels
            codes.append(as_packed(encoded.codes, model.bits))
        else:
            found = describe_queries([query], bank, angles=True)
            names += found.names
            labels += found.labels
            codes.append(as_packed(model.encode(found.descriptors), model.bits))
            descriptors.append(found.descriptors)
            angles.append(found.angles_deg)
            has_angles.append(found.has_angles)
    packed = np.concatenate(codes)
    if bank is None or len(descriptors) != len(codes):
        return names, labels, packed, None
    described = DescribedQueries(
        names,
        labels,
        np.concatenate(descriptors),
        np.concatenate(angles),
        np.concatenate(has_angles).astype(bool),
    )
    return names, labels, packed, described


def _match_angles(archive, described, ids, bank, model) -> tuple[list, list[str]]:
    """Per query, the angle of each of its results (None where angles are missing), and notes.

    A note says once why the archive or some queries give no angles.
    """
    from cli._encoding import is_cnn
    from cosfire.orientation import filter_extents_px, match_rotations, rotation_step_deg

    if bank is None:
        note = (
            "note: this archive's model is a CNN, which keeps no filter angles; results have no "
            "angle_deg"
            if is_cnn(model)
            else "note: this archive has no filter bank (indexed from descriptors alone), so "
            "the angles of matches are unknown; results have no angle_deg"
        )
        return [None] * len(ids), [note]
    if archive.angles_deg is None or described is None:
        note = (
            "note: this archive stores no filter angles (built before they were kept, or "
            "described with --no-angles); results have no angle_deg. Describe and index again "
            "to get them."
        )
        return [None] * len(ids), [note]
    missing = [
        name for name, kept in zip(described.names, described.has_angles, strict=True) if not kept
    ]
    notes = []
    if missing:
        notes.append(
            f"note: {len(missing)} queries come from descriptor files without angles (first: "
            f"{missing[0]}); their results have no angle_deg"
        )
    step, extents = rotation_step_deg(bank.rotations_deg), filter_extents_px(bank)
    angles = [
        match_rotations(
            described.angles_deg[row],
            described.descriptors[row],
            archive.angles_deg[row_ids],
            archive.descriptors[row_ids],
            step_deg=step,
            extents_px=extents,
        )
        if described.has_angles[row]
        else None
        for row, row_ids in enumerate(ids)
    ]
    return angles, notes
