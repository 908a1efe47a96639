"""Run several recommendation methods on the same split and summarise them with intervals and a verdict.

Protocol: every method is fitted on the same training interactions and ranks the *whole* catalog for
each test user, minus the items that user already has in training; the held-out items' positions give
the accuracy metrics. Confidence intervals bootstrap over users, with the same resamples for every
method so that differences are paired.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recengine.errors import ConfigError, NotReadyError, RecEngineError
from recengine.evaluate.baselines import (
    ALS,
    EmbeddingProfile,
    HybridRanker,
    InteractionMatrix,
    ItemKNN,
    MostPopular,
    Ranker,
    TfidfProfile,
    align_vectors,
)
from recengine.evaluate.data import EvaluationData, from_workspace
from recengine.evaluate.metrics import (
    ACCURACY_METRICS,
    Estimate,
    bootstrap_ci,
    bootstrap_indices,
    catalog_coverage,
    exposure_gini,
    intra_list_diversity,
    long_tail_items,
    metrics_from_ranks,
    novelty,
    paired_test,
    rank_scores,
    tie_break_keys,
)
from recengine.evaluate.splits import Split, SplitStrategy, default_target_events, make_splits
from recengine.progress import Progress, no_progress, scaled

if TYPE_CHECKING:
    from recengine.workspace import Workspace

log = logging.getLogger(__name__)

METHOD_NAMES = ("MostPopular", "ItemKNN", "ALS", "TF-IDF", "Embedding", "Hybrid")
# The active encoder's hybrid on catalog text only: what other encoder versions, whose review vectors are
# not computed, are compared with when the shop's item vectors also hold its reviews' text.
CATALOG_TEXT_HYBRID = "Hybrid (catalog text only)"
FRIENDLY = {
    "MostPopular": "best-sellers",
    "ItemKNN": "item-to-item",
    "ALS": "matrix factorisation (ALS)",
    "TF-IDF": "text match (TF-IDF)",
    "Embedding": "embedding similarity",
    "Hybrid": "the hybrid",
}
METRIC_LABELS = {
    "recall": "Recall",
    "precision": "Precision",
    "ndcg": "NDCG",
    "hit_rate": "HitRate",
    "map": "MAP",
    "mrr": "MRR",
}
SLICE_METRICS = ("ndcg", "recall", "hit_rate")


@dataclass(frozen=True)
class SliceResult:
    """A method's metrics on a subset of the test users."""

    users: int
    metrics: dict[str, Estimate]


@dataclass(frozen=True)
class MethodResult:
    """One method's results on the test users.

    Attributes:
        metrics: at the main cutoff K (MRR over the full ranking), mean with a bootstrap interval.
        by_k: mean of each metric at every cutoff evaluated.
        beyond: coverage, diversity (None without item vectors), novelty, gini at K.
        slices: 'cold users' (1-2 training items) and 'long-tail items' (held-out item outside the
            most popular items that make up half of the training interactions).
    """

    name: str
    metrics: dict[str, Estimate]
    by_k: dict[int, dict[str, float]]
    beyond: dict[str, float | None]
    slices: dict[str, SliceResult]
    fit_seconds: float
    score_seconds: float


@dataclass(frozen=True)
class Comparison:
    """Paired difference reference - other on one metric."""

    reference: str
    other: str
    metric: str
    mean_difference: float
    low: float
    high: float
    p_value: float
    test: str
    significant: bool


@dataclass(frozen=True)
class EvaluationResult:
    """Every method's metrics on one split, the paired comparisons and a plain-language verdict."""

    dataset: str
    split: str
    k: int
    ks: tuple[int, ...]
    users: int
    items: int
    train_interactions: int
    methods: tuple[MethodResult, ...]
    reference: str
    comparisons: tuple[Comparison, ...]
    verdict: str
    created_at: str
    config: dict[str, Any] = field(default_factory=dict)

    def method(self, name: str) -> MethodResult:
        for result in self.methods:
            if result.name == name:
                return result
        raise KeyError(name)

    def metrics_frame(self) -> pd.DataFrame:
        """Long form: method, metric, k, mean, low, high (low/high only at the main K)."""
        rows = []
        for result in self.methods:
            for k, values in result.by_k.items():
                for metric, mean in values.items():
                    estimate = result.metrics.get(metric) if k == self.k or metric == "mrr" else None
                    rows.append(
                        {
                            "method": result.name,
                            "metric": metric,
                            "k": k,
                            "mean": mean,
                            "low": estimate.low if estimate else np.nan,
                            "high": estimate.high if estimate else np.nan,
                        }
                    )
        return pd.DataFrame(rows, columns=["method", "metric", "k", "mean", "low", "high"])

    def table(self, metrics: Sequence[str] = ("recall", "ndcg", "hit_rate", "mrr")) -> pd.DataFrame:
        """One row per method: each metric as 'mean [low, high]' plus coverage and timings."""
        rows = []
        for result in self.methods:
            row: dict[str, Any] = {"method": result.name}
            for metric in metrics:
                label = METRIC_LABELS[metric] + ("" if metric == "mrr" else f"@{self.k}")
                row[label] = result.metrics[metric].format()
            row["coverage"] = round(float(result.beyond["coverage"] or 0.0), 4)
            row["fit s"] = round(result.fit_seconds, 2)
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> EvaluationResult:
        """Rebuild from `to_dict()` output (e.g. JSON saved with an experiment)."""

        def estimates(raw: dict[str, Any]) -> dict[str, Estimate]:
            return {name: Estimate(**numbers) for name, numbers in raw.items()}

        methods = tuple(
            MethodResult(
                name=raw["name"],
                metrics=estimates(raw["metrics"]),
                by_k={int(k): dict(values) for k, values in raw["by_k"].items()},
                beyond=dict(raw["beyond"]),
                slices={
                    name: SliceResult(users=int(part["users"]), metrics=estimates(part["metrics"]))
                    for name, part in raw["slices"].items()
                },
                fit_seconds=float(raw["fit_seconds"]),
                score_seconds=float(raw["score_seconds"]),
            )
            for raw in value["methods"]
        )
        return cls(
            dataset=value["dataset"],
            split=value["split"],
            k=int(value["k"]),
            ks=tuple(int(k) for k in value["ks"]),
            users=int(value["users"]),
            items=int(value["items"]),
            train_interactions=int(value["train_interactions"]),
            methods=methods,
            reference=value["reference"],
            comparisons=tuple(Comparison(**raw) for raw in value["comparisons"]),
            verdict=value["verdict"],
            created_at=value["created_at"],
            config=dict(value.get("config") or {}),
        )


@dataclass(frozen=True)
class MethodRun:
    """Raw per-user output of one method: its top lists and the ranks of the held-out items."""

    name: str
    top: np.ndarray
    ranks: np.ndarray
    fit_seconds: float
    score_seconds: float


class EvaluationContext:
    """A split prepared once for every method: catalog order, test users, their targets and exclusions."""

    def __init__(self, split: Split, items: pd.DataFrame, *, seed: int = 0) -> None:
        self.split = split
        self.items = items.reset_index(drop=True)
        self.item_ids = self.items["item_id"].astype(str).tolist()
        self.item_index = {item_id: index for index, item_id in enumerate(self.item_ids)}
        matrix = InteractionMatrix(split.train, self.items)
        self.item_user_counts = matrix.item_user_counts()
        self.train_users = len(matrix.user_ids)
        test = split.test[split.test["item_id"].astype(str).isin(self.item_index)]
        grouped = test.groupby("user_id")["item_id"].agg(list)
        self.user_ids: list[str] = sorted(str(user) for user in grouped.index)
        self.relevant = [[self.item_index[str(item)] for item in grouped[user]] for user in self.user_ids]
        seen = matrix.rows_for(self.user_ids)
        self.exclude = [seen.indices[seen.indptr[row] : seen.indptr[row + 1]] for row in range(len(self.user_ids))]
        self.history_sizes = np.diff(seen.indptr)
        self.tie_keys = tie_break_keys(len(self.item_ids), seed)
        tail = long_tail_items(self.item_user_counts)
        self.long_tail_users = np.array([any(tail[item] for item in items) for items in self.relevant], dtype=bool)
        self.cold_users = (self.history_sizes >= 1) & (self.history_sizes <= 2)

    def subset(self, max_users: int | None, seed: int = 0) -> EvaluationContext:
        """The same split restricted to a random sample of at most `max_users` test users.

        Fitting still uses the whole training part; only the users scored are fewer (for tuning on
        large data sets).
        """
        if max_users is None or len(self.user_ids) <= max_users:
            return self
        chosen = np.sort(np.random.default_rng(seed).choice(len(self.user_ids), size=max_users, replace=False))
        sample = copy.copy(self)
        sample.user_ids = [self.user_ids[index] for index in chosen]
        sample.relevant = [self.relevant[index] for index in chosen]
        sample.exclude = [self.exclude[index] for index in chosen]
        sample.history_sizes = self.history_sizes[chosen]
        sample.long_tail_users = self.long_tail_users[chosen]
        sample.cold_users = self.cold_users[chosen]
        return sample

    def run(
        self, ranker: Ranker, *, k_max: int, batch_size: int = 1024, progress: Progress | None = None
    ) -> MethodRun:
        """Fit `ranker` on the training part and rank the whole catalog for every test user."""
        report = progress or no_progress
        name = getattr(ranker, "name", type(ranker).__name__)
        report(0.0, f"{name}: fitting")
        started = time.perf_counter()
        ranker.fit(self.split.train, self.items)
        fitted = time.perf_counter()
        tops, ranks = [], []
        width = max((len(items) for items in self.relevant), default=1)
        n_users = len(self.user_ids)
        for start in range(0, n_users, batch_size):
            stop = min(start + batch_size, n_users)
            scores = ranker.score(self.user_ids[start:stop])
            if scores.shape != (stop - start, len(self.item_ids)):
                raise ConfigError(
                    f"{name}.score returned shape {scores.shape}, expected {(stop - start, len(self.item_ids))}.",
                    hint="A ranker must score every catalog item for every user asked.",
                )
            top, rank = rank_scores(
                scores,
                relevant=self.relevant[start:stop],
                exclude=self.exclude[start:stop],
                k=k_max,
                tie_keys=self.tie_keys,
            )
            padded = np.full((stop - start, width), np.nan)
            padded[:, : rank.shape[1]] = rank
            tops.append(top)
            ranks.append(padded)
            report(stop / max(n_users, 1), f"{name}: ranked {stop:,} of {n_users:,} users")
        finished = time.perf_counter()
        return MethodRun(
            name=name,
            top=np.vstack(tops) if tops else np.zeros((0, k_max), dtype=np.int64),
            ranks=np.vstack(ranks) if ranks else np.zeros((0, width)),
            fit_seconds=fitted - started,
            score_seconds=finished - fitted,
        )


def default_rankers(data: EvaluationData, methods: Sequence[str] | None = None, settings: Any = None) -> list[Ranker]:
    """The rankers named in `methods` (default: every one the data allows)."""
    wanted = list(methods) if methods else list(METHOD_NAMES)
    lookup = {name.lower().replace("-", "").replace("_", ""): name for name in METHOD_NAMES}
    rankers: list[Ranker] = []
    for requested in wanted:
        name = lookup.get(requested.lower().replace("-", "").replace("_", ""))
        if name is None:
            raise ConfigError(f"Unknown method {requested!r}.", hint=f"Choose from {', '.join(METHOD_NAMES)}.")
        if name in ("Embedding", "Hybrid") and data.item_vectors is None and methods is None:
            continue  # skipped silently only when the caller did not ask for it by name
        if name == "MostPopular":
            rankers.append(MostPopular())
        elif name == "ItemKNN":
            rankers.append(ItemKNN())
        elif name == "ALS":
            rankers.append(ALS())
        elif name == "TF-IDF":
            rankers.append(TfidfProfile())
        elif name == "Embedding":
            if data.item_vectors is None:
                raise NotReadyError("The embedding-only method needs item vectors.", hint="Run `recengine embed` first.")
            rankers.append(EmbeddingProfile(data.item_vectors.item_ids, data.item_vectors.vectors))
        elif name == "Hybrid":
            rankers.append(
                HybridRanker(
                    data.item_vectors, settings, keywords=data.keywords, sentiment=data.sentiment,
                    review_vectors=data.review_vectors,
                )
            )
    return rankers + version_rankers(data, [ranker.name for ranker in rankers], settings)


def version_rankers(data: EvaluationData, names: Sequence[str], settings: Any = None) -> list[Ranker]:
    """'Embedding (<version>)' / 'Hybrid (<version>)' for each registry version in `data.version_vectors`,
    for whichever of Embedding and Hybrid is in `names`."""
    from recengine.evaluate.versions import version_label

    rankers: list[Ranker] = []
    if "Hybrid" in names and data.version_vectors and data.review_vectors is not None:
        rankers.append(
            HybridRanker(data.item_vectors, settings, keywords=data.keywords, sentiment=data.sentiment,
                         name=CATALOG_TEXT_HYBRID)
        )
    for version_id, vectors in (data.version_vectors or {}).items():
        if "Embedding" in names:
            embedding = EmbeddingProfile(vectors.item_ids, vectors.vectors)
            embedding.name = version_label("Embedding", version_id)
            rankers.append(embedding)
        if "Hybrid" in names:
            rankers.append(
                HybridRanker(
                    vectors, settings, keywords=data.keywords, sentiment=data.sentiment,
                    name=version_label("Hybrid", version_id),
                )
            )
    return rankers


def summarise(
    context: EvaluationContext,
    runs: Sequence[MethodRun],
    *,
    dataset: str,
    k: int,
    ks: Sequence[int],
    item_vectors: np.ndarray | None = None,
    reference: str | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    config: dict[str, Any] | None = None,
    extra_pairs: Sequence[tuple[str, str]] = (),
) -> EvaluationResult:
    """Metrics with bootstrap intervals, beyond-accuracy measures, slices and paired comparisons.

    Every method is compared with `reference` (default: the first 'Hybrid...' method); `extra_pairs`
    adds (reference, other) comparisons, e.g. each encoder version's embedding-only row against the
    active encoder's.
    """
    n_users = len(context.user_ids)
    indices = bootstrap_indices(n_users, n_resamples, seed)
    per_user: dict[str, dict[str, np.ndarray]] = {}
    results = []
    for run in runs:
        at_k = metrics_from_ranks(run.ranks, k)
        per_user[run.name] = at_k
        metrics = {name: bootstrap_ci(at_k[name], indices=indices) for name in ACCURACY_METRICS}
        by_k = {
            cutoff: {name: float(values.mean()) if n_users else float("nan") for name, values in metrics_from_ranks(run.ranks, cutoff).items()}
            for cutoff in sorted(set(ks) | {k})
        }
        beyond: dict[str, float | None] = {
            "coverage": catalog_coverage(run.top, len(context.item_ids), k),
            "diversity": intra_list_diversity(run.top, item_vectors, k) if item_vectors is not None else None,
            "novelty": novelty(run.top, context.item_user_counts, context.train_users, k),
            "gini": exposure_gini(run.top, len(context.item_ids), k),
        }
        slices = {}
        for slice_name, mask in (("cold users", context.cold_users), ("long-tail items", context.long_tail_users)):
            slices[slice_name] = SliceResult(
                users=int(mask.sum()),
                metrics={name: bootstrap_ci(at_k[name][mask], n_resamples=n_resamples, seed=seed) for name in SLICE_METRICS},
            )
        results.append(
            MethodResult(
                name=run.name,
                metrics=metrics,
                by_k=by_k,
                beyond=beyond,
                slices=slices,
                fit_seconds=run.fit_seconds,
                score_seconds=run.score_seconds,
            )
        )
    names = [run.name for run in runs]
    if reference is None:
        reference = next((name for name in names if name.startswith("Hybrid")), None)
    if reference is None and results:
        reference = max(results, key=lambda result: result.metrics["ndcg"].mean).name
    pairs = [(reference, other) for other in names if reference in per_user and other != reference]
    pairs += [
        (first, second) for first, second in extra_pairs
        if first in per_user and second in per_user and first != second and (first, second) not in pairs
    ]
    comparisons = []
    for first, other in pairs:
        for metric in ("ndcg", "hit_rate", "recall"):
            test = paired_test(per_user[first][metric], per_user[other][metric], indices=indices)
            comparisons.append(
                Comparison(
                    reference=first,
                    other=other,
                    metric=metric,
                    mean_difference=test.mean_difference,
                    low=test.low,
                    high=test.high,
                    p_value=test.p_value,
                    test=test.method,
                    significant=test.significant,
                )
            )
    partial = EvaluationResult(
        dataset=dataset,
        split=split_sentence(context.split),
        k=k,
        ks=tuple(sorted(set(ks) | {k})),
        users=n_users,
        items=len(context.item_ids),
        train_interactions=len(context.split.train),
        methods=tuple(results),
        reference=reference or "",
        comparisons=tuple(comparisons),
        verdict="",
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        config={**(config or {}), "n_resamples": n_resamples, "seed": seed},
    )
    return EvaluationResult(**{**partial.__dict__, "verdict": verdict_sentence(partial)})


def split_sentence(split: Split) -> str:
    """The split's description, and how often its held-out product ties in time with the one before."""
    tied = split.tied_share()
    if tied < 0.05:
        return split.description
    return (
        f"{split.description}; {tied:.0%} of the held-out products have the same time stamp as the customer's "
        "latest training product, and among those the later row of the data is held out"
    )


def verdict_sentence(result: EvaluationResult) -> str:
    """A plain-language summary: how often the reference method finds the next item in the top K."""
    if not result.methods or not result.reference:
        return "Nothing was evaluated."
    k = result.k
    reference = result.method(result.reference)
    versions = set(result.config.get("version_methods") or ())
    # Variants of the reference ("Hybrid (default weights)") and rows of other encoder versions are not
    # its rivals: the baselines are.
    others = [
        method for method in result.methods
        if not method.name.startswith(result.reference) and method.name not in versions
    ]

    def share(method: MethodResult) -> str:
        return f"{method.metrics['hit_rate'].mean:.0%}"

    subject = FRIENDLY.get(reference.name, reference.name)
    subject = subject[0].upper() + subject[1:]
    what = "next purchase" if result.config.get("target_events") else "next product"
    opening = (
        f"{subject} finds the customer's {what} in the top {k} for {share(reference)} of "
        f"{result.users:,} customers"
    )
    if not others:
        return opening + "." + _versions_verdict(result)
    rival = max(others, key=lambda method: method.metrics["hit_rate"].mean)
    rival_name = FRIENDLY.get(rival.name, rival.name)
    comparison = next(
        (
            c for c in result.comparisons
            if c.reference == result.reference and c.other == rival.name and c.metric == "hit_rate"
        ),
        None,
    )
    text = f"{opening}, against {share(rival)} for {rival_name}, the best of the other methods"
    if comparison is None:
        return text + "." + _versions_verdict(result)
    p_text = _p_text(result, comparison.p_value)
    if not comparison.significant:
        text += f"; the difference is not significant ({p_text}): more customers are needed to tell them apart."
    elif comparison.mean_difference > 0:
        text += f"; the difference is significant ({p_text}, paired bootstrap over customers)."
    else:
        text += f"; {rival_name} is significantly better ({p_text}, paired bootstrap over customers)."
    return text + _versions_verdict(result)


def _p_text(result: EvaluationResult, p_value: float) -> str:
    resamples = int(result.config.get("n_resamples") or 1000)
    # The bootstrap cannot resolve p-values below 2 / (B + 1): say "at most" rather than a fake figure.
    floor = 2.0 / (resamples + 1)
    return f"p < {floor + 0.0005:.3f}" if p_value <= floor + 1e-12 else f"p = {p_value:.3f}"


def _versions_verdict(result: EvaluationResult) -> str:
    """One sentence per other encoder version: would switching to it change the hybrid's hit rate?"""
    active = result.config.get("active_model_version")
    # With the reviews' text in the active encoder's item vectors, versions are compared on catalog text.
    reference = CATALOG_TEXT_HYBRID if any(m.name == CATALOG_TEXT_HYBRID for m in result.methods) else result.reference
    on_text = " (both on catalog text only)" if reference == CATALOG_TEXT_HYBRID else ""
    sentences = []
    for version_id in result.config.get("model_versions") or {}:
        name = f"Hybrid ({version_id})"
        comparison = next(
            (c for c in result.comparisons if c.reference == reference and c.other == name and c.metric == "hit_rate"),
            None,
        )
        if comparison is None:
            continue
        share = result.method(name).metrics["hit_rate"].mean
        what = (
            f"With encoder version {version_id} instead of the active {active or 'one'}{on_text}, it would find it "
            f"for {share:.0%}"
        )
        p_text = _p_text(result, comparison.p_value)
        if not comparison.significant:
            sentences.append(f" {what}: no significant difference ({p_text}).")
        elif comparison.mean_difference > 0:
            sentences.append(f" {what}: the active encoder is significantly better ({p_text}).")
        else:
            sentences.append(f" {what}: significantly better than the active encoder ({p_text}); consider activating it.")
    return "".join(sentences)


def evaluate_data(
    data: EvaluationData,
    *,
    k: int = 10,
    ks: Sequence[int] = (1, 5, 10, 20),
    methods: Sequence[str] | Sequence[Ranker] | None = None,
    strategy: SplitStrategy = "leave_last_out",
    min_history: int = 1,
    settings: Any = None,
    n_resamples: int = 1000,
    seed: int = 0,
    batch_size: int = 1024,
    progress: Progress | None = None,
    active_version: str | None = None,
) -> EvaluationResult:
    """Split `data`, run the methods on the test split and summarise (see `run_evaluation`).

    `data.version_vectors` (registry version -> item vectors) adds 'Embedding (<version>)' and
    'Hybrid (<version>)' rows; `active_version` names the encoder of the plain rows in the config.
    """
    if k < 1:
        raise ConfigError(f"k must be at least 1, got {k}.")
    targets = default_target_events(data.interactions)
    splits = make_splits(data.interactions, strategy=strategy, min_history=min_history, target_events=targets)
    if splits.test.test.empty:
        raise NotReadyError(
            "No customer has enough history to hold an item out for testing.",
            hint=f"Each tested customer needs at least {min_history + 1} distinct products in the data.",
        )
    rankers: list[Ranker]
    if methods and not isinstance(methods[0], str):
        rankers = [method for method in methods if not isinstance(method, str)]
    else:
        rankers = default_rankers(data, [str(method) for method in methods or []] or None, settings)
    context = EvaluationContext(splits.test, data.items, seed=seed)
    vectors = None
    if data.item_vectors is not None:
        vectors = align_vectors(data.item_vectors.item_ids, np.asarray(data.item_vectors.vectors), context.item_ids)
    k_max = max([k, *ks])
    runs = []
    for position, ranker in enumerate(rankers):
        part = scaled(progress, position / len(rankers), (position + 1) / len(rankers))
        runs.append(context.run(ranker, k_max=k_max, batch_size=batch_size, progress=part))
    version_vectors = data.version_vectors or {}
    version_methods = [
        run.name for run in runs if any(run.name.endswith(f"({version_id})") for version_id in version_vectors)
    ]
    names = {run.name for run in runs}
    hybrid_reference = CATALOG_TEXT_HYBRID if CATALOG_TEXT_HYBRID in names else None
    extra_pairs = [
        ("Embedding", run_name) for run_name in version_methods if run_name.startswith("Embedding (")
    ] + [
        (hybrid_reference, run_name) for run_name in version_methods
        if hybrid_reference and run_name.startswith("Hybrid (")
    ]
    config = {
        "strategy": strategy,
        "target_events": sorted(targets) if targets else None,
        "min_history": min_history,
        "k": k,
        "ks": list(ks),
        "methods": [run.name for run in runs],
        "n_resamples": n_resamples,
        "seed": seed,
        "recommend_settings": settings.model_dump() if hasattr(settings, "model_dump") else None,
        "data": data.snapshot(),
        "model_versions": {version_id: vectors.fingerprint for version_id, vectors in version_vectors.items()},
        "version_methods": version_methods,
    }
    if active_version is not None:
        config["active_model_version"] = active_version
    if progress:
        progress(1.0, "summarising")
    return summarise(
        context, runs, dataset=data.name, k=k, ks=ks, item_vectors=vectors, n_resamples=n_resamples, seed=seed,
        config=config, extra_pairs=extra_pairs,
    )


def run_evaluation(
    source: Workspace | EvaluationData,
    *,
    k: int = 10,
    ks: Sequence[int] = (1, 5, 10, 20),
    methods: Sequence[str] | None = None,
    strategy: SplitStrategy = "leave_last_out",
    min_history: int = 1,
    n_resamples: int = 1000,
    seed: int = 0,
    progress: Progress | None = None,
    model_versions: Sequence[str] | None = None,
) -> EvaluationResult:
    """Evaluate the recommender against baselines on a workspace (or prepared frames).

    Args:
        source: a workspace (its interactions and reviews, catalog and item vectors are used) or an
            `EvaluationData`.
        k: the main cutoff (metrics with intervals are reported at K).
        ks: further cutoffs for the metric-by-K chart.
        methods: names from `METHOD_NAMES` (default: all the data allows).
        strategy: leave_last_out (default), leave_last_n or global_time.
        min_history: training items a customer needs to be tested.
        n_resamples: bootstrap resamples for the intervals and the paired test.
        seed: fixes tie-breaking, bootstrap and the ALS initialisation.
        progress: callback (fraction, message).
        model_versions: encoder versions of the workspace's model registry to evaluate next to the
            active one, as 'Embedding (<version>)' and 'Hybrid (<version>)' rows on the same split
            (each embeds the catalog once through the embedding cache). None = the newest
            `versions.MAX_VERSIONS` versions other than the active one; [] = none; ["all"] = all.
            Ignored for an `EvaluationData` source (set its `version_vectors` instead).
    """
    settings = None
    active_version = None
    if isinstance(source, EvaluationData):
        data = source
    else:
        from dataclasses import replace

        from recengine.evaluate.versions import registry_versions, select_versions, versions_vectors

        needs_vectors = methods is None or any(m.lower() in ("embedding", "hybrid") for m in methods)
        chosen: list[str] = []
        try:
            active_version = registry_versions(source)[0]
            chosen = select_versions(source, model_versions) if needs_vectors else []
        except RecEngineError as error:
            if model_versions:
                raise
            # An unreadable registry must not stop the default evaluation of the active encoder.
            log.warning("encoder versions not evaluated: %s", error)
        data = from_workspace(source, with_vectors=needs_vectors, progress=scaled(progress, 0.0, 0.15))
        if chosen:
            data = replace(data, version_vectors=versions_vectors(source, chosen, scaled(progress, 0.15, 0.3)))
        settings = source.settings.recommend
        progress = scaled(progress, 0.3, 1.0)
    return evaluate_data(
        data,
        k=k,
        ks=ks,
        methods=methods,
        strategy=strategy,
        min_history=min_history,
        settings=settings,
        n_resamples=n_resamples,
        seed=seed,
        progress=progress,
        active_version=active_version,
    )
