"""Federated (FedAvg) fine-tuning: shards train on their own rows only; the average is registered."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from train_fixtures import fill_regions, interactions_frame, reviews_frame

from recengine.errors import ConfigError
from recengine.train import registry
from recengine.train.arguments import FineTuneArguments
from recengine.train.federated import _average, detect_shard_column, split_shards

pytest.importorskip("datasets")


def _with_regions(reviews):
    import json

    return reviews.assign(attributes=[json.dumps({"region": "north" if int(user[1:]) < 6 else "south"})
                                      for user in reviews["user_id"]])


def test_shards_are_detected_and_keep_their_own_rows() -> None:
    reviews = _with_regions(reviews_frame())
    assert detect_shard_column(reviews, interactions_frame()) == "region"
    assert detect_shard_column(reviews_frame(), interactions_frame()) is None
    shards = {shard.name: shard for shard in split_shards(reviews, interactions_frame(), "region")}
    assert set(shards) == {"north", "south"}
    assert set(shards["north"].reviews["user_id"]) == {f"U{i}" for i in range(6)}
    assert not set(shards["north"].reviews["review_id"]) & set(shards["south"].reviews["review_id"])


def test_average_is_weighted_by_pairs() -> None:
    import torch

    merged = _average([{"w": torch.tensor([0.0]), "ids": torch.tensor([1])}, {"w": torch.tensor([4.0]), "ids": torch.tensor([1])}], [1, 3])
    assert merged["w"].item() == pytest.approx(3.0)
    assert merged["ids"].item() == 1


@pytest.mark.slow  # four local trainings and three evaluations: ~30 s on 2 shared cores
def test_federated_run_registers_a_version(filled_workspace, tiny_model_dir: Path) -> None:
    from recengine.train.finetune import train_and_register

    fill_regions(filled_workspace)
    arguments = FineTuneArguments(objective="pairs", epochs=1, batch_size=8, max_pairs=120, holdout="test_items", max_seq_length=32,
                                  federated_rounds=2, learning_rate=1e-3)
    events: list[tuple[str, dict]] = []
    outcome = train_and_register(filled_workspace, arguments, base_model=str(tiny_model_dir),
                                 on_event=lambda kind, values: events.append((kind, values)))
    assert outcome.version.hyperparameters["shard_column"] == "region"
    assert set(outcome.version.hyperparameters["pairs_per_shard"]) == {"north", "south"}
    assert [values["round"] for kind, values in events if kind == "eval"] == [0, 1, 2]
    assert {"ndcg@10", "recall@10"} <= set(outcome.version.metrics_after)
    assert (registry.version_dir(filled_workspace, outcome.version.version_id) / "model.safetensors").exists()


def test_federated_without_shards_says_what_to_do(filled_workspace, tiny_model_dir: Path) -> None:
    from recengine.train.finetune import train_and_register

    arguments = replace(FineTuneArguments(holdout="test_items"), federated_rounds=1)
    with pytest.raises(ConfigError, match="shard column"):
        train_and_register(filled_workspace, arguments, base_model=str(tiny_model_dir))
    assert registry.list_versions(filled_workspace)[-1].is_base


def test_federated_interaction_objective_averages_the_shards_heads(filled_workspace, tiny_model_dir: Path) -> None:
    from recengine.train.finetune import train_and_register
    from recengine.train.interaction_learners import linear_head_weight

    fill_regions(filled_workspace)
    arguments = FineTuneArguments(objective="interactions", head_epochs=3, holdout="test_items", max_seq_length=32,
                                  federated_rounds=2, users_per_batch=2, validation_fraction=0.2,
                                  recommendation_eval=False)
    events: list[tuple[str, dict]] = []
    outcome = train_and_register(filled_workspace, arguments, base_model=str(tiny_model_dir),
                                 exclude_items=frozenset({"I00"}),
                                 on_event=lambda kind, values: events.append((kind, values)))
    hyperparameters = outcome.version.hyperparameters
    assert hyperparameters["objective"] == "interactions" and hyperparameters["shard_column"] == "region"
    assert set(hyperparameters["customers_per_shard"]) == {"north", "south"}
    assert [values["round"] for kind, values in events if kind == "eval"] == [0, 1, 2]
    assert {values["shard"] for kind, values in events if kind == "loss"} == {"north", "south"}
    assert {"ndcg@10", "recall@10"} <= set(outcome.version.metrics_after)
    from sentence_transformers import SentenceTransformer

    served = SentenceTransformer(str(registry.version_dir(filled_workspace, outcome.version.version_id)), device="cpu")
    head = linear_head_weight(served)
    assert head is not None and head.shape == (32, 32)
    assert not np.allclose(head, np.eye(32))  # the averaged heads learned something
