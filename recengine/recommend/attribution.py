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
from json.encoder import encode_basestring

import numpy as np
from scipy import sparse

from recengine.recommend.catalog import Catalog
from recengine.recommend.interactions import EVENTS
from recengine.recommend.json_lines import ENTRY, Coded, contribution_lists_json, float_texts
from recengine.recommend.profile import UserProfile
from recengine.recommend.results import AttributionList, ComponentAttribution, Contribution
from recengine.recommend.scoring import COMPONENTS

MAX_CONTRIBUTIONS = 10  # listed per component at most; the rest is summed into `unlisted`
# Parts are listed, largest first, until they account for this share of their component: the smallest
# parts of a long history are summed instead of listed (they cost export size and time, and say little).
LIST_UNTIL = 0.95
_EVENT_VERBS = {"view": "viewed", "click": "clicked", "cart": "added to the cart", "purchase": "bought",
                "review": "reviewed"}
_COLLABORATIVE, _SEMANTIC = COMPONENTS.index("collaborative"), COMPONENTS.index("semantic")
_COMPONENT_TEXTS = {name: encode_basestring(name) for name in ("collaborative", "semantic")}


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


def history_links_of_lists(
    lists: Sequence[ListToExplain],
    *,
    collaborative: sparse.csr_matrix,
    vectors: np.ndarray | None,
    catalog: Catalog,
    method: str,
) -> list[HistoryLinks]:
    """Cosines and attributions of every product of every list, in one pass over all the lists.

    Every list's terms lie in one flat layout: per list, its 2k columns ([0, k) collaborative, [k, 2k)
    semantic) one after the other, each column's terms over the list's history in history order.

    Args:
        lists: the lists to explain (one list is a chunk of one).
        collaborative: the matrix the collaborative component scores with.
        vectors: unit item vectors, or None.
        catalog: for the history products' ids.
        method: the collaborative signal's name ("co-occurrence" or "EASE").
    """
    layout = _Layout.of(lists)
    # Per list (numpy calls that cannot be joined): its cosines, the interest that won for each product,
    # and the semantic terms (coefficient x cosine) when the interest is a combination of history vectors.
    cosines_of: list[np.ndarray | None] = []
    winners_of: list[list[int | None]] = []
    semantic_weights, semantic_links = [], []
    semantic_lists = np.zeros(len(lists), dtype=bool)
    for index, (item, start, count) in enumerate(zip(lists, layout.product_starts, layout.counts, strict=True)):
        profile = item.profile
        cosines = winners = None
        if vectors is not None and count:
            chosen = vectors[layout.targets[start : start + count]]
            if profile.history.size:
                cosines = vectors[profile.history.positions] @ chosen.T
            if layout.semantic_lists[index] and profile.has_interests:
                winners = (profile.interests @ chosen.T).argmax(axis=0)
        if winners is not None and cosines is not None and profile.composition is not None:
            # Column-major, as the layout: column c's terms over the history.
            semantic_links.append(cosines.T.ravel())
            semantic_weights.append(profile.composition[winners].ravel())
            semantic_lists[index] = True
        cosines_of.append(cosines)
        winners_of.append(winners.tolist() if winners is not None else [None] * count)
    terms = layout.terms
    weights, links = np.zeros(terms), np.zeros(terms)
    column_of_term, history_of_term = layout.term_columns()
    if semantic_links:
        filled = (layout.semantic_columns & semantic_lists[layout.list_of_column])[column_of_term]
        weights[filled] = np.concatenate(semantic_weights)
        links[filled] = np.concatenate(semantic_links)
    rows = _HistoryRows.of(lists, catalog)
    # The collaborative terms of all the lists: confidence x the matrix entry (history product, listed one).
    looked_up = np.flatnonzero(layout.looked_up[column_of_term])
    if looked_up.size:
        histories = history_of_term[looked_up]
        weights[looked_up] = rows.confidence[histories]
        links[looked_up] = matrix_entries(
            collaborative, rows.positions[histories], layout.column_targets[column_of_term[looked_up]]
        )
    split = _split(layout.values, weights, links, column_of_term, history_of_term, rows)
    return _history_links(lists, layout, split, cosines_of, winners_of, method)


@dataclass(frozen=True)
class _Layout:
    """Where each list's products, columns and terms lie in the flat layout (per column: the list it
    belongs to, its value, its listed product, its history's size and start)."""

    counts: list[int]  # per list: its products
    product_starts: list[int]  # per list: its first product among all the lists' products
    targets: np.ndarray  # all the lists' products, list after list
    semantic_lists: np.ndarray  # per list: some product has a semantic part
    values: np.ndarray  # per column: its weighted component
    column_targets: np.ndarray  # per column: its listed product
    semantic_columns: np.ndarray  # per column: a semantic one
    looked_up: np.ndarray  # per column: its terms are collaborative matrix entries x confidences
    list_of_column: np.ndarray
    column_sizes: np.ndarray  # per column: its list's history size (its terms)
    column_history_starts: np.ndarray  # per column: where its list's history begins among all histories

    @property
    def terms(self) -> int:
        return int(self.column_sizes.sum())

    @classmethod
    def of(cls, lists: Sequence[ListToExplain]) -> _Layout:
        counts = np.array([len(item.positions) for item in lists], dtype=np.int64)
        sizes = np.array([item.profile.history.size for item in lists], dtype=np.int64)
        product_starts = np.cumsum(counts) - counts
        history_starts = np.cumsum(sizes) - sizes
        parts = (
            np.concatenate([np.asarray(item.components, dtype=np.float64).reshape(-1, len(COMPONENTS)) for item in lists])
            if lists else np.zeros((0, len(COMPONENTS)))
        )
        targets = (
            np.concatenate([np.asarray(item.positions, dtype=np.int64) for item in lists])
            if lists else np.zeros(0, dtype=np.int64)
        )
        list_of_product = np.repeat(np.arange(len(lists)), counts)
        # Product q of list l is collaborative column start_l + q and semantic column start_l + k_l + q.
        collaborative_column = product_starts[list_of_product] + np.arange(targets.size)
        semantic_column = collaborative_column + counts[list_of_product]
        columns = 2 * targets.size
        values, column_targets = np.zeros(columns), np.zeros(columns, dtype=np.int64)
        values[collaborative_column] = parts[:, _COLLABORATIVE]
        values[semantic_column] = parts[:, _SEMANTIC]
        column_targets[collaborative_column] = column_targets[semantic_column] = targets
        semantic_columns = np.zeros(columns, dtype=bool)
        semantic_columns[semantic_column] = True
        list_of_column = np.repeat(np.arange(len(lists)), 2 * counts)

        def any_per_list(found: np.ndarray) -> np.ndarray:
            running = np.concatenate([[0], np.cumsum(found)])
            return running[product_starts + counts] > running[product_starts]

        collaborative_lists = any_per_list(parts[:, _COLLABORATIVE] != 0) & (sizes > 0)
        return cls(
            counts.tolist(), product_starts.tolist(), targets, any_per_list(parts[:, _SEMANTIC] != 0), values,
            column_targets, semantic_columns, ~semantic_columns & collaborative_lists[list_of_column], list_of_column,
            sizes[list_of_column], history_starts[list_of_column],
        )

    def term_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Per term: its column, and its history product's index among all the lists' histories."""
        sizes = self.column_sizes
        column = np.repeat(np.arange(sizes.size), sizes)
        offset = np.arange(column.size) - (np.cumsum(sizes) - sizes)[column]
        return column, self.column_history_starts[column] + offset


def _history_links(
    lists: Sequence[ListToExplain], layout: _Layout, split: _Split, cosines_of: list[np.ndarray | None],
    winners_of: list[list[int | None]], method: str,
) -> list[HistoryLinks]:
    """Each list's cosines and its products' attributions (records and JSON text) from the split."""
    entries = _Entries.of(layout, split)
    method_text = encode_basestring(method)
    found = []
    for item, cosines, won, start, count in zip(
        lists, cosines_of, winners_of, layout.product_starts, layout.counts, strict=True
    ):
        sources = _interest_sources(item.profile)
        source_texts = [encode_basestring(source) for source in sources]
        attributions: list[AttributionList] = []
        for column, winner in enumerate(won, start=start + start):  # the list's collaborative columns
            semantic_column = column + count
            collaborative_value, semantic_value = entries.values[column], entries.values[semantic_column]
            first = entries.entry(column, "collaborative", method, method_text, None) if collaborative_value else None
            second = (entries.entry(semantic_column, "semantic", sources[winner], source_texts[winner], winner)
                      if semantic_value and winner is not None else None)
            if first is not None and second is not None and semantic_value > collaborative_value:
                first, second = second, first  # the larger part first
            attributions.append(_attribution_list(first, second))
        found.append(HistoryLinks(cosines, attributions))
    return found


def _attribution_list(
    first: tuple[ComponentAttribution, str] | None, second: tuple[ComponentAttribution, str] | None
) -> AttributionList:
    """A product's attribution from its entries (record and text each; either may be missing)."""
    if first is None:
        first, second = second, None
    if first is None:
        return AttributionList.of([], "[]")
    if second is None:
        return AttributionList.of([first[0]], f"[{first[1]}]")
    return AttributionList.of([first[0], second[0]], f"[{first[1]}, {second[1]}]")


@dataclass(frozen=True)
class _Entries:
    """Makes each column's attribution entry: its record and its JSON text."""

    values: list[float]  # per column, rounded
    value_texts: list[str]
    split: _Split

    @classmethod
    def of(cls, layout: _Layout, split: _Split) -> _Entries:
        # Python numbers and their text once for all the lists (numpy scalars cost more than the work done with them).
        rounded = np.round(layout.values, 6)
        return cls(rounded.tolist(), float_texts(rounded).tolist(), split)

    def entry(
        self, column: int, component: str, source: str, source_text: str, interest: int | None
    ) -> tuple[ComponentAttribution, str]:
        value, value_text, split = self.values[column], self.value_texts[column], self.split
        slot = split.slot_of_column[column]
        if slot < 0:  # nothing to split: all of it is unlisted
            listed, rest, listed_text, rest_text = [], value, "", value_text
        else:
            listed, rest = split.contributions[slot], split.unlisted[slot]
            listed_text, rest_text = split.contributions_json[slot], split.unlisted_json[slot]
        text = ENTRY % (_COMPONENT_TEXTS[component], value_text, source_text, listed_text, rest_text,
                        "null" if interest is None else interest)
        return ComponentAttribution.of(component, value, source, listed, rest, interest), text


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
) -> _Split:
    """Each column's value split in proportion to its weights x links, largest parts first.

    The terms are laid out as `history_links_of_lists` says: column after column (`column_of_term`),
    each over its list's history in history order (`history_of_term`: the product's index in `rows`).
    A column lists its parts until they cover `LIST_UNTIL` of its value (at most MAX_CONTRIBUTIONS);
    the rest is returned as one sum. Columns whose value or terms are all 0 are left out.
    """
    columns = values.size
    if columns == 0:
        return _Split.none(columns)
    history_sizes = np.bincount(column_of_term, minlength=columns)
    terms = weights * links
    # bincount adds each column's terms in history order, as a sum over the history axis does.
    totals = np.bincount(column_of_term, weights=terms, minlength=columns)
    kept = (values != 0) & (totals != 0)
    kept_columns = np.flatnonzero(kept)
    if kept_columns.size == 0:
        return _Split.none(columns)
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
    amounts = np.round(picked[listed], 6)
    listed_weights = np.round(weights[listed_terms], 6)
    listed_links = np.round(links[listed_terms], 6)
    disliked = rows.disliked[history_rows]
    # Ids and actions coded (a chunk's contributions name a few thousand distinct products, a few actions).
    distinct_positions, id_index = np.unique(rows.positions[history_rows], return_inverse=True)
    item_ids = rows.item_ids
    ids = Coded([item_ids[position] for position in distinct_positions.tolist()], id_index.ravel())
    actions = _actions(rows, history_rows)
    contributions = Contribution.many(
        ids.values(), amounts.tolist(), listed_weights.tolist(), listed_links.tolist(), disliked.tolist(),
        actions.values(),
    )
    count_list = counts.tolist()
    ends = np.cumsum(counts).tolist()
    remainders = np.round(rest, 6)
    slot_of_column = np.full(columns, -1, dtype=np.int64)
    slot_of_column[kept_columns] = np.arange(kept_columns.size)
    return _Split(
        slot_of_column.tolist(),
        [contributions[end - count : end] for end, count in zip(ends, count_list, strict=True)],
        remainders.tolist(),
        contribution_lists_json(count_list, ids, amounts, listed_weights, listed_links, disliked, actions),
        float_texts(remainders).tolist(),
    )


@dataclass(frozen=True)
class _Split:
    """The split of every column: per kept column (its slot), its contributions, the rest of its value
    and the JSON text of both (`json_lines.contribution_lists_json`, without brackets)."""

    slot_of_column: list[int]  # -1 for a column that is not kept
    contributions: list[list[Contribution]]
    unlisted: list[float]
    contributions_json: list[str]
    unlisted_json: list[str]

    @classmethod
    def none(cls, columns: int) -> _Split:
        return cls([-1] * columns, [], [], [], [])


def _actions(rows: _HistoryRows, history_rows: np.ndarray) -> Coded:
    """`_action` of the history products at `history_rows`, phrased once per distinct (rating, event)."""
    phrases: dict[tuple[float | None, int], int] = {}
    of_row = []
    for rating, event in zip(rows.ratings.tolist(), rows.events.tolist(), strict=True):
        key = (rating if rating == rating else None, event)  # NaN (unrated) never equals itself as a key
        if (code := phrases.get(key)) is None:
            code = phrases[key] = len(phrases)
        of_row.append(code)
    distinct = [_action(float("nan") if rating is None else rating, event) for rating, event in phrases]
    return Coded(distinct, np.array(of_row, dtype=np.int64)[history_rows] if of_row else np.zeros(0, dtype=np.int64))


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
