"""ItemIndex: FAISS inner-product search over item vectors, keyed by item id.

The one place that imports faiss. Vectors are L2-normalised, so inner product = cosine.

Ids: each item gets a stable int64 faiss id (assigned in increasing order, never reused), so items can be
added, replaced and removed without rebuilding. Exact and HNSW indexes are wrapped in `IndexIDMap2`;
IVF indexes take the ids natively (an IVF inside `IndexIDMap2` returns wrong labels after `remove_ids`,
because IVF does not shift its stored ids the way the map assumes) with a hash-table direct map so that
vectors can be read back and removed by id. HNSW cannot remove vectors; for HNSW a removal rebuilds the
graph from the stored vectors.

Filtering (exclude ids, restrict to ids) is done inside faiss with an `IDSelector`, never by scanning
results in Python; when an approximate index returns fewer than k hits under a narrow filter, the search
is repeated probing more lists (IVF) or a wider beam (HNSW).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Collection, Sequence

# Idle OpenMP threads sleep instead of spinning. On a small shared machine (a dashboard next to jobs),
# spinning threads made single-query searches 5-10x slower; set before faiss starts its thread pool.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import faiss  # noqa: E402
import numpy as np

from recengine.index.factory import EXACT_FACTORY, index_kind
from recengine.progress import Progress

log = logging.getLogger(__name__)

# IVF k-means on more points than this per list costs time (k-means is most of a 1M build) for little
# gain in the lists; faiss itself warns below 39.
_TRAIN_POINTS_PER_LIST = 40
_ADD_CHUNK = 100_000
_DEFAULT_EF_SEARCH = 128
# Below this many queries per call, search runs on the calling thread only.
_PARALLEL_QUERIES = 16
_MAX_EF_SEARCH = 4096

SearchResults = list[list[tuple[str, float]]]


def gpu_count() -> int:
    """GPUs faiss can use (0 with faiss-cpu)."""
    try:
        return int(faiss.get_num_gpus())
    except AttributeError:
        return 0


class ItemIndex:
    """A searchable set of item vectors. Build with `ItemIndex.build`, persist with `recengine.index.storage`."""

    def __init__(
        self,
        index: faiss.Index,
        item_ids: Sequence[str],
        faiss_ids: np.ndarray,
        *,
        factory: str,
        fingerprint: str,
        content_keys: Sequence[str] | None = None,
        next_id: int | None = None,
        nprobe: int = 16,
        ef_search: int = _DEFAULT_EF_SEARCH,
    ) -> None:
        if len(item_ids) != len(faiss_ids) or len(item_ids) != index.ntotal:
            raise ValueError("index, item ids and faiss ids disagree in size")
        self._index = index
        self._item_ids = np.asarray(list(item_ids), dtype=object)
        self._faiss_ids = np.asarray(faiss_ids, dtype=np.int64)
        self._content_keys = (
            np.asarray(list(content_keys), dtype=object) if content_keys is not None else None
        )
        self.factory = factory
        self.kind = index_kind(factory)
        self.fingerprint = fingerprint
        self.nprobe = nprobe
        self.ef_search = ef_search
        self.next_id = int(next_id if next_id is not None else (self._faiss_ids.max() + 1 if len(faiss_ids) else 0))
        self._positions: dict[str, int] | None = None
        self._gpu_index: faiss.Index | None = None
        self._gpu_failed = False
        self._lock = threading.RLock()
        self._sort()

    def __getstate__(self) -> dict[str, object]:
        """A copy for another process (Ray workers): the CPU index travels, the lock and GPU copy do not."""
        state = self.__dict__.copy()
        del state["_lock"]
        state["_gpu_index"], state["_gpu_failed"] = None, False
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # -- construction ----------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        item_ids: Sequence[str],
        vectors: np.ndarray,
        *,
        factory: str = EXACT_FACTORY,
        fingerprint: str = "",
        content_keys: Sequence[str] | None = None,
        nprobe: int = 16,
        ef_search: int = _DEFAULT_EF_SEARCH,
        progress: Progress | None = None,
        seed: int = 1234,
    ) -> ItemIndex:
        """Build an index over `vectors` (n, d) float32, unit rows, one per item id.

        Args:
            factory: FAISS factory string ("Flat", "IVF4096,Flat", "HNSW32", ...).
            fingerprint: the model that made the vectors; saved with the index and checked on load.
            content_keys: per item, the cache key of the embedded text; lets callers find changed items.
        """
        vectors = _as_matrix(vectors)
        if len(item_ids) != len(vectors):
            raise ValueError(f"{len(item_ids)} item ids for {len(vectors)} vectors")
        if len(set(item_ids)) != len(item_ids):
            raise ValueError("item ids must be unique")
        dimension = vectors.shape[1]
        kind = index_kind(factory)
        faiss_ids = np.arange(len(item_ids), dtype=np.int64)
        report = progress or (lambda fraction, message: None)
        inner = faiss.index_factory(dimension, factory, faiss.METRIC_INNER_PRODUCT)
        if kind == "ivf":
            ivf = faiss.extract_index_ivf(inner)
            if not inner.is_trained:
                report(0.0, f"training {factory} on {len(vectors):,} vectors")
                inner.train(_training_sample(vectors, ivf.nlist, seed))
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
            index = inner
        else:
            if not inner.is_trained:
                inner.train(vectors)
            index = faiss.IndexIDMap2(inner)
        for start in range(0, len(vectors), _ADD_CHUNK):
            stop = min(start + _ADD_CHUNK, len(vectors))
            index.add_with_ids(vectors[start:stop], faiss_ids[start:stop])
            # 1.0 is reported once, below: a CLI progress line ends at 1.0.
            report(0.99 * stop / max(len(vectors), 1), f"indexed {stop:,} of {len(vectors):,} items")
        report(1.0, f"indexed {len(vectors):,} items ({factory})")
        return cls(
            index,
            item_ids,
            faiss_ids,
            factory=factory,
            fingerprint=fingerprint,
            content_keys=content_keys,
            next_id=len(item_ids),
            nprobe=nprobe,
            ef_search=ef_search,
        )

    # -- properties ------------------------------------------------------------------------------

    @property
    def item_ids(self) -> list[str]:
        return [str(item_id) for item_id in self._item_ids]

    @property
    def content_keys(self) -> list[str] | None:
        return None if self._content_keys is None else [str(key) for key in self._content_keys]

    @property
    def faiss_ids(self) -> np.ndarray:
        return self._faiss_ids.copy()

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def faiss_index(self) -> faiss.Index:
        """The underlying faiss index (for saving); do not mutate it."""
        return self._index

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._position_index()

    def _sort(self) -> None:
        # Faiss ids kept ascending so that labels map back to items with one vectorised searchsorted.
        order = np.argsort(self._faiss_ids, kind="stable")
        if not np.array_equal(order, np.arange(len(order))):
            self._faiss_ids = self._faiss_ids[order]
            self._item_ids = self._item_ids[order]
            if self._content_keys is not None:
                self._content_keys = self._content_keys[order]
        self._positions = None

    def _position_index(self) -> dict[str, int]:
        # A plain dict: looking up 10k ids in a 1M-entry pandas Index cost 50+ ms per call (dtype
        # checks on the whole index), the dict about 1 ms.
        if self._positions is None:
            self._positions = {item_id: position for position, item_id in enumerate(self._item_ids)}
        return self._positions

    def _faiss_ids_of(self, item_ids: Collection[str]) -> np.ndarray:
        """Faiss ids of the given items that are in the index (unknown ids are ignored)."""
        if not item_ids:
            return np.empty(0, dtype=np.int64)
        lookup = self._position_index().get
        positions = [position for position in map(lookup, item_ids) if position is not None]
        return self._faiss_ids[np.asarray(positions, dtype=np.int64)]

    # -- reading ---------------------------------------------------------------------------------

    def vector(self, item_id: str) -> np.ndarray:
        """The stored vector of one item.

        Raises:
            KeyError: the item is not in the index.
        """
        ids = self._faiss_ids_of([item_id])
        if len(ids) == 0:
            raise KeyError(item_id)
        return np.asarray(self._index.reconstruct(int(ids[0])), dtype=np.float32)

    def vectors(self, item_ids: Sequence[str]) -> np.ndarray:
        """Stored vectors of several items, in the order given (KeyError if one is missing)."""
        return np.stack([self.vector(item_id) for item_id in item_ids]) if item_ids else np.empty(
            (0, self.dimension), np.float32
        )

    def search(
        self,
        query_vectors: np.ndarray,
        k: int,
        *,
        exclude: Collection[str] = (),
        restrict_to: Collection[str] | None = None,
    ) -> SearchResults:
        """The k items with the highest inner product (cosine) for each query, best first.

        Args:
            query_vectors: (q, d) or (d,) float32, unit length.
            k: hits per query (fewer when fewer items are eligible).
            exclude: item ids never returned.
            restrict_to: when given, only these item ids can be returned.
        """
        queries = _as_matrix(query_vectors)
        if queries.shape[1] != self.dimension:
            raise ValueError(f"query dimension {queries.shape[1]} != index dimension {self.dimension}")
        empty: SearchResults = [[] for _ in range(len(queries))]
        if k <= 0 or len(self) == 0 or len(queries) == 0:
            return empty
        excluded = self._faiss_ids_of(exclude)
        selector_ids: np.ndarray | None = None
        if restrict_to is not None:
            selector_ids = np.setdiff1d(self._faiss_ids_of(restrict_to), excluded)
            eligible = len(selector_ids)
        else:
            eligible = len(self) - len(np.unique(excluded))
        k = min(k, eligible)
        if k <= 0:
            return empty
        if selector_ids is not None:
            selector: faiss.IDSelector | None = faiss.IDSelectorBatch(selector_ids)
            keep_alive: list[object] = []
        elif len(excluded):
            inner_selector = faiss.IDSelectorBatch(excluded)
            selector = faiss.IDSelectorNot(inner_selector)
            keep_alive = [inner_selector]  # IDSelectorNot holds a raw pointer to it
        else:
            selector, keep_alive = None, []
        distances, labels = self._search(queries, k, selector)
        del keep_alive
        return self._to_results(distances, labels)

    def _search(
        self, queries: np.ndarray, k: int, selector: faiss.IDSelector | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if len(queries) >= _PARALLEL_QUERIES:
            return self._search_with(queries, k, selector)
        # A few queries gain nothing from OpenMP threads and, on a busy machine, wait for them to be
        # scheduled (single-query p50 rose from ~0.1 to 20 ms). The setting is per calling thread.
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._search_with(queries, k, selector)
        finally:
            faiss.omp_set_num_threads(threads)

    def _search_with(
        self, queries: np.ndarray, k: int, selector: faiss.IDSelector | None
    ) -> tuple[np.ndarray, np.ndarray]:
        # faiss has no GPU HNSW; exact and IVF indexes are copied to the GPU for unfiltered search.
        if selector is None and self.kind in ("exact", "ivf") and gpu_count() > 0 and not self._gpu_failed:
            found = self._search_gpu(queries, k)
            if found is not None:
                return found
        if self.kind == "ivf":
            nlist = faiss.extract_index_ivf(self._index).nlist
            width = min(self.nprobe, nlist)
            while True:
                params = faiss.SearchParametersIVF()
                params.nprobe = width
                if selector is not None:
                    params.sel = selector
                distances, labels = self._index.search(queries, k, params=params)
                # A narrow filter can leave the probed lists without k eligible items: probe more.
                if width >= nlist or selector is None or (labels[:, k - 1] >= 0).all():
                    return distances, labels
                width = min(width * 4, nlist)
        if self.kind == "hnsw":
            ef = max(self.ef_search, k)
            while True:
                params = faiss.SearchParametersHNSW()
                params.efSearch = ef
                if selector is not None:
                    params.sel = selector
                distances, labels = self._index.search(queries, k, params=params)
                if ef >= _MAX_EF_SEARCH or selector is None or (labels[:, k - 1] >= 0).all():
                    return distances, labels
                ef = min(ef * 4, _MAX_EF_SEARCH)
        params = faiss.SearchParameters()
        if selector is not None:
            params.sel = selector
        return self._index.search(queries, k, params=params)

    def _search_gpu(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Unfiltered search on the GPU copy (filters need the CPU index: GPU indexes lack IDSelector)."""
        try:
            with self._lock:
                if self._gpu_index is None:
                    self._gpu_index = faiss.index_cpu_to_all_gpus(self._inner())
                    if self.kind == "ivf":
                        _set_nprobe(self._gpu_index, self.nprobe)
            distances, positions = self._gpu_index.search(queries, k)
            if self.kind == "ivf":
                return distances, positions  # IVF stores the faiss ids themselves
            id_map = faiss.vector_to_array(self._index.id_map)
            labels = np.where(positions >= 0, id_map[np.clip(positions, 0, None)], -1)
            return distances, labels
        except Exception:  # noqa: BLE001 - any GPU trouble falls back to the CPU index
            log.warning("faiss GPU search failed; using the CPU index", exc_info=True)
            self._gpu_failed = True
            return None

    def _inner(self) -> faiss.Index:
        return self._index if self.kind == "ivf" else faiss.downcast_index(self._index.index)

    def _to_results(self, distances: np.ndarray, labels: np.ndarray) -> SearchResults:
        valid = labels >= 0
        positions = np.searchsorted(self._faiss_ids, np.where(valid, labels, 0))
        positions = np.clip(positions, 0, max(len(self._faiss_ids) - 1, 0))
        results: SearchResults = []
        for row in range(labels.shape[0]):
            hits = valid[row]
            results.append(
                [
                    (str(self._item_ids[position]), float(score))
                    for position, score in zip(positions[row][hits], distances[row][hits], strict=True)
                ]
            )
        return results

    # -- updates ---------------------------------------------------------------------------------

    def upsert(
        self, item_ids: Sequence[str], vectors: np.ndarray, content_keys: Sequence[str] | None = None
    ) -> None:
        """Add new items and replace the vectors of existing ones, without a full rebuild."""
        vectors = _as_matrix(vectors)
        if len(item_ids) != len(vectors):
            raise ValueError(f"{len(item_ids)} item ids for {len(vectors)} vectors")
        if len(item_ids) == 0:
            return
        if vectors.shape[1] != self.dimension:
            raise ValueError(f"vector dimension {vectors.shape[1]} != index dimension {self.dimension}")
        with self._lock:
            existing = [item_id for item_id in item_ids if item_id in self]
            if existing:
                self.remove(existing)
            new_ids = np.arange(self.next_id, self.next_id + len(item_ids), dtype=np.int64)
            self._index.add_with_ids(vectors, new_ids)
            self.next_id += len(item_ids)
            self._faiss_ids = np.concatenate([self._faiss_ids, new_ids])
            self._item_ids = np.concatenate([self._item_ids, np.asarray(list(item_ids), dtype=object)])
            if self._content_keys is not None:
                keys = list(content_keys) if content_keys is not None else [""] * len(item_ids)
                self._content_keys = np.concatenate([self._content_keys, np.asarray(keys, dtype=object)])
            self._sort()
            self._gpu_index = None

    def remove(self, item_ids: Collection[str]) -> int:
        """Remove items (unknown ids are ignored); return how many were removed."""
        with self._lock:
            ids = np.unique(self._faiss_ids_of(item_ids))
            if len(ids) == 0:
                return 0
            if self.kind == "hnsw":
                self._rebuild_without(ids)
            else:
                # The IVF hash-table direct map accepts only IDSelectorArray for removals.
                removed = self._index.remove_ids(faiss.IDSelectorArray(ids))
                if removed != len(ids):
                    raise RuntimeError(f"faiss removed {removed} of {len(ids)} vectors")
            keep = ~np.isin(self._faiss_ids, ids)
            self._faiss_ids = self._faiss_ids[keep]
            self._item_ids = self._item_ids[keep]
            if self._content_keys is not None:
                self._content_keys = self._content_keys[keep]
            self._positions = None
            self._gpu_index = None
            return len(ids)

    def _rebuild_without(self, removed_ids: np.ndarray) -> None:
        """HNSW graphs cannot drop nodes: rebuild from the stored vectors of the items kept."""
        old_inner = faiss.downcast_index(self._index.index)
        stored_ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        keep = ~np.isin(stored_ids, removed_ids)
        keep_ids = stored_ids[keep]
        kept_vectors = np.ascontiguousarray(old_inner.reconstruct_n(0, old_inner.ntotal)[keep])
        inner = faiss.index_factory(self.dimension, self.factory, faiss.METRIC_INNER_PRODUCT)
        index = faiss.IndexIDMap2(inner)
        if len(keep_ids):
            index.add_with_ids(kept_vectors, keep_ids)
        self._index = index


def _set_nprobe(index: faiss.Index, nprobe: int) -> None:
    """Set nprobe on a GPU (or CPU) IVF copy: searches without parameters use the index's own value."""
    space = getattr(faiss, "GpuParameterSpace", None)
    if space is not None:
        try:
            space().set_index_parameter(index, "nprobe", nprobe)
            return
        except RuntimeError:
            pass
    index.nprobe = nprobe


def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2:
        raise ValueError("vectors must be a (n, d) matrix")
    return np.ascontiguousarray(matrix)


def _training_sample(vectors: np.ndarray, nlist: int, seed: int) -> np.ndarray:
    limit = _TRAIN_POINTS_PER_LIST * nlist
    if len(vectors) <= limit:
        return vectors
    rows = np.sort(np.random.default_rng(seed).choice(len(vectors), size=limit, replace=False))
    return np.ascontiguousarray(vectors[rows])
