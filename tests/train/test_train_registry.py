"""Model registry: safetensors only, sha256 checked, exactly one active, activate and roll back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from recengine.errors import ModelError, NotFoundError
from recengine.train import registry
from recengine.train.card import ModelCard


def _weights_folder(workspace, name: str, value: float = 1.0) -> Path:
    from safetensors.numpy import save_file

    folder = registry.staging_dir(workspace, name)
    save_file({"weight": np.full((2, 2), value, dtype=np.float32)}, str(folder / "model.safetensors"))
    return folder


def _register(workspace, name: str, value: float = 1.0) -> str:
    card = ModelCard(base_model="fake", metrics_before={"ndcg@10": 0.2}, metrics_after={"ndcg@10": 0.25})
    return registry.register_version(workspace, _weights_folder(workspace, name, value), card).version_id


def test_fresh_workspace_has_only_the_active_base(workspace) -> None:
    versions = registry.list_versions(workspace)
    assert [version.version_id for version in versions] == ["base"]
    assert registry.active_version(workspace).is_base
    assert registry.active_model_setting(workspace) == "fake"
    assert workspace.active_model() == "fake"


def test_register_records_hashes_and_the_card(workspace) -> None:
    version_id = _register(workspace, "a")
    manifest = json.loads((registry.registry_dir(workspace) / registry.MANIFEST).read_text())
    entry = next(entry for entry in manifest["versions"] if entry["version_id"] == version_id)
    assert set(entry["weights"]) == {"model.safetensors"} and len(entry["weights"]["model.safetensors"]) == 64
    assert manifest["active"] == "base"  # registering never activates
    card = registry.version_card(workspace, version_id)
    assert card is not None and card.version_id == version_id and card.improvement() == pytest.approx(0.25)
    assert "| ndcg@10 | 0.2000 | 0.2500 | +25.0% |" in (registry.version_dir(workspace, version_id) / "CARD.md").read_text()


def test_activate_and_rollback_keep_exactly_one_active(workspace) -> None:
    first, second = _register(workspace, "a"), _register(workspace, "b", 2.0)
    registry.activate(workspace, first, reembed=False)
    registry.activate(workspace, second, reembed=False)
    rows = registry.describe(workspace)
    assert [row["version"] for row in rows if row["active"]] == [second]
    assert Path(workspace.active_model()).name == second
    assert registry.rollback(workspace, reembed=False).version_id == first
    assert registry.rollback(workspace, reembed=False).version_id == "base"
    with pytest.raises(NotFoundError, match="nothing to roll back"):
        registry.rollback(workspace, reembed=False)
    with pytest.raises(NotFoundError, match="Known"):
        registry.activate(workspace, "nope", reembed=False)


def test_tampered_weights_are_refused_and_embedding_falls_back(workspace) -> None:
    version_id = _register(workspace, "a")
    registry.activate(workspace, version_id, reembed=False)
    weights = registry.version_dir(workspace, version_id) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\x00\x00\x00\x01")
    with pytest.raises(ModelError, match="sha256"):
        registry.active_model_setting(workspace)
    with pytest.raises(ModelError, match="sha256"):
        registry.activate(workspace, version_id, reembed=False)
    # Every capability reads workspace.settings: it never points at the tampered folder.
    assert workspace.settings.embed.model == "fake"


def test_pickle_weights_are_refused(workspace) -> None:
    folder = _weights_folder(workspace, "p")
    (folder / "pytorch_model.bin").write_bytes(b"not really a pickle")
    with pytest.raises(ModelError, match="safetensors"):
        registry.register_version(workspace, folder, ModelCard(base_model="fake"))
    assert [version.version_id for version in registry.list_versions(workspace)] == ["base"]


def test_settings_follow_the_active_version(workspace) -> None:
    version_id = _register(workspace, "a")
    assert workspace.settings.embed.model == "fake"
    registry.activate(workspace, version_id, reembed=False)
    assert workspace.settings.embed.model == str(registry.version_dir(workspace, version_id))
    assert workspace.configured_settings.embed.model == "fake"
    registry.rollback(workspace, reembed=False)
    assert workspace.settings.embed.model == "fake"


def test_activation_reembeds_and_rollback_reuses_the_cache(workspace, tiny_model_dir: Path) -> None:
    """Switching models switches the vectors (cache keyed by fingerprint); switching back encodes nothing."""
    from train_fixtures import fill_workspace

    fill_workspace(workspace)
    from recengine.embed import item_vectors, last_runs

    base_vectors = item_vectors(workspace)
    folder = registry.staging_dir(workspace, "tiny")
    shutil.rmtree(folder)
    shutil.copytree(tiny_model_dir, folder)
    version_id = registry.register_version(workspace, folder, ModelCard(base_model="fake")).version_id
    messages: list[str] = []
    registry.activate(workspace, version_id, progress=lambda fraction, message: messages.append(message))
    tuned_vectors = item_vectors(workspace)
    assert tuned_vectors.fingerprint != base_vectors.fingerprint
    assert tuned_vectors.vectors.shape == (36, 32)
    assert messages[-1] == "encoder switched"
    registry.rollback(workspace)
    again = item_vectors(workspace)
    assert again.fingerprint == base_vectors.fingerprint
    np.testing.assert_allclose(again.vectors, base_vectors.vectors)
    runs = last_runs(workspace)
    assert runs["items"].encoded == 0  # served from the cache kept for rollback


def test_status_section_names_the_active_version(workspace) -> None:
    from recengine.status import workspace_status

    section = workspace_status(workspace)["fine-tuning"]
    assert section.active_version == "base" and section.versions == 1 and section.last_job == "none"
    version_id = _register(workspace, "s")
    registry.activate(workspace, version_id, reembed=False)
    section = workspace_status(workspace)["fine-tuning"]
    assert section.active_version == version_id and section.active_ndcg_change == "+25.0%"
