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

The split of many lists (a chunk of a batch export) is computed together: every (history product,
listed product, component) term of every list lies in one flat array, so the lookups, sums, sorts and
roundings are a few numpy calls per chunk instead of per list. One list is a chunk of one, so a list
gets the same numbers whichever way it is explained.
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
_COLLABORATIVE, _SEMANTIC = COMPONENTS.index("collaborative"), COMPONENTS.index("semantic")


@dataclass(frozen=True)
class ListToExplain:
    """One ranked list whose personal components are split: the listed products, their weighted
    components (len(positions), len(COMPONENTS)) and the customer's profile."""

    positions: Sequence[int] | np.ndarray
    components: np.ndarray
    profile: UserProfile


@dataclass(frozen=True)
class HistoryLinks:
    """What the explanations of one list read from the customer's history, computed once per request.

    `cosines` rows follow the history order, columns the listed products; `attribution[column]` holds
    that product's split components.
    """

    cosines: np.ndarray | None  # (history, k) content cosines; None without item vectors
    attribution: list[list[ComponentAttribution]]


def matrix_entries(matrix: sparse.csr_matrix, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """`matrix[rows[i], columns[i]]` for every i (0 where nothing is stored), as float64.

    A binary search of each row's sorted column indices, all pairs at once: about log2(longest row)
    vectorised steps over the pairs, whatever the rows hold (reading the rows' stored entries instead
    costs their length, thousands per popular product). Sorts the matrix's indices in place when they
    are not sorted (the same matrix; `Recommender` sorts them once before workers fork).
    """
    if not matrix.has_sorted_indices:
        matrix.sort_indices()
    rows = np.asarray(rows, dtype=np.int64)
    targets = np.asarray(columns, dtype=np.int64)
    found = np.zeros(rows.size, dtype=np.float64)
    if rows.size == 0 or matrix.nnz == 0:
        return found
    low = matrix.indptr[rows].astype(np.int64)
    end = matrix.indptr[rows + 1].astype(np.int64)
    high = end.copy()
    indices = matrix.indices
    last = indices.size - 1
    while True:
        active = low < high
        if not active.any():
            break
        middle = (low + high) >> 1
        below = indices[np.minimum(middle, last)] < targets
        low = np.where(active & below, middle + 1, low)
        high = np.where(active & ~below, middle, high)
    hit = low < end
    hit[hit] = indices[low[hit]] == targets[hit]
    found[hit] = matrix.data[low[hit]]
    return found


@dataclass
class _Terms:
    """Every list's terms laid out flat: per list, its 2k columns ([0, k) collaborative, [k, 2k)
    semantic) one after the other, each column's terms over the list's history in history order."""

    weights: list[np.ndarray]
    links: list[np.ndarray]
    values: list[np.ndarray]
    targets: list[np.ndarray]  # per list: its listed products
    history_sizes: list[int]  # per column
    history_starts: list[int]  # per column: where its list's history begins among all the lists' histories
    looked_up: list[bool]  # per column: its links are collaborative matrix entries, its weights confidences
    histories: int = 0  # history products laid out so far

    def term_history(self) -> tuple[np.ndarray, np.ndarray]:
        """Per term: its column, and its history product's index among all the lists' histories."""
        sizes = np.asarray(self.history_sizes, dtype=np.int64)
        column = np.repeat(np.arange(sizes.size), sizes)
        offset = np.arange(column.size) - (np.cumsum(sizes) - sizes)[column]
        return column, np.asarray(self.history_starts, dtype=np.int64)[column] + offset


def history_links_of_lists(
    lists: Sequence[ListToExplain],
    *,
    collaborative: sparse.csr_matrix,
    vectors: np.ndarray | None,
    catalog: Catalog,
    method: str,
) -> list[HistoryLinks]:
    """Cosines and attributions of every product of every list, in one pass over all the lists.

    Args:
        lists: the lists to explain (one list is a chunk of one).
        collaborative: the matrix the collaborative component scores with.
        vectors: unit item vectors, or None.
        catalog: for the history products' ids.
        method: the collaborative signal's name ("co-occurrence" or "EASE").
    """
    terms = _Terms([], [], [], [], [], [], [])
    cosines_of: list[np.ndarray | None] = []
    winners_of: list[list[int | None]] = []
    for item in lists:
        cosines, winners = _lay_out(item, vectors, terms)
        cosines_of.append(cosines)
        winners_of.append(winners)
    weights = np.concatenate(terms.weights) if terms.weights else np.zeros(0)
    links = np.concatenate(terms.links) if terms.links else np.zeros(0)
    values = np.concatenate(terms.values) if terms.values else np.zeros(0)
    rows = _HistoryRows.of(lists, catalog)
    column_of_term, history_of_term = terms.term_history()
    # The collaborative terms of all the lists: confidence x the matrix entry (history product, listed one).
    looked_up = np.flatnonzero(np.asarray(terms.looked_up, dtype=bool)[column_of_term])
    if looked_up.size:
        histories = history_of_term[looked_up]
        # Column c of a list of k products stands for its product c % k (collaborative columns, then semantic).
        column_targets = np.concatenate([part for listed in terms.targets for part in (listed, listed)])
        targets = column_targets[column_of_term[looked_up]]
        weights[looked_up] = rows.confidence[histories]
        links[looked_up] = matrix_entries(collaborative, rows.positions[histories], targets)
    split = _split(values, weights, links, column_of_term, history_of_term, rows)
    # Python numbers once for all the lists (numpy scalars cost more than the work done with them).
    rounded = np.round(values, 6).tolist()
    found = []
    column_start = 0
    for item, cosines, won in zip(lists, cosines_of, winners_of, strict=True):
        count = len(won)
        sources = _interest_sources(item.profile)
        attributions: list[list[ComponentAttribution]] = []
        for column in range(count):
            entries = []
            collaborative_column, semantic_column = column_start + column, column_start + count + column
            collaborative_value, semantic_value = rounded[collaborative_column], rounded[semantic_column]
            if collaborative_value:
                listed, rest = split.get(collaborative_column, ([], collaborative_value))
                entries.append(ComponentAttribution.of("collaborative", collaborative_value, method, listed, rest))
            winner = won[column]
            if semantic_value and winner is not None:
                listed, rest = split.get(semantic_column, ([], semantic_value))
                entries.append(
                    ComponentAttribution.of("semantic", semantic_value, sources[winner], listed, rest, winner)
                )
            if len(entries) == 2 and semantic_value > collaborative_value:
                entries.reverse()
            attributions.append(entries)
        found.append(HistoryLinks(cosines, attributions))
        column_start += 2 * count
    return found


def _lay_out(item: ListToExplain, vectors: np.ndarray | None, terms: _Terms) -> tuple[np.ndarray | None, list[int | None]]:
    """Append one list's weights, links (the collaborative ones to look up) and values to `terms`;
    returns its (history, k) cosines and the interest that won for each listed product."""
    profile = item.profile
    history = profile.history
    targets = np.asarray(item.positions, dtype=np.int64)
    count, size = targets.size, history.size
    parts = np.asarray(item.components, dtype=np.float64).reshape(count, len(COMPONENTS))
    collaborative_values = parts[:, _COLLABORATIVE]
    semantic_values = parts[:, _SEMANTIC]
    cosines = winners = None
    if vectors is not None and count:
        chosen = vectors[targets]
        if size:
            cosines = vectors[history.positions] @ chosen.T
        if profile.has_interests and semantic_values.any():
            winners = np.argmax(profile.interests @ chosen.T, axis=0)
    # Column-major: row c of these blocks is column c's terms over the history. The collaborative ones
    # are filled for all the lists at once (`history_links_of_lists`).
    weights = np.zeros((2 * count, size))
    links = np.zeros((2 * count, size))
    collaborative = bool(size) and bool(collaborative_values.any())
    if winners is not None and cosines is not None and profile.composition is not None:
        links[count:] = cosines.T
        weights[count:] = profile.composition[winners]
    terms.weights.append(weights.ravel())
    terms.links.append(links.ravel())
    terms.values.append(np.concatenate([collaborative_values, semantic_values]))
    terms.targets.append(targets)
    terms.history_sizes.extend([size] * (2 * count))
    terms.history_starts.extend([terms.histories] * (2 * count))
    terms.looked_up.extend([collaborative] * count + [False] * count)
    terms.histories += size
    return cosines, winners.tolist() if winners is not None else [None] * count


def _interest_sources(profile: UserProfile) -> list[str]:
    """How each interest vector is named in a semantic attribution."""
    if profile.composition is None:
        return ["the interests typed for this customer"] * profile.interests.shape[0]
    count = profile.interests.shape[0]
    return [f"interest {index + 1} of {count}" for index in range(count)]


@dataclass(frozen=True)
class _HistoryRows:
    """The history products of all the lists, one after the other (per list, in history order):
    what a contribution names about each (id, whether disliked, rating and event)."""

    item_ids: list[str]  # the catalog's, by position
    positions: np.ndarray
    confidence: np.ndarray
    disliked: np.ndarray
    ratings: np.ndarray
    events: np.ndarray

    @classmethod
    def of(cls, lists: Sequence[ListToExplain], catalog: Catalog) -> _HistoryRows:
        histories = [item.profile.history for item in lists]

        def joined(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype=dtype)

        return cls(
            catalog.item_ids,
            joined([history.positions for history in histories], np.int64),
            joined([history.confidence for history in histories], np.float64),
            joined([history.affinity < 0 for history in histories], bool),
            joined([history.ratings for history in histories], np.float64),
            joined([history.events if history.events.size else np.zeros(history.size) for history in histories],
                   np.int64),
        )


def _split(
    values: np.ndarray, weights: np.ndarray, links: np.ndarray, column_of_term: np.ndarray,
    history_of_term: np.ndarray, rows: _HistoryRows,
) -> dict[int, tuple[list[Contribution], float]]:
    """Each column's value split in proportion to its weights x links, largest parts first.

    The terms are laid out as `_Terms` says: column after column (`column_of_term`), each over its list's
    history in history order (`history_of_term`: the product's index in `rows`). A column
    lists its parts until they cover `LIST_UNTIL` of its value (at most MAX_CONTRIBUTIONS); the rest is
    returned as one sum. Columns whose value or terms are all 0 are left out.
    """
    columns = values.size
    if columns == 0:
        return {}
    history_sizes = np.bincount(column_of_term, minlength=columns)
    terms = weights * links
    # bincount adds each column's terms in history order, as a sum over the history axis does.
    totals = np.bincount(column_of_term, weights=terms, minlength=columns)
    kept = (values != 0) & (totals != 0)
    kept_columns = np.flatnonzero(kept)
    if kept_columns.size == 0:
        return {}
    scale = np.zeros(columns)
    scale[kept_columns] = values[kept_columns] / totals[kept_columns]
    chosen = np.flatnonzero(kept[column_of_term])
    owner = column_of_term[chosen]
    amounts = terms[chosen] * scale[owner]
    # Largest part first within each column; ties stay in history order (lexsort is stable).
    order = np.lexsort((-np.abs(amounts), owner))
    sizes = history_sizes[kept_columns]
    rank = np.arange(chosen.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    depths = np.minimum(MAX_CONTRIBUTIONS, sizes)
    slot = np.repeat(np.arange(kept_columns.size), sizes)
    top = rank < depths[slot]
    # The largest parts of each column in a (column, MAX_CONTRIBUTIONS) table, 0 past its depth (which
    # leaves the running sums and the counts below as they would be without the padding).
    picked = np.zeros((kept_columns.size, MAX_CONTRIBUTIONS))
    picked[slot[top], rank[top]] = amounts[order][top]
    term_at = np.zeros((kept_columns.size, MAX_CONTRIBUTIONS), dtype=np.int64)
    term_at[slot[top], rank[top]] = chosen[order][top]
    target = values[kept_columns]
    running = np.cumsum(picked, axis=1)
    enough = np.abs(target[:, None] - running) <= (1.0 - LIST_UNTIL) * np.abs(target)[:, None]
    first = enough.argmax(axis=1)
    index = np.arange(kept_columns.size)
    counts = np.minimum(np.where(enough[index, first], first + 1, depths), np.count_nonzero(picked, axis=1))
    # Some term is not 0 in every kept column, so counts >= 1.
    rest = target - running[index, counts - 1]
    listed = np.arange(MAX_CONTRIBUTIONS)[None, :] < counts[:, None]
    listed_terms = term_at[listed]  # column by column, largest first
    history_rows = history_of_term[listed_terms]
    # One rounding and one conversion for all the lists, not one per contribution.
    amount_list = np.round(picked[listed], 6).tolist()
    weight_list = np.round(weights[listed_terms], 6).tolist()
    link_list = np.round(links[listed_terms], 6).tolist()
    position_list = rows.positions[history_rows].tolist()
    disliked_list = rows.disliked[history_rows].tolist()
    actions: dict[tuple[float | None, int], str] = {}  # few distinct (rating, event) pairs: each phrased once
    action_list = []
    for rating, event in zip(rows.ratings[history_rows].tolist(), rows.events[history_rows].tolist(), strict=True):
        key = (rating if rating == rating else None, event)  # NaN (unrated) never equals itself as a key
        if (action := actions.get(key)) is None:
            action = actions[key] = _action(rating, event)
        action_list.append(action)
    item_ids = rows.item_ids
    contributions = [
        Contribution.of(item_ids[position], amount, weight, link, disliked, action)
        for position, amount, weight, link, disliked, action in zip(
            position_list, amount_list, weight_list, link_list, disliked_list, action_list, strict=True
        )
    ]
    split = {}
    start = 0
    for column, count, remainder in zip(kept_columns.tolist(), counts.tolist(), np.round(rest, 6).tolist(), strict=True):
        split[column] = (contributions[start : start + count], remainder)
        start += count
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
