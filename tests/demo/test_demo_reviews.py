"""Demo reviews: fields, anonymous and unrated ones, aspects, and sentiment that follows the stars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recengine.demo import PERIOD_END, PERIOD_START, DemoData


def test_review_fields(standard_demo: DemoData) -> None:
    reviews = standard_demo.reviews
    assert 2_700 <= len(reviews) <= 3_300
    assert reviews["review_id"].is_unique
    assert reviews["item_id"].isin(standard_demo.items["item_id"]).all()
    rated = reviews["rating"].dropna()
    assert rated.isin([1.0, 2.0, 3.0, 4.0, 5.0]).all()
    assert rated.value_counts().idxmax() == 5.0  # the J-shape of real shops
    assert reviews["title"].str.len().gt(0).all() and reviews["text"].str.len().gt(20).all()
    assert reviews["timestamp"].min() >= pd.Timestamp(PERIOD_START)
    assert reviews["timestamp"].max() <= pd.Timestamp(PERIOD_END)
    span_days = (reviews["timestamp"].max() - reviews["timestamp"].min()).days
    assert span_days > 600  # about two years


def test_anonymous_and_unrated_reviews_exist(standard_demo: DemoData) -> None:
    reviews = standard_demo.reviews
    anonymous = reviews["user_id"].isna().mean()
    unrated = reviews["rating"].isna().mean()
    assert 0.03 <= anonymous <= 0.12
    assert 0.02 <= unrated <= 0.1
    known = reviews["user_id"].dropna()
    assert known.isin(standard_demo.users["user_id"]).all()
    assert not reviews.duplicated(["user_id", "item_id"]).loc[reviews["user_id"].notna()].any()


def test_reviews_talk_about_the_aspects_of_their_category(standard_demo: DemoData) -> None:
    reviews = standard_demo.reviews.merge(standard_demo.items[["item_id", "category"]], on="item_id")
    text = reviews["text"].str.lower()
    audio = reviews["category"].str.startswith("Electronics > Audio")
    running = reviews["category"].str.startswith("Sports > Running")
    audio_words = r"sound|bass|battery|noise cancelling|comfortable|pairing|bluetooth|microphone|speed"
    assert text[audio].str.contains(audio_words).mean() > 0.6
    assert text[running].str.contains(r"\bsound\b|bass|bluetooth").mean() < 0.05
    assert text[running].str.contains(r"fit|cushioning|grip|blister|size|comfortable").mean() > 0.6


@pytest.fixture(scope="module")
def vader_scores(standard_demo: DemoData) -> pd.Series:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    reviews = standard_demo.reviews
    # Every mismatch plus a fixed sample of the rest keeps this test fast.
    sample = pd.concat(
        [reviews[reviews["mismatch"] != ""], reviews[reviews["mismatch"] == ""].sample(2000, random_state=0)]
    )
    analyzer = SentimentIntensityAnalyzer()
    return pd.Series(
        [analyzer.polarity_scores(text)["compound"] for text in sample["text"]], index=sample.index
    )


def _agrees(reviews: pd.DataFrame, compound: pd.Series) -> pd.Series:
    rating = reviews.loc[compound.index, "rating"]
    return ((compound > 0.05) & (rating >= 4)) | ((compound < -0.05) & (rating <= 2))


def test_sentiment_agrees_with_the_stars_mostly(standard_demo: DemoData, vader_scores: pd.Series) -> None:
    reviews = standard_demo.reviews.loc[vader_scores.index]
    plain = (reviews["mismatch"] == "") & reviews["rating"].isin([1.0, 2.0, 4.0, 5.0])
    agreement = _agrees(reviews, vader_scores)[plain].mean()
    # High, so stars and words tell one story; below 1, because real reviews are never that clean.
    assert 0.88 <= agreement <= 0.995
    three_stars = vader_scores[reviews["rating"] == 3.0]
    one_star = vader_scores[(reviews["rating"] == 1.0) & plain]
    five_stars = vader_scores[(reviews["rating"] == 5.0) & plain]
    assert one_star.mean() < three_stars.mean() < five_stars.mean()


def test_deliberate_mismatches_exist_and_disagree(standard_demo: DemoData, vader_scores: pd.Series) -> None:
    reviews = standard_demo.reviews
    kinds = reviews["mismatch"].value_counts()
    for kind in ("sarcasm", "complaint_5_stars", "praise_1_star_delivery"):
        assert kinds.get(kind, 0) >= 20, kind  # of about 3,000 reviews
    share = (reviews["mismatch"] != "").mean()
    assert 0.01 <= share <= 0.06
    mismatched = reviews.loc[vader_scores.index]
    mismatched = mismatched[(mismatched["mismatch"] != "") & mismatched["rating"].notna()]
    assert _agrees(reviews, vader_scores).loc[mismatched.index].mean() < 0.2
    assert (mismatched.loc[mismatched["mismatch"] == "complaint_5_stars", "rating"] == 5).all()
    assert (mismatched.loc[mismatched["mismatch"] == "praise_1_star_delivery", "rating"] == 1).all()
    delivery = reviews.loc[reviews["mismatch"] == "praise_1_star_delivery", "text"].str.lower()
    assert delivery.str.contains("deliver|courier").all()


def test_ratings_follow_hidden_quality(standard_demo: DemoData) -> None:
    reviews = standard_demo.reviews.merge(standard_demo.item_truth, on="item_id")
    plain = reviews[(reviews["mismatch"] == "") & reviews["rating"].notna()]
    correlation = np.corrcoef(plain["rating"], plain["quality"])[0, 1]
    assert correlation > 0.4
