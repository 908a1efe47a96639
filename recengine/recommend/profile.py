"""User profiles: interest vectors from a weighted history, and a summary a merchandiser can read.

History weights come from `interactions.build_history` (event type, rating, sentiment, recency).
Disliked items (negative affinity) are subtracted, so they push each interest away from them.
Users with several distinct tastes get several interest vectors (weighted spherical k-means over the
history), not one blurred average.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from recengine.recommend.catalog import Catalog
from recengine.recommend.results import ProfileSummary


@dataclass(frozen=True)
class UserHistory:
    """One user's history by item position, strongest first."""

    user_id: str
    positions: np.ndarray  # int64 item positions
    affinity: np.ndarray  # signed
    confidence: np.ndarray  # positive
    ratings: np.ndarray  # nan when unrated
    events: np.ndarray  # event codes (see interactions.EVENTS)

    @property
    def size(self) -> int:
        return int(self.positions.size)

    @cached_property
    def liked(self) -> np.ndarray:
        """Positions of the liked items (affinity > 0), in history order."""
        return self.positions[self.affinity > 0]

    @cached_property
    def index_of(self) -> dict[int, int]:
        """Item position -> its first index in the history (explanations look items up by position)."""
        index: dict[int, int] = {}
        for row, position in enumerate(self.positions.tolist()):
            index.setdefault(int(position), row)
        return index

    @classmethod
    def empty(cls, user_id: str = "") -> UserHistory:
        nothing = np.zeros(0)
        return cls(user_id, np.zeros(0, dtype=np.int64), nothing, nothing, nothing, nothing)


@dataclass(frozen=True)
class UserProfile:
    """Interest vectors (unit rows) and where they came from: 'history', 'text' or 'none'.

    `composition` (m, history size) says what each interest is made of: interest i equals
    `composition[i] @ vectors[history.positions]` (liked members with positive coefficients, disliked
    items with negative ones), so the semantic score of an item splits exactly over the history
    products (explanations). None for profiles that do not come from a history.
    """

    user_id: str
    history: UserHistory
    interests: np.ndarray  # (m, d) float32, possibly (0, d)
    interest_weights: np.ndarray  # (m,) shares summing to 1
    source: str
    composition: np.ndarray | None = None

    @property
    def has_interests(self) -> bool:
        return self.interests.shape[0] > 0


def build_profile(
    history: UserHistory,
    vectors: np.ndarray | None,
    *,
    max_interests: int = 3,
    dislike_push: float = 1.0,
    merge_cosine: float = 0.85,
) -> UserProfile:
    """Interest vectors for a user from their history and the item vectors.

    Args:
        history: the user's history (positions and signed affinity).
        vectors: unit item vectors by position, or None when the catalog is not embedded.
        max_interests: at most this many interest vectors.
        dislike_push: scale of the disliked items' pull away from each interest.
        merge_cosine: clusters whose centres are closer than this are merged.
    """
    dimension = vectors.shape[1] if vectors is not None else 0
    none = np.zeros((0, dimension), dtype=np.float32)
    if vectors is None or history.size == 0:
        return UserProfile(history.user_id, history, none, np.zeros(0), "none")
    liked = history.affinity > 0
    if not liked.any():
        return UserProfile(history.user_id, history, none, np.zeros(0), "none")
    liked_vectors = vectors[history.positions[liked]]
    liked_weights = history.affinity[liked]
    usable = np.linalg.norm(liked_vectors, axis=1) > 0
    if not usable.any():
        return UserProfile(history.user_id, history, none, np.zeros(0), "none")
    liked_vectors, liked_weights = liked_vectors[usable], liked_weights[usable]
    clusters = min(max_interests, max(1, int(usable.sum()) // 2))
    centres, shares, members = weighted_spherical_kmeans(liked_vectors, liked_weights, clusters, merge_cosine)
    # Coefficients over the whole history (vectors are unit rows, so kmeans' own normalisation is 1).
    composition = np.zeros((len(centres), history.size))
    composition[:, np.flatnonzero(liked)[usable]] = members
    disliked = history.affinity < 0
    if disliked.any() and dislike_push > 0:
        # Subtract the disliked items in proportion to how much they weigh against the likes.
        dislike = (vectors[history.positions[disliked]] * history.affinity[disliked, None]).sum(0)
        scale = dislike_push / max(float(liked_weights.sum()), 1e-9)
        centres = centres + scale * dislike[None, :]
        composition[:, disliked] = scale * history.affinity[disliked][None, :]
    norms = np.linalg.norm(centres, axis=1, keepdims=True)
    norms = np.where(norms > 0, norms, 1.0)
    return UserProfile(
        history.user_id, history, (centres / norms).astype(np.float32), shares, "history", composition / norms
    )


def profile_from_vector(vector: np.ndarray, user_id: str = "") -> UserProfile:
    """A profile from one vector (staff-typed interests encoded with the query encoder)."""
    unit = _unit_rows(np.asarray(vector, dtype=np.float32).reshape(1, -1))
    return UserProfile(user_id, UserHistory.empty(user_id), unit, np.ones(1), "text")


def weighted_spherical_kmeans(
    vectors: np.ndarray, weights: np.ndarray, clusters: int, merge_cosine: float, iterations: int = 8
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cluster unit vectors by cosine with sample weights; deterministic (farthest-point start).

    Returns:
        (centres (m, d) unit rows, shares (m,) of the total weight, members (m, n): each centre as a
        combination of the input vectors, `centres == members @ unit(vectors)`), m <= clusters,
        heaviest first.
    """
    vectors = _unit_rows(vectors.astype(np.float64))
    weights = np.asarray(weights, dtype=np.float64)
    if clusters <= 1 or len(vectors) <= 1:
        total = (vectors * weights[:, None]).sum(0, keepdims=True)
        norm = _norm_or_one(total)
        return total / norm, np.ones(1), weights[None, :] / norm
    # Farthest-point initialisation from the heaviest item: distinct tastes get their own seed.
    seeds = [int(np.argmax(weights))]
    for _ in range(clusters - 1):
        closeness = (vectors @ vectors[seeds].T).max(1)
        candidate = int(np.argmin(closeness))
        if closeness[candidate] >= merge_cosine:
            break
        seeds.append(candidate)
    centres = vectors[seeds]
    members = np.zeros((len(seeds), len(vectors)))
    members[np.arange(len(seeds)), seeds] = 1.0
    labels = np.zeros(len(vectors), dtype=np.int64)
    weighted = vectors * weights[:, None]
    for _ in range(iterations):
        labels = np.argmax(vectors @ centres.T, axis=1)
        # Weighted sum per cluster as one product with the one-hot labels (np.add.at is slow).
        onehot = (labels[None, :] == np.arange(len(centres))[:, None]).astype(np.float64)
        updated = onehot @ weighted
        updated_members = onehot * weights[None, :]
        empty = ~updated.any(axis=1)
        updated[empty] = centres[empty]
        updated_members[empty] = members[empty]
        norms = _norm_or_one(updated)
        updated, updated_members = updated / norms, updated_members / norms
        # np.allclose's test (rtol 1e-5, atol 1e-8) without its per-call overhead.
        if (np.abs(updated - centres) <= 1e-8 + 1e-5 * np.abs(centres)).all():
            break
        centres, members = updated, updated_members
    shares = np.bincount(labels, weights=weights, minlength=len(centres))
    centres, shares, members = _merge_close(centres, shares, members, merge_cosine)
    order = np.argsort(-shares)
    total = shares.sum()
    return centres[order], shares[order] / (total if total > 0 else 1.0), members[order]


def _merge_close(
    centres: np.ndarray, shares: np.ndarray, members: np.ndarray, merge_cosine: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    centres, shares, members = centres.copy(), shares.copy(), members.copy()
    while len(centres) > 1:
        similarity = centres @ centres.T
        np.fill_diagonal(similarity, -np.inf)
        first, second = np.unravel_index(np.argmax(similarity), similarity.shape)
        if similarity[first, second] < merge_cosine:
            break
        merged = (centres[first] * shares[first] + centres[second] * shares[second])[None]
        merged_members = (members[first] * shares[first] + members[second] * shares[second])[None]
        norm = _norm_or_one(merged)
        keep = [index for index in range(len(centres)) if index not in (first, second)]
        centres = np.vstack([centres[keep], merged / norm])
        members = np.vstack([members[keep], merged_members / norm])
        shares = np.concatenate([shares[keep], [shares[first] + shares[second]]])
    return centres, shares, members


def _norm_or_one(matrix: np.ndarray) -> np.ndarray:
    """Row norms (m, 1), 1 where a row is zero (so dividing leaves it zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.where(norms > 0, norms, 1.0)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / _norm_or_one(matrix)


def summarise_profile(
    profile: UserProfile,
    catalog: Catalog,
    *,
    aspects: list[str] | None = None,
    top: int = 5,
) -> ProfileSummary:
    """Top categories, brands, price band and counts of a user's history, for the dashboard."""
    history = profile.history
    liked = history.affinity > 0
    weights = history.affinity[liked]
    positions = history.positions[liked]
    total = float(weights.sum()) or 1.0

    def shares(values: np.ndarray) -> list[tuple[str, float]]:
        counter: dict[str, float] = {}
        for value, weight in zip(values, weights, strict=True):
            if value:
                counter[str(value)] = counter.get(str(value), 0.0) + float(weight)
        ranked = sorted(counter.items(), key=lambda pair: -pair[1])[:top]
        return [(name, round(weight / total, 3)) for name, weight in ranked]

    prices = catalog.prices[history.positions] if history.size else np.zeros(0)
    prices = prices[~np.isnan(prices)]
    band = (
        (float(np.percentile(prices, 10)), float(np.median(prices)), float(np.percentile(prices, 90)))
        if prices.size
        else None
    )
    rated = history.ratings[~np.isnan(history.ratings)] if history.size else np.zeros(0)
    return ProfileSummary(
        user_id=history.user_id,
        history_items=history.size,
        reviews=int(rated.size),
        average_rating=round(float(rated.mean()), 2) if rated.size else None,
        top_categories=shares(catalog.categories[positions]),
        top_brands=shares(catalog.brands[positions]),
        price_band=band,
        interests=int(profile.interests.shape[0]),
        disliked_items=int((history.affinity < 0).sum()),
        favourite_aspects=list(aspects or [])[:top],
    )
