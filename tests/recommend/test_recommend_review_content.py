"""Item vectors that include the reviews' text: which reviews count, how they mix, where they come from."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from recommend_fixtures import checkerboard_interactions, checkerboard_items, checkerboard_vectors

from recengine.config import RecommendSettings
from recengine.evaluate.baselines import EmbeddingProfile
from recengine.recommend import Recommender
from recengine.recommend.review_content import review_means, with_review_text
from recengine.recommend.search import search
from recengine.workspace import Workspace

DIMENSION = 8
KIDS = 5  # the axis of what the reviewers of J0 write about ("my kids love it"); no catalog text points there


@dataclass(frozen=True)
class FakeReviewVectors:
    """Shaped like recengine.embed.ReviewVectors."""

    review_ids: list[str]
    vectors: np.ndarray
    fingerprint: str = "test"


def axis(index: int, dimension: int = DIMENSION) -> np.ndarray:
    vector = np.zeros(dimension, dtype=np.float32)
    vector[index] = 1.0
    return vector


def reviewed_interactions() -> tuple[pd.DataFrame, FakeReviewVectors]:
    """The checkerboard with a review id on every J0 purchase, and those reviews' vectors along KIDS."""
    interactions = checkerboard_interactions()
    on_j0 = interactions["item_id"] == "J0"
    interactions["review_id"] = None
    interactions.loc[on_j0, "review_id"] = [f"R{number}" for number in range(int(on_j0.sum()))]
    ids = interactions.loc[on_j0, "review_id"].tolist()
    return interactions, FakeReviewVectors(ids, np.tile(axis(KIDS), (len(ids), 1)))


def test_review_means_count_only_the_reviews_among_the_interactions() -> None:
    interactions = pd.DataFrame(
        {"item_id": ["A", "A", "B", "A"], "review_id": ["R1", "R2", None, "R1"]}  # R1 twice: counted once
    )
    # R3 is a review of A that is not among the interactions (an evaluation's held-out review).
    reviews = FakeReviewVectors(["R1", "R2", "R3"], np.stack([axis(0), axis(1), axis(2)]))
    means, counts = review_means(interactions, reviews, {"A": 0, "B": 1}, 2)
    np.testing.assert_allclose(means[0], (axis(0) + axis(1)) / np.sqrt(2), atol=1e-6)
    assert means[0][2] == 0.0 and not means[1].any()
    assert counts.tolist() == [2, 0]


def test_with_review_text_mixes_unit_rows_and_keeps_items_without_reviews() -> None:
    text = np.stack([axis(0), axis(1), np.zeros(DIMENSION, np.float32)])
    means = np.stack([axis(2), np.zeros(DIMENSION, np.float32), axis(3)])
    mixed = with_review_text(text, means, 1.0)
    np.testing.assert_allclose(mixed[0], (axis(0) + axis(2)) / np.sqrt(2), atol=1e-6)
    np.testing.assert_allclose(mixed[1], axis(1))  # no reviews: the catalog text alone
    np.testing.assert_allclose(mixed[2], axis(3))  # no catalog text: what the reviewers wrote
    np.testing.assert_allclose(with_review_text(text, means, 2.0)[0], (axis(0) + 2 * axis(2)) / np.sqrt(5), atol=1e-6)


class RecordingIndex:
    """An item index that must not be asked: it holds catalog-text vectors."""

    def __init__(self, item_ids: list[str]) -> None:
        self.item_ids = item_ids

    def search(self, *args: object, **kwargs: object) -> list[list[tuple[str, float]]]:
        raise AssertionError("the catalog-text index was searched for review-mixed vectors")


def test_the_recommender_mixes_reviews_into_item_vectors_and_search_finds_them() -> None:
    items = checkerboard_items()
    interactions, reviews = reviewed_interactions()
    vectors = checkerboard_vectors(items)
    model = Recommender.fit(
        items, interactions, vectors, RecommendSettings(), review_vectors=reviews,
        item_index=RecordingIndex(items["item_id"].tolist()), encode_query=lambda text: axis(KIDS),
    )
    assert model.review_text_items == 1
    j0 = model.item_ids.index("J0")
    assert model.vectors[j0][KIDS] == pytest.approx(1 / np.sqrt(2), abs=0.05)
    others = [row for row in range(len(model.item_ids)) if row != j0]
    np.testing.assert_allclose(model.vectors[others], vectors.vectors[others], atol=1e-6)  # no reviews: unchanged
    # A query about what reviewers wrote ("my kids love it") finds the product they wrote it about.
    assert search(model, "my kids love it", k=3)[0].item_id == "J0"
    # Recommendations still work, with semantic candidates from the exact scan, not the index.
    assert model.search.mode == "exact"
    assert model.recommend("j1", k=5)

    plain = Recommender.fit(
        items, interactions, vectors, RecommendSettings(review_vector_weight=0.0), review_vectors=reviews,
    )
    assert plain.review_text_items == 0
    np.testing.assert_allclose(plain.vectors, vectors.vectors, atol=1e-6)


def test_review_vectors_of_another_encoder_are_not_mixed(caplog: pytest.LogCaptureFixture) -> None:
    items = checkerboard_items()
    interactions, reviews = reviewed_interactions()
    wider = FakeReviewVectors(reviews.review_ids, np.ones((len(reviews.review_ids), DIMENSION + 1), np.float32))
    other_model = FakeReviewVectors(reviews.review_ids, reviews.vectors, fingerprint="another encoder")
    for mismatched in (wider, other_model):
        with caplog.at_level(logging.WARNING):
            model = Recommender.fit(items, interactions, checkerboard_vectors(items), review_vectors=mismatched)
        assert model.review_text_items == 0
    assert "catalog text only" in caplog.text


def test_the_embedding_baseline_describes_items_by_training_reviews_only() -> None:
    items = checkerboard_items()
    interactions, reviews = reviewed_interactions()
    vectors = checkerboard_vectors(items)
    with_reviews = EmbeddingProfile(vectors.item_ids, vectors.vectors, review_vectors=reviews).fit(interactions, items)
    assert with_reviews.name == "Embedding (with reviews)"
    j0 = with_reviews.data.item_index["J0"]
    assert with_reviews.item_vectors[j0][KIDS] > 0.5
    # Without J0's purchases in training (held out), its reviews cannot describe it.
    held_out = interactions[interactions["item_id"] != "J0"]
    fitted = EmbeddingProfile(vectors.item_ids, vectors.vectors, review_vectors=reviews).fit(held_out, items)
    np.testing.assert_allclose(
        fitted.item_vectors[fitted.data.item_index["J0"]], vectors.vectors[vectors.item_ids.index("J0")], atol=1e-6
    )


def test_a_workspace_recommender_reads_the_cached_review_vectors_without_encoding(
    filled_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recengine import embed
    from recengine.embed import pipeline
    from recengine.recommend.workspace_model import fit_workspace

    assert fit_workspace(filled_workspace).review_text_items == 0  # no review encoded yet
    embed.embed_workspace(filled_workspace, reviews=True)
    reviewed_items = filled_workspace.store.query_rows("SELECT count(DISTINCT item_id) FROM reviews")[0][0]

    def no_encoder(*args: object, **kwargs: object) -> None:
        raise AssertionError("fitting the recommender encoded text")

    monkeypatch.setattr(pipeline, "_encoder", no_encoder)
    cached = embed.cached_review_vectors(filled_workspace)
    assert len(cached.review_ids) == filled_workspace.store.query_rows("SELECT count(*) FROM reviews")[0][0]
    model = fit_workspace(filled_workspace)
    assert model.review_text_items == reviewed_items > 0
    # A new review is left out until something encodes it.
    with filled_workspace.store.transaction() as connection:
        connection.execute(
            "INSERT INTO reviews (review_id, user_id, item_id, rating, title, text, timestamp, row_hash) "
            "VALUES ('NEW', 'j1', 'J7', 4.0, 'New', 'Not encoded yet.', TIMESTAMP '2024-03-01', 'h')"
        )
    assert "NEW" not in embed.cached_review_vectors(filled_workspace).review_ids

