"""Review analysis (keywords and sentiment) for a data set loaded outside a workspace.

A workspace evaluation reads the analysis the workspace already holds. A public data set loaded with
`recengine.evaluate.datasets` has review text but no analysis, so without this step the hybrid's
quality component and its history weights would see star ratings only, unlike the product users get.
`with_review_analysis` writes the catalog and reviews into a workspace folder, runs the product's own
`recengine.text.analyze_reviews` there (the learned sentiment model on encoder vectors when enough
rated reviews exist, else the lexicon) and returns the data with the keywords and sentiment attached.

The folder is kept between runs: the analysis is incremental (unchanged reviews are not analysed
again) and review vectors stay in the workspace's embedding cache, so a second run costs a lookup.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from recengine.errors import NotReadyError
from recengine.evaluate.data import EvaluationData
from recengine.progress import Progress, no_progress, scaled

if TYPE_CHECKING:
    from recengine.workspace import Workspace

SOURCE_META_KEY = "evaluation_source_digest"
REVIEW_COLUMNS = ("review_id", "user_id", "item_id", "rating", "title", "text", "timestamp")
ITEM_COLUMNS = ("item_id", "title", "description", "brand", "category", "price")


@dataclass(frozen=True)
class ReviewAnalysisRun:
    """What the analysis step did for one data set.

    Attributes:
        reviews: reviews in the data set (one per review id).
        analysed: reviews analysed in this run (0 when everything was analysed before).
        sentiment_method: "learned" (classifier on encoder vectors) or "lexicon".
        method_reason: why that method was chosen.
        quality: learned and lexicon polarity macro-F1 on held-out reviews, when measured.
        items_with_keywords: catalog items that got review keywords.
        reviews_with_sentiment: reviews that have a sentiment score.
        seconds: wall time of the step (writing the workspace, analysis, reading back).
        rewritten: whether the workspace tables were (re)written from the data set.
    """

    reviews: int
    analysed: int
    sentiment_method: str
    method_reason: str
    quality: dict[str, Any] | None
    items_with_keywords: int
    reviews_with_sentiment: int
    seconds: float
    rewritten: bool


def source_digest(items: pd.DataFrame, reviews: pd.DataFrame) -> str:
    """A hash of what is written into the workspace, to tell whether it must be rewritten."""
    digest = hashlib.sha256()
    for frame, columns in ((items, ITEM_COLUMNS), (reviews, REVIEW_COLUMNS)):
        present = [column for column in columns if column in frame.columns]
        hashed = pd.util.hash_pandas_object(frame[present].astype(str), index=False)
        digest.update(hashed.to_numpy().tobytes())
    return digest.hexdigest()[:32]


def _write_source(workspace: Workspace, items: pd.DataFrame, reviews: pd.DataFrame, digest: str) -> None:
    """Replace the workspace's items, users and reviews with the data set's (one transaction)."""
    catalog = pd.DataFrame({column: items[column] if column in items else None for column in ITEM_COLUMNS})
    catalog["price"] = pd.to_numeric(catalog["price"], errors="coerce")
    catalog["row_hash"] = catalog["item_id"].astype(str)
    rows = pd.DataFrame({column: reviews[column] if column in reviews else None for column in REVIEW_COLUMNS})
    rows["rating"] = pd.to_numeric(rows["rating"], errors="coerce")
    rows["timestamp"] = pd.to_datetime(rows["timestamp"])
    rows["row_hash"] = rows["review_id"].astype(str)
    users = pd.DataFrame({"user_id": sorted(rows["user_id"].dropna().astype(str).unique())})
    with workspace.store.transaction() as connection:
        for table in ("reviews", "users", "items"):
            connection.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        connection.register("source_items", catalog)
        connection.execute(
            "INSERT INTO items (item_id, title, description, brand, category, price, row_hash) "
            "SELECT item_id, title, description, brand, category, price, row_hash FROM source_items"
        )
        connection.register("source_reviews", rows)
        connection.execute(
            "INSERT INTO reviews (review_id, user_id, item_id, rating, title, text, timestamp, row_hash) "
            "SELECT review_id, user_id, item_id, rating, title, text, timestamp, row_hash FROM source_reviews"
        )
        connection.register("source_users", users)
        connection.execute("INSERT INTO users (user_id) SELECT user_id FROM source_users")
        for name in ("source_items", "source_reviews", "source_users"):
            connection.unregister(name)
        connection.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [SOURCE_META_KEY, digest],
        )
    from recengine.text.tables import bump_data_version

    bump_data_version(workspace)


def with_review_analysis(
    data: EvaluationData, folder: Path | str, *, progress: Progress | None = None
) -> tuple[EvaluationData, ReviewAnalysisRun]:
    """Analyse the data set's reviews with `recengine.text` and attach keywords and sentiment.

    Args:
        data: a data set with `reviews` (its interactions carry `review_id`).
        folder: the workspace folder to analyse in (created; reused when it holds the same data).
        progress: callback (fraction, message).

    Returns:
        The data with `keywords` (item -> review key phrases), `sentiment` (review_id,
        sentiment_label, sentiment_score) and `review_vectors` (the reviews' vectors, which the hybrid
        mixes into item vectors over training reviews only) set, and what the step did.

    Raises:
        NotReadyError: the data set has no review text to analyse.
    """
    from recengine.text import analyze_reviews, item_keywords, review_sentiment
    from recengine.workspace import Workspace

    report = progress or no_progress
    reviews = data.reviews
    if reviews is None or reviews.empty or not reviews.get("text", pd.Series(dtype=str)).astype(str).str.strip().any():
        raise NotReadyError(f"{data.name} has no review text to analyse.")
    started = time.perf_counter()
    workspace = Workspace.open(folder)
    digest = source_digest(data.items, reviews)
    rewritten = workspace.store.get_meta(SOURCE_META_KEY) != digest
    if rewritten:
        report(0.0, f"writing {len(reviews):,} reviews into {folder}")
        _write_source(workspace, data.items, reviews, digest)
    analysis = analyze_reviews(workspace, scaled(report, 0.05, 0.95))
    keywords = item_keywords(workspace) or None
    sentiment = review_sentiment(workspace)
    report(1.0, f"{len(sentiment):,} reviews with sentiment ({analysis.sentiment_method})")
    quality = asdict(analysis.quality) if analysis.quality is not None else None
    run = ReviewAnalysisRun(
        reviews=len(reviews),
        analysed=analysis.analyzed,
        sentiment_method=analysis.sentiment_method,
        method_reason=analysis.method_reason,
        quality=quality,
        items_with_keywords=len(keywords or {}),
        reviews_with_sentiment=int(sentiment["sentiment_score"].notna().sum()) if len(sentiment) else 0,
        seconds=time.perf_counter() - started,
        rewritten=rewritten,
    )
    from recengine.embed import cached_review_vectors

    review_vectors = cached_review_vectors(workspace)  # encoded by the analysis above
    analysed = replace(
        data, keywords=keywords, sentiment=sentiment if len(sentiment) else None,
        review_vectors=review_vectors if review_vectors.review_ids else None,
    )
    return analysed, run
