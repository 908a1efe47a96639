"""Summaries of the analysed reviews: distinctive keywords and aspects per product, brand and category,
and the readers of what the analysis stored (item keywords, review sentiment, the export frame, its state).

`analyze_reviews` (analysis.py) writes the per-review rows, then calls `write_summaries` here.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recengine.errors import RecEngineError
from recengine.progress import Progress
from recengine.text import tables
from recengine.text.keywords import (
    distinctive_keywords,
    mmr_select,
)

if TYPE_CHECKING:

    from recengine.embed import Encoder
    from recengine.workspace import Workspace

KEYWORDS_PER_SCOPE = 15


def encoder_or_none(workspace: Workspace) -> Encoder | None:
    """The workspace's encoder, or None when it cannot be loaded (keywords and aspects work without one)."""
    try:
        from recengine.embed import load_encoder
    except ImportError:
        return None
    try:
        return load_encoder(workspace.settings.embed)
    except RecEngineError:
        return None  # aspects and keywords work without an encoder; sentiment says why it fell back


def _scopes(frame: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """(scope name, scope_id per row) for every scope a review belongs to.

    A category path 'A > B > C' puts the review into 'A', 'A > B' and 'A > B > C', so the Insights page
    can summarise at any depth.
    """
    scopes: list[tuple[str, pd.Series]] = [("item", frame["item_id"].astype(str))]
    brand = frame["brand"].astype("string").str.strip()
    scopes.append(("brand", brand.where(brand != "")))
    category = frame["category"].astype("string").fillna("")
    parts = category.str.split(r"\s*>\s*", regex=True)
    depth = int(parts.map(len).max()) if len(parts) else 0
    for level in range(1, depth + 1):
        prefix = parts.map(lambda path, level=level: " > ".join(path[:level]) if len(path) >= level and path[0] else None)
        scopes.append(("category", prefix))
    scopes.append(("all", pd.Series("", index=frame.index)))
    return scopes


def _analysis_frame(workspace: Workspace) -> pd.DataFrame:
    return workspace.store.query_df(
        """
        SELECT a.review_id, r.item_id, i.brand, i.category, a.keywords, a.aspects, a.sentiment_score
        FROM review_analysis a
        JOIN reviews r USING (review_id)
        LEFT JOIN items i ON i.item_id = r.item_id
        """
    )


def write_summaries(workspace: Workspace, method: str, progress: Progress) -> tuple[int, int]:
    frame = _analysis_frame(workspace)
    progress(0.05, "parsing stored results")
    keyword_lists = [json.loads(value) if value else [] for value in frame["keywords"]]
    aspect_lists = [json.loads(value) if value else [] for value in frame["aspects"]]
    keyword_rows = pd.DataFrame(
        {
            "row": np.repeat(np.arange(len(frame)), [len(keywords) for keywords in keyword_lists]),
            "keyword": [keyword for keywords in keyword_lists for keyword in keywords],
        }
    )
    aspect_rows = pd.DataFrame(
        [
            (row, mention["aspect"], float(mention["sentiment"]), mention["quote"])
            for row, mentions in enumerate(aspect_lists)
            for mention in mentions
        ],
        columns=["row", "aspect", "sentiment", "quote"],
    )
    aspect_rows["review_id"] = frame["review_id"].to_numpy()[aspect_rows["row"].to_numpy()] if len(aspect_rows) else []
    keyword_tables: list[pd.DataFrame] = []
    aspect_tables: list[pd.DataFrame] = []
    scopes = _scopes(frame)
    for position, (scope, scope_ids) in enumerate(scopes):
        progress(0.1 + 0.7 * position / len(scopes), f"summarising per {scope}")
        ids = scope_ids.to_numpy(dtype=object)
        if len(keyword_rows):
            grouped = keyword_rows.assign(group_id=ids[keyword_rows["row"].to_numpy()]).dropna(subset=["group_id"])
            ranked = distinctive_keywords(grouped, top_n=KEYWORDS_PER_SCOPE)
            if scope == "all":
                # Against nothing, nothing is distinctive: rank the catalog's phrases by mentions.
                counts = grouped["keyword"].value_counts().head(KEYWORDS_PER_SCOPE)
                keyword_tables.append(
                    pd.DataFrame(
                        {"scope": scope, "scope_id": "", "keyword": counts.index.astype(str),
                         "score": counts.to_numpy(dtype=float), "mentions": counts.to_numpy(),
                         "rank": np.arange(1, len(counts) + 1)}
                    )
                )
            else:
                keyword_tables.append(_ranked_frame(scope, ranked))
        if len(aspect_rows):
            aspect_tables.append(aspect_rows.assign(scope=scope, scope_id=ids[aspect_rows["row"].to_numpy()]))
    keyword_summary = pd.concat(keyword_tables, ignore_index=True) if keyword_tables else _empty_keyword_summary()
    # One grouping over every scope at once: far fewer pandas calls than one per scope.
    aspect_summary = _aspect_summary(pd.concat(aspect_tables, ignore_index=True)) if aspect_tables else _empty_aspect_summary()
    item_keywords = keyword_summary[keyword_summary["scope"] == "item"][["scope_id", "keyword", "score", "rank"]]
    item_keywords = item_keywords.rename(columns={"scope_id": "item_id"})
    if method == "embedding":
        item_keywords = _embedding_item_keywords(workspace, keyword_rows, frame, item_keywords)
    progress(0.85, "writing summaries")
    with workspace.store.transaction() as connection:
        for name, table in (
            ("item_keywords", item_keywords),
            ("keyword_summary", keyword_summary),
            ("aspect_summary", aspect_summary),
        ):
            connection.execute(f"DELETE FROM {name}")
            if len(table):
                connection.register("summary_frame", table)
                columns = ", ".join(table.columns)
                connection.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM summary_frame")
                connection.unregister("summary_frame")
    progress(1.0, "summaries written")
    aspects = int(aspect_rows["aspect"].nunique()) if len(aspect_rows) else 0
    return aspects, int(item_keywords["item_id"].nunique()) if len(item_keywords) else 0


def _ranked_frame(scope: str, ranked: dict[str, list[Any]]) -> pd.DataFrame:
    rows = [
        (scope, str(group_id), phrase.keyword, phrase.score, phrase.mentions, rank)
        for group_id, phrases in ranked.items()
        for rank, phrase in enumerate(phrases, start=1)
    ]
    return pd.DataFrame(rows, columns=["scope", "scope_id", "keyword", "score", "mentions", "rank"])


def _empty_keyword_summary() -> pd.DataFrame:
    return pd.DataFrame(columns=["scope", "scope_id", "keyword", "score", "mentions", "rank"])


def _empty_aspect_summary() -> pd.DataFrame:
    return pd.DataFrame(
        columns=["scope", "scope_id", "aspect", "mentions", "avg_sentiment", "quotes", "positive", "negative"]
    )


def _aspect_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Mentions, mean sentiment and up to three quotes per (scope, scope_id, aspect).

    Quotes: the two clauses that agree most strongly with the aspect's average, and the strongest
    dissenting one when there is any, so a reader sees the majority view and the exception.
    """
    rows = rows.dropna(subset=["scope_id"])
    if rows.empty:
        return _empty_aspect_summary()
    keys = ["scope", "scope_id", "aspect"]
    rows = rows.assign(
        is_positive=(rows["sentiment"] >= 0.05).astype(int), is_negative=(rows["sentiment"] <= -0.05).astype(int)
    )
    summary = rows.groupby(keys, sort=False).agg(
        mentions=("sentiment", "size"),
        avg_sentiment=("sentiment", "mean"),
        positive=("is_positive", "sum"),
        negative=("is_negative", "sum"),
    ).reset_index()
    # A transform and a sort on one float column: merging back on three string keys and sorting by
    # them took most of the summary time at 100k reviews.
    average = rows.groupby(keys, sort=False)["sentiment"].transform("mean").to_numpy()
    rows["agreement"] = rows["sentiment"].to_numpy() * np.where(average >= 0, 1.0, -1.0)
    rows = rows.sort_values("agreement", ascending=False, kind="stable")
    agreeing = rows[rows["agreement"] > 0].groupby(keys, sort=False).head(2)
    dissenting = rows[rows["agreement"] < 0].iloc[::-1].groupby(keys, sort=False).head(1)
    quotes: dict[tuple[str, str, str], list[dict[str, object]]] = {}
    for scope, scope_id, aspect, review_id, text, score in zip(
        *(pd.concat([agreeing, dissenting])[column].tolist() for column in [*keys, "review_id", "quote", "sentiment"]),
        strict=True,
    ):
        entries = quotes.setdefault((scope, scope_id, aspect), [])
        if all(entry["text"] != text for entry in entries):
            entries.append({"review_id": str(review_id), "text": str(text), "sentiment": round(float(score), 4)})
    summary["quotes"] = [
        json.dumps(quotes.get(key, []), ensure_ascii=False)
        for key in zip(summary["scope"].tolist(), summary["scope_id"].tolist(), summary["aspect"].tolist(), strict=True)
    ]
    summary["avg_sentiment"] = summary["avg_sentiment"].round(4)
    return summary[["scope", "scope_id", "aspect", "mentions", "avg_sentiment", "quotes", "positive", "negative"]]


def _embedding_item_keywords(
    workspace: Workspace, keyword_rows: pd.DataFrame, frame: pd.DataFrame, fallback: pd.DataFrame
) -> pd.DataFrame:
    """KeyBERT-style item keywords: each item's review phrases ranked against the item's own vector."""
    encoder = encoder_or_none(workspace)
    if encoder is None or keyword_rows.empty:
        return fallback
    try:
        from recengine.embed import item_vectors
    except ImportError:
        return fallback
    vectors = item_vectors(workspace)
    position = {item_id: index for index, item_id in enumerate(vectors.item_ids)}
    items = frame["item_id"].to_numpy(dtype=object)[keyword_rows["row"].to_numpy()]
    rows = []
    phrase_cache: dict[str, np.ndarray] = {}
    for item_id, group in keyword_rows.assign(item_id=items).groupby("item_id"):
        if item_id not in position:
            continue
        candidates = group["keyword"].value_counts().head(30).index.tolist()
        missing = [phrase for phrase in candidates if phrase not in phrase_cache]
        if missing:
            for phrase, vector in zip(missing, encoder.encode(missing), strict=True):
                phrase_cache[phrase] = np.asarray(vector, dtype=np.float32)
        candidate_vectors = np.stack([phrase_cache[phrase] for phrase in candidates])
        document = vectors.vectors[position[item_id]]
        picked = mmr_select(document, candidate_vectors, 10, 0.5)
        for rank, index in enumerate(picked, start=1):
            rows.append((item_id, candidates[index], round(float(candidate_vectors[index] @ document), 4), rank))
    return pd.DataFrame(rows, columns=["item_id", "keyword", "score", "rank"]) if rows else fallback


def summary_counts(workspace: Workspace) -> tuple[int, int]:
    aspects = workspace.store.scalar("SELECT count(DISTINCT aspect) FROM aspect_summary WHERE scope = 'all'")
    items = workspace.store.scalar("SELECT count(DISTINCT item_id) FROM item_keywords")
    return int(aspects or 0), int(items or 0)


# -- read side (contract) ----------------------------------------------------------------------------------


def item_keywords(workspace: Workspace) -> dict[str, list[str]]:
    """Distinctive keywords per item, best first; empty when analysis has not run."""
    if not workspace.store.table_exists("item_keywords"):
        return {}
    frame = workspace.store.query_df("SELECT item_id, keyword FROM item_keywords ORDER BY item_id, rank")
    result: dict[str, list[str]] = {}
    for item_id, keyword in zip(frame["item_id"], frame["keyword"], strict=True):
        result.setdefault(str(item_id), []).append(str(keyword))
    return result


def review_sentiment(workspace: Workspace) -> pd.DataFrame:
    """(review_id, sentiment_label, sentiment_score) of every analysed review; empty before analysis."""
    if not workspace.store.table_exists("review_analysis"):
        return pd.DataFrame({"review_id": pd.Series(dtype="string"), "sentiment_label": pd.Series(dtype="string"),
                             "sentiment_score": pd.Series(dtype="float64")})
    return workspace.store.query_df(
        "SELECT review_id, sentiment_label, sentiment_score FROM review_analysis ORDER BY review_id"
    )


ANALYSIS_EXPORT_COLUMNS = ("sentiment_label", "sentiment_score", "keywords", "aspects")


def reviews_with_analysis(workspace: Workspace) -> pd.DataFrame:
    """The reviews table with `sentiment_label`, `sentiment_score`, `keywords`, `aspects` added.

    Keeps every review and its uploaded `review_id`; the analysis columns are empty for reviews not
    analysed yet. `keywords` and `aspects` are JSON strings, so the frame exports to CSV unchanged.
    """
    if not workspace.store.table_exists("review_analysis"):
        frame = workspace.store.query_df("SELECT * FROM reviews ORDER BY review_id")
        for column in ANALYSIS_EXPORT_COLUMNS:
            frame[column] = pd.Series([None] * len(frame), index=frame.index, dtype="object")
        frame["sentiment_score"] = frame["sentiment_score"].astype("float64")
        return frame
    return workspace.store.query_df(
        """
        SELECT r.*, a.sentiment_label, a.sentiment_score, a.keywords, a.aspects
        FROM reviews r LEFT JOIN review_analysis a USING (review_id)
        ORDER BY r.review_id
        """
    )


def analysis_state(workspace: Workspace) -> dict[str, Any]:
    """The last run's method, reason and quality figures (empty dict before the first run)."""
    raw = workspace.store.get_meta(tables.STATE_META_KEY)
    if not raw:
        return {}
    try:
        return dict(json.loads(raw))
    except ValueError:
        return {}

