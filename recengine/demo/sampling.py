"""Small, fast random choices; `Generator.choice(p=...)` validates its input on every call and
dominated the generation time when called tens of thousands of times on tiny arrays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def pick(rng: np.random.Generator, values: Sequence[T]) -> T:
    """One value, uniformly."""
    return values[int(rng.integers(len(values)))]


def weighted_index(rng: np.random.Generator, weights: np.ndarray) -> int:
    """An index drawn with probability proportional to `weights` (non-negative, not all zero)."""
    cumulative = np.cumsum(weights)
    return int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))


def weighted_sample(rng: np.random.Generator, weights: np.ndarray, count: int) -> np.ndarray:
    """`count` distinct indices, drawn without replacement proportionally to `weights`."""
    # Efraimidis-Spirakis: the largest u^(1/w) keys form a weighted sample without replacement.
    keys = np.log(rng.random(len(weights))) / np.asarray(weights, dtype=float)
    return np.argsort(-keys, kind="stable")[:count]


def cumulative_index(rng: np.random.Generator, cumulative: np.ndarray) -> int:
    """Like `weighted_index`, given `np.cumsum(weights)` computed once for weights used often."""
    return int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
