"""Metric functions against hand-computed values, and the vectorised forms against the reference ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recengine.evaluate.metrics import (
    average_precision_at_k,
    bootstrap_ci,
    catalog_coverage,
    exposure_gini,
    hit_rate_at_k,
    intra_list_diversity,
    long_tail_items,
    metrics_from_ranks,
    ndcg_at_k,
    novelty,
    paired_test,
    precision_at_k,
    rank_scores,
    recall_at_k,
    reciprocal_rank,
)

RANKED = ["a", "b", "c", "d", "e"]
RELEVANT = {"b", "e"}


def test_reference_metrics_match_hand_computed_values() -> None:
    assert recall_at_k(RANKED, RELEVANT, 3) == pytest.approx(0.5)
    assert precision_at_k(RANKED, RELEVANT, 3) == pytest.approx(1 / 3)
    assert hit_rate_at_k(RANKED, RELEVANT, 3) == 1.0
    assert hit_rate_at_k(RANKED, RELEVANT, 1) == 0.0
    # DCG = 1/log2(3); ideal with 2 relevant in top 3 = 1 + 1/log2(3).
    assert ndcg_at_k(RANKED, RELEVANT, 3) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(RANKED, RELEVANT, 5) == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(6)) / (1 + 1 / math.log2(3))
    )
    # AP@5: hits at positions 2 and 5 -> (1/2 + 2/5) / 2.
    assert average_precision_at_k(RANKED, RELEVANT, 5) == pytest.approx((0.5 + 0.4) / 2)
    assert average_precision_at_k(RANKED, RELEVANT, 3) == pytest.approx(0.5 / 2)
    assert reciprocal_rank(RANKED, RELEVANT) == pytest.approx(0.5)
    assert reciprocal_rank(RANKED, {"z"}) == 0.0
    assert ndcg_at_k(["b", "a"], {"b"}, 10) == pytest.approx(1.0)


def test_vectorised_metrics_from_ranks_match_reference() -> None:
    # The same case as above: relevant items at 0-based ranks 1 and 4.
    values = metrics_from_ranks(np.array([[1.0, 4.0]]), 3)
    assert values["recall"][0] == pytest.approx(0.5)
    assert values["precision"][0] == pytest.approx(1 / 3)
    assert values["hit_rate"][0] == 1.0
    assert values["ndcg"][0] == pytest.approx(ndcg_at_k(RANKED, RELEVANT, 3))
    assert values["map"][0] == pytest.approx(average_precision_at_k(RANKED, RELEVANT, 3))
    assert values["mrr"][0] == pytest.approx(0.5)


def test_vectorised_metrics_agree_with_reference_on_random_lists() -> None:
    rng = np.random.default_rng(3)
    n_items = 30
    for _ in range(50):
        order = [f"i{index}" for index in rng.permutation(n_items)]
        n_relevant = int(rng.integers(1, 4))
        relevant = set(rng.choice(order, size=n_relevant, replace=False).tolist())
        ranks = np.full((1, 3), np.nan)
        ranks[0, :n_relevant] = sorted(order.index(item) for item in relevant)
        for k in (1, 5, 10):
            values = metrics_from_ranks(ranks, k)
            assert values["recall"][0] == pytest.approx(recall_at_k(order, relevant, k))
            assert values["precision"][0] == pytest.approx(precision_at_k(order, relevant, k))
            assert values["ndcg"][0] == pytest.approx(ndcg_at_k(order, relevant, k))
            assert values["map"][0] == pytest.approx(average_precision_at_k(order, relevant, k))
            assert values["hit_rate"][0] == hit_rate_at_k(order, relevant, k)
        assert values["mrr"][0] == pytest.approx(reciprocal_rank(order, relevant))


def test_rank_scores_excludes_seen_items_and_breaks_ties_by_key() -> None:
    scores = np.array([[0.9, 0.5, 0.5, 0.1], [0.9, 0.5, 0.5, 0.1]])
    tie_keys = np.array([0.0, 0.2, 0.8, 0.0])
    top, ranks = rank_scores(scores, relevant=[[2], [1]], exclude=[[0], []], k=3, tie_keys=tie_keys)
    # User 0: item 0 is seen; items 1 and 2 tie and item 2 has the larger key.
    assert top[0].tolist() == [2, 1, 3]
    assert ranks[0, 0] == 0
    # User 1: nothing excluded; item 1 is behind item 0 and (tie) behind item 2.
    assert top[1].tolist() == [0, 2, 1]
    assert ranks[1, 0] == 2
    assert np.array_equal(scores[0], [0.9, 0.5, 0.5, 0.1])  # input untouched


def test_rank_scores_consistent_between_top_lists_and_ranks() -> None:
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 4, size=(20, 15)).astype(float)  # many ties
    relevant = [[int(rng.integers(0, 15))] for _ in range(20)]
    exclude = [[item for item in rng.choice(15, 3, replace=False) if item != rel[0]] for rel in relevant]
    top, ranks = rank_scores(scores, relevant=relevant, exclude=exclude, k=15 - 3, tie_keys=rng.random(15))
    for row in range(20):
        position = top[row].tolist().index(relevant[row][0])
        assert ranks[row, 0] == position
        assert not set(top[row].tolist()) & {int(item) for item in exclude[row]}


def test_beyond_accuracy_measures() -> None:
    top = np.array([[0, 1], [0, 1]])
    assert catalog_coverage(top, 4, 2) == pytest.approx(0.5)
    # Exposure: items 0 and 1 twice each, items 2 and 3 never -> Gini 0.5.
    assert exposure_gini(top, 4, 2) == pytest.approx(0.5)
    assert exposure_gini(np.array([[0, 1], [2, 3]]), 4, 2) == pytest.approx(0.0)
    assert exposure_gini(np.array([[0], [0]]), 4, 1) == pytest.approx(0.75)
    # Novelty: 3 users, item 0 had by 3, item 1 by 1 -> p = 4/4 and 2/4.
    counts = np.array([3, 1, 0, 0])
    assert novelty(top, counts, 3, 2) == pytest.approx((0.0 + 1.0) / 2)
    orthogonal = np.eye(4)
    assert intra_list_diversity(top, orthogonal, 2) == pytest.approx(1.0)
    same = np.tile([[1.0, 0.0]], (4, 1))
    assert intra_list_diversity(top, same, 2) == pytest.approx(0.0)
    # 19 interactions: item 0 alone covers 10/19 >= half, so it is the head.
    tail = long_tail_items(np.array([10, 5, 1, 0, 3]), head_share=0.5)
    assert tail.tolist() == [False, True, True, True, True]
    tail = long_tail_items(np.array([10, 5, 1, 0, 3]), head_share=0.75)
    assert tail.tolist() == [False, False, True, True, True]
    assert long_tail_items(np.zeros(3)).all()


def test_bootstrap_interval_contains_mean_and_collapses_on_constants() -> None:
    values = np.random.default_rng(0).random(500)
    estimate = bootstrap_ci(values, n_resamples=300)
    assert estimate.low < estimate.mean < estimate.high
    assert estimate.high - estimate.low < 0.1
    constant = bootstrap_ci(np.full(50, 0.25), n_resamples=100)
    assert constant.low == constant.mean == constant.high == pytest.approx(0.25)


@pytest.mark.parametrize("method", ["bootstrap", "wilcoxon"])
def test_paired_test_tells_a_real_difference_from_none(method: str) -> None:
    rng = np.random.default_rng(0)
    base = (rng.random(400) < 0.2).astype(float)
    better = np.maximum(base, (rng.random(400) < 0.3).astype(float))
    result = paired_test(better, base, method=method, n_resamples=500)  # type: ignore[arg-type]
    assert result.significant and result.mean_difference > 0 and result.p_value < 0.01
    same = paired_test(base, base, method=method, n_resamples=500)  # type: ignore[arg-type]
    assert not same.significant and same.p_value == 1.0
    noise = paired_test(rng.random(50), rng.random(50), method=method, n_resamples=500)  # type: ignore[arg-type]
    assert noise.low < 0 < noise.high
