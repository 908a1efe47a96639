"""Products nobody has bought yet: the borrowed collaborative estimate and the new-arrivals rule.

In the checkerboard J7 and G7 have no interactions at all.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from recommend_fixtures import FakeItemVectors
from scipy import sparse

from recengine.config import RecommendSettings
from recengine.errors import ConfigError
from recengine.recommend import NewArrivals, Recommender, RuleSet
from recengine.recommend.collaborative import user_scores
from recengine.recommend.new_products import (
    borrow_from_text,
    with_borrowed_columns,
    with_borrowed_scores,
    with_borrowed_values,
)
from recengine.recommend.rules import rule_from_dict, rule_to_dict


def test_a_new_product_borrows_from_its_text_neighbours_that_have_interactions() -> None:
    vectors = np.array([[1, 0], [0.8, 0.6], [0, 1], [0.99, 0.14]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    has_interactions = np.array([True, True, True, False])
    borrowed = borrow_from_text(vectors, has_interactions, neighbours=2, min_cosine=0.2)
    assert borrowed.new_products.tolist() == [3]
    sources = borrowed.sources(3)
    assert [position for position, _weight in sources] == [0, 1]  # its two closest, most similar first
    cosines = vectors[[0, 1]] @ vectors[3]
    # Shares of the cosines, times the mean cosine (closeness): the weights sum to the closeness.
    assert sum(weight for _p, weight in sources) == pytest.approx(cosines.mean(), abs=1e-6)
    assert not borrowed.is_new(0) and borrowed.is_new(3)

    signal = sparse.csr_matrix(np.array([[0, 0.5, 0.1, 0], [0.5, 0, 0.2, 0], [0.1, 0.2, 0, 0], [0, 0, 0, 0]], dtype=np.float32))
    estimated = with_borrowed_columns(signal, borrowed).toarray()
    weights = borrowed.weights.toarray()[3]
    assert estimated[:, 3] == pytest.approx(signal.toarray() @ weights, abs=1e-6)
    assert estimated[:, :3] == pytest.approx(signal.toarray()[:, :3])  # other columns untouched
    popularity = np.array([1.0, 0.5, 0.2, 0.0])
    assert with_borrowed_values(popularity, borrowed)[3] == pytest.approx(float(weights @ popularity))
    # A customer's scores from the signal's rows, new products' added from their sources' scores, are
    # the scores the matrix with borrowed columns gives (what the attribution splits).
    history, confidence = np.array([0, 2]), np.array([2.0, 0.5])
    scored = with_borrowed_scores(user_scores(history, confidence, signal), borrowed)
    assert scored == pytest.approx(user_scores(history, confidence, sparse.csr_matrix(estimated)), abs=1e-6)
    assert scored[3] > 0


def test_nothing_is_borrowed_from_unlike_products_or_when_switched_off() -> None:
    vectors = np.array([[1, 0], [0, 1]], dtype=np.float32)
    assert borrow_from_text(vectors, np.array([True, False]), min_cosine=0.2).new_products.size == 0
    assert borrow_from_text(vectors, np.array([True, False]), neighbours=0).new_products.size == 0
    assert borrow_from_text(None, np.array([True, False])).new_products.size == 0


def test_a_new_product_gets_a_collaborative_score_and_competes(
    items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors
) -> None:
    with_estimate = Recommender.fit(items, interactions, vectors, RecommendSettings())
    without = Recommender.fit(items, interactions, vectors, RecommendSettings(new_product_neighbours=0))
    scores = with_estimate.component_scores("j0").set_index("item_id")
    assert scores.loc["J7", "collaborative"] > 0
    assert scores.loc["G7", "collaborative"] == 0  # a jazz customer's history says nothing for garden tools
    assert without.component_scores("j0").set_index("item_id").loc["J7", "collaborative"] == 0
    assert with_estimate.score_items("j0")[with_estimate.catalog.positions["J7"]] > without.score_items("j0")[
        without.catalog.positions["J7"]
    ]
    batch = with_estimate.score_users(["j0"])[0]
    assert batch[with_estimate.catalog.positions["J7"]] == pytest.approx(
        with_estimate.score_items("j0", exclude_seen=False)[with_estimate.catalog.positions["J7"]], abs=1e-5
    )


def test_new_arrivals_take_a_minimum_share(recommender: Recommender) -> None:
    plain = [item.item_id for item in recommender.recommend("j0", k=4, rules=RuleSet())]
    ruled = recommender.recommend("j0", k=4, rules=RuleSet((NewArrivals(days=0.5, share=0.5),)))
    new = recommender.catalog.new_arrivals_mask(0.5)
    assert {recommender.catalog.item_ids[p] for p in np.flatnonzero(new)} == {"J7", "G7"}  # never bought
    ids = [item.item_id for item in ruled]
    assert len(ids) == 4 and sum(item_id in ("J7", "G7") for item_id in ids) >= 2
    assert set(plain) - set(ids), "new arrivals replaced items of the plain list"
    promoted = [item for item in ruled if item.item_id in ("J7", "G7") and item.item_id not in plain]
    assert promoted and all(any("new arrivals" in note for note in item.explanation.rules) for item in promoted)


def test_new_arrivals_at_fixed_positions(recommender: Recommender) -> None:
    ruled = recommender.recommend("j0", k=5, rules=RuleSet((NewArrivals(days=0.5, positions=(2, 4)),)))
    assert {ruled[1].item_id, ruled[3].item_id} == {"J7", "G7"}
    assert ruled[1].rank == 2


def test_new_arrivals_read_a_first_seen_column(items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors) -> None:
    dated = items.assign(first_seen=pd.NaT)
    dated.loc[dated["item_id"] == "J3", "first_seen"] = datetime(2030, 1, 1)  # announced as newest
    model = Recommender.fit(dated, interactions, vectors, RecommendSettings())
    new = {model.catalog.item_ids[p] for p in np.flatnonzero(model.catalog.new_arrivals_mask(1))}
    assert "J3" in new and "J7" in new


def test_new_arrivals_rule_round_trips_and_checks_its_values() -> None:
    rule = NewArrivals(days=14, share=0.3, positions=(3, 1))
    assert rule.positions == (1, 3)
    assert rule_from_dict(rule_to_dict(rule)) == rule
    assert "14 days" in rule.describe()
    with pytest.raises(ConfigError):
        NewArrivals(days=0)
    with pytest.raises(ConfigError):
        NewArrivals(positions=(0,))


def test_new_arrivals_from_settings_apply_to_every_list(
    items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors
) -> None:
    settings = RecommendSettings(new_arrivals_days=1, new_arrivals_positions=[1])
    model = Recommender.fit(items, interactions, vectors, settings)
    assert model.recommend("g0", k=3)[0].item_id in ("J7", "G7")
    off = model.recommend("g0", k=3, rules=RuleSet(enabled=False))
    assert not any("new arrivals" in note for item in off for note in item.explanation.rules)


def test_a_new_products_explanation_names_what_it_borrowed_from(recommender: Recommender) -> None:
    listed = recommender.recommend("j0", k=8, rules=RuleSet())
    new = next(item for item in listed if item.item_id == "J7")
    borrowed = [entry.item_id for entry in new.explanation.borrowed_from]
    assert borrowed and all(item_id.startswith("J") and item_id != "J7" for item_id in borrowed)
    assert new.explanation.reason.startswith("New: nobody has bought it yet")
    title = recommender.catalog.titles[recommender.catalog.positions[borrowed[0]]]
    assert f"'{title}'" in new.explanation.reason
    collaborative = new.explanation.attribution_of("collaborative")
    assert collaborative is not None  # still split over this customer's own history, exactly
    assert sum(entry.amount for entry in collaborative.contributions) + collaborative.unlisted == pytest.approx(
        collaborative.value, abs=1e-5
    )
    warm = next(item for item in listed if item.item_id != "J7")
    assert warm.explanation.borrowed_from == [] and not warm.explanation.reason.startswith("New:")
    again = type(new).from_dict(new.to_dict())
    assert again.explanation.borrowed_from == new.explanation.borrowed_from


def test_top_items_are_the_recommended_list_without_its_explanations(recommender: Recommender) -> None:
    rules = RuleSet((NewArrivals(days=0.5, share=0.5),))
    for user_id in ("j0", "g0", "nobody"):
        for ruled in (None, rules):
            listed = [item.item_id for item in recommender.recommend(user_id, k=4, rules=ruled)]
            assert recommender.top_items(user_id, 4, rules=ruled) == listed
    assert recommender.top_items("j0", 0) == []
