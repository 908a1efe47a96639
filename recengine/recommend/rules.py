"""Business rules, applied after scoring and recorded per item.

Rules are frozen dataclasses that round-trip to dicts and JSON (the dashboard keeps them in session
state, the CLI reads them from a file). Order of application, whatever the order in the RuleSet:
filters (hide out-of-stock, exclude) -> boosts and buries (they change the score, through a `rules`
component, so components still add up) -> diversity (MMR) -> minimum share of a promoted category ->
pins. `RuleSet(enabled=False)` turns every rule off for a clean comparison.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from recengine.errors import ConfigError
from recengine.recommend.catalog import Catalog


@dataclass(frozen=True)
class HideOutOfStock:
    """Never recommend items marked out of stock."""

    kind: ClassVar[str] = "hide_out_of_stock"

    def describe(self) -> str:
        return "hide out-of-stock items"


@dataclass(frozen=True)
class ExcludeItems:
    """Never recommend these items."""

    item_ids: tuple[str, ...] = ()
    kind: ClassVar[str] = "exclude"

    def __post_init__(self) -> None:
        object.__setattr__(self, "item_ids", tuple(str(item) for item in self.item_ids))

    def describe(self) -> str:
        return f"exclude {len(self.item_ids)} item(s)"


@dataclass(frozen=True)
class PinItem:
    """Show `item_id` at 1-based `position` (unless hidden by a filter)."""

    item_id: str
    position: int = 1
    kind: ClassVar[str] = "pin"

    def __post_init__(self) -> None:
        if int(self.position) < 1:
            raise ConfigError(f"Pin position {self.position} is invalid.", hint="Positions start at 1.")

    def describe(self) -> str:
        return f"pin {self.item_id} at position {self.position}"


@dataclass(frozen=True)
class BoostRule:
    """Add `amount` to the score of matching items (negative = bury).

    `field` is 'category' (path prefix or any part of the path), 'brand' (exact, case-insensitive)
    or 'price' (between price_min and price_max, either may be None).
    """

    field: str
    value: str = ""
    amount: float = 0.1
    price_min: float | None = None
    price_max: float | None = None
    kind: ClassVar[str] = "boost"

    def __post_init__(self) -> None:
        if self.field not in ("category", "brand", "price"):
            raise ConfigError(
                f"Cannot boost by {self.field!r}.", hint="Use field 'category', 'brand' or 'price'."
            )
        if self.field == "price" and self.price_min is None and self.price_max is None:
            raise ConfigError("A price boost needs price_min or price_max.")
        if self.field != "price" and not str(self.value).strip():
            raise ConfigError(f"A {self.field} boost needs a value to match.")

    def matches(self, catalog: Catalog) -> np.ndarray:
        """Mask of the catalog items this rule applies to (cached per catalog, read-only)."""
        return catalog.cached_mask(self, lambda: self._matches(catalog))

    def _matches(self, catalog: Catalog) -> np.ndarray:
        if self.field == "category":
            return catalog.category_mask(self.value)
        if self.field == "brand":
            return catalog.brand_mask(self.value)
        return catalog.price_mask(self.price_min, self.price_max)

    def describe(self) -> str:
        verb = "boost" if self.amount >= 0 else "bury"
        if self.field == "price":
            low = "" if self.price_min is None else f"{self.price_min:g}"
            high = "" if self.price_max is None else f"{self.price_max:g}"
            target = f"price {low}..{high}"
        else:
            target = f"{self.field}={self.value}"
        return f"{verb} {target} ({self.amount:+.2f})"


@dataclass(frozen=True)
class MinimumShare:
    """At least `share` of the list comes from `category` (promoted from lower ranks if needed)."""

    category: str
    share: float = 0.2
    kind: ClassVar[str] = "minimum_share"

    def __post_init__(self) -> None:
        if not 0 < float(self.share) <= 1:
            raise ConfigError(f"Minimum share {self.share} is outside (0, 1].", hint="Use e.g. 0.3.")

    def describe(self) -> str:
        return f"at least {self.share:.0%} from {self.category}"


@dataclass(frozen=True)
class NewArrivals:
    """Make room for products first seen within the last `days` (of the data's newest day).

    Either at least `share` of the list (the best-scoring new arrivals replace the lowest others), or,
    when `positions` are given, the best new arrivals at those 1-based positions.
    """

    days: float = 30.0
    share: float = 0.2
    positions: tuple[int, ...] = ()
    kind: ClassVar[str] = "new_arrivals"

    def __post_init__(self) -> None:
        object.__setattr__(self, "positions", tuple(sorted({int(position) for position in self.positions})))
        if float(self.days) <= 0:
            raise ConfigError(f"New arrivals need a window of days above 0, got {self.days}.")
        if not 0 < float(self.share) <= 1:
            raise ConfigError(f"New arrivals share {self.share} is outside (0, 1].", hint="Use e.g. 0.2.")
        if any(position < 1 for position in self.positions):
            raise ConfigError(f"New arrival positions {list(self.positions)} are invalid.", hint="Positions start at 1.")

    def matches(self, catalog: Catalog) -> np.ndarray:
        """Mask of the new arrivals (cached per catalog, read-only), like `BoostRule.matches`."""
        return catalog.cached_mask(self, lambda: catalog.new_arrivals_mask(self.days))

    def describe(self) -> str:
        where = f"at positions {', '.join(map(str, self.positions))}" if self.positions else f"at least {self.share:.0%}"
        return f"new arrivals (first seen within {self.days:g} days) {where}"


def new_arrivals_from_settings(settings: Any) -> NewArrivals:
    """The new-arrivals rule that `RecommendSettings.new_arrivals_*` configure for every list."""
    return NewArrivals(
        days=settings.new_arrivals_days,
        share=settings.new_arrivals_share,
        positions=tuple(settings.new_arrivals_positions),
    )


@dataclass(frozen=True)
class Diversity:
    """MMR re-ranking: lambda 1 = relevance only, lower = more varied lists."""

    mmr_lambda: float = 0.7
    kind: ClassVar[str] = "diversity"

    def __post_init__(self) -> None:
        if not 0 <= float(self.mmr_lambda) <= 1:
            raise ConfigError(f"Diversity lambda {self.mmr_lambda} is outside [0, 1].")

    def describe(self) -> str:
        return f"diversity (MMR lambda {self.mmr_lambda:.2f})"


Rule = HideOutOfStock | ExcludeItems | PinItem | BoostRule | MinimumShare | NewArrivals | Diversity
RULE_TYPES: dict[str, type] = {
    rule.kind: rule
    for rule in (HideOutOfStock, ExcludeItems, PinItem, BoostRule, MinimumShare, NewArrivals, Diversity)
}


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    values = asdict(rule)
    if isinstance(rule, ExcludeItems):
        values["item_ids"] = list(rule.item_ids)
    if isinstance(rule, NewArrivals):
        values["positions"] = list(rule.positions)
    return {"type": rule.kind, **values}


def rule_from_dict(values: Mapping[str, Any]) -> Rule:
    kind = values.get("type")
    if kind not in RULE_TYPES:
        raise ConfigError(f"Unknown rule type {kind!r}.", hint=f"Use one of: {', '.join(RULE_TYPES)}.")
    cls = RULE_TYPES[str(kind)]
    allowed = {item.name for item in fields(cls)}
    unknown = set(values) - allowed - {"type"}
    if unknown:
        raise ConfigError(f"Rule {kind!r} has no field(s) {sorted(unknown)}.", hint=f"Fields: {sorted(allowed)}.")
    arguments = {key: value for key, value in values.items() if key in allowed}
    if cls is ExcludeItems:
        arguments["item_ids"] = tuple(arguments.get("item_ids", ()))
    if cls is NewArrivals:
        arguments["positions"] = tuple(arguments.get("positions", ()))
    return cls(**arguments)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class RuleSet:
    """Rules applied to one recommendation list; `enabled=False` switches all of them off."""

    rules: tuple[Rule, ...] = ()
    enabled: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))

    def active(self) -> tuple[Rule, ...]:
        return self.rules if self.enabled else ()

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "rules": [rule_to_dict(rule) for rule in self.rules]}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> RuleSet:
        return cls(
            rules=tuple(rule_from_dict(rule) for rule in values.get("rules", [])),
            enabled=bool(values.get("enabled", True)),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> RuleSet:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as error:
            raise ConfigError(f"Rules are not valid JSON: {error}.") from error

    def with_rule(self, rule: Rule) -> RuleSet:
        return RuleSet(self.rules + (rule,), self.enabled)


@dataclass
class RuledList:
    """The outcome of applying rules: the final positions and what each rule did."""

    positions: list[int]
    totals: dict[int, float]
    components: dict[int, np.ndarray]  # base weighted components per position
    rule_delta: dict[int, float]  # score change from boosts/buries
    notes: dict[int, list[str]] = field(default_factory=dict)
    removed: dict[int, str] = field(default_factory=dict)  # position -> why it cannot appear


ScoreFunction = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def apply_rules(
    rule_set: RuleSet,
    *,
    positions: np.ndarray,
    totals: np.ndarray,
    components: np.ndarray,
    k: int,
    catalog: Catalog,
    vectors: np.ndarray | None,
    score_positions: ScoreFunction,
    pool_of: Callable[[np.ndarray, int], np.ndarray],
) -> RuledList:
    """Apply the active rules to scored candidates and return the final top-k.

    Args:
        rule_set: the rules.
        positions, totals, components: candidates with their totals and weighted components.
        k: list length.
        catalog: item attributes for matching.
        vectors: item vectors for MMR similarity (category equality when None).
        score_positions: scores items that are not candidates (pins, promoted items).
        pool_of: best-scoring items of a mask (a category, new arrivals), beyond the candidates.
    """
    rules = rule_set.active()
    positions = np.asarray(positions, dtype=np.int64)
    result = RuledList([], {}, {}, {})
    notes = result.notes

    def note(position: int, text: str) -> None:
        notes.setdefault(position, []).append(text)

    # 1. filters (vectorised over the candidates)
    blocked_mask = np.zeros(catalog.size, dtype=bool)
    blocked: dict[int, str] = {}
    for rule in rules:
        if isinstance(rule, HideOutOfStock):
            blocked_mask |= ~catalog.in_stock
        elif isinstance(rule, ExcludeItems):
            for item_id in rule.item_ids:
                if item_id in catalog.positions:
                    blocked_mask[catalog.positions[item_id]] = True
                    blocked.setdefault(catalog.positions[item_id], "excluded by rule")
    for p in positions[blocked_mask[positions]]:
        blocked.setdefault(int(p), "hidden: out of stock")
    result.removed.update(blocked)

    # 2. boosts and buries (they change the score through the `rules` component)
    boosts = [(rule, rule.matches(catalog)) for rule in rules if isinstance(rule, BoostRule)]
    candidate_delta = np.zeros(len(positions))
    for rule, mask in boosts:
        candidate_delta[mask[positions]] += rule.amount
    alive = ~blocked_mask[positions]
    adjusted = np.asarray(totals, dtype=np.float64) + candidate_delta
    alive_rows = np.flatnonzero(alive)
    alive_rows = alive_rows[np.argsort(-adjusted[alive_rows], kind="stable")]
    # Only the head of the list can reach the top k, even after diversity or a minimum share.
    pool_rows = alive_rows[: max(3 * k, k + 50)]
    # Plain Python lists first: building dicts from numpy scalars one by one costs more than the rest.
    pool_positions = positions[pool_rows].tolist()
    base_totals = dict(zip(pool_positions, np.asarray(totals, dtype=np.float64)[pool_rows].tolist(), strict=True))
    base_components = dict(zip(pool_positions, components[pool_rows], strict=True))

    def ensure_scored(extra: np.ndarray) -> None:
        missing = np.array([p for p in extra if int(p) not in base_totals], dtype=np.int64)
        if missing.size:
            extra_totals, extra_components = score_positions(missing)
            for row, p in enumerate(missing):
                base_totals[int(p)] = float(extra_totals[row])
                base_components[int(p)] = extra_components[row]

    def boost_of(p: int) -> float:
        return float(sum(rule.amount for rule, mask in boosts if mask[p]))

    pool_delta = candidate_delta[pool_rows].tolist()
    delta = {p: value for p, value in zip(pool_positions, pool_delta, strict=True) if value}
    score = dict(zip(pool_positions, adjusted[pool_rows].tolist(), strict=True))
    order = list(pool_positions)

    # 3. diversity
    diversity = [rule for rule in rules if isinstance(rule, Diversity)]
    if diversity and diversity[-1].mmr_lambda < 1 and len(order) > 1:
        lam = diversity[-1].mmr_lambda
        pool = order[: max(3 * k, k + 20)]
        reranked = _mmr(pool, score, lam, catalog, vectors, k)
        for new_rank, p in enumerate(reranked[:k], start=1):
            old_rank = pool.index(p) + 1
            if old_rank != new_rank:
                note(p, f"diversity (MMR lambda {lam:.2f}): moved from {old_rank} to {new_rank}")
        order = reranked + [p for p in order if p not in set(reranked)]

    top = order[:k]

    def promote(mask: np.ndarray, needed: int, reason: str, slots: list[int] | None = None) -> None:
        """Put the best `needed` items of `mask` into `top`, into `slots` or over the lowest others."""
        nonlocal top
        in_list = set(top)
        promote = [p for p in order[k:] if mask[p] and p not in in_list][:needed]
        if len(promote) < needed:
            extra = [
                int(p)
                for p in pool_of(mask, needed + len(top) + len(blocked))
                if int(p) not in in_list and not blocked_mask[int(p)] and int(p) not in promote
            ]
            ensure_scored(np.array(extra, dtype=np.int64))
            for p in extra:
                delta[p] = boost_of(p)
                score.setdefault(p, base_totals[p] + delta[p])
            promote += extra[: needed - len(promote)]
        if slots is None:
            slots = [index for index in range(len(top) - 1, -1, -1) if not mask[top[index]]]
        for p, slot in zip(promote, slots, strict=False):
            if slot < len(top):
                result.removed.setdefault(top[slot], f"pushed out: {reason}")
                top[slot] = p
            else:
                top.append(p)
            note(p, f"promoted: {reason}")
        if len(top) < k:
            top += [p for p in promote if p not in top][: k - len(top)]

    # 4. minimum share of a promoted category, then of new arrivals (or their fixed positions)
    for rule in [rule for rule in rules if isinstance(rule, MinimumShare)]:
        mask = catalog.category_mask(rule.category)
        needed = math.ceil(rule.share * min(k, max(len(top), 1)))
        have = sum(1 for p in top if mask[p])
        if have < needed:
            promote(mask, needed - have, rule.describe())
    for rule in [rule for rule in rules if isinstance(rule, NewArrivals)]:
        mask = rule.matches(catalog)
        if rule.positions:
            wanted = [position - 1 for position in rule.positions if position <= k]
            free = [slot for slot in wanted if not (slot < len(top) and mask[top[slot]])]
            # New arrivals already elsewhere in the list move to the fixed positions first.
            movable = [p for index, p in enumerate(top) if mask[p] and index not in wanted]
            for slot, p in zip(free, movable, strict=False):
                top.remove(p)
                top.insert(min(slot, len(top)), p)
                note(p, f"moved: {rule.describe()}")
            free = [slot for slot in wanted if not (slot < len(top) and mask[top[slot]])]
            if free:
                promote(mask, len(free), rule.describe(), slots=free)
            continue
        needed = math.ceil(rule.share * min(k, max(len(top), 1)))
        have = sum(1 for p in top if mask[p])
        if have < needed:
            promote(mask, needed - have, rule.describe())

    # 5. pins
    for rule in sorted((rule for rule in rules if isinstance(rule, PinItem)), key=lambda r: r.position):
        p = catalog.positions.get(rule.item_id)
        if p is None:
            continue
        if blocked_mask[p]:
            continue
        if p in top:
            top.remove(p)
        ensure_scored(np.array([p], dtype=np.int64))
        delta[p] = boost_of(p)
        score.setdefault(p, base_totals[p] + delta[p])
        top.insert(min(rule.position, len(top) + 1) - 1, p)
        note(p, f"pinned at position {rule.position}")
        result.removed.pop(p, None)
    if len(top) > k:
        for p in top[k:]:
            result.removed.setdefault(p, "pushed out by a pinned item")
        top = top[:k]

    result.positions = top
    for p in top:
        boost_notes = [rule.describe() for rule, mask in boosts if mask[p]]
        if boost_notes:
            notes[p] = boost_notes + notes.get(p, [])
        result.totals[p] = score[p]
        result.components[p] = base_components[p]
        if delta.get(p):
            result.rule_delta[p] = delta[p]
    return result


def _mmr(
    pool: list[int],
    score: Mapping[int, float],
    lam: float,
    catalog: Catalog,
    vectors: np.ndarray | None,
    k: int,
) -> list[int]:
    """Maximal marginal relevance over `pool` (relevance scaled to [0, 1])."""
    relevance = np.array([score[p] for p in pool], dtype=np.float64)
    spread = relevance.max() - relevance.min()
    relevance = (relevance - relevance.min()) / spread if spread > 0 else np.ones_like(relevance)
    if vectors is not None:
        block = vectors[pool]
        similarity = block @ block.T
    else:
        cats = catalog.categories[pool]
        similarity = (cats[:, None] == cats[None, :]).astype(np.float64)
    chosen: list[int] = []
    remaining = list(range(len(pool)))
    while remaining and len(chosen) < k:
        if chosen:
            penalty = similarity[np.ix_(remaining, chosen)].max(axis=1)
        else:
            penalty = np.zeros(len(remaining))
        values = lam * relevance[remaining] - (1 - lam) * penalty
        best = remaining[int(np.argmax(values))]
        chosen.append(best)
        remaining.remove(best)
    return [pool[index] for index in chosen]
