"""The exact texts embedded for the items and reviews of a workspace."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pandas as pd

from recengine.embed.templates import parse_template

if TYPE_CHECKING:
    from recengine.workspace import Workspace

log = logging.getLogger(__name__)

KEYWORDS_FIELD = "keywords"
KEYWORDS_PER_ITEM = 8


def item_texts(workspace: Workspace) -> tuple[list[str], list[str]]:
    """(item ids, texts) of every item, in item id order, rendered with `embed.item_template`."""
    items = workspace.items()
    template_source = workspace.settings.embed.item_template
    allowed = set(items.columns) | {KEYWORDS_FIELD}
    template = parse_template(template_source, allowed, setting="embed.item_template")
    if KEYWORDS_FIELD in template.fields:
        keywords = _item_keywords(workspace)
        items = items.assign(
            **{KEYWORDS_FIELD: [", ".join(keywords.get(item_id, [])[:KEYWORDS_PER_ITEM]) for item_id in items["item_id"]]}
        )
    return _render(items, "item_id", template)


def review_texts(workspace: Workspace) -> tuple[list[str], list[str]]:
    """(review ids, texts) of every review, rendered with `embed.review_template`."""
    reviews = workspace.store.query_df("SELECT * FROM reviews ORDER BY review_id")
    template = parse_template(
        workspace.settings.embed.review_template, set(reviews.columns), setting="embed.review_template"
    )
    return _render(reviews, "review_id", template)


def review_titles(workspace: Workspace) -> tuple[list[str], list[str]]:
    """(review ids, titles) of every review in review id order, as `review_texts`; "" where a review has none."""
    reviews = workspace.store.query_df("SELECT review_id, title FROM reviews ORDER BY review_id")
    titles = ["" if pd.isna(title) else str(title).strip() for title in reviews["title"].astype(object)]
    return [str(value) for value in reviews["review_id"].tolist()], titles


def _render(frame: pd.DataFrame, id_column: str, template: object) -> tuple[list[str], list[str]]:
    fields = list(dict.fromkeys(template.fields))  # type: ignore[attr-defined]
    ids = [str(value) for value in frame[id_column].tolist()]
    if frame.empty:
        return ids, []
    columns = {field: frame[field].astype(object).tolist() for field in fields}
    texts = [
        template.render({field: columns[field][row] for field in fields})  # type: ignore[attr-defined]
        for row in range(len(frame))
    ]
    return ids, texts


def _item_keywords(workspace: Workspace) -> dict[str, list[str]]:
    """Top review keywords per item from the text analysis, empty when it has not run."""
    try:
        from recengine.text import item_keywords
    except ImportError:
        log.info("review keywords are not available; {keywords} renders empty")
        return {}
    return item_keywords(workspace)
