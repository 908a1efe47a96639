"""A real SentenceTransformerTrainer run on a tiny random model, and (slow) on the bundled MiniLM."""

from __future__ import annotations

from pathlib import Path

import pytest

from recengine.errors import ModelError, NotReadyError
from recengine.train import registry
from recengine.train.arguments import FineTuneArguments
from recengine.train.finetune import TrainingCancelled, train_and_register

pytest.importorskip("datasets", reason="the sentence-transformers trainer needs `datasets`")
pytest.importorskip("accelerate", reason="the transformers Trainer needs `accelerate`")

TINY_RUN = FineTuneArguments(
    objective="pairs", epochs=2, batch_size=8, max_pairs=120, holdout="test_items", evaluations_per_epoch=1,
    early_stopping_patience=0, learning_rate=1e-3, max_seq_length=32,
)


def test_tiny_finetune_registers_a_loadable_safetensors_version(filled_workspace, tiny_model_dir: Path) -> None:
    events: list[tuple[str, dict]] = []
    fractions: list[float] = []
    outcome = train_and_register(
        filled_workspace,
        TINY_RUN,
        base_model=str(tiny_model_dir),
        job_id="t1",
        progress=lambda fraction, message: fractions.append(fraction),
        on_event=lambda kind, values: events.append((kind, values)),
    )
    version = outcome.version
    folder = registry.version_dir(filled_workspace, version.version_id)
    assert (folder / "model.safetensors").is_file()
    assert not list(folder.rglob("*.bin")) and not list(folder.rglob("*.pt"))
    assert set(version.weights) == {"model.safetensors"}
    assert (folder / "CARD.md").read_text().startswith(f"# Fine-tuned encoder {version.version_id}")
    # Before and after metrics are on the same validation pairs; the card records the run.
    assert set(version.metrics_before) >= {"ndcg@10", "recall@10"}
    assert set(version.metrics_after) >= {"ndcg@10", "recall@10"}
    # The recommender itself, before and after, on the evaluation split.
    assert {"embedding ndcg@10", "hybrid ndcg@10", "hybrid recall@10"} <= set(version.metrics_before) & set(version.metrics_after)
    assert sum(version.pairs_per_source.values()) > 0
    assert outcome.card.total_steps > 0 and outcome.card.loss_history and outcome.card.eval_history
    kinds = {kind for kind, _values in events}
    assert {"loss", "eval", "progress", "log"} <= kinds
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)
    # Registered, not active; staging folders are gone.
    assert registry.active_version(filled_workspace).is_base
    assert not list(registry.registry_dir(filled_workspace).glob(".staging-*"))

    registry.activate(filled_workspace, version.version_id, reembed=False)
    setting = registry.active_model_setting(filled_workspace)
    assert Path(setting) == folder
    from sentence_transformers import SentenceTransformer

    vectors = SentenceTransformer(setting, device="cpu").encode(["red shoe"])
    assert vectors.shape == (1, 32)


def test_cancel_registers_nothing(filled_workspace, tiny_model_dir: Path) -> None:
    with pytest.raises(TrainingCancelled):
        train_and_register(filled_workspace, TINY_RUN, base_model=str(tiny_model_dir), should_stop=lambda: True)
    assert registry.list_versions(filled_workspace)[-1].is_base
    assert not list(registry.registry_dir(filled_workspace).glob(".staging-*"))


def test_too_little_data_says_what_to_do(workspace, tiny_model_dir: Path) -> None:
    with pytest.raises(NotReadyError, match="ingest more data"):
        train_and_register(workspace, TINY_RUN, base_model=str(tiny_model_dir))


def test_fake_encoder_cannot_be_finetuned(filled_workspace) -> None:
    with pytest.raises(ModelError, match="fake"):
        train_and_register(filled_workspace, TINY_RUN)


@pytest.mark.slow
def test_minilm_finetune_improves_validation_retrieval(filled_workspace) -> None:
    """The real bundled MiniLM: a short run must produce a version that loads and does not get worse."""
    arguments = FineTuneArguments(objective="pairs", epochs=1, batch_size=16, max_pairs=200, holdout="test_items", evaluations_per_epoch=1)
    outcome = train_and_register(filled_workspace, arguments, base_model="bundled:all-MiniLM-L6-v2")
    assert outcome.version.metrics_after["ndcg@10"] >= outcome.version.metrics_before["ndcg@10"] - 0.05
    folder = registry.version_dir(filled_workspace, outcome.version.version_id)
    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(folder), device="cpu").encode(["red shoe"]).shape == (1, 384)


@pytest.mark.slow  # mining + GradCache + LoRA on 2 shared cores: ~20 s
def test_options_hard_negatives_cached_loss_and_lora(filled_workspace, tiny_model_dir: Path) -> None:
    """One run with every option on: mined hard negatives, the cached loss, LoRA merged before saving."""
    pytest.importorskip("peft")
    from dataclasses import replace

    arguments = replace(TINY_RUN, epochs=1, hard_negatives=1, use_cached_mnrl=True, mini_batch_size=4, lora_rank=4)
    events: list[tuple[str, dict]] = []
    outcome = train_and_register(
        filled_workspace, arguments, base_model=str(tiny_model_dir), on_event=lambda kind, values: events.append((kind, values))
    )
    folder = registry.version_dir(filled_workspace, outcome.version.version_id)
    # Merged: a plain model folder without adapter files, loadable without peft.
    assert not list(folder.rglob("adapter_*"))
    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(folder), device="cpu").encode(["red shoe"]).shape == (1, 32)
    assert outcome.card.hyperparameters["lora_rank"] == 4
    assert any(kind == "loss" for kind, _values in events)
