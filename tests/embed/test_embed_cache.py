"""Content-addressed cache: hits, misses, invalidation per product, per-model caches, pruning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from embed_catalog import catalog_rows, insert_items, insert_reviews, with_model

from recengine.embed import (
    HashingEncoder,
    item_vectors,
    last_runs,
    pipeline,
    prune_embeddings,
    review_vectors,
)
from recengine.embed import cache as cache_module
from recengine.embed.cache import CacheLookup, EmbeddingCache, cached_models, text_key


@pytest.fixture
def encoded(monkeypatch) -> list[str]:
    """Every text the fake encoder is asked to encode, in order."""
    seen: list[str] = []
    original = HashingEncoder.encode

    def counting(self, texts, *, progress=None):
        seen.extend(texts)
        return original(self, texts, progress=progress)

    monkeypatch.setattr(HashingEncoder, "encode", counting)
    return seen


def test_cold_then_warm_run(catalog_workspace, encoded, monkeypatch):
    first = item_vectors(catalog_workspace)
    assert len(encoded) == 32 and len(first.item_ids) == 32
    assert first.item_ids == sorted(first.item_ids) and first.vectors.shape == (32, 64)
    assert last_runs(catalog_workspace)["items"].encoded == 32
    # Warm: the encoder must not even be loaded.
    monkeypatch.setattr(pipeline, "load_encoder", lambda *a, **k: pytest.fail("encoder loaded on a warm run"))
    cache_module._MEMO.clear()  # as in a fresh process
    second = item_vectors(catalog_workspace)
    np.testing.assert_array_equal(first.vectors, second.vectors)
    run = last_runs(catalog_workspace)["items"]
    assert run.cache_hits == 32 and run.encoded == 0 and run.hit_rate == 1.0


def test_changed_description_reencodes_that_product_only(catalog_workspace, encoded):
    before = item_vectors(catalog_workspace)
    encoded.clear()
    rows = catalog_rows()
    rows[5]["description"] = "Completely new words: titanium camping kettle"
    insert_items(catalog_workspace, [rows[5]])
    after = item_vectors(catalog_workspace)
    assert len(encoded) == 1 and "titanium camping kettle" in encoded[0]
    changed = after.item_ids.index(rows[5]["item_id"])
    assert not np.allclose(before.vectors[changed], after.vectors[changed])
    same = [row for row in range(32) if row != changed]
    np.testing.assert_array_equal(before.vectors[same], after.vectors[same])


def test_identical_texts_are_encoded_once(workspace, encoded):
    rows = catalog_rows()[:3]
    for row in rows:
        row.update(title="Same", description="Same text", brand="B", category="C")
    insert_items(workspace, rows)
    vectors = item_vectors(workspace)
    assert len(encoded) == 1 and vectors.vectors.shape[0] == 3


def test_other_model_uses_its_own_cache_and_prune(catalog_workspace, encoded):
    item_vectors(catalog_workspace)
    other = with_model(catalog_workspace, "fake:32")
    encoded.clear()
    vectors = item_vectors(other)
    assert len(encoded) == 32 and vectors.vectors.shape == (32, 32) and vectors.fingerprint == "fake-hashing-v1-32"
    encoded.clear()
    item_vectors(catalog_workspace)  # back to the first model: still cached
    assert encoded == []
    roots = cached_models(catalog_workspace.root / "embeddings")
    assert set(roots) == {"fake-hashing-v1-64", "fake-hashing-v1-32"}
    report = prune_embeddings(other)
    assert report.removed_models == ["fake-hashing-v1-64"]
    assert set(cached_models(catalog_workspace.root / "embeddings")) == {"fake-hashing-v1-32"}
    item_vectors(catalog_workspace)
    assert len(encoded) == 32  # the pruned model's cache is gone


def test_prune_unused_texts(catalog_workspace):
    item_vectors(catalog_workspace)
    rows = catalog_rows()
    rows[0]["title"] = "Renamed product"
    insert_items(catalog_workspace, [rows[0]])
    item_vectors(catalog_workspace)
    cache = EmbeddingCache(catalog_workspace.root / "embeddings", "fake-hashing-v1-64")
    assert len(cache) == 33
    assert prune_embeddings(catalog_workspace, unused_texts=True).removed_entries == 1
    assert len(EmbeddingCache(catalog_workspace.root / "embeddings", "fake-hashing-v1-64")) == 32


def test_parts_are_compacted_and_deduplicated(tmp_path):
    cache = EmbeddingCache(tmp_path, "m")
    vectors = np.eye(4, dtype=np.float32)
    for number in range(cache_module.MAX_PARTS + 1):
        cache.add([f"k{number}", "shared"], vectors[:2])
    parts = list(cache.directory.glob("part-*.parquet"))
    assert len(parts) == 1
    found, values = EmbeddingCache(tmp_path, "m").lookup(["k0", "shared", "absent"])
    assert found.tolist() == [True, True, False]
    np.testing.assert_array_equal(values[2], 0)


def test_review_vectors_share_the_cache(catalog_workspace, encoded):
    insert_reviews(catalog_workspace, [("R1", "P0000", "Great earbuds"), ("R2", "P1000", "Leaky hose")])
    reviews = review_vectors(catalog_workspace)
    assert reviews.review_ids == ["R1", "R2"] and reviews.vectors.shape == (2, 64)
    assert encoded == ["Great earbuds", "Leaky hose"]  # review template "{title}. {text}" without a title
    encoded.clear()
    review_vectors(catalog_workspace)
    assert encoded == []


def test_memory_after_add_matches_a_fresh_read(tmp_path):
    cache = EmbeddingCache(tmp_path, "m")
    rng = np.random.default_rng(1)
    first, second = rng.random((3, 4), dtype=np.float32), rng.random((2, 4), dtype=np.float32)
    cache.add(["a", "b", "c"], first)
    assert cache.lookup(["a"])[0].all()  # loads the memo
    cache.add(["d", "e"], second)  # extends it
    in_memory = cache.lookup(["e", "a", "x"])
    cache_module._MEMO.clear()
    from_disk = EmbeddingCache(tmp_path, "m").lookup(["e", "a", "x"])
    np.testing.assert_array_equal(in_memory[0], from_disk[0])
    np.testing.assert_array_equal(in_memory[1], from_disk[1])
    np.testing.assert_array_equal(from_disk[1][0], second[1])


def unit_rows(rows: int, dimension: int, *, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_lookup_encodes_each_distinct_missing_text_once_and_keeps_order(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "fp-lookup", 4)
    cache.add([text_key("kettle")], unit_rows(1, 4, seed=5))
    texts = ["toaster", "kettle", "toaster", "mug"]
    lookup = CacheLookup.of(cache, texts)
    assert lookup.missing_texts == ["toaster", "mug"]
    assert lookup.cached == 1
    new = unit_rows(2, 4, seed=6)
    vectors = lookup.complete(new)
    assert vectors.shape == (4, 4)
    np.testing.assert_array_equal(vectors[0], new[0])
    np.testing.assert_array_equal(vectors[2], new[0])
    np.testing.assert_array_equal(vectors[3], new[1])
    np.testing.assert_array_equal(vectors[1], unit_rows(1, 4, seed=5)[0])
    again = CacheLookup.of(cache, texts)
    assert again.missing_texts == [] and again.cached == 3
    np.testing.assert_array_equal(again.complete(), vectors)


def test_lookup_of_nothing_has_the_cache_dimension(tmp_path: Path) -> None:
    assert CacheLookup.of(EmbeddingCache(tmp_path, "fp-empty", 4), []).complete().shape == (0, 4)
    with pytest.raises(ValueError, match="missing texts"):
        CacheLookup.of(EmbeddingCache(tmp_path, "fp-empty", 4), ["a"]).complete()
