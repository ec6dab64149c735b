"""Ranking unusual galaxies: an archive's own, or new queries against it.

Click-free, so that a notebook can do what ``cosfire-hash anomalies`` does; the command parses
its options, calls :func:`rank_anomalies` and prints. The scoring itself is
:func:`retrieval.anomalies.archive_anomalies`; this module adds what joins the packages: query
images described with the archive's filter bank, descriptor files, and the archive's files
checked by their checksums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cli.errors import UnsuitableQueries, UsageProblem
from retrieval.anomalies import AnomalyConfig

__all__ = ["AnomalyRanking", "rank_anomalies"]

_METHOD_NAMES = {"lof": "LOF", "iforest": "isolation forest"}


@dataclass(frozen=True)
class AnomalyRanking:
    """What :func:`rank_anomalies` found, most unusual first.

    Attributes
    ----------
    results : list of dict
        ``{"rank", "score", "path", "label"}`` per galaxy; higher scores are more unusual (LOF
        about 1 for a usual galaxy).
    method : str
        How they were scored, in words (e.g. "LOF, 20 neighbours, on descriptors").
    scored : str
        What was ranked, in words (the archive's galaxies, or queries against them).
    queries : int
        How many queries were ranked (0: the archive's own galaxies).
    archive : retrieval.Archive
        The loaded archive.
    """

    results: list[dict[str, Any]]
    method: str
    scored: str
    queries: int
    archive: Any


def rank_anomalies(
    archive_path: Path,
    queries: Sequence[str] = (),
    *,
    config: AnomalyConfig | None = None,
    top: int = 10,
    bank_path: Path | None = None,
    model_path: Path | None = None,
) -> AnomalyRanking:
    """Rank the galaxies of an archive, or queries against it, by how unusual they are.

    Parameters
    ----------
    archive_path : Path
        The archive (``cosfire-hash index``).
    queries : sequence of str
        Image files (described with the archive's filter bank) or descriptor ``.npz`` files;
        empty to rank the archive's own galaxies among themselves.
    config : AnomalyConfig, optional
        Method, features and their settings (the defaults of :class:`AnomalyConfig`).
    top : int
        How many of the most unusual to return.
    bank_path, model_path : Path, optional
        Files to use instead of those the archive records (checked against its checksums).

    Returns
    -------
    AnomalyRanking

    Raises
    ------
    UsageProblem
        If LOF asks for as many neighbours as the archive has galaxies, or the queries cannot
        be scored with this archive (images without a bank, descriptors of a CNN archive).

    Examples
    --------
    >>> ranking = rank_anomalies(Path("archive.chx"), top=5)  # doctest: +SKIP
    >>> [(hit["path"], round(hit["score"], 2)) for hit in ranking.results]  # doctest: +SKIP
    """
    from retrieval.anomalies import archive_anomalies, archive_features
    from retrieval.archive import load_archive

    config = config if config is not None else AnomalyConfig()
    if top < 1:
        raise UsageProblem(f"top must be >= 1, got {top}")
    archive = load_archive(archive_path)
    archive_features(archive, config.features, name=str(archive_path))  # before any describing
    if config.method == "lof" and config.n_neighbors >= len(archive):
        raise UsageProblem(
            f"the archive holds {len(archive)} galaxies; LOF needs fewer neighbours (--neighbors)"
        )
    names, labels, query_features = None, None, None
    if queries:
        names, labels, query_features = _query_features(
            archive, list(queries), config.features, bank_path, model_path
        )
    scores, ids = archive_anomalies(
        archive, queries=query_features, config=config, k=top, name=str(archive_path)
    )
    found = archive.lookup(ids) if names is None else [(names[i], labels[i]) for i in ids]
    results = [
        {"rank": rank + 1, "score": float(score), "path": path, "label": label}
        for rank, (score, (path, label)) in enumerate(zip(scores, found, strict=True))
    ]
    method = (
        _METHOD_NAMES[config.method]
        + (f", {config.n_neighbors} neighbours" if config.method == "lof" else "")
        + f", on {config.features}"
    )
    scored = (
        f"{len(names)} queries, against the {len(archive)} galaxies of {archive_path}"
        if names is not None
        else f"the {len(archive)} galaxies of {archive_path}"
    )
    return AnomalyRanking(
        results=results,
        method=method,
        scored=scored,
        queries=0 if names is None else len(names),
        archive=archive,
    )


def _query_features(
    archive, queries: list[str], features: str, bank_path: Path | None, model_path: Path | None
) -> tuple[list[str], list[str], np.ndarray]:
    """Names, labels and descriptors (or codes) of the queries."""
    from cli._encoding import describe_queries, encode_queries, is_cnn, require_bank_for_images
    from cli._provenance import archive_bank_and_model

    bank, model = archive_bank_and_model(archive, bank_path, model_path)
    require_bank_for_images(queries, bank, model)
    if features == "codes":
        encoded = encode_queries(queries, bank, model)
        return encoded.names, encoded.labels, encoded.codes
    if bank is None and is_cnn(model):
        raise UnsuitableQueries(
            "this archive's model is a CNN, which has no COSFIRE descriptors; use --on codes"
        )
    # without a bank (descriptors made elsewhere) only descriptor files got this far
    described = describe_queries(queries, bank)
    return described.names, described.labels, described.descriptors
