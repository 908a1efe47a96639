"""Natural-language product search that reads what was asked, optionally personalised.

The query is first read into a `QueryIntent` (intent.py): "quiet thermostat under $50, not Nest" is
the need "quiet thermostat", a price limit and an excluded brand. The need is scored as before: the
cosine between the encoded text and the item vectors (0.8) plus the share of its words found in the
title, brand or category (0.2), so exact names still win. A category or brand the query names adds a
boost; hard constraints (price, rating, exclusions) filter, and when no good match of the text meets
them all the list relaxes them in a fixed order and says so (intent_match.py). Personalisation re-ranks the best
matches only: a user's taste never surfaces items that do not match the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from recengine.errors import RecEngineError
from recengine.recommend.intent import Constraint, QueryIntent
from recengine.recommend.intent_match import (
    MENTION_BOOST,
    MentionBoost,
    intent_for,
    match_constraints,
    word_index_for,
)
from recengine.recommend.results import SearchResult
from recengine.recommend.scoring import weights_from_settings
from recengine.recommend.word_index import query_words

if TYPE_CHECKING:
    from recengine.recommend.recommender import Recommender
    from recengine.workspace import Workspace

POOL = 200
# A text match at least this share of the best one's score counts as what was searched for (see below).
RELEVANT_SHARE = 0.5


@dataclass(frozen=True)
class SearchHit(SearchResult):
    """A search result with the query's constraints it meets and those it does not (relaxed ones)."""

    meets: tuple[str, ...] = ()
    misses: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """'meets price ≤ 50, category: Jazz; does not meet rating ≥ 4 stars' ('' without constraints)."""
        parts = []
        if self.meets:
            parts.append("meets " + ", ".join(self.meets))
        if self.misses:
            parts.append("does not meet " + ", ".join(self.misses))
        return "; ".join(parts)


@dataclass(frozen=True)
class SearchResponse:
    """A search: the intent read from the query, the hits, and what was relaxed to fill the list."""

    query: str
    user_id: str | None
    intent: QueryIntent
    results: list[SearchHit]
    relaxed: tuple[Constraint, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        """The JSON of `recengine search --format json`."""
        return {
            "query": self.query,
            "user_id": self.user_id,
            "intent": self.intent.to_dict(),
            "relaxed": [constraint.label for constraint in self.relaxed],
            "note": self.note,
            "results": [
                {"item_id": hit.item_id, "rank": hit.rank, "score": hit.score, "query": hit.query,
                 "personal": hit.personal, "meets": list(hit.meets), "misses": list(hit.misses)}
                for hit in self.results
            ],
        }


def lexical_scores(recommender: Recommender, query: str) -> np.ndarray:
    """Share of the query's words present in each item's title, brand or category."""
    return word_index_for(recommender).share_of_words(query_words(query))


def text_scores(recommender: Recommender, text: str, query_vector: np.ndarray | None = None) -> np.ndarray:
    """How well each item matches the text: 0.8 x cosine + 0.2 x shared words (words alone without vectors)."""
    lexical = lexical_scores(recommender, text)
    if query_vector is None and text.strip() and recommender.encode_query is not None and recommender.vectors is not None:
        query_vector = recommender.encode_query(text)
    if query_vector is None or recommender.vectors is None:
        return lexical
    unit = np.asarray(query_vector, dtype=np.float32).ravel()
    unit = unit / max(float(np.linalg.norm(unit)), 1e-9)
    return 0.8 * np.clip(recommender.vectors @ unit, 0.0, 1.0) + 0.2 * lexical


def search_with_intent(
    recommender: Recommender,
    query: str,
    *,
    intent: QueryIntent | None = None,
    understand: bool = True,
    query_vector: np.ndarray | None = None,
    user_id: str | None = None,
    k: int = 10,
    personal_weight: float | None = None,
    mention_boost: MentionBoost = MENTION_BOOST,
) -> SearchResponse:
    """Rank items for a query (and a user, when given), reading the query's constraints.

    Args:
        recommender: fitted recommender (item vectors, catalog, the user's profile).
        query: the text typed.
        intent: the intent to apply (e.g. with a constraint removed); read from `query` when None.
        understand: False reads the query as plain words, with no constraint (search before intents).
        query_vector: the encoded query text (None: `intent.query_text` encoded with the recommender's encoder).
        user_id: personalise for this user.
        k: results.
        personal_weight: weight of the user's hybrid score (settings.search_personal_weight when None).
        mention_boost: how a named category or brand lifts its items' query score.
    """
    if not query.strip():
        raise RecEngineError("The search query is empty.", hint="Type a few words describing the product.")
    if intent is None:
        intent = intent_for(recommender, query) if understand else QueryIntent.literal(query)
    size = recommender.catalog.size
    if size == 0 or k <= 0:
        return SearchResponse(query, user_id, intent, [])
    text = intent.query_text
    match = match_constraints(recommender, intent, mention_boost)
    if text.strip():
        query_score = text_scores(recommender, text, query_vector)
        eligible = (query_score > 0) | (match.boost > 0)
    else:
        # Only constraints were typed ("under $20"): every item that meets them qualifies, best-sellers first.
        query_score = 0.1 * recommender.scorers["popularity"].values.astype(np.float32)
        eligible = np.ones(size, dtype=bool)
    base = query_score + match.boost
    key = np.where(match.filtered(base, eligible, RELEVANT_SHARE), base, -np.inf)
    pool_size = min(POOL, size)
    pool = np.argpartition(-key, pool_size - 1)[:pool_size]
    pool = pool[np.isfinite(key[pool])]
    personal = np.zeros(pool.size, dtype=np.float64)
    weight = recommender.settings.search_personal_weight if personal_weight is None else personal_weight
    if user_id and weight > 0 and pool.size:
        context = recommender._context(recommender.profile(user_id), None)
        totals, _ = recommender.hybrid.score(context, pool, weights_from_settings(recommender.settings))
        top = float(totals.max(initial=0.0))
        personal = weight * totals / top if top > 0 else personal
    final = base[pool] + personal
    order = np.lexsort((pool, -final))[:k]
    hits = []
    for rank, index in enumerate(order, start=1):
        position = int(pool[index])
        meets, misses = match.met_by(position)
        query_part = round(float(base[position]), 6)
        hits.append(SearchHit(
            item_id=recommender.catalog.item_ids[position], rank=rank,
            score=round(query_part + round(float(personal[index]), 6), 6), query=query_part,
            personal=round(float(personal[index]), 6), meets=meets, misses=misses,
        ))
    shown = match.tier[pool[order]]
    return SearchResponse(query, user_id, intent, hits, match.relaxed(shown), match.note(shown))


def search(
    recommender: Recommender,
    query: str,
    *,
    query_vector: np.ndarray | None = None,
    user_id: str | None = None,
    k: int = 10,
    personal_weight: float | None = None,
    understand: bool = True,
) -> list[SearchResult]:
    """The hits of `search_with_intent` (each a `SearchHit`, a `SearchResult` that says what it meets)."""
    return list(search_with_intent(
        recommender, query, understand=understand, query_vector=query_vector, user_id=user_id, k=k,
        personal_weight=personal_weight,
    ).results)


def search_items(
    workspace: Workspace, query: str, *, user_id: str | None = None, k: int = 10, understand: bool = True
) -> SearchResponse:
    """Search a workspace's catalog, personalised for `user_id` when given."""
    from recengine.recommend.workspace_model import recommender_for

    return search_with_intent(recommender_for(workspace), query, user_id=user_id, k=k, understand=understand)
