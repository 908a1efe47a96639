"""A parsed query applied to a fitted model: which items meet each constraint, and what to relax.

Hard constraints (price, rating, exclusions) filter; soft ones (a category or brand the query names)
add a boost to the query score. When nothing that matches the query meets every hard constraint, they
are given up one at a time in `RELAX_ORDER` (the minimum rating first, an excluded name last) until
something does, and the list says which it relaxed: `ConstraintMatch.tier` is how many had to go.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from recengine.recommend.intent import Constraint, QueryIntent, parse_query
from recengine.recommend.intent_rules import IntentRules
from recengine.recommend.intent_vocabulary import CatalogVocabulary, name_words, singular
from recengine.recommend.results import Recommendation
from recengine.recommend.rules import BoostRule, ExcludeItems, RuleSet
from recengine.recommend.word_index import WordIndex

if TYPE_CHECKING:
    from recengine.recommend.recommender import Recommender


@dataclass(frozen=True)
class MentionBoost:
    """How much a category or brand named in a query lifts its items (a soft constraint).

    An item's boost is `amount` x (share of the query's words the names take) ** `share_power` x (share of
    the names it meets): "sony headphones" is all names and lifts Sony headphones by the full amount; a
    long description that mentions "fashion" in passing lifts fashion titles by almost nothing, so the
    product it describes is not buried under them. A name carried by more than `max_coverage` of the
    catalog ("gift cards" in a gift card shop) tells no products apart and lifts none. Chosen on the
    Magazine catalog (bench/eval_search_intent.py).
    """

    amount: float = 1.0
    share_power: float = 2.0
    max_coverage: float = 0.5


MENTION_BOOST = MentionBoost()
# The order in which hard constraints are given up when too few items meet them all.
RELAX_ORDER: tuple[str, ...] = ("rating", "price band", "price", "excluded word", "excluded name")

_Built = TypeVar("_Built")


def _cached(recommender: Recommender, attribute: str, build: Callable[[], _Built]) -> _Built:
    """A per-model artefact built on first use (the fitted model is shared read-only; a race only builds twice)."""
    value = getattr(recommender, attribute, None)
    if value is None:
        value = build()
        setattr(recommender, attribute, value)
    return value  # type: ignore[no-any-return]


def word_index_for(recommender: Recommender) -> WordIndex:
    """The words of every item's title, brand and category (built once per model)."""
    return _cached(recommender, "_word_index", lambda: WordIndex.from_catalog(recommender.catalog))


def vocabulary_for(recommender: Recommender, rules: IntentRules | None = None) -> CatalogVocabulary:
    """The catalog's categories, brands and prices as the parser reads them (built once per model)."""
    if rules is not None:
        return CatalogVocabulary.from_catalog(recommender.catalog, rules, word_index_for(recommender).postings)
    return _cached(
        recommender, "_intent_vocabulary",
        lambda: CatalogVocabulary.from_catalog(recommender.catalog, catalog_words=word_index_for(recommender).postings),
    )


def intent_for(recommender: Recommender, text: str, rules: IntentRules | None = None) -> QueryIntent:
    """Parse `text` against the model's catalog: the one entry point of search, typed interests and the CLI."""
    return parse_query(text, vocabulary_for(recommender, rules))


def average_ratings(recommender: Recommender) -> np.ndarray:
    """Mean stars per item as shoppers see them (nan when unrated), for "4 stars and up"."""

    def build() -> np.ndarray:
        statistics = recommender.statistics
        count = np.asarray(statistics.rating_count, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, np.asarray(statistics.rating_sum, dtype=np.float64) / count, np.nan)

    return _cached(recommender, "_average_ratings", build)


def relax_group(constraint: Constraint) -> str:
    """Which step of `RELAX_ORDER` gives this hard constraint up."""
    if constraint.kind == "price":
        return "price band" if constraint.band else "price"
    if constraint.kind == "exclude":
        return "excluded word" if constraint.target == "term" else "excluded name"
    return constraint.kind


def constraint_mask(recommender: Recommender, constraint: Constraint) -> np.ndarray:
    """Items that meet one constraint (an item with an unknown price or no rating does not meet one).

    Cached per constraint on the model's catalog (read-only), so a repeated or edited query costs no pass
    over the catalog.
    """
    key = ("intent", replace(constraint, phrase=""))
    return recommender.catalog.cached_mask(key, lambda: _constraint_mask(recommender, constraint))


def _constraint_mask(recommender: Recommender, constraint: Constraint) -> np.ndarray:
    catalog = recommender.catalog
    if constraint.kind == "price":
        return catalog.price_mask(constraint.low, constraint.high)
    if constraint.kind == "rating":
        stars = average_ratings(recommender)
        with np.errstate(invalid="ignore"):
            return np.nan_to_num(stars, nan=-1.0) >= float(constraint.low or 0.0)
    if constraint.kind == "exclude" and constraint.target == "term":
        return ~word_index_for(recommender).containing(_word_forms(constraint.names[0]))
    kind = "brand" if constraint.target == "brand" or constraint.kind == "brand" else "category"
    named = _names_mask(recommender, kind, constraint.names)
    if constraint.kind == "exclude":
        # "without batteries" also rules out the headphones "with batteries" outside the Batteries category.
        return ~(named | _naming_mask(recommender, constraint.names))
    # An item whose brand (category) is not filled in meets a named one when its title names it: many
    # catalogs leave the brand empty on "Amazon.com Gift Card ..." titles.
    field = catalog.brands if kind == "brand" else catalog.categories
    unknown = catalog.cached_mask(("intent unknown", kind), lambda: np.array([not str(value).strip() for value in field]))
    return named | (unknown & _naming_mask(recommender, constraint.names)) if unknown.any() else named


def _naming_mask(recommender: Recommender, names: tuple[str, ...]) -> np.ndarray:
    """Items whose title, brand or category words include every word of one of `names`."""
    index = word_index_for(recommender)
    mask = np.zeros(recommender.catalog.size, dtype=bool)
    for name in names:
        words = [word for word in name_words(name) if word.isalnum()]
        if words:
            mask |= np.logical_and.reduce([index.containing(_word_forms(word)) for word in words])
    return mask


def _names_mask(recommender: Recommender, kind: str, names: tuple[str, ...]) -> np.ndarray:
    catalog = recommender.catalog
    mask = np.zeros(catalog.size, dtype=bool)
    for name in names:
        if kind == "brand":
            mask |= catalog.cached_mask(("intent brand", name), lambda name=name: catalog.brand_mask(name))
        else:
            mask |= catalog.category_mask(name)
    return mask


def _word_forms(word: str) -> set[str]:
    """'batteries' also rules out 'battery' (the index holds words as written)."""
    stem = singular(word.lower())
    forms = {word.lower(), stem, stem + "s", stem + "es"}
    if stem.endswith("y"):
        forms.add(stem[:-1] + "ies")
    return forms


@dataclass(frozen=True)
class ConstraintMatch:
    """Every item checked against an intent's constraints.

    Attributes:
        intent: the constraints checked.
        meets: one mask per constraint of `intent.constraints` (True = the item meets it).
        boost: the soft constraints' boost per item (added to the query score).
        tier: 0 for items meeting every hard constraint; t for items meeting them once the first t
            constraints of `relax_order` are given up.
        relax_order: the hard constraints in the order they are given up.
    """

    intent: QueryIntent
    meets: tuple[np.ndarray, ...]
    boost: np.ndarray
    tier: np.ndarray
    relax_order: tuple[Constraint, ...]

    def met_by(self, position: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(labels of the constraints the item meets, labels of those it does not)."""
        met = tuple(item.label for item, mask in zip(self.intent.constraints, self.meets, strict=True) if mask[position])
        missed = tuple(item.label for item, mask in zip(self.intent.constraints, self.meets, strict=True) if not mask[position])
        return met, missed

    def filtered(self, scores: np.ndarray, eligible: np.ndarray, relevant_share: float) -> np.ndarray:
        """`eligible` less the items that break a hard constraint.

        When no good match (a score at least `relevant_share` of the best eligible one) meets them all,
        they are given up in the relax order until one does, so that a weak match meeting every
        constraint (AA batteries for "5-star headphones under $16") never hides what was searched for.
        """
        if not eligible.any():
            return eligible
        relevant = eligible & (scores >= relevant_share * float(scores[eligible].max()))
        allowed_tier = int(self.tier[relevant if relevant.any() else eligible].min())
        return eligible & (self.tier <= allowed_tier)

    def relaxed(self, tiers: np.ndarray) -> tuple[Constraint, ...]:
        """The constraints given up to reach the items of `tiers` (the highest tier shown decides)."""
        return self.relax_order[: int(tiers.max(initial=0))]

    def note(self, tiers: np.ndarray) -> str:
        """A sentence for staff when the list had to relax a constraint ('' when it did not)."""
        relaxed = self.relaxed(tiers)
        if not relaxed:
            return ""
        given_up = ", ".join(item.label for item in relaxed)
        return f"No product matching the query meets every constraint; relaxed: {given_up}."


def mention_lift(intent: QueryIntent, mentions: Sequence[Constraint], mention_boost: MentionBoost = MENTION_BOOST) -> float:
    """What an item meeting every one of `mentions` gains: the amount, scaled by the share of the words
    the encoder reads that the names take."""
    # Words as names are compared (singular, "&" and "the" left out, "F&W" two words, not none).
    named = len(set().union(*(name_words(constraint.phrase) for constraint in mentions)))
    share = min(1.0, named / max(len(set(name_words(intent.query_text))), 1))
    return mention_boost.amount * share**mention_boost.share_power


def match_constraints(
    recommender: Recommender, intent: QueryIntent, mention_boost: MentionBoost = MENTION_BOOST
) -> ConstraintMatch:
    """Check every item of the model's catalog against the intent (vectorised masks, cached per value).

    Args:
        recommender: the fitted model.
        intent: the constraints.
        mention_boost: how a named category or brand lifts its items.
    """
    size = recommender.catalog.size
    meets = tuple(constraint_mask(recommender, constraint) for constraint in intent.constraints)
    boost = np.zeros(size, dtype=np.float32)
    telling = [
        (constraint, mask) for constraint, mask in zip(intent.constraints, meets, strict=True)
        if not constraint.hard and mask.mean() <= mention_boost.max_coverage
    ]
    lift = mention_lift(intent, [constraint for constraint, _ in telling], mention_boost)
    for _constraint, mask in telling:
        boost[mask] += lift / len(telling)
    hard = [(constraint, mask) for constraint, mask in zip(intent.constraints, meets, strict=True) if constraint.hard]
    hard.sort(key=lambda pair: RELAX_ORDER.index(relax_group(pair[0])))  # stable: ties keep the typed order
    # tier = the fewest constraints to drop, from the front of the order, for the item to meet the rest.
    tier = np.full(size, len(hard), dtype=np.int64)
    still = np.ones(size, dtype=bool)
    for dropped in range(len(hard), -1, -1):
        tier[still] = dropped
        if dropped:
            still &= hard[dropped - 1][1]
    return ConstraintMatch(intent, meets, boost, tier, tuple(constraint for constraint, _ in hard))


# -- typed interests (Recommender.recommend_for_text) ----------------------------------------------------


@dataclass(frozen=True)
class TextRecommendations:
    """Recommendations for typed interests, with the intent read from them and what had to be relaxed."""

    intent: QueryIntent
    recommendations: list[Recommendation]
    relaxed: tuple[Constraint, ...] = ()
    note: str = ""


def intent_rules(recommender: Recommender, intent: QueryIntent) -> tuple[BoostRule | ExcludeItems, ...]:
    """The intent as business rules of the recommender, so the explanation of every item shows them.

    A price limit lifts the items inside it by 1 (a boost rule also brings the best of them into the
    candidates, which a bury would not); an excluded category or brand is buried by 1; an excluded
    word removes the items that contain it; a named category or brand is boosted like in search.
    """
    rules: list[BoostRule | ExcludeItems] = []
    lift = mention_lift(intent, intent.soft)
    for constraint in intent.constraints:
        if constraint.kind == "price":
            rules.append(BoostRule("price", amount=1.0, price_min=constraint.low, price_max=constraint.high))
        elif constraint.kind == "exclude" and constraint.target == "term":
            mask = ~constraint_mask(recommender, constraint)
            rules.append(ExcludeItems(tuple(recommender.catalog.item_ids[int(p)] for p in np.flatnonzero(mask))))
        elif constraint.kind == "exclude":
            field = "brand" if constraint.target == "brand" else "category"
            rules += [BoostRule(field, name, amount=-1.0) for name in constraint.names]
        elif constraint.kind in ("category", "brand"):
            amount = round(lift / len(intent.soft), 3)
            if amount > 0:
                rules += [BoostRule(constraint.kind, name, amount=amount) for name in constraint.names]
    return tuple(rules)


def recommend_for_intent(
    recommender: Recommender,
    text: str,
    k: int = 10,
    *,
    intent: QueryIntent | None = None,
    rules: RuleSet | None = None,
    weights: Mapping[str, float] | None = None,
) -> TextRecommendations:
    """Cold-start recommendations for staff-typed interests ("jazz on vinyl under $20, 4 stars and up").

    The encoder reads the interests without their price, rating and exclusion phrases; the constraints
    become rules (`intent_rules`), and the list keeps the items that meet every hard constraint its best
    placed item meets: one breaking a constraint appears only when none of the candidates meets them all.

    Args:
        recommender: fitted model with item vectors and a query encoder.
        text: the interests typed.
        k: list length.
        intent: an already parsed (perhaps edited) intent of `text`; parsed here when None.
        rules: business rules to apply as well.
        weights: per-call component weights.
    """
    intent = intent if intent is not None else intent_for(recommender, text)
    profile = recommender.text_profile(intent.query_text or text)
    rule_set = rules or RuleSet()
    for rule in intent_rules(recommender, intent):
        rule_set = rule_set.with_rule(rule)
    fetch = 3 * k if intent.hard else k  # room to put the items meeting every constraint first
    listed = recommender.recommend("", fetch, rules=rule_set, weights=weights, profile=profile)
    match = match_constraints(recommender, intent)
    positions = recommender.catalog.positions
    tiers = np.array([match.tier[positions[item.item_id]] for item in listed], dtype=np.int64)
    # As in search: only items meeting the constraints the best-placed item meets (relaxing none if it can).
    allowed_tier = int(tiers.min()) if tiers.size else 0
    order = [row for row in range(len(listed)) if tiers[row] <= allowed_tier][:k]
    chosen = [replace(listed[row], rank=rank) for rank, row in enumerate(order, start=1)]
    shown = tiers[order] if order else np.zeros(0, dtype=np.int64)
    return TextRecommendations(intent, chosen, match.relaxed(shown), match.note(shown))
