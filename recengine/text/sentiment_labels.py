"""Review sentiment's labels, and how well a method's labels agree with star ratings.

Every method gives a review a label (negative / neutral / positive) and a score in [-1, 1]: the lexicon
baseline (sentiment_lexicon: VADER, no training) and the classifier learned on the workspace's rated
reviews (sentiment_model, trained by sentiment_training). A star rating stands for a label (1-2 negative,
3 neutral, 4-5 positive), so a method is judged by its agreement with the stars of held-out reviews
(`method_scores`). Plain Python: the lexicon path should not import scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

Label = Literal["negative", "neutral", "positive"]
LABELS: tuple[Label, ...] = ("negative", "neutral", "positive")

NEUTRAL_BAND = 0.05  # VADER's own convention: |compound| < 0.05 is neutral


def star_label(rating: float) -> Label:
    """The label a star rating stands for: 1-2 negative, 3 neutral, 4-5 positive."""
    if rating <= 2:
        return "negative"
    if rating < 4:
        return "neutral"
    return "positive"


def score_label(score: float, band: float = NEUTRAL_BAND) -> Label:
    """The label of a lexicon score: neutral inside +-band."""
    if score >= band:
        return "positive"
    if score <= -band:
        return "negative"
    return "neutral"


@dataclass(frozen=True)
class MethodScores:
    """Agreement of one method with the stars on held-out reviews."""

    accuracy: float  # 3-class: negative / neutral / positive
    macro_f1: float  # 3-class
    polarity_macro_f1: float  # 3-star reviews left out; predicted polarity = sign of the score
    reviews: int  # held-out reviews scored (3-class)
    polarity_reviews: int  # held-out reviews with 1-2 or 4-5 stars


@dataclass(frozen=True)
class ModelQuality:
    """The learned model next to the lexicon (and a borrowed model alone, when there is one) on the same
    held-out reviews."""

    learned: MethodScores
    lexicon: MethodScores
    train_reviews: int
    held_out_reviews: int
    borrowed: MethodScores | None = None  # the borrowed model (text.sentiment_prior) with no training here


# The quality the target names: under it the Insights page and `recengine status` suggest a
# next step, and `text.sentiment_encoder_tuning = "auto"` tunes a copy of the encoder for sentiment.
GOOD_POLARITY_F1 = 0.85


def macro_f1(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    """Unweighted mean of per-label F1 (a label absent from both sides scores 0, as scikit-learn's
    `zero_division=0`). Plain Python: the lexicon path should not import scikit-learn."""
    scores = []
    for label in labels:
        true_positive = sum(t == label and p == label for t, p in zip(truth, predicted, strict=True))
        predicted_count = sum(p == label for p in predicted)
        actual_count = sum(t == label for t in truth)
        denominator = predicted_count + actual_count
        scores.append(2 * true_positive / denominator if denominator else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def method_scores(stars: Sequence[float], labels: Sequence[str], scores: Sequence[float]) -> MethodScores:
    """Compare predicted labels and scores with star ratings.

    Polarity F1 leaves 3-star reviews out and takes the sign of the score as the prediction (a score of
    exactly 0 counts as positive, the majority class of almost every shop), so a method is not punished
    for saying 'neutral' on a clearly rated review only through the label.
    """
    truth = [star_label(float(star)) for star in stars]
    accuracy = sum(t == p for t, p in zip(truth, labels, strict=True)) / len(truth) if truth else 0.0
    macro = macro_f1(truth, labels, LABELS) if truth else 0.0
    polar_truth = [label for label in truth if label != "neutral"]
    polar_pred = [
        "positive" if score >= 0 else "negative"
        for label, score in zip(truth, scores, strict=True)
        if label != "neutral"
    ]
    polarity = macro_f1(polar_truth, polar_pred, ("negative", "positive")) if polar_truth else 0.0
    return MethodScores(
        accuracy=round(accuracy, 4),
        macro_f1=round(macro, 4),
        polarity_macro_f1=round(polarity, 4),
        reviews=len(truth),
        polarity_reviews=len(polar_truth),
    )
