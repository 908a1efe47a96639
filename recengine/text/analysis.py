"""`analyze_reviews`: keywords, aspects and sentiment of new or changed reviews, then the summaries.

Stages (each timed in the report, each reporting progress):
1. text: sentences, lexicon scores per sentence, candidate phrases of every new or changed review;
2. keywords: per-review phrases (TF-IDF over the workspace's reviews by default);
3. aspects: the aspect lexicon (seed + learned from this workspace on the first run), per-review mentions;
4. sentiment: the learned classifier on encoder vectors when enough rated reviews exist, else the lexicon;
5. write: analysis rows in short transactions (never holding the database during model work);
6. summaries: distinctive keywords and aspect summaries per product, brand and category.

Only reviews whose analysed text changed (or that are new) go through stages 1-3. The classifier is
retrained when the encoder changed or the number of rated reviews moved by 20% or more; a retrain
re-scores every review's sentiment from the cached vectors, which is cheap.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recengine.config import ENCODER_TUNING_CHOICES
from recengine.errors import ConfigError, ModelError, RecEngineError
from recengine.progress import Progress, no_progress, scaled
from recengine.text import tables
from recengine.text.aspects import (
    AspectLexicon,
    AspectTagger,
    collect_phrase_stats,
    extend_lexicon,
    noun_like_heads,
)
from recengine.text.keywords import (
    KEYWORD_METHODS,
    KeywordModel,
    embedding_keywords,
    review_phrase_keys,
    tfidf_keywords,
    yake_keywords,
)
from recengine.text.sentences import review_text, split_sentences
from recengine.text.sentiment import (
    Label,
    MethodScores,
    ModelQuality,
    SentimentModel,
    method_scores,
    review_lexicon_score,
    score_label,
    sentence_scores,
    train_sentiment_model,
    with_title_vectors,
)
from recengine.text.sentiment_encoder import (
    TuningArguments,
    side_by_side,
    tune_for_rated_reviews,
    tuning_decision,
)
from recengine.text.sentiment_prior import load_prior
from recengine.text.summaries import encoder_or_none, summary_counts, write_summaries

if TYPE_CHECKING:
    from pathlib import Path

    from recengine.embed import ReviewVectors
    from recengine.workspace import Workspace

RELEARN_MIN_SENTENCES = 500  # a batch this large (and twice the last one) re-learns the aspect lexicon
RETRAIN_GROWTH = 0.2  # retrain when the rated reviews grew or shrank by this share
WRITE_CHUNK = 20_000


@dataclass(frozen=True)
class AnalysisReport:
    """What one `analyze_reviews` run did."""

    reviews: int  # reviews in the workspace
    analyzed: int  # new or changed reviews analysed in this run
    unchanged: int
    removed: int  # analysis rows dropped because their review is gone
    rescored: int  # unchanged reviews whose sentiment was re-scored (model retrained or method switched)
    sentiment_method: str  # learned | lexicon
    method_reason: str
    model_retrained: bool
    quality: ModelQuality | None  # learned vs lexicon on held-out reviews (when the model is used)
    lexicon_quality: MethodScores | None  # lexicon vs stars on all rated reviews
    aspects: int  # distinct aspects mentioned
    learned_aspect_terms: int  # phrases the lexicon learned from this workspace
    items_with_keywords: int
    stage_seconds: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class _Pending:
    """Per-review results of the text stages, for the reviews analysed in this run."""

    review_ids: list[str]
    hashes: list[str]
    lexicon_scores: list[float]
    keywords: list[list[str]]
    aspects: list[list[dict[str, object]]]


def text_hash(title: object, text: object) -> str:
    """Hash of the analysed text of a review."""
    combined = review_text(_as_text(title), _as_text(text))
    return hashlib.sha1(combined.encode("utf-8")).hexdigest()


def _as_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def analyze_reviews(
    workspace: Workspace, progress: Progress | None = None, *, force: bool = False, learned_sentiment: bool = True
) -> AnalysisReport:
    """Analyse new and changed reviews and refresh the summaries.

    Args:
        workspace: the workspace to analyse.
        progress: callback `(fraction, message)`.
        force: re-analyse every review and retrain the model (after a change of settings).
        learned_sentiment: False scores sentiment with the lexicon only, without encoding a review: a
            first pass that shows keywords, aspects and sentiment within seconds, while the learned
            model is prepared by a later run (which then re-scores every review).

    Returns:
        An `AnalysisReport`. Results are in the tables `review_analysis`, `item_keywords`,
        `keyword_summary` and `aspect_summary`.
    """
    report = progress or no_progress
    settings = workspace.settings.text
    method = getattr(settings, "keyword_method", "tfidf")
    if method not in KEYWORD_METHODS:
        raise ConfigError(
            f"Unknown keyword method {method!r}.", hint=f"Set text.keyword_method to one of {KEYWORD_METHODS}."
        )
    started = time.perf_counter()
    stages: dict[str, float] = {}
    tables.ensure_tables(workspace)
    report(0.0, "reading reviews")
    reviews = workspace.store.query_df(
        "SELECT review_id, item_id, rating, title, text FROM reviews ORDER BY review_id"
    )
    existing = workspace.store.query_df("SELECT review_id, text_hash FROM review_analysis")
    hashes = [text_hash(title, text) for title, text in zip(reviews["title"], reviews["text"], strict=True)]
    reviews["text_hash"] = hashes
    known = dict(zip(existing["review_id"], existing["text_hash"], strict=True))
    pending_mask = np.array(
        [force or known.get(review_id) != digest for review_id, digest in zip(reviews["review_id"], hashes, strict=True)],
        dtype=bool,
    )
    current_ids = set(reviews["review_id"])
    removed_ids = [review_id for review_id in known if review_id not in current_ids]
    pending_frame = reviews[pending_mask]
    stages["read"] = time.perf_counter() - started

    # -- 1-3: text, keywords, aspects --------------------------------------------------------------
    pending, lexicon, learned_terms = _analyse_texts(
        workspace, pending_frame, method, scaled(report, 0.02, 0.4), stages, force=force
    )

    # -- 4: sentiment ------------------------------------------------------------------------------
    sentiment_started = time.perf_counter()
    lexicon_by_id = _all_lexicon_scores(workspace, pending)
    decision = _sentiment_decision(
        workspace, reviews, lexicon_by_id, pending, scaled(report, 0.4, 0.8), force=force,
        learned=learned_sentiment,
    )
    stages["sentiment"] = time.perf_counter() - sentiment_started

    # -- 5: write ----------------------------------------------------------------------------------
    write_started = time.perf_counter()
    report(0.8, "writing results")
    _write_pending(workspace, pending, decision.labels, decision.scores, decision.method)
    rescored = _write_rescored(workspace, decision, set(pending.review_ids))
    if decision.model_to_save is not None:
        model, model_dir = decision.model_to_save
        model.save(model_dir)
        # Only now is a replaced tuned encoder unreferenced (before, the saved model still named it).
        tables.prune_sentiment_encoders(workspace, keep=model.extra.get("sentiment_encoder"))
    if removed_ids:
        _delete_removed(workspace, removed_ids)
    stages["write"] = time.perf_counter() - write_started

    # -- 6: summaries ------------------------------------------------------------------------------
    summary_started = time.perf_counter()
    changed = bool(pending.review_ids or removed_ids or rescored)
    summary_version = workspace.store.get_meta(tables.SUMMARY_VERSION_META_KEY)
    data_version = workspace.store.get_meta("data_version")
    aspects_count, items_with_keywords = summary_counts(workspace)
    if changed or force or summary_version != data_version:
        report(0.85, "summarising per product, brand and category")
        aspects_count, items_with_keywords = write_summaries(workspace, method, scaled(report, 0.85, 0.99))
        new_version = tables.bump_data_version(workspace)
        workspace.store.set_meta(tables.SUMMARY_VERSION_META_KEY, new_version)
    stages["summaries"] = time.perf_counter() - summary_started

    state = {
        "method": decision.method,
        "reason": decision.reason,
        "quality": asdict(decision.quality) if decision.quality else None,
        "lexicon_quality": asdict(decision.lexicon_quality) if decision.lexicon_quality else None,
        "tuned_encoder": decision.tuned_encoder,
        "plain_polarity_macro_f1": decision.plain_polarity_f1,
        "borrowed_from": decision.borrowed_from,
        "keyword_method": method,
        "analyzed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "aspects": lexicon.aspects,
    }
    workspace.store.set_meta(tables.STATE_META_KEY, json.dumps(state))
    report(1.0, f"analysed {len(pending.review_ids)} reviews")
    return AnalysisReport(
        reviews=len(reviews),
        analyzed=len(pending.review_ids),
        unchanged=len(reviews) - len(pending.review_ids),
        removed=len(removed_ids),
        rescored=rescored,
        sentiment_method=decision.method,
        method_reason=decision.reason,
        model_retrained=decision.retrained,
        quality=decision.quality,
        lexicon_quality=decision.lexicon_quality,
        aspects=aspects_count,
        learned_aspect_terms=learned_terms,
        items_with_keywords=items_with_keywords,
        stage_seconds={name: round(seconds, 3) for name, seconds in stages.items()},
        seconds=round(time.perf_counter() - started, 3),
    )


# -- stages 1-3 ------------------------------------------------------------------------------------------


def _analyse_texts(
    workspace: Workspace,
    frame: pd.DataFrame,
    method: str,
    progress: Progress,
    stages: dict[str, float],
    *,
    force: bool,
) -> tuple[_Pending, AspectLexicon, int]:
    started = time.perf_counter()
    texts = _review_texts(frame)
    sentences_per_review: list[list[str]] = []
    scores_per_review: list[list[float]] = []
    keys_per_review: list[list[str]] = []
    surfaces: list[dict[str, str]] = []
    sentence_phrases: list[tuple[list[str], float]] = []
    all_sentences: list[str] = []
    total = max(len(texts), 1)
    for position, text in enumerate(texts):
        sentences = split_sentences(text)
        scores = sentence_scores(sentences)
        review_keys: list[str] = []
        surface: dict[str, str] = {}
        for sentence, score in zip(sentences, scores, strict=True):
            keys, sentence_surface = review_phrase_keys(sentence)
            review_keys.extend(keys)
            for key, written in sentence_surface.items():
                surface.setdefault(key, written)
            sentence_phrases.append((keys, score))
        all_sentences.extend(sentences)
        sentences_per_review.append(sentences)
        scores_per_review.append(scores)
        keys_per_review.append(review_keys)
        surfaces.append(surface)
        if position % 500 == 0:
            progress(0.6 * position / total, f"reading review text {position:,}/{len(texts):,}")
    stages["text"] = time.perf_counter() - started

    started = time.perf_counter()
    keyword_model = _update_keyword_model(workspace, keys_per_review, force=force)
    top_n = workspace.settings.text.keywords_per_review
    keywords: list[list[str]] = []
    encoder = encoder_or_none(workspace) if method == "embedding" else None
    for position, (keys, surface) in enumerate(zip(keys_per_review, surfaces, strict=True)):
        if method == "yake":
            keywords.append(yake_keywords(texts[position], top_n) if texts[position] else [])
        elif method == "embedding" and encoder is not None:
            keywords.append(embedding_keywords(texts[position], encoder, top_n) if keys else [])
        else:
            keywords.append(tfidf_keywords(keys, surface, keyword_model, top_n))
        if position % 2000 == 0:
            progress(0.6 + 0.2 * position / total, "picking key phrases")
    stages["keywords"] = time.perf_counter() - started

    started = time.perf_counter()
    lexicon, learned_terms = _aspect_lexicon(workspace, sentence_phrases, all_sentences, force=force)
    tagger = AspectTagger(lexicon)
    aspects: list[list[dict[str, object]]] = []
    for position, (sentences, scores) in enumerate(zip(sentences_per_review, scores_per_review, strict=True)):
        aspects.append([mention.to_json() for mention in tagger.review_aspects(sentences, scores)])
        if position % 2000 == 0:
            progress(0.8 + 0.2 * position / total, "finding aspects")
    stages["aspects"] = time.perf_counter() - started
    progress(1.0, "text analysed")
    pending = _Pending(
        review_ids=[str(review_id) for review_id in frame["review_id"]],
        hashes=list(frame["text_hash"]),
        lexicon_scores=[review_lexicon_score(scores) for scores in scores_per_review],
        keywords=keywords,
        aspects=aspects,
    )
    return pending, lexicon, learned_terms


def _update_keyword_model(workspace: Workspace, keys_per_review: list[list[str]], *, force: bool) -> KeywordModel:
    """Document frequencies of phrases over all analysed reviews, kept in a Parquet file."""
    from recengine.store.files import write_with_atomic

    path = tables.keyword_frequencies_path(workspace)
    model = KeywordModel({}, 0)
    if path.exists() and not force:
        stored = pd.read_parquet(path)
        documents = int(stored.attrs.get("documents", 0)) if stored.attrs else 0
        meta = workspace.store.get_meta("text.keyword_documents")
        documents = int(meta) if meta else documents
        model = KeywordModel(dict(zip(stored["key"], stored["df"].astype(int), strict=True)), documents)
    if not keys_per_review:
        return model
    model = model.updated(set(keys) for keys in keys_per_review)
    frame = pd.DataFrame({"key": list(model.document_frequency), "df": list(model.document_frequency.values())})
    path.parent.mkdir(parents=True, exist_ok=True)
    write_with_atomic(path, lambda temporary: frame.to_parquet(temporary, index=False))
    workspace.store.set_meta("text.keyword_documents", str(model.documents))
    return model


def _aspect_lexicon(
    workspace: Workspace,
    sentence_phrases: list[tuple[list[str], float]],
    sentences: list[str],
    *,
    force: bool,
) -> tuple[AspectLexicon, int]:
    """The workspace's aspect lexicon: loaded, or learned now from the reviews being analysed.

    It is learned on the first run (or with `force`) and kept, so that aspects stay stable between
    incremental runs. It is learned again when a batch is at least twice as large as what it was
    learned from (and 500 sentences or more): the first run of a workspace may have seen a handful of
    reviews, or none. Reviews analysed before keep their aspects until a `force` run.
    """
    path = tables.aspect_lexicon_path(workspace)
    lexicon = None if force else AspectLexicon.load(path)
    if lexicon is not None and len(sentences) >= 2 * max(lexicon.learned_from, RELEARN_MIN_SENTENCES // 2):
        lexicon = None
    if lexicon is None:
        seed = AspectLexicon.seed()
        min_mentions = max(5, len(sentence_phrases) // 2000)
        lexicon = extend_lexicon(
            seed,
            collect_phrase_stats(sentence_phrases),
            encoder_or_none(workspace),
            min_mentions=min_mentions,
            noun_heads=noun_like_heads(sentences),
        )
        lexicon = replace(lexicon, learned_from=len(sentences))
        path.parent.mkdir(parents=True, exist_ok=True)
        lexicon.save(path)
    return lexicon, sum(len(terms) for terms in lexicon.learned.values())


# -- stage 4: sentiment ------------------------------------------------------------------------------------


@dataclass
class _Decision:
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


def _all_lexicon_scores(workspace: Workspace, pending: _Pending) -> dict[str, float]:
    stored = workspace.store.query_df("SELECT review_id, lexicon_score FROM review_analysis")
    scores = dict(zip(stored["review_id"], stored["lexicon_score"].astype(float), strict=True))
    scores.update(zip(pending.review_ids, pending.lexicon_scores, strict=True))
    return scores


def _sentiment_decision(
    workspace: Workspace,
    reviews: pd.DataFrame,
    lexicon_by_id: dict[str, float],
    pending: _Pending,
    progress: Progress,
    *,
    force: bool,
    learned: bool = True,
) -> _Decision:
    minimum = workspace.settings.text.min_rated_reviews_for_model
    rated = reviews[reviews["rating"].notna()]
    lexicon_quality = None
    if len(rated):
        rated_lexicon = [lexicon_by_id.get(review_id, 0.0) for review_id in rated["review_id"]]
        lexicon_quality = method_scores(
            rated["rating"].astype(float).tolist(), [score_label(score) for score in rated_lexicon], rated_lexicon
        )
    previous = _previous_method(workspace)

    def lexicon_decision(reason: str) -> _Decision:
        decision = _Decision(
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
    text_by_id = dict(zip(reviews["review_id"], _review_texts(reviews), strict=True))
    model_dir = tables.sentiment_model_dir(workspace)
    try:
        model = None if force else SentimentModel.load(model_dir)
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
    decision = _Decision(
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
        model = SentimentModel.load(tables.sentiment_model_dir(workspace))
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


def _review_texts(reviews: pd.DataFrame) -> list[str]:
    """The analysed text ("title. body") of every review, in frame order."""
    return [review_text(_as_text(title), _as_text(text)) for title, text in zip(reviews["title"], reviews["text"], strict=True)]


def _previous_method(workspace: Workspace) -> str | None:
    raw = workspace.store.get_meta(tables.STATE_META_KEY)
    if not raw:
        return None
    try:
        return str(json.loads(raw).get("method"))
    except (ValueError, AttributeError):
        return None


# -- stage 5: writes ---------------------------------------------------------------------------------------


def _write_pending(
    workspace: Workspace, pending: _Pending, labels: list[str], scores: list[float], method: str
) -> None:
    if not pending.review_ids:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    frame = pd.DataFrame(
        {
            "review_id": pending.review_ids,
            "text_hash": pending.hashes,
            "sentiment_label": labels,
            "sentiment_score": np.round(np.asarray(scores, dtype=float), 4),
            "sentiment_method": method,
            "keywords": [json.dumps(keywords, ensure_ascii=False) for keywords in pending.keywords],
            "aspects": [json.dumps(aspects, ensure_ascii=False) for aspects in pending.aspects],
            "analyzed_at": now,
            "lexicon_score": np.round(np.asarray(pending.lexicon_scores, dtype=float), 4),
        }
    )
    for start in range(0, len(frame), WRITE_CHUNK):
        chunk = frame.iloc[start : start + WRITE_CHUNK]
        with workspace.store.transaction() as connection:
            connection.register("analysis_chunk", chunk)
            connection.execute(
                "DELETE FROM review_analysis WHERE review_id IN (SELECT review_id FROM analysis_chunk)"
            )
            connection.execute(
                "INSERT INTO review_analysis (review_id, text_hash, sentiment_label, sentiment_score, "
                "sentiment_method, keywords, aspects, analyzed_at, lexicon_score) "
                "SELECT review_id, text_hash, sentiment_label, sentiment_score, sentiment_method, keywords, "
                "aspects, analyzed_at, lexicon_score FROM analysis_chunk"
            )
            connection.unregister("analysis_chunk")


def _write_rescored(workspace: Workspace, decision: _Decision, pending_ids: set[str]) -> int:
    if not decision.rescore:
        return 0
    items = [(review_id, label, score) for review_id, (label, score) in decision.rescore.items() if review_id not in pending_ids]
    if not items:
        return 0
    frame = pd.DataFrame(items, columns=["review_id", "sentiment_label", "sentiment_score"])
    frame["sentiment_score"] = frame["sentiment_score"].astype(float).round(4)
    for start in range(0, len(frame), WRITE_CHUNK):
        chunk = frame.iloc[start : start + WRITE_CHUNK]
        with workspace.store.transaction() as connection:
            connection.register("rescore_chunk", chunk)
            connection.execute(
                "UPDATE review_analysis SET sentiment_label = c.sentiment_label, "
                "sentiment_score = c.sentiment_score, sentiment_method = ? "
                "FROM rescore_chunk c WHERE review_analysis.review_id = c.review_id",
                [decision.rescore_method],
            )
            connection.unregister("rescore_chunk")
    return len(frame)


def _delete_removed(workspace: Workspace, removed_ids: list[str]) -> None:
    frame = pd.DataFrame({"review_id": removed_ids})
    with workspace.store.transaction() as connection:
        connection.register("removed_reviews", frame)
        connection.execute("DELETE FROM review_analysis WHERE review_id IN (SELECT review_id FROM removed_reviews)")
        connection.unregister("removed_reviews")


# -- stage 6: summaries ------------------------------------------------------------------------------------
