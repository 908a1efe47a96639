"""Scorers (semantic, collaborative, popularity, quality, recency) and the hybrid that adds them up.

Every scorer returns values in [0, 1]. The hybrid multiplies each by its weight; these weighted values
are the components shown in explanations, and they add up to the score. Weights come from
`RecommendSettings` and can be overridden per call (the dashboard's sliders).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import sparse

from recengine.config import RecommendSettings
from recengine.errors import ConfigError
from recengine.recommend.collaborative import user_scores
from recengine.recommend.interactions import ItemStatistics
from recengine.recommend.new_products import BorrowedSignal, with_borrowed_scores
from recengine.recommend.protocols import Scorer, UserContext
from recengine.recommend.vector_search import VectorSearch

COMPONENTS = ("semantic", "collaborative", "popularity", "quality", "recency")
RULES_COMPONENT = "rules"
_TINY = 1e-9


def weights_from_settings(
    settings: RecommendSettings, overrides: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Component weights from settings, with per-call overrides by component name."""
    weights = {name: float(getattr(settings, f"weight_{name}")) for name in COMPONENTS}
    for name, value in (overrides or {}).items():
        if name not in weights:
            raise ConfigError(
                f"Unknown score component {name!r}.", hint=f"Use one of: {', '.join(COMPONENTS)}."
            )
        if value < 0:
            raise ConfigError(f"Weight of {name} is {value}; weights must be 0 or more.")
        weights[name] = float(value)
    return weights


class SemanticScorer:
    """Cosine between the user's interest vectors and the item (best interest wins)."""

    name = "semantic"

    def __init__(self, vectors: np.ndarray | None, search: VectorSearch | None) -> None:
        self.vectors = vectors
        self.search = search

    def candidates(self, context: UserContext, count: int) -> np.ndarray:
        profile = context.profile
        if self.search is None or not profile.has_interests:
            return np.zeros(0, dtype=np.int64)
        positions, scores = self.search.search(
            profile.interests, count, exclude=context.history_positions
        )
        if scores.size:
            context.cache["semantic_norm"] = max(float(scores[0]), _TINY)
        return positions

    def _raw(self, context: UserContext, positions: np.ndarray | None) -> np.ndarray:
        assert self.vectors is not None
        block = self.vectors if positions is None else self.vectors[positions]
        return (block @ context.profile.interests.T).max(axis=1)

    def score(self, context: UserContext, positions: np.ndarray | None = None) -> np.ndarray:
        size = context.item_count if positions is None else len(positions)
        if self.vectors is None or not context.profile.has_interests:
            return np.zeros(size, dtype=np.float32)
        raw = self._raw(context, positions)
        if "semantic_norm" not in context.cache:
            full = raw if positions is None else self._raw(context, None)
            unseen = full[~context.history_mask()]
            context.cache["semantic_norm"] = max(float(unseen.max()) if unseen.size else 0.0, _TINY)
        return np.clip(raw / context.cache["semantic_norm"], 0.0, 1.0).astype(np.float32)


class CollaborativeScorer:
    """Item-to-item signal (co-occurrence or EASE weights) summed over the user's (recency-weighted) history;
    products nobody has bought borrow their sources' scores (new_products.py)."""

    name = "collaborative"

    def __init__(self, similarity: sparse.csr_matrix, borrowed: BorrowedSignal | None = None) -> None:
        self.similarity = similarity  # the signal without borrowed columns
        self.borrowed = borrowed if borrowed is not None else BorrowedSignal.none(similarity.shape[0])

    def raw_scores(self, context: UserContext) -> tuple[np.ndarray, float]:
        """(every item's sum of history weight x matrix entry, the norm: the best unseen one); cached."""
        if "collaborative" not in context.cache:
            history = context.profile.history
            scores = with_borrowed_scores(
                user_scores(history.positions, history.confidence, self.similarity), self.borrowed
            )
            unseen = scores.copy()
            unseen[history.positions] = 0.0
            context.cache["collaborative"] = (scores, max(float(unseen.max(initial=0.0)), _TINY))
        return context.cache["collaborative"]

    def candidates(self, context: UserContext, count: int) -> np.ndarray:
        scores, _ = self.raw_scores(context)
        unseen = scores.copy()
        unseen[context.history_positions] = 0.0
        nonzero = np.flatnonzero(unseen > 0)
        if nonzero.size > count:
            nonzero = nonzero[np.argpartition(-unseen[nonzero], count - 1)[:count]]
        return nonzero[np.argsort(-unseen[nonzero], kind="stable")].astype(np.int64)

    def score(self, context: UserContext, positions: np.ndarray | None = None) -> np.ndarray:
        scores, norm = self.raw_scores(context)
        values = scores if positions is None else scores[positions]
        return np.clip(values / norm, 0.0, 1.0).astype(np.float32)


class StaticScorer:
    """A per-item value that does not depend on the user (popularity, quality, recency)."""

    def __init__(self, name: str, values: np.ndarray) -> None:
        self.name = name
        self.values = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)
        self.order = np.argsort(-self.values, kind="stable")

    def candidates(self, context: UserContext, count: int) -> np.ndarray:
        order = self.order
        if context.segment_mask is not None:
            order = order[context.segment_mask[order]]
        taken = order[: count + context.history_positions.size]
        taken = taken[~context.history_mask()[taken]]
        return taken[:count].astype(np.int64)

    def score(self, context: UserContext, positions: np.ndarray | None = None) -> np.ndarray:
        return self.values if positions is None else self.values[positions]


def popularity_values(statistics: ItemStatistics) -> np.ndarray:
    """log(1 + customers), scaled so the most popular item is 1."""
    values = np.log1p(statistics.customers)
    return values / max(float(values.max(initial=0.0)), _TINY)


def recency_values(statistics: ItemStatistics) -> np.ndarray:
    """Trending: interactions decayed from the newest date in the data, log-scaled to [0, 1]."""
    values = np.log1p(statistics.trending)
    return values / max(float(values.max(initial=0.0)), _TINY)


def quality_values(statistics: ItemStatistics, prior_reviews: float) -> tuple[np.ndarray, np.ndarray]:
    """Bayesian average rating (shrunk to the catalog mean), blended with review sentiment.

    Returns:
        (quality in [0, 1] scaled over the catalog, Bayesian average stars per item)
    """
    count = statistics.rating_count
    total = count.sum()
    mean = float(statistics.rating_sum.sum() / total) if total else 3.0
    stars = (statistics.rating_sum + prior_reviews * mean) / (count + prior_reviews + _TINY)
    value = (stars - 1.0) / 4.0
    sentiment_count = statistics.sentiment_count
    if sentiment_count.sum():
        sentiment_mean = float(statistics.sentiment_sum.sum() / sentiment_count.sum())
        sentiment = (statistics.sentiment_sum + prior_reviews * sentiment_mean) / (
            sentiment_count + prior_reviews
        )
        value = 0.5 * value + 0.5 * (sentiment + 1.0) / 2.0
    low, high = float(value.min(initial=0.0)), float(value.max(initial=0.0))
    scaled = (value - low) / (high - low) if high - low > _TINY else np.zeros_like(value)
    return scaled.astype(np.float32), stars


class HybridScorer:
    """Weighted sum of scorers. Components are the weighted values; they add up to the score."""

    def __init__(self, scorers: Mapping[str, Scorer]) -> None:
        self.scorers = dict(scorers)

    def score(
        self, context: UserContext, positions: np.ndarray | None, weights: Mapping[str, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(totals (n,), weighted components (n, len(COMPONENTS))) for `positions` (None = all)."""
        size = context.item_count if positions is None else len(positions)
        components = np.zeros((size, len(COMPONENTS)), dtype=np.float64)
        for column, name in enumerate(COMPONENTS):
            weight = weights.get(name, 0.0)
            if weight and name in self.scorers:
                components[:, column] = weight * self.scorers[name].score(context, positions)
        return components.sum(axis=1), components


