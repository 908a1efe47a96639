"""FAISS at scale: IVF indexes trained on a sample and filled shard by shard, memory estimates, and
search over several index shards merged into one top-k.

`ItemIndex` builds from one in-memory matrix, which is right up to a few million vectors. Beyond that
(10M products, 100M reviews) the vectors live in Parquet shards (`recengine.distributed`): `ShardedIVF`
trains the coarse quantiser (and PQ codebooks) on a sample drawn evenly from the shards, then adds one
shard at a time, so memory holds the codes plus one shard. `ShardedSearch` searches several such indexes
(one per node or per shard group) and merges their hits by score, for batch export jobs where each
index fits a node but the whole does not. Like the rest of this package, the only module set that
imports faiss; the metric is inner product on unit vectors (= cosine).
"""

from __future__ import annotations

import heapq
import json
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import pyarrow.parquet as pq

from recengine.errors import ConfigError, IndexFileError
from recengine.index.factory import nlist_for
from recengine.progress import Progress, no_progress

ID_BYTES = 8  # an IVF list stores an int64 id next to every code
TRAIN_POINTS_PER_LIST = 40


@dataclass(frozen=True)
class IndexEstimate:
    """Memory of a FAISS index of `vectors` vectors, from the factory string (nothing is built)."""

    factory: str
    vectors: int
    dimension: int
    code_bytes: int  # per vector
    lists: int
    total_bytes: int
    detail: dict[str, int]

    @property
    def gib(self) -> float:
        return self.total_bytes / 2**30


def code_size(dimension: int, factory: str) -> int:
    """Bytes per stored vector code: faiss.contrib.factory_tools when present, else computed."""
    try:
        from faiss.contrib.factory_tools import get_code_size

        return int(get_code_size(dimension, factory))
    except (ImportError, RuntimeError, AssertionError, ValueError):
        pass
    tail = factory.split(",")[-1].strip().upper()
    match = re.fullmatch(r"PQ(\d+)(?:X(\d+))?", tail)
    if match:
        return int(match.group(1)) * int(match.group(2) or 8) // 8
    if tail == "FLAT":
        return 4 * dimension
    if tail in ("SQ8",):
        return dimension
    if tail in ("SQFP16", "SQ16"):
        return 2 * dimension
    raise ConfigError(f"Cannot size the codes of {factory!r}.", hint="Use IVF{n},Flat, IVF{n},PQ{m} or IVF{n},SQ8.")


def _lists(factory: str) -> int:
    match = re.search(r"IVF(\d+)", factory.upper())
    return int(match.group(1)) if match else 0


def estimate_memory(factory: str, vectors: int, dimension: int) -> IndexEstimate:
    """Memory of `factory` holding `vectors` vectors of `dimension` floats (codes, ids, quantisers).

    Args:
        factory: a FAISS factory string, "{nlist}" allowed (filled with `nlist_for(vectors)`).
        vectors: how many vectors the index holds.
        dimension: their dimension.
    """
    factory = factory.format(nlist=nlist_for(vectors))
    code = code_size(dimension, factory)
    lists = _lists(factory)
    detail = {
        "codes": code * vectors,
        "ids": ID_BYTES * vectors if lists else 0,
        "coarse_centroids": 4 * dimension * lists,
    }
    pq_match = re.search(r"PQ(\d+)(?:x(\d+))?", factory, re.IGNORECASE)
    if pq_match:
        bits = int(pq_match.group(2) or 8)
        detail["pq_codebooks"] = 4 * dimension * (2**bits)  # M sub-quantisers x 2^bits x (d/M) floats
    opq = re.match(r"OPQ(\d+)", factory, re.IGNORECASE)
    if opq:
        detail["opq_rotation"] = 4 * dimension * dimension
    return IndexEstimate(factory, vectors, dimension, code, lists, sum(detail.values()), detail)


# -- building from shards ----------------------------------------------------------------------------------


def _read_shard(path: str, id_column: str) -> tuple[list[str], np.ndarray]:
    table = pq.read_table(path, columns=[id_column, "vector"])
    vectors = table.column("vector").combine_chunks()
    width = vectors.type.list_size
    matrix = vectors.values.to_numpy(zero_copy_only=False).reshape(-1, width).astype(np.float32)
    return [str(value) for value in table.column(id_column).to_pylist()], np.ascontiguousarray(matrix)


def sample_shards(paths: Sequence[str], size: int, *, seed: int = 0, id_column: str = "key") -> np.ndarray:
    """About `size` vectors drawn evenly from every shard (each shard read once, one at a time)."""
    random = np.random.default_rng(seed)
    rows = [pq.ParquetFile(path).metadata.num_rows for path in paths]
    total = max(sum(rows), 1)
    chunks = []
    for path, count in zip(paths, rows, strict=True):
        take = min(count, max(1, round(size * count / total))) if count else 0
        if not take:
            continue
        _ids, vectors = _read_shard(path, id_column)
        chunks.append(vectors[np.sort(random.choice(count, size=take, replace=False))])
    return np.concatenate(chunks) if chunks else np.empty((0, 0), np.float32)


class ShardedIVF:
    """An IVF index (Flat, SQ or PQ codes) trained on a sample, filled one shard at a time.

    Ids are strings (item or review ids); faiss holds int64 positions into `ids`.
    """

    def __init__(self, index: faiss.Index, ids: list[str], factory: str, nprobe: int = 16) -> None:
        self.index = index
        self.ids = ids
        self.factory = factory
        self.nprobe = nprobe

    @classmethod
    def train(cls, sample: np.ndarray, factory: str, *, nprobe: int = 16, seed: int = 0) -> ShardedIVF:
        """An empty index whose quantisers are trained on `sample` (about 40 points per list suffice)."""
        sample = np.ascontiguousarray(sample, dtype=np.float32)
        if sample.ndim != 2 or len(sample) == 0:
            raise ConfigError("Training an IVF index needs a non-empty (n, d) sample.")
        if "{nlist}" in factory:
            raise ConfigError("Fill {nlist} before training (estimate_memory / nlist_for choose it).")
        index = faiss.index_factory(sample.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
        ivf = faiss.extract_index_ivf(index)
        if len(sample) < ivf.nlist:
            raise ConfigError(f"{len(sample):,} sample vectors cannot train {ivf.nlist:,} lists.",
                              hint="Sample at least 40 vectors per list, or use fewer lists.")
        ivf.cp.seed = seed
        index.train(sample)
        return cls(index, [], factory, nprobe)

    @classmethod
    def build(
        cls,
        paths: Sequence[str],
        factory: str,
        *,
        sample_size: int | None = None,
        nprobe: int = 16,
        id_column: str = "key",
        progress: Progress | None = None,
    ) -> ShardedIVF:
        """Train on a sample of the shards at `paths`, then add every shard in turn.

        Args:
            paths: Parquet files with `id_column` and a fixed-size-list `vector` column.
            factory: FAISS factory string; "{nlist}" is filled from the total row count.
            sample_size: training vectors (default 40 per list, at most 1M).
        """
        report = progress or no_progress
        total = sum(pq.ParquetFile(path).metadata.num_rows for path in paths)
        factory = factory.format(nlist=nlist_for(total))
        lists = _lists(factory) or 1
        size = sample_size or min(TRAIN_POINTS_PER_LIST * lists, 1_000_000)
        report(0.0, f"sampling {size:,} of {total:,} vectors to train {factory}")
        index = cls.train(sample_shards(paths, size, id_column=id_column), factory, nprobe=nprobe)
        for number, path in enumerate(paths):
            ids, vectors = _read_shard(path, id_column)
            index.add(ids, vectors)
            report(0.2 + 0.8 * (number + 1) / len(paths), f"added shard {number + 1} of {len(paths)}")
        return index

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        start = len(self.ids)
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                np.arange(start, start + len(ids), dtype=np.int64))
        self.ids.extend(str(value) for value in ids)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def item_ids(self) -> list[str]:
        return self.ids

    def search_raw(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, positions) of the top k per query; position -1 where fewer than k were found."""
        faiss.extract_index_ivf(self.index).nprobe = self.nprobe
        return self.index.search(np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32), k)

    def search(
        self, query_vectors: np.ndarray, k: int, *, exclude: Collection[str] = (),
        restrict_to: Collection[str] | None = None,
    ) -> list[list[tuple[str, float]]]:
        """(id, score) top k per query, `exclude`d ids left out (by fetching that many more)."""
        return _filtered(self.search_raw(query_vectors, k + len(exclude) + (4 * k if restrict_to is not None else 0)),
                         self.ids, k, exclude, restrict_to)

    def save(self, directory: Path, name: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(directory / f"{name}.faiss"))
        (directory / f"{name}.ids.json").write_text(
            json.dumps({"factory": self.factory, "nprobe": self.nprobe, "ids": self.ids}), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, name: str) -> ShardedIVF:
        try:
            meta = json.loads((directory / f"{name}.ids.json").read_text(encoding="utf-8"))
            index = faiss.read_index(str(directory / f"{name}.faiss"))
        except (OSError, ValueError, RuntimeError) as error:
            raise IndexFileError(f"Cannot read the index {name} in {directory}: {error}") from error
        if index.ntotal != len(meta["ids"]):
            raise IndexFileError(f"The index {name} holds {index.ntotal} vectors but lists {len(meta['ids'])} ids.")
        return cls(index, list(meta["ids"]), str(meta["factory"]), int(meta["nprobe"]))


def _filtered(
    found: tuple[np.ndarray, np.ndarray], ids: list[str], k: int, exclude: Collection[str],
    restrict_to: Collection[str] | None,
) -> list[list[tuple[str, float]]]:
    excluded = set(exclude)
    allowed = set(restrict_to) if restrict_to is not None else None
    results = []
    for scores, positions in zip(*found, strict=True):
        hits = []
        for score, position in zip(scores, positions, strict=True):
            if position < 0:
                continue
            item_id = ids[position]
            if item_id in excluded or (allowed is not None and item_id not in allowed):
                continue
            hits.append((item_id, float(score)))
            if len(hits) == k:
                break
        results.append(hits)
    return results


class ShardedSearch:
    """Search several indexes (each over its own part of the ids) as one: per-index top k, merged by score.

    Exact when every part is exact; with IVF parts each part's recall carries over. The parts can be
    searched on different Ray actors; here they are searched in turn.
    """

    def __init__(self, parts: Sequence[ShardedIVF]) -> None:
        self.parts = list(parts)

    @property
    def item_ids(self) -> list[str]:
        return [item_id for part in self.parts for item_id in part.ids]

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    def search(
        self, query_vectors: np.ndarray, k: int, *, exclude: Collection[str] = (),
        restrict_to: Collection[str] | None = None,
    ) -> list[list[tuple[str, float]]]:
        per_part = [part.search(query_vectors, k, exclude=exclude, restrict_to=restrict_to) for part in self.parts]
        merged = []
        for query in range(len(np.atleast_2d(query_vectors))):
            hits = heapq.nlargest(k, (hit for part in per_part for hit in part[query]), key=lambda hit: hit[1])
            merged.append(hits)
        return merged


def recall_at_k(approximate: list[list[tuple[str, float]]], exact: list[list[tuple[str, float]]], k: int) -> float:
    """Mean share of the exact top k that the approximate search found."""
    if not exact:
        return math.nan
    shares = [len({hit for hit, _ in found[:k]} & {hit for hit, _ in truth[:k]}) / max(min(k, len(truth)), 1)
              for found, truth in zip(approximate, exact, strict=True)]
    return float(np.mean(shares))


def exact_search(ids: list[str], vectors: np.ndarray, queries: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
    """Ground truth for `recall_at_k`: a flat inner-product search."""
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return _filtered(index.search(np.ascontiguousarray(queries, dtype=np.float32), k), ids, k, (), None)
