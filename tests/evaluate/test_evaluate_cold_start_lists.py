"""Whole-catalog lists under the new-arrivals rule, with content-chosen new products, and the rule's warm cost."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from test_evaluate_cold_start import taste_vectors, two_taste_shop

from recengine.config import RecommendSettings
from recengine.evaluate.baselines import HybridRanker
from recengine.evaluate.cold_start import new_products_split, whole_catalog
from recengine.evaluate.cold_start_lists import (
    ContentChoiceHybrid,
    RuledHybrid,
    new_arrivals_rules,
    scores_with_lists_first,
    warm_cost,
)
from recengine.evaluate.splits import leave_last_out


def shop_vectors(items: pd.DataFrame) -> type:
    ids, vectors = taste_vectors(items)

    class Vectors:
        item_ids, fingerprint = ids, "taste"

    Vectors.vectors = vectors
    return Vectors


def test_a_list_comes_first_in_its_order_and_the_rest_keeps_its_order() -> None:
    scores = np.array([[0.9, 0.1, 0.5, -np.inf, 0.3]])
    reordered = scores_with_lists_first(scores, [[4, 1]])
    order = np.argsort(-reordered[0], kind="stable").tolist()
    assert order == [4, 1, 0, 2, 3]
    assert reordered[0, 3] == -np.inf, "excluded products stay excluded"
    assert scores[0, 4] == 0.3, "the input is not modified"


def test_the_ruled_hybrid_lists_what_recommend_lists_under_the_rule() -> None:
    items, interactions = two_taste_shop(products_per_taste=30, customers_per_taste=40)
    split = new_products_split(interactions, share=0.2, seed=0)
    vectors = shop_vectors(items)
    rules = new_arrivals_rules(0.5)
    ruled = RuledHybrid(vectors, RecommendSettings(), rules, k=10, name="ruled").fit(split.train, items)
    users = split.test_users[:5]
    ranked = np.argsort(-ruled.score(users), axis=1, kind="stable")[:, :10]
    for row, user in enumerate(users):
        listed = [entry.item_id for entry in ruled.recommender.recommend(user, 10, rules=rules)]
        assert [ruled.item_ids[position] for position in ranked[row]] == listed
        assert sum(item in split.new_items for item in listed) >= 5, "half of the list goes to new arrivals"


def test_a_larger_new_arrivals_share_gives_new_products_more_slots() -> None:
    items, interactions = two_taste_shop(products_per_taste=30, customers_per_taste=40)
    split = new_products_split(interactions, share=0.2, seed=0)
    vectors = shop_vectors(items)
    settings = RecommendSettings()
    result = whole_catalog(
        split, items,
        [HybridRanker(vectors, settings, name="Hybrid"),
         RuledHybrid(vectors, settings, new_arrivals_rules(0.3), k=10, name="30%"),
         RuledHybrid(vectors, settings, new_arrivals_rules(0.8), k=10, name="80%")],
        k=10, resamples=100,
    )
    share = {name: method.estimates["new share"].mean for name, method in result.methods.items()}
    assert share["30%"] >= 0.3 - 1e-9 and share["80%"] >= 0.8 - 1e-9
    assert share["80%"] > share["30%"] >= share["Hybrid"]


class FixedContent:
    """A content ranker whose scores are the same for every customer: a fixed order of the catalog."""

    name = "fixed"

    def __init__(self, preference: dict[str, float]) -> None:
        self.preference = preference
        self.fitted_rows = 0

    def fit(self, train: pd.DataFrame, items: pd.DataFrame) -> FixedContent:
        self.fitted_rows = len(train)
        self.row = np.array([self.preference.get(str(item), 0.0) for item in items["item_id"]], dtype=np.float32)
        return self

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        return np.tile(self.row, (len(user_ids), 1))


def test_content_choice_keeps_the_hybrids_slots_and_fills_them_in_the_contents_order() -> None:
    items, interactions = two_taste_shop(products_per_taste=30, customers_per_taste=40)
    split = new_products_split(interactions, share=0.2, seed=0)
    vectors = shop_vectors(items)
    favourite = list(reversed(split.new_items))  # the content ranking's order: last id first
    content = FixedContent({item: float(len(favourite) - rank) for rank, item in enumerate(favourite)})
    hybrid = HybridRanker(vectors, RecommendSettings())
    chosen = ContentChoiceHybrid(hybrid, content, split.new_items, k=10, name="chosen").fit(split.train, items)
    assert content.fitted_rows == len(split.liked_train), "the content ranking reads what customers liked"
    users = split.test_users[:8]
    plain = np.argsort(-hybrid.score(users), axis=1, kind="stable")[:, :10]
    listed = np.argsort(-chosen.score(users), axis=1, kind="stable")[:, :10]
    is_new = items["item_id"].isin(split.new_items).to_numpy()
    assert is_new[plain].any(), "the hybrid gives new products some slots"
    for row in range(len(users)):
        assert (is_new[plain[row]] == is_new[listed[row]]).all(), "new products keep the same slots"
        old = ~is_new[plain[row]]
        assert (plain[row][old] == listed[row][old]).all(), "the other products stay where they were"
        new_ids = items["item_id"].to_numpy()[listed[row][is_new[listed[row]]]].tolist()
        assert new_ids == favourite[: len(new_ids)]


def test_warm_cost_pairs_each_setting_with_the_first_and_counts_new_arrival_slots() -> None:
    items, interactions = two_taste_shop(products_per_taste=20, customers_per_taste=30)
    # One jazz record nobody has bought yet.
    items = pd.concat(
        [items, pd.DataFrame({"item_id": ["J-new"], "title": ["jazz vinyl record new"], "category": ["Music"]})],
        ignore_index=True,
    )
    vectors = shop_vectors(items)
    settings = RecommendSettings()
    costs = warm_cost(
        items, interactions,
        [HybridRanker(vectors, settings, name="Hybrid"),
         RuledHybrid(vectors, settings, new_arrivals_rules(0.5), k=5, name="rule")],
        k=5, resamples=100,
    )
    # New arrivals: first seen in the training part within a day of its newest day, or never (J-new and any
    # product bought only as somebody's held-out last one).
    train = leave_last_out(interactions).train
    days = train["timestamp"].map(pd.Timestamp.timestamp) / 86400
    first_seen = days.groupby(train["item_id"]).min()
    expected = len(items) - len(first_seen) + int((first_seen >= days.max() - 1).sum())
    assert costs.new_arrivals == expected >= 1 and costs.users == 60 and costs.k == 5
    reference, ruled = costs.costs
    assert reference.against_reference is None
    assert ruled.against_reference is not None
    assert ruled.against_reference.mean_difference == pytest.approx(ruled.ndcg.mean - reference.ndcg.mean, abs=1e-9)
    assert ruled.new_arrival_share >= 3 / 5 - 1e-9, "half of five slots, rounded up, go to new arrivals"
    assert reference.new_arrival_share < ruled.new_arrival_share
