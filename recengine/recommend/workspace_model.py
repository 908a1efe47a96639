"""Fit a Recommender on a workspace, once per data version, and keep it for the process.

Embeddings, the FAISS index, review keywords and sentiment are optional: the recommender works without
them (no semantic component, no keywords) and picks them up once the embed and text steps have run.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from recengine.config import RecommendSettings
from recengine.errors import ConfigError, RecEngineError
from recengine.progress import Progress, scaled
from recengine.recommend.interactions import anonymous_ratings, workspace_interactions

if TYPE_CHECKING:
    from recengine.recommend.recommender import Recommender
    from recengine.workspace import Workspace

log = logging.getLogger(__name__)
_CACHE: OrderedDict[tuple[str, str, str], Recommender] = OrderedDict()
_CACHE_SIZE = 3
_LOCK = threading.Lock()


def with_collaborative_signal(settings: RecommendSettings, ease_l2: float | None) -> RecommendSettings:
    """`settings` with the collaborative signal overridden (`collaborative_ease_l2`: 0 = co-occurrence,
    above 0 = EASE with that L2); None or the same value keeps them as they are. For one run or one page,
    nothing is saved.

    Raises:
        ConfigError: a negative value.
    """
    return _overridden(settings, "collaborative_ease_l2", ease_l2, "The EASE L2 {:g} must be 0 (co-occurrence) or above (EASE).")


def with_review_text(settings: RecommendSettings, weight: float | None) -> RecommendSettings:
    """`settings` with `review_vector_weight` overridden (0 = item vectors from catalog text only); None or
    the same value keeps them. For one run or one page, nothing is saved.

    Raises:
        ConfigError: a negative weight.
    """
    return _overridden(
        settings, "review_vector_weight", weight, "The reviews' text weight {:g} must be 0 (catalog text only) or above."
    )


def _overridden(settings: RecommendSettings, name: str, value: float | None, negative: str) -> RecommendSettings:
    """`settings` with the number `name` set to `value` (None or the same value: unchanged; below 0: the
    `negative` message, formatted with the value)."""
    if value is None or value == getattr(settings, name):
        return settings
    if value < 0:
        raise ConfigError(negative.format(value))
    return settings.model_copy(update={name: float(value)})


def recommender_for(
    workspace: Workspace,
    *,
    settings: RecommendSettings | None = None,
    progress: Progress | None = None,
    build_embeddings: bool = True,
) -> Recommender:
    """The workspace's Recommender, refitted only when its data version or the settings change.

    Args:
        workspace: the workspace.
        settings: recommend settings (the workspace's when None).
        progress: callback for the fit (and for building embeddings when they are missing).
        build_embeddings: compute item embeddings when missing (the CLI and the dashboard do).
    """
    settings = settings or workspace.settings.recommend
    key = (
        str(workspace.root.resolve()),
        workspace.store.get_meta("data_version") or "0",
        settings.model_dump_json(),
    )
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    recommender = fit_workspace(workspace, settings=settings, progress=progress, build_embeddings=build_embeddings)
    with _LOCK:
        _CACHE[key] = recommender
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return recommender


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def fit_workspace(
    workspace: Workspace,
    *,
    settings: RecommendSettings | None = None,
    progress: Progress | None = None,
    build_embeddings: bool = True,
) -> Recommender:
    """Fit a fresh Recommender on everything in the workspace (no cache)."""
    from recengine.recommend.recommender import Recommender

    settings = settings or workspace.settings.recommend
    items = workspace.items()
    vectors, index, encode = _embeddings(workspace, scaled(progress, 0.0, 0.7), build_embeddings, len(items), settings)
    keywords, sentiment = _text_results(workspace)
    reviews = _review_vectors(workspace) if vectors is not None and settings.review_vector_weight > 0 else None
    return Recommender.fit(
        items,
        workspace_interactions(workspace),
        vectors,
        settings,
        keywords=keywords,
        sentiment=sentiment,
        anonymous_ratings=anonymous_ratings(workspace),
        item_index=index,
        encode_query=encode,
        review_vectors=reviews,
        progress=scaled(progress, 0.7, 1.0),
    )


def _embeddings(
    workspace: Workspace, progress: Progress, build: bool, item_count: int, settings: RecommendSettings
) -> tuple[Any, Any, Any]:
    try:
        from recengine import embed
    except ImportError:
        return None, None, None
    if item_count == 0:
        return None, None, None
    vectors = index = encode = None
    if (build or _has_vectors(workspace)) and _embedded_in_background(workspace):
        return None, None, None
    try:
        if build or _has_vectors(workspace):
            vectors = embed.item_vectors(workspace, progress=progress)
            encode = lambda text: embed.encode_query(workspace, text)  # noqa: E731
    except (RecEngineError, AttributeError) as error:
        log.warning("recommendations without embeddings: %s", error)
        return None, None, None
    if vectors is not None and item_count <= settings.coarse_search_above:
        try:
            index = embed.item_index(workspace)
        except (RecEngineError, AttributeError, ImportError) as error:
            log.info("semantic candidates by exact scan (no item index: %s)", error)
        # The vectors and the index each follow the active model when read: an activation in between
        # (another process) would pair one model's vectors with the other's index, and user profiles
        # would search an index of another vector space. Only an index of the vectors' model is used.
        index_fingerprint = getattr(index, "fingerprint", "")
        vectors_fingerprint = getattr(vectors, "fingerprint", "")
        if index is not None and index_fingerprint and vectors_fingerprint and index_fingerprint != vectors_fingerprint:
            log.info("semantic candidates by exact scan (the active model changed while fitting)")
            index = None
    return vectors, index, encode


def _review_vectors(workspace: Workspace) -> Any:
    """The reviews' cached vectors (review analysis encodes them), or None; never encodes."""
    try:
        from recengine.embed import cached_review_vectors

        found = cached_review_vectors(workspace)
    except (RecEngineError, ImportError, OSError) as error:
        log.info("item vectors without review text: %s", error)
        return None
    return found if found.review_ids else None


def _embedded_in_background(workspace: Workspace) -> bool:
    """A background preparation is embedding the catalog right now: recommend from the collaborative
    signal meanwhile rather than encode the same texts in this process too (the data version it bumps
    when done refits the recommender with embeddings)."""
    from recengine.preparation import encoder_work_in_background

    if encoder_work_in_background(workspace, "embeddings"):
        log.info("recommendations without embeddings until the background preparation has embedded the items")
        return True
    return False


def _has_vectors(workspace: Workspace) -> bool:
    return (workspace.root / "embeddings").exists()


def _text_results(workspace: Workspace) -> tuple[dict[str, list[str]], Any]:
    try:
        from recengine.text import item_keywords, review_sentiment
    except ImportError:
        return {}, None
    try:
        return item_keywords(workspace), review_sentiment(workspace)
    except RecEngineError as error:
        log.info("recommendations without review analysis: %s", error)
        return {}, None


def favourite_aspects(workspace: Workspace, user_id: str, top: int = 5) -> list[str]:
    """Aspects a customer praises most in their own reviews (empty before review analysis)."""
    import json

    if not workspace.store.table_exists("review_analysis"):
        return []
    rows = workspace.store.query_rows(
        "SELECT a.aspects FROM review_analysis a JOIN reviews r USING (review_id) WHERE r.user_id = ?",
        [user_id],
    )
    praise: dict[str, float] = {}
    for (aspects,) in rows:
        try:
            entries = json.loads(aspects or "[]")
        except json.JSONDecodeError:
            continue
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and entry.get("aspect"):
                sentiment = entry.get("sentiment")
                weight = 1.0 if sentiment in ("positive", None) else (-1.0 if sentiment == "negative" else 0.25)
                if isinstance(sentiment, (int, float)):
                    weight = float(sentiment)
                praise[str(entry["aspect"])] = praise.get(str(entry["aspect"]), 0.0) + weight
    ranked = sorted(praise.items(), key=lambda pair: -pair[1])
    return [aspect for aspect, score in ranked if score > 0][:top]
