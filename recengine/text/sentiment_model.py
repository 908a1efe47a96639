"""The learned review sentiment model: three logistic regressions over encoder vectors, applied to reviews.

Trained on the reviews that carry stars (sentiment_training), classes balanced: a 3-class one (1-2
negative, 3 neutral, 4-5 positive) on the workspace encoder's review vectors plus the lexicon score, that
decides "neutral"; a lexical one on hashed word 1-2 grams of the review text (1-2 vs 4-5 stars); and a
dedicated polarity one (1-2 vs 4-5 stars) on the vectors, the lexicon score and the lexical model's margin,
whose decision threshold is chosen by cross-validation on the training reviews only. The label is neutral
where the 3-class model says so, else the polarity decision; the score is (1 - P(neutral)) *
tanh(polarity margin / 2), so its sign is always the polarity decision.

The inputs are made by sentiment_features; the model is stored without pickle by sentiment_model_files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from recengine.errors import ModelError
from recengine.text.sentiment_features import (
    model_features,
    polarity_features,
    prior_feature_of,
    text_features,
)
from recengine.text.sentiment_labels import Label, ModelQuality

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class SentimentModel:
    """A trained linear classifier over encoder vectors. Stored as .npz + JSON, never pickled
    (sentiment_model_files)."""

    classes: tuple[str, ...]
    coefficients: np.ndarray  # (n_classes, dim + 1): the encoder dimensions, then the lexicon feature
    intercepts: np.ndarray  # (n_classes,)
    encoder_fingerprint: str
    trained_on: int  # rated reviews used for training (train split)
    rated_reviews: int  # rated reviews in the workspace when trained
    trained_at: str
    quality: ModelQuality | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # The dedicated positive-vs-negative model (None when the rated reviews hold one polarity only, then
    # the 3-class model's P(positive) - P(negative) decides the sign, as in format 2).
    polarity_coefficients: np.ndarray | None = None  # (dim + 2,): vector, lexicon, lexical margin
    polarity_intercept: float = 0.0
    polarity_threshold: float = 0.0  # subtracted from the margin; chosen by cross-validation on training data
    # The lexical model on hashed text (present with the polarity model): its margin is the polarity
    # model's last input.
    text_coefficients: np.ndarray | None = None  # (TEXT_HASH_FEATURES,)
    text_intercept: float = 0.0
    # A model borrowed from another shop (recengine.text.sentiment_prior): its verdict on each review is the
    # last input of both models here (prior_feature). It reads the same encoder's vectors.
    prior: SentimentModel | None = None

    @property
    def dimension(self) -> int:
        """Dimension of the encoder vectors the model takes (the lexicon and prior features not counted)."""
        return int(self.coefficients.shape[1]) - 1 - (self.prior is not None)

    def fingerprint(self) -> str:
        """A short hash of the weights, the encoder and the borrowed model: equal hashes, equal predictions."""
        digest = hashlib.sha256(self.encoder_fingerprint.encode())
        for array in (self.coefficients, self.intercepts, self.polarity_coefficients, self.text_coefficients):
            if array is not None:
                digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        digest.update(f"{self.polarity_intercept!r}|{self.polarity_threshold!r}|{self.text_intercept!r}".encode())
        if self.prior is not None:
            digest.update(self.prior.fingerprint().encode())
        return digest.hexdigest()[:16]

    def inputs(
        self, vectors: np.ndarray, lexicon_scores: np.ndarray | Sequence[float], *, texts: Sequence[str] | None
    ) -> np.ndarray:
        """The 3-class model's input: `model_features`, then the borrowed model's verdict when there is one."""
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ModelError(
                f"The sentiment model expects vectors of dimension {self.dimension}, got {vectors.shape}.",
                hint="Run `recengine analyze` again so the model is retrained for the current encoder.",
            )
        features = model_features(vectors, lexicon_scores)
        if self.prior is None:
            return features
        return np.hstack([features, prior_feature(self.prior, vectors, lexicon_scores, texts).reshape(-1, 1)])

    def _probabilities_of(self, inputs: np.ndarray) -> np.ndarray:
        """Class probabilities (n, n_classes) of `inputs` rows, softmax of the linear scores."""
        logits = inputs @ self.coefficients.T + self.intercepts
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def text_margin(self, texts: Sequence[str] | None, count: int) -> np.ndarray:
        """The lexical model's positive-vs-negative log-odds of `count` review texts."""
        if self.text_coefficients is None:
            return np.zeros(count)
        if texts is None or len(texts) != count:
            raise ModelError(
                f"The sentiment model needs the text of each of the {count} reviews "
                f"(got {'none' if texts is None else len(texts)})."
            )
        return np.asarray(text_features(texts) @ self.text_coefficients, dtype=np.float64) + self.text_intercept

    def polarity_margin(
        self,
        vectors: np.ndarray,
        lexicon_scores: np.ndarray | Sequence[float],
        *,
        texts: Sequence[str] | None,
    ) -> np.ndarray:
        """Positive-vs-negative margin (log-odds minus the tuned threshold): > 0 means positive."""
        return self._margin_of(self.inputs(vectors, lexicon_scores, texts=texts), texts)

    def _margin_of(self, inputs: np.ndarray, texts: Sequence[str] | None) -> np.ndarray:
        if self.polarity_coefficients is None:
            probabilities = self._probabilities_of(inputs)
            index = {name: position for position, name in enumerate(self.classes)}
            positive = probabilities[:, index["positive"]] if "positive" in index else np.zeros(len(inputs))
            negative = probabilities[:, index["negative"]] if "negative" in index else np.zeros(len(inputs))
            return np.log((positive + 1e-9) / (negative + 1e-9))
        features = polarity_features(inputs, self.text_margin(texts, len(inputs)))
        return features @ self.polarity_coefficients + self.polarity_intercept - self.polarity_threshold

    def predict(
        self,
        vectors: np.ndarray,
        lexicon_scores: np.ndarray | Sequence[float],
        *,
        texts: Sequence[str] | None,
    ) -> tuple[list[Label], np.ndarray]:
        """Labels and scores in [-1, 1] for encoder vectors, lexicon scores and texts of the same reviews.

        `texts` are the analysed texts ("title. body", recengine.text.sentences.review_text); required
        when the model has its lexical channel (every model trained with both polarities).

        The label is "neutral" where the 3-class model ranks neutral first, else the sign of the
        polarity margin; the score is (1 - P(neutral)) * tanh(margin / 2), whose sign is the
        polarity decision even for reviews labelled neutral.
        """
        if len(vectors) == 0:
            return [], np.zeros(0)
        # The inputs once: a borrowed model's verdict among them costs a prediction of its own.
        return self.predict_inputs(self.inputs(vectors, lexicon_scores, texts=texts), texts)

    def predict_inputs(self, inputs: np.ndarray, texts: Sequence[str] | None) -> tuple[list[Label], np.ndarray]:
        """`predict` from inputs already made by `inputs` (training reuses those of the held-out reviews)."""
        if len(inputs) == 0:
            return [], np.zeros(0)
        probabilities = self._probabilities_of(inputs)
        margin = self._margin_of(inputs, texts)
        index = {name: position for position, name in enumerate(self.classes)}
        neutral = probabilities[:, index["neutral"]] if "neutral" in index else np.zeros(len(inputs))
        scores = np.clip((1.0 - neutral) * np.tanh(margin / 2.0), -1.0, 1.0)
        top = probabilities.argmax(axis=1)
        labels: list[Label] = [
            "neutral" if self.classes[position] == "neutral" else ("positive" if value >= 0 else "negative")
            for position, value in zip(top, margin, strict=True)
        ]
        return labels, np.asarray(scores, dtype=np.float64)


def prior_feature(
    prior: SentimentModel,
    vectors: np.ndarray,
    lexicon_scores: np.ndarray | Sequence[float],
    texts: Sequence[str] | None,
) -> np.ndarray:
    """A borrowed model's verdict on each review as one input: PRIOR_FEATURE_WEIGHT x tanh(margin / 2)."""
    return prior_feature_of(prior.polarity_margin(vectors, lexicon_scores, texts=texts))
