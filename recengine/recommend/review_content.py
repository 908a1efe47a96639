"""Item vectors that also say what reviewers wrote: catalog text plus the mean vector of the item's reviews.

Catalog text is often thin or the same for many products ("Amazon.com Gift Card in a Greeting Card"),
while reviewers say what a product is for and how it is used ("perfect for my niece's birthday"). On the
Amazon files (bench/evaluate.py, "Embedding" against "Embedding (with reviews)", ranking the whole catalog
by the cosine to the customer's history) it lifted NDCG@10 of the content signal alone from 0.090 to
0.138 on Gift Cards and from 0.039 to 0.200 on Magazine (both significant). The hybrid leans on the
collaborative signal there and moved by -0.0005 and +0.0064 (not significant); on the generated demo shop,
whose reviews are templates, by -0.0025 (`recengine evaluate`, RECENGINE_RECOMMEND__REVIEW_VECTOR_WEIGHT=0
against the default). Against the shops' also-viewed lists (bench/eval_similar.py) the content half of
similar products gained on Gift Cards (precision@10 0.123 -> 0.184) and lost on Magazine (0.081 -> 0.066).
The weight 1 was not tuned on any of these.

Only the reviews among the interactions the recommender is fitted on count (plus anonymous reviews): in
an offline evaluation the held-out review is not in the training interactions, so it cannot describe the
product it is about. The review vectors must come from the same encoder as the item vectors.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


def review_means(
    interactions: pd.DataFrame, review_vectors: Any, positions: Mapping[str, int], size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean review vector (unit length) and review count per catalog position.

    Args:
        interactions: rows with item_id and review_id (rows without a review id are skipped).
        review_vectors: ReviewVectors-like (review_ids, vectors).
        positions: item id -> catalog position.
        size: catalog size.

    Returns:
        (means (size, dimension) float32, zero rows for items without reviews; counts (size,))
    """
    vectors = np.asarray(review_vectors.vectors, dtype=np.float32)
    dimension = vectors.shape[1] if vectors.ndim == 2 else 0
    sums = np.zeros((size, dimension), dtype=np.float32)
    counts = np.zeros(size, dtype=np.int64)
    if "review_id" not in interactions.columns or not len(interactions) or not dimension:
        return sums, counts
    row_of = {str(review_id): row for row, review_id in enumerate(review_vectors.review_ids)}
    reviews = interactions[interactions["review_id"].notna()].drop_duplicates("review_id")
    rows = reviews["review_id"].astype(str).map(row_of)
    items = reviews["item_id"].astype(str).map(positions)
    known = (rows.notna() & items.notna()).to_numpy()
    rows, items = rows[known].to_numpy(dtype=np.int64), items[known].to_numpy(dtype=np.int64)
    np.add.at(sums, items, vectors[rows])
    np.add.at(counts, items, 1)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32), counts


def with_review_text(text_vectors: np.ndarray, means: np.ndarray, weight: float) -> np.ndarray:
    """Unit rows of text vector + weight x review mean (both unit length; zero rows stay zero).

    An item with no catalog text but reviews gets its reviews' direction; one without reviews keeps its
    text vector unchanged.
    """
    mixed = np.asarray(text_vectors, dtype=np.float32) + np.float32(weight) * means
    norms = np.linalg.norm(mixed, axis=1, keepdims=True)
    return np.ascontiguousarray(mixed / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def usable(review_vectors: Any, item_fingerprint: str, dimension: int) -> bool:
    """Whether review vectors can be mixed into item vectors of this encoder and dimension."""
    if review_vectors is None or len(getattr(review_vectors, "review_ids", [])) == 0:
        return False
    vectors = np.asarray(review_vectors.vectors)
    fingerprint = str(getattr(review_vectors, "fingerprint", "") or "")
    if vectors.ndim != 2 or vectors.shape[1] != dimension or (fingerprint and item_fingerprint and fingerprint != item_fingerprint):
        log.warning(
            "review vectors (%s, %s-d) do not match the item vectors (%s, %s-d): item vectors use catalog text only",
            fingerprint or "?", vectors.shape[1] if vectors.ndim == 2 else "?", item_fingerprint or "?", dimension,
        )
        return False
    return True
