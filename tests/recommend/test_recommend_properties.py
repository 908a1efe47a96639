"""Invariants of every recommendation list, on random data (Hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from recommend_fixtures import FakeItemVectors

from recengine.config import RecommendSettings
from recengine.recommend import Recommender


@st.composite
def data_sets(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, FakeItemVectors, bool]:
    item_count = draw(st.integers(3, 30))
    user_count = draw(st.integers(1, 12))
    pairs = draw(
        st.lists(
            st.tuples(
                st.integers(0, user_count - 1),
                st.integers(0, item_count - 1),
                st.sampled_from(["view", "click", "cart", "purchase", "review"]),
                st.one_of(st.none(), st.integers(1, 5)),
                st.integers(0, 400),
            ),
            min_size=1,
            max_size=80,
        )
    )
    items = pd.DataFrame(
        {
            "item_id": [f"i{index}" for index in range(item_count)],
            "title": [f"thing {index}" for index in range(item_count)],
            "category": [f"C{index % 3}" for index in range(item_count)],
            "price": [float(index) for index in range(item_count)],
        }
    )
    frame = pd.DataFrame(
        [(f"u{user}", f"i{item}", event, rating, pd.Timestamp("2024-01-01") + pd.Timedelta(days=day))
         for user, item, event, rating, day in pairs],
        columns=["user_id", "item_id", "event", "rating", "timestamp"],
    )
    seed = draw(st.integers(0, 1000))
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(item_count, 6)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with_vectors = draw(st.booleans())
    return items, frame, FakeItemVectors(items["item_id"].tolist(), vectors), with_vectors


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=data_sets(), k=st.integers(1, 12), exclude_seen=st.booleans())
def test_list_invariants(data: tuple, k: int, exclude_seen: bool) -> None:
    items, frame, vectors, with_vectors = data
    model = Recommender.fit(items, frame, vectors if with_vectors else None, RecommendSettings(max_interests=2))
    for user in sorted(frame["user_id"].unique())[:3] + ["new-user"]:
        recommendations = model.recommend(user, k, exclude_seen=exclude_seen)
        item_ids = [item.item_id for item in recommendations]
        history_positions = model.user_history(user).positions
        history = {model.item_ids[p] for p in history_positions}
        unseen = len(model.item_ids) - (len(history) if exclude_seen else 0)
        assert len(recommendations) == min(k, unseen)
        assert len(set(item_ids)) == len(item_ids)
        assert [item.rank for item in recommendations] == list(range(1, len(recommendations) + 1))
        scores = [item.score for item in recommendations]
        assert scores == sorted(scores, reverse=True) or np.allclose(np.diff(scores)[np.diff(scores) > 0], 0, atol=1e-6)
        if exclude_seen:
            assert not set(item_ids) & history
        for item in recommendations:
            assert sum(item.explanation.components.values()) == pytest.approx(item.score, abs=1e-5)
            assert all(0 <= value <= 1 for value in item.explanation.components.values())
            assert len(item.explanation.because) <= 3
            assert {entry.item_id for entry in item.explanation.because} <= history
            assert item.explanation.reason
        full = model.score_items(user)
        assert full.shape == (len(model.item_ids),)
