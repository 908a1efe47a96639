"""Similar items, personalised search and bundles on the checkerboard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from recommend_fixtures import FakeItemVectors

from recengine.config import RecommendSettings
from recengine.errors import NotFoundError, RecEngineError
from recengine.recommend import Recommender
from recengine.recommend.bundles import bundle_for_item_id, bundle_for_user_id
from recengine.recommend.search import search
from recengine.recommend.similar import similar_to


def test_similar_items_blend_content_and_co_occurrence(recommender: Recommender) -> None:
    similar = similar_to(recommender, "J1", k=5)
    assert [item.rank for item in similar] == [1, 2, 3, 4, 5]
    assert all(item.item_id.startswith("J") and item.item_id != "J1" for item in similar)
    for item in similar:
        assert item.content + item.collaborative == pytest.approx(item.score, abs=1e-5)
    assert any(item.collaborative > 0 for item in similar)
    # J7 was never bought: similar on content alone.
    assert all(item.collaborative == 0 for item in similar_to(recommender, "J7", k=3))
    with pytest.raises(NotFoundError):
        similar_to(recommender, "nope")


def test_search_matches_the_query_and_personalises(items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors) -> None:
    def encode(text: str) -> np.ndarray:
        return np.eye(8, dtype=np.float32)[0 if "jazz" in text or "record" in text else 1]

    model = Recommender.fit(items, interactions, vectors, RecommendSettings(), encode_query=encode)
    plain = search(model, "garden tool", k=4)
    assert all(hit.item_id.startswith("G") for hit in plain)
    assert all(hit.personal == 0 for hit in plain)
    personal = search(model, "garden tool", user_id="g0", k=4)
    assert all(hit.item_id.startswith("G") for hit in personal)
    assert any(hit.personal > 0 for hit in personal)
    for hit in personal:
        assert hit.query + hit.personal == pytest.approx(hit.score, abs=1e-5)
    with pytest.raises(RecEngineError):
        search(model, "   ")


def test_search_without_vectors_falls_back_to_words(items: pd.DataFrame, interactions: pd.DataFrame) -> None:
    model = Recommender.fit(items, interactions, None, RecommendSettings())
    hits = search(model, "jazz record 3", k=3)
    assert hits[0].item_id == "J3"


def test_bundle_for_an_item_respects_budget_and_leaves_out_the_anchor(recommender: Recommender) -> None:
    bundle = bundle_for_item_id(recommender, "J2", size=3)
    assert bundle.anchor_item_ids == ["J2"]
    assert 1 <= len(bundle.items) <= 3
    assert "J2" not in {item.item_id for item in bundle.items}
    assert len({item.item_id for item in bundle.items}) == len(bundle.items)
    assert all(item.reason for item in bundle.items)
    cheap = bundle_for_item_id(recommender, "J2", size=3, budget=4.0)
    assert cheap.total_price is None or cheap.total_price <= 4.0
    assert all(item.price is not None for item in cheap.items)


def test_bundle_prefers_complementary_categories(items: pd.DataFrame, vectors: FakeItemVectors) -> None:
    # Customers who buy a jazz record also buy a garden tool: the bundle for J0 should complete the set.
    rows = []
    for user in range(12):
        rows += [(f"u{user}", f"J{user % 3}", "purchase"), (f"u{user}", f"G{user % 2}", "purchase")]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "event"])
    model = Recommender.fit(items, frame, vectors, RecommendSettings())
    bundle = bundle_for_item_id(model, "J0", size=2)
    assert bundle.items[0].item_id.startswith("G")
    assert bundle.total_price == pytest.approx(sum(item.price for item in bundle.items))


def test_bundle_for_a_user_leaves_out_their_history(recommender: Recommender) -> None:
    history = {recommender.item_ids[p] for p in recommender.user_history("j3").positions}
    bundle = bundle_for_user_id(recommender, "j3")
    assert not history & {item.item_id for item in bundle.items}
    assert set(bundle.anchor_item_ids) <= history
    with pytest.raises(NotFoundError):
        bundle_for_user_id(recommender, "stranger")


def test_status_section_reports_what_recommendations_can_use(filled_workspace) -> None:  # type: ignore[no-untyped-def]
    from recengine.status import workspace_status

    section = workspace_status(filled_workspace)["recommendations"]
    assert section.customers_with_history == 20
    assert section.products_never_chosen == 2  # J7 and G7
    assert "semantic" in section.weights
    assert section.collaborative == "co-occurrence (alpha 0.5, shrink 5)"
    assert section.item_vectors.startswith("catalog text + reviews' text (review_vector_weight 1;")
    assert section.new_products.startswith("borrow the collaborative signal and popularity of their 5 closest")


def test_status_says_when_item_vectors_hold_catalog_text_only(filled_workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from recengine.recommend.status import recommend_status
    from recengine.workspace import Workspace

    monkeypatch.setenv("RECENGINE_RECOMMEND__REVIEW_VECTOR_WEIGHT", "0")
    status = recommend_status(Workspace.open(filled_workspace.root))
    assert status.item_vectors == "catalog text only (review_vector_weight 0)"


def test_status_says_which_collaborative_signal_is_used() -> None:
    from recengine.config import RecommendSettings
    from recengine.recommend.status import collaborative_description

    ease = RecommendSettings(collaborative_ease_l2=250.0, collaborative_ease_max_items=100)
    assert collaborative_description(ease, 100) == "EASE (L2 250)"
    over = collaborative_description(ease, 101)
    assert over.startswith("co-occurrence") and "over its limit of 100" in over


def test_favourite_aspects_from_review_analysis(filled_workspace) -> None:  # type: ignore[no-untyped-def]
    from recengine.recommend.workspace_model import favourite_aspects

    assert favourite_aspects(filled_workspace, "j0") == []  # before analysis
    filled_workspace.store.ensure_table(
        "CREATE TABLE IF NOT EXISTS review_analysis (review_id VARCHAR PRIMARY KEY, aspects VARCHAR)"
    )
    review_id = filled_workspace.store.scalar("SELECT review_id FROM reviews WHERE user_id = 'j0' LIMIT 1")
    with filled_workspace.store.transaction() as connection:
        connection.execute(
            "INSERT INTO review_analysis VALUES (?, ?)",
            [review_id, '[{"aspect": "sound", "sentiment": "positive", "quote": "lovely sound"},'
                        ' {"aspect": "price", "sentiment": "negative", "quote": "pricey"}]'],
        )
    assert favourite_aspects(filled_workspace, "j0") == ["sound"]


def test_status_says_how_new_products_compete() -> None:
    from recengine.config import RecommendSettings
    from recengine.recommend.status import new_products_description

    assert "compete on content alone" in new_products_description(RecommendSettings(new_product_neighbours=0))
    ruled = new_products_description(RecommendSettings(new_arrivals_days=30, new_arrivals_positions=[3, 7]))
    assert ruled.endswith("new arrivals (first seen within 30 days) get positions 3, 7")
