"""Whole-catalog lists that are not plain score orders, for the cold-start evaluation.

Two questions the plain hybrid cannot answer about new products (issue #21):

- **What does a business rule buy, and what does it cost?** `RuledHybrid` is the hybrid's list under
  business rules (the new-arrivals rule: products first seen within N days get a minimum share of every
  list), exactly as `Recommender.recommend` builds it; `warm_cost` measures what the same rule costs the
  leave-last-out ranking of products that do have interactions.
- **Is the gap choice or share?** `ContentChoiceHybrid` keeps the hybrid's list and the slots it gives to
  new products, but fills those slots with the new products a content ranking puts first: what the hybrid
  would reach if its choice among new products were as good as that ranking's (no target is read, so the
  bound is "oracle-free"). If it reaches far more than the hybrid, the borrowed estimate chooses badly; if
  not, new products simply get too few slots.

Both are `Ranker`s whose scores put their list first (`scores_with_lists_first`), so the same rank-based
metrics read them as they read any other method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recengine.evaluate.baselines import HybridRanker, Ranker
from recengine.evaluate.cold_start import liked_rows
from recengine.evaluate.metrics import (
    Estimate,
    PairedTest,
    bootstrap_ci,
    bootstrap_indices,
    metrics_from_ranks,
    paired_test,
)
from recengine.recommend.rules import NewArrivals, RuleSet

# The smallest window a merchandiser can set: products first seen on the data's newest day. Products nobody
# has interacted with count as first seen that day (`Catalog.with_first_seen`), so the split's new products
# are exactly the new arrivals, together with catalog products nobody ever bought.
NEW_ARRIVAL_DAYS = 1.0


def new_arrivals_rules(share: float, days: float = NEW_ARRIVAL_DAYS) -> RuleSet:
    """The business rules of one measured setting: new arrivals get at least `share` of each list."""
    return RuleSet((NewArrivals(days=days, share=share),))


def scores_with_lists_first(scores: np.ndarray, lists: Sequence[Sequence[int]]) -> np.ndarray:
    """`scores` changed so that each row's order starts with its list, in list order; the rest keeps its order.

    Args:
        scores: (users, items) scores.
        lists: per user, the catalog positions of their list, best first.
    """
    result = np.array(scores, dtype=np.float64, copy=True)
    for row, positions in enumerate(lists):
        if len(positions) == 0:
            continue
        finite = result[row][np.isfinite(result[row])]
        above = (float(finite.max()) if finite.size else 0.0) + 1.0
        result[row, np.asarray(positions, dtype=np.int64)] = above + np.arange(len(positions), 0, -1, dtype=np.float64)
    return result


class RuledHybrid(HybridRanker):
    """The hybrid's top-k under business rules, as `Recommender.recommend` lists it.

    Args:
        item_vectors, settings: as `HybridRanker`.
        rules: the business rules applied to every list.
        k: list length the rules are applied to (a minimum share is a share of k slots).
        name: label in reports.
    """

    def __init__(self, item_vectors: Any, settings: Any, rules: RuleSet, *, k: int, name: str) -> None:
        super().__init__(item_vectors, settings, name=name)
        self.rules = rules
        self.k = k

    def arrivals(self) -> np.ndarray:
        """Mask, in the recommender's catalog order, of the products its new-arrivals rules promote."""
        catalog = self.recommender.catalog
        mask = np.zeros(catalog.size, dtype=bool)
        for rule in self.rules.active():
            if isinstance(rule, NewArrivals):
                mask |= rule.matches(catalog)
        return mask

    def lists(self, user_ids: Sequence[str]) -> list[list[int]]:
        """Each customer's ruled list as positions in the evaluation catalog's order."""
        index = {item_id: position for position, item_id in enumerate(self.item_ids)}
        return [
            [index[item_id] for item_id in self.recommender.top_items(user, self.k, rules=self.rules)]
            for user in user_ids
        ]

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        return scores_with_lists_first(super().score(user_ids), self.lists(user_ids))


class ContentChoiceHybrid:
    """The hybrid's top-k with its new-product slots filled in the order of a content ranking.

    The list keeps the hybrid's other products and the positions it gave to new products; only which new
    products sit there changes: the content ranking's best new products, best first.

    Args:
        hybrid: the hybrid (plain or ruled) whose list and slots are kept; fitted on all training rows.
        content: a content ranker.
        new_items: ids of the products that count as new.
        k: list length.
        name: label in reports.
        content_reads_likes: fit `content` on the liked training rows only (a customer profile's input, as
            among new products); False = on every training row (a map learned from the collaborative signal).
    """

    def __init__(
        self, hybrid: HybridRanker, content: Ranker, new_items: Sequence[str], *, k: int, name: str,
        content_reads_likes: bool = True,
    ) -> None:
        self.hybrid = hybrid
        self.content = content
        self.content_reads_likes = content_reads_likes
        self.new_items = {str(item_id) for item_id in new_items}
        self.k = k
        self.name = name

    def fit(self, train: pd.DataFrame, items: pd.DataFrame) -> ContentChoiceHybrid:
        self.hybrid.fit(train, items)
        self.content.fit(liked_rows(train) if self.content_reads_likes else train, items)
        self.is_new = items["item_id"].astype(str).isin(self.new_items).to_numpy()
        self.new_columns = np.flatnonzero(self.is_new)
        return self

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        scores = np.asarray(self.hybrid.score(user_ids), dtype=np.float64)
        content = np.asarray(self.content.score(user_ids), dtype=np.float64)[:, self.new_columns]
        lists = []
        for row in range(len(user_ids)):
            top = np.argsort(-scores[row], kind="stable")[: self.k]
            slots = np.flatnonzero(self.is_new[top])
            # New products are never in a training history, so no exclusion is needed among them.
            best_new = self.new_columns[np.argsort(-content[row], kind="stable")[: slots.size]]
            top[slots] = best_new
            lists.append(top.tolist())
        return scores_with_lists_first(scores, lists)


@dataclass(frozen=True)
class WarmCost:
    """What a setting of the hybrid does to the leave-last-out ranking of products with interactions.

    Attributes:
        name: the setting.
        ndcg: NDCG@k over the test customers, with its bootstrap interval.
        against_reference: paired test of this setting's NDCG@k minus the reference's (None for the reference).
        new_arrival_share: share of the top-k slots that go to the rule's new arrivals.
    """

    name: str
    ndcg: Estimate
    against_reference: PairedTest | None
    new_arrival_share: float


@dataclass(frozen=True)
class WarmCosts:
    """Settings side by side on one leave-last-out split (the first is the reference)."""

    costs: list[WarmCost]
    users: int
    new_arrivals: int
    k: int


def warm_cost(
    items: pd.DataFrame,
    interactions: pd.DataFrame,
    rankers: Sequence[HybridRanker],
    *,
    k: int = 10,
    days: float = NEW_ARRIVAL_DAYS,
    resamples: int = 1000,
    seed: int = 0,
) -> WarmCosts:
    """Leave-last-out NDCG@k of each hybrid setting, paired against the first (the reference).

    Args:
        items: the catalog.
        interactions: every interaction; each customer's last product is held out.
        rankers: hybrid settings; the first is the reference the others are tested against.
        k: list length of the measurement (and of the rules' lists).
        days: window of the new arrivals whose share of the lists is reported.
    """
    from recengine.evaluate.runner import EvaluationContext
    from recengine.evaluate.splits import leave_last_out

    context = EvaluationContext(leave_last_out(interactions), items, seed=seed)
    indices = bootstrap_indices(len(context.user_ids), resamples, seed)
    costs: list[WarmCost] = []
    reference: np.ndarray | None = None
    arrivals = np.zeros(len(context.item_ids), dtype=bool)
    for ranker in rankers:
        run = context.run(ranker, k_max=k)
        ndcg = metrics_from_ranks(run.ranks, k)["ndcg"]
        if reference is None:
            reference = ndcg
            catalog = ranker.recommender.catalog
            positions = np.array([catalog.positions[item_id] for item_id in context.item_ids], dtype=np.int64)
            arrivals = catalog.new_arrivals_mask(days)[positions]
        test = None if ranker is rankers[0] else paired_test(ndcg, reference, indices=indices)
        share = float(arrivals[np.asarray(run.top)[:, :k]].mean()) if len(context.user_ids) else 0.0
        costs.append(WarmCost(ranker.name, bootstrap_ci(ndcg, indices=indices), test, share))
    return WarmCosts(costs, len(context.user_ids), int(arrivals.sum()), k)
