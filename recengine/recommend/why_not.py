"""Why a product is not in a customer's list: where it ranks, and which component or rule held it back.

`Recommender.why_not` is the entry point; this module reads the recommender's scores, rules and
explanation context, and keeps the reasoning about the gap to the list's cutoff out of the recommender.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from recengine.errors import NotFoundError
from recengine.recommend.explain import components_dict, explain, held_back_clause
from recengine.recommend.results import WhyNot
from recengine.recommend.rules import BoostRule, RuleSet
from recengine.recommend.scoring import COMPONENTS, weights_from_settings

if TYPE_CHECKING:
    from recengine.recommend.recommender import Recommender


def explain_why_not(
    recommender: Recommender,
    user_id: str,
    item_id: str,
    k: int,
    *,
    rules: RuleSet | None,
    weights: Mapping[str, float] | None,
    exclude_seen: bool,
) -> WhyNot:
    """Where `item_id` ranks for the user and which component or rule held it back (see
    `Recommender.why_not`; called inside its single-BLAS-thread block)."""
    position = recommender.catalog.positions.get(str(item_id))
    if position is None:
        raise NotFoundError(f"No product with id {item_id!r} in this workspace.")
    profile = recommender.profile(user_id)
    weights_used = weights_from_settings(recommender.settings, weights)
    context = recommender._context(profile, None)
    totals, components = recommender.hybrid.score(context, None, weights_used)
    listed = recommender.recommend(user_id, k, rules=rules, exclude_seen=exclude_seen, weights=weights)
    rule_set = recommender._effective_rules(rules)
    delta = sum(
        rule.amount for rule in rule_set.active()
        if isinstance(rule, BoostRule) and rule.matches(recommender.catalog)[position]
    )
    own = components_dict(components[position], delta)
    score = round(sum(own.values()), 6)
    attribution = explain(position, components=components[position], rule_delta=delta, rule_notes=[],
                          profile=profile, context=recommender.explain_context).attribution
    eligible = ~context.history_mask() if exclude_seen else np.ones(recommender.catalog.size, dtype=bool)
    ranked_items = int(eligible.sum())
    rank = int((totals[eligible] > totals[position]).sum()) + 1 if eligible[position] else None
    who = user_id or "this customer"
    title = str(recommender.catalog.titles[position])
    cutoff_item = listed[-1] if listed else None
    cutoff = cutoff_item.score if cutoff_item else 0.0
    cutoff_components = cutoff_item.explanation.components if cutoff_item else {}
    gaps = {name: round(own.get(name, 0.0) - cutoff_components.get(name, 0.0), 6) for name in COMPONENTS}
    in_list = next((rec for rec in listed if rec.item_id == str(item_id)), None)
    notes: list[str] = []
    if in_list is not None:
        return WhyNot(str(item_id), in_list.rank, ranked_items, in_list.score,
                      in_list.explanation.components, cutoff, "", gaps, in_list.explanation.rules,
                      f"'{title}' is already recommended to {who} at rank {in_list.rank}.",
                      in_list.explanation.attribution)
    if not eligible[position]:
        reason = f"{who} already interacted with '{title}', and seen items are left out."
        return WhyNot(str(item_id), None, ranked_items, score, own, cutoff, "already seen", gaps, [], reason,
                      attribution)
    for rule in rule_set.active():
        if rule.kind == "hide_out_of_stock" and not recommender.catalog.in_stock[position]:
            notes.append("hidden: out of stock")
        if rule.kind == "exclude" and str(item_id) in rule.item_ids:  # type: ignore[union-attr]
            notes.append("excluded by rule")
        if isinstance(rule, BoostRule) and rule.matches(recommender.catalog)[position] and rule.amount < 0:
            notes.append(rule.describe())
    if notes and notes[0] in ("hidden: out of stock", "excluded by rule"):
        reason = f"'{title}' ranks {rank} of {ranked_items:,} for {who} but is removed: {notes[0]}."
        return WhyNot(str(item_id), rank, ranked_items, score, own, cutoff, notes[0], gaps, notes, reason,
                      attribution)
    if delta < 0 and -delta >= max(-min(gaps.values()), 0):
        held = notes[-1] if notes else "a bury rule"
    else:
        held = min(gaps, key=lambda name: gaps[name])
    explanation = (
        f"'{title}' ranks {rank} of {ranked_items:,} for {who} (score {score:.3f} vs {cutoff:.3f} "
        f"for the last of the top {len(listed)}); "
    )
    if held in COMPONENTS:
        explanation += (
            f"it is held back most by {held} ({own[held]:.3f} vs {cutoff_components.get(held, 0.0):.3f})"
        )
        if held in ("collaborative", "semantic") and profile.history.size:
            explanation += "; " + held_back_clause(held, attribution, profile, recommender.catalog)
        explanation += "."
    else:
        explanation += f"it is held back by the rule '{held}'."
    return WhyNot(str(item_id), rank, ranked_items, score, own, cutoff, held, gaps, notes, explanation,
                  attribution)
