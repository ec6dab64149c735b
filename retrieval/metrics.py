"""Retrieval metrics of the radio-galaxy hashing papers, with honest handling of ties.

Database = training set, queries = test set, relevant = same class. For every query the
database is ranked by Hamming distance. Many items share a distance (36-bit codes give at most
37 distinct values), and the reference notebooks let the database order (sorted by class)
decide among them, which inflates or deflates the score depending on the query's class. Here
ties are broken in one of three documented ways:

* ``"random"`` (default): a seeded random order within every group of equal distance;
* ``"average"``: the exact expected value of the metric over all orders within tie groups
  (the mean of ``"random"`` over infinitely many seeds);
* ``"stable"``: database order, as the reference notebooks do (for comparison only).

``AP@k = (1 / min(R, k)) * sum_{n <= k} P(n) rel(n)``, R the number of relevant items in the
database; mAP@k is its mean over queries (k = 100 in the papers). mAP@R is AP@R normalised
by R. Everything takes a precomputed distance matrix, or codes (see :mod:`retrieval.codes`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from retrieval.codes import as_packed, hamming_distances

__all__ = [
    "Ties",
    "average_precision_at_k",
    "distance_matrix",
    "mean_average_precision",
    "precision_at_k",
    "precision_recall_curve",
    "rank_database",
    "relevance",
    "retrieval_report",
]

Ties = Literal["random", "average", "stable"]


def distance_matrix(
    query_codes: np.ndarray, database_codes: np.ndarray, *, bits: int | None = None
) -> np.ndarray:
    """Return Hamming distances (int32, (nq, nd)) between bool/0-1 or packed codes.

    ``bits`` is needed for packed uint8 codes; bool/0-1 codes give it by their width.
    """
    if bits is None:
        if np.asarray(query_codes).dtype == np.uint8 and np.asarray(query_codes).max(initial=0) > 1:
            raise ValueError("pass bits= for packed uint8 codes")
        bits = int(np.asarray(query_codes).shape[1])
    return hamming_distances(as_packed(query_codes, bits), as_packed(database_codes, bits))


def relevance(query_labels: np.ndarray, database_labels: np.ndarray) -> np.ndarray:
    """Return ``relevant[i, j] = query_labels[i] == database_labels[j]`` (bool)."""
    return np.asarray(query_labels)[:, None] == np.asarray(database_labels)[None, :]


def rank_database(
    distances: np.ndarray, *, ties: Literal["random", "stable"] = "random", seed: int = 0
) -> np.ndarray:
    """Return, per query, database indices by increasing distance (int64, (nq, nd)).

    Examples
    --------
    >>> rank_database(np.array([[2, 0, 1, 0]]), ties="stable").tolist()
    [[1, 3, 2, 0]]
    """
    distances = np.asarray(distances)
    if ties == "stable":
        return np.argsort(distances, axis=1, kind="stable")
    if ties != "random":
        raise ValueError(f"ties must be 'random' or 'stable' for a ranking, got {ties!r}")
    rng = np.random.default_rng(seed)
    keys = rng.random(distances.shape)
    # primary key distance, secondary a random key: ties get a seeded random order
    return np.lexsort((keys, distances), axis=1)


def _expected_precision_terms(
    sorted_distances: np.ndarray, sorted_relevant: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return E[rel(n)] and E[rel(n) * hits(<= n)] per position, ties in random order."""
    size = sorted_distances.size
    starts = np.flatnonzero(np.r_[True, sorted_distances[1:] != sorted_distances[:-1]])
    sizes = np.diff(np.r_[starts, size])
    hits = np.add.reduceat(sorted_relevant.astype(np.float64), starts)
    before = np.r_[0.0, np.cumsum(hits)[:-1]]
    group = np.repeat(np.arange(starts.size), sizes)
    g, r = sizes[group].astype(np.float64), hits[group]
    offset = np.arange(size) - starts[group]  # positions before this one inside its group
    expected_rel = r / g
    pair = np.where(g > 1, r * (r - 1) / np.maximum(g * (g - 1), 1), 0.0)
    expected_rel_hits = expected_rel * (before[group] + 1) + offset * pair
    return expected_rel, expected_rel_hits


def average_precision_at_k(
    distances: np.ndarray,
    relevant: np.ndarray,
    k: int | None = 100,
    *,
    ties: Ties = "random",
    seed: int = 0,
) -> np.ndarray:
    """Return AP@k of every query (float64, (nq,)); ``k=None`` gives AP@R.

    Parameters
    ----------
    distances : (nq, nd) array
    relevant : (nq, nd) bool array
    k : int or None
        Cut-off; None uses R, the number of relevant items, per query (mAP@R).
    ties : {"random", "average", "stable"}
    seed : int
        Seed of the random tie order.

    Examples
    --------
    Database distances 0, 1, 1 with relevance yes, no, yes and k = 3: the ranking is fixed up
    to the tie at distance 1. AP = (1/2)(1/1 + 2/3) = 0.8333 if the relevant item of the tie
    comes last, (1/2)(1/1 + 2/2) = 1 if first: the average over both orders is 0.9167.

    >>> d, rel = np.array([[0, 1, 1]]), np.array([[True, False, True]])
    >>> round(float(average_precision_at_k(d, rel, 3, ties="average")[0]), 4)
    0.9167
    """
    distances = np.asarray(distances)
    relevant = np.asarray(relevant, dtype=bool)
    if distances.shape != relevant.shape:
        raise ValueError(f"distances {distances.shape} and relevant {relevant.shape} differ")
    if k is not None and k <= 0:
        raise ValueError(f"k must be a positive integer, got {k}")
    n_queries, n_database = distances.shape
    totals = relevant.sum(axis=1)
    result = np.zeros(n_queries, dtype=np.float64)
    positions = np.arange(1, n_database + 1, dtype=np.float64)
    if ties == "average":
        for q in range(n_queries):
            cut = int(totals[q]) if k is None else min(k, n_database)
            if totals[q] == 0 or cut == 0:
                continue
            order = np.argsort(distances[q], kind="stable")
            _, expected_rel_hits = _expected_precision_terms(
                distances[q][order], relevant[q][order]
            )
            norm = totals[q] if k is None else min(totals[q], k)
            result[q] = np.sum(expected_rel_hits[:cut] / positions[:cut]) / norm
        return result
    order = rank_database(distances, ties=ties, seed=seed)
    ranked = np.take_along_axis(relevant, order, axis=1)
    hits = np.cumsum(ranked, axis=1)
    precision_terms = np.where(ranked, hits / positions, 0.0)
    for q in range(n_queries):
        if totals[q] == 0:
            continue
        cut = int(totals[q]) if k is None else min(k, n_database)
        norm = totals[q] if k is None else min(totals[q], k)
        result[q] = precision_terms[q, :cut].sum() / norm
    return result


def precision_at_k(
    distances: np.ndarray,
    relevant: np.ndarray,
    k: int = 10,
    *,
    ties: Ties = "random",
    seed: int = 0,
) -> np.ndarray:
    """Return the fraction of relevant items among each query's top k (float64, (nq,)).

    Examples
    --------
    >>> d, rel = np.array([[0, 1, 1]]), np.array([[True, False, True]])
    >>> float(precision_at_k(d, rel, 2, ties="average")[0])  # 1 + 0.5 expected hits of 2
    0.75
    """
    distances = np.asarray(distances)
    relevant = np.asarray(relevant, dtype=bool)
    if k <= 0:
        raise ValueError(f"k must be a positive integer, got {k}")
    cut = min(k, distances.shape[1])
    if ties == "average":
        result = np.empty(distances.shape[0])
        for q in range(distances.shape[0]):
            order = np.argsort(distances[q], kind="stable")
            expected_rel, _ = _expected_precision_terms(distances[q][order], relevant[q][order])
            result[q] = expected_rel[:cut].sum() / cut
        return result
    order = rank_database(distances, ties=ties, seed=seed)[:, :cut]
    return np.take_along_axis(relevant, order, axis=1).mean(axis=1)


def precision_recall_curve(
    distances: np.ndarray, relevant: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (radii, precision, recall) for retrieving everything within each Hamming radius.

    Precision and recall are averaged over queries (micro within a query); a radius at which a
    query retrieves nothing counts with precision 1 for it. Ties do not matter here: a radius
    takes a whole tie group.
    """
    distances = np.asarray(distances)
    relevant = np.asarray(relevant, dtype=bool)
    radii = np.arange(int(distances.max(initial=0)) + 1)
    totals = np.maximum(relevant.sum(axis=1), 1)
    precision = np.empty(radii.size)
    recall = np.empty(radii.size)
    for index, radius in enumerate(radii):
        retrieved = distances <= radius
        counts = retrieved.sum(axis=1)
        hits = (retrieved & relevant).sum(axis=1)
        precision[index] = np.mean(np.where(counts > 0, hits / np.maximum(counts, 1), 1.0))
        recall[index] = np.mean(hits / totals)
    return radii, precision, recall


def mean_average_precision(
    query_codes: np.ndarray,
    query_labels: np.ndarray,
    database_codes: np.ndarray,
    database_labels: np.ndarray,
    *,
    k: int | None = 100,
    ties: Ties = "random",
    seed: int = 0,
    bits: int | None = None,
) -> float:
    """Return mAP@k of codes (``k=None``: mAP@R).

    Examples
    --------
    >>> db = np.array([[0, 0], [0, 1], [1, 1]]); labels = np.array([0, 0, 1])
    >>> mean_average_precision(np.array([[0, 0]]), [0], db, labels, k=2)
    1.0
    """
    distances = distance_matrix(query_codes, database_codes, bits=bits)
    relevant = relevance(query_labels, database_labels)
    return float(average_precision_at_k(distances, relevant, k, ties=ties, seed=seed).mean())


def retrieval_report(
    distances: np.ndarray,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
    *,
    k: int = 100,
    precision_ks: tuple[int, ...] = (10, 50, 100),
    class_names: tuple[str, ...] | None = None,
    ties: Ties = "random",
    seed: int = 0,
) -> dict:
    """Return mAP@k, mAP@R and precision@k overall and per query class, as a JSON-able dict.

    Keys: ``map_at_<k>``, ``map_at_r``, ``precision_at_<k>`` for each of ``precision_ks``,
    ``per_class`` (the same keys per class name), ``queries``, ``database``, ``ties``.
    """
    query_labels = np.asarray(query_labels)
    relevant = relevance(query_labels, database_labels)
    per_query = {
        f"map_at_{k}": average_precision_at_k(distances, relevant, k, ties=ties, seed=seed),
        "map_at_r": average_precision_at_k(distances, relevant, None, ties=ties, seed=seed),
    }
    for cut in precision_ks:
        per_query[f"precision_at_{cut}"] = precision_at_k(
            distances, relevant, cut, ties=ties, seed=seed
        )
    report: dict = {key: float(values.mean()) for key, values in per_query.items()}
    per_class = {}
    for label in np.unique(query_labels):
        name = class_names[label] if class_names is not None and label >= 0 else str(label)
        members = query_labels == label
        per_class[name] = {key: float(values[members].mean()) for key, values in per_query.items()}
        per_class[name]["queries"] = int(members.sum())
    report.update(
        per_class=per_class,
        queries=int(distances.shape[0]),
        database=int(distances.shape[1]),
        ties=ties,
    )
    return report
