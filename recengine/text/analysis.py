"""`analyze_reviews`: keywords, aspects and sentiment of new or changed reviews, then the summaries.

Stages (each timed in the report, each reporting progress):
1. text: sentences, lexicon scores per sentence, candidate phrases of every new or changed review;
2. keywords: per-review phrases (TF-IDF over the workspace's reviews by default);
3. aspects: the aspect lexicon (seed + learned from this workspace on the first run), per-review mentions;
4. sentiment: the learned classifier on encoder vectors when enough rated reviews exist, else the lexicon;
5. write: analysis rows in short transactions (never holding the database during model work);
6. summaries: distinctive keywords and aspect summaries per product, brand and category.

Stage 4 lives in sentiment_stage.py (which sentiment, when to retrain, encoder tuning), stage 6 in
summaries.py (with the readers of what the analysis stored); this module runs the stages in order.

Only reviews whose analysed text changed (or that are new) go through stages 1-3. The classifier is
retrained when the encoder changed or the number of rated reviews moved by 20% or more; a retrain
re-scores every review's sentiment from the cached vectors, which is cheap.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recengine.errors import ConfigError
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
from recengine.text.sentences import as_text, review_text, review_texts, split_sentences
from recengine.text.sentiment_labels import MethodScores, ModelQuality
from recengine.text.sentiment_lexicon import review_lexicon_score, sentence_scores
from recengine.text.sentiment_model_files import save_sentiment_model
from recengine.text.sentiment_stage import (
    SentimentDecision,
    all_lexicon_scores,
    sentiment_decision,
)
from recengine.text.summaries import encoder_or_none, summary_counts, write_summaries

if TYPE_CHECKING:

    from recengine.workspace import Workspace

RELEARN_MIN_SENTENCES = 500  # a batch this large (and twice the last one) re-learns the aspect lexicon
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
    combined = review_text(as_text(title), as_text(text))
    return hashlib.sha1(combined.encode("utf-8")).hexdigest()


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
    lexicon_by_id = all_lexicon_scores(workspace, pending)
    decision = sentiment_decision(
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
        save_sentiment_model(model, model_dir)
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
    texts = review_texts(frame)
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


def _write_rescored(workspace: Workspace, decision: SentimentDecision, pending_ids: set[str]) -> int:
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
