"""Public results of the recommend package: frozen dataclasses, never string-keyed dicts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

_T = TypeVar("_T")


_new = object.__new__
_set = object.__setattr__
_new_list = list.__new__


def _frozen(cls: type[_T], fields: dict[str, Any]) -> _T:
    """An instance of a frozen dataclass whose fields are `fields` (all of them, in field order), without
    its __init__.

    The generated __init__ of a frozen dataclass sets each field through object.__setattr__ (4 times
    the cost of a plain one), and one customer's list builds about a hundred of the explanation's small
    records; the hot path uses this, every other caller the constructor. `fields` becomes the instance's
    __dict__ (one assignment, no copy), so the result is equal to the constructor's, and still frozen.
    """
    made = _new(cls)
    _set(made, "__dict__", fields)
    return made


@dataclass(frozen=True)
class BecauseItem:
    """An item of the user's own history that a recommendation is close to."""

    item_id: str
    similarity: float

    @classmethod
    def of(cls, item_id: str, similarity: float) -> BecauseItem:
        """The same as the constructor, faster (see `_frozen`)."""
        return _frozen(cls, {"item_id": item_id, "similarity": similarity})


@dataclass(frozen=True)
class BorrowedItem:
    """For a product nobody has bought yet: a product with interactions it borrows its collaborative
    signal and popularity from (its closest by catalog text), and the weight of that loan (cosine share x
    closeness; see `recengine.recommend.new_products`)."""

    item_id: str
    weight: float


@dataclass(frozen=True)
class Contribution:
    """One product of the customer's history and the part of a score component it produced.

    `amount` is in points of the recommendation's score: the amounts of one component (with its
    `unlisted` rest) add up to that component. Collaborative: `weight` is the product's confidence in
    the history vector and `link` its entry for the recommended product in the item-item matrix the
    scorer uses (co-occurrence or EASE). Semantic: `weight` is its coefficient in the interest vector
    that won (negative for a disliked product pushing the interest away) and `link` its cosine to the
    recommended product.
    """

    item_id: str
    amount: float
    weight: float
    link: float
    disliked: bool  # the customer's affinity to it is negative (low rating or negative review)
    action: str  # what the customer did with it: "rated 2 stars", "bought", "viewed", ...

    @classmethod
    def of(cls, item_id: str, amount: float, weight: float, link: float, disliked: bool, action: str) -> Contribution:
        """The same as the constructor, faster (see `_frozen`)."""
        return _frozen(cls, {"item_id": item_id, "amount": amount, "weight": weight, "link": link, "disliked": disliked,
                             "action": action})

    @classmethod
    def many(
        cls, item_ids: Iterable[str], amounts: Iterable[float], weights: Iterable[float], links: Iterable[float],
        disliked: Iterable[bool], actions: Iterable[str],
    ) -> list[Contribution]:
        """`of` for each of the fields' values, in order (a chunk's contributions at once)."""
        return [
            _frozen(cls, {"item_id": item_id, "amount": amount, "weight": weight, "link": link, "disliked": dislike,
                          "action": action})
            for item_id, amount, weight, link, dislike, action in zip(
                item_ids, amounts, weights, links, disliked, actions, strict=True
            )
        ]


@dataclass(frozen=True)
class ComponentAttribution:
    """A personal score component (collaborative or semantic) split over the history products behind it.

    `contributions` are the largest first (by size), listed until they account for nearly all of the
    component (at most `attribution.MAX_CONTRIBUTIONS`); `unlisted` is the sum of the rest, so
    `sum(amounts) + unlisted == value` up to rounding. Typed interests have no history product: their
    semantic part is all `unlisted`.
    """

    component: str  # "collaborative" or "semantic"
    value: float  # the weighted component, as in `Explanation.components`
    source: str  # "co-occurrence", "EASE", "interest 1 of 2", "the interests typed for this customer"
    contributions: list[Contribution] = field(default_factory=list)
    unlisted: float = 0.0
    interest: int | None = None  # semantic: 0-based index of the interest vector that won

    @classmethod
    def of(
        cls, component: str, value: float, source: str, contributions: list[Contribution], unlisted: float,
        interest: int | None = None,
    ) -> ComponentAttribution:
        """The same as the constructor, faster (see `_frozen`)."""
        return _frozen(cls, {"component": component, "value": value, "source": source, "contributions": contributions,
                             "unlisted": unlisted, "interest": interest})

    @property
    def listed(self) -> float:
        """The sum of the listed contributions."""
        return sum(entry.amount for entry in self.contributions)

    @property
    def coverage(self) -> float:
        """How much of the component the listed contributions account for, in [0, 1] (1 when zero)."""
        if not self.value:
            return 1.0
        return max(0.0, 1.0 - abs(self.value - self.listed) / abs(self.value))


class AttributionList(list):  # type: ignore[type-arg]
    """`Explanation.attribution` as the recommender makes it: a list of `ComponentAttribution` like any
    other, which also carries its JSON text as the export writes it (`json_text`), formatted with those
    of the whole chunk of lists at once (`attribution.history_links_of_lists`). A list made any other
    way has none, and `json_lines` formats it. The text is a cache of the list as made (results are
    read, not edited): copies and pickles leave it behind, whoever renders them formats the records.
    """

    __slots__ = ("json_text",)

    def __init__(self, entries: Iterable[ComponentAttribution] = (), json_text: str | None = None) -> None:
        super().__init__(entries)
        self.json_text = json_text

    @classmethod
    def of(cls, entries: list[ComponentAttribution], json_text: str) -> AttributionList:
        """The same as the constructor, faster (no Python __init__; one per recommendation)."""
        made = _new_list(cls)
        made.extend(entries)
        made.json_text = json_text
        return made

    def __reduce__(self) -> tuple[type[AttributionList], tuple[list[ComponentAttribution]]]:
        return AttributionList, (list(self),)


@dataclass(frozen=True)
class Explanation:
    """Why an item was recommended. `components` add up to the recommendation's score; `attribution`
    splits the personal components over the history products that produced them."""

    components: dict[str, float]
    because: list[BecauseItem] = field(default_factory=list)
    shared_keywords: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    reason: str = ""
    attribution: list[ComponentAttribution] = field(default_factory=list)
    borrowed_from: list[BorrowedItem] = field(default_factory=list)  # set only for products nobody has bought

    @classmethod
    def of(
        cls, components: dict[str, float], because: list[BecauseItem], shared_keywords: list[str], rules: list[str],
        reason: str, attribution: list[ComponentAttribution], borrowed_from: list[BorrowedItem],
    ) -> Explanation:
        """The same as the constructor, faster (see `_frozen`; one per recommendation)."""
        return _frozen(cls, {"components": components, "because": because, "shared_keywords": shared_keywords,
                             "rules": rules, "reason": reason, "attribution": attribution,
                             "borrowed_from": borrowed_from})

    def attribution_of(self, component: str) -> ComponentAttribution | None:
        """The attribution of one component, None when it contributed nothing."""
        return next((entry for entry in self.attribution if entry.component == component), None)


@dataclass(frozen=True)
class Recommendation:
    """One recommended item at 1-based `rank` with its score and explanation."""

    item_id: str
    rank: int
    score: float
    explanation: Explanation

    @classmethod
    def of(cls, item_id: str, rank: int, score: float, explanation: Explanation) -> Recommendation:
        """The same as the constructor, faster (see `_frozen`)."""
        return _frozen(cls, {"item_id": item_id, "rank": rank, "score": score, "explanation": explanation})

    def to_dict(self, *, attribution: bool = True) -> dict[str, object]:
        """The JSON shape of DESIGN.md (same as dataclasses.asdict, several times faster for exports).

        Args:
            attribution: False leaves `attribution` an empty list (`json_lines` writes its text apart).
        """
        explanation = self.explanation
        return {
            "item_id": self.item_id,
            "rank": self.rank,
            "score": self.score,
            "explanation": {
                "components": dict(explanation.components),
                "because": [{"item_id": entry.item_id, "similarity": entry.similarity} for entry in explanation.because],
                "shared_keywords": list(explanation.shared_keywords),
                "rules": list(explanation.rules),
                "reason": explanation.reason,
                "attribution": [attribution_dict(entry) for entry in explanation.attribution] if attribution else [],
                "borrowed_from": [{"item_id": entry.item_id, "weight": entry.weight} for entry in explanation.borrowed_from],
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Recommendation:
        """The inverse of `to_dict` (batch results cross process boundaries as JSON, never pickle)."""
        explanation: dict[str, object] = data["explanation"]  # type: ignore[assignment]
        return cls(
            item_id=str(data["item_id"]),
            rank=int(data["rank"]),  # type: ignore[call-overload]
            score=float(data["score"]),  # type: ignore[arg-type]
            explanation=Explanation(
                components={str(name): float(value) for name, value in explanation["components"].items()},  # type: ignore[attr-defined]
                because=[
                    BecauseItem(str(entry["item_id"]), float(entry["similarity"]))
                    for entry in explanation["because"]  # type: ignore[attr-defined]
                ],
                shared_keywords=[str(phrase) for phrase in explanation["shared_keywords"]],  # type: ignore[attr-defined]
                rules=[str(rule) for rule in explanation["rules"]],  # type: ignore[attr-defined]
                reason=str(explanation["reason"]),
                attribution=[
                    attribution_from_dict(entry) for entry in explanation.get("attribution", [])  # type: ignore[attr-defined]
                ],
                borrowed_from=[
                    BorrowedItem(str(entry["item_id"]), float(entry["weight"]))
                    for entry in explanation.get("borrowed_from", [])  # type: ignore[attr-defined]
                ],
            ),
        )


def attribution_dict(attribution: ComponentAttribution) -> dict[str, object]:
    """The JSON shape of one component's attribution (as dataclasses.asdict, without its overhead).

    A record's fields are its `__dict__`, in field order whichever way it was built (constructor or
    `_frozen`), so copies of them are its JSON objects: the export's cheapest way to them.
    """
    return {**attribution.__dict__,
            "contributions": [entry.__dict__.copy() for entry in attribution.contributions]}


def attribution_from_dict(data: dict[str, Any]) -> ComponentAttribution:
    """The inverse of `attribution_dict`."""
    return ComponentAttribution(
        component=str(data["component"]),
        value=float(data["value"]),
        source=str(data["source"]),
        contributions=[
            Contribution(
                str(entry["item_id"]), float(entry["amount"]), float(entry["weight"]), float(entry["link"]),
                bool(entry["disliked"]), str(entry["action"]),
            )
            for entry in data["contributions"]
        ],
        unlisted=float(data["unlisted"]),
        interest=None if data["interest"] is None else int(data["interest"]),
    )


@dataclass(frozen=True)
class WhyNot:
    """Where an item ranks for a user and what held it back ("why not this product?")."""

    item_id: str
    rank: int | None  # 1-based rank among all rankable items; None when a rule or filter removes it
    ranked_items: int
    score: float
    components: dict[str, float]
    cutoff_score: float  # score of the last item that made the list
    held_back_by: str  # a component name, a rule, "already seen" or "" when it is in the list
    gaps: dict[str, float]  # per component: this item's value minus the cutoff item's value
    rules: list[str]
    reason: str
    attribution: list[ComponentAttribution] = field(default_factory=list)  # what the item's personal parts come from


@dataclass(frozen=True)
class ProfileSummary:
    """What a user's history says about them, for the dashboard."""

    user_id: str
    history_items: int
    reviews: int
    average_rating: float | None
    top_categories: list[tuple[str, float]]  # (category, share of history weight)
    top_brands: list[tuple[str, float]]
    price_band: tuple[float, float, float] | None  # (low, median, high) of the prices paid/viewed
    interests: int  # number of interest vectors
    disliked_items: int
    favourite_aspects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SimilarItem:
    """An item similar to another, with its content and collaborative parts."""

    item_id: str
    rank: int
    score: float
    content: float
    collaborative: float


@dataclass(frozen=True)
class SearchResult:
    """A search hit: `score = query + personal`."""

    item_id: str
    rank: int
    score: float
    query: float
    personal: float


@dataclass(frozen=True)
class BundleItem:
    """One item added to a bundle and why.

    `score` = co_occurrence + complementary + popularity + diversity (the category-repeat penalty,
    zero or negative).
    """

    item_id: str
    score: float
    co_occurrence: float
    complementary: float
    price: float | None
    reason: str
    popularity: float = 0.0
    diversity: float = 0.0


@dataclass(frozen=True)
class Bundle:
    """Frequently-bought-together / complete-the-set suggestion for an item or a user."""

    anchor_item_ids: list[str]
    items: list[BundleItem]
    total_price: float | None
    budget: float | None
