"""Before/after of a fine-tune on products new to the shop, the case where the encoder matters most.

A seeded share of the products with interactions is held out as new (`recengine.evaluate.cold_start`):
every interaction with them stays out of training, whatever the objective. After training, the base and
the tuned encoder each rank only those products for the customers who liked one of them, from the
customers' other liked products (Recall@20, NDCG@100 with bootstrap intervals, paired test). The figures
go into the model card next to the validation and recommender metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from recengine.errors import RecEngineError

if TYPE_CHECKING:
    from recengine.workspace import Workspace

log = logging.getLogger(__name__)

RESAMPLES = 500
PREFIX = "new products "
P_VALUE = "p-value of the recall change"  # after[PREFIX + P_VALUE]: the paired test of tuned against base (the advice reads it)
BASE, TUNED = "base encoder", "fine-tuned encoder"


@dataclass(frozen=True)
class NewProductsCheck:
    """The held-out new products of one fine-tune and what is needed to rank them."""

    split: Any  # recengine.evaluate.cold_start.ColdStartSplit
    items: Any  # the catalog frame the rankers score
    seed: int

    @property
    def new_items(self) -> frozenset[str]:
        return frozenset(self.split.new_items)


@dataclass(frozen=True)
class NewProductsFigures:
    """Base and tuned figures among new products (card metrics) and one sentence with intervals."""

    before: dict[str, float]
    after: dict[str, float]
    summary: str


def prepare(workspace: Workspace, share: float, seed: int) -> NewProductsCheck | None:
    """Hold out `share` of the products with interactions as new; None when the data cannot support it."""
    if share <= 0:
        return None
    try:
        from recengine.evaluate.cold_start import new_products_split
        from recengine.evaluate.data import from_workspace
    except ImportError:  # pragma: no cover - the evaluation module ships with recengine
        return None
    try:
        data = from_workspace(workspace, with_vectors=False)
        split = new_products_split(data.interactions, share=share, seed=seed)
    except RecEngineError as error:
        log.info("no new-products measurement: %s", error)
        return None
    return NewProductsCheck(split=split, items=data.items, seed=seed)


def measure(
    check: NewProductsCheck,
    item_ids: Sequence[str],
    base_vectors: np.ndarray,
    tuned_vectors: np.ndarray,
    *,
    resamples: int = RESAMPLES,
) -> NewProductsFigures:
    """Rank the new products with the base and the tuned vectors; intervals and a paired test."""
    from recengine.evaluate.baselines import EmbeddingProfile
    from recengine.evaluate.cold_start import rank_new_products

    base, tuned = EmbeddingProfile(item_ids, base_vectors), EmbeddingProfile(item_ids, tuned_vectors)
    base.name, tuned.name = BASE, TUNED
    result = rank_new_products(check.split, check.items, [base, tuned], reference=BASE, resamples=resamples,
                               seed=check.seed)
    before = {PREFIX + metric: estimate.mean for metric, estimate in result.methods[BASE].estimates.items()}
    after = {PREFIX + metric: estimate.mean for metric, estimate in result.methods[TUNED].estimates.items()}
    recall_before = result.methods[BASE].estimates["recall@20"]
    recall_after = result.methods[TUNED].estimates["recall@20"]
    test = result.comparisons[TUNED]["recall@20"]
    after[PREFIX + P_VALUE] = test.p_value
    summary = (
        f"New products ({len(check.split.new_items)} held out, never trained on; {result.users} customers): "
        f"Recall@20 {recall_before.format()} with the base encoder, {recall_after.format()} fine-tuned, "
        f"{test.mean_difference:+.4f} (p={test.p_value:.3f}{', significant' if test.significant else ', not significant'})."
    )
    return NewProductsFigures(before, after, summary)
