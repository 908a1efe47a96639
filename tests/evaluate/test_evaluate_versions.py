"""Encoder versions of the model registry evaluated side by side with the active one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from evaluate_fixtures import build_tiny_model, fill_workspace, register_weights_only_version

from recengine.errors import NotFoundError
from recengine.evaluate import run_evaluation, save_experiment
from recengine.evaluate import versions as versions_module
from recengine.evaluate.versions import registry_versions, select_versions, version_item_vectors
from recengine.train import registry
from recengine.train.card import ModelCard

FAST_METHODS = ["MostPopular", "Embedding", "Hybrid"]


@pytest.fixture
def two_versions(workspace, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The checkerboard workspace with two cheap fine-tuned versions, each embedding with its own fake
    encoder (fake:3 / fake:5: other fingerprints, other dimensions, so other vectors)."""
    fill_workspace(workspace)
    first = register_weights_only_version(workspace, "a", 1.0)
    second = register_weights_only_version(workspace, "b", 2.0)
    specs = {first: "fake:3", second: "fake:5"}
    original = versions_module.version_model_spec

    def spec(ws, version):  # type: ignore[no-untyped-def]
        return specs.get(version.version_id) or original(ws, version)

    monkeypatch.setattr(versions_module, "version_model_spec", spec)
    return workspace, first, second


def test_selection_defaults_to_the_newest_other_versions_and_checks_names(two_versions) -> None:  # type: ignore[no-untyped-def]
    workspace, first, second = two_versions
    assert registry_versions(workspace) == ("base", [second, first])
    assert select_versions(workspace) == [second, first]
    assert select_versions(workspace, limit=1) == [second]
    assert select_versions(workspace, []) == [] and select_versions(workspace, ["none"]) == []
    assert select_versions(workspace, ["all"]) == [second, first]
    assert select_versions(workspace, ["base", first]) == [first]  # the active one is the plain row
    with pytest.raises(NotFoundError, match="ft-nope"):
        select_versions(workspace, ["ft-nope"])
    registry.activate(workspace, first, reembed=False)
    assert registry_versions(workspace) == (first, [second, "base"])


def test_each_version_gets_its_own_vectors_cached_once(two_versions) -> None:  # type: ignore[no-untyped-def]
    workspace, first, _second = two_versions
    active = workspace.item_vectors()
    data_version = workspace.store.get_meta("data_version")
    vectors = version_item_vectors(workspace, first)
    assert vectors.encoded == 12 and vectors.cached == 0
    assert vectors.vectors.shape == (12, 3) and active.vectors.shape == (12, 64)
    assert vectors.fingerprint != active.fingerprint
    assert vectors.item_ids == active.item_ids
    again = version_item_vectors(workspace, first)
    assert again.encoded == 0 and again.cached == 12  # nothing re-embedded the second time
    np.testing.assert_array_equal(again.vectors, vectors.vectors)
    # Embedding another version leaves what users see alone.
    assert workspace.store.get_meta("data_version") == data_version
    assert workspace.item_vectors().fingerprint == active.fingerprint


def test_evaluation_adds_rows_per_version_with_paired_tests_against_the_active_model(two_versions) -> None:  # type: ignore[no-untyped-def]
    workspace, first, second = two_versions
    result = run_evaluation(workspace, k=2, methods=FAST_METHODS, n_resamples=50)
    names = [method.name for method in result.methods]
    assert names == [
        "MostPopular", "Embedding", "Hybrid",
        f"Embedding ({second})", f"Hybrid ({second})", f"Embedding ({first})", f"Hybrid ({first})",
    ]
    assert result.reference == "Hybrid"
    assert result.config["active_model_version"] == "base"
    assert set(result.config["model_versions"]) == {first, second}
    pairs = {(c.reference, c.other) for c in result.comparisons if c.metric == "ndcg"}
    assert ("Hybrid", f"Hybrid ({first})") in pairs and ("Embedding", f"Embedding ({first})") in pairs
    # A different encoder really ranks differently: the 3-dimensional hashing vectors blur the two
    # tastes that the 64-dimensional ones keep apart.
    active = result.method("Embedding").metrics["ndcg"].mean
    other = result.method(f"Embedding ({first})").metrics["ndcg"].mean
    assert active != pytest.approx(other)
    assert f"encoder version {first}" in result.verdict
    # Baselines are the verdict's rivals, never another version of the product.
    assert f"for Embedding ({first})" not in result.verdict.split(".")[0]


def test_with_encoded_reviews_versions_are_compared_on_catalog_text(two_versions) -> None:  # type: ignore[no-untyped-def]
    from recengine.embed import embed_workspace
    from recengine.evaluate.runner import CATALOG_TEXT_HYBRID

    workspace, first, second = two_versions
    purchases = workspace.store.query_rows("SELECT user_id, item_id, timestamp FROM interactions LIMIT 6")
    with workspace.store.transaction() as connection:
        for number, (user_id, item_id, timestamp) in enumerate(purchases):
            connection.execute(
                "INSERT INTO reviews (review_id, user_id, item_id, rating, title, text, timestamp, row_hash) "
                "VALUES (?, ?, ?, 5, 'Great', 'My kids love it.', ?, ?)",
                [f"R{number}", user_id, item_id, timestamp, f"r{number}"],
            )
    embed_workspace(workspace, reviews=True)  # the active encoder's review vectors: the hybrid mixes them in
    result = run_evaluation(workspace, k=2, methods=FAST_METHODS, n_resamples=50)
    names = [method.name for method in result.methods]
    assert names[:4] == ["MostPopular", "Embedding", "Hybrid", CATALOG_TEXT_HYBRID]
    pairs = {(c.reference, c.other) for c in result.comparisons if c.metric == "hit_rate"}
    # Other versions have no review vectors: each is compared with the active one on catalog text too.
    assert (CATALOG_TEXT_HYBRID, f"Hybrid ({first})") in pairs and (CATALOG_TEXT_HYBRID, f"Hybrid ({second})") in pairs
    assert f"encoder version {first} instead of the active base (both on catalog text only)" in result.verdict


def test_versions_can_be_chosen_or_left_out(two_versions) -> None:  # type: ignore[no-untyped-def]
    workspace, first, _second = two_versions
    chosen = run_evaluation(workspace, k=2, methods=["Hybrid"], n_resamples=50, model_versions=[first])
    assert [method.name for method in chosen.methods] == ["Hybrid", f"Hybrid ({first})"]
    none = run_evaluation(workspace, k=2, methods=FAST_METHODS, n_resamples=50, model_versions=[])
    assert [method.name for method in none.methods] == FAST_METHODS
    baselines_only = run_evaluation(workspace, k=2, methods=["MostPopular"], n_resamples=50)
    assert [method.name for method in baselines_only.methods] == ["MostPopular"]


def test_an_unreadable_registry_does_not_stop_the_default_evaluation(workspace) -> None:  # type: ignore[no-untyped-def]
    from recengine.errors import ModelError

    fill_workspace(workspace)
    manifest = registry.registry_dir(workspace) / registry.MANIFEST
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text("{not json", encoding="utf-8")
    result = run_evaluation(workspace, k=2, methods=["MostPopular"], n_resamples=20)
    assert [method.name for method in result.methods] == ["MostPopular"]
    assert result.config["model_versions"] == {}
    with pytest.raises(ModelError, match="unreadable"):
        run_evaluation(workspace, k=2, methods=["Embedding"], n_resamples=20, model_versions=["all"])


def test_version_rows_survive_saving_an_experiment(two_versions) -> None:  # type: ignore[no-untyped-def]
    workspace, first, _second = two_versions
    result = run_evaluation(workspace, k=2, methods=["Hybrid"], n_resamples=50, model_versions=[first])
    saved = save_experiment(workspace, result, name="with versions")
    assert [method.name for method in saved.result.methods] == ["Hybrid", f"Hybrid ({first})"]
    assert saved.config["model_versions"] == {first: "fake-hashing-v1-3"}


def test_cli_evaluate_models_option(two_versions, capsys) -> None:  # type: ignore[no-untyped-def]
    from recengine.cli import main

    workspace, first, second = two_versions
    code = main([
        "evaluate", "--workspace", str(workspace.root), "-k", "2", "--methods", "Embedding", "Hybrid",
        "--models", first, "--resamples", "50", "--format", "json",
    ])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert [method["name"] for method in payload["methods"]] == [
        "Embedding", "Hybrid", f"Embedding ({first})", f"Hybrid ({first})"
    ]
    assert payload["config"]["model_versions"] == {first: "fake-hashing-v1-3"}
    code = main([
        "evaluate", "--workspace", str(workspace.root), "-k", "2", "--methods", "Hybrid",
        "--models", "none", "--resamples", "50",
    ])
    assert code == 0
    out = capsys.readouterr().out
    assert f"Hybrid ({second})" not in out and "others: none compared" in out
    code = main(["evaluate", "--workspace", str(workspace.root), "--methods", "Hybrid", "--models", "ft-nope"])
    assert code != 0


@pytest.mark.slow
def test_a_real_fine_tuned_folder_is_embedded_and_ranks_differently(workspace, tmp_path: Path) -> None:
    """A real (tiny, random) sentence-transformers version: loaded from its verified registry folder."""
    pytest.importorskip("sentence_transformers")
    fill_workspace(workspace)
    model = build_tiny_model(tmp_path / "tiny-st")
    folder = registry.staging_dir(workspace, "tiny")
    shutil.rmtree(folder)
    shutil.copytree(model, folder)
    version_id = registry.register_version(workspace, folder, ModelCard(base_model="fake")).version_id
    vectors = version_item_vectors(workspace, version_id)
    assert vectors.vectors.shape == (12, 16) and vectors.encoded == 12
    assert vectors.fingerprint.startswith(f"{version_id}@")
    result = run_evaluation(workspace, k=2, methods=["Embedding", "Hybrid"], n_resamples=50)
    per_method = {method.name: method.metrics["ndcg"].mean for method in result.methods}
    assert set(per_method) == {"Embedding", "Hybrid", f"Embedding ({version_id})", f"Hybrid ({version_id})"}
    assert per_method["Embedding"] != pytest.approx(per_method[f"Embedding ({version_id})"])
    assert version_item_vectors(workspace, version_id).encoded == 0
