"""IVF indexes trained on a sample and filled shard by shard; sharded search; memory estimates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recengine.distributed.shards import vector_batch
from recengine.errors import ConfigError
from recengine.index.scale import (
    ShardedIVF,
    ShardedSearch,
    estimate_memory,
    exact_search,
    recall_at_k,
)


def clustered(count: int, dimension: int, seed: int = 3) -> np.ndarray:
    random = np.random.default_rng(seed)
    centres = random.normal(size=(40, dimension))
    vectors = centres[random.integers(0, 40, count)] + 0.6 * random.normal(size=(count, dimension))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def shards(tmp_path: Path) -> tuple[list[str], list[str], np.ndarray]:
    vectors = clustered(6000, 32)
    ids = [f"I{row:05d}" for row in range(len(vectors))]
    paths = []
    for number, start in enumerate(range(0, len(ids), 2000)):
        path = tmp_path / f"part-{number:05d}.parquet"
        pq.write_table(pa.Table.from_batches([vector_batch(ids[start:start + 2000], vectors[start:start + 2000])]), path)
        paths.append(str(path))
    return paths, ids, vectors


def test_ivf_flat_filled_by_shards_is_exact_when_probing_every_list(shards: tuple[list[str], list[str], np.ndarray]) -> None:
    paths, ids, vectors = shards
    index = ShardedIVF.build(paths, "IVF32,Flat", sample_size=1500, nprobe=32)
    assert len(index) == len(ids) and index.ids == ids
    queries = vectors[::97]
    truth = exact_search(ids, vectors, queries, 10)
    assert recall_at_k(index.search(queries, 10), truth, 10) == pytest.approx(1.0)
    index.nprobe = 1
    assert recall_at_k(index.search(queries, 10), truth, 10) < 1.0  # probing fewer lists trades recall


def test_ivf_pq_recall_and_save_load(shards: tuple[list[str], list[str], np.ndarray], tmp_path: Path) -> None:
    paths, ids, vectors = shards
    index = ShardedIVF.build(paths, "IVF16,PQ8x4", sample_size=1000, nprobe=4)
    assert index.factory == "IVF16,PQ8x4"
    queries = vectors[::97]
    recall = recall_at_k(index.search(queries, 10), exact_search(ids, vectors, queries, 10), 10)
    assert 0.3 < recall < 1.0
    index.save(tmp_path / "idx", "reviews")
    again = ShardedIVF.load(tmp_path / "idx", "reviews")
    assert again.search(queries, 5) == index.search(queries, 5)


def test_sharded_search_merges_parts_into_the_global_top_k(shards: tuple[list[str], list[str], np.ndarray]) -> None:
    paths, ids, vectors = shards
    parts = [ShardedIVF.build([path], "IVF16,Flat", sample_size=1000, nprobe=16) for path in paths]
    search = ShardedSearch(parts)
    queries = vectors[5:25]
    merged, truth = search.search(queries, 10), exact_search(ids, vectors, queries, 10)
    assert recall_at_k(merged, truth, 10) == pytest.approx(1.0)  # every part probes all its lists
    for got, expected in zip(merged, truth, strict=True):
        np.testing.assert_allclose([score for _, score in got], [score for _, score in expected], atol=1e-5)
    hits = search.search(queries[:1], 5, exclude={ids[5]})[0]
    assert ids[5] not in [hit for hit, _ in hits] and len(hits) == 5
    assert len(search) == len(ids)


def test_nlist_is_filled_from_the_shard_sizes(shards: tuple[list[str], list[str], np.ndarray]) -> None:
    paths, ids, _vectors = shards
    index = ShardedIVF.build(paths, "IVF{nlist},Flat")
    assert index.factory == "IVF128,Flat" and len(index) == len(ids)  # nlist_for(6000)


def test_memory_estimate_counts_codes_ids_and_quantisers() -> None:
    flat = estimate_memory("IVF{nlist},Flat", 10_000_000, 384)
    pq48 = estimate_memory("IVF{nlist},PQ48", 10_000_000, 384)
    assert flat.code_bytes == 4 * 384 and pq48.code_bytes == 48
    assert pq48.detail["codes"] == 48 * 10_000_000 and pq48.detail["ids"] == 8 * 10_000_000
    assert pq48.lists == flat.lists == 8192
    assert 0.5 < pq48.gib < 0.6 and 14 < flat.gib < 15
    with pytest.raises(ConfigError):
        ShardedIVF.train(np.zeros((10, 8), np.float32), "IVF64,Flat")
