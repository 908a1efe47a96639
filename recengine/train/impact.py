"""Does the fine-tuned encoder recommend better? Recommender metrics before and after, on held-out users.

Beyond the validation pairs, a fine-tuning run measures what staff care about: NDCG@10 and Recall@10 of
the embedding-only profile and of the hybrid recommender on the evaluation split (leave-last-out by
time, full ranking, training items excluded), with the catalog embedded by the base and by the
fine-tuned encoder. Only the customers whose data never reached training are scored when a user
hold-out was used, so the comparison is honest.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from recengine.workspace import Workspace

log = logging.getLogger(__name__)
K = 10
MAX_ITEMS = 20_000  # above this, encoding the catalog twice costs more than the run is worth on a CPU


@dataclass(frozen=True)
class ImpactSetup:
    """The evaluation split (restricted to the scored users) and catalog, prepared before training."""

    data: Any  # recengine.evaluate.data.EvaluationData
    split: Any  # recengine.evaluate.splits.Split
    users: int


@dataclass(frozen=True)
class _Vectors:
    item_ids: list[str]
    vectors: np.ndarray
    fingerprint: str


def prepare(workspace: Workspace, held_out_users: Collection[str]) -> ImpactSetup | None:
    """The split to score on, or None when the workspace cannot be evaluated (no customers, too big)."""
    try:
        from recengine.evaluate.data import from_workspace
        from recengine.evaluate.splits import Split, make_splits
    except ImportError:  # pragma: no cover - the evaluation module ships with recengine
        return None
    try:
        data = from_workspace(workspace, with_vectors=False)
    except Exception as error:  # noqa: BLE001 - optional measurement: never fail the training for it
        log.info("recommender impact not measured: %s", error)
        return None
    if len(data.items) > MAX_ITEMS:
        return None
    splits = make_splits(data.interactions, strategy="leave_last_out")
    test = splits.test.test
    if held_out_users:
        test = test[test["user_id"].isin(set(held_out_users))]
    if test.empty:
        return None
    split = Split(splits.test.train, test.reset_index(drop=True), "customers held out of training")
    return ImpactSetup(data=data, split=split, users=int(test["user_id"].nunique()))


def catalog_texts(setup: ImpactSetup, item_texts: dict[str, str]) -> tuple[list[str], list[str]]:
    item_ids = setup.data.items["item_id"].astype(str).tolist()
    return item_ids, [item_texts.get(item_id, item_id) for item_id in item_ids]


def recommender_metrics(setup: ImpactSetup, item_ids: list[str], vectors: np.ndarray) -> dict[str, float]:
    """Mean NDCG@10 / Recall@10 of the embedding-only profile and the hybrid with these item vectors."""
    from recengine.evaluate.baselines import EmbeddingProfile, HybridRanker
    from recengine.evaluate.metrics import metrics_from_ranks
    from recengine.evaluate.runner import EvaluationContext

    context = EvaluationContext(setup.split, setup.data.items, seed=0)
    wrapped = _Vectors(item_ids, vectors, "impact")
    rankers = {"embedding": EmbeddingProfile(item_ids, vectors)}
    try:
        import recengine.recommend  # noqa: F401

        rankers["hybrid"] = HybridRanker(wrapped, keywords=setup.data.keywords, sentiment=setup.data.sentiment)
    except ImportError:  # pragma: no cover
        pass
    metrics: dict[str, float] = {}
    for name, ranker in rankers.items():
        try:
            run = context.run(ranker, k_max=K, batch_size=512)
        except Exception as error:  # noqa: BLE001 - a ranker that cannot run here is reported missing
            log.warning("recommender impact: %s failed: %s", name, error)
            continue
        values = metrics_from_ranks(run.ranks, K)
        metrics[f"{name} ndcg@{K}"] = float(np.mean(values["ndcg"]))
        metrics[f"{name} recall@{K}"] = float(np.mean(values["recall"]))
    return metrics
