"""Nearest items to a few query vectors, by inner product, without importing faiss.

Three ways, chosen once at fit: the workspace's ItemIndex (recengine.index, FAISS) when one is given
and the catalog is small enough for its exact search to be quick; a clustered scan (a small IVF in
numpy: k-means centres, probe the closest lists) for large catalogs, where a full 100k x 384 scan costs
more than the whole latency budget of one recommendation; an exact numpy scan otherwise.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

import numpy as np


class ItemIndexLike(Protocol):
    """The part of recengine.index.ItemIndex used here."""

    item_ids: list[str]

    def search(
        self,
        query_vectors: np.ndarray,
        k: int,
        *,
        exclude: Collection[str] = (),
        restrict_to: Collection[str] | None = None,
    ) -> list[list[tuple[str, float]]]: ...


class VectorSearch:
    """Top-k items by inner product with each query, as item positions."""

    def __init__(
        self,
        vectors: np.ndarray,
        item_ids: list[str],
        *,
        coarse_above: int = 20_000,
        item_index: ItemIndexLike | None = None,
        seed: int = 0,
    ) -> None:
        self.vectors = vectors
        self.item_ids = item_ids
        self.positions = {item_id: position for position, item_id in enumerate(item_ids)}
        self.item_index = item_index
        self.centres: np.ndarray | None = None
        self.lists: list[np.ndarray] = []
        self.mode = "exact"
        if len(vectors) > coarse_above > 0:
            self._build_coarse(seed)
            self.mode = "coarse"
        elif item_index is not None:
            self.mode = "index"

    def _build_coarse(self, seed: int) -> None:
        count = len(self.vectors)
        lists = max(16, int(2 * np.sqrt(count)))
        random = np.random.default_rng(seed)
        sample = self.vectors[random.choice(count, size=min(count, lists * 40), replace=False)]
        centres = sample[random.choice(len(sample), size=lists, replace=False)].copy()
        for _ in range(6):
            labels = np.argmax(sample @ centres.T, axis=1)
            updated = np.zeros_like(centres)
            np.add.at(updated, labels, sample)
            norms = np.linalg.norm(updated, axis=1, keepdims=True)
            centres = np.where(norms > 0, updated / np.where(norms > 0, norms, 1), centres)
        labels = np.empty(count, dtype=np.int64)
        for start in range(0, count, 20_000):
            labels[start : start + 20_000] = np.argmax(
                self.vectors[start : start + 20_000] @ centres.T, axis=1
            )
        order = np.argsort(labels, kind="stable")
        self.bounds = np.searchsorted(labels[order], np.arange(lists + 1))
        self.order = order
        # Each list is a contiguous block: a probe is a slice, not a gather of scattered rows.
        self.sorted_vectors = np.ascontiguousarray(self.vectors[order])
        self.lists = [order[self.bounds[index] : self.bounds[index + 1]] for index in range(lists)]
        # Views of each list's rows, made once: a probe is then one product, no slicing per request.
        self.list_vectors = [
            self.sorted_vectors[self.bounds[index] : self.bounds[index + 1]] for index in range(lists)
        ]
        self.centres = centres.astype(np.float32)
        self.probes = max(8, lists // 16)

    def search(
        self, queries: np.ndarray, k: int, *, exclude: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Best `k` positions and scores over all queries (max over queries), best first.

        Args:
            queries: (q, d) float32.
            k: how many to return.
            exclude: positions never to return (the user's history).
        """
        if queries.shape[0] == 0 or len(self.vectors) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        excluded = exclude if exclude is not None else np.zeros(0, dtype=np.int64)
        if self.mode == "index" and self.item_index is not None:
            positions, scores = self._search_index(queries, k, excluded)
        else:
            if self.mode == "coarse" and self.centres is not None:
                closeness = queries @ self.centres.T
                probes = min(self.probes, closeness.shape[1])
                nearest = np.argpartition(-closeness, probes - 1, axis=1)[:, :probes]
                chosen = np.unique(nearest.ravel()).tolist()
                pool = np.concatenate([self.lists[index] for index in chosen])
                transposed = np.ascontiguousarray(queries.T)
                # One product per probed list, one max over all of them (fewer numpy calls per list).
                best = np.concatenate([self.list_vectors[index] @ transposed for index in chosen]).max(axis=1)
            else:
                pool = None
                best = (self.vectors @ queries.T).max(axis=1)
            if excluded.size:
                if pool is None:
                    best[excluded] = -np.inf
                else:
                    # A mask lookup instead of np.isin (which sorts both arrays on every request).
                    mask = np.zeros(len(self.vectors), dtype=bool)
                    mask[excluded] = True
                    best[mask[pool]] = -np.inf
            take = min(k, best.size)
            top = np.argpartition(-best, take - 1)[:take] if take else np.zeros(0, dtype=np.int64)
            top = top[np.argsort(-best[top], kind="stable")]
            top = top[np.isfinite(best[top])]
            positions = top if pool is None else pool[top]
            scores = best[top]
        return positions.astype(np.int64), scores.astype(np.float32)

    def _search_index(
        self, queries: np.ndarray, k: int, excluded: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        assert self.item_index is not None
        exclude_ids = [self.item_ids[position] for position in excluded]
        hits: Any = self.item_index.search(
            np.ascontiguousarray(queries, dtype=np.float32), k, exclude=exclude_ids
        )
        best: dict[int, float] = {}
        for row in hits:
            for item_id, score in row:
                position = self.positions.get(item_id)
                if position is not None and score > best.get(position, -np.inf):
                    best[position] = float(score)
        ranked = sorted(best.items(), key=lambda pair: -pair[1])[:k]
        return (
            np.array([position for position, _ in ranked], dtype=np.int64),
            np.array([score for _, score in ranked], dtype=np.float32),
        )
