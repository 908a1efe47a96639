"""The hybrid recommender on a checkerboard: right answers, additive components, profiles, cold start."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest
from recommend_fixtures import FakeItemVectors, checkerboard_items, checkerboard_vectors

from recengine.config import RecommendSettings
from recengine.errors import ConfigError, NotFoundError, NotReadyError
from recengine.recommend import COMPONENTS, Recommender, parse_budget
from recengine.recommend.interactions import build_history
from recengine.recommend.profile import UserHistory, build_profile


def test_each_taste_gets_its_own_items(recommender: Recommender) -> None:
    for user, prefix in (("j0", "J"), ("g3", "G")):
        top = recommender.recommend(user, k=3)
        assert len(top) == 3
        assert all(item.item_id.startswith(prefix) for item in top), [item.item_id for item in top]


def test_components_add_up_and_are_named(recommender: Recommender) -> None:
    for item in recommender.recommend("j1", k=5):
        components = item.explanation.components
        assert set(COMPONENTS) <= set(components)
        assert sum(components.values()) == pytest.approx(item.score, abs=1e-5)


def test_seen_items_are_left_out_unless_asked(recommender: Recommender) -> None:
    seen = {recommender.item_ids[p] for p in recommender.user_history("j0").positions}
    assert len(seen) == 4
    assert not seen & {item.item_id for item in recommender.recommend("j0", k=12)}
    with_seen = {item.item_id for item in recommender.recommend("j0", k=8, exclude_seen=False)}
    assert seen & with_seen


def test_because_items_come_from_history_with_their_cosine(recommender: Recommender, vectors: FakeItemVectors) -> None:
    history = {recommender.item_ids[p] for p in recommender.user_history("g2").positions}
    index = {item_id: row for row, item_id in enumerate(vectors.item_ids)}
    for item in recommender.recommend("g2", k=4):
        because = item.explanation.because
        assert 1 <= len(because) <= 3
        for entry in because:
            assert entry.item_id in history
            expected = float(vectors.vectors[index[entry.item_id]] @ vectors.vectors[index[item.item_id]])
            assert entry.similarity == pytest.approx(expected, abs=1e-3)
        assert item.explanation.reason.endswith(".")


def test_an_item_nobody_bought_is_recommended_on_content(recommender: Recommender) -> None:
    # J7 has no interactions at all; for a jazz user it still ranks above every garden item.
    scores = recommender.score_items("j0")
    position = recommender.catalog.positions
    garden = max(scores[position[f"G{index}"]] for index in range(8))
    assert scores[position["J7"]] > garden
    assert recommender.statistics.customers[position["J7"]] == 0


def test_score_items_matches_recommend_order(recommender: Recommender) -> None:
    scores = recommender.score_items("g5")
    assert scores.shape == (len(recommender.item_ids),)
    seen = recommender.user_history("g5").positions
    assert np.all(np.isneginf(scores[seen]))
    top = recommender.recommend("g5", k=1)[0]
    assert recommender.item_ids[int(np.argmax(scores))] == top.item_id
    assert scores.max() == pytest.approx(top.score, abs=1e-5)


def test_score_users_equals_score_items(recommender: Recommender) -> None:
    users = ["j0", "g4", "stranger"]
    batch = recommender.score_users(users)
    for row, user in enumerate(users):
        np.testing.assert_allclose(batch[row], recommender.score_items(user, exclude_seen=False), atol=1e-5)


def test_weights_override_per_call(recommender: Recommender) -> None:
    only_popularity = recommender.recommend("j0", k=3, weights={"semantic": 0, "collaborative": 0, "quality": 0, "recency": 0})
    for item in only_popularity:
        assert item.explanation.components["semantic"] == 0
        assert item.explanation.components["collaborative"] == 0
    with pytest.raises(ConfigError):
        recommender.recommend("j0", weights={"colaborative": 1.0})


def test_settings_weights_are_used(items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors) -> None:
    settings = RecommendSettings(weight_semantic=0, weight_collaborative=0, weight_popularity=1, weight_quality=0, weight_recency=0)
    model = Recommender.fit(items, interactions, vectors, settings)
    top = model.recommend("j0", k=1)[0]
    assert top.explanation.components["popularity"] == pytest.approx(top.score)


def test_event_type_and_recency_weigh_the_history(items: pd.DataFrame) -> None:
    settings = RecommendSettings()
    frame = pd.DataFrame(
        {
            "user_id": ["u", "u", "u"],
            "item_id": ["J0", "J1", "J2"],
            "event": ["view", "purchase", "purchase"],
            "timestamp": pd.to_datetime(["2024-06-01", "2024-06-01", "2023-06-01"]),
        }
    )
    positions = {item_id: row for row, item_id in enumerate(items["item_id"])}
    table, _ = build_history(frame, positions, settings)
    affinity = table.affinity.toarray()[0]
    assert affinity[positions["J1"]] > affinity[positions["J0"]] > 0  # purchase > view
    assert affinity[positions["J1"]] > affinity[positions["J2"]] > 0  # a year older weighs less


def test_low_ratings_and_negative_sentiment_are_dislikes(items: pd.DataFrame) -> None:
    settings = RecommendSettings()
    frame = pd.DataFrame(
        {"user_id": ["u"] * 3, "item_id": ["J0", "J1", "J2"], "event": ["review"] * 3,
         "rating": [5.0, 1.0, np.nan], "review_id": ["r0", "r1", "r2"]}
    )
    sentiment = pd.DataFrame({"review_id": ["r2"], "sentiment_score": [-0.9]})
    positions = {item_id: row for row, item_id in enumerate(items["item_id"])}
    table, _ = build_history(frame, positions, settings, sentiment)
    affinity = table.affinity.toarray()[0]
    assert affinity[positions["J0"]] > 0
    assert affinity[positions["J1"]] < 0
    assert affinity[positions["J2"]] < 0


def test_disliked_items_push_the_profile_away() -> None:
    vectors = np.array([[1, 0, 0], [0.6, 0.8, 0], [0, 1, 0]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    liked_only = UserHistory("u", np.array([0, 1]), np.array([1.0, 1.0]), np.ones(2), np.full(2, np.nan), np.ones(2))
    with_dislike = UserHistory("u", np.array([0, 1, 2]), np.array([1.0, 1.0, -1.0]), np.ones(3), np.full(3, np.nan), np.ones(3))
    plain = build_profile(liked_only, vectors, max_interests=1)
    pushed = build_profile(with_dislike, vectors, max_interests=1)
    assert float(pushed.interests[0] @ vectors[2]) < float(plain.interests[0] @ vectors[2])


def test_two_tastes_give_two_interests_and_both_show(items: pd.DataFrame, vectors: FakeItemVectors) -> None:
    frame = pd.DataFrame(
        {"user_id": ["mixed"] * 6 + ["other"], "item_id": ["J0", "J1", "J2", "G0", "G1", "G2", "J3"], "event": "purchase"}
    )
    model = Recommender.fit(items, frame, vectors, RecommendSettings(max_interests=3))
    profile = model.profile("mixed")
    assert profile.interests.shape[0] == 2
    semantic_only = {"semantic": 1.0, "collaborative": 0, "popularity": 0, "quality": 0, "recency": 0}
    top = {item.item_id[0] for item in model.recommend("mixed", k=4, weights=semantic_only)}
    assert top == {"J", "G"}
    single = Recommender.fit(items, frame, vectors, RecommendSettings(max_interests=1))
    assert single.profile("mixed").interests.shape[0] == 1


def test_profile_summary(recommender: Recommender) -> None:
    summary = recommender.profile_summary("j0")
    assert summary.history_items == 4
    assert summary.top_categories[0][0] == "Music > Jazz"
    assert summary.top_brands[0][0] == "Bluenote"
    assert summary.price_band is not None and summary.price_band[0] <= summary.price_band[1] <= summary.price_band[2]


# -- cold start -------------------------------------------------------------------------------------


def test_unknown_user_gets_popular_items(recommender: Recommender) -> None:
    top = recommender.recommend("someone-new", k=3)
    assert len(top) == 3
    customers = recommender.statistics.customers
    best = sorted(customers, reverse=True)[2]
    for item in top:
        assert customers[recommender.catalog.positions[item.item_id]] >= best - 1e-9
        assert item.explanation.because == []
        assert "no history" in item.explanation.reason


def test_cold_start_segment_restricts_to_the_category(recommender: Recommender) -> None:
    top = recommender.recommend("someone-new", k=3, segment="Garden")
    assert all(item.item_id.startswith("G") for item in top)


def test_typed_interests_build_a_profile(items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors) -> None:
    def encode(text: str) -> np.ndarray:
        return np.eye(8, dtype=np.float32)[0 if "jazz" in text else 1]

    model = Recommender.fit(items, interactions, vectors, RecommendSettings(), encode_query=encode)
    top = model.recommend_for_text("likes jazz on vinyl", k=3)
    assert all(item.item_id.startswith("J") for item in top)
    assert "interests typed" in top[0].explanation.reason
    cheap = model.recommend_for_text("likes jazz, budget under $3", k=3)
    assert cheap[0].explanation.components["semantic"] > 0
    assert model.catalog.prices[model.catalog.positions[cheap[0].item_id]] <= 3
    assert parse_budget("garden tools under $20") == 20.0
    assert parse_budget("garden tools") is None


def test_typed_interests_need_embeddings(items: pd.DataFrame, interactions: pd.DataFrame) -> None:
    model = Recommender.fit(items, interactions, None, RecommendSettings())
    with pytest.raises(NotReadyError):
        model.recommend_for_text("jazz")


def test_without_vectors_collaborative_and_popularity_still_work(items: pd.DataFrame, interactions: pd.DataFrame) -> None:
    model = Recommender.fit(items, interactions, None, RecommendSettings())
    top = model.recommend("j0", k=2)
    assert all(item.item_id.startswith("J") for item in top)
    assert all(item.explanation.components["semantic"] == 0 for item in top)
    assert top[0].explanation.because  # from co-occurrence


def test_items_only_in_interactions_are_added(items: pd.DataFrame, interactions: pd.DataFrame) -> None:
    extra = pd.concat([interactions, pd.DataFrame({"user_id": ["j0"], "item_id": ["X1"], "event": ["view"]})])
    model = Recommender.fit(items, extra, None, RecommendSettings())
    assert "X1" in model.item_ids


# -- why not ----------------------------------------------------------------------------------------


def test_why_not_names_the_component_holding_an_item_back(recommender: Recommender) -> None:
    answer = recommender.why_not("j0", "G0", k=3)
    assert answer.rank is not None and answer.rank > 3
    assert answer.held_back_by in ("semantic", "collaborative")
    assert answer.gaps[answer.held_back_by] < 0
    assert "ranks" in answer.reason


def test_why_not_for_a_seen_listed_and_unknown_item(recommender: Recommender) -> None:
    seen = recommender.item_ids[int(recommender.user_history("j0").positions[0])]
    assert recommender.why_not("j0", seen).held_back_by == "already seen"
    listed = recommender.recommend("j0", k=3)[0]
    answer = recommender.why_not("j0", listed.item_id, k=3)
    assert answer.rank == 1 and answer.held_back_by == ""
    with pytest.raises(NotFoundError):
        recommender.why_not("j0", "nope")


def test_vectors_for_unknown_ids_are_ignored(items: pd.DataFrame, interactions: pd.DataFrame) -> None:
    base = checkerboard_vectors(checkerboard_items())
    shifted = FakeItemVectors(base.item_ids + ["ZZ"], np.vstack([base.vectors, base.vectors[:1]]))
    model = Recommender.fit(items, interactions, shifted, RecommendSettings())
    assert model.vectors is not None and model.vectors.shape[0] == len(model.item_ids)


def test_timestamps_in_any_resolution_become_days() -> None:
    from recengine.recommend.interactions import to_days

    expected = 17699.0  # 2018-06-17
    micro = pd.Series(pd.to_datetime(["2018-06-17", None]).astype("datetime64[us]"))
    assert to_days(micro)[0] == pytest.approx(expected) and np.isnan(to_days(micro)[1])
    assert to_days(pd.Series([1529193600, 1529193600000]))[1] == pytest.approx(expected)
    assert to_days(pd.Series(["2018-06-17T00:00:00"]))[0] == pytest.approx(expected)


def test_a_small_segment_never_spills_over(recommender: Recommender) -> None:
    top = recommender.recommend("someone-new", k=12, segment="Garden")
    assert len(top) == 8 and all(item.item_id.startswith("G") for item in top)


def test_batch_over_worker_processes_matches_one_process(recommender: Recommender) -> None:
    from recengine.recommend.batch import recommend_batch

    users = [f"{group}{index % 10}" for index in range(60) for group in "jg"] + ["new-1", "new-2"]
    sequential = list(recommend_batch(recommender, users, 3, workers=1))
    parallel = list(recommend_batch(recommender, users, 3, workers=2, chunk=25))
    assert [user for user, _ in parallel] == users
    assert [[item.item_id for item in items] for _, items in parallel] == [
        [item.item_id for item in items] for _, items in sequential
    ]
    assert parallel[0][1][0].explanation.reason == sequential[0][1][0].explanation.reason
    # An export renders its lines in the workers: the same lines as rendered here, in the same order.
    from recengine.cli.recommend import jsonl_line

    rendered = list(recommender.render_many(users, jsonl_line, 3, workers=2))
    assert rendered == [jsonl_line(user, items) for user, items in sequential]
    assert list(recommend_batch(recommender, users, 3, workers=2, chunk=25, render=jsonl_line)) == rendered
    assert gc.get_freeze_count() == 0  # the model is frozen out of collections only while an export runs


def test_reason_names_the_co_chosen_item_when_collaborative_leads(recommender: Recommender) -> None:
    collaborative = {"semantic": 0, "collaborative": 1.0, "popularity": 0, "quality": 0, "recency": 0}
    top = recommender.recommend("j0", k=1, weights=collaborative)[0]
    assert top.explanation.reason.startswith("Often chosen together with 'Jazz record")
    history_titles = {str(recommender.catalog.titles[p]) for p in recommender.user_history("j0").positions}
    assert any(f"'{title}'" in top.explanation.reason for title in history_titles)


def test_reason_quotes_the_customers_own_rating_in_plain_words(
    items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors
) -> None:
    rated = interactions.assign(rating=1.0)  # everyone gave one star, and one star is not a dislike here
    model = Recommender.fit(items, rated, vectors, RecommendSettings(dislike_below_rating=0.5))
    collaborative = {"semantic": 0, "collaborative": 1.0, "popularity": 0, "quality": 0, "recency": 0}
    reason = model.recommend("j0", k=1, weights=collaborative)[0].explanation.reason
    assert "which j0 rated 1 star" in reason and "1 stars" not in reason
