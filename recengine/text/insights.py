"""Read side of review analysis for the Insights page: scopes, their reviews, aspects and keywords.

A scope is what a merchandiser looks at: the whole catalog ("all"), a category path (any prefix of
'A > B > C'), a brand, or one product ("item"). Everything here reads the tables `analyze_reviews`
wrote; nothing is computed from text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pandas as pd

from recengine.errors import NotFoundError

if TYPE_CHECKING:
    from recengine.workspace import Workspace

Scope = Literal["all", "category", "brand", "item"]
SCOPES: tuple[Scope, ...] = ("all", "category", "brand", "item")

REVIEW_COLUMNS = [
    "review_id", "item_id", "product", "rating", "sentiment_label", "sentiment_score", "aspects",
    "keywords", "title", "text", "timestamp",
]


@dataclass(frozen=True)
class ScopeChoice:
    """One pickable scope with its label and review count."""

    scope: Scope
    scope_id: str
    label: str
    reviews: int


def scope_choices(workspace: Workspace, scope: Scope, *, limit: int = 5_000) -> list[ScopeChoice]:
    """The categories (every path prefix), brands or products that have reviews, most reviewed first."""
    if scope == "all":
        total = int(workspace.store.scalar("SELECT count(*) FROM reviews") or 0)
        return [ScopeChoice("all", "", "Whole catalog", total)]
    if scope == "item":
        frame = workspace.store.query_df(
            """
            SELECT r.item_id AS scope_id, any_value(i.title) AS title, count(*) AS reviews
            FROM reviews r LEFT JOIN items i USING (item_id)
            GROUP BY r.item_id ORDER BY reviews DESC, scope_id LIMIT ?
            """,
            [limit],
        )
        return [
            ScopeChoice("item", str(row.scope_id), _product_label(row.scope_id, row.title), int(row.reviews))
            for row in frame.itertuples()
        ]
    if scope == "brand":
        frame = workspace.store.query_df(
            """
            SELECT trim(i.brand) AS scope_id, count(*) AS reviews
            FROM reviews r JOIN items i USING (item_id)
            WHERE i.brand IS NOT NULL AND trim(i.brand) <> ''
            GROUP BY 1 ORDER BY reviews DESC, scope_id LIMIT ?
            """,
            [limit],
        )
        return [ScopeChoice("brand", str(row.scope_id), str(row.scope_id), int(row.reviews)) for row in frame.itertuples()]
    frame = workspace.store.query_df(
        """
        SELECT i.category, count(*) AS reviews
        FROM reviews r JOIN items i USING (item_id)
        WHERE i.category IS NOT NULL AND trim(i.category) <> ''
        GROUP BY 1
        """
    )
    counts: dict[str, int] = {}
    for category, reviews in zip(frame["category"], frame["reviews"], strict=True):
        parts = [part.strip() for part in str(category).split(">") if part.strip()]
        for depth in range(1, len(parts) + 1):
            prefix = " > ".join(parts[:depth])
            counts[prefix] = counts.get(prefix, 0) + int(reviews)
    ordered = sorted(counts.items(), key=lambda pair: (pair[0].split(" > ")[0], pair[0]))
    return [ScopeChoice("category", path, path, reviews) for path, reviews in ordered[:limit]]


def _product_label(item_id: object, title: object) -> str:
    title_text = "" if title is None or (isinstance(title, float) and pd.isna(title)) else str(title)
    return f"{title_text[:80]} ({item_id})" if title_text else str(item_id)


def _scope_filter(scope: Scope, scope_id: str) -> tuple[str, list[object]]:
    if scope == "all":
        return "TRUE", []
    if scope == "item":
        return "r.item_id = ?", [scope_id]
    if scope == "brand":
        return "trim(i.brand) = ?", [scope_id]
    if scope == "category":
        # Category paths are stored as 'A > B > C'; a prefix selects its whole subtree.
        return "(regexp_replace(i.category, '\\s*>\\s*', ' > ', 'g') = ? OR regexp_replace(i.category, '\\s*>\\s*', ' > ', 'g') LIKE ?)", [
            scope_id, f"{scope_id} > %"]
    raise NotFoundError(f"Unknown scope {scope!r}.", hint=f"Use one of {', '.join(SCOPES)}.")


def scope_reviews(workspace: Workspace, scope: Scope, scope_id: str = "") -> pd.DataFrame:
    """Reviews of a scope with their analysis (analysis columns empty where not analysed yet)."""
    condition, params = _scope_filter(scope, scope_id)
    analysed = workspace.store.table_exists("review_analysis")
    analysis_columns = (
        "a.sentiment_label, a.sentiment_score, a.aspects, a.keywords"
        if analysed
        else "NULL::VARCHAR AS sentiment_label, NULL::DOUBLE AS sentiment_score, NULL::VARCHAR AS aspects, "
        "NULL::VARCHAR AS keywords"
    )
    join = "LEFT JOIN review_analysis a USING (review_id)" if analysed else ""
    return workspace.store.query_df(
        f"""
        SELECT r.review_id, r.item_id, i.title AS product, r.rating, {analysis_columns},
               r.title, r.text, r.timestamp
        FROM reviews r LEFT JOIN items i USING (item_id) {join}
        WHERE {condition}
        ORDER BY r.timestamp DESC NULLS LAST, r.review_id
        """,
        params,
    )


def scope_aspects(workspace: Workspace, scope: Scope, scope_id: str = "") -> pd.DataFrame:
    """Aspect summary rows of a scope, most mentioned first; `quotes` parsed into lists of dicts."""
    if not workspace.store.table_exists("aspect_summary"):
        return pd.DataFrame(columns=["aspect", "mentions", "avg_sentiment", "positive", "negative", "quotes"])
    frame = workspace.store.query_df(
        "SELECT aspect, mentions, avg_sentiment, positive, negative, quotes FROM aspect_summary "
        "WHERE scope = ? AND scope_id = ? ORDER BY mentions DESC, aspect",
        [scope, scope_id],
    )
    frame["quotes"] = [json.loads(value) if value else [] for value in frame["quotes"]]
    return frame


def scope_keywords(workspace: Workspace, scope: Scope, scope_id: str = "") -> pd.DataFrame:
    """Distinctive keywords of a scope (for 'all': the most mentioned), best first."""
    if not workspace.store.table_exists("keyword_summary"):
        return pd.DataFrame(columns=["keyword", "score", "mentions"])
    return workspace.store.query_df(
        "SELECT keyword, score, mentions FROM keyword_summary WHERE scope = ? AND scope_id = ? ORDER BY rank",
        [scope, scope_id],
    )


def top_aspects(aspects: pd.DataFrame, *, positive: bool, limit: int = 5, min_mentions: int = 1) -> pd.DataFrame:
    """The most praised (positive=True) or most criticised aspects with enough mentions."""
    if aspects.empty:
        return aspects
    eligible = aspects[aspects["mentions"] >= min_mentions]
    if positive:
        eligible = eligible[eligible["avg_sentiment"] > 0].sort_values(["avg_sentiment", "mentions"], ascending=[False, False])
    else:
        eligible = eligible[eligible["avg_sentiment"] < 0].sort_values(["avg_sentiment", "mentions"], ascending=[True, False])
    return eligible.head(limit)


def review_aspect_names(raw: object) -> list[str]:
    """Aspect names of one review's `aspects` JSON."""
    if not isinstance(raw, str) or not raw:
        return []
    try:
        return [str(mention["aspect"]) for mention in json.loads(raw)]
    except (ValueError, KeyError, TypeError):
        return []


def filter_reviews(
    reviews: pd.DataFrame,
    *,
    ratings: list[int] | None = None,
    include_unrated: bool = True,
    sentiments: list[str] | None = None,
    aspect: str | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    search: str = "",
) -> pd.DataFrame:
    """Reviews matching every given filter (None or empty = no filter on that field).

    Text search is a plain case-insensitive substring match on title and text (never a regular
    expression, so any characters a user types are safe).
    """
    mask = pd.Series(True, index=reviews.index)
    if ratings:
        rated = reviews["rating"].round().isin([float(value) for value in ratings])
        mask &= rated | (reviews["rating"].isna() if include_unrated else False)
    elif not include_unrated:
        mask &= reviews["rating"].notna()
    if sentiments:
        mask &= reviews["sentiment_label"].isin(sentiments)
    if aspect:
        mask &= reviews["aspects"].map(lambda raw: aspect in review_aspect_names(raw))
    timestamps = pd.to_datetime(reviews["timestamp"])
    if start is not None:
        mask &= timestamps >= pd.Timestamp(start)
    if end is not None:
        mask &= timestamps < pd.Timestamp(end) + pd.Timedelta(days=1)
    if search.strip():
        needle = search.strip().lower()
        haystack = reviews["title"].fillna("").astype(str) + " " + reviews["text"].fillna("").astype(str)
        mask &= haystack.str.lower().str.contains(needle, regex=False)
    return reviews[mask]


def sentiment_by_month(reviews: pd.DataFrame) -> pd.DataFrame:
    """Per month: reviews per label and the mean sentiment score (months without reviews left out)."""
    frame = reviews.dropna(subset=["timestamp", "sentiment_label"])
    if frame.empty:
        return pd.DataFrame(columns=["month", "negative", "neutral", "positive", "mean_score", "reviews"])
    month = pd.to_datetime(frame["timestamp"]).dt.to_period("M").dt.to_timestamp()
    counts = pd.crosstab(month, frame["sentiment_label"])
    for label in ("negative", "neutral", "positive"):
        if label not in counts:
            counts[label] = 0
    result = counts[["negative", "neutral", "positive"]].copy()
    result["mean_score"] = frame.groupby(month)["sentiment_score"].mean()
    result["reviews"] = result[["negative", "neutral", "positive"]].sum(axis=1)
    result.index.name = "month"
    return result.reset_index()
