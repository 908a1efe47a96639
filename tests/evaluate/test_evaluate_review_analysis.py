"""Review analysis of a data set loaded outside a workspace (the public-data bench's path)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from evaluate_fixtures import checkerboard_data

from recengine.errors import NotReadyError
from recengine.evaluate import HybridRanker, evaluate_data, with_review_analysis
from recengine.evaluate.data import EvaluationData


def reviewed_checkerboard() -> EvaluationData:
    """The checkerboard with a review behind every interaction: 'a' customers praise, 'b' complain."""
    data = checkerboard_data()
    interactions = data.interactions.copy()
    interactions["review_id"] = [f"R{index}" for index in range(len(interactions))]
    praise = "Great product, I love it. Works perfectly."
    complaint = "Terrible, it broke after a day. Awful quality, very disappointed."
    reviews = pd.DataFrame(
        {
            "review_id": interactions["review_id"],
            "user_id": interactions["user_id"],
            "item_id": interactions["item_id"],
            "rating": [5.0 if user.startswith("a") else 2.0 for user in interactions["user_id"]],
            "title": "",
            "text": [praise if user.startswith("a") else complaint for user in interactions["user_id"]],
            "timestamp": interactions["timestamp"],
        }
    )
    return replace(data, interactions=interactions, reviews=reviews)


def test_reviews_are_analysed_once_and_feed_the_hybrid(tmp_path: Path) -> None:
    data = reviewed_checkerboard()
    analysed, run = with_review_analysis(data, tmp_path / "analysis")
    assert run.rewritten and run.reviews == run.analysed == len(data.reviews)
    assert run.sentiment_method == "lexicon"  # too few rated reviews for the learned model
    sentiment = analysed.sentiment.set_index("review_id")["sentiment_score"]
    assert set(sentiment.index) == set(data.interactions["review_id"])
    users = data.reviews.set_index("review_id")["user_id"]
    assert sentiment[users.str.startswith("a")].min() > 0 > sentiment[users.str.startswith("b")].max()
    assert run.reviews_with_sentiment == len(data.reviews)
    # Unchanged data: nothing rewritten, nothing analysed again.
    again, second = with_review_analysis(data, tmp_path / "analysis")
    assert not second.rewritten and second.analysed == 0
    pd.testing.assert_frame_equal(again.sentiment, analysed.sentiment)
    # The hybrid reads it: complaints lower the 'b' customers' history weights and the B items' quality.
    def scores(source: EvaluationData) -> np.ndarray:
        ranker = HybridRanker(source.item_vectors, keywords=source.keywords, sentiment=source.sentiment)
        return ranker.fit(source.interactions, source.items).score(["a0", "b0"])

    plain, informed = scores(data), scores(analysed)
    assert not np.allclose(plain, informed)
    # The evaluation runs with it end to end.
    assert evaluate_data(analysed, k=2, methods=["Hybrid"], n_resamples=20).method("Hybrid").metrics["ndcg"].mean > 0


def test_data_without_review_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotReadyError, match="no review text"):
        with_review_analysis(checkerboard_data(), tmp_path / "analysis")
