"""Unusual galaxies: anomaly scores of descriptors or codes, and an archive ranked by them.

Two detectors from scikit-learn, both oriented so that a higher score is more unusual:

* ``"lof"``: the Local Outlier Factor (Breunig et al. 2000), the ratio of the local density
  of an item's ``n_neighbors`` nearest neighbours to its own; about 1 inside a cluster, larger
  for an item in a sparser place than its neighbours. Ndung'u et al. (2025) used it on COSFIRE
  descriptors to find unusual radio galaxies. On codes it uses the Hamming distance.
* ``"iforest"``: an isolation forest (Liu et al. 2008); the score is the forest's anomaly
  score in (0, 1], high for items that random splits isolate in few steps.

Without a reference, every item is scored against the others (LOF leaves the item itself out
of its neighbours). With a reference (an archive's galaxies), the detector is fitted on the
reference and the queries are scored against it. Rankings put the highest score first and
break ties by the smaller item index, so they never depend on anything but the data.

References
----------
Breunig, Kriegel, Ng & Sander (2000), LOF: identifying density-based local outliers, SIGMOD.
Liu, Ting & Zhou (2008), Isolation forest, ICDM.
Ndung'u, Grobler, Wijnholds, Karastoyanova & Azzopardi (2025), COSFIRE descriptors of radio
galaxies (anomaly detection with LOF).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from retrieval.archive import Archive
from retrieval.codes import unpack_codes

__all__ = [
    "ANOMALY_CONFIG_FORMAT_VERSION",
    "AnomalyConfig",
    "anomaly_scores",
    "archive_anomalies",
    "archive_features",
    "rank_by_score",
]

ANOMALY_CONFIG_FORMAT_VERSION = 1


@dataclass(frozen=True)
class AnomalyConfig:
    """How unusual items are scored (every default of :mod:`retrieval.anomalies` lives here).

    Parameters
    ----------
    method : {"lof", "iforest"}
        Local Outlier Factor or isolation forest.
    features : {"descriptors", "codes"}
        What is scored: float descriptors (scaled as ``scaling`` says) or binary codes
        (Hamming distance for LOF; bits as 0/1 values for the forest).
    n_neighbors : int
        Neighbours of LOF. The defaults (40 neighbours, raw descriptors) were chosen on the
        FIRST valid split (leave one class out, mean ROC AUC; ``benchmarks/bench_anomalies.py``):
        the AUC rose from 5 to 40 neighbours on both banks, and 40 on raw descriptors was the
        best setting for the papers' bank and within 0.015 of the best for the mixed bank.
    scaling : {"none", "standard", "l2"}
        For descriptors: the raw filter maxima (all in the same unit), per-filter
        standardisation (mean and sd of the reference), or unit-length rows. Codes are never
        scaled.
    n_estimators : int
        Trees of the isolation forest.
    seed : int
        Random state of the isolation forest (LOF is deterministic).

    Examples
    --------
    >>> AnomalyConfig().method, AnomalyConfig(method="iforest").seed
    ('lof', 0)
    """

    method: Literal["lof", "iforest"] = "lof"
    features: Literal["descriptors", "codes"] = "descriptors"
    n_neighbors: int = 40
    scaling: Literal["none", "standard", "l2"] = "none"
    n_estimators: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in ("lof", "iforest"):
            raise ValueError(f"method must be 'lof' or 'iforest', got {self.method!r}")
        if self.features not in ("descriptors", "codes"):
            raise ValueError(f"features must be 'descriptors' or 'codes', got {self.features!r}")
        if self.scaling not in ("standard", "l2", "none"):
            raise ValueError(f"scaling must be 'standard', 'l2' or 'none', got {self.scaling!r}")
        if self.n_neighbors < 1 or self.n_estimators < 1:
            raise ValueError("n_neighbors and n_estimators must be >= 1")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict with the format version."""
        return {"format_version": ANOMALY_CONFIG_FORMAT_VERSION, **asdict(self)}


def _scaled(
    reference: np.ndarray, others: np.ndarray, config: AnomalyConfig
) -> tuple[np.ndarray, np.ndarray]:
    if config.features == "codes":
        return reference.astype(bool), others.astype(bool)
    reference = np.asarray(reference, dtype=np.float64)
    others = np.asarray(others, dtype=np.float64)
    if config.scaling == "standard":
        mean = reference.mean(axis=0)
        sd = reference.std(axis=0)
        sd[sd == 0] = 1.0  # a filter that never varies carries no information, and no scale
        return (reference - mean) / sd, (others - mean) / sd
    if config.scaling == "l2":

        def unit(values: np.ndarray) -> np.ndarray:
            norms = np.linalg.norm(values, axis=1, keepdims=True)
            return values / np.where(norms > 0, norms, 1.0)

        return unit(reference), unit(others)
    return reference, others


def anomaly_scores(
    features: np.ndarray,
    *,
    reference: np.ndarray | None = None,
    config: AnomalyConfig | None = None,
) -> np.ndarray:
    """Return how unusual every row of ``features`` is (float64, (n,); higher = more unusual).

    Parameters
    ----------
    features : array (n, d)
        Descriptors (float), or codes (bool or 0/1, unpacked: see
        :func:`~retrieval.codes.unpack_codes`) when ``config.features == "codes"``.
    reference : array (m, d), optional
        The items that define "usual". Without it the rows of ``features`` are scored among
        themselves (LOF leaves each row out of its own neighbours).
    config : AnomalyConfig, optional

    Returns
    -------
    ndarray of float64, shape (n,)
        LOF: the local outlier factor (about 1 for usual items). Isolation forest: the
        anomaly score in (0, 1].

    Raises
    ------
    ValueError
        If the shapes disagree or ``n_neighbors`` is not smaller than the reference.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> points = rng.normal(size=(50, 2)); points[7] = (9.0, 9.0)
    >>> int(np.argmax(anomaly_scores(points, config=AnomalyConfig(n_neighbors=10))))
    7
    """
    config = AnomalyConfig() if config is None else config
    features = np.asarray(features)
    fit_on = features if reference is None else np.asarray(reference)
    if features.ndim != 2 or fit_on.ndim != 2 or features.shape[1] != fit_on.shape[1]:
        raise ValueError(
            f"features {features.shape} and reference {fit_on.shape} must be 2-D with the same "
            "number of columns"
        )
    fit_scaled, scored_scaled = _scaled(fit_on, features, config)
    if config.method == "lof":
        from sklearn.neighbors import LocalOutlierFactor

        # the fitted items' own neighbours leave the item out; a reference has no such item
        available = len(fit_on) - 1 if reference is None else len(fit_on)
        if config.n_neighbors > available or available < 1:
            raise ValueError(
                f"n_neighbors={config.n_neighbors} needs more than {config.n_neighbors} "
                f"reference items, there are {len(fit_on)}; lower n_neighbors"
            )
        detector = LocalOutlierFactor(
            n_neighbors=config.n_neighbors,
            metric="hamming" if config.features == "codes" else "euclidean",
            algorithm="brute",  # exact and the same neighbours on every machine
            novelty=reference is not None,
        )
        detector.fit(fit_scaled)
        if reference is None:
            return -detector.negative_outlier_factor_.astype(np.float64)
        return -detector.score_samples(scored_scaled).astype(np.float64)
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(n_estimators=config.n_estimators, random_state=config.seed)
    forest.fit(fit_scaled.astype(np.float32))
    return -forest.score_samples(scored_scaled.astype(np.float32)).astype(np.float64)


def rank_by_score(scores: np.ndarray, k: int | None = None) -> np.ndarray:
    """Return the item indices by decreasing score, ties by increasing index (int64, (k,)).

    Examples
    --------
    >>> rank_by_score(np.array([0.5, 2.0, 0.5, 2.0])).tolist()
    [1, 3, 0, 2]
    >>> rank_by_score(np.array([0.5, 2.0, 0.5]), k=1).tolist()
    [1]
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = np.argsort(-scores, kind="stable").astype(np.int64)
    return order if k is None else order[:k]


def archive_features(
    archive: Archive, features: Literal["descriptors", "codes"] = "descriptors", *, name: str = ""
) -> np.ndarray:
    """Return what :func:`archive_anomalies` scores of an archive's items.

    Descriptors (float32, (n, F)) or unpacked codes (bool, (n, bits)).

    Raises
    ------
    ValueError
        For descriptors of an archive that stores none (format version 1, or a CNN's).

    Examples
    --------
    >>> from retrieval.index import HammingIndex
    >>> index = HammingIndex(4); index.add(np.eye(4, dtype=bool))
    >>> archive_features(Archive(index, list("abcd"), np.zeros(4)), "codes").shape
    (4, 4)
    """
    if features == "codes":
        return unpack_codes(archive.index.codes, archive.index.bits)
    if archive.descriptors is None:
        where = f"archive '{name}'" if name else "the archive"
        raise ValueError(
            f"{where} stores no descriptors (made before archive format version 2, or "
            "from a CNN model); score its codes instead (--on codes) or re-index it with "
            "`cosfire-hash index`"
        )
    return archive.descriptors


def archive_anomalies(
    archive: Archive,
    *,
    queries: np.ndarray | None = None,
    config: AnomalyConfig | None = None,
    k: int | None = None,
    name: str = "",
) -> tuple[np.ndarray, np.ndarray]:
    """Return the most unusual items of an archive, or queries against it: (scores, ids).

    Parameters
    ----------
    archive : Archive
    queries : array (n, d), optional
        Descriptors (or unpacked codes, with ``config.features == "codes"``) of new items,
        scored with the archive's items as the reference. Without it the archive's own items
        are ranked among themselves.
    config : AnomalyConfig, optional
    k : int, optional
        How many to return (default all).
    name : str
        How to call the archive in errors (its file name).

    Returns
    -------
    scores : float64 (k,)
        Decreasing (higher = more unusual).
    ids : int64 (k,)
        Archive item positions, or query rows when ``queries`` is given; ties by smaller id.

    Examples
    --------
    >>> from retrieval.index import HammingIndex
    >>> index = HammingIndex(4); index.add(np.zeros((30, 4), dtype=bool))
    >>> rng = np.random.default_rng(0)
    >>> descriptors = rng.normal(size=(30, 3)); descriptors[4] += 20
    >>> archive = Archive(index, [f"g{i}" for i in range(30)], np.zeros(30),
    ...                   descriptors=descriptors)
    >>> scores, ids = archive_anomalies(archive, config=AnomalyConfig(n_neighbors=5), k=1)
    >>> ids.tolist()
    [4]
    """
    config = AnomalyConfig() if config is None else config
    stored = archive_features(archive, config.features, name=name)
    if queries is None:
        scores = anomaly_scores(stored, config=config)
    else:
        scores = anomaly_scores(queries, reference=stored, config=config)
    ids = rank_by_score(scores, k)
    return scores[ids], ids
