"""Seeded clustered vectors: approximate indexes are only meaningfully tested on clustered data."""

from __future__ import annotations

import numpy as np
import pytest


def clustered_vectors(count: int, dimension: int, clusters: int, seed: int, spread: float = 0.35) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dimension)).astype(np.float32)
    labels = rng.integers(0, clusters, size=count)
    vectors = centres[labels] + spread * rng.standard_normal((count, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    scores = queries @ vectors.T
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


@pytest.fixture(scope="session")
def clustered() -> tuple[list[str], np.ndarray, np.ndarray]:
    """(item ids, 4,000 x 32 clustered unit vectors, 100 held-out query vectors from the same clusters)."""
    data = clustered_vectors(4_100, 32, 30, seed=7)
    vectors, queries = data[:4_000], data[4_000:]
    return [f"I{number:05d}" for number in range(len(vectors))], vectors, queries
