"""The two small contracts of the recommender, in the spirit of implicit's one-file architecture.

A `CandidateSource` proposes items worth scoring for a user; a `Scorer` gives every proposed item a
value in [0, 1]. Semantic, collaborative, popularity and recency are both; quality is only a scorer.
The hybrid weighs the scorers' values, so the weighted parts add up to the final score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from recengine.recommend.profile import UserProfile


@dataclass
class UserContext:
    """Everything about one request that scorers and sources share; `cache` holds per-user work."""

    profile: UserProfile
    item_count: int
    segment_mask: np.ndarray | None = None  # cold start: restrict popular items to a segment
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def history_positions(self) -> np.ndarray:
        return self.profile.history.positions

    def history_mask(self) -> np.ndarray:
        if "history_mask" not in self.cache:
            mask = np.zeros(self.item_count, dtype=bool)
            mask[self.history_positions] = True
            self.cache["history_mask"] = mask
        return self.cache["history_mask"]


@runtime_checkable
class Scorer(Protocol):
    """Scores items for a user: values in [0, 1], 1 = the best unseen item for this signal."""

    name: str

    def score(self, context: UserContext, positions: np.ndarray | None = None) -> np.ndarray:
        """Values for `positions` (all items when None), float32."""
        ...


@runtime_checkable
class CandidateSource(Protocol):
    """Proposes up to `count` unseen item positions for a user, best first."""

    name: str

    def candidates(self, context: UserContext, count: int) -> np.ndarray:
        """Item positions (int64), never the user's history."""
        ...
