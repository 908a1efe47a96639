"""Choose hyper-parameters and hybrid weights on the validation split (never on test items).

`tune_ranker` refits a ranker for every candidate setting; `tune_hybrid_weights` fits the hybrid once
and, because its score is a weighted sum of components, ranks the catalog for every weight setting
from one pass of component scores.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recengine.errors import ConfigError
from recengine.evaluate.baselines import HybridRanker, Ranker
from recengine.evaluate.metrics import metrics_from_ranks, rank_scores
from recengine.evaluate.runner import EvaluationContext
from recengine.progress import Progress, no_progress


@dataclass(frozen=True)
class TuningResult:
    """The best setting found and every trial, by the mean of `metric`@k on the validation users."""

    name: str
    metric: str
    k: int
    best: dict[str, Any]
    best_value: float
    trials: pd.DataFrame
    users: int
    candidates: tuple[dict[str, Any], ...] = ()
    # (users, candidates) per-user metric of every candidate, where the tuner keeps it (the hybrid's
    # weights): lets a caller test whether the best setting is really better than another one.
    per_user: np.ndarray | None = None
    customer_ids: tuple[str, ...] = ()  # the customer of each row of `per_user`


def parameter_grid(**axes: Sequence[Any]) -> list[dict[str, Any]]:
    """Every combination of the given values, as dicts."""
    names = list(axes)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(axes[name] for name in names))]


def tune_ranker(
    name: str,
    make: Callable[[dict[str, Any]], Ranker],
    candidates: Sequence[dict[str, Any]],
    context: EvaluationContext,
    *,
    k: int = 10,
    metric: str = "ndcg",
    max_users: int | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> TuningResult:
    """Fit and rank once per candidate setting on `context` (a validation split).

    `max_users` scores a random subset of the validation users (the fit uses all training data).
    """
    if not candidates:
        raise ConfigError(f"No candidate settings to tune {name} over.")
    context = context.subset(max_users, seed)
    report = progress or no_progress
    rows = []
    for index, parameters in enumerate(candidates):
        run = context.run(make(parameters), k_max=k)
        value = float(metrics_from_ranks(run.ranks, k)[metric].mean()) if len(context.user_ids) else 0.0
        rows.append({**parameters, metric: value, "fit_s": round(run.fit_seconds, 2)})
        report((index + 1) / len(candidates), f"tuning {name}: {index + 1} of {len(candidates)}")
    trials = pd.DataFrame(rows)
    best_row = int(trials[metric].to_numpy().argmax())
    best = {key: _plain(candidates[best_row][key]) for key in candidates[best_row]}
    return TuningResult(
        name, metric, k, best, float(trials[metric].iloc[best_row]), trials, len(context.user_ids),
        tuple(dict(candidate) for candidate in candidates),
    )


def tune_hybrid_weights(
    ranker: HybridRanker,
    candidates: Sequence[Mapping[str, float]],
    context: EvaluationContext,
    *,
    k: int = 10,
    metric: str = "ndcg",
    max_users: int | None = None,
    seed: int = 0,
    batch_size: int = 256,
    progress: Progress | None = None,
) -> TuningResult:
    """Fit the hybrid on the validation training part and score every weight setting.

    Args:
        ranker: an unfitted `HybridRanker` (its settings other than the weights are kept).
        candidates: weight settings, component name -> weight (missing components weigh 0).
        context: the validation split.
        max_users: tune on a random subset of this many validation users (speed on large data).
    """
    if not candidates:
        raise ConfigError("No candidate weight settings to tune the hybrid over.")
    report = progress or no_progress
    report(0.0, "tuning hybrid: fitting")
    ranker.fit(context.split.train, context.items)
    context = context.subset(max_users, seed)
    users = np.arange(len(context.user_ids))
    per_user = np.zeros((len(users), len(candidates)))
    names: list[str] = []
    weight_matrix = None
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        names, components = ranker.components([context.user_ids[index] for index in batch])
        if weight_matrix is None:
            weight_matrix = np.array(
                [[float(candidate.get(name, 0.0)) for name in names] for candidate in candidates], dtype=np.float32
            )
        relevant = [context.relevant[index] for index in batch]
        exclude = [context.exclude[index] for index in batch]
        for position, weights in enumerate(weight_matrix):
            _, ranks = rank_scores(
                components @ weights, relevant=relevant, exclude=exclude, k=k, tie_keys=context.tie_keys
            )
            per_user[batch, position] = metrics_from_ranks(ranks, k)[metric]
        report(min(start + batch_size, len(users)) / max(len(users), 1), "tuning hybrid weights")
    means = per_user.mean(axis=0) if len(users) else np.zeros(len(candidates))
    trials = pd.DataFrame([{**{name: float(c.get(name, 0.0)) for name in names}, metric: value}
                           for c, value in zip(candidates, means, strict=True)])
    best_row = int(means.argmax())
    best = {name: float(candidates[best_row].get(name, 0.0)) for name in names}
    return TuningResult(
        "Hybrid weights", metric, k, best, float(means[best_row]), trials, len(users),
        tuple({name: float(candidate.get(name, 0.0)) for name in names} for candidate in candidates),
        per_user,
        tuple(context.user_ids),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def average_folds(results: Sequence[TuningResult]) -> TuningResult:
    """Average the same candidates' scores over several validation folds and pick the best mean.

    Small validation sets make the best of many settings look better than it is; averaging folds
    (e.g. each customer's second-to-last and third-to-last products) halves that noise.
    """
    if not results:
        raise ConfigError("No tuning results to average.")
    first = results[0]
    metric = first.metric
    parameters = [column for column in first.trials.columns if column not in (metric, "fit_s")]
    values = np.mean([result.trials[metric].to_numpy() for result in results], axis=0)
    trials = first.trials[parameters].copy()
    trials[metric] = values
    for index, result in enumerate(results):
        trials[f"{metric} fold {index + 1}"] = result.trials[metric].to_numpy()
    best_row = int(values.argmax())
    if first.candidates:
        # The candidates as given (a frame turns None into NaN and ints into floats).
        best = dict(first.candidates[best_row])
    else:
        best = {name: _plain(trials.iloc[best_row][name]) for name in parameters}
    per_user, customer_ids = None, ()
    if all(result.per_user is not None for result in results):
        # Each fold's customers are separate observations of the same candidates.
        per_user = np.vstack([result.per_user for result in results])  # type: ignore[misc]
        customer_ids = tuple(customer for result in results for customer in result.customer_ids)
    return TuningResult(
        first.name, metric, first.k, best, float(values[best_row]), trials,
        sum(result.users for result in results), first.candidates, per_user, customer_ids,
    )
