"""Are explanations faithful to the score? Counterfactual checks of the attribution (issue 22).

For each recommendation the explanation splits the collaborative and semantic components over the
history products behind them (`recengine.recommend.attribution`). This module tests that claim the
way counterfactual evaluations of explainable recommenders do: remove the history product with the
largest attributed part from the customer's history, score the whole catalog again, and compare.

- Collaborative, before renormalisation: the raw collaborative score of the product drops by exactly
  the removed product's confidence x matrix entry, so the component at the old norm drops by exactly
  its attributed part (`collaborative_error` is the largest difference; rounding only).
- After renormalisation: the component is divided by the customer's best unseen raw score, which the
  removal moves too, either way: it falls when the removed product also fed the best unseen product,
  and it can rise because the removed product is no longer seen and competes for the best score
  itself. `collaborative_ratio` is the mean of drop / part (1 when the norm does not move).
- Semantic: removing a product re-clusters the interests and changes their norm, so the drop is not
  the part exactly; `semantic_ratio` and the correlation say how well the part predicts it.
- The ranking: how often the product falls out of the top k when its top attributed product is
  removed, against a control that removes a random other product of the same history.

The counterfactual lists are pure score order (no rules, no diversity re-ranking) over the products
the customer had not touched, so a change of rank is the score's doing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recengine.recommend import Recommendation, Recommender, RuleSet
from recengine.recommend.explain import short_title
from recengine.recommend.profile import UserHistory
from recengine.recommend.protocols import UserContext
from recengine.recommend.scoring import COMPONENTS, weights_from_settings

COVERAGE_TARGET = 0.9  # listed contributions should cover at least this share of their component
PERSONAL = ("collaborative", "semantic")


@dataclass(frozen=True)
class Removal:
    """One recommendation re-scored without one product of the customer's history."""

    user_id: str
    item_id: str
    rank: int
    removed_item_id: str
    control: bool  # True: a random other history product was removed, not the top attributed one
    attributed: float  # the removed product's attributed part (collaborative + semantic)
    attributed_collaborative: float
    attributed_semantic: float
    drop_collaborative_old_norm: float  # the collaborative component's drop at the norm it had before
    drop_collaborative: float  # after renormalisation
    drop_semantic: float
    drop_score: float
    k: int
    old_rank: int  # 1-based rank by the full-catalog score, among the products the customer had not touched
    new_rank: int  # the same after the removal

    @property
    def fell_out(self) -> bool:
        """Whether the product dropped out of the top k."""
        return self.old_rank <= self.k < self.new_rank


@dataclass(frozen=True)
class FaithfulnessReport:
    """What the faithfulness evaluation measured on one fitted model and a sample of customers."""

    k: int
    customers: int
    recommendations: int
    collaborative_method: str
    personal: int  # recommendations with a collaborative or semantic part from the history
    named: float  # share of those whose reason names a history product that contributed
    covered: dict[str, float]  # per component: share of its recommendations covered >= COVERAGE_TARGET
    covered_all: float  # share of recommendations whose every personal component is covered
    removals: list[Removal] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """One row per removal (top attributed product, and control)."""
        rows = [{**removal.__dict__, "fell_out": removal.fell_out} for removal in self.removals]
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, float]:
        """The headline figures: fall-out rates, the collaborative error, drop / part ratios."""
        frame = self.frame()
        if frame.empty:
            return {}
        top, control = frame[~frame["control"]], frame[frame["control"]]
        collaborative = top[top["attributed_collaborative"] > 1e-9]
        semantic = top[top["attributed_semantic"].abs() > 1e-9]
        return {
            "removals": float(len(top)),
            "fell_out": float(top["fell_out"].mean()) if len(top) else float("nan"),
            "fell_out_control": float(control["fell_out"].mean()) if len(control) else float("nan"),
            "drop_score": float(top["drop_score"].mean()) if len(top) else float("nan"),
            "attributed": float(top["attributed"].mean()) if len(top) else float("nan"),
            "drop_score_control": float(control["drop_score"].mean()) if len(control) else float("nan"),
            "attributed_control": float(control["attributed"].mean()) if len(control) else float("nan"),
            "collaborative_error": float(
                (collaborative["drop_collaborative_old_norm"] - collaborative["attributed_collaborative"]).abs().max()
            ) if len(collaborative) else float("nan"),
            "collaborative_ratio": _mean_ratio(collaborative["drop_collaborative"], collaborative["attributed_collaborative"]),
            "semantic_ratio": _mean_ratio(semantic["drop_semantic"], semantic["attributed_semantic"]),
            "semantic_correlation": _correlation(semantic["drop_semantic"], semantic["attributed_semantic"]),
            "score_correlation": _correlation(frame["drop_score"], frame["attributed"]),
        }


def evaluate_faithfulness(
    recommender: Recommender,
    user_ids: Sequence[str],
    k: int = 10,
    *,
    weights: dict[str, float] | None = None,
    controls: bool = True,
    seed: int = 0,
) -> FaithfulnessReport:
    """Coverage, naming and counterfactual removals for the top-k of `user_ids` (pure score order).

    Args:
        recommender: a fitted model.
        user_ids: the customers to explain (unknown ones are skipped).
        k: list length.
        weights: component weights (the settings' when None).
        controls: also remove one random other history product per recommendation (the control).
        seed: of the control's random choice.
    """
    rng = np.random.default_rng(seed)
    weights_used = weights_from_settings(recommender.settings, weights)
    removals: list[Removal] = []
    recommendations = personal = named = all_covered = 0
    covered = dict.fromkeys(PERSONAL, 0)
    with_part = dict.fromkeys(PERSONAL, 0)
    customers = 0
    for user_id in user_ids:
        if not recommender.has_user(user_id):
            continue
        customers += 1
        listed = recommender.recommend(user_id, k, rules=RuleSet(enabled=False), weights=weights)
        history = recommender.user_history(user_id)
        for item in listed:
            recommendations += 1
            explanation = item.explanation
            parts = [entry for entry in explanation.attribution if entry.component in PERSONAL]
            for entry in parts:
                with_part[entry.component] += 1
                covered[entry.component] += entry.coverage >= COVERAGE_TARGET
            all_covered += all(entry.coverage >= COVERAGE_TARGET for entry in parts)
            if any(entry.value > 0 and entry.contributions for entry in parts):
                personal += 1
                named += names_a_contributor(recommender, item)
        if history.size < 2:
            continue  # removing the only product leaves a customer without history: nothing to compare
        removals.extend(_removals(recommender, user_id, history, listed, weights_used, k, controls, rng))
    return FaithfulnessReport(
        k=k,
        customers=customers,
        recommendations=recommendations,
        collaborative_method=recommender.collaborative_method,
        personal=personal,
        named=named / personal if personal else float("nan"),
        covered={name: covered[name] / with_part[name] if with_part[name] else float("nan") for name in PERSONAL},
        covered_all=all_covered / recommendations if recommendations else float("nan"),
        removals=removals,
    )


def sample_customers(recommender: Recommender, count: int, *, seed: int = 0, min_history: int = 1) -> list[str]:
    """`count` customers of the fitted model with at least `min_history` products, drawn at random
    (seeded), in a stable order."""
    users = recommender.user_ids
    if min_history > 1:
        sizes = np.diff(recommender.history.offsets)
        users = [user for user, size in zip(users, sizes.tolist(), strict=True) if size >= min_history]
    if count >= len(users):
        return list(users)
    chosen = np.random.default_rng(seed).choice(len(users), size=count, replace=False)
    return [users[index] for index in sorted(chosen.tolist())]


def figures(report: FaithfulnessReport) -> list[tuple[str, str]]:
    """The report as (measure, value) rows, for the CLI table and the evaluation document."""
    summary = report.summary()

    def share(value: float) -> str:
        return "-" if value != value else f"{value:.1%}"

    def number(key: str, digits: int = 3) -> str:
        value = summary.get(key, float("nan"))
        return "-" if value != value else f"{value:.{digits}f}"

    return [
        ("customers / recommendations", f"{report.customers:,} / {report.recommendations:,}"),
        ("collaborative signal", report.collaborative_method),
        ("reason names a contributing history product (of those with a personal part)",
         f"{share(report.named)} of {report.personal:,}"),
        (f"collaborative part covered >= {COVERAGE_TARGET:.0%} by the listed products", share(report.covered["collaborative"])),
        (f"semantic part covered >= {COVERAGE_TARGET:.0%} by the listed products", share(report.covered["semantic"])),
        ("both personal parts covered", share(report.covered_all)),
        ("removals of the top attributed product", f"{int(summary.get('removals', 0)):,}"),
        (f"product falls out of the top {report.k}: top product removed / random other removed",
         f"{share(summary.get('fell_out', float('nan')))} / {share(summary.get('fell_out_control', float('nan')))}"),
        ("score drop / attributed part, mean: top product", f"{number('drop_score')} / {number('attributed')}"),
        ("same, random other product (control)", f"{number('drop_score_control')} / {number('attributed_control')}"),
        ("collaborative drop at the old norm minus its part, largest", number("collaborative_error", 7)),
        ("collaborative drop after renormalisation / part, mean", number("collaborative_ratio")),
        ("semantic drop / part, mean (correlation)",
         f"{number('semantic_ratio')} ({number('semantic_correlation', 2)})"),
        ("score drop vs attributed part, correlation over all removals", number("score_correlation", 2)),
    ]


def names_a_contributor(recommender: Recommender, recommendation: Recommendation) -> bool:
    """Whether the reason quotes the title of a history product with a positive part."""
    reason = recommendation.explanation.reason
    return any(
        f"'{short_title(recommender.catalog, entry.item_id)}'" in reason
        for attribution in recommendation.explanation.attribution
        for entry in attribution.contributions
        if entry.amount > 0
    )


def without(history: UserHistory, item_id_position: int) -> UserHistory:
    """The history without the product at catalog position `item_id_position`."""
    keep = history.positions != item_id_position
    return UserHistory(
        history.user_id, history.positions[keep], history.affinity[keep], history.confidence[keep],
        history.ratings[keep], history.events[keep],
    )


@dataclass(frozen=True)
class _Scored:
    totals: np.ndarray
    components: np.ndarray  # (items, COMPONENTS)
    raw_collaborative: np.ndarray


def _score(recommender: Recommender, history: UserHistory, weights: dict[str, float]) -> _Scored:
    """The whole catalog scored for a history, as `Recommender.score_items` does, with the raw
    collaborative scores the component is normalised from."""
    profile = recommender.profile_from_history(history)
    context = UserContext(profile=profile, item_count=recommender.catalog.size)
    totals, components = recommender.hybrid.score(context, None, weights)
    raw, _ = recommender.scorers["collaborative"].raw_scores(context)
    return _Scored(totals, components, raw)


def _removals(
    recommender: Recommender, user_id: str, history: UserHistory, listed: list[Recommendation],
    weights: dict[str, float], k: int, controls: bool, rng: np.random.Generator,
) -> list[Removal]:
    positions = recommender.catalog.positions
    before = _score(recommender, history, weights)
    untouched = np.ones(recommender.catalog.size, dtype=bool)
    untouched[history.positions] = False  # the ranking stays over the products the customer had not touched
    cache: dict[int, _Scored] = {}
    collaborative = COMPONENTS.index("collaborative")
    semantic = COMPONENTS.index("semantic")
    found = []
    for item in listed:
        parts = _parts(item)
        if not parts:
            continue
        target = positions[item.item_id]
        top = max(parts, key=lambda item_id: parts[item_id])
        choices = [(top, False)]
        others = [int(position) for position in history.positions if recommender.item_ids[position] != top]
        if controls and others:
            choices.append((recommender.item_ids[int(rng.choice(others))], True))
        for removed_id, control in choices:
            removed = positions[removed_id]
            if removed not in cache:
                cache[removed] = _score(recommender, without(history, removed), weights)
            after = cache[removed]
            contributions = {
                attribution.component: entry.amount
                for attribution in item.explanation.attribution
                for entry in attribution.contributions if entry.item_id == removed_id
            }
            old_collaborative = before.components[target, collaborative]
            raw_before = float(before.raw_collaborative[target])
            old_norm_drop = (
                old_collaborative * (raw_before - float(after.raw_collaborative[target])) / raw_before
                if raw_before > 0 else 0.0
            )
            found.append(Removal(
                user_id=user_id, item_id=item.item_id, rank=item.rank, removed_item_id=removed_id, control=control,
                attributed=sum(contributions.values()),
                attributed_collaborative=contributions.get("collaborative", 0.0),
                attributed_semantic=contributions.get("semantic", 0.0),
                drop_collaborative_old_norm=float(old_norm_drop),
                drop_collaborative=float(old_collaborative - after.components[target, collaborative]),
                drop_semantic=float(before.components[target, semantic] - after.components[target, semantic]),
                drop_score=float(before.totals[target] - after.totals[target]),
                k=k, old_rank=_rank(before.totals, target, untouched), new_rank=_rank(after.totals, target, untouched),
            ))
    return found


def _rank(totals: np.ndarray, target: int, eligible: np.ndarray) -> int:
    return int((totals[eligible] > totals[target]).sum()) + 1


def _parts(recommendation: Recommendation) -> dict[str, float]:
    """Each listed history product's total attributed part of the recommendation (both components)."""
    total: dict[str, float] = {}
    for attribution in recommendation.explanation.attribution:
        for entry in attribution.contributions:
            total[entry.item_id] = total.get(entry.item_id, 0.0) + entry.amount
    return total


def _mean_ratio(drops: pd.Series, parts: pd.Series) -> float:
    return float((drops / parts).mean()) if len(parts) else float("nan")


def _correlation(first: pd.Series, second: pd.Series) -> float:
    if len(first) < 3 or first.std() == 0 or second.std() == 0:
        return float("nan")
    return float(np.corrcoef(first, second)[0, 1])
