"""Distillation: a teacher classifier labels extra descriptors for the hashing network.

Codes score mAP@k close to ``query accuracy x database purity``: a query placed with its
class finds its class, and the database must hold each galaxy with its own class. An MLP
that fits the database exactly generalises worse to new galaxies than a kernel SVM of the
same descriptors, so here the SVM (or any classifier) teaches the network how to place the
galaxies it has not seen: the training rows keep their true labels (a pure database), and
extra rows (mixtures of two training descriptors, rotated copies, unlabelled archive
descriptors) take the teacher's predicted labels. The network then learns the teacher's
decision boundary between the training galaxies, not only at them.

Measured on FIRST (``benchmarks/bench_hashing.py --teacher svm``, csq recipe, 36 bits, 3 seeds)
this did not reach the SVM: the unweighted SVM gives most mixtures the majority class (63 % of
them on the papers' bank, whose training split is 47 % one class); codes of the papers' bank
lose 8 points against plain csq (54.2 vs 61.9 %), those of the recommended bank gain 1.2
(71.7 vs 70.5 %, SVM 74.5 %).
The tool stays for teachers and extra rows that suit it (unlabelled archive galaxies).

Examples
--------
>>> import numpy as np
>>> x = np.eye(4, dtype=np.float32)[[0, 0, 1, 1]] + 0.1; y = np.array([0, 0, 1, 1])
>>> rows, labels = distillation_set(x, y, lambda d: (d[:, 1] > d[:, 0]).astype(int),
...                                 mixup_copies=2, seed=0)
>>> rows.shape, labels[:4].tolist()
((12, 4), [0, 0, 1, 1])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["Teacher", "distillation_set"]

#: A teacher: descriptors ``(n, d)`` -> predicted class labels ``(n,)``.
Teacher = Callable[[np.ndarray], np.ndarray]


def distillation_set(
    train_descriptors: np.ndarray,
    train_labels: np.ndarray,
    teacher: Teacher,
    *,
    mixup_copies: int = 2,
    unlabelled: Sequence[np.ndarray] = (),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (descriptors, labels): the training rows, then rows labelled by ``teacher``.

    Parameters
    ----------
    train_descriptors : float array (n, d)
        Labelled training descriptors; they keep ``train_labels``.
    train_labels : int array (n,)
    teacher : callable
        ``teacher(descriptors (m, d)) -> labels (m,)``, e.g. an SVM fitted on the training
        descriptors (:func:`retrieval.classification.svm_accuracy`'s protocol).
    mixup_copies : int
        How many times ``n`` mixtures ``lam * a + (1 - lam) * b`` of two random training
        descriptors (``lam`` uniform in [0, 1]) to add, labelled by the teacher.
    unlabelled : sequence of float arrays (m_i, d)
        Further descriptors labelled by the teacher (rotated copies of training galaxies,
        archive galaxies without a label).
    seed : int
        Seed of the mixture draw.

    Returns
    -------
    (float32 array (n + sum m_i + mixup_copies * n, d), int64 array)

    Examples
    --------
    >>> x = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32); y = np.array([0, 1])
    >>> rows, labels = distillation_set(x, y, lambda d: np.argmax(d, 1), mixup_copies=0,
    ...                                 unlabelled=[np.array([[0.2, 0.9]])])
    >>> labels.tolist()
    [0, 1, 1]
    """
    if mixup_copies < 0:
        raise ValueError(f"mixup_copies must be >= 0, got {mixup_copies}")
    train_x = np.asarray(train_descriptors, dtype=np.float32)
    train_y = np.asarray(train_labels, dtype=np.int64)
    if train_x.ndim != 2 or train_x.shape[0] != train_y.shape[0]:
        raise ValueError(
            f"need descriptors (n, d) and n labels, got {train_x.shape} and {train_y.shape}"
        )
    extra = [np.asarray(rows, dtype=np.float32) for rows in unlabelled]
    for rows in extra:
        if rows.ndim != 2 or rows.shape[1] != train_x.shape[1]:
            raise ValueError(
                f"unlabelled descriptors must have {train_x.shape[1]} values, got {rows.shape}"
            )
    rng = np.random.default_rng(seed)
    n = train_x.shape[0]
    for _ in range(mixup_copies):
        first, second = rng.integers(0, n, n), rng.integers(0, n, n)
        weight = rng.uniform(0.0, 1.0, (n, 1)).astype(np.float32)
        extra.append(weight * train_x[first] + (1 - weight) * train_x[second])
    if not extra:
        return train_x, train_y
    taught = np.concatenate(extra)
    taught_labels = np.asarray(teacher(taught), dtype=np.int64).reshape(-1)
    if taught_labels.shape[0] != taught.shape[0]:
        raise ValueError(
            f"the teacher returned {taught_labels.shape[0]} labels for {taught.shape[0]} rows"
        )
    return np.concatenate([train_x, taught]), np.concatenate([train_y, taught_labels])
