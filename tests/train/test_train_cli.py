"""`recengine finetune`, `recengine models` and `recengine jobs` from the command line (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recengine.cli import main
from recengine.train import registry
from recengine.train.card import ModelCard


def test_finetune_prints_before_and_after_and_activates(
    filled_workspace, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("datasets")
    monkeypatch.setenv("RECENGINE_EMBED__MODEL", str(tiny_model_dir))
    code = main([
        "finetune", "--workspace", str(filled_workspace.root), "--objective", "pairs", "--epochs", "1", "--batch-size", "8",
        "--max-pairs", "100", "--set", "holdout=test_items", "--set", "max_seq_length=32",
        "--set", "early_stopping_patience=0", "--activate", "--format", "json",
    ])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    payload = json.loads(captured.out)
    assert payload["activated"] is True
    assert {"ndcg@10", "recall@10"} <= set(payload["metrics_before"]) & set(payload["metrics_after"])
    assert registry.active_version(filled_workspace).version_id == payload["version_id"]
    assert "pairs per source" in captured.err  # progress and log lines go to stderr


def test_bad_setting_is_one_line_and_exit_2(workspace, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["finetune", "--workspace", str(workspace.root), "--set", "epochz=3"])
    assert code == 2
    assert "Unknown fine-tuning setting" in capsys.readouterr().err


def test_models_list_activate_and_rollback(workspace, capsys: pytest.CaptureFixture[str]) -> None:
    from safetensors.numpy import save_file

    folder = registry.staging_dir(workspace, "cli")
    save_file({"weight": np.zeros((2, 2), dtype=np.float32)}, str(folder / "model.safetensors"))
    version_id = registry.register_version(workspace, folder, ModelCard(base_model="fake")).version_id
    root = str(workspace.root)
    assert main(["models", "--workspace", root, "activate", version_id, "--no-reembed"]) == 0
    assert main(["models", "--workspace", root, "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["models", "--workspace", root, "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["version"] for row in rows if row["active"]] == [version_id]
    assert main(["models", "--workspace", root, "rollback", "--no-reembed"]) == 0
    assert registry.active_version(workspace).is_base
    assert main(["models", "--workspace", root, "rollback", "--no-reembed"]) == 2  # nothing left to undo


def test_jobs_list_on_an_empty_workspace(workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "--workspace", str(workspace.root), "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["jobs", "--workspace", str(workspace.root), "show"]) == 2


def test_finetune_objective_flag_trains_on_customers_choices(
    filled_workspace, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECENGINE_EMBED__MODEL", str(tiny_model_dir))
    code = main([
        "finetune", "--workspace", str(filled_workspace.root), "--objective", "interactions",
        "--set", "holdout=test_items", "--set", "max_seq_length=32", "--set", "head_epochs=2",
        "--set", "validation_fraction=0.2", "--set", "recommendation_eval=false",
    ])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "objective: interactions" in captured.out
    version = registry.list_versions(filled_workspace)[-1]
    assert version.hyperparameters["objective"] == "interactions"
    with pytest.raises(SystemExit) as exit_info:
        main(["finetune", "--workspace", str(filled_workspace.root), "--objective", "triplets"])
    assert exit_info.value.code == 2
