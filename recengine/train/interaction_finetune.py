"""Fine-tuning on customers' histories (the interaction objective, beeFormer) with a plain PyTorch loop.

Each step takes a batch of customers (`user_batches.UserBatchSampler`), their products and some sampled
negatives, and lets the learner (`interaction_learners`: a linear head on the frozen encoder, the top
layers from their cached inputs on a CPU, or the encoder's own weights encoded in chunks with GradCache)
take the loss's gradients; AdamW updates them
under a linear warm-up and decay. Validation customers, never trained on, measure
NDCG@10 / Recall@10 of finding each one's latest product from the others (profile = mean of their
products' vectors, whole trainable catalog ranked); the best state is kept and training may stop early.

Fits a 2-core CPU (fp32: bf16 autocast is slower on CPUs without native bf16) and a GPU (bf16 or fp16
autocast). Progress, loss, validation events and cancellation work as in `finetune.py`, and the run
fills the same `ModelCard` and returns the same `FineTuneResult`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recengine.embed.cpu_batches import torch_intra_op_threads
from recengine.errors import NotReadyError
from recengine.progress import Progress, no_progress, scaled
from recengine.runtime import quiet_transformers_progress
from recengine.train import new_products
from recengine.train.arguments import FineTuneArguments
from recengine.train.card import ModelCard
from recengine.train.interaction_learners import Learner, make_learner, vector_table
from recengine.train.user_batches import (
    MIN_HISTORY,
    InteractionData,
    UserBatchSampler,
    interaction_data,
)

if TYPE_CHECKING:
    from recengine.train.finetune import EventCallback, FineTuneResult
    from recengine.workspace import Workspace

METRIC_K = 10
MIN_TRAIN_USERS = 4


@dataclass(frozen=True)
class TrainingSummary:
    """How the loop went: steps taken, the best validation step and whether it stopped early.

    `vectors_of` gives the trained model's normalised vectors the cheapest way the learner knows (from
    frozen vectors or cached layer inputs): equal to encoding with the saved model.
    """

    steps: int
    best_step: int | None
    stopped_early: bool
    losses: list[float]
    vectors_of: Callable[[list[str]], np.ndarray] = field(repr=False)


def history_metrics(
    vectors_of: Callable[[list[str]], np.ndarray], data: InteractionData, *, k: int = METRIC_K
) -> dict[str, float]:
    """NDCG@k / Recall@k of finding each validation customer's latest product from their others.

    Args:
        vectors_of: products -> their L2-normalised vectors under the model being measured.
        data: the validation customers and the trainable catalog they are ranked against.
    """
    from recengine.evaluate.metrics import ndcg_at_k, recall_at_k

    users = [user for user, items in data.validation.items() if len(items) >= MIN_HISTORY]
    if not users:
        return {}
    catalog = data.trainable_items
    vectors = vectors_of(catalog)
    position = {item: index for index, item in enumerate(catalog)}
    ndcg, recall = [], []
    for user in users:
        *given, wanted = data.validation[user]
        columns = [position[item] for item in given if item in position]
        if wanted not in position or not columns:
            continue
        scores = vectors @ vectors[columns].mean(axis=0)
        scores[columns] = -np.inf  # products the customer already has are not recommendations
        top = np.argsort(-scores, kind="stable")[:k]
        ranked = [catalog[index] for index in top]
        ndcg.append(ndcg_at_k(ranked, {wanted}, k))
        recall.append(recall_at_k(ranked, {wanted}, k))
    if not ndcg:
        return {}
    return {f"ndcg@{k}": float(np.mean(ndcg)), f"recall@{k}": float(np.mean(recall))}


def train_on_histories(
    model: Any,
    data: InteractionData,
    arguments: FineTuneArguments,
    *,
    device: str,
    precision: str,
    card: ModelCard | None = None,
    progress: Progress | None = None,
    on_event: EventCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    frozen_vectors: Mapping[str, np.ndarray] | None = None,
    initial_head: np.ndarray | None = None,
    learner: Learner | None = None,
) -> TrainingSummary:
    """Train `model` in place on `data.histories`; keeps the best validated state.

    With `arguments.trainable_layers == 0` a linear head is trained on the frozen encoder's vectors
    and added to the model at the end; with N > 0 on a CPU the top N layers train from their cached
    inputs; otherwise the encoder's own weights learn (GradCache). See `make_learner`.

    Args:
        frozen_vectors: product -> the base model's normalised vector, when already computed (the
            linear head then encodes nothing; benchmarks cache them).
        initial_head: the linear head to start from (federated rounds); the identity when None.
        learner: a learner already made for `model` by `make_learner` (its caches reused); made here when None.

    Raises:
        TrainingCancelled: `should_stop` asked to stop (the model is then half-trained: discard it).
    """
    import torch

    from recengine.train.finetune import TrainingCancelled

    report = progress or no_progress
    emit = on_event or (lambda kind, values: None)
    sampler = UserBatchSampler(
        data.histories,
        data.trainable_items,
        users_per_batch=arguments.users_per_batch,
        negatives=arguments.negatives_per_batch,
        max_items=arguments.max_items_per_batch,
        exclude_items=data.exclude_items,
        item_lengths={item: len(text) for item, text in data.item_texts.items()},
        seed=arguments.seed,
    )
    head = arguments.trainable_layers == 0
    if learner is None:
        learner = make_learner(
            model, data, arguments, device=device, precision=precision, report=scaled(report, 0.0, 0.1),
            frozen_vectors=frozen_vectors, initial_head=initial_head,
        )
        report = scaled(report, 0.1, 1.0)
    epochs = arguments.head_epochs if head else arguments.epochs
    steps_per_epoch = len(sampler)
    total_steps = max(1, steps_per_epoch * epochs)
    evaluate_every = max(1, steps_per_epoch // arguments.evaluations_per_epoch)
    optimizer = torch.optim.AdamW(learner.parameter_groups)
    warmup = max(1, int(round(arguments.warmup_ratio * total_steps)))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup)))
    )
    best_score = (card.metrics_before.get(f"ndcg@{METRIC_K}") if card else None) or -math.inf
    best_state: dict[str, Any] | None = None
    best_step: int | None = None
    evaluations_without_gain = 0
    losses: list[float] = []
    step = 0
    stopped_early = False
    started = time.monotonic()
    # A linear head's products are small (a few hundred vectors of 384): on a CPU one intra-op thread
    # does them in the same time, and two wait at every operation's barrier whenever the scheduler
    # gives a core to other work (Magazine's 168 steps: 5.5 s on one thread; 6-20 s on two at load 2,
    # 242 s at load 10 or more).
    small_operations = head and device.split(":")[0] == "cpu"
    with torch_intra_op_threads().held_at_one() if small_operations else nullcontext():
        for epoch in range(epochs):
            for batch in sampler.epoch(epoch):
                if should_stop is not None and should_stop():
                    raise TrainingCancelled("Fine-tuning was cancelled; no model was registered.")
                optimizer.zero_grad(set_to_none=True)
                loss = learner.step_loss(batch)
                if learner.gradients_finite():
                    torch.nn.utils.clip_grad_norm_(learner.parameters, 1.0)
                    optimizer.step()
                schedule.step()
                step += 1
                losses.append(loss)
                epoch_position = epoch + min(1.0, step / steps_per_epoch - epoch)
                if card is not None:
                    card.record_loss(step, epoch_position, loss)
                emit("loss", {"step": step, "epoch": epoch_position, "loss": loss,
                              "learning_rate": float(schedule.get_last_lr()[0])})
                fraction = min(1.0, step / total_steps)
                elapsed = time.monotonic() - started
                report(fraction, f"step {step}/{total_steps}, loss {loss:.4f}")
                emit("progress", {"step": step, "max_steps": total_steps, "fraction": fraction,
                                  "eta_s": elapsed / fraction - elapsed if fraction > 0 else None})
                if step % evaluate_every and step != total_steps:
                    continue
                metrics = history_metrics(learner.vectors_of, data)
                if card is not None:
                    card.record_eval(step, epoch_position, metrics)
                emit("eval", {"step": step, "epoch": epoch_position, **metrics})
                score = metrics.get(f"ndcg@{METRIC_K}", -math.inf)
                if score > best_score or not metrics:
                    best_score, best_step, evaluations_without_gain = score, step, 0
                    best_state = learner.state()
                else:
                    evaluations_without_gain += 1
                    if arguments.early_stopping_patience and evaluations_without_gain >= arguments.early_stopping_patience:
                        emit("log", {"message": f"stopped early at step {step}: no validation gain"})
                        stopped_early = True
                        break
            if stopped_early:
                break
    # The last state may be past the best validation: go back to the best one seen (as the trainer's
    # load_best_model_at_end does). Without any gain over the base the trained state is kept.
    if best_state is not None:
        learner.restore(best_state)
    learner.finish()
    return TrainingSummary(step, best_step, stopped_early, losses, learner.vectors_of)


def interaction_card(base_model: str, workspace: str, data: InteractionData, arguments: FineTuneArguments) -> ModelCard:
    """The model card of an interaction-objective run, with what it trains and validates on."""
    training_interactions = sum(len(items) for items in data.histories.values())
    card = ModelCard(
        base_model=base_model,
        workspace=workspace,
        data_summary={
            "items": len(data.item_texts),
            "training customers": len(data.histories),
            "validation customers": len(data.validation),
            "products excluded as new": len(data.exclude_items),
            "held-out test users": len(data.holdout_users),
            "held-out test interactions": data.held_out_interactions,
        },
        pairs_found_per_source={"customer histories": training_interactions},
        pairs_per_source={"customer histories": training_interactions},
        train_pairs=training_interactions,
        validation_pairs=len(data.validation),
        holdout=data.holdout_description,
        hyperparameters=arguments.to_dict(),
    )
    card.notes.append(
        "Objective: interactions (beeFormer): the similarity of product texts was trained to reconstruct "
        "which products each customer chose together; validation = finding each validation customer's "
        "latest product from their others."
    )
    return card


def finetune_on_interactions(
    workspace: Workspace,
    arguments: FineTuneArguments,
    *,
    output_dir: Path,
    base_model: str | None = None,
    data: InteractionData | None = None,
    exclude_items: frozenset[str] = frozenset(),
    progress: Progress | None = None,
    on_event: EventCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FineTuneResult:
    """Train a copy of the base encoder on the workspace's customer histories; save it under `output_dir/model`.

    Args:
        workspace: where the data comes from (read once, before training starts).
        arguments: hyper-parameters (`objective` is not read: this is the interaction objective).
        output_dir: a scratch folder.
        base_model: the model to start from; the workspace's `embed.model` setting when None.
        data: precomputed histories (tests, benchmarks); built from the workspace when None.
        exclude_items: products that must never be trained on (held out as new by an evaluation).
        progress, on_event, should_stop: as for `finetune.finetune_encoder`.

    Raises:
        NotReadyError: too few customers with two or more products.
        TrainingCancelled: `should_stop` asked to stop.
    """
    from recengine.train import finetune
    from recengine.train.registry import configured_model

    report = progress or no_progress
    emit = on_event or (lambda kind, values: None)
    quiet_transformers_progress()
    base_model = base_model or configured_model(workspace)
    model_path = finetune.resolve_model_path(base_model)
    report(0.0, "reading customers' histories")
    check = None
    if data is None:
        check = new_products.prepare(workspace, arguments.new_products_share, arguments.seed)
        data = interaction_data(
            workspace.items(), workspace.reviews(), workspace.interactions(), arguments,
            template=workspace.settings.embed.item_template,
            exclude_items=frozenset(exclude_items) | (check.new_items if check else frozenset()),
        )
    training_interactions = sum(len(items) for items in data.histories.values())
    emit("log", {"message": f"{len(data.histories)} customers with {training_interactions} products to train on, "
                            f"{len(data.validation)} validation customers"})
    if len(data.histories) < MIN_TRAIN_USERS or not data.validation:
        raise NotReadyError(
            f"Only {len(data.histories)} customers with {MIN_HISTORY}+ products could be used for the interaction "
            "objective.",
            hint="It needs customers with several reviews or events; ingest more data first, or use objective=pairs.",
        )
    card = interaction_card(base_model, str(workspace.root), data, arguments)
    card.start()
    report(0.02, "loading the base model")
    model, device, precision = finetune._load_model(model_path, arguments)
    card.device, card.precision = device, precision
    lora = finetune._apply_lora(model, arguments) if arguments.lora_rank else None
    # The learner first: its one pass over the catalog (frozen vectors or cached layer inputs) also gives
    # the base model's vectors, so the catalog is not encoded twice.
    learner = make_learner(model, data, arguments, device=device, precision=precision,
                           report=scaled(report, 0.05, 0.1))
    report(0.1, "measuring the base model")
    catalog = sorted(data.item_texts)
    base_vectors = learner.vectors_of(catalog)
    card.metrics_before = history_metrics(vector_table(catalog, base_vectors), data)
    impact = finetune.impact_setup(workspace, data.holdout_users, arguments)
    if impact is not None:
        report(0.1, "measuring the recommender with the base model")
        card.metrics_before.update(finetune.impact_metrics(impact, model, data.item_texts, arguments))
    emit("eval", {"step": 0, "epoch": 0.0, **card.metrics_before})

    summary = train_on_histories(
        model, data, arguments, device=device, precision=precision, card=card,
        progress=scaled(report, 0.1, 0.95), on_event=emit, should_stop=should_stop, learner=learner,
    )
    card.total_steps, card.best_step, card.stopped_early = summary.steps, summary.best_step, summary.stopped_early
    tuned_vectors = summary.vectors_of(catalog)
    if lora is not None:
        finetune._merge_lora(model)
    report(0.95, "measuring the fine-tuned model")
    card.metrics_after = history_metrics(vector_table(catalog, tuned_vectors), data)
    if check is not None:
        report(0.96, "ranking the held-out new products")
        figures = new_products.measure(check, catalog, base_vectors, tuned_vectors)
        card.metrics_before.update(figures.before)
        card.metrics_after.update(figures.after)
        card.notes.append(figures.summary)
        emit("log", {"message": figures.summary})
    if impact is not None:
        report(0.97, "measuring the recommender with the fine-tuned model")
        card.metrics_after.update(finetune.impact_metrics(impact, model, data.item_texts, arguments))
    result = finetune.save_run(model, card, output_dir)
    report(1.0, "training finished")
    return result

