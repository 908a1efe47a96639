"""Suggest the hybrid's score weights (and co-occurrence normalisation) from a shop's own data, and
save them as its defaults.

The search runs on validation splits only (each customer's second-to-last product, and on small shops
also the third-to-last), never on the items the Evaluation page tests, so an evaluation after saving
stays honest. The best setting is picked on half of the validation customers and tested against the
current settings on the other half; it is worth applying only when it wins there by more than the
noise. On the public Amazon files (bench/evaluate.py) the best of 25 weight settings on 350-460
customers regularly lost to the untuned default on the test customers, so a small validation gain is
no reason to change what merchandisers see.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recengine.config import RecommendSettings
from recengine.errors import ConfigError, NotReadyError
from recengine.evaluate.baselines import HybridRanker
from recengine.evaluate.data import EvaluationData, from_workspace
from recengine.evaluate.metrics import PairedTest, bootstrap_indices, paired_test
from recengine.evaluate.runner import METRIC_LABELS, EvaluationContext
from recengine.evaluate.splits import Splits, leave_last_out, make_splits
from recengine.evaluate.tuning import TuningResult, average_folds, parameter_grid, tune_hybrid_weights
from recengine.progress import Progress, no_progress, scaled
from recengine.recommend.scoring import COMPONENTS, weights_from_settings

if TYPE_CHECKING:
    from recengine.workspace import Workspace

# Relative weights (collaborative fixed at 1: only ratios change a ranking). The grid of
# bench/evaluate.py; a first run over 181 settings overfitted the validation customers.
WEIGHT_GRID: list[dict[str, float]] = parameter_grid(
    collaborative=[1.0],
    semantic=[0.0, 0.25, 1.0],
    popularity=[0.0, 0.15],
    quality=[0.0, 0.15],
    recency=[0.0, 0.15],
)
# The co-occurrence normalisation is shop-dependent: on the validation customers of Amazon Magazine (all
# ratings, 4,000 customers) alpha 0.7 beat the default 0.5 by +0.024 NDCG@10 (0.186 vs 0.162), on
# Grocery it lost 0.001, and shrink 20 beat 5 on Grocery (+0.003) and Magazine (+0.006).
# EASE (collaborative_ease_l2 > 0) replaces co-occurrence where it wins on validation: on Magazine (all
# ratings) the default hybrid's NDCG@10 went from 0.156 to 0.192 with it (l2 100; 0.189 at 10, 0.191 at
# 500), on Gift Cards and Magazine 5-core it lost (0.174 vs 0.189, 0.211 vs 0.215).
COLLABORATIVE_FIELDS = ("collaborative_alpha", "collaborative_shrink", "collaborative_ease_l2")
COLLABORATIVE_GRID: list[dict[str, float]] = [
    *parameter_grid(collaborative_alpha=[0.5, 0.7], collaborative_shrink=[5.0, 20.0], collaborative_ease_l2=[0.0]),
    {"collaborative_ease_l2": 50.0},
    {"collaborative_ease_l2": 250.0},
]
# Above this many validation customers one fold is enough (and scoring a second costs minutes).
SECOND_FOLD_MAX_USERS = 4000


@dataclass(frozen=True)
class WeightSuggestion:
    """The best weights found on validation next to the current ones, and whether the gain is real."""

    current: dict[str, float]
    suggested: dict[str, float]  # scaled to the same total as `current`, so rule boosts keep their size
    current_collaborative: dict[str, float]  # COLLABORATIVE_FIELDS -> value
    suggested_collaborative: dict[str, float]
    metric: str
    k: int
    current_value: float
    suggested_value: float
    difference: PairedTest  # suggested minus current on the confirmation half, paired bootstrap
    customers: int  # validation customers scored, all folds together
    folds: int
    trials: pd.DataFrame
    confirmation_customers: int = 0  # the half (customers, all folds) that tested the choice

    @property
    def changed(self) -> bool:
        return any(abs(suggested - current) > 1e-9 for _, current, suggested in self.rows())

    @property
    def worth_applying(self) -> bool:
        """The suggestion differs from the current settings and beats them significantly on the
        validation customers that did not choose it."""
        return self.changed and self.difference.significant and self.difference.mean_difference > 0

    def rows(self) -> list[tuple[str, float, float]]:
        """(setting, current, suggested): the score weights, then the collaborative settings."""
        rows = [(f"weight_{name}", value, self.suggested[name]) for name, value in self.current.items()]
        rows += [(name, value, self.suggested_collaborative[name]) for name, value in self.current_collaborative.items()]
        return rows

    @property
    def verdict(self) -> str:
        label = f"{METRIC_LABELS.get(self.metric, self.metric)}@{self.k}"
        gain = (
            f"{label} {self.current_value:.4f} -> {self.suggested_value:.4f} on {self.customers:,} validation "
            f"customers; on the {self.confirmation_customers:,} that did not choose it, difference "
            f"{self.difference.mean_difference:+.4f} [{self.difference.low:+.4f}, {self.difference.high:+.4f}], "
            f"p = {self.difference.p_value:.3f}"
        )
        if not self.changed:
            return f"The current settings are already the best of {len(self.trials)} tried ({gain})."
        if self.worth_applying:
            return f"The suggested settings are significantly better: {gain}. Worth saving."
        return (
            f"No setting is clearly better than the current ones: {gain}. The difference is within the "
            "noise of this many customers, so keep the current settings."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "suggested": self.suggested,
            "current_collaborative": self.current_collaborative,
            "suggested_collaborative": self.suggested_collaborative,
            "metric": self.metric,
            "k": self.k,
            "current_value": self.current_value,
            "suggested_value": self.suggested_value,
            "difference": {
                "mean": self.difference.mean_difference,
                "low": self.difference.low,
                "high": self.difference.high,
                "p_value": self.difference.p_value,
                "significant": self.difference.significant,
            },
            "worth_applying": self.worth_applying,
            "customers": self.customers,
            "confirmation_customers": self.confirmation_customers,
            "folds": self.folds,
            "verdict": self.verdict,
        }


def suggest_weights(
    source: Workspace | EvaluationData,
    *,
    settings: RecommendSettings | None = None,
    grid: Sequence[Mapping[str, float]] | None = None,
    collaborative_grid: Sequence[Mapping[str, float]] | None = None,
    folds: Sequence[EvaluationContext] | None = None,
    k: int = 10,
    metric: str = "ndcg",
    max_customers: int = 4000,
    n_resamples: int = 1000,
    seed: int = 0,
    progress: Progress | None = None,
) -> WeightSuggestion:
    """Search score weights (and the co-occurrence normalisation) on validation splits.

    Args:
        source: a workspace (its interactions, reviews, catalog, item vectors) or an `EvaluationData`.
        settings: the recommend settings that are "current" (the workspace's when None).
        grid: weight settings to try (default `WEIGHT_GRID`); the current weights are always tried.
        collaborative_grid: collaborative settings (`COLLABORATIVE_FIELDS`: co-occurrence, EASE) to try, each with every
            weight setting (default `COLLABORATIVE_GRID`; [] = only the current ones). Each one refits
            the recommender, the weights are then ranked from one pass of component scores.
        folds: the validation splits to tune on (default `validation_folds` of the data's interactions;
            a caller that already cut them passes them).
        max_customers: validation customers scored per fold (a random sample above this).
    """
    report = progress or no_progress
    if isinstance(source, EvaluationData):
        data = source
        settings = settings or RecommendSettings()
    else:
        settings = settings or source.settings.recommend
        data = from_workspace(source, with_vectors=True, progress=scaled(report, 0.0, 0.15))
    current = weights_from_settings(settings)
    current_collaborative = {name: float(getattr(settings, name)) for name in COLLABORATIVE_FIELDS}
    variants = [current_collaborative]
    # EASE is only tried where the recommender would use it (it falls back to co-occurrence above its limit).
    ease_fits = _interacted_items(data) <= settings.collaborative_ease_max_items
    for variant in COLLABORATIVE_GRID if collaborative_grid is None else collaborative_grid:
        candidate = {**current_collaborative, **{name: float(value) for name, value in variant.items()}}
        if candidate not in variants and (ease_fits or not candidate.get("collaborative_ease_l2")):
            variants.append(candidate)
    folds = list(folds) if folds is not None else validation_folds(make_splits(data.interactions), data.items)
    candidates = [current, *(grid if grid is not None else WEIGHT_GRID)]
    steps = len(variants) * len(folds)
    per_variant: list[TuningResult] = []
    for number, variant in enumerate(variants):
        ranker_settings = settings.model_copy(update=variant)
        results = []
        for fold_number, fold in enumerate(folds):
            step = number * len(folds) + fold_number
            results.append(
                tune_hybrid_weights(
                    HybridRanker(
                        data.item_vectors, ranker_settings, keywords=data.keywords, sentiment=data.sentiment,
                        review_vectors=data.review_vectors,
                    ),
                    candidates, fold, k=k, metric=metric, max_users=max_customers, seed=seed,
                    progress=scaled(report, 0.15 + 0.85 * step / steps, 0.15 + 0.85 * (step + 1) / steps),
                )
            )
        per_variant.append(average_folds(results))
    tuned = _side_by_side(per_variant, variants)
    choice = choose_and_confirm(tuned, n_resamples=n_resamples, seed=seed)
    values = tuned.trials[metric].to_numpy()
    best = tuned.candidates[choice.row]
    report(1.0, "settings suggested")
    return WeightSuggestion(
        current=current,
        suggested=_same_total({name: best.get(name, 0.0) for name in COMPONENTS}, current),
        current_collaborative=current_collaborative,
        suggested_collaborative={name: float(best[name]) for name in COLLABORATIVE_FIELDS},
        metric=metric,
        k=k,
        current_value=float(values[0]),
        suggested_value=float(values[choice.row]),
        difference=choice.confirmation,
        customers=len(tuned.per_user),  # type: ignore[arg-type]
        confirmation_customers=choice.confirmation_customers,
        folds=len(folds),
        trials=tuned.trials,
    )


def _interacted_items(data: EvaluationData) -> int:
    catalog = set(data.items["item_id"].astype(str))
    return len(catalog.intersection(data.interactions["item_id"].astype(str).unique()))


def _side_by_side(results: Sequence[TuningResult], variants: Sequence[Mapping[str, float]]) -> TuningResult:
    """One result over every (co-occurrence variant, weights) pair: the same customers, more columns."""
    trials = pd.concat(
        [result.trials.assign(**dict(variant)) for result, variant in zip(results, variants, strict=True)],
        ignore_index=True,
    )
    candidates = tuple(
        {**dict(variant), **candidate}
        for result, variant in zip(results, variants, strict=True)
        for candidate in result.candidates
    )
    per_user = np.hstack([result.per_user for result in results])  # type: ignore[misc]
    first = results[0]
    return TuningResult(first.name, first.metric, first.k, dict(candidates[0]), float("nan"), trials,
                        first.users, candidates, per_user, first.customer_ids)


@dataclass(frozen=True)
class ConfirmedChoice:
    """The best candidate chosen on one half of the validation customers, tested on the other half."""

    row: int  # the chosen candidate
    selection_value: float  # its mean on the selection half
    confirmation: PairedTest  # chosen minus first candidate on the confirmation half
    confirmation_customers: int


def choose_and_confirm(tuned: TuningResult, *, n_resamples: int = 1000, seed: int = 0) -> ConfirmedChoice:
    """Pick the best candidate on half of the customers and test it against the first candidate (the
    current settings) on the other half.

    Testing the winner of many candidates on the customers that picked it would favour it: the best of
    100 noisy scores is high partly by luck. Customers, not rows, are split, so a customer's two
    validation folds stay on the same side.
    """
    if tuned.per_user is None or len(tuned.customer_ids) != len(tuned.per_user):
        raise ConfigError(f"{tuned.name}: per-customer values were not kept, so no paired test is possible.")
    customers = sorted(set(tuned.customer_ids))
    order = np.random.default_rng(seed).permutation(len(customers))
    selecting = {customers[index] for index in order[: len(customers) // 2]}
    in_selection = np.array([customer in selecting for customer in tuned.customer_ids])
    selection, confirmation = tuned.per_user[in_selection], tuned.per_user[~in_selection]
    if len(selection) == 0:  # one customer: nothing to confirm on, so choose and test on the same rows
        selection = confirmation
    row = int(selection.mean(axis=0).argmax())
    chosen, first = confirmation[:, row], confirmation[:, 0]
    return ConfirmedChoice(
        row=row,
        selection_value=float(selection[:, row].mean()),
        confirmation=paired_test(chosen, first, indices=bootstrap_indices(len(chosen), n_resamples, seed)),
        confirmation_customers=len(chosen),
    )


def validation_folds(splits: Splits, items: pd.DataFrame) -> list[EvaluationContext]:
    """Where settings are tuned: each customer's second-to-last product, and on shops with at most
    `SECOND_FOLD_MAX_USERS` such customers also the third-to-last (a second fold halves the noise)."""
    first = EvaluationContext(splits.validation, items)
    if not first.user_ids:
        raise NotReadyError(
            "Too little history to suggest weights: no customer has three or more products.",
            hint="Weights are tuned on each customer's second-to-last product; ingest more interactions.",
        )
    folds = [first]
    if len(first.user_ids) <= SECOND_FOLD_MAX_USERS:
        second = EvaluationContext(leave_last_out(splits.validation.train), items)
        if second.user_ids:
            folds.append(second)
    return folds


def _same_total(weights: Mapping[str, float], current: Mapping[str, float]) -> dict[str, float]:
    """`weights` scaled to the total of `current` (rankings are unchanged by a common factor)."""
    total, target = sum(weights.values()), sum(current.values())
    factor = target / total if total > 0 and target > 0 else 1.0
    return {name: round(float(weights.get(name, 0.0)) * factor, 4) for name in COMPONENTS}


def save_weights(
    workspace: Workspace, weights: Mapping[str, float], collaborative: Mapping[str, float] | None = None
) -> Path:
    """Write the weights (and collaborative settings) to the workspace's config.toml and use them now.

    `weights` by component name ([recommend] weight_*); `collaborative` by setting name
    (`COLLABORATIVE_FIELDS`). Other settings in the file are kept; the file is replaced atomically, so
    a crash leaves either the old file or the new one. Returns the file's path.

    Raises:
        ConfigError: unknown component or setting, a negative weight, all weights zero, a value out of
            range, or an unreadable file.
    """
    checked = weights_from_settings(workspace.configured_settings.recommend, weights)
    if sum(checked.values()) <= 0:
        raise ConfigError("All score weights are 0: nothing would rank the products.")
    unknown = sorted(set(collaborative or {}) - set(COLLABORATIVE_FIELDS))
    if unknown:
        raise ConfigError(f"Unknown collaborative setting {unknown[0]!r}.", hint=f"Use {', '.join(COLLABORATIVE_FIELDS)}.")
    values = {f"weight_{name}": float(value) for name, value in checked.items()}
    values.update({name: float(value) for name, value in (collaborative or {}).items()})
    return workspace.save_settings("recommend", values)


def overridden_by_environment() -> list[str]:
    """Tuned settings that RECENGINE_ environment variables override (they win over config.toml)."""
    names = {f"RECENGINE_RECOMMEND__WEIGHT_{name.upper()}" for name in COMPONENTS}
    names |= {f"RECENGINE_RECOMMEND__{name.upper()}" for name in COLLABORATIVE_FIELDS}
    return sorted(name for name in os.environ if name.upper() in names)
