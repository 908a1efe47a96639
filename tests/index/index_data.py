"""Seeded clustered vectors: approximate indexes are only meaningfully tested on clustered data.

A plain module (not conftest) so that test files can import it: conftest names collide across folders.
"""

from __future__ import annotations

import numpy as np


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
