"""ItemIndex: exact vs approximate recall, filters inside faiss, incremental updates, save/load checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from index_data import clustered_vectors, exact_top_k

from recengine.config import IndexSettings
from recengine.errors import IndexFileError
from recengine.index import ItemIndex, choose_factory, index_paths, load_index, nlist_for, save_index

FACTORIES = ["Flat", "IVF32,Flat", "HNSW32"]


def recall_at_k(index: ItemIndex, item_ids: list[str], vectors: np.ndarray, queries: np.ndarray, k: int) -> float:
    truth = exact_top_k(vectors, queries, k)
    found = index.search(queries, k)
    hits = [len({item_ids[row] for row in truth[q]} & {hit for hit, _ in found[q]}) for q in range(len(queries))]
    return sum(hits) / (k * len(queries))


def test_exact_index_matches_brute_force(clustered):
    item_ids, vectors, queries = clustered
    index = ItemIndex.build(item_ids, vectors, factory="Flat", fingerprint="m")
    results = index.search(queries[:5], 10)
    truth = exact_top_k(vectors, queries[:5], 10)
    for query, hits in enumerate(results):
        assert [hit for hit, _ in hits] == [item_ids[row] for row in truth[query]]
        scores = [score for _, score in hits]
        assert scores == sorted(scores, reverse=True)
        assert scores[0] == pytest.approx(float(queries[query] @ vectors[truth[query][0]]), abs=1e-5)


@pytest.mark.parametrize(("factory", "minimum"), [("IVF32,Flat", 0.95), ("HNSW32", 0.95)])
def test_approximate_recall_against_exact(clustered, factory, minimum):
    item_ids, vectors, queries = clustered
    index = ItemIndex.build(item_ids, vectors, factory=factory, fingerprint="m", nprobe=8)
    assert index.kind in ("ivf", "hnsw")
    assert recall_at_k(index, item_ids, vectors, queries, 10) >= minimum


def test_ivf_with_one_probe_is_measurably_approximate(clustered):
    """Guards the recall test above: a deliberately weak setting must score lower."""
    item_ids, vectors, queries = clustered
    weak = ItemIndex.build(item_ids, vectors, factory="IVF32,Flat", fingerprint="m", nprobe=1)
    strong = ItemIndex.build(item_ids, vectors, factory="IVF32,Flat", fingerprint="m", nprobe=16)
    assert recall_at_k(weak, item_ids, vectors, queries, 10) < recall_at_k(strong, item_ids, vectors, queries, 10)


@pytest.mark.parametrize("factory", FACTORIES)
def test_filters_exclude_and_restrict(clustered, factory):
    item_ids, vectors, queries = clustered
    index = ItemIndex.build(item_ids, vectors, factory=factory, fingerprint="m")
    unfiltered = [hit for hit, _ in index.search(queries[:1], 10)[0]]
    excluded = set(unfiltered[:5])
    hits = index.search(queries[:1], 10, exclude=excluded)[0]
    assert len(hits) == 10 and not excluded & {hit for hit, _ in hits}
    # A narrow restriction (40 scattered items) must still fill k, even where probed lists miss them.
    allowed = set(item_ids[::100])
    hits = index.search(queries[:3], 10, restrict_to=allowed, exclude=[item_ids[0]])
    for per_query in hits:
        assert len(per_query) == 10
        assert {hit for hit, _ in per_query} <= allowed - {item_ids[0]}
    # Restricted exact results are the true best of the allowed set.
    if factory == "Flat":
        allowed_rows = sorted(item_ids.index(item) for item in allowed if item != item_ids[0])
        scores = vectors[allowed_rows] @ queries[0]
        best = [item_ids[allowed_rows[row]] for row in np.argsort(-scores)[:10]]
        assert [hit for hit, _ in hits[0]] == best


def test_filters_with_fewer_eligible_than_k_and_unknown_ids(clustered):
    item_ids, vectors, queries = clustered
    index = ItemIndex.build(item_ids[:50], vectors[:50], fingerprint="m")
    hits = index.search(queries[:1], 10, restrict_to=["I00001", "I00002", "unknown"])[0]
    assert sorted(hit for hit, _ in hits) == ["I00001", "I00002"]
    assert index.search(queries[:1], 10, restrict_to=[])[0] == []
    assert len(index.search(queries[:1], 100)[0]) == 50


@pytest.mark.parametrize("factory", FACTORIES)
def test_incremental_update_equals_rebuild(clustered, factory):
    item_ids, vectors, queries = clustered
    base_ids, base_vectors = item_ids[:1500], vectors[:1500]
    index = ItemIndex.build(base_ids, base_vectors, factory=factory, fingerprint="m")
    # Remove 100, replace 50 vectors with others', add 200 new.
    removed = base_ids[:100]
    replaced = base_ids[100:150]
    replacement_vectors = vectors[3500:3550]
    added_ids, added_vectors = item_ids[1500:1700], vectors[1500:1700]
    assert index.remove(removed) == 100
    index.upsert(replaced + added_ids, np.vstack([replacement_vectors, added_vectors]))
    expected_ids = base_ids[150:] + replaced + added_ids
    expected_vectors = np.vstack([base_vectors[150:], replacement_vectors, added_vectors])
    assert sorted(index.item_ids) == sorted(expected_ids)
    assert len(index) == len(expected_ids)
    np.testing.assert_allclose(index.vector(replaced[0]), replacement_vectors[0], atol=1e-6)
    rebuilt = ItemIndex.build(expected_ids, expected_vectors, factory="Flat", fingerprint="m")
    if factory == "Flat":
        assert index.search(queries[:5], 10) == rebuilt.search(queries[:5], 10)
    else:
        assert recall_at_k(index, expected_ids, expected_vectors, queries, 10) >= 0.9
    for hits in index.search(queries, 10):
        assert not {hit for hit, _ in hits} & set(removed)


@pytest.mark.parametrize("factory", FACTORIES)
def test_save_load_round_trip(tmp_path: Path, clustered, factory):
    item_ids, vectors, queries = clustered
    index = ItemIndex.build(item_ids[:1000], vectors[:1000], factory=factory, fingerprint="model-a",
                            content_keys=[f"k{number}" for number in range(1000)])
    index.remove(["I00003"])
    save_index(index, tmp_path, "items")
    loaded = load_index(tmp_path, "items", expect_fingerprint="model-a")
    assert loaded.factory == factory and loaded.fingerprint == "model-a" and len(loaded) == 999
    assert loaded.search(queries[:3], 10) == index.search(queries[:3], 10)
    assert loaded.content_keys == index.content_keys
    loaded.upsert(["new"], vectors[2500:2501])  # ids keep increasing after a reload
    assert loaded.search(vectors[2500:2501], 1)[0][0][0] == "new"
    assert loaded.next_id == 1001


def test_load_detects_corruption_and_other_model(tmp_path: Path, clustered):
    item_ids, vectors, _queries = clustered
    save_index(ItemIndex.build(item_ids[:100], vectors[:100], fingerprint="model-a"), tmp_path, "items")
    with pytest.raises(IndexFileError, match="model-a"):
        load_index(tmp_path, "items", expect_fingerprint="model-b")
    index_file, sidecar_file = index_paths(tmp_path, "items")
    data = bytearray(index_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    index_file.write_bytes(bytes(data))
    with pytest.raises(IndexFileError, match="sha256"):
        load_index(tmp_path, "items")
    sidecar_file.write_text("{not json")
    with pytest.raises(IndexFileError):
        load_index(tmp_path, "items")
    with pytest.raises(IndexFileError):
        load_index(tmp_path, "missing")


def test_factory_choice_by_size():
    settings = IndexSettings(exact_below=1000, approximate_factory="IVF{nlist},Flat")
    assert choose_factory(999, settings) == "Flat"
    assert choose_factory(1_000_000, settings) == "IVF2048,Flat"
    assert nlist_for(1_000) <= 1_000 // 39
    assert choose_factory(5000, IndexSettings(exact_below=10, approximate_factory="HNSW32")) == "HNSW32"


def test_vectors_and_errors(clustered):
    item_ids, vectors, _queries = clustered
    index = ItemIndex.build(item_ids[:10], vectors[:10], fingerprint="m")
    np.testing.assert_allclose(index.vectors(["I00002", "I00001"]), vectors[[2, 1]], atol=1e-6)
    with pytest.raises(KeyError):
        index.vector("nope")
    with pytest.raises(ValueError, match="dimension"):
        index.search(np.ones((1, 3), np.float32), 2)
    with pytest.raises(ValueError, match="unique"):
        ItemIndex.build(["a", "a"], vectors[:2])


def test_clustered_fixture_is_deterministic():
    np.testing.assert_array_equal(clustered_vectors(10, 4, 2, seed=1), clustered_vectors(10, 4, 2, seed=1))


@pytest.mark.parametrize("factory", ["Flat", "IVF32,Flat"])
def test_gpu_path_maps_labels_like_the_cpu_index(clustered, factory, monkeypatch):
    """The GPU copy is searched by position; labels must map back through the id map (simulated GPU)."""
    from recengine.index import item_index as module

    item_ids, vectors, queries = clustered
    index = ItemIndex.build(item_ids[:2000], vectors[:2000], factory=factory, fingerprint="m", nprobe=32)
    index.remove(item_ids[:300])  # positions and faiss ids now differ
    index.upsert(["late"], vectors[2500:2501])
    cpu = index.search(queries[:20], 10)
    clones: list[object] = []

    def fake_gpu_copy(inner):
        clones.append(inner)
        return module.faiss.clone_index(inner)

    monkeypatch.setattr(module, "gpu_count", lambda: 1)
    monkeypatch.setattr(module.faiss, "index_cpu_to_all_gpus", fake_gpu_copy)
    gpu = index.search(queries[:20], 10)
    assert clones and [[hit for hit, _ in row] for row in gpu] == [[hit for hit, _ in row] for row in cpu]
    assert index.search(vectors[2500:2501], 1)[0][0][0] == "late"
    # Filtered searches stay on the CPU index (GPU indexes have no IDSelector).
    clones.clear()
    index.search(queries[:1], 5, exclude=["late"])
    assert clones == []


@pytest.mark.parametrize("factory", FACTORIES)
def test_a_copy_for_another_process_searches_the_same(clustered, factory):
    import pickle

    item_ids, vectors, queries = clustered
    index = ItemIndex.build(item_ids, vectors, factory=factory, fingerprint="m")
    copy = pickle.loads(pickle.dumps(index))
    assert copy.search(queries[:5], 10, exclude=item_ids[:3]) == index.search(queries[:5], 10, exclude=item_ids[:3])
