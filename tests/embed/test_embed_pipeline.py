"""Workspace pipeline: item index freshness (changed items, model, corruption), similar items, status."""

from __future__ import annotations

import json

import numpy as np
import pytest
from embed_catalog import catalog_rows, delete_items, insert_items, with_model

from recengine.embed import (
    HashingEncoder,
    encode_query,
    ensure_item_index,
    item_texts,
    item_vectors,
    pipeline,
    similar_items,
)
from recengine.embed.encoder import EncoderRuntime
from recengine.embed.status import embedding_status
from recengine.errors import ConfigError, NotFoundError
from recengine.index import index_paths


def test_index_built_then_unchanged(catalog_workspace, monkeypatch):
    index, run = ensure_item_index(catalog_workspace)
    assert run.action == "built" and run.kind == "exact" and len(index) == 32
    version = catalog_workspace.store.get_meta("data_version")
    with monkeypatch.context() as patch:  # an up-to-date index needs text hashes only, not vectors
        patch.setattr(pipeline, "_vectors_for", lambda *a, **k: pytest.fail("vectors read"))
        again, run = ensure_item_index(catalog_workspace)
    assert run.action == "unchanged" and again.item_ids == index.item_ids
    assert catalog_workspace.store.get_meta("data_version") == version  # nothing changed, no cache churn
    vectors = item_vectors(catalog_workspace)
    np.testing.assert_allclose(index.vector("P2003"), vectors.vectors[vectors.item_ids.index("P2003")], atol=1e-6)


def test_changed_added_and_removed_items_update_the_index_in_place(catalog_workspace):
    ensure_item_index(catalog_workspace)
    rows = catalog_rows()
    rows[0]["description"] = "now a garden hose nozzle"
    new = dict(rows[1], item_id="P9999", title="Brand new sprinkler")
    insert_items(catalog_workspace, [rows[0], new])
    delete_items(catalog_workspace, ["P3007"])
    index, run = ensure_item_index(catalog_workspace)
    assert (run.action, run.added, run.updated, run.removed) == ("updated", 1, 1, 1)
    assert "P3007" not in index and "P9999" in index and len(index) == 32
    vectors = item_vectors(catalog_workspace)
    np.testing.assert_allclose(index.vector("P0000"), vectors.vectors[vectors.item_ids.index("P0000")], atol=1e-6)
    assert ensure_item_index(catalog_workspace)[1].action == "unchanged"  # the update was saved


def test_model_change_rebuilds(catalog_workspace):
    ensure_item_index(catalog_workspace)
    index, run = ensure_item_index(with_model(catalog_workspace, "fake:16"))
    assert run.action == "built" and index.dimension == 16 and index.fingerprint == "fake-hashing-v1-16"


def test_corrupted_index_file_is_rebuilt_not_fatal(catalog_workspace):
    index, _run = ensure_item_index(catalog_workspace)
    index_file, sidecar = index_paths(catalog_workspace.root / "indexes", pipeline.index_name(index.fingerprint))
    index_file.write_bytes(index_file.read_bytes()[:100])
    rebuilt, run = ensure_item_index(catalog_workspace)
    assert run.action == "built" and "sha256" in run.reason and len(rebuilt) == 32
    sidecar.write_text("garbage")
    assert ensure_item_index(catalog_workspace)[1].action == "built"


def test_large_catalog_gets_the_approximate_factory(catalog_workspace):
    settings = catalog_workspace.settings
    catalog_workspace.settings = settings.model_copy(
        update={"index": settings.index.model_copy(update={"exact_below": 10, "approximate_factory": "HNSW16"})}
    )
    index, run = ensure_item_index(catalog_workspace)
    assert index.kind == "hnsw" and run.factory == "HNSW16"


def test_similar_items_excludes_itself_and_filters_category(catalog_workspace):
    hits = similar_items(catalog_workspace, "P0001", k=5)
    assert len(hits) == 5 and "P0001" not in [hit.item_id for hit in hits]
    assert [hit.rank for hit in hits] == [1, 2, 3, 4, 5]
    assert all(earlier.similarity >= later.similarity for earlier, later in zip(hits, hits[1:], strict=False))
    same = similar_items(catalog_workspace, "P1002", k=20, same_category=True)
    assert len(same) == 7 and all(hit.item_id.startswith("P1") for hit in same)
    # Products of a category share vocabulary, so with the fake encoder the nearest are from it too.
    assert all(hit.item_id.startswith("P0") for hit in hits[:3])
    with pytest.raises(NotFoundError):
        similar_items(catalog_workspace, "nope")


def test_encode_query_and_templates(catalog_workspace):
    vector = encode_query(catalog_workspace, "bluetooth headphones")
    assert vector.shape == (64,) and np.isclose(np.linalg.norm(vector), 1.0)
    _ids, texts = item_texts(catalog_workspace)
    assert texts[0].startswith("Wireless headphones 0. Acme. Electronics > Audio > Headphones. A ")
    settings = catalog_workspace.settings
    catalog_workspace.settings = settings.model_copy(
        update={"embed": settings.embed.model_copy(update={"item_template": "{title} {colour}"})}
    )
    with pytest.raises(ConfigError, match="colour"):
        item_texts(catalog_workspace)


def test_status_reports_freshness(catalog_workspace):
    status = embedding_status(catalog_workspace)
    assert (status.embeddings, status.index, status.items) == ("stale", "missing", 32)
    ensure_item_index(catalog_workspace)
    status = embedding_status(catalog_workspace)
    assert (status.embeddings, status.index, status.index_size, status.cache_entries) == ("fresh", "fresh", 32, 32)
    assert status.last_run_hit_rate == 0.0 and status.model == "fake" and status.fresh
    insert_items(catalog_workspace, [dict(catalog_rows()[0], title="Changed")])
    status = embedding_status(catalog_workspace)
    assert (status.embeddings, status.index, status.items_embedded) == ("stale", "stale", 31)


def test_reduced_precision_falls_back_to_fp32_when_rankings_change(catalog_workspace, monkeypatch):
    """The first reduced-precision run compares with fp32; poor agreement is recorded and fp32 used."""

    class NoisyEncoder(HashingEncoder):
        def encode(self, texts, *, progress=None):
            clean = super().encode(texts, progress=progress)
            noisy = clean + np.random.default_rng(0).standard_normal(clean.shape).astype(np.float32)
            return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)

    loaded: list[str | None] = []

    def fake_load(settings, *, precision=None):
        loaded.append(precision)
        return NoisyEncoder(64) if precision == "bf16" else HashingEncoder(64)

    monkeypatch.setattr(pipeline, "encoder_runtime", lambda settings, precision=None: EncoderRuntime(
        "fake", "fake-hashing-v1-64", "cpu", "bf16"))
    monkeypatch.setattr(pipeline, "load_encoder", fake_load)
    monkeypatch.setattr(pipeline, "AGREEMENT_MIN_TEXTS", 32)
    item_vectors(catalog_workspace)
    assert loaded == ["bf16", "fp32", "fp32"]  # measure (and time) both, then encode with the decision
    record = json.loads(
        next((catalog_workspace.root / "embeddings").glob("*/precision.json")).read_text()
    )
    assert record["decision"] == "fp32" and record["top10_overlap"] < 0.9 and record["sample_size"] == 32
    loaded.clear()
    insert_items(catalog_workspace, [dict(catalog_rows()[0], title="Changed")])
    item_vectors(catalog_workspace)
    assert loaded == ["fp32"]  # the recorded decision is reused, not measured again


def test_empty_workspace_gets_an_empty_index(workspace):
    index, run = ensure_item_index(workspace)
    assert run.action == "built" and len(index) == 0 and index.dimension == 64
    assert index.search(np.ones((1, 64), np.float32), 5) == [[]]


def test_reduced_precision_that_is_slower_is_not_used(catalog_workspace, monkeypatch):
    """Agreement is fine but the reduced precision is slower on this machine: fp32 wins."""
    import time

    class SlowEncoder(HashingEncoder):
        def encode(self, texts, *, progress=None):
            time.sleep(0.05)
            return super().encode(texts, progress=progress)

    monkeypatch.setattr(pipeline, "encoder_runtime", lambda settings, precision=None: EncoderRuntime(
        "fake", "fake-hashing-v1-64", "cpu", "bf16"))
    monkeypatch.setattr(pipeline, "load_encoder", lambda settings, *, precision=None: (
        SlowEncoder(64) if precision == "bf16" else HashingEncoder(64)))
    monkeypatch.setattr(pipeline, "AGREEMENT_MIN_TEXTS", 32)
    item_vectors(catalog_workspace)
    record = pipeline.read_precision_record(catalog_workspace, "fake-hashing-v1-64")
    assert record["mean_cosine"] == pytest.approx(1.0) and record["top10_overlap"] == 1.0
    assert record["seconds"] > record["fp32_seconds"] and record["decision"] == "fp32"
