"""The frames an evaluation runs on, gathered from a workspace or from a loader of a public data set."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recengine.errors import NotReadyError

if TYPE_CHECKING:
    from recengine.progress import Progress
    from recengine.workspace import Workspace

# How strongly each event says "this customer wants this item"; reviews count as a purchase because a
# review is almost always written after buying.
EVENT_WEIGHTS = {"purchase": 1.0, "review": 1.0, "cart": 0.6, "click": 0.3, "view": 0.2}
INTERACTION_COLUMNS = ("user_id", "item_id", "event", "rating", "timestamp", "weight")


@dataclass(frozen=True)
class EvaluationData:
    """Everything an evaluation needs, as plain frames (no database connection held).

    Attributes:
        name: the data set, for reports.
        items: the catalog (item_id, title, brand, category, description, ...); ranking is over all rows.
        interactions: user_id, item_id, event, rating (may be NaN), timestamp, weight.
        item_vectors: object with `item_ids` and `vectors` (e.g. `recengine.embed.ItemVectors`), or None.
        keywords: item_id -> key phrases from review analysis, or None.
        sentiment: review sentiment frame, or None.
        complements: item_id -> also-bought item ids (bundle ground truth), or None.
        substitutes: item_id -> also-viewed item ids (ground truth of similar products), or None.
        data_version: the workspace's data_version, when taken from one.
        reviews: review_id, user_id, item_id, rating, title, text, timestamp of a loaded public data
            set (its interactions carry the review_id), for `review_analysis.with_review_analysis`;
            None when taken from a workspace (analysed there) or when the data has no review text.
        version_vectors: encoder version id -> item vectors of that registry version, evaluated as
            "Embedding (<version>)" and "Hybrid (<version>)" next to the active model's.
        review_vectors: ReviewVectors-like (review_ids, vectors) of the active encoder, or None: the
            hybrid mixes each item's training reviews into its vector, as it does for users
            (`RecommendSettings.review_vector_weight`). Other encoder versions get catalog text only.
    """

    name: str
    items: pd.DataFrame
    interactions: pd.DataFrame
    item_vectors: Any = None
    keywords: dict[str, list[str]] | None = None
    sentiment: pd.DataFrame | None = None
    complements: dict[str, list[str]] | None = field(default=None, repr=False)
    substitutes: dict[str, list[str]] | None = field(default=None, repr=False)
    data_version: str | None = None
    reviews: pd.DataFrame | None = field(default=None, repr=False)
    version_vectors: dict[str, Any] | None = field(default=None, repr=False)
    review_vectors: Any = field(default=None, repr=False)

    def snapshot(self) -> dict[str, Any]:
        """What the data looked like, saved with an experiment so results can be traced to it."""
        return {
            "name": self.name,
            "data_version": self.data_version,
            "items": int(len(self.items)),
            "interactions": int(len(self.interactions)),
            "users": int(self.interactions["user_id"].nunique()) if len(self.interactions) else 0,
            "item_vectors": getattr(self.item_vectors, "fingerprint", None),
            "version_vectors": {
                version_id: getattr(vectors, "fingerprint", None)
                for version_id, vectors in (self.version_vectors or {}).items()
            } or None,
        }


def interactions_frame(
    user_ids: Any,
    item_ids: Any,
    timestamps: Any,
    *,
    events: Any = "purchase",
    ratings: Any = np.nan,
) -> pd.DataFrame:
    """A canonical interactions frame with weights from the event type."""
    frame = pd.DataFrame(
        {
            "user_id": pd.Series(user_ids).astype(str).to_numpy(),
            "item_id": pd.Series(item_ids).astype(str).to_numpy(),
            "event": events,
            "rating": ratings,
            "timestamp": timestamps,
        }
    )
    frame["rating"] = pd.to_numeric(frame["rating"], errors="coerce").astype(np.float64)
    frame["weight"] = frame["event"].map(EVENT_WEIGHTS).fillna(1.0).astype(np.float64)
    return frame


def from_workspace(
    workspace: Workspace, *, with_vectors: bool = True, progress: Progress | None = None
) -> EvaluationData:
    """Gather a workspace's catalog, events and reviews (as 'review' events) for evaluation.

    Args:
        workspace: the workspace to read (connections are short; nothing is held afterwards).
        with_vectors: also compute or load the item embeddings (needed by the embedding-only and
            hybrid methods and by intra-list diversity).
        progress: receives the embedding progress.
    """
    items = workspace.items()
    interactions = _recommender_interactions(workspace)
    if interactions is None:
        interactions = _own_interactions(workspace)
    if interactions.empty:
        raise NotReadyError(
            "This workspace has no customer interactions or reviews with a user id to evaluate on.",
            hint="Ingest reviews (with a user column) or click/purchase events first.",
        )
    vectors = review_vectors = None
    if with_vectors:
        try:
            from recengine.embed import cached_review_vectors, item_vectors

            vectors = item_vectors(workspace, progress=progress)
            review_vectors = cached_review_vectors(workspace)  # what review analysis encoded; nothing new
        except ImportError:
            vectors = None
    keywords = sentiment = None
    try:
        from recengine.text import item_keywords, review_sentiment

        keywords = item_keywords(workspace) or None
        sentiment = review_sentiment(workspace)
        sentiment = sentiment if len(sentiment) else None
    except ImportError:
        pass
    return EvaluationData(
        name=workspace.root.name,
        items=items,
        interactions=interactions,
        item_vectors=vectors,
        keywords=keywords,
        sentiment=sentiment,
        data_version=workspace.store.get_meta("data_version"),
        review_vectors=review_vectors if review_vectors is not None and review_vectors.review_ids else None,
    )


def _recommender_interactions(workspace: Workspace) -> pd.DataFrame | None:
    """The frame the recommender itself is fitted on (review ids kept for sentiment), when available."""
    try:
        from recengine.recommend.interactions import workspace_interactions
    except ImportError:
        return None
    return workspace_interactions(workspace)


def _own_interactions(workspace: Workspace) -> pd.DataFrame:
    """Events and reviews with a user, as one frame (used when recengine.recommend is absent)."""
    events = workspace.interactions()
    reviews = workspace.reviews()
    parts = []
    if len(events):
        parts.append(
            interactions_frame(
                events["user_id"], events["item_id"], events["timestamp"], events=events["event"].to_numpy()
            )
        )
    reviews = reviews[reviews["user_id"].notna()] if len(reviews) else reviews
    if len(reviews):
        parts.append(
            interactions_frame(
                reviews["user_id"], reviews["item_id"], reviews["timestamp"],
                events="review", ratings=reviews["rating"].to_numpy(),
            )
        )
    if not parts:
        return pd.DataFrame({column: [] for column in INTERACTION_COLUMNS})
    return pd.concat(parts, ignore_index=True)
