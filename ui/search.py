"""Streamlit glue of the Search tab: the intent read from the query as removable chips, and the hits."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from recengine.recommend import Recommender
from recengine.recommend.intent import QueryIntent
from recengine.recommend.search import SearchResponse
from ui.common import escape_markdown


def constraint_chips(intent: QueryIntent, key: str) -> QueryIntent:
    """Show what was read from the query as chips (all on); a chip clicked off drops that constraint.

    Returns the intent less the constraints switched off. Filters (price, rating, exclusions) and boosts
    (a category or brand named) are told apart by their icon.
    """
    st.caption(f"Looking for: **{escape_markdown(intent.free_text or 'anything')}**")
    if not intent.constraints:
        return intent
    options = list(range(len(intent.constraints)))
    kept = st.pills(
        "Read from the query (click a chip to drop it)",
        options,
        selection_mode="multi",
        default=options,
        format_func=lambda index: _chip(intent, index),
        key=key,
        help="Price, rating and exclusions filter the results; a category or brand named lifts its products.",
    )
    dropped = [constraint for index, constraint in enumerate(intent.constraints) if index not in set(kept or [])]
    return intent.without(dropped)


def _chip(intent: QueryIntent, index: int) -> str:
    constraint = intent.constraints[index]
    icon = ":material/filter_alt:" if constraint.hard else ":material/trending_up:"
    return f"{icon} {constraint.label}"


def results_table(
    model: Recommender, response: SearchResponse, item_label: Callable[[Recommender, str], str]
) -> dict[str, list[object]]:
    """The columns of the results table; 'constraints' says what each result meets (and misses)."""
    hits = response.results
    table: dict[str, list[object]] = {
        "rank": [hit.rank for hit in hits],
        "product": [item_label(model, hit.item_id) for hit in hits],
        "score": [hit.score for hit in hits],
        "query match": [hit.query for hit in hits],
        "customer taste": [hit.personal for hit in hits],
    }
    if response.intent.constraints:
        table["constraints"] = [hit.reason for hit in hits]
    return table
