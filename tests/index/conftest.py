"""Fixtures of the index tests; the data helpers live in index_data.py."""

from __future__ import annotations

import numpy as np
import pytest
from index_data import clustered_vectors


@pytest.fixture(scope="session")
def clustered() -> tuple[list[str], np.ndarray, np.ndarray]:
    """(item ids, 4,000 x 32 clustered unit vectors, 100 held-out query vectors from the same clusters)."""
    data = clustered_vectors(4_100, 32, 30, seed=7)
    vectors, queries = data[:4_000], data[4_000:]
    return [f"I{number:05d}" for number in range(len(vectors))], vectors, queries
