"""Explanations: score components, the closest history items, shared keywords, rules, one sentence.

The sentence is assembled only from facts computed here (titles, similarities, ratings, counts, rule
descriptions); nothing is invented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from recengine.recommend.catalog import Catalog
from recengine.recommend.interactions import EVENTS
from recengine.recommend.profile import UserProfile
from recengine.recommend.results import BecauseItem, Explanation
from recengine.recommend.scoring import COMPONENTS, RULES_COMPONENT

MAX_BECAUSE = 3
MAX_KEYWORDS = 5
_EVENT_VERBS = {"view": "viewed", "click": "clicked", "cart": "added to the cart", "purchase": "bought",
                "review": "reviewed"}


@dataclass(frozen=True)
class ExplainContext:
    """What explanations need from the fitted model (shared by every item of one request)."""

    catalog: Catalog
    vectors: np.ndarray | None
    similarity: sparse.csr_matrix
    keywords: Mapping[str, Sequence[str]]
    customers: np.ndarray
    stars: np.ndarray
    rating_count: np.ndarray
    has_vector: np.ndarray  # bool per item: False for items without an embedding


def components_dict(components: np.ndarray, rule_delta: float) -> dict[str, float]:
    """Named weighted components (rounded); `rules` appears only when a boost or bury applied."""
    named = {name: round(float(value), 6) for name, value in zip(COMPONENTS, components, strict=True)}
    if rule_delta:
        named[RULES_COMPONENT] = round(float(rule_delta), 6)
    return named


def closest_history(
    position: int, profile: UserProfile, context: ExplainContext, similarity: np.ndarray | None = None
) -> list[BecauseItem]:
    """1-3 liked history items closest to `position` (content cosine; co-occurrence without vectors).

    `similarity` may carry the precomputed cosines of the liked history items (in history order) to
    this item, so a list of k items costs one small matrix product.
    """
    liked = profile.history.liked
    if liked.size == 0:
        return []
    if similarity is not None:
        pass
    elif context.vectors is not None and context.has_vector[position]:
        similarity = context.vectors[liked] @ context.vectors[position]
    else:
        similarity = np.asarray(context.similarity[liked][:, position].todense()).ravel()
    order = np.argsort(-similarity, kind="stable")[:MAX_BECAUSE]
    values = similarity[order].tolist()
    keep = [row for row, value in enumerate(values) if value > 0] or [0]
    chosen = liked[order].tolist()
    item_ids = context.catalog.item_ids
    return [BecauseItem(item_ids[chosen[row]], round(values[row], 4)) for row in keep]


def history_similarities(positions: list[int], profile: UserProfile, context: ExplainContext) -> np.ndarray | None:
    """(liked history items, len(positions)) cosines, or None without vectors."""
    liked = profile.history.liked
    if context.vectors is None or liked.size == 0 or not positions:
        return None
    return context.vectors[liked] @ context.vectors[positions].T


def history_co_occurrence(positions: Sequence[int], profile: UserProfile, context: ExplainContext) -> np.ndarray:
    """(liked history items, len(positions)) item-item similarity, read from the CSR arrays.

    One sorted lookup per liked item for all listed items at once, instead of one per pair.
    """
    liked = profile.history.liked
    similarity = context.similarity
    targets = np.asarray(positions, dtype=np.int64)
    block = np.zeros((liked.size, targets.size), dtype=np.float64)
    if liked.size == 0 or targets.size == 0:
        return block
    for row, item in enumerate(liked.tolist()):
        start, stop = similarity.indptr[item], similarity.indptr[item + 1]
        if stop == start:
            continue
        indices = similarity.indices[start:stop]
        hits = np.minimum(np.searchsorted(indices, targets), stop - start - 1)
        found = indices[hits] == targets
        block[row, found] = similarity.data[start:stop][hits[found]]
    return block


def shared_keywords(item_id: str, because: Sequence[BecauseItem], keywords: Mapping[str, Sequence[str]]) -> list[str]:
    """Key phrases of the recommended item's reviews that also appear for the `because` items."""
    own = list(keywords.get(item_id, ()))
    if not own or not because:
        return []
    theirs = {phrase.lower() for entry in because for phrase in keywords.get(entry.item_id, ())}
    return [phrase for phrase in own if phrase.lower() in theirs][:MAX_KEYWORDS]


def explain(
    position: int,
    *,
    components: np.ndarray,
    rule_delta: float,
    rule_notes: Sequence[str],
    profile: UserProfile,
    context: ExplainContext,
    history_similarity: np.ndarray | None = None,
    history_co: np.ndarray | None = None,
) -> Explanation:
    """The explanation of one recommended item for one user.

    `history_similarity` and `history_co` may carry this item's column of `history_similarities`
    and `history_co_occurrence` (computed once for the whole list).
    """
    catalog = context.catalog
    item_id = catalog.item_ids[position]
    named = components_dict(components, rule_delta)
    because = closest_history(position, profile, context, history_similarity)
    phrases = shared_keywords(item_id, because, context.keywords)
    reason = _reason(position, named, because, phrases, list(rule_notes), profile, context, history_co)
    return Explanation(
        components=named, because=because, shared_keywords=phrases, rules=list(rule_notes), reason=reason
    )


def _title(catalog: Catalog, item_id: str) -> str:
    title = str(catalog.titles[catalog.positions[item_id]]).strip() or item_id
    return title if len(title) <= 60 else title[:57] + "..."


def _co_chosen_with(
    position: int, profile: UserProfile, context: ExplainContext, column: np.ndarray | None = None
) -> str:
    """The liked history item most often chosen together with `position` ('' when none is)."""
    liked = profile.history.liked
    if liked.size == 0:
        return ""
    if column is not None:
        # The first liked item with the largest positive similarity, as the loop below finds it.
        best_row = int(np.argmax(column)) if column.size else -1
        return context.catalog.item_ids[int(liked[best_row])] if best_row >= 0 and column[best_row] > 0 else ""
    similarity = context.similarity
    best, best_value = -1, 0.0
    for item in liked:
        start, stop = similarity.indptr[item], similarity.indptr[item + 1]
        hit = np.searchsorted(similarity.indices[start:stop], position)
        if hit < stop - start and similarity.indices[start + hit] == position:
            value = float(similarity.data[start + hit])
            if value > best_value:
                best, best_value = int(item), value
    return context.catalog.item_ids[best] if best >= 0 else ""


def _what_user_did(profile: UserProfile, item_id: str, catalog: Catalog) -> str:
    history = profile.history
    index = history.index_of.get(catalog.positions[item_id])
    if index is None:
        return ""
    rating = history.ratings[index]
    who = profile.user_id or "this customer"
    if not np.isnan(rating):
        return f"which {who} rated {rating:g} star{'' if rating == 1 else 's'}"
    code = int(history.events[index]) if history.events.size else 0
    verb = _EVENT_VERBS.get(EVENTS[code - 1], "chose") if 1 <= code <= len(EVENTS) else "chose"
    return f"which {who} {verb}"


def _reason(
    position: int,
    named: Mapping[str, float],
    because: Sequence[BecauseItem],
    phrases: Sequence[str],
    rule_notes: Sequence[str],
    profile: UserProfile,
    context: ExplainContext,
    history_co: np.ndarray | None = None,
) -> str:
    catalog = context.catalog
    base = {name: value for name, value in named.items() if name in COMPONENTS}
    dominant = max(base, key=lambda name: base[name]) if any(base.values()) else ""
    parts: list[str] = []
    if profile.source == "text" and dominant == "semantic":
        parts.append(f"Matches the interests typed for this customer (semantic {named['semantic']:.2f})")
    elif dominant == "collaborative" and (partner := _co_chosen_with(position, profile, context, history_co)):
        did = _what_user_did(profile, partner, catalog)
        parts.append(f"Often chosen together with '{_title(catalog, partner)}'" + (f", {did}" if did else ""))
    elif because and dominant in ("semantic", "collaborative", ""):
        first = because[0]
        did = _what_user_did(profile, first.item_id, catalog)
        parts.append(f"Close to '{_title(catalog, first.item_id)}' ({first.similarity:.2f})" + (f", {did}" if did else ""))
    elif dominant == "popularity":
        count = int(round(context.customers[position]))
        parts.append(f"Popular: {count} customer{'s' if count != 1 else ''} chose it")
    elif dominant == "quality":
        parts.append(
            f"Well rated: {context.stars[position]:.1f} stars on average over "
            f"{int(context.rating_count[position])} reviews"
        )
    elif dominant == "recency":
        parts.append("Trending: many customers chose it recently")
    elif because:
        parts.append(f"Close to '{_title(catalog, because[0].item_id)}' ({because[0].similarity:.2f})")
    else:
        parts.append("Recommended from the catalog's overall signals")
    if profile.history.size == 0 and profile.source != "text":
        parts.append("this customer has no history yet")
    if phrases:
        quoted = " and ".join(f"'{phrase}'" for phrase in phrases[:2])
        parts.append(f"reviewers of both mention {quoted}")
    if rule_notes:
        parts.append("rules: " + ", ".join(rule_notes))
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."
