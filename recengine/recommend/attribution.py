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
from recengine.recommend.scoring import COMPONENTS

MAX_CONTRIBUTIONS = 10  # listed per component at most; the rest is summed into `unlisted`
# Parts are listed, largest first, until they account for this share of their component: the smallest
# parts of a long history are summed instead of listed (they cost export size and time, and say little).
LIST_UNTIL = 0.95
_EVENT_VERBS = {"view": "viewed", "click": "clicked", "cart": "added to the cart", "purchase": "bought",
                "review": "reviewed"}


@dataclass(frozen=True)
class HistoryLinks:
    """What the explanations of one list read from the customer's history, computed once per request.

    `cosines` rows follow the history order, columns the listed products; `attribution[column]` holds
    that product's split components.
    """

    cosines: np.ndarray | None  # (history, k) content cosines; None without item vectors
    attribution: list[list[ComponentAttribution]]


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
    positions: Sequence[int],
    components: np.ndarray,
    profile: UserProfile,
    *,
    collaborative: sparse.csr_matrix,
    vectors: np.ndarray | None,
    catalog: Catalog,
    method: str,
) -> HistoryLinks:
    """Cosines and attributions of the listed products, vectorised over the list.

    Args:
        positions: the listed products.
        components: their weighted components, (len(positions), len(COMPONENTS)).
        profile: the customer's profile (its history and interests).
        collaborative: the matrix the collaborative component scores with.
        vectors: unit item vectors, or None.
        catalog: for the history products' ids.
        method: the collaborative signal's name ("co-occurrence" or "EASE").
    """
    history = profile.history
    targets = np.asarray(positions, dtype=np.int64)
    count = targets.size
    parts = np.asarray(components, dtype=np.float64).reshape(count, len(COMPONENTS))
    collaborative_values = parts[:, COMPONENTS.index("collaborative")]
    semantic_values = parts[:, COMPONENTS.index("semantic")]
    cosines = winners = None
    if vectors is not None and count:
        chosen = vectors[targets]
        if history.size:
            cosines = vectors[history.positions] @ chosen.T
        if profile.has_interests and semantic_values.any():
            winners = np.argmax(profile.interests @ chosen.T, axis=0)
    # Both components of every listed product split in one pass: columns [0, k) collaborative, [k, 2k)
    # semantic (the numpy calls cost more than their arithmetic at this size).
    weights = np.zeros((history.size, 2 * count))
    links = np.zeros((history.size, 2 * count))
    if history.size and collaborative_values.any():
        links[:, :count] = matrix_block(collaborative, history.positions, targets)
        weights[:, :count] = history.confidence[:, None]
    if winners is not None and cosines is not None and profile.composition is not None:
        links[:, count:] = cosines
        weights[:, count:] = profile.composition[winners].T
    values = np.concatenate([collaborative_values, semantic_values])
    split = _split(values, weights, links, _HistoryRows.of(profile, catalog))
    # Python numbers once for the whole list (numpy scalars cost more than the work done with them).
    rounded = np.round(values, 6).tolist()
    won = winners.tolist() if winners is not None else [None] * count
    sources = _interest_sources(profile)
    found: list[list[ComponentAttribution]] = []
    for column in range(count):
        entries = []
        collaborative_value, semantic_value = rounded[column], rounded[count + column]
        if collaborative_value:
            listed, rest = split.get(column, ([], collaborative_value))
            entries.append(ComponentAttribution.of("collaborative", collaborative_value, method, listed, rest))
        winner = won[column]
        if semantic_value and winner is not None:
            listed, rest = split.get(count + column, ([], semantic_value))
            entries.append(ComponentAttribution.of("semantic", semantic_value, sources[winner], listed, rest, winner))
        if len(entries) == 2 and semantic_value > collaborative_value:
            entries.reverse()
        found.append(entries)
    return HistoryLinks(cosines, found)


def _interest_sources(profile: UserProfile) -> list[str]:
    """How each interest vector is named in a semantic attribution."""
    if profile.composition is None:
        return ["the interests typed for this customer"] * profile.interests.shape[0]
    count = profile.interests.shape[0]
    return [f"interest {index + 1} of {count}" for index in range(count)]


@dataclass(frozen=True)
class _HistoryRows:
    """Per history product, what a contribution names: id, whether disliked, what the customer did."""

    item_ids: list[str]
    disliked: list[bool]
    actions: list[str]

    @classmethod
    def of(cls, profile: UserProfile, catalog: Catalog) -> _HistoryRows:
        history = profile.history
        item_ids = catalog.item_ids
        events = history.events.tolist() if history.events.size else [0] * history.size
        return cls(
            [item_ids[position] for position in history.positions.tolist()],
            (history.affinity < 0).tolist(),
            [_action(rating, int(event)) for rating, event in zip(history.ratings.tolist(), events, strict=True)],
        )


def _split(
    values: np.ndarray, weights: np.ndarray, links: np.ndarray, rows: _HistoryRows
) -> dict[int, tuple[list[Contribution], float]]:
    """Each column's value split in proportion to weights x links (history x columns), largest parts first.

    A column lists its parts until they cover `LIST_UNTIL` of its value (at most MAX_CONTRIBUTIONS);
    the rest is returned as one sum. Columns whose value or terms are all 0 are left out.
    """
    terms = weights * links
    totals = terms.sum(axis=0)
    columns = np.flatnonzero((values != 0) & (totals != 0))
    if columns.size == 0:
        return {}
    target = values[columns]
    amounts = terms[:, columns] * (target / totals[columns])
    depth = min(MAX_CONTRIBUTIONS, amounts.shape[0])
    order = np.argsort(-np.abs(amounts), axis=0, kind="stable")[:depth]
    index = np.arange(columns.size)
    picked = amounts[order, index]
    running = np.cumsum(picked, axis=0)
    enough = np.abs(target - running) <= (1.0 - LIST_UNTIL) * np.abs(target)
    first = enough.argmax(axis=0)
    counts = np.minimum(np.where(enough[first, index], first + 1, depth), np.count_nonzero(picked, axis=0))
    # Some term is not 0 in every kept column, so counts >= 1.
    rest = target - running[counts - 1, index]
    # One rounding and one conversion for the whole list, not one per contribution.
    stacked = np.round(np.stack([picked, weights[order, columns], links[order, columns]]), 6).transpose(0, 2, 1)
    amount_rows, weight_rows, link_rows = stacked.tolist()
    order_rows, counts, rest = order.T.tolist(), counts.tolist(), np.round(rest, 6).tolist()
    item_ids, disliked, actions = rows.item_ids, rows.disliked, rows.actions
    split = {}
    for slot, column in enumerate(columns.tolist()):
        chosen, amount, weight, link = order_rows[slot], amount_rows[slot], weight_rows[slot], link_rows[slot]
        split[column] = (
            [
                Contribution.of(item_ids[row], amount[index], weight[index], link[index], disliked[row], actions[row])
                for index, row in enumerate(chosen[: counts[slot]])
            ],
            rest[slot],
        )
    return split


def _action(rating: float, event: int) -> str:
    """What a customer did with a history product: 'rated 2 stars', 'bought', ... (event codes: EVENTS)."""
    if rating == rating:  # not NaN
        return f"rated {rating:g} star{'' if rating == 1 else 's'}"
    return _EVENT_VERBS.get(EVENTS[event - 1], "chose") if 1 <= event <= len(EVENTS) else "chose"


def attribution_text(attribution: Sequence[ComponentAttribution], *, limit: int | None = None, digits: int = 6) -> str:
    """One line for tables and CSV: 'collaborative: J3 0.166944, J2 0.131231 (disliked); semantic: J1 0.075777'.

    Args:
        limit: products shown per component (all listed when None); the rest is summed as 'other'.
        digits: decimals of the parts.
    """
    sections = []
    for entry in attribution:
        shown = entry.contributions if limit is None else entry.contributions[:limit]
        rest = entry.unlisted + sum(part.amount for part in entry.contributions[len(shown):])
        parts = [f"{part.item_id} {part.amount:.{digits}f}" + (" (disliked)" if part.disliked else "") for part in shown]
        if round(rest, digits):
            parts.append(f"other {rest:.{digits}f}")
        sections.append(f"{entry.component}: " + ", ".join(parts))
    return "; ".join(sections)
