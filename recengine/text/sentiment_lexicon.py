"""The lexicon baseline of review sentiment: VADER, with words that carry opinion in product reviews added.

VADER's compound score of each sentence, averaged over the review's sentences; VADER ships its lexicon in
its package, needs no training and handles negation and intensifiers. A review's lexicon score is also one
input of the learned model (sentiment_features.model_features).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from recengine.text.sentences import split_sentences
from recengine.text.sentiment_labels import NEUTRAL_BAND, Label, score_label

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# VADER's social-media lexicon misses words that carry opinion in product reviews ("flimsy", "runs
# smoothly", "mediocre"). Values are on VADER's -4..4 scale, set by hand, conservatively.
REVIEW_LEXICON: dict[str, float] = {
    "mediocre": -1.6, "smoothly": 1.5, "smooth": 1.3, "flimsy": -1.9, "sturdy": 1.6, "durable": 1.6,
    "crisp": 1.4, "fast": 0.9, "quick": 0.8, "quickly": 0.7, "slow": -1.2, "sluggish": -1.6,
    "laggy": -1.7, "overpriced": -1.9, "pricey": -0.8, "cheaply": -1.4, "defective": -2.2,
    "refund": -1.2, "returned": -1.3, "returning": -1.3, "leaks": -1.6, "leaking": -1.6,
    "scratchy": -1.5, "blurry": -1.5, "grainy": -1.4, "muffled": -1.5, "tinny": -1.5,
    "unreliable": -1.9, "reliable": 1.6, "flawless": 2.6, "flawlessly": 2.6, "snug": 0.8,
    "comfy": 1.9, "cheapest": -0.6, "faulty": -2.0, "malfunctioned": -2.0, "unusable": -2.3,
    "worthless": -2.4, "junk": -2.3, "rip-off": -2.4, "ripoff": -2.4, "sturdier": 1.2,
    "stopped": -1.3, "broke": -2.0, "cracked": -1.8, "tore": -1.6, "ripped": -1.6, "peeling": -1.3,
    "stiff": -0.8, "bulky": -0.9, "heavy": -0.3, "lightweight": 1.0, "roomy": 1.0, "spacious": 1.2,
    "bland": -1.3, "stale": -1.6, "tasty": 2.0, "delicious": 2.7, "yummy": 2.2, "greasy": -1.2,
    "arrived damaged": -2.0, "damaged": -1.9, "late": -1.0, "delayed": -1.2, "promptly": 1.2,
    "recommended": 1.5, "disappointing": -2.2, "meh": -1.0, "ok": 0.3, "okay": 0.3,
}


@lru_cache(maxsize=1)
def lexicon_analyzer() -> SentimentIntensityAnalyzer:
    """VADER with the review vocabulary added (built once per process)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(REVIEW_LEXICON)
    return analyzer


def lexicon_score(text: str) -> float:
    """VADER compound score of one piece of text (a sentence or a clause), in [-1, 1]."""
    if not text or not text.strip():
        return 0.0
    return _compound(text)


# Sentences and clauses repeat across reviews ("Love it.", "Would recommend."; 6,000 generated demo reviews
# hold 28,509 sentences but 1,682 distinct ones), and VADER gives a text the same score every time: each
# distinct one is scored once. Bounded, so that a large shop's mostly distinct sentences cannot grow it.
@lru_cache(maxsize=1 << 16)
def _compound(text: str) -> float:
    return float(lexicon_analyzer().polarity_scores(text)["compound"])


def sentence_scores(sentences: Sequence[str]) -> list[float]:
    """Lexicon score of each sentence."""
    return [lexicon_score(sentence) for sentence in sentences]


def review_lexicon_score(sentence_score_list: Sequence[float]) -> float:
    """A review's lexicon score: the mean over its sentences that carry any sentiment.

    VADER's compound saturates on long texts (many mildly positive words add up to 0.99), so scoring
    sentences and averaging keeps long and short reviews comparable. Neutral sentences ("I bought it
    for my son") are left out so they do not dilute the opinion.
    """
    opinionated = [score for score in sentence_score_list if abs(score) >= NEUTRAL_BAND]
    if not opinionated:
        return 0.0
    return float(np.clip(np.mean(opinionated), -1.0, 1.0))


@dataclass(frozen=True)
class SentenceSentiment:
    """Sentiment of one sentence."""

    sentence: str
    label: Label
    score: float


def sentence_sentiment(text: str) -> list[SentenceSentiment]:
    """Per-sentence lexicon sentiment of a review text."""
    sentences = split_sentences(text)
    return [
        SentenceSentiment(sentence, score_label(score), round(score, 4))
        for sentence, score in zip(sentences, sentence_scores(sentences), strict=True)
    ]
