"""Attribution: the personal score components split over the history products that produced them.

Both personal components are linear in the history before their normalisation, so the split is exact:

- collaborative = w x clip(sum_h c_h M[h, j] / norm, 0, 1), with c_h the history product's confidence,
  M the matrix the CollaborativeScorer scores with (co-occurrence or EASE, `Recommender.collaborative`)
  and norm the customer's best unseen raw score. Product h's part is the component x c_h M[h, j] /
  sum_h c_h M[h, j]: exactly w x c_h M[h, j] / norm when the clip does not bite, and scaled down with
  the component when it does (a seen item, or a norm taken over fewer items).
- semantic = w x clip(u . v_j / norm, 0, 1) with u the interest that won (the best cosine). u is a
  combination of history vectors (`UserProfile.composition`: liked members with positive
  coefficients, disliked products pushing it away with negative ones), so u . v_j = sum_h a_h (x_h .
  v_j) and product h's part is the component x a_h (x_h . v_j) / sum_h a_h (x_h . v_j).

Either way the parts add up to the component (before rounding to 6 decimals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from recengine.recommend.catalog import Catalog
from recengine.recommend.interactions import EVENTS
from recengine.recommend.profile import UserProfile
from recengine.recommend.results import ComponentAttribution, Contribution

MAX_CONTRIBUTIONS = 10  # listed per component; the rest is summed into `unlisted`
_EVENT_VERBS = {"view": "viewed", "click": "clicked", "cart": "added to the cart", "purchase": "bought",
                "review": "reviewed"}


@dataclass(frozen=True)
class HistoryLinks:
    """What attribution reads for a list of recommended products, gathered once per request.

    Rows follow the customer's history order, columns the products of `positions`.
    """

    collaborative: np.ndarray  # (history, k): each history product's entry in the scorer's matrix
    cosines: np.ndarray | None  # (history, k) content cosines; None without item vectors
    interests: np.ndarray | None  # (interests, k) cosines of each interest vector; None without interests


def matrix_block(matrix: sparse.csr_matrix, rows: np.ndarray, columns: Sequence[int] | np.ndarray) -> np.ndarray:
    """Dense (len(rows), len(columns)) entries of a CSR matrix, read from its arrays in one vectorised pass.

    Costs the stored entries of the rows, not rows x columns lookups; `columns` must be distinct.
    """
    rows = np.asarray(rows, dtype=np.int64)
    targets = np.asarray(columns, dtype=np.int64)
    block = np.zeros((rows.size, targets.size), dtype=np.float64)
    if rows.size == 0 or targets.size == 0:
        return block
    starts, stops = matrix.indptr[rows], matrix.indptr[rows + 1]
    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return block
    # Index of every stored entry of the chosen rows, without a Python loop over rows.
    ends = np.cumsum(lengths)
    gather = np.arange(total) + np.repeat(starts - (ends - lengths), lengths)
    owner = np.repeat(np.arange(rows.size), lengths)
    order = np.argsort(targets, kind="stable")
    ordered = targets[order]
    indices = matrix.indices[gather]
    hits = np.minimum(np.searchsorted(ordered, indices), ordered.size - 1)
    found = ordered[hits] == indices
    block[owner[found], order[hits[found]]] = matrix.data[gather[found]]
    return block


def history_links(
    positions: Sequence[int], profile: UserProfile, collaborative: sparse.csr_matrix, vectors: np.ndarray | None
) -> HistoryLinks:
    """The collaborative entries and content cosines between a customer's history and `positions`."""
    history = profile.history
    targets = np.asarray(positions, dtype=np.int64)
    block = matrix_block(collaborative, history.positions, targets)
    cosines = interests = None
    if vectors is not None and targets.size:
        chosen = vectors[targets]
        if history.size:
            cosines = vectors[history.positions] @ chosen.T
        if profile.has_interests:
            interests = profile.interests @ chosen.T
    return HistoryLinks(block, cosines, interests)


def collaborative_attribution(
    value: float, links: np.ndarray, profile: UserProfile, catalog: Catalog, method: str
) -> ComponentAttribution | None:
    """The collaborative component split over the history (`links`: this product's column of the block)."""
    if not value:
        return None
    history = profile.history
    terms = history.confidence * links
    return ComponentAttribution(
        "collaborative", round(value, 6), method, *_split(value, terms, history.confidence, links, profile, catalog)
    )


def semantic_attribution(
    value: float, interest_cosines: np.ndarray | None, cosines: np.ndarray | None, profile: UserProfile,
    catalog: Catalog,
) -> ComponentAttribution | None:
    """The semantic component: the interest that won, split over the history products it is made of."""
    if not value or interest_cosines is None:
        return None
    winner = int(np.argmax(interest_cosines))
    if profile.composition is None or cosines is None:
        source = "the interests typed for this customer" if profile.source == "text" else "interest vector"
        return ComponentAttribution("semantic", round(value, 6), source, [], round(value, 6), winner)
    count = profile.interests.shape[0]
    share = float(profile.interest_weights[winner]) if profile.interest_weights.size > winner else 1.0
    source = f"interest {winner + 1} of {count} ({share:.0%} of the liked history)"
    weights = profile.composition[winner]
    terms = weights * cosines
    contributions, unlisted = _split(value, terms, weights, cosines, profile, catalog)
    return ComponentAttribution("semantic", round(value, 6), source, contributions, unlisted, winner)


def _split(
    value: float, terms: np.ndarray, weights: np.ndarray, links: np.ndarray, profile: UserProfile, catalog: Catalog
) -> tuple[list[Contribution], float]:
    """`value` split in proportion to `terms` (one per history product): the largest parts, and the rest."""
    total = float(terms.sum())
    if not total:
        return [], round(value, 6)
    amounts = value * terms / total
    nonzero = np.flatnonzero(amounts)
    order = nonzero[np.argsort(-np.abs(amounts[nonzero]), kind="stable")]
    listed = order[:MAX_CONTRIBUTIONS]
    history = profile.history
    contributions = [
        Contribution(
            item_id=catalog.item_ids[int(history.positions[row])],
            amount=round(float(amounts[row]), 6),
            weight=round(float(weights[row]), 6),
            link=round(float(links[row]), 6),
            rating=None if np.isnan(history.ratings[row]) else float(history.ratings[row]),
            disliked=bool(history.affinity[row] < 0),
            action=history_action(profile, int(row)),
        )
        for row in listed.tolist()
    ]
    return contributions, round(float(amounts[order[MAX_CONTRIBUTIONS:]].sum()), 6)


def history_action(profile: UserProfile, row: int) -> str:
    """What the customer did with their history product at `row`: 'rated 2 stars', 'bought', ..."""
    history = profile.history
    rating = history.ratings[row]
    if not np.isnan(rating):
        return f"rated {rating:g} star{'' if rating == 1 else 's'}"
    code = int(history.events[row]) if history.events.size else 0
    return _EVENT_VERBS.get(EVENTS[code - 1], "chose") if 1 <= code <= len(EVENTS) else "chose"
