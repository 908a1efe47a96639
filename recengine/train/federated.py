"""Federated fine-tuning (FedAvg) across the shards of a workspace: regions, stores, marketplaces.

When reviews and events carry a shard column (kept by the ingest in `attributes`, e.g. "region"), each
shard's trainer builds its pairs from that shard's rows only and trains a copy of the current global
model; the coordinator averages the copies' weights, weighted by training pairs (McMahan et al., 2017,
"Communication-Efficient Learning of Deep Networks from Decentralized Data"), for a few rounds. Raw
reviews and events of one shard never reach another shard's trainer; the coordinator only sees the
user/item/time of the evaluation split (to hold test data out) and the validation pairs it scores.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recengine.errors import ConfigError, NotReadyError
from recengine.progress import Progress, no_progress
from recengine.train.arguments import FineTuneArguments
from recengine.train.card import ModelCard
from recengine.train.pairs import (
    TrainingPair,
    build_pairs,
    engagement_frame,
    evaluation_holdout,
    split_validation,
)
from recengine.train.user_batches import InteractionData, interaction_data

if TYPE_CHECKING:
    from recengine.train.finetune import EventCallback, FineTuneResult
    from recengine.workspace import Workspace

SHARD_COLUMNS = ("shard", "region", "store", "marketplace", "market", "country")
MIN_SHARD_PAIRS = 8
MIN_SHARD_CUSTOMERS = 2


@dataclass(frozen=True)
class ShardData:
    """One shard's own rows (never shown to another shard's trainer)."""

    name: str
    reviews: pd.DataFrame
    interactions: pd.DataFrame


def shard_values(frame: pd.DataFrame, column: str) -> pd.Series:
    """The shard of each row: a real column, else the key in the row's `attributes` JSON."""
    if column in frame.columns:
        return frame[column].astype("string")
    if "attributes" not in frame.columns or frame.empty:
        return pd.Series(pd.NA, index=frame.index, dtype="string")

    def lookup(raw: object) -> object:
        if not isinstance(raw, str) or not raw.startswith("{"):
            return pd.NA
        try:
            value = json.loads(raw).get(column)
        except (json.JSONDecodeError, AttributeError):
            return pd.NA
        return pd.NA if value in (None, "") else str(value)

    return frame["attributes"].map(lookup).astype("string")


def detect_shard_column(reviews: pd.DataFrame, interactions: pd.DataFrame) -> str | None:
    """The first known shard column present on most rows with at least two distinct values."""
    for column in SHARD_COLUMNS:
        values = pd.concat([shard_values(reviews, column), shard_values(interactions, column)], ignore_index=True)
        if len(values) and values.notna().mean() >= 0.5 and values.dropna().nunique() >= 2:
            return column
    return None


def split_shards(reviews: pd.DataFrame, interactions: pd.DataFrame, column: str) -> list[ShardData]:
    review_shards = shard_values(reviews, column)
    interaction_shards = shard_values(interactions, column)
    names = sorted(set(review_shards.dropna()) | set(interaction_shards.dropna()))
    return [
        ShardData(
            name=str(name),
            reviews=reviews[(review_shards == name).fillna(False).to_numpy()],
            interactions=interactions[(interaction_shards == name).fillna(False).to_numpy()],
        )
        for name in names
    ]


def federated_finetune(
    workspace: Workspace,
    arguments: FineTuneArguments,
    *,
    output_dir: Path,
    base_model: str,
    rounds: int,
    shard_column: str | None = None,
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None,
    progress: Progress | None = None,
    on_event: EventCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    exclude_items: frozenset[str] = frozenset(),
) -> FineTuneResult:
    """FedAvg over the shards; returns the averaged model saved under `output_dir/model` with its card.

    Args:
        rounds: communication rounds; each shard trains `arguments.epochs` local epochs per round.
        shard_column: the column naming the shard (detected among SHARD_COLUMNS when None).
        frames: (items, reviews, interactions); read from the workspace when None.
        exclude_items: products no shard's training pair may name (held out as new by an evaluation).

    Raises:
        ConfigError: no shard column, or fewer than two shards with enough pairs.
    """
    from recengine.train import finetune as central

    report = progress or no_progress
    emit = on_event or (lambda kind, values: None)
    items, reviews, interactions = frames or (workspace.items(), workspace.reviews(), workspace.interactions())
    column = shard_column or detect_shard_column(reviews, interactions)
    if column is None:
        raise ConfigError(
            "Federated fine-tuning needs a shard column on reviews or events (region, store, marketplace...).",
            hint=f"Map one of {', '.join(SHARD_COLUMNS)} when ingesting, or train centrally.",
        )
    # The coordinator fixes the evaluation hold-out from user/item/time only (no review text).
    holdout = evaluation_holdout(
        engagement_frame(reviews, interactions), mode=arguments.holdout,
        user_fraction=arguments.holdout_user_fraction, seed=arguments.seed,
    )
    template = workspace.settings.embed.item_template
    if arguments.objective == "interactions":
        shards = split_shards(reviews, interactions, column)
        shard_data = {
            shard.name: interaction_data(items, shard.reviews, shard.interactions, arguments, template=template,
                                         holdout=holdout, exclude_items=exclude_items)
            for shard in shards
        }
        return federated_interactions(
            str(workspace.root), arguments, shard_data, output_dir=output_dir, base_model=base_model, rounds=rounds,
            column=column, report=report, emit=emit, should_stop=should_stop,
        )
    shard_train: dict[str, list[TrainingPair]] = {}
    validation: list[TrainingPair] = []
    found: dict[str, int] = {}
    used: dict[str, int] = {}
    item_texts: dict[str, str] = {}
    per_shard_budget = max(10, arguments.max_pairs // max(1, len(split_shards(reviews, interactions, column))))
    for shard in split_shards(reviews, interactions, column):
        # Built from this shard's own rows only (the catalog is shared, customer data is not).
        pairs = build_pairs(items, shard.reviews, shard.interactions, _replace(arguments, max_pairs=per_shard_budget),
                            template=template, holdout=holdout, exclude_items=exclude_items)
        item_texts = item_texts or pairs.item_texts
        train, held = split_validation(pairs.pairs, arguments.validation_fraction, arguments.seed)
        if len(train) < MIN_SHARD_PAIRS:
            emit("log", {"message": f"shard {shard.name}: only {len(train)} pairs, left out"})
            continue
        shard_train[shard.name] = train
        validation.extend(held)
        for source, count in pairs.found_per_source.items():
            found[source] = found.get(source, 0) + count
        for source, count in pairs.used_per_source.items():
            used[source] = used.get(source, 0) + count
    if len(shard_train) < 2:
        raise NotReadyError(
            f"Federated fine-tuning needs at least two shards with {MIN_SHARD_PAIRS}+ pairs; found {len(shard_train)}.",
            hint="Train centrally instead (federated_rounds = 0).",
        )
    emit("log", {"message": "pairs per shard: " + ", ".join(f"{name} {len(p)}" for name, p in shard_train.items())})

    card = ModelCard(
        base_model=base_model, workspace=str(workspace.root),
        data_summary={"items": len(item_texts), "shards": len(shard_train), "held-out test users": len(holdout.users)},
        pairs_found_per_source=found, pairs_per_source=used,
        train_pairs=sum(len(pairs) for pairs in shard_train.values()), validation_pairs=len(validation),
        holdout=holdout.description,
        hyperparameters={**arguments.to_dict(), "federated_rounds": rounds, "shard_column": column,
                         "pairs_per_shard": {name: len(pairs) for name, pairs in shard_train.items()}},
    )
    card.notes.append(f"FedAvg over {len(shard_train)} shards by '{column}', {rounds} rounds of {arguments.epochs} local epoch(s).")
    card.start()
    model, device, precision = central._load_model(central.resolve_model_path(base_model), arguments)
    card.device, card.precision = device, precision
    evaluator = central._make_evaluator(central.validation_set(validation, item_texts, arguments), max(arguments.batch_size, 32))
    card.metrics_before = central._plain_metrics(evaluator(model))
    emit("eval", {"step": 0, "round": 0, **card.metrics_before})

    total = rounds * len(shard_train)
    done = 0
    for round_number in range(1, rounds + 1):
        states, weights = [], []
        for name, pairs in shard_train.items():
            if should_stop is not None and should_stop():
                raise central.TrainingCancelled("Federated fine-tuning was cancelled; no model was registered.")
            local = copy.deepcopy(model)
            trainer = _local_trainer(local, arguments, pairs, output_dir / f"round{round_number}-{name}", precision, device)
            trainer.train()
            losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
            if losses:
                emit("loss", {"step": done + 1, "round": round_number, "shard": name, "loss": float(losses[-1])})
                card.record_loss(done + 1, float(round_number), float(losses[-1]))
            states.append({key: value.detach().clone() for key, value in local.state_dict().items()})
            weights.append(len(pairs))
            shutil.rmtree(output_dir / f"round{round_number}-{name}", ignore_errors=True)
            done += 1
            report(0.1 + 0.85 * done / total, f"round {round_number}/{rounds}, shard {name}")
        model.load_state_dict(_average(states, weights))
        metrics = central._plain_metrics(evaluator(model))
        card.record_eval(done, float(round_number), metrics)
        emit("eval", {"step": done, "round": round_number, **metrics})
    card.total_steps = done
    card.metrics_after = card.eval_history[-1] if card.eval_history else {}
    card.metrics_after = {key: value for key, value in card.metrics_after.items() if key not in ("step", "epoch")}
    result = central.save_run(model, card, output_dir)
    report(1.0, "federated training finished")
    return result


def federated_interactions(
    workspace_root: str,
    arguments: FineTuneArguments,
    shard_data: dict[str, InteractionData],
    *,
    output_dir: Path,
    base_model: str,
    rounds: int,
    column: str,
    report: Progress = no_progress,
    emit: EventCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    frozen_vectors: Mapping[str, np.ndarray] | None = None,
) -> FineTuneResult:
    """FedAvg with the interaction objective: each shard trains on its own customers' histories.

    With a linear head (trainable_layers=0) the shards average their heads, all started from the
    round's global head over the same frozen product vectors (computed once from the catalog, which is
    shared); otherwise they average the encoder weights, as the pair objective does.

    Args:
        workspace_root: named in the model card.
        shard_data: shard name -> its customers' histories (from `user_batches.interaction_data`).
        column: what the shards are, for the card.
        frozen_vectors: the base model's product vectors when already computed (benchmarks cache them).
    """
    emit = emit or (lambda kind, values: None)
    import torch

    from recengine.train import finetune as central
    from recengine.train import interaction_finetune as interactions
    from recengine.train import interaction_learners as learners

    usable = {name: data for name, data in shard_data.items() if len(data.histories) >= MIN_SHARD_CUSTOMERS}
    for name in sorted(set(shard_data) - set(usable)):
        emit("log", {"message": f"shard {name}: only {len(shard_data[name].histories)} customers with 2+ products, left out"})
    if len(usable) < 2:
        raise NotReadyError(
            f"Federated fine-tuning needs at least two shards with {MIN_SHARD_CUSTOMERS}+ customers who chose 2+ "
            f"products; found {len(usable)}.",
            hint="Train centrally instead (federated_rounds = 0).",
        )
    first = next(iter(usable.values()))
    # The coordinator measures on every shard's validation customers (their ids and products only).
    validation = {user: items for data in usable.values() for user, items in data.validation.items()}
    everyone = replace(first, histories={user: items for data in usable.values() for user, items in data.histories.items()},
                       validation=validation)
    card = interactions.interaction_card(base_model, workspace_root, everyone, arguments)
    card.hyperparameters.update({"federated_rounds": rounds, "shard_column": column,
                                 "customers_per_shard": {name: len(data.histories) for name, data in usable.items()}})
    card.notes.append(f"FedAvg over {len(usable)} shards by '{column}', {rounds} rounds.")
    card.start()
    model, device, precision = central._load_model(central.resolve_model_path(base_model), arguments)
    card.device, card.precision = device, precision
    catalog = sorted(first.item_texts)
    if frozen_vectors is None:
        frozen_vectors = dict(zip(catalog, learners.model_vectors(model, first.item_texts)(catalog), strict=True))
    base_vectors = np.stack([frozen_vectors[item] for item in catalog])
    card.metrics_before = interactions.history_metrics(learners.vector_table(catalog, base_vectors), everyone)
    emit("eval", {"step": 0, "round": 0, **card.metrics_before})
    head_mode = arguments.trainable_layers == 0
    frozen = frozen_vectors if head_mode else None
    head = np.eye(len(next(iter(frozen.values()))), dtype=np.float32) if frozen else None
    total, done = rounds * len(usable), 0
    for round_number in range(1, rounds + 1):
        states, weights = [], []
        for name, data in usable.items():
            if should_stop is not None and should_stop():
                raise central.TrainingCancelled("Federated fine-tuning was cancelled; no model was registered.")
            local = copy.deepcopy(model)
            summary = interactions.train_on_histories(local, data, arguments, device=device, precision=precision,
                                                      frozen_vectors=frozen, initial_head=head)
            if summary.losses:
                emit("loss", {"step": done + 1, "round": round_number, "shard": name, "loss": summary.losses[-1]})
                card.record_loss(done + 1, float(round_number), summary.losses[-1])
            local_head = learners.linear_head_weight(local) if head_mode else None
            states.append({"weight": torch.from_numpy(local_head)} if local_head is not None
                          else {key: value.detach().clone() for key, value in local.state_dict().items()})
            weights.append(len(data.histories))
            done += 1
            report(0.1 + 0.85 * done / total, f"round {round_number}/{rounds}, shard {name}")
        averaged = _average(states, weights)
        if head_mode:
            head = averaged["weight"].numpy()
            vectors_of = learners.vector_table(catalog, learners.projected(base_vectors, head))
        else:
            model.load_state_dict(averaged)
            vectors_of = learners.model_vectors(model, first.item_texts)
        metrics = interactions.history_metrics(vectors_of, everyone)
        card.record_eval(done, float(round_number), metrics)
        emit("eval", {"step": done, "round": round_number, **metrics})
    if head_mode:
        learners.attach_linear_head(model, torch.from_numpy(head))
    card.total_steps = done
    card.metrics_after = {key: value for key, value in card.eval_history[-1].items() if key not in ("step", "epoch")}
    result = central.save_run(model, card, output_dir)
    report(1.0, "federated training finished")
    return result


def _replace(arguments: FineTuneArguments, **changes: Any) -> FineTuneArguments:
    return replace(arguments, **changes)


def _average(states: list[dict[str, Any]], weights: list[int]) -> dict[str, Any]:
    total = float(sum(weights))
    averaged = {}
    for key, first in states[0].items():
        if first.is_floating_point():
            averaged[key] = sum(state[key] * (weight / total) for state, weight in zip(states, weights, strict=True))
        else:
            averaged[key] = first  # integer buffers (position ids) are identical across copies
    return averaged


def _local_trainer(model: Any, arguments: FineTuneArguments, pairs: list[TrainingPair], output_dir: Path,
                   precision: str, device: str) -> Any:
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from recengine.train.finetune import _dataset, _warmup

    training_arguments = SentenceTransformerTrainingArguments(
        output_dir=str(output_dir), num_train_epochs=arguments.epochs,
        per_device_train_batch_size=arguments.batch_size, learning_rate=arguments.learning_rate,
        **_warmup(arguments.warmup_ratio), seed=arguments.seed, bf16=precision == "bf16", fp16=precision == "fp16",
        use_cpu=device == "cpu", batch_sampler="no_duplicates", save_strategy="no", eval_strategy="no",
        logging_steps=1, report_to="none", disable_tqdm=True,
    )
    trainer = SentenceTransformerTrainer(model=model, args=training_arguments, train_dataset=_dataset(pairs),
                                         loss=MultipleNegativesRankingLoss(model))
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    return trainer

