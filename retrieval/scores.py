"""Typed retrieval scores: the report of :func:`retrieval.metrics.retrieval_report` as objects.

``retrieval_report`` returns a JSON-able dict (what ``cosfire-hash evaluate --json`` prints and
the pipeline stores); :class:`RetrievalScores` reads that layout into attributes, so that code
written against it gets names checked by the type checker instead of string keys, and writes
it back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ClassScores", "RetrievalScores"]

_MAP_AT_K = re.compile(r"map_at_(\d+)$")
_PRECISION_AT = re.compile(r"precision_at_(\d+)$")


def _k_of(report: Mapping[str, Any]) -> int:
    cuts = [int(m.group(1)) for key in report if (m := _MAP_AT_K.match(key))]
    if len(cuts) != 1:
        raise ValueError(
            f"a retrieval report has one map_at_<k> entry; these keys have {len(cuts)}: "
            f"{sorted(report)}"
        )
    return cuts[0]


def _precisions(report: Mapping[str, Any]) -> dict[int, float]:
    return {
        int(m.group(1)): float(value)
        for key, value in report.items()
        if (m := _PRECISION_AT.match(key))
    }


@dataclass(frozen=True)
class ClassScores:
    """The scores of the queries of one class.

    Attributes
    ----------
    map_at_k, map_at_r : float
        Mean average precision over the top k, and over the top R (R = that class's size in
        the database).
    precision_at : dict of int to float
        Mean precision at each cut-off.
    queries : int
        How many queries are of this class.
    """

    map_at_k: float
    map_at_r: float
    precision_at: dict[int, float]
    queries: int


@dataclass(frozen=True)
class RetrievalScores:
    """mAP@k, mAP@R and precision@k of queries against a database, overall and per class.

    Attributes
    ----------
    k : int
        The cut-off of ``map_at_k``.
    map_at_k, map_at_r : float
        Mean average precision over the top k and over the top R.
    precision_at : dict of int to float
        Mean precision at each cut-off (10, 50, 100 unless asked otherwise).
    queries, database : int
        How many queries, and how many database items they were ranked against.
    ties : str
        How equal Hamming distances were ordered ("random", "average" or "stable").
    per_class : dict of str to ClassScores
        The same scores per query class.
    ties_average_map_at_k : float or None
        mAP@k with ties averaged (the expectation over every tie order), where measured.

    Examples
    --------
    >>> import numpy as np
    >>> from retrieval.metrics import retrieval_report
    >>> distances = np.array([[0, 1, 2], [2, 1, 0]])
    >>> report = retrieval_report(distances, np.array([0, 1]), np.array([0, 0, 1]), k=2,
    ...                           precision_ks=(1,), class_names=("FRI", "FRII"))
    >>> scores = RetrievalScores.from_report(report)
    >>> scores.k, scores.map_at_k, scores.per_class["FRII"].precision_at[1]
    (2, 1.0, 1.0)
    >>> scores.to_report() == report
    True
    """

    k: int
    map_at_k: float
    map_at_r: float
    precision_at: dict[int, float]
    queries: int
    database: int
    ties: str
    per_class: dict[str, ClassScores] = field(default_factory=dict)
    ties_average_map_at_k: float | None = None

    @property
    def map_at_100(self) -> float:
        """mAP@100, the papers' headline number (an error if this report has another k)."""
        if self.k != 100:
            raise AttributeError(f"these scores are mAP@{self.k}, not mAP@100")
        return self.map_at_k

    @classmethod
    def from_report(cls, report: Mapping[str, Any]) -> RetrievalScores:
        """Read the dict of :func:`retrieval.metrics.retrieval_report` (as stored in JSON).

        Raises
        ------
        ValueError
            If ``report`` is not in that layout.
        """
        try:
            k = _k_of(report)
            per_class = {
                str(name): ClassScores(
                    map_at_k=float(scores[f"map_at_{k}"]),
                    map_at_r=float(scores["map_at_r"]),
                    precision_at=_precisions(scores),
                    queries=int(scores["queries"]),
                )
                for name, scores in report.get("per_class", {}).items()
            }
            tied = report.get(f"ties_average_map_at_{k}")
            return cls(
                k=k,
                map_at_k=float(report[f"map_at_{k}"]),
                map_at_r=float(report["map_at_r"]),
                precision_at=_precisions(report),
                queries=int(report["queries"]),
                database=int(report["database"]),
                ties=str(report["ties"]),
                per_class=per_class,
                ties_average_map_at_k=None if tied is None else float(tied),
            )
        except KeyError as missing:
            raise ValueError(
                f"not a retrieval report (from retrieval_report): {missing} is missing"
            ) from None

    def to_report(self) -> dict[str, Any]:
        """Return the dict layout of :func:`retrieval.metrics.retrieval_report` (JSON-able)."""

        def scores_of(map_at_k: float, map_at_r: float, precision_at: dict[int, float]) -> dict:
            spec = {f"map_at_{self.k}": map_at_k, "map_at_r": map_at_r}
            spec.update({f"precision_at_{cut}": value for cut, value in precision_at.items()})
            return spec

        report: dict[str, Any] = scores_of(self.map_at_k, self.map_at_r, self.precision_at)
        report["per_class"] = {
            name: {**scores_of(c.map_at_k, c.map_at_r, c.precision_at), "queries": c.queries}
            for name, c in self.per_class.items()
        }
        report.update(queries=self.queries, database=self.database, ties=self.ties)
        if self.ties_average_map_at_k is not None:
            report[f"ties_average_map_at_{self.k}"] = self.ties_average_map_at_k
        return report
