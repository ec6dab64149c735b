"""How well descriptors tell classes apart: one SVM protocol, cross-validation, paired tests.

The radio papers score a descriptor set with a support vector machine of quadratic kernel on
L2-normalised rows, its C chosen on a validation split. One test split of 200 galaxies has a
standard error of about 3 points, as large as most effects between bank settings, so settings
are compared here by repeated stratified cross-validation on train + valid, with paired tests on
the same folds (the corrected resampled t-test of Nadeau & Bengio 2003, which accounts for the
overlap of training sets between folds), and a test accuracy is reported with its 95 % Wilson
interval.

Every consumer (the pipeline, ``tune``, the benchmarks) uses :class:`SVMProtocol`, so that
their numbers mean the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

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
]


@dataclass(frozen=True)
class SVMProtocol:
    """The SVM that scores descriptors: kernel, normalisation of the rows, C candidates.

    Defaults: the papers' quadratic polynomial kernel on L2-normalised rows, C in 1, 10, 100.
    ``normalisation="l2+standard"`` standardises every column on the training rows after the
    L2 step (for descriptors that join blocks of different scales).

    Examples
    --------
    >>> SVMProtocol().cs
    (1.0, 10.0, 100.0)
    """

    kernel: Literal["poly", "rbf"] = "poly"
    degree: int = 2
    cs: tuple[float, ...] = (1.0, 10.0, 100.0)
    normalisation: Literal["l2", "l2+standard"] = "l2"

    def __post_init__(self) -> None:
        if self.kernel not in ("poly", "rbf"):
            raise ValueError(f"kernel must be 'poly' or 'rbf', got {self.kernel!r}")
        if self.normalisation not in ("l2", "l2+standard"):
            raise ValueError(
                f"normalisation must be 'l2' or 'l2+standard', got {self.normalisation!r}"
            )
        object.__setattr__(self, "cs", tuple(float(c) for c in self.cs))
        if not self.cs or min(self.cs) <= 0:
            raise ValueError(f"cs must be positive numbers, got {self.cs}")

    def prepare(self, train_x: np.ndarray, other_x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (train rows, other rows) normalised as the protocol says (fit on train)."""
        from sklearn.preprocessing import normalize

        train_x = normalize(np.asarray(train_x, dtype=np.float64))
        other_x = normalize(np.asarray(other_x, dtype=np.float64))
        if self.normalisation == "l2+standard":
            mean = train_x.mean(axis=0)
            std = train_x.std(axis=0)
            std[std < 1e-12] = 1.0
            scale = math.sqrt(train_x.shape[1])
            train_x = (train_x - mean) / std / scale
            other_x = (other_x - mean) / std / scale
        return train_x, other_x

    def classifier(self, c: float):
        """Return an unfitted scikit-learn SVC of this protocol with penalty ``c``."""
        from sklearn.svm import SVC

        if self.kernel == "poly":
            return SVC(kernel="poly", degree=self.degree, C=c)
        return SVC(kernel="rbf", gamma="scale", C=c)


def svm_accuracy_by_c(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    *,
    protocol: SVMProtocol | None = None,
) -> dict[float, float]:
    """Return the accuracy on ``test_x`` of the protocol's SVM for every C candidate.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((40, 3)); y = (x[:, 0] > x[:, 1]).astype(int)
    >>> scores = svm_accuracy_by_c(x[:30], y[:30], x[30:], y[30:])
    >>> sorted(scores) == [1.0, 10.0, 100.0], all(0 <= v <= 1 for v in scores.values())
    (True, True)
    """
    protocol = SVMProtocol() if protocol is None else protocol
    train_rows, test_rows = protocol.prepare(train_x, test_x)
    return {
        c: float(
            (protocol.classifier(c).fit(train_rows, train_y).predict(test_rows) == test_y).mean()
        )
        for c in protocol.cs
    }


def choose_on_valid(
    train_x: np.ndarray,
    train_y: np.ndarray,
    valid_x: np.ndarray,
    valid_y: np.ndarray,
    *,
    normalisations: tuple[str, ...] = ("l2",),
    cs: tuple[float, ...] = SVMProtocol().cs,
) -> tuple[SVMProtocol, float, dict[float, float]]:
    """Return (protocol, C, validation accuracy per C) of the best setting on the valid split.

    Normalisations are tried in order and C candidates from the smallest; on a tie the first
    wins, so the plain L2 protocol and the smaller C are kept unless another does better.

    Examples
    --------
    >>> x = np.array([[1.0, 0], [0.9, 0.1], [0, 1.0], [0.1, 0.9]]); y = np.array([0, 0, 1, 1])
    >>> protocol, c, scores = choose_on_valid(x, y, x, y)
    >>> protocol.normalisation, c, scores[c]
    ('l2', 1.0, 1.0)
    """
    best = None
    for normalisation in normalisations:
        protocol = SVMProtocol(cs=cs, normalisation=normalisation)
        scores = svm_accuracy_by_c(train_x, train_y, valid_x, valid_y, protocol=protocol)
        c = max(sorted(scores), key=scores.get)
        if best is None or scores[c] > best[2][best[1]]:
            best = (protocol, c, scores)
    return best


def svm_accuracy(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    *,
    c: float,
    protocol: SVMProtocol | None = None,
) -> tuple[float, np.ndarray]:
    """Return (accuracy, predicted labels) on ``test_x`` of the protocol's SVM with penalty ``c``.

    Examples
    --------
    >>> x = np.array([[1.0, 0], [0.9, 0.1], [0, 1.0], [0.1, 0.9]]); y = np.array([0, 0, 1, 1])
    >>> svm_accuracy(x, y, x, y, c=10.0)[0]
    1.0
    """
    protocol = SVMProtocol() if protocol is None else protocol
    train_rows, test_rows = protocol.prepare(train_x, test_x)
    predicted = protocol.classifier(c).fit(train_rows, train_y).predict(test_rows)
    return float((predicted == np.asarray(test_y)).mean()), predicted


@dataclass(frozen=True)
class CrossValidation:
    """Accuracies of repeated stratified k-fold cross-validation, per C candidate.

    ``accuracies[c]`` holds one accuracy per fold, in fold order (repeat-major), so two results
    made with the same ``folds``, ``repeats`` and ``seed`` can be compared fold by fold.
    """

    folds: int
    repeats: int
    seed: int
    n_samples: int
    accuracies: dict[float, tuple[float, ...]] = field(default_factory=dict)

    @property
    def best_c(self) -> float:
        """The C of highest mean accuracy (the smallest such C on a tie)."""
        return max(sorted(self.accuracies), key=lambda c: np.mean(self.accuracies[c]))

    @property
    def scores(self) -> np.ndarray:
        """Fold accuracies at :attr:`best_c`."""
        return np.asarray(self.accuracies[self.best_c])

    @property
    def mean(self) -> float:
        """Mean fold accuracy at :attr:`best_c`."""
        return float(self.scores.mean())

    @property
    def sd(self) -> float:
        """Standard deviation of the fold accuracies at :attr:`best_c`."""
        return float(self.scores.std(ddof=1)) if self.scores.size > 1 else 0.0

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-able dict."""
        return {
            "folds": self.folds,
            "repeats": self.repeats,
            "seed": self.seed,
            "n_samples": self.n_samples,
            "best_c": self.best_c,
            "mean": self.mean,
            "sd": self.sd,
            "accuracies": {str(c): list(v) for c, v in self.accuracies.items()},
        }


def cross_validate(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    folds: int = 5,
    repeats: int = 2,
    seed: int = 0,
    protocol: SVMProtocol | None = None,
    columns: Callable[[np.ndarray, int], np.ndarray] | None = None,
) -> CrossValidation:
    """Return the protocol's SVM accuracy under repeated stratified k-fold cross-validation.

    Parameters
    ----------
    features : (n, d) array
    labels : (n,) int array
    folds, repeats, seed : int
        ``repeats`` times ``folds`` stratified folds, shuffled with ``seed``.
    protocol : SVMProtocol, optional
    columns : callable, optional
        ``columns(training_rows, fold_number) -> column indices``: the columns a fold may use,
        given the rows it trains on. A bank whose filters were configured on prototype images
        passes a function that keeps only filters whose prototype is among the training rows,
        so that no held-out galaxy describes itself.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((60, 4)); y = (x[:, 0] > 0.5).astype(int)
    >>> result = cross_validate(x, y, folds=3, repeats=1)
    >>> len(result.scores), result.mean > 0.7
    (3, True)
    """
    from sklearn.model_selection import RepeatedStratifiedKFold

    protocol = SVMProtocol() if protocol is None else protocol
    features = np.asarray(features)
    labels = np.asarray(labels)
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    accuracies: dict[float, list[float]] = {c: [] for c in protocol.cs}
    for fold_number, (train_rows, test_rows) in enumerate(splitter.split(features, labels)):
        used = slice(None) if columns is None else columns(train_rows, fold_number)
        scores = svm_accuracy_by_c(
            features[train_rows][:, used],
            labels[train_rows],
            features[test_rows][:, used],
            labels[test_rows],
            protocol=protocol,
        )
        for c, accuracy in scores.items():
            accuracies[c].append(accuracy)
    return CrossValidation(
        folds=folds,
        repeats=repeats,
        seed=seed,
        n_samples=int(labels.size),
        accuracies={c: tuple(v) for c, v in accuracies.items()},
    )


@dataclass(frozen=True)
class PairedComparison:
    """The difference of two settings over the same folds (b minus a) and its significance."""

    mean_difference: float
    sd_difference: float
    t: float
    p_value: float

    def to_dict(self) -> dict[str, float]:
        """Return a JSON-able dict."""
        return {
            "mean_difference": self.mean_difference,
            "sd_difference": self.sd_difference,
            "t": self.t,
            "p_value": self.p_value,
        }


def compare_paired(a: CrossValidation, b: CrossValidation) -> PairedComparison:
    """Return the corrected resampled t-test of ``b`` against ``a`` over the same folds.

    The variance of the fold differences is inflated by ``1/J + n_test/n_train`` (Nadeau &
    Bengio 2003) because the training sets of the folds overlap; a plain paired t-test would
    call far too many differences significant.

    Examples
    --------
    >>> a = CrossValidation(5, 1, 0, 100, {1.0: (0.70, 0.72, 0.71, 0.69, 0.70)})
    >>> b = CrossValidation(5, 1, 0, 100, {1.0: (0.80, 0.81, 0.79, 0.80, 0.82)})
    >>> result = compare_paired(a, b)
    >>> round(result.mean_difference, 3), result.p_value < 0.01
    (0.1, True)
    """
    from scipy import stats

    if (a.folds, a.repeats, a.seed, a.n_samples) != (b.folds, b.repeats, b.seed, b.n_samples):
        raise ValueError("paired comparison needs results made on the same folds")
    differences = b.scores - a.scores
    count = differences.size
    mean = float(differences.mean())
    sd = float(differences.std(ddof=1)) if count > 1 else 0.0
    test_fraction = 1.0 / a.folds
    correction = 1.0 / count + test_fraction / (1.0 - test_fraction)
    if sd == 0.0:
        return PairedComparison(mean, sd, math.inf if mean else 0.0, 0.0 if mean else 1.0)
    t = mean / math.sqrt(correction * sd**2)
    p_value = float(2.0 * stats.t.sf(abs(t), df=count - 1))
    return PairedComparison(mean, sd, float(t), p_value)


def accuracy_interval(
    accuracy: float, count: int, *, confidence: float = 0.95
) -> tuple[float, float]:
    """Return the Wilson score interval of an accuracy measured on ``count`` items.

    Examples
    --------
    >>> low, high = accuracy_interval(0.735, 200)
    >>> round(low, 3), round(high, 3)
    (0.67, 0.791)
    """
    from scipy import stats

    if count <= 0:
        raise ValueError(f"count must be positive, got {count}")
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    denominator = 1.0 + z**2 / count
    centre = (accuracy + z**2 / (2 * count)) / denominator
    half = z * math.sqrt(accuracy * (1 - accuracy) / count + z**2 / (4 * count**2)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
