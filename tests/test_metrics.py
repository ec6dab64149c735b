"""Retrieval metrics against hand-worked examples, ties included, and their invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.metrics import (
    average_precision_at_k,
    mean_average_precision,
    precision_at_k,
    precision_recall_curve,
    rank_database,
    relevance,
    retrieval_report,
)


def test_ap_without_ties_by_hand() -> None:
    # ranking: rel, non, rel, non, rel (distances 0..4); R = 3
    distances = np.array([[0, 1, 2, 3, 4]])
    relevant = np.array([[True, False, True, False, True]])
    # AP@5 = (1/3)(1/1 + 2/3 + 3/5) = 0.75556
    assert average_precision_at_k(distances, relevant, 5)[0] == pytest.approx(
        (1 + 2 / 3 + 3 / 5) / 3
    )
    # AP@2 = (1/min(3, 2))(1/1) = 0.5 ; AP@R (R=3) = (1/3)(1 + 2/3) = 0.5556
    assert average_precision_at_k(distances, relevant, 2)[0] == pytest.approx(0.5)
    assert average_precision_at_k(distances, relevant, None)[0] == pytest.approx((1 + 2 / 3) / 3)
    # precision@4 = 2/4
    assert precision_at_k(distances, relevant, 4)[0] == pytest.approx(0.5)


def test_ties_are_not_broken_by_database_order() -> None:
    # all four database items at the same distance; the two relevant ones stored last.
    distances = np.zeros((1, 4), dtype=int)
    relevant = np.array([[False, False, True, True]])
    # database order (the notebooks): rel at ranks 3, 4 -> AP@4 = (1/2)(1/3 + 2/4) = 0.41667
    stable = average_precision_at_k(distances, relevant, 4, ties="stable")[0]
    assert stable == pytest.approx((1 / 3 + 2 / 4) / 2)
    # expected over the 6 equally likely placements of 2 relevant among 4 positions:
    # {1,2}: 1, {1,3}: (1+2/3)/2, {1,4}: (1+2/4)/2, {2,3}: (1/2+2/3)/2, {2,4}: (1/2+2/4)/2,
    # {3,4}: (1/3+2/4)/2  -> mean = 4.0833 / 6 = 0.68056
    placements = [
        1,
        (1 + 2 / 3) / 2,
        (1 + 2 / 4) / 2,
        (1 / 2 + 2 / 3) / 2,
        (1 / 2 + 2 / 4) / 2,
        (1 / 3 + 2 / 4) / 2,
    ]
    average = average_precision_at_k(distances, relevant, 4, ties="average")[0]
    assert average == pytest.approx(np.mean(placements))
    randomised = np.mean(
        [
            average_precision_at_k(distances, relevant, 4, ties="random", seed=s)[0]
            for s in range(4000)
        ]
    )
    assert randomised == pytest.approx(average, abs=0.02)


def test_top_k_cut_inside_a_tie_group() -> None:
    # distances 0, 1, 1, 1 ; relevance T, F, T, F ; k = 2, R = 2
    distances = np.array([[0, 1, 1, 1]])
    relevant = np.array([[True, False, True, False]])
    # position 2 is relevant with probability 1/3: AP@2 = (1/2)(1 + (1/3)(2/2)) = 0.6667
    assert average_precision_at_k(distances, relevant, 2, ties="average")[0] == pytest.approx(2 / 3)
    # precision@2 = (1 + 1/3) / 2
    assert precision_at_k(distances, relevant, 2, ties="average")[0] == pytest.approx(2 / 3)


def test_random_ties_are_seeded() -> None:
    distances = np.zeros((3, 50), dtype=int)
    first = rank_database(distances, ties="random", seed=4)
    assert np.array_equal(first, rank_database(distances, ties="random", seed=4))
    assert not np.array_equal(first, rank_database(distances, ties="random", seed=5))


def test_mean_average_precision_on_codes_and_packed_codes() -> None:
    database = np.array([[0, 0, 0], [0, 0, 1], [1, 1, 1], [1, 1, 0]], dtype=bool)
    labels = np.array([0, 0, 1, 1])
    queries = np.array([[0, 0, 0], [1, 1, 1]], dtype=bool)
    assert mean_average_precision(queries, [0, 1], database, labels, k=2) == 1.0
    packed = np.packbits(database, axis=1)
    assert (
        mean_average_precision(np.packbits(queries, axis=1), [0, 1], packed, labels, k=2, bits=3)
        == 1.0
    )


def test_precision_recall_curve_by_hand() -> None:
    distances = np.array([[0, 1, 2]])
    relevant = np.array([[True, False, True]])
    radii, precision, recall = precision_recall_curve(distances, relevant)
    assert radii.tolist() == [0, 1, 2]
    np.testing.assert_allclose(precision, [1, 1 / 2, 2 / 3])
    np.testing.assert_allclose(recall, [1 / 2, 1 / 2, 1])


def test_report_has_the_documented_keys_and_per_class_means() -> None:
    distances = np.array([[0, 1, 2], [2, 1, 0]])
    report = retrieval_report(
        distances,
        np.array([0, 1]),
        np.array([0, 0, 1]),
        k=2,
        precision_ks=(1,),
        class_names=("FRI", "FRII"),
    )
    assert {"map_at_2", "map_at_r", "precision_at_1", "per_class"} <= set(report)
    assert report["per_class"]["FRII"]["map_at_2"] == pytest.approx(1.0)
    assert report["map_at_2"] == pytest.approx(
        np.mean([report["per_class"][c]["map_at_2"] for c in ("FRI", "FRII")])
    )


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(2, 30),
    st.integers(1, 8),
    st.integers(0, 2**16),
    st.integers(1, 40),
)
def test_metrics_lie_in_unit_interval_and_average_ignores_database_order(
    n_queries: int, n_database: int, bits: int, seed: int, k: int
) -> None:
    rng = np.random.default_rng(seed)
    distances = rng.integers(0, bits + 1, (n_queries, n_database))
    relevant = relevance(rng.integers(0, 2, n_queries), rng.integers(0, 2, n_database))
    for ties in ("random", "average", "stable"):
        for values in (
            average_precision_at_k(distances, relevant, k, ties=ties),
            average_precision_at_k(distances, relevant, None, ties=ties),
            precision_at_k(distances, relevant, k, ties=ties),
        ):
            assert np.all((values >= 0) & (values <= 1 + 1e-12))
    permutation = rng.permutation(n_database)
    np.testing.assert_allclose(
        average_precision_at_k(
            distances[:, permutation], relevant[:, permutation], k, ties="average"
        ),
        average_precision_at_k(distances, relevant, k, ties="average"),
    )
