"""Cold-start product evaluation: how well new products, nobody has bought yet, reach the right customers.

The split (`new_products_split`) turns a seeded share of the products that have interactions into new
ones: every interaction with them leaves the training data, their catalog rows stay. Test customers are
those who liked at least one new product and at least one other product; their other liked products are
the input, the liked new products the targets.

Two measurements, as in beeFormer (Vančura et al., RecSys 2024) and what a shop sees:

- **among new products** (`rank_new_products`): each method ranks the new products only, which measures
  the content representation (Recall@20 = hits / min(20, targets), NDCG@100);
- **whole catalog** (`whole_catalog`): the hybrid ranks every product; the figures are the new products'
  Recall@20 and the share of list slots that go to new products.

Both report bootstrap intervals over customers and paired tests against a reference method.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recengine.errors import ConfigError
from recengine.evaluate.baselines import Ranker
from recengine.evaluate.metrics import (
    Estimate,
    PairedTest,
    bootstrap_ci,
    bootstrap_indices,
    metrics_from_ranks,
    paired_test,
    rank_scores,
)
from recengine.evaluate.splits import prepare_interactions

LIKED_RATING = 4.0
RECALL_K = 20
NDCG_K = 100


@dataclass(frozen=True)
class ColdStartSplit:
    """Interactions divided so that some products are new to the shop.

    Attributes:
        train: every interaction with a product that is not new (all input columns kept).
        liked_train: the rows of `train` that say the customer liked the product (the content input).
        new_items: ids of the products made new, sorted.
        targets: test customer -> liked new products (sorted ids).
        description: one sentence saying how the split was made.
    """

    train: pd.DataFrame
    liked_train: pd.DataFrame
    new_items: list[str]
    targets: dict[str, list[str]]
    description: str

    @property
    def test_users(self) -> list[str]:
        """Test customers, sorted."""
        return sorted(self.targets)


def liked_rows(interactions: pd.DataFrame, liked_rating: float = LIKED_RATING) -> pd.DataFrame:
    """Rows that say the customer liked the product: rated `liked_rating` or more, or unrated."""
    if "rating" not in interactions.columns:
        return interactions
    rating = pd.to_numeric(interactions["rating"], errors="coerce")
    return interactions[rating.isna() | (rating >= liked_rating)]


def new_products_split(
    interactions: pd.DataFrame,
    *,
    share: float = 0.2,
    seed: int = 0,
    liked_rating: float = LIKED_RATING,
) -> ColdStartSplit:
    """Make a seeded share of the products with interactions new (see the module docstring).

    Args:
        interactions: user_id, item_id, timestamp and optionally rating (other columns kept).
        share: share of the products with interactions that become new, in (0, 1).
        seed: random seed of the choice.
        liked_rating: rating from which a rated interaction counts as liked.

    Raises:
        ConfigError: on a share outside (0, 1) or when no customer qualifies as a test customer.
    """
    if not 0.0 < share < 1.0:
        raise ConfigError(f"The share of new products must be between 0 and 1, got {share}.")
    frame = prepare_interactions(interactions)
    products = np.array(sorted(frame["item_id"].unique()))
    rng = np.random.default_rng(seed)
    count = max(1, int(round(share * len(products))))
    new_items = sorted(rng.choice(products, size=min(count, len(products) - 1), replace=False).tolist())
    is_new = frame["item_id"].isin(set(new_items))
    train = frame[~is_new].reset_index(drop=True)
    liked = liked_rows(frame, liked_rating)
    liked_new = liked[liked["item_id"].isin(set(new_items))]
    liked_other = liked[~liked["item_id"].isin(set(new_items))]
    eligible = set(liked_new["user_id"]) & set(liked_other["user_id"])
    if not eligible:
        raise ConfigError(
            "No customer liked both a new product and another product; the cold-start split has no test customers.",
            hint="Use data with more customers who liked two or more products, or a larger share of new products.",
        )
    targets = {
        str(user): sorted(group.tolist())
        for user, group in liked_new[liked_new["user_id"].isin(eligible)].groupby("user_id")["item_id"]
    }
    description = (
        f"{len(new_items):,} of {len(products):,} products with interactions made new ({share:.0%}, seed {seed}): "
        f"their {int(is_new.sum()):,} interactions left out of training; {len(targets):,} test customers liked "
        f"a new product and another product"
    )
    return ColdStartSplit(
        train=train,
        liked_train=liked_rows(train, liked_rating).reset_index(drop=True),
        new_items=new_items,
        targets=targets,
        description=description,
    )


# -- metrics ---------------------------------------------------------------------------------------


def seeded_tie_keys(n_items: int, seed: int) -> np.ndarray:
    """Tie-break keys for `metrics.rank_scores`: among equal scores the item with the smaller seeded draw
    ranks first (the order the published cold-start figures were computed with)."""
    return 1.0 - np.random.default_rng(seed).random(n_items)


def recall_ndcg(ranks: np.ndarray, *, recall_k: int = RECALL_K, ndcg_k: int = NDCG_K) -> dict[str, np.ndarray]:
    """Per-customer Recall@recall_k as beeFormer reports it (hits / min(k, targets)) and NDCG@ndcg_k.

    Args:
        ranks: (customers, targets) 0-based ranks of each customer's targets, NaN padded, as
            `metrics.rank_scores` returns them.
    """
    ranks = np.asarray(ranks, dtype=np.float64)
    targets = (~np.isnan(ranks)).sum(axis=1)
    hits = (np.nan_to_num(ranks, nan=np.inf) < recall_k).sum(axis=1)
    recall = np.where(targets > 0, hits / np.maximum(np.minimum(recall_k, targets), 1), 0.0)
    return {f"recall@{recall_k}": recall, f"ndcg@{ndcg_k}": metrics_from_ranks(ranks, ndcg_k)["ndcg"]}


@dataclass(frozen=True)
class ColdStartMethod:
    """One method's per-customer figures and their intervals."""

    name: str
    per_user: dict[str, np.ndarray] = field(repr=False)
    estimates: dict[str, Estimate]
    fit_seconds: float = 0.0


@dataclass(frozen=True)
class ColdStartResult:
    """Methods side by side on one cold-start split.

    Attributes:
        measurement: "among new products" or "whole catalog".
        methods: name -> figures, in the order run.
        comparisons: (method, reference) -> paired test per metric.
        reference: the method every other one is tested against.
        description: the split's sentence.
        users: test customers measured.
    """

    measurement: str
    methods: dict[str, ColdStartMethod]
    comparisons: dict[str, dict[str, PairedTest]]
    reference: str
    description: str
    users: int

    def table(self) -> pd.DataFrame:
        """One row per method: each metric's mean, interval, and the paired test against the reference."""
        rows = []
        for name, method in self.methods.items():
            row: dict[str, Any] = {"method": name}
            for metric, estimate in method.estimates.items():
                row[metric] = round(estimate.mean, 4)
                row[f"{metric} 95% CI"] = f"[{estimate.low:.4f}, {estimate.high:.4f}]"
                test = self.comparisons.get(name, {}).get(metric)
                if test is not None:
                    row[f"{metric} vs {self.reference}"] = (
                        f"{test.mean_difference:+.4f} (p={test.p_value:.3f}{', sig.' if test.significant else ''})"
                    )
            rows.append(row)
        return pd.DataFrame(rows)


def _summarise(
    measurement: str, per_method: Mapping[str, tuple[dict[str, np.ndarray], float]], reference: str,
    description: str, resamples: int, seed: int,
) -> ColdStartResult:
    first_values = next(iter(per_method.values()))[0]
    users = len(next(iter(first_values.values())))
    indices = bootstrap_indices(users, resamples, seed)
    methods = {
        name: ColdStartMethod(
            name, values, {metric: bootstrap_ci(array, indices=indices) for metric, array in values.items()}, seconds
        )
        for name, (values, seconds) in per_method.items()
    }
    comparisons = {}
    if reference in per_method:
        for name, (values, _seconds) in per_method.items():
            if name != reference:
                comparisons[name] = {
                    metric: paired_test(array, per_method[reference][0][metric], indices=indices)
                    for metric, array in values.items()
                }
    return ColdStartResult(measurement, methods, comparisons, reference, description, users)


def rank_new_products(
    split: ColdStartSplit,
    items: pd.DataFrame,
    rankers: Sequence[Ranker],
    *,
    reference: str = "TF-IDF",
    fit_on: Callable[[Ranker, ColdStartSplit], pd.DataFrame] | None = None,
    resamples: int = 1000,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> ColdStartResult:
    """Each ranker ranks the new products only for every test customer (measures the content signal).

    Args:
        split: from `new_products_split`.
        items: the whole catalog (item_id first); rankers score it all, only new products' columns count.
        rankers: fitted here on the split's liked training rows (or what `fit_on` returns for a ranker).
        reference: the method the paired tests compare against.
        fit_on: ranker, split -> the training rows it learns from (default: `split.liked_train`).
    """
    import time

    item_ids = items["item_id"].astype(str).tolist()
    position = {item_id: index for index, item_id in enumerate(item_ids)}
    new_columns = np.array([position[item_id] for item_id in split.new_items if item_id in position], dtype=np.int64)
    local = {int(column): index for index, column in enumerate(new_columns)}
    users = split.test_users
    target_columns = [[local[position[item]] for item in split.targets[user] if item in position] for user in users]
    tie_keys = seeded_tie_keys(new_columns.size, seed)
    results: dict[str, tuple[dict[str, np.ndarray], float]] = {}
    for ranker in rankers:
        if progress:
            progress(f"among new products: {ranker.name}")
        started = time.perf_counter()
        ranker.fit(fit_on(ranker, split) if fit_on else split.liked_train, items)
        seconds = time.perf_counter() - started
        ranks = []
        for start in range(0, len(users), 512):
            block = np.asarray(ranker.score(users[start : start + 512]), dtype=np.float32)[:, new_columns]
            _top, block_ranks = rank_scores(
                block, relevant=target_columns[start : start + 512], exclude=None, k=1, tie_keys=tie_keys
            )
            ranks.append(block_ranks)
        results[ranker.name] = (recall_ndcg(_stack_padded(ranks)), seconds)
    return _summarise("among new products", results, reference, split.description, resamples, seed)


def _stack_padded(blocks: Sequence[np.ndarray]) -> np.ndarray:
    """Rank blocks of different widths (NaN padded) as one (customers, widest) array."""
    width = max(block.shape[1] for block in blocks)
    return np.vstack([np.pad(block, ((0, 0), (0, width - block.shape[1])), constant_values=np.nan) for block in blocks])


def whole_catalog(
    split: ColdStartSplit,
    items: pd.DataFrame,
    rankers: Sequence[Ranker],
    *,
    reference: str = "",
    k: int = RECALL_K,
    resamples: int = 1000,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> ColdStartResult:
    """Rankers fitted on all training rows rank every product the customer has not had.

    Reports the new products' Recall@k and the share of the top-k slots that go to new products.
    """
    import time

    item_ids = items["item_id"].astype(str).tolist()
    position = {item_id: index for index, item_id in enumerate(item_ids)}
    is_new = np.zeros(len(item_ids), dtype=bool)
    is_new[[position[item_id] for item_id in split.new_items if item_id in position]] = True
    users = split.test_users
    seen = split.train.groupby("user_id")["item_id"].agg(list).to_dict()
    exclude = [[position[item] for item in seen.get(user, []) if item in position] for user in users]
    targets = [[position[item] for item in split.targets[user] if item in position] for user in users]
    tie_keys = seeded_tie_keys(len(item_ids), seed)
    results: dict[str, tuple[dict[str, np.ndarray], float]] = {}
    for ranker in rankers:
        if progress:
            progress(f"whole catalog: {ranker.name}")
        started = time.perf_counter()
        ranker.fit(split.train, items)
        seconds = time.perf_counter() - started
        tops, ranks = [], []
        for start in range(0, len(users), 512):
            block = slice(start, start + 512)
            top, block_ranks = rank_scores(
                np.asarray(ranker.score(users[block]), dtype=np.float64),
                relevant=targets[block], exclude=exclude[block], k=k, tie_keys=tie_keys,
            )
            tops.append(top)
            ranks.append(block_ranks)
        recall = recall_ndcg(_stack_padded(ranks), recall_k=k)[f"recall@{k}"]
        new_share = is_new[np.vstack(tops)].mean(axis=1)
        results[ranker.name] = ({f"recall@{k}": recall, "new share": new_share}, seconds)
    reference = reference or next(iter(results))
    return _summarise("whole catalog", results, reference, split.description, resamples, seed)
