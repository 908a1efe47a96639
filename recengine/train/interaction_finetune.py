"""Fine-tuning on customers' histories (the interaction objective, beeFormer) with a plain PyTorch loop.

Each step takes a batch of customers (`user_batches.UserBatchSampler`), encodes their products and some
sampled negatives in chunks (`reconstruction_loss.chunked_loss_backward`, GradCache), and updates the
encoder with AdamW under a linear warm-up and decay. Validation customers, never trained on, measure
NDCG@10 / Recall@10 of finding each one's latest product from the others (profile = mean of their
products' vectors, whole trainable catalog ranked); the best state is kept and training may stop early.

Fits a 2-core CPU (fp32: bf16 autocast is slower on CPUs without native bf16) and a GPU (bf16 or fp16
autocast). Progress, loss, validation events and cancellation work as in `finetune.py`, and the run
fills the same `ModelCard` and returns the same `FineTuneResult`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recengine.errors import ModelError, NotReadyError
from recengine.progress import Progress, no_progress, scaled
from recengine.runtime import quiet_transformers_progress
from recengine.train import new_products
from recengine.train.arguments import FineTuneArguments
from recengine.train.card import ModelCard
from recengine.train.reconstruction_loss import TextEncoder, chunked_loss_backward, reconstruction_loss
from recengine.train.user_batches import (
    MIN_HISTORY,
    InteractionData,
    UserBatch,
    UserBatchSampler,
    interaction_data,
)

if TYPE_CHECKING:
    from recengine.train.finetune import EventCallback, FineTuneResult
    from recengine.workspace import Workspace

METRIC_K = 10
MIN_TRAIN_USERS = 4
# fp16 gradients of a loss in [0, 4] underflow; a fixed scale keeps them representable (checked per step).
FP16_GRADIENT_SCALE = 1024.0


@dataclass(frozen=True)
class TrainingSummary:
    """How the loop went: steps taken, the best validation step and whether it stopped early."""

    steps: int
    best_step: int | None
    stopped_early: bool
    losses: list[float]


def text_encoder(model: Any, device: str, precision: str) -> TextEncoder:
    """The forward pass of a SentenceTransformer as texts -> embeddings, with autocast when asked."""
    import torch

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    device_type = device.split(":")[0]

    # sentence-transformers 6 renamed `tokenize` to `preprocess` (the old name warns on every call).
    preprocess = getattr(model, "preprocess", None) or model.tokenize

    def encode(texts: Sequence[str]) -> torch.Tensor:
        features = preprocess(list(texts))
        features = {name: value.to(device) if hasattr(value, "to") else value for name, value in features.items()}
        context = torch.autocast(device_type=device_type, dtype=dtype) if dtype is not None else nullcontext()
        with context:
            return model(features)["sentence_embedding"]

    return encode


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


def model_vectors(model: Any, item_texts: dict[str, str], batch_size: int = 64) -> Callable[[list[str]], np.ndarray]:
    """products -> normalised vectors of `model` (for `history_metrics`)."""

    def vectors_of(item_ids: list[str]) -> np.ndarray:
        encoded = model.encode([item_texts[item] for item in item_ids], batch_size=batch_size,
                               normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(encoded, dtype=np.float32)

    return vectors_of


class _EncoderLearner:
    """Trains the encoder's own weights (the top `layers` transformer layers, or all with -1) by GradCache."""

    def __init__(self, model: Any, data: InteractionData, arguments: FineTuneArguments, device: str, precision: str) -> None:
        self.model, self.data, self.device = model, data, device
        self.chunk_size = arguments.mini_batch_size
        self.gradient_scale = FP16_GRADIENT_SCALE if precision == "fp16" else 1.0
        self.encode = text_encoder(model, device, precision)
        trainable_top_layers(model, arguments.trainable_layers)
        self.parameters = [parameter for parameter in model.parameters() if parameter.requires_grad]

    def step_loss(self, batch: UserBatch) -> float:
        import torch

        self.model.train()
        history = torch.from_numpy(batch.history).to(self.device)
        texts = [self.data.item_texts[item] for item in batch.item_ids]
        return chunked_loss_backward(self.encode, texts, history, self.chunk_size, gradient_scale=self.gradient_scale)

    def gradients_finite(self) -> bool:
        """Undo the fp16 gradient scale; False (skip the step) when a gradient overflowed."""
        import torch

        if self.gradient_scale == 1.0:
            return True
        gradients = [parameter.grad for parameter in self.parameters if parameter.grad is not None]
        for gradient in gradients:
            gradient.div_(self.gradient_scale)
        return all(bool(torch.isfinite(gradient).all()) for gradient in gradients)

    def vectors_of(self, item_ids: list[str]) -> np.ndarray:
        return model_vectors(self.model, self.data.item_texts)(item_ids)

    def state(self) -> dict[str, Any]:
        return {name: value.detach().to("cpu", copy=True) for name, value in self.model.state_dict().items()}

    def restore(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state)

    def finish(self) -> None:
        for parameter in self.model.parameters():
            parameter.requires_grad_(True)


class _HeadLearner:
    """Trains a linear head on the frozen encoder's vectors, computed once: cheap enough for a small CPU.

    The head starts as the identity (the base model exactly) and is saved into the model as a `Dense`
    module, so that serving needs nothing new: the tuned SentenceTransformer folder holds it.
    """

    def __init__(
        self,
        model: Any,
        data: InteractionData,
        report: Progress,
        frozen_vectors: Mapping[str, np.ndarray] | None,
        initial_head: np.ndarray | None = None,
    ) -> None:
        import torch

        self.model, self.data = model, data
        items = sorted(data.item_texts)
        self.row = {item: index for index, item in enumerate(items)}
        if frozen_vectors is not None:
            features = np.stack([frozen_vectors[item] for item in items]).astype(np.float32)
        else:
            report(0.0, f"encoding {len(items)} products once (frozen encoder)")
            features = model_vectors(model, data.item_texts)(items)
        self.features = torch.from_numpy(features)
        start = torch.eye(self.features.shape[1]) if initial_head is None else torch.from_numpy(initial_head.copy())
        self.weight = torch.nn.Parameter(start.float())
        self.parameters = [self.weight]

    def _project(self, rows: Any) -> Any:
        return self.features[rows] @ self.weight.T

    def step_loss(self, batch: UserBatch) -> float:
        import torch

        rows = torch.tensor([self.row[item] for item in batch.item_ids])
        loss = reconstruction_loss(self._project(rows), torch.from_numpy(batch.history))
        loss.backward()
        return float(loss.detach())

    def gradients_finite(self) -> bool:
        return True

    def vectors_of(self, item_ids: list[str]) -> np.ndarray:
        import torch

        with torch.no_grad():
            projected = self._project(torch.tensor([self.row[item] for item in item_ids]))
            return torch.nn.functional.normalize(projected, dim=1).numpy()

    def state(self) -> dict[str, Any]:
        return {"weight": self.weight.detach().clone()}

    def restore(self, state: dict[str, Any]) -> None:
        import torch

        with torch.no_grad():
            self.weight.copy_(state["weight"])

    def finish(self) -> None:
        attach_linear_head(self.model, self.weight.detach().clone())


def trainable_top_layers(model: Any, layers: int) -> None:
    """Freeze all weights but the top `layers` transformer layers (every weight with -1)."""
    for parameter in model.parameters():
        parameter.requires_grad_(layers < 0)
    if layers <= 0:
        return
    stack = _layer_stack(model)
    for layer in list(stack)[-layers:]:
        for parameter in layer.parameters():
            parameter.requires_grad_(True)


def _layer_stack(model: Any) -> Any:
    import torch

    # BERT-like encoders keep their blocks in `encoder.layer`; others in a ModuleList named layer(s).
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and name.rsplit(".", 1)[-1] in ("layer", "layers", "block"):
            return module
    raise ModelError(
        "Cannot find the transformer layers of this encoder to train only the top ones.",
        hint="Set trainable_layers to -1 (all weights) or 0 (a linear head).",
    )


def attach_linear_head(model: Any, weight: Any) -> None:
    """Insert a bias-free linear layer with `weight` before the model's final normalisation (if any)."""
    import torch

    try:
        from sentence_transformers.sentence_transformer.modules import Dense, Normalize
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Dense, Normalize
    head = Dense(weight.shape[1], weight.shape[0], bias=False, activation_function=torch.nn.Identity(), init_weight=weight)
    modules = list(model._modules.items())
    keys = [key for key, _module in modules]
    position = len(modules) - 1 if modules and isinstance(modules[-1][1], Normalize) else len(modules)
    reordered = modules[:position] + [(str(len(modules)), head)] + modules[position:]
    for key in keys:
        del model._modules[key]
    for index, (_key, module) in enumerate(reordered):
        model._modules[str(index)] = module


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
) -> TrainingSummary:
    """Train `model` in place on `data.histories`; keeps the best validated state.

    With `arguments.trainable_layers == 0` a linear head is trained on the frozen encoder's vectors
    and added to the model at the end; otherwise the encoder's own weights learn (GradCache).

    Args:
        frozen_vectors: product -> the base model's normalised vector, when already computed (the
            linear head then encodes nothing; benchmarks cache them).
        initial_head: the linear head to start from (federated rounds); the identity when None.

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
    learner: _HeadLearner | _EncoderLearner = (
        _HeadLearner(model, data, scaled(report, 0.0, 0.1), frozen_vectors, initial_head) if head
        else _EncoderLearner(model, data, arguments, device, precision)
    )
    training_report = scaled(report, 0.1, 1.0) if head else report
    epochs = arguments.head_epochs if head else arguments.epochs
    steps_per_epoch = len(sampler)
    total_steps = max(1, steps_per_epoch * epochs)
    evaluate_every = max(1, steps_per_epoch // arguments.evaluations_per_epoch)
    optimizer = torch.optim.AdamW(
        learner.parameters,
        lr=arguments.head_learning_rate if head else arguments.learning_rate,
        # Decay would pull the head towards zero, not towards the identity it starts from.
        weight_decay=0.0 if head else 0.01,
    )
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
            training_report(fraction, f"step {step}/{total_steps}, loss {loss:.4f}")
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
    return TrainingSummary(step, best_step, stopped_early, losses)


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
    report(0.05, "measuring the base model")
    catalog = sorted(data.item_texts)
    base_vectors = model_vectors(model, data.item_texts)(catalog)
    card.metrics_before = history_metrics(vector_table(catalog, base_vectors), data)
    impact = finetune.impact_setup(workspace, data.holdout_users, arguments)
    if impact is not None:
        report(0.07, "measuring the recommender with the base model")
        card.metrics_before.update(finetune.impact_metrics(impact, model, data.item_texts, arguments))
    emit("eval", {"step": 0, "epoch": 0.0, **card.metrics_before})

    lora = finetune._apply_lora(model, arguments) if arguments.lora_rank else None
    summary = train_on_histories(
        model, data, arguments, device=device, precision=precision, card=card,
        progress=scaled(report, 0.1, 0.95), on_event=emit, should_stop=should_stop,
        frozen_vectors=dict(zip(catalog, base_vectors, strict=True)),
    )
    card.total_steps, card.best_step, card.stopped_early = summary.steps, summary.best_step, summary.stopped_early
    if lora is not None:
        finetune._merge_lora(model)
    report(0.95, "measuring the fine-tuned model")
    head = linear_head_weight(model) if arguments.trainable_layers == 0 else None
    tuned_vectors = projected(base_vectors, head) if head is not None else model_vectors(model, data.item_texts)(catalog)
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


def vector_table(item_ids: Sequence[str], vectors: np.ndarray) -> Callable[[list[str]], np.ndarray]:
    """products -> their rows of precomputed `vectors` (for `history_metrics`)."""
    row = {item: index for index, item in enumerate(item_ids)}

    def vectors_of(wanted: list[str]) -> np.ndarray:
        return vectors[[row[item] for item in wanted]]

    return vectors_of


def projected(vectors: np.ndarray, head: np.ndarray) -> np.ndarray:
    """Base vectors through a linear head, normalised: what the tuned model would encode."""
    tuned = np.asarray(vectors, dtype=np.float32) @ head.T
    return tuned / np.maximum(np.linalg.norm(tuned, axis=1, keepdims=True), 1e-12)


def linear_head_weight(model: Any) -> np.ndarray | None:
    """The weight of the linear head a head-only run added (None when the model has none).

    With it, tuned vectors are the base vectors times its transpose, normalised: a benchmark can score
    a tuned model on cached base vectors without encoding the catalog again.
    """
    try:
        from sentence_transformers.sentence_transformer.modules import Dense
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Dense
    heads = [module for module in model if isinstance(module, Dense)]
    return heads[-1].linear.weight.detach().cpu().numpy().astype(np.float32) if heads else None
