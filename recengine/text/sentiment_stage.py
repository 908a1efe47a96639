"""Stage 4 of the review analysis: which sentiment every review gets, and when to retrain.

The learned classifier on encoder vectors (optionally next to a copy of the encoder tuned for sentiment,
and a model borrowed from another shop) when enough rated reviews exist, else the lexicon; retrained when
the encoder changed or the rated reviews grew or shrank by `RETRAIN_GROWTH`. `analyze_reviews`
(analysis.py) asks `sentiment_decision` and writes what it decided.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd

from recengine.config import ENCODER_TUNING_CHOICES
from recengine.errors import ConfigError, ModelError, RecEngineError
from recengine.progress import Progress, scaled
from recengine.text import tables
from recengine.text.sentences import review_texts
from recengine.text.sentiment_encoder import (
    TuningArguments,
    side_by_side,
    tune_for_rated_reviews,
    tuning_decision,
)
from recengine.text.sentiment_features import with_title_vectors
from recengine.text.sentiment_labels import Label, MethodScores, ModelQuality, method_scores, score_label
from recengine.text.sentiment_model import SentimentModel
from recengine.text.sentiment_model_files import load_sentiment_model
from recengine.text.sentiment_prior import load_prior
from recengine.text.sentiment_training import train_sentiment_model

if TYPE_CHECKING:
    from pathlib import Path

    from recengine.embed import ReviewVectors
    from recengine.text.analysis import _Pending
    from recengine.workspace import Workspace

RETRAIN_GROWTH = 0.2  # retrain when the rated reviews grew or shrank by this share


# -- the decision ------------------------------------------------------------------------------------


@dataclass
class SentimentDecision:
    method: str
    reason: str
    labels: list[str]  # for pending reviews, in pending order
    scores: list[float]
    retrained: bool = False
    quality: ModelQuality | None = None
    lexicon_quality: MethodScores | None = None
    rescore: dict[str, tuple[str, float]] | None = None  # review_id -> (label, score) for other reviews
    rescore_method: str = ""
    tuned_encoder: bool = False  # the learned model reads a copy of the encoder tuned for sentiment
    plain_polarity_f1: float | None = None  # then: the held-out polarity F1 it had on the plain vectors
    borrowed_from: str = ""  # the workspace whose sentiment model is one of its inputs (text.sentiment_prior)
    # A retrained model is saved only after the scores it produced are committed: saved earlier, a
    # crash in between would leave a fresh model whose re-scoring never happened (the next run sees
    # the model up to date and re-scores nothing), so old and new scores would stay mixed.
    model_to_save: tuple[SentimentModel, Path] | None = None


def all_lexicon_scores(workspace: Workspace, pending: _Pending) -> dict[str, float]:
    stored = workspace.store.query_df("SELECT review_id, lexicon_score FROM review_analysis")
    scores = dict(zip(stored["review_id"], stored["lexicon_score"].astype(float), strict=True))
    scores.update(zip(pending.review_ids, pending.lexicon_scores, strict=True))
    return scores


def sentiment_decision(
    workspace: Workspace,
    reviews: pd.DataFrame,
    lexicon_by_id: dict[str, float],
    pending: _Pending,
    progress: Progress,
    *,
    force: bool,
    learned: bool = True,
) -> SentimentDecision:
    minimum = workspace.settings.text.min_rated_reviews_for_model
    rated = reviews[reviews["rating"].notna()]
    lexicon_quality = None
    if len(rated):
        rated_lexicon = [lexicon_by_id.get(review_id, 0.0) for review_id in rated["review_id"]]
        lexicon_quality = method_scores(
            rated["rating"].astype(float).tolist(), [score_label(score) for score in rated_lexicon], rated_lexicon
        )
    previous = _previous_method(workspace)

    def lexicon_decision(reason: str) -> SentimentDecision:
        decision = SentimentDecision(
            method="lexicon",
            reason=reason,
            labels=[score_label(score) for score in pending.lexicon_scores],
            scores=list(pending.lexicon_scores),
            lexicon_quality=lexicon_quality,
        )
        if previous == "learned":  # switching back: every stored learned score must go
            decision.rescore = {
                review_id: (score_label(score), score) for review_id, score in lexicon_by_id.items()
            }
            decision.rescore_method = "lexicon"
        return decision

    if not learned:
        return lexicon_decision(
            "The lexicon (VADER) is used until the learned sentiment model, which reads the reviews' encoder "
            "vectors, is trained by the next analysis."
        )
    if len(rated) < minimum:
        return lexicon_decision(
            f"Only {len(rated)} rated reviews; the learned model needs at least {minimum} "
            "(setting text.min_rated_reviews_for_model), so the lexicon (VADER) is used."
        )
    try:
        from recengine.embed import review_vectors
    except ImportError:
        return lexicon_decision("The embedding module is not available, so the lexicon (VADER) is used.")
    progress(0.0, "embedding reviews")
    try:
        vectors = _sentiment_vectors(workspace, scaled(progress, 0.0, 0.8))
    except RecEngineError as error:
        return lexicon_decision(f"The encoder could not be used ({error}); the lexicon (VADER) is used.")
    base_fingerprint = vectors.fingerprint
    encoder_dimension = vectors.vectors.shape[1] // 2  # review and title vectors
    position = {review_id: index for index, review_id in enumerate(vectors.review_ids)}
    rated = rated[rated["review_id"].isin(position)]
    # The model's lexical channel reads the same "title. body" text the vectors were made from.
    text_by_id = dict(zip(reviews["review_id"], review_texts(reviews), strict=True))
    model_dir = tables.sentiment_model_dir(workspace)
    try:
        model = None if force else load_sentiment_model(model_dir)
    except ModelError:
        model = None  # a damaged file is replaced by retraining
    tuning_setting = workspace.settings.text.sentiment_encoder_tuning
    tuned_dir = tuned_encoder_path(workspace, model)
    prior, prior_note = load_prior(workspace.root, workspace.settings.text.sentiment_prior, base_fingerprint)
    prior_id = prior.fingerprint() if prior is not None else ""
    stale = (
        model is None
        or model.extra.get("base_encoder", model.encoder_fingerprint) != vectors.fingerprint
        or model.dimension != vectors.vectors.shape[1] + (encoder_dimension if model.extra.get("sentiment_encoder") else 0)
        or abs(len(rated) - model.rated_reviews) >= RETRAIN_GROWTH * max(model.rated_reviews, 1)
        or model.extra.get("encoder_tuning", "never") != tuning_setting  # older models: never tuned
        or (bool(model.extra.get("sentiment_encoder")) and tuned_dir is None)  # its tuned encoder is gone
        or model.extra.get("sentiment_prior", "") != prior_id  # borrowed another model, or none any more
    )
    retrained = False
    if stale:
        progress(0.82, f"training the sentiment model on {len(rated):,} rated reviews")
        rated_inputs = _RatedInputs(
            index=[position[review_id] for review_id in rated["review_id"]],
            stars=rated["rating"].astype(float).tolist(),
            lexicon=[lexicon_by_id.get(review_id, 0.0) for review_id in rated["review_id"]],
            texts=[text_by_id[review_id] for review_id in rated["review_id"]],
        )
        try:
            model = rated_inputs.train(vectors, prior)
            model, vectors, tuning_note = _with_tuned_encoder(
                workspace, model, vectors, rated_inputs, scaled(progress, 0.84, 0.98)
            )
        except ModelError as error:
            return lexicon_decision(f"{error} The lexicon (VADER) is used.")
        if prior is not None and model.prior is None:
            prior_note = "The borrowed sentiment model is not combined with an encoder tuned for sentiment: it was left out."
        notes = " ".join(note for note in (tuning_note, prior_note) if note)
        model = replace(model, extra={**model.extra, "base_encoder": base_fingerprint, "encoder_tuning": tuning_setting,
                                      "tuning_note": notes, "sentiment_prior": prior_id,
                                      "sentiment_prior_source": workspace.settings.text.sentiment_prior if prior else ""})
        retrained = True
    elif tuned_dir is not None:
        progress(0.84, "embedding reviews with the encoder tuned for sentiment")
        try:
            vectors = _with_tuned_vectors(
                vectors, review_vectors(workspace, progress=scaled(progress, 0.84, 0.98), model=str(tuned_dir))
            )
        except RecEngineError as error:
            return lexicon_decision(f"The encoder tuned for sentiment could not be used ({error}); the lexicon (VADER) is used.")
    position = {review_id: index for index, review_id in enumerate(vectors.review_ids)}
    assert model is not None
    # One prediction pass: the pending reviews, and on a retrain (or a switch from the lexicon) every
    # other review too, whose stored scores came from another model.
    rescore_all = retrained or previous != "learned"
    targets = [review_id for review_id in vectors.review_ids if review_id in lexicon_by_id] if rescore_all else [
        review_id for review_id in pending.review_ids if review_id in position
    ]
    predicted: dict[str, tuple[Label, float]] = {}
    if targets:
        target_labels, target_scores = model.predict(
            vectors.vectors[[position[review_id] for review_id in targets]],
            [lexicon_by_id[review_id] for review_id in targets],
            texts=[text_by_id.get(review_id, "") for review_id in targets],
        )
        predicted = {
            review_id: (label, float(score))
            for review_id, label, score in zip(targets, target_labels, target_scores, strict=True)
        }
    # A pending review without a vector keeps its lexicon verdict.
    fallback = zip(pending.review_ids, pending.lexicon_scores, strict=True)
    verdicts = [predicted.get(review_id, (score_label(score), float(score))) for review_id, score in fallback]
    decision = SentimentDecision(
        method="learned",
        reason=_learned_reason(model),
        tuned_encoder=bool(model.extra.get("sentiment_encoder")),
        borrowed_from=model.extra.get("sentiment_prior_source", "") if model.prior is not None else "",
        plain_polarity_f1=float(model.extra["plain_polarity_macro_f1"]) if "plain_polarity_macro_f1" in model.extra else None,
        labels=[label for label, _ in verdicts],
        scores=[score for _, score in verdicts],
        retrained=retrained,
        quality=model.quality,
        lexicon_quality=lexicon_quality,
        model_to_save=(model, model_dir) if retrained else None,
    )
    if rescore_all and predicted:
        decision.rescore = predicted  # pending reviews in it are skipped when written (they are written as new)
        decision.rescore_method = "learned"
    progress(1.0, "sentiment scored")
    return decision


@dataclass(frozen=True)
class _RatedInputs:
    """The rated reviews' rows in the review vectors, stars, lexicon scores and texts, aligned."""

    index: list[int]
    stars: list[float]
    lexicon: list[float]
    texts: list[str]

    def train(self, vectors: ReviewVectors, prior: SentimentModel | None = None) -> SentimentModel:
        return train_sentiment_model(
            vectors.vectors[self.index], self.stars, self.lexicon, texts=self.texts,
            encoder_fingerprint=vectors.fingerprint, prior=prior,
        )


def _with_tuned_encoder(
    workspace: Workspace, plain: SentimentModel, vectors: ReviewVectors, rated: _RatedInputs, progress: Progress
) -> tuple[SentimentModel, ReviewVectors, str]:
    """The plain model, or (when `tuning_decision` says so) a model on a copy of the encoder tuned for
    sentiment; with the vectors the model reads and a note for the method's reason.

    The copy is tuned on the same training part of the rated reviews that the model trains on, so the
    held-out reviews of the quality figures stay unseen by both. A failed tuning keeps the plain model.
    """
    from recengine.embed import encoder_runtime, review_vectors
    from recengine.embed.models import resolve_model

    settings = workspace.settings
    source = resolve_model(settings.embed.model)
    plain_f1 = plain.quality.learned.polarity_macro_f1 if plain.quality else None
    tune, note = tuning_decision(
        settings.text.sentiment_encoder_tuning, plain_f1, len(vectors.review_ids),
        encoder_runtime(settings.embed, load_torch=False).device, settings.text.sentiment_encoder_cpu_max_reviews,
        trainable=source.kind != "fake" and source.path is not None, borrowing=plain.prior is not None,
    )
    if not tune:
        return plain, vectors, note
    directory = tables.sentiment_encoders_dir(workspace) / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    try:
        tune_for_rated_reviews(
            str(source.path), rated.texts, rated.stars, directory,
            arguments=TuningArguments(steps=settings.text.sentiment_encoder_steps),
            device=encoder_runtime(settings.embed).device, progress=scaled(progress, 0.0, 0.6),
        )
        tuned_vectors = review_vectors(workspace, progress=scaled(progress, 0.6, 0.95), model=str(directory))
    except (RecEngineError, ImportError, RuntimeError) as error:
        shutil.rmtree(directory, ignore_errors=True)
        return plain, vectors, f"Tuning the encoder for sentiment failed ({error}); the plain encoder vectors are used."
    if tuned_vectors.review_ids != vectors.review_ids:  # reviews changed meanwhile: rows would not line up
        shutil.rmtree(directory, ignore_errors=True)
        return plain, vectors, "The reviews changed while the encoder was tuned; the plain encoder vectors are used."
    both = _with_tuned_vectors(vectors, tuned_vectors)
    model = rated.train(both)
    extra = {"sentiment_encoder": directory.name, "sentiment_encoder_fingerprint": tuned_vectors.fingerprint,
             "encoder_tuning_steps": str(settings.text.sentiment_encoder_steps)}
    if plain_f1 is not None:
        extra["plain_polarity_macro_f1"] = f"{plain_f1:.4f}"
    return replace(model, extra={**model.extra, **extra}), both, ""


def _sentiment_vectors(workspace: Workspace, progress: Progress) -> ReviewVectors:
    """What the learned model reads from the plain encoder: every review's vector and its title's, side by
    side (`with_title_vectors`), under the encoder's fingerprint."""
    from recengine.embed import ReviewVectors, review_title_vectors, review_vectors

    reviews = review_vectors(workspace, progress=scaled(progress, 0.0, 0.85))
    titles = review_title_vectors(workspace, progress=scaled(progress, 0.85, 1.0))
    if titles.review_ids != reviews.review_ids:  # reviews changed between the two reads
        raise ModelError("The reviews changed while they were embedded.", hint="Run the analysis again.")
    return ReviewVectors(reviews.review_ids, with_title_vectors(reviews.vectors, titles.vectors), reviews.fingerprint)


def _with_tuned_vectors(plain: ReviewVectors, tuned: ReviewVectors) -> ReviewVectors:
    """What a model on a tuned encoder reads: every review's plain and tuned vectors side by side."""
    from recengine.embed import ReviewVectors

    if tuned.review_ids != plain.review_ids:
        raise ModelError("The plain and the tuned review vectors are of different reviews.")
    return ReviewVectors(plain.review_ids, side_by_side(plain.vectors, tuned.vectors), f"{plain.fingerprint}+{tuned.fingerprint}")


def save_encoder_tuning(workspace: Workspace, tuning: str) -> Path:
    """Save `text.sentiment_encoder_tuning` (never, auto or always) in the workspace's config.toml; the
    next analysis retrains the sentiment model when the choice differs from the one it was trained with.

    Raises:
        ConfigError: not one of the choices.
    """
    if tuning not in ENCODER_TUNING_CHOICES:
        raise ConfigError(f"Unknown encoder tuning {tuning!r}.", hint=f"Use {', '.join(ENCODER_TUNING_CHOICES)}.")
    return workspace.save_settings("text", {"sentiment_encoder_tuning": tuning})


def tuned_encoder_path(workspace: Workspace, model: SentimentModel | None) -> Path | None:
    """The folder of the copy of the encoder that `model` was trained on, when it has one and it exists."""
    name = model.extra.get("sentiment_encoder") if model is not None else None
    if not name:
        return None
    path = tables.sentiment_encoders_dir(workspace) / name
    return path if (path / "config.json").exists() else None


def sentiment_vector_fingerprints(workspace: Workspace) -> set[str]:
    """Fingerprints of the cached review vectors that the saved sentiment model reads besides the
    workspace's encoder (its tuned copy's), which pruning the embedding cache must keep."""
    try:
        model = load_sentiment_model(tables.sentiment_model_dir(workspace))
    except ModelError:
        return set()
    fingerprint = model.extra.get("sentiment_encoder_fingerprint") if model is not None else None
    return {fingerprint} if fingerprint else set()


def _learned_reason(model: SentimentModel) -> str:
    tuned = model.extra.get("sentiment_encoder")
    vectors = (
        f"the encoder vectors of each review and of its title, next to those of a copy of the encoder tuned for "
        f"sentiment on the training reviews ({model.extra.get('encoder_tuning_steps', '?')} steps; on the plain "
        f"encoder the held-out polarity F1 was {model.extra.get('plain_polarity_macro_f1', 'not measured')})"
        if tuned else "the encoder vectors of each review and of its title"
    )
    borrowed = (
        f", the verdict of the sentiment model borrowed from {model.extra.get('sentiment_prior_source') or 'another shop'}"
        if model.prior is not None else ""
    )
    reason = (
        f"Logistic regression on {vectors}, the lexicon score{borrowed} and the review's words (hashed 1-2 word "
        f"phrases), trained on {model.trained_on:,} rated reviews (a positive-vs-negative model with a "
        "threshold chosen by cross-validation on the training reviews decides the polarity, a 3-class "
        "one decides neutral); see the held-out scores next to the lexicon's."
    )
    note = model.extra.get("tuning_note", "")  # why the encoder was not tuned or no model borrowed, when that needs saying
    return f"{reason} {note}" if note else reason


def _previous_method(workspace: Workspace) -> str | None:
    raw = workspace.store.get_meta(tables.STATE_META_KEY)
    if not raw:
        return None
    try:
        return str(json.loads(raw).get("method"))
    except (ValueError, AttributeError):
        return None
