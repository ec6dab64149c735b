"""Anomaly scores: outliers rank first, higher = more unusual, stable order, seeded forests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.anomalies import AnomalyConfig, anomaly_scores, archive_anomalies, rank_by_score
from retrieval.archive import Archive
from retrieval.index import HammingIndex


def cloud_with_outlier(seed: int = 0, outlier: int = 13) -> np.ndarray:
    points = np.random.default_rng(seed).normal(size=(80, 6)).astype(np.float32)
    points[outlier] = 12.0
    return points


@pytest.mark.parametrize("method", ["lof", "iforest"])
@pytest.mark.parametrize("scaling", ["standard", "l2", "none"])
def test_an_obvious_outlier_ranks_first(method: str, scaling: str) -> None:
    points = cloud_with_outlier()
    if scaling == "l2":  # unit rows keep only the direction: make the outlier's direction odd
        points[13] = (12.0, -12.0, 12.0, -12.0, 12.0, -12.0)
        points[:, :3] = np.abs(points[:, :3]) + 3
        points[13, :3] = (-12.0, -12.0, -12.0)
    config = AnomalyConfig(method=method, scaling=scaling, n_neighbors=10)
    scores = anomaly_scores(points, config=config)
    assert scores.shape == (80,) and scores.dtype == np.float64
    assert rank_by_score(scores)[0] == 13


@pytest.mark.parametrize("method", ["lof", "iforest"])
def test_higher_means_more_unusual_against_a_reference(method: str) -> None:
    reference = np.random.default_rng(1).normal(size=(60, 4))
    # (the forest's score saturates beyond the reference's range: the middle query stays inside)
    queries = np.array([[0.0, 0.0, 0.0, 0.0], [1.5, 1.5, 1.5, 1.5], [8.0, 8.0, 8.0, 8.0]])
    scores = anomaly_scores(queries, reference=reference, config=AnomalyConfig(method=method))
    assert scores[0] < scores[1] < scores[2]


def test_lof_of_the_centre_of_a_uniform_grid_is_one() -> None:
    # on a regular grid every interior point has the same density as its neighbours: LOF = 1
    grid = np.stack(np.meshgrid(np.arange(9.0), np.arange(9.0)), -1).reshape(-1, 2)
    centre = np.array([[4.0, 4.0]])
    config = AnomalyConfig(n_neighbors=4, scaling="none")
    assert anomaly_scores(centre, reference=grid, config=config)[0] == pytest.approx(1.0)


def test_codes_use_hamming_distance() -> None:
    rng = np.random.default_rng(2)
    base = rng.integers(0, 2, 24).astype(bool)
    codes = np.tile(base, (40, 1))
    flips = rng.integers(0, 24, (40, 2))
    codes[np.arange(40)[:, None], flips] ^= True  # every code within 2 bits of the base
    codes[21] = ~base  # all 24 bits away
    config = AnomalyConfig(features="codes", n_neighbors=10)
    assert rank_by_score(anomaly_scores(codes, config=config))[0] == 21
    forest = AnomalyConfig(features="codes", method="iforest")
    assert rank_by_score(anomaly_scores(codes, config=forest))[0] == 21


def test_isolation_forest_is_seeded() -> None:
    points = cloud_with_outlier()
    same = [anomaly_scores(points, config=AnomalyConfig(method="iforest", seed=3)) for _ in "ab"]
    other = anomaly_scores(points, config=AnomalyConfig(method="iforest", seed=4))
    assert np.array_equal(same[0], same[1])
    assert not np.array_equal(same[0], other)


def test_ranking_breaks_ties_by_index() -> None:
    # 1.0 1.0 3.0 1.0 3.0 -> the two 3.0 first (ids 2, 4), then the 1.0 in id order
    assert rank_by_score(np.array([1.0, 1.0, 3.0, 1.0, 3.0])).tolist() == [2, 4, 0, 1, 3]
    # duplicated items score the same and keep their order whatever the data's order
    points = cloud_with_outlier()
    points[40] = points[41] = points[13]
    ranked = rank_by_score(anomaly_scores(points, config=AnomalyConfig(method="iforest")))
    assert ranked[:3].tolist() == [13, 40, 41]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=30), st.integers(0, 31))
def test_ranking_is_a_permutation_sorted_by_score(values: list[int], k: int) -> None:
    scores = np.array(values, dtype=float)
    order = rank_by_score(scores)
    assert sorted(order.tolist()) == list(range(len(values)))
    ranked = scores[order]
    assert np.all(np.diff(ranked) <= 0)
    # within equal scores, indices increase
    for left, right in zip(order[:-1], order[1:], strict=True):
        if scores[left] == scores[right]:
            assert left < right
    assert rank_by_score(scores, k).tolist() == order[:k].tolist()


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="n_neighbors=40 needs more than 40"):
        anomaly_scores(np.zeros((40, 3)))
    with pytest.raises(ValueError, match="same number of columns"):
        anomaly_scores(np.zeros((5, 3)), reference=np.zeros((30, 4)))
    with pytest.raises(ValueError, match="method"):
        AnomalyConfig(method="svm")  # type: ignore[arg-type]


def make_archive(descriptors: np.ndarray | None) -> Archive:
    rng = np.random.default_rng(5)
    index = HammingIndex(16)
    codes = np.tile(rng.integers(0, 2, 16).astype(bool), (40, 1))
    codes[9] = ~codes[9]
    index.add(codes)
    return Archive(
        index, [f"g{i}.png" for i in range(40)], np.zeros(40), ("A",), descriptors=descriptors
    )


@pytest.mark.filterwarnings("ignore:Duplicate values")  # 39 equal codes, on purpose
def test_archive_items_and_queries_are_ranked() -> None:
    descriptors = np.random.default_rng(6).normal(size=(40, 5)).astype(np.float32)
    descriptors[30] += 15
    archive = make_archive(descriptors)
    scores, ids = archive_anomalies(archive, config=AnomalyConfig(n_neighbors=8), k=5)
    assert ids[0] == 30 and len(ids) == 5 and np.all(np.diff(scores) <= 0)
    queries = np.vstack([descriptors[:2], descriptors[:1] + 20])
    scores, ids = archive_anomalies(archive, queries=queries, config=AnomalyConfig(n_neighbors=8))
    assert ids.tolist()[0] == 2 and sorted(ids.tolist()) == [0, 1, 2]
    codes = AnomalyConfig(features="codes", n_neighbors=10)
    _, ids = archive_anomalies(archive, config=codes, k=1)
    assert ids.tolist() == [9]


@pytest.mark.filterwarnings("ignore:Duplicate values")
def test_archive_without_descriptors_asks_for_codes_or_a_re_index() -> None:
    archive = make_archive(None)
    with pytest.raises(ValueError, match="--on codes.*re-index"):
        archive_anomalies(archive, name="old.chx")
    _, ids = archive_anomalies(archive, config=AnomalyConfig(features="codes", n_neighbors=5))
    assert ids[0] == 9
