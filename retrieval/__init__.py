"""Hamming-space retrieval: binary code indexes, archives, top-k search and the papers' metrics.

Examples
--------
>>> import numpy as np
>>> from retrieval import HammingIndex
>>> index = HammingIndex(36)
>>> index.add(np.random.default_rng(0).integers(0, 2, (100, 36)).astype(bool))
>>> distances, ids = index.search(np.zeros((1, 36), dtype=bool), 5)
>>> ids.shape
(1, 5)
"""

from retrieval._atomic import atomic_write, check_format_version
from retrieval.anomalies import (
    AnomalyConfig,
    anomaly_scores,
    archive_anomalies,
    archive_features,
    rank_by_score,
)
from retrieval.archive import ARCHIVE_FORMAT_VERSION, Archive, load_archive, save_archive
from retrieval.classification import (
    CrossValidation,
    PairedComparison,
    SVMProtocol,
    accuracy_interval,
    choose_on_valid,
    compare_paired,
    cross_validate,
    svm_accuracy,
    svm_accuracy_by_c,
)
from retrieval.codes import as_packed, hamming_distances, n_bytes, pack_codes, unpack_codes
from retrieval.index import HammingIndex
from retrieval.metrics import (
    average_precision_at_k,
    distance_matrix,
    mean_average_precision,
    precision_at_k,
    precision_recall_curve,
    rank_database,
    relevance,
    retrieval_report,
)
from retrieval.scores import ClassScores, RetrievalScores

__all__ = [
    "CrossValidation",
    "PairedComparison",
    "SVMProtocol",
    "accuracy_interval",
    "choose_on_valid",
    "compare_paired",
    "cross_validate",
    "svm_accuracy",
    "svm_accuracy_by_c",
    "ClassScores",
    "RetrievalScores",
    "ARCHIVE_FORMAT_VERSION",
    "AnomalyConfig",
    "Archive",
    "HammingIndex",
    "anomaly_scores",
    "archive_anomalies",
    "archive_features",
    "as_packed",
    "atomic_write",
    "check_format_version",
    "average_precision_at_k",
    "distance_matrix",
    "hamming_distances",
    "load_archive",
    "mean_average_precision",
    "n_bytes",
    "pack_codes",
    "precision_at_k",
    "precision_recall_curve",
    "rank_by_score",
    "rank_database",
    "relevance",
    "retrieval_report",
    "save_archive",
    "unpack_codes",
]
