"""The learned sentiment model's inputs: encoder vectors, the lexicon score, hashed words, a borrowed verdict.

- the 3-class model: each review's encoder vector and its title's (`with_title_vectors`), then the weighted
  lexicon score (`model_features`), then, with a model borrowed from another shop (sentiment_prior), that
  model's verdict (`prior_feature_of`);
- the lexical model: hashed word 1-2 grams of the review text (`text_features`, scikit-learn's stateless
  HashingVectorizer, so there is no vocabulary to store);
- the polarity model: the 3-class model's input with the lexical model's margin appended
  (`polarity_features`).

The weights and hashing settings here are saved with the model (sentiment_model_files): a model saved on
other inputs is retrained, not misread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from recengine.errors import ModelError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scipy.sparse import csr_matrix

# The lexicon's review score is the model's last input, scaled so that its coefficient is not shrunk
# away by the regularisation tuned for unit-length encoder vectors. With it the classifier needs fewer
# rated reviews: on the Amazon files (bench/eval_sentiment.py, duplicates removed) mean polarity F1 rose
# from 0.75 to 0.80 with 300 training reviews and from 0.79 to 0.83 with all of them.
LEXICON_FEATURE_WEIGHT = 2.0


def model_features(vectors: np.ndarray, lexicon_scores: np.ndarray | Sequence[float]) -> np.ndarray:
    """The classifier's input: encoder vectors with the weighted lexicon score appended."""
    lexicon = np.asarray(lexicon_scores, dtype=np.float64).reshape(-1, 1)
    if len(lexicon) != len(vectors):
        raise ModelError(f"{len(vectors)} vectors but {len(lexicon)} lexicon scores.")
    return np.hstack([np.asarray(vectors, dtype=np.float64), LEXICON_FEATURE_WEIGHT * lexicon])


def with_title_vectors(review_vectors: np.ndarray, title_vectors: np.ndarray) -> np.ndarray:
    """The vectors the learned model reads: each review's vector, then the vector of its title alone.

    A title is the reviewer's verdict in a few words ("Disappointed", "Smells nice, doesn't last"); in the
    vector of the whole "title. text" it is diluted by the body. A review without a title has zeros
    there. Measured on the Amazon files (bench/eval_sentiment.py, 5-fold, docs/EVALUATION.md): mean
    polarity F1 0.839 -> 0.858, no file down by more than 0.003; a title block weighted 0.5 scored 0.844.
    """
    if review_vectors.shape[0] != title_vectors.shape[0]:
        raise ModelError(f"{review_vectors.shape[0]} review vectors but {title_vectors.shape[0]} title vectors.")
    return np.hstack([review_vectors, title_vectors]).astype(np.float32)


# -- lexical channel -------------------------------------------------------------------------------------
# A sentence encoder reads "smells great for 5 minutes" or "awesome reviews ... didn't work for me, returned
# it" as praise; the words themselves ("returned", "didn t", "for 5 minutes") say otherwise. A linear model
# on hashed word 1-2 grams learns them from the workspace's own rated reviews. Hashing is stateless, so
# the saved model stays arrays + JSON (no vocabulary). Chosen on the Amazon files (bench/eval_sentiment.py,
# 5-fold): word 1-2 grams beat char_wb 2-5 grams and their union; see docs/EVALUATION.md for the figures.
TEXT_HASH_FEATURES = 2**17
TEXT_FEATURES: dict[str, object] = {  # saved with the model; a model hashed differently is retrained
    "analyzer": "word",
    "ngram_range": [1, 2],
    "token_pattern": r"(?u)\b\w+\b",  # single letters kept: "didn't" -> "didn", "t", bigram "didn t"
    "lowercase": True,
    "n_features": TEXT_HASH_FEATURES,
    "alternate_sign": False,
    "tf": "1 + log(count)",
    "norm": "l2",
}
TEXT_MARGIN_WEIGHT = 1.0  # the lexical margin is one more input of the polarity model, unscaled


def text_features(texts: Sequence[str]) -> csr_matrix:
    """Hashed word 1-2 gram features of review texts: sublinear tf (1 + log count), rows l2-normalised.

    Deterministic and stateless: the same text gives the same row in any process, with no fitted
    vocabulary, so nothing but the linear model's coefficients needs storing.
    """
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.preprocessing import normalize

    # Built from TEXT_FEATURES, the record saved with the model, so the two cannot drift apart; "tf" and
    # "norm" are applied below (the vectorizer's own norm would come before the sublinear tf).
    hashing = {key: TEXT_FEATURES[key] for key in ("analyzer", "token_pattern", "lowercase", "n_features", "alternate_sign")}
    ngram_range = tuple(TEXT_FEATURES["ngram_range"])  # type: ignore[call-overload]
    vectorizer = HashingVectorizer(**hashing, ngram_range=ngram_range, norm=None, dtype=np.float64)  # type: ignore[arg-type]
    counts = vectorizer.transform([text or "" for text in texts]).tocsr()
    # Sublinear tf: a word said five times is not five times the evidence.
    counts.data = 1.0 + np.log(counts.data)
    return normalize(counts, norm=str(TEXT_FEATURES["norm"]), copy=False)


# The borrowed model's verdict enters as tanh(margin / 2) x this weight, in [-w, w]. Chosen on the Amazon
# files (bench/eval_sentiment.py, a model borrowed from the four other files, 5-fold, model format 4): mean
# polarity F1 0.839 without, 0.846 / 0.860 / 0.864 / 0.854 at weights 0.05 / 0.2 / 0.5 / 1.
PRIOR_FEATURE_WEIGHT = 0.5


def prior_feature_of(margin: np.ndarray) -> np.ndarray:
    """`prior_feature` (sentiment_model) from the borrowed model's polarity margins."""
    return PRIOR_FEATURE_WEIGHT * np.tanh(np.asarray(margin, dtype=np.float64) / 2.0)


def polarity_features(base: np.ndarray, text_margins: np.ndarray) -> np.ndarray:
    """The polarity model's input: the 3-class model's input with the weighted lexical margin appended."""
    return np.hstack([base, TEXT_MARGIN_WEIGHT * np.asarray(text_margins, dtype=np.float64).reshape(-1, 1)])
