"""Ranking metrics, beyond-accuracy measures, bootstrap intervals and a paired significance test.

Two layers:
- reference functions over one ranked list (`ndcg_at_k(ranked, relevant, k)`...), easy to read and
  checked against hand-computed values;
- vectorised functions over many users at once, working from the *rank* (0-based position in the full
  ranking of the catalog) of each held-out item. Ranks carry everything the accuracy metrics need, and
  MRR is computed over the full ranking, not cut at K.

Ties in scores are broken by a fixed random order of the items (`tie_break_keys`), identically for
the top-K lists and for the ranks, so a method that gives many items the same score gets neither a
lucky nor an unlucky position for the held-out item.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

ACCURACY_METRICS = ("recall", "precision", "ndcg", "hit_rate", "map", "mrr")


# -- reference implementations over one list --------------------------------------------------------


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant items found in the first `k` of `ranked`."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the first `k` positions holding a relevant item (divided by k, even if fewer shown)."""
    return len(set(ranked[:k]) & set(relevant)) / k


def hit_rate_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1 when any relevant item is in the first `k`, else 0."""
    return 1.0 if set(ranked[:k]) & set(relevant) else 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Normalised discounted cumulative gain with binary relevance and log2 discount."""
    relevant = set(relevant)
    dcg = sum(1.0 / math.log2(position + 2) for position, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(position + 2) for position in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def average_precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """AP@k: mean of precision at each relevant hit, divided by min(|relevant|, k)."""
    relevant = set(relevant)
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for position, item in enumerate(ranked[:k]):
        if item in relevant:
            hits += 1
            total += hits / (position + 1)
    return total / min(len(relevant), k)


def reciprocal_rank(ranked: Sequence[str], relevant: Collection[str]) -> float:
    """1 / position of the first relevant item (1-based) in the whole list; 0 when absent."""
    relevant = set(relevant)
    for position, item in enumerate(ranked):
        if item in relevant:
            return 1.0 / (position + 1)
    return 0.0


# -- ranking many users at once ---------------------------------------------------------------------


def tie_break_keys(n_items: int, seed: int = 0) -> np.ndarray:
    """A fixed random value in [0, 1) per item, used to order items with equal scores."""
    return np.random.default_rng(seed).random(n_items)


def rank_scores(
    scores: np.ndarray,
    *,
    relevant: Sequence[Sequence[int]],
    exclude: Sequence[Sequence[int]] | None,
    k: int,
    tie_keys: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k item indices and the 0-based ranks of the relevant items, for a batch of users.

    Args:
        scores: (users, items) scores; higher is better. Not modified.
        relevant: per user, the catalog indices of the held-out items.
        exclude: per user, indices removed from the ranking (items already seen in training).
        k: length of the top lists returned.
        tie_keys: `tie_break_keys(n_items)`: among equal scores the larger key ranks first.

    Returns:
        top: (users, k) item indices, best first.
        ranks: (users, max relevant) float ranks of the relevant items in the full ranking of the
            non-excluded catalog, NaN padded. Seen items never count ahead of a relevant one.
    """
    n_users, n_items = scores.shape
    effective = np.asarray(scores, dtype=np.float64).copy()
    effective[~np.isfinite(effective)] = -1e300
    # A tie-break far below any real score difference; scale with the magnitude of the scores so that
    # large-valued scores (popularity counts) keep it meaningful in float64.
    magnitude = float(np.max(np.abs(effective[effective > -1e300]), initial=1.0))
    effective += tie_keys[None, :] * (1e-9 * max(magnitude, 1.0))
    if exclude is not None:
        rows = np.repeat(np.arange(n_users), [len(items) for items in exclude])
        columns = np.fromiter((i for items in exclude for i in items), dtype=np.int64, count=len(rows))
        effective[rows, columns] = -np.inf
    k = min(k, n_items)
    top = np.argpartition(-effective, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(effective, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)

    width = max((len(items) for items in relevant), default=0)
    ranks = np.full((n_users, max(width, 1)), np.nan)
    rows = np.arange(n_users)
    for column in range(width):
        has = np.array([len(items) > column for items in relevant])
        targets = np.array([items[column] if len(items) > column else 0 for items in relevant], dtype=np.int64)
        values = effective[rows, targets]
        counted = (effective > values[:, None]).sum(axis=1)
        ranks[has, column] = counted[has]
    return top, ranks


def metrics_from_ranks(ranks: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Per-user accuracy metrics at cutoff `k` from the ranks of each user's relevant items.

    Args:
        ranks: (users, m) 0-based ranks, NaN where a user has fewer than m relevant items.
        k: the cutoff.

    Returns:
        Arrays of length `users` for recall, precision, ndcg, hit_rate, map (all @k) and mrr (full list).
    """
    ranks = np.asarray(ranks, dtype=np.float64)
    present = ~np.isnan(ranks)
    n_relevant = present.sum(axis=1)
    safe_relevant = np.maximum(n_relevant, 1)
    filled = np.where(present, ranks, np.inf)
    in_top = filled < k
    hits = in_top.sum(axis=1)
    gains = np.where(in_top, 1.0 / np.log2(np.where(in_top, filled, 0.0) + 2.0), 0.0).sum(axis=1)
    discounts = 1.0 / np.log2(np.arange(k) + 2.0)
    ideal = np.cumsum(discounts)[np.minimum(safe_relevant, k) - 1]
    # AP: the i-th hit (in rank order) at rank r contributes (i + 1) / (r + 1).
    ordered = np.sort(filled, axis=1)
    hit_number = np.cumsum(ordered < k, axis=1)
    precision_at_hits = np.where(ordered < k, hit_number / (np.where(ordered < k, ordered, 0.0) + 1.0), 0.0)
    average_precision = precision_at_hits.sum(axis=1) / np.minimum(safe_relevant, k)
    # A customer with no relevant item has no best rank: inf, whose reciprocal is 0 (nanmin would warn).
    best = np.min(np.where(present, ranks, np.inf), axis=1) if ranks.size else np.array([])
    reciprocal = np.where(n_relevant > 0, 1.0 / (best + 1.0), 0.0)
    valid = n_relevant > 0
    return {
        "recall": np.where(valid, hits / safe_relevant, 0.0),
        "precision": hits / k,
        "ndcg": np.where(valid, gains / ideal, 0.0),
        "hit_rate": (hits > 0).astype(np.float64),
        "map": np.where(valid, average_precision, 0.0),
        "mrr": reciprocal,
    }


# -- beyond accuracy ----------------------------------------------------------------------------------


def catalog_coverage(top: np.ndarray, n_items: int, k: int) -> float:
    """Share of the catalog that appears in at least one user's top-k."""
    if n_items == 0 or top.size == 0:
        return 0.0
    return len(np.unique(top[:, :k])) / n_items


def exposure_gini(top: np.ndarray, n_items: int, k: int) -> float:
    """Gini coefficient of how often each catalog item is shown in the top-k lists.

    0 = every item shown equally often; close to 1 = a few items take all the exposure.
    """
    if n_items == 0 or top.size == 0:
        return 0.0
    counts = np.sort(np.bincount(top[:, :k].ravel(), minlength=n_items).astype(np.float64))
    total = counts.sum()
    if total == 0:
        return 0.0
    index = np.arange(1, n_items + 1)
    return float((2.0 * (index * counts).sum()) / (n_items * total) - (n_items + 1.0) / n_items)


def novelty(top: np.ndarray, item_user_counts: np.ndarray, n_users: int, k: int) -> float:
    """Mean self-information -log2(p) of recommended items, p = share of training users who had it.

    Higher = less popular items recommended. Add-one smoothing keeps never-seen items finite.
    """
    if top.size == 0:
        return 0.0
    probability = (np.asarray(item_user_counts, dtype=np.float64) + 1.0) / (n_users + 1.0)
    return float(np.mean(-np.log2(probability[top[:, :k]])))


def intra_list_diversity(top: np.ndarray, item_vectors: np.ndarray, k: int) -> float:
    """Mean over users of the average pairwise cosine *distance* (1 - cosine) within the top-k.

    Args:
        top: (users, >=k) item indices.
        item_vectors: (items, dim) L2-normalised vectors, row i = catalog item i.
        k: list length (needs k >= 2).
    """
    top = top[:, :k]
    length = top.shape[1]
    if length < 2 or top.shape[0] == 0:
        return 0.0
    vectors = np.asarray(item_vectors, dtype=np.float64)[top]  # (users, k, dim)
    summed = vectors.sum(axis=1)
    # For unit vectors, sum over ordered pairs i != j of cos(i, j) = |sum v|^2 - sum |v|^2.
    norms = (vectors**2).sum(axis=2).sum(axis=1)
    pair_cosine = ((summed**2).sum(axis=1) - norms) / (length * (length - 1))
    return float(np.mean(1.0 - pair_cosine))


def long_tail_items(item_user_counts: np.ndarray, head_share: float = 0.5) -> np.ndarray:
    """Boolean mask of long-tail items: all but the most popular items that together account for
    `head_share` of the training interactions.

    Defined by share of interactions rather than share of catalog, because real catalogs hold many
    items nobody bought: "the top 20% of the catalog" would then contain every bought item. Items
    never seen in training are long-tail.
    """
    counts = np.asarray(item_user_counts, dtype=np.float64)
    tail = np.ones(len(counts), dtype=bool)
    total = counts.sum()
    if total <= 0:
        return tail
    order = np.argsort(-counts, kind="stable")
    covered = np.cumsum(counts[order]) / total
    n_head = int(np.searchsorted(covered, head_share - 1e-12) + 1)
    tail[order[:n_head]] = False
    return tail


# -- uncertainty ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A mean over users with a bootstrap confidence interval."""

    mean: float
    low: float
    high: float

    def format(self, digits: int = 4) -> str:
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def bootstrap_indices(n_users: int, n_resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """(n_resamples, n_users) user indices drawn with replacement; share them to pair methods."""
    return np.random.default_rng(seed).integers(0, max(n_users, 1), size=(n_resamples, n_users))


def bootstrap_ci(
    values: np.ndarray,
    *,
    indices: np.ndarray | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Mean of per-user `values` with a percentile bootstrap interval over users."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"))
    if indices is None:
        indices = bootstrap_indices(len(values), n_resamples, seed)
    means = values[indices].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return Estimate(float(values.mean()), float(low), float(high))


@dataclass(frozen=True)
class PairedTest:
    """Difference a - b of two methods' per-user metric on the same users, and its significance."""

    mean_difference: float
    low: float
    high: float
    p_value: float
    method: str
    significant: bool


def paired_test(
    a: np.ndarray,
    b: np.ndarray,
    *,
    method: Literal["bootstrap", "wilcoxon"] = "bootstrap",
    indices: np.ndarray | None = None,
    n_resamples: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> PairedTest:
    """Is method a better or worse than method b on the same users?

    `bootstrap` resamples users (pairs kept together) and reports a two-sided p-value from the share of
    resampled mean differences on the other side of zero; `wilcoxon` uses scipy's signed-rank test on
    the per-user differences (zero differences dropped). The interval is always the bootstrap one.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired_test needs the same users for both methods ({a.shape} vs {b.shape}).")
    difference = a - b
    if difference.size == 0:
        return PairedTest(float("nan"), float("nan"), float("nan"), 1.0, method, False)
    if indices is None:
        indices = bootstrap_indices(len(difference), n_resamples, seed)
    means = difference[indices].mean(axis=1)
    low, high = np.quantile(means, [alpha / 2.0, 1.0 - alpha / 2.0])
    if method == "bootstrap":
        if not np.any(difference):
            p_value = 1.0
        else:
            # +1 smoothing: with B resamples a p-value below 1/(B+1) cannot be claimed.
            below = (np.sum(means <= 0.0) + 1) / (len(means) + 1)
            above = (np.sum(means >= 0.0) + 1) / (len(means) + 1)
            p_value = float(min(1.0, 2.0 * min(below, above)))
    elif method == "wilcoxon":
        from scipy.stats import wilcoxon

        if not np.any(difference):
            p_value = 1.0
        else:
            p_value = float(wilcoxon(difference, zero_method="wilcox").pvalue)
    else:
        raise ValueError(f"Unknown paired test {method!r}; use 'bootstrap' or 'wilcoxon'.")
    return PairedTest(
        mean_difference=float(difference.mean()),
        low=float(low),
        high=float(high),
        p_value=p_value,
        method=method,
        significant=bool(p_value < alpha),
    )
