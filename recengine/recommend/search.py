"""Natural-language product search, optionally personalised: score(query, item) + w x score(user, item).

The query part is the cosine between the encoded query and the item vectors (0.8) plus the share of
query words found in the title, brand or category (0.2), so exact names still win. Personalisation
re-ranks the best query matches only: a user's taste never surfaces items that do not match the query.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from recengine.errors import RecEngineError
from recengine.recommend.results import SearchResult
from recengine.recommend.scoring import weights_from_settings

if TYPE_CHECKING:
    from recengine.recommend.recommender import Recommender
    from recengine.workspace import Workspace

_WORD = re.compile(r"[\w']+")
POOL = 200


def lexical_scores(recommender: Recommender, query: str) -> np.ndarray:
    """Share of the query's words present in each item's title, brand or category."""
    words = {word for word in _WORD.findall(query.lower()) if len(word) > 1 or word.isdigit()}
    catalog = recommender.catalog
    if not words:
        return np.zeros(catalog.size, dtype=np.float32)
    cache = getattr(recommender, "_search_words", None)
    if cache is None:
        cache = [
            set(_WORD.findall(f"{title} {brand} {category}".lower()))
            for title, brand, category in zip(catalog.titles, catalog.brands, catalog.categories, strict=True)
        ]
        recommender._search_words = cache  # type: ignore[attr-defined]
    return np.array([len(words & item_words) / len(words) for item_words in cache], dtype=np.float32)


def search(
    recommender: Recommender,
    query: str,
    *,
    query_vector: np.ndarray | None = None,
    user_id: str | None = None,
    k: int = 10,
    personal_weight: float | None = None,
) -> list[SearchResult]:
    """Rank items for a query (and a user, when given).

    Args:
        recommender: fitted recommender (item vectors, catalog, the user's profile).
        query: the text typed.
        query_vector: the encoded query (None: encoded with the recommender's encoder when it has one).
        user_id: personalise for this user.
        k: results.
        personal_weight: weight of the user's hybrid score (settings.search_personal_weight when None).
    """
    if not query.strip():
        raise RecEngineError("The search query is empty.", hint="Type a few words describing the product.")
    lexical = lexical_scores(recommender, query)
    semantic = np.zeros_like(lexical)
    if query_vector is None and recommender.encode_query is not None and recommender.vectors is not None:
        query_vector = recommender.encode_query(query)
    if query_vector is not None and recommender.vectors is not None:
        unit = np.asarray(query_vector, dtype=np.float32).ravel()
        unit = unit / max(float(np.linalg.norm(unit)), 1e-9)
        semantic = np.clip(recommender.vectors @ unit, 0.0, 1.0)
        query_score = 0.8 * semantic + 0.2 * lexical
    else:
        query_score = lexical
    pool_size = min(POOL, recommender.catalog.size)
    if pool_size == 0:
        return []
    pool = np.argpartition(-query_score, pool_size - 1)[:pool_size]
    pool = pool[query_score[pool] > 0]
    personal = np.zeros(pool.size, dtype=np.float64)
    weight = recommender.settings.search_personal_weight if personal_weight is None else personal_weight
    if user_id and weight > 0 and pool.size:
        context = recommender._context(recommender.profile(user_id), None)
        totals, _ = recommender.hybrid.score(context, pool, weights_from_settings(recommender.settings))
        top = float(totals.max(initial=0.0))
        personal = weight * totals / top if top > 0 else personal
    final = query_score[pool] + personal
    order = np.lexsort((pool, -final))[:k]
    return [
        SearchResult(
            item_id=recommender.catalog.item_ids[int(pool[index])],
            rank=rank,
            score=round(float(query_score[pool[index]]) + round(float(personal[index]), 6), 6),
            query=round(float(query_score[pool[index]]), 6),
            personal=round(float(personal[index]), 6),
        )
        for rank, index in enumerate(order, start=1)
    ]


def search_items(
    workspace: Workspace, query: str, *, user_id: str | None = None, k: int = 10
) -> list[SearchResult]:
    """Search a workspace's catalog, personalised for `user_id` when given."""
    from recengine.recommend.workspace_model import recommender_for

    return search(recommender_for(workspace), query, user_id=user_id, k=k)
