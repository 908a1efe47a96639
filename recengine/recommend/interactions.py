"""Turn reviews and events into per-(user, item) signals: affinity, confidence, ratings, item statistics.

The recommender is fitted on frames (so evaluation can fit it on a training split); this module holds
the one place where events, ratings, review sentiment and recency become numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from recengine.config import RecommendSettings

if TYPE_CHECKING:
    from recengine.workspace import Workspace

EVENTS = ("view", "click", "cart", "purchase", "review")
EVENT_CODES = {event: code for code, event in enumerate(EVENTS, start=1)}
INTERACTION_COLUMNS = ("user_id", "item_id", "event", "rating", "timestamp", "weight", "review_id")
SECONDS_PER_DAY = 86_400.0


def event_weights(settings: RecommendSettings) -> dict[str, float]:
    """How much each event says about a user's taste (purchase > cart > click > view)."""
    return {
        "view": settings.event_weight_view,
        "click": settings.event_weight_click,
        "cart": settings.event_weight_cart,
        "purchase": settings.event_weight_purchase,
        "review": settings.event_weight_review,
    }


def workspace_interactions(workspace: Workspace) -> pd.DataFrame:
    """Reviews (as event 'review' with their rating) and events of a workspace in one frame.

    Columns: user_id, item_id, event, rating, timestamp, weight, review_id. Anonymous reviews are
    left out: they belong to no user's history (they still count for item quality through `rating`).
    """
    reviews = workspace.store.query_df(
        "SELECT user_id, item_id, 'review' AS event, rating, timestamp, 1.0 AS weight, review_id "
        "FROM reviews WHERE user_id IS NOT NULL"
    )
    events = workspace.store.query_df(
        "SELECT user_id, item_id, event, CAST(NULL AS DOUBLE) AS rating, timestamp, "
        "coalesce(quantity, 1.0) AS weight, CAST(NULL AS VARCHAR) AS review_id FROM interactions"
    )
    frames = [frame for frame in (reviews, events) if len(frame)]
    if not frames:
        return pd.DataFrame({column: [] for column in INTERACTION_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def anonymous_ratings(workspace: Workspace) -> pd.DataFrame:
    """(item_id, rating, review_id) of reviews without a user: they still tell item quality."""
    return workspace.store.query_df(
        "SELECT item_id, rating, review_id FROM reviews WHERE user_id IS NULL"
    )


def to_days(values: pd.Series) -> np.ndarray:
    """Timestamps (datetimes, ISO strings or unix seconds) as float days since 1970; nan when missing."""
    if len(values) == 0:
        return np.zeros(0)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        seconds = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
        # Millisecond epochs are common in event exports.
        seconds = np.where(seconds > 1e11, seconds / 1000.0, seconds)
        return seconds / SECONDS_PER_DAY
    stamps = pd.to_datetime(values, errors="coerce", utc=True)
    # Unit-safe (pandas 3 keeps us/ms/ns resolutions): subtract the epoch, divide by a day.
    days = (stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)
    return pd.Series(days).to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass(frozen=True)
class HistoryTable:
    """Per-(user, item) signals as sparse users x items matrices aligned with a Catalog.

    affinity: signed strength (likes > 0, dislikes < 0), recency-decayed, for profiles.
    confidence: positive strength, recency-decayed, for the collaborative history vector.
    presence: how much an interaction counts as "bought it" (1 for purchases and reviews), no decay.
    ratings: the latest star rating (absent when none). events: the strongest event code.
    """

    user_ids: list[str]
    user_positions: dict[str, int]
    affinity: sparse.csr_matrix
    confidence: sparse.csr_matrix
    presence: sparse.csr_matrix
    ratings: sparse.csr_matrix
    events: sparse.csr_matrix
    last_day: np.ndarray  # per user, nan when no timestamps
    # The same (user, item) pairs as flat arrays; user u owns offsets[u]:offsets[u + 1].
    offsets: np.ndarray
    pair_items: np.ndarray
    pair_affinity: np.ndarray
    pair_confidence: np.ndarray
    pair_ratings: np.ndarray  # nan when unrated
    pair_events: np.ndarray


@dataclass(frozen=True)
class ItemStatistics:
    """Per-item counts behind the popularity, quality and recency components (by position)."""

    customers: np.ndarray  # weighted distinct users
    trending: np.ndarray  # interactions decayed from the newest timestamp in the data
    rating_sum: np.ndarray
    rating_count: np.ndarray
    sentiment_sum: np.ndarray
    sentiment_count: np.ndarray
    newest_day: float


def preference(
    ratings: np.ndarray, sentiments: np.ndarray, settings: RecommendSettings
) -> np.ndarray:
    """Signed preference in [-1, 1] from stars and review sentiment; 1 when neither is known."""
    threshold = settings.dislike_below_rating
    from_rating = np.where(
        ratings >= threshold,
        0.25 + 0.75 * (ratings - threshold) / max(5.0 - threshold, 1e-6),
        -(threshold - ratings) / max(threshold - 1.0, 1e-6),
    )
    from_sentiment = np.where(sentiments >= 0, 0.25 + 0.75 * sentiments, sentiments)
    has_rating = ~np.isnan(ratings)
    has_sentiment = ~np.isnan(sentiments)
    value = np.ones(len(ratings))
    value = np.where(has_rating, from_rating, value)
    value = np.where(has_sentiment & ~has_rating, from_sentiment, value)
    value = np.where(has_sentiment & has_rating, 0.5 * from_rating + 0.5 * sentiments, value)
    return np.clip(value, -1.0, 1.0)


def build_history(
    frame: pd.DataFrame,
    item_positions: dict[str, int],
    settings: RecommendSettings,
    sentiment: pd.DataFrame | None = None,
    anonymous: pd.DataFrame | None = None,
) -> tuple[HistoryTable, ItemStatistics]:
    """Aggregate interaction rows into a HistoryTable and ItemStatistics.

    Args:
        frame: rows with user_id, item_id and optionally event, rating, timestamp, weight, review_id.
        item_positions: item id -> position (every item_id of `frame` must be present).
        settings: weights, half-lives and the dislike threshold.
        sentiment: optional (review_id, sentiment_score) joined on review_id.
        anonymous: optional (item_id, rating[, review_id]) reviews without a user, for quality only.
    """
    rows = _normalise_frame(frame)
    sentiments = _sentiment_for(rows, sentiment)
    item_count = len(item_positions)
    user_ids = sorted(rows["user_id"].unique().tolist()) if len(rows) else []
    user_positions = {user_id: position for position, user_id in enumerate(user_ids)}
    user_index = rows["user_id"].map(user_positions).to_numpy(dtype=np.int64)
    item_index = rows["item_id"].map(item_positions).to_numpy(dtype=np.int64)
    days = to_days(rows["timestamp"])
    ratings = pd.to_numeric(rows["rating"], errors="coerce").to_numpy(dtype=np.float64)
    weights = pd.to_numeric(rows["weight"], errors="coerce").fillna(1.0).to_numpy(dtype=np.float64)
    weights = np.clip(weights, 0.0, None)
    by_event = event_weights(settings)
    events = rows["event"].astype(str).str.lower()
    event_weight = events.map(by_event).fillna(settings.event_weight_view).to_numpy(dtype=np.float64)
    event_code = events.map(EVENT_CODES).fillna(1).to_numpy(dtype=np.float64)

    # Recency: relative to the user's own newest interaction, so a customer who paused for a year
    # keeps a full profile; the order of their history still matters.
    shape = (len(user_ids), item_count)
    last_day = np.full(len(user_ids), np.nan)
    if len(rows):
        last_day = (
            pd.Series(days).groupby(user_index).max().reindex(range(len(user_ids))).to_numpy()
        )
    age = np.where(np.isnan(days), 0.0, last_day[user_index] - days) if len(rows) else days
    age = np.nan_to_num(age, nan=0.0)
    decay = 0.5 ** (np.clip(age, 0, None) / settings.recency_half_life_days)
    decay = 1.0 - settings.history_recency_weight + settings.history_recency_weight * decay

    pref = preference(ratings, sentiments, settings)
    strength = event_weight * weights
    affinity = strength * pref * decay
    # Dislikes still say something about co-purchase behaviour, but less than a like.
    confidence = strength * decay * np.where(pref < 0, 0.25, 1.0)
    presence = np.minimum(strength / max(settings.event_weight_purchase, 1e-9), 1.0)

    # One aggregation per (user, item), sorted by user then item: the CSR matrices and the per-user
    # slices used at request time share this order, so a user's history is a slice, not a lookup.
    keyed = pd.DataFrame(
        {
            "u": user_index,
            "i": item_index,
            "affinity": affinity,
            "confidence": confidence,
            "presence": presence,
            "rating": ratings,
            "event": event_code,
            "day": days,
        }
    ).sort_values("day", kind="stable", na_position="first")
    grouped = keyed.groupby(["u", "i"], sort=True).agg(
        affinity=("affinity", "sum"),
        confidence=("confidence", "sum"),
        presence=("presence", "max"),
        rating=("rating", "last"),
        event=("event", "max"),
    )
    pair_users = grouped.index.get_level_values(0).to_numpy(dtype=np.int64)
    pair_items = grouped.index.get_level_values(1).to_numpy(dtype=np.int64)
    offsets = np.searchsorted(pair_users, np.arange(len(user_ids) + 1)).astype(np.int64)

    def matrix(values: np.ndarray) -> sparse.csr_matrix:
        return sparse.csr_matrix((values, pair_items.copy(), offsets.copy()), shape=shape)

    pair_ratings = grouped["rating"].to_numpy(dtype=np.float64)
    rated = ~np.isnan(pair_ratings)
    table = HistoryTable(
        user_ids=user_ids,
        user_positions=user_positions,
        affinity=matrix(grouped["affinity"].to_numpy(dtype=np.float64)),
        confidence=matrix(grouped["confidence"].to_numpy(dtype=np.float64)),
        presence=matrix(grouped["presence"].to_numpy(dtype=np.float64)),
        ratings=sparse.csr_matrix(
            (pair_ratings[rated], (pair_users[rated], pair_items[rated])), shape=shape
        ),
        events=matrix(grouped["event"].to_numpy(dtype=np.float64)),
        last_day=last_day,
        offsets=offsets,
        pair_items=pair_items,
        pair_affinity=grouped["affinity"].to_numpy(dtype=np.float64),
        pair_confidence=grouped["confidence"].to_numpy(dtype=np.float64),
        pair_ratings=pair_ratings,
        pair_events=grouped["event"].to_numpy(dtype=np.float64),
    )
    presence_matrix = table.presence

    newest = float(np.nanmax(days)) if len(days) and not np.all(np.isnan(days)) else float("nan")
    trend_age = np.nan_to_num(newest - days, nan=10 * settings.trending_half_life_days)
    trend = presence * 0.5 ** (np.clip(trend_age, 0, None) / settings.trending_half_life_days)
    rating_items = item_index
    rating_values = ratings
    sentiment_values = sentiments
    if anonymous is not None and len(anonymous):
        known = anonymous[anonymous["item_id"].astype(str).isin(item_positions)]
        extra_items = known["item_id"].astype(str).map(item_positions).to_numpy(dtype=np.int64)
        extra_ratings = pd.to_numeric(known["rating"], errors="coerce").to_numpy(dtype=np.float64)
        extra_sentiment = _sentiment_for(known, sentiment)
        rating_items = np.concatenate([item_index, extra_items])
        rating_values = np.concatenate([ratings, extra_ratings])
        sentiment_values = np.concatenate([sentiments, extra_sentiment])
    has_rating = ~np.isnan(rating_values)
    has_sentiment = ~np.isnan(sentiment_values)
    statistics = ItemStatistics(
        customers=np.asarray(presence_matrix.sum(axis=0)).ravel(),
        trending=np.bincount(item_index, weights=trend, minlength=item_count),
        rating_sum=np.bincount(
            rating_items[has_rating], weights=rating_values[has_rating], minlength=item_count
        ),
        rating_count=np.bincount(rating_items[has_rating], minlength=item_count).astype(np.float64),
        sentiment_sum=np.bincount(
            rating_items[has_sentiment], weights=sentiment_values[has_sentiment], minlength=item_count
        ),
        sentiment_count=np.bincount(rating_items[has_sentiment], minlength=item_count).astype(
            np.float64
        ),
        newest_day=newest,
    )
    return table, statistics


def _normalise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    rows = frame.copy()
    for column, default in (
        ("event", "purchase"),
        ("rating", np.nan),
        ("timestamp", np.nan),
        ("weight", 1.0),
        ("review_id", None),
    ):
        if column not in rows.columns:
            rows[column] = default
    rows = rows.dropna(subset=["user_id", "item_id"])
    rows["user_id"] = rows["user_id"].astype(str)
    rows["item_id"] = rows["item_id"].astype(str)
    # Rows with a rating but no event are reviews.
    missing_event = rows["event"].isna()
    if missing_event.any():
        rows.loc[missing_event, "event"] = np.where(
            rows.loc[missing_event, "rating"].notna(), "review", "purchase"
        )
    return rows.reset_index(drop=True)


def _sentiment_for(rows: pd.DataFrame, sentiment: pd.DataFrame | None) -> np.ndarray:
    if "sentiment" in rows.columns:
        return pd.to_numeric(rows["sentiment"], errors="coerce").to_numpy(dtype=np.float64)
    if sentiment is None or len(sentiment) == 0 or "review_id" not in rows.columns:
        return np.full(len(rows), np.nan)
    lookup = (
        pd.Series(
            pd.to_numeric(sentiment["sentiment_score"], errors="coerce").to_numpy(dtype=np.float64),
            index=sentiment["review_id"].astype("string").to_numpy(),
        )
        .groupby(level=0)
        .last()
    )
    mapped = rows["review_id"].astype("string").map(lookup)
    return pd.to_numeric(mapped, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
