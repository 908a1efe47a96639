"""Explanations: score components, the closest history items, shared keywords, rules, one sentence.

The sentence is assembled only from facts computed here (titles, similarities, ratings, counts, rule
descriptions); nothing is invented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from recengine.recommend.attribution import ListToExplain, history_links_of_lists
from recengine.recommend.catalog import Catalog
from recengine.recommend.new_products import BorrowedSignal
from recengine.recommend.profile import UserProfile
from recengine.recommend.results import (
    BecauseItem,
    BorrowedItem,
    ComponentAttribution,
    Contribution,
    Explanation,
)
from recengine.recommend.scoring import COMPONENTS, RULES_COMPONENT

MAX_BECAUSE = 3
MAX_KEYWORDS = 5


@dataclass(frozen=True)
class ExplainContext:
    """What explanations need from the fitted model (shared by every item of one request)."""

    catalog: Catalog
    vectors: np.ndarray | None
    similarity: sparse.csr_matrix  # co-occurrence: the closest items when the catalog has no vectors
    collaborative: sparse.csr_matrix  # what the collaborative component scores with (attribution reads it)
    collaborative_method: str  # "co-occurrence" or "EASE"
    keywords: Mapping[str, Sequence[str]]
    customers: np.ndarray
    stars: np.ndarray
    rating_count: np.ndarray
    has_vector: np.ndarray  # bool per item: False for items without an embedding
    # Products nobody has bought yet and the products they borrow from (new_products.py).
    borrowed: BorrowedSignal | None = None
    # Found once per product (an export asks for the same products thousands of times):
    borrowed_items: dict[int, tuple[BorrowedItem, ...]] = field(default_factory=dict, repr=False, compare=False)
    lowered_keywords: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)
    short_titles: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def keyword_set(self, item_id: str) -> frozenset[str]:
        """A product's key phrases, lower case (cached)."""
        if (found := self.lowered_keywords.get(item_id)) is None:
            found = self.lowered_keywords[item_id] = frozenset(phrase.lower() for phrase in self.keywords.get(item_id, ()))
        return found

    def short_title(self, item_id: str) -> str:
        """`short_title` of a product (cached)."""
        if (found := self.short_titles.get(item_id)) is None:
            found = self.short_titles[item_id] = short_title(self.catalog, item_id)
        return found


def components_dict(components: np.ndarray, rule_delta: float) -> dict[str, float]:
    """Named weighted components (rounded); `rules` appears only when a boost or bury applied."""
    return components_dicts(np.asarray(components)[None, :], [rule_delta])[0]


def components_dicts(components: np.ndarray, rule_deltas: Sequence[float]) -> list[dict[str, float]]:
    """`components_dict` of each row of `components` (a list's products), rounded all at once.

    numpy's rounding (x 10^6, to the nearest integer, / 10^6) is the attribution's (its entries' values
    are these components); on the components it gives the numbers Python's round() does (no difference
    in 3 million random values).
    """
    rows = np.round(np.asarray(components, dtype=np.float64).reshape(-1, len(COMPONENTS)), 6).tolist()
    deltas = np.round(np.asarray(rule_deltas, dtype=np.float64), 6).tolist()
    named = []
    for row, raw_delta, delta in zip(rows, rule_deltas, deltas, strict=True):
        entry = dict(zip(COMPONENTS, row, strict=True))
        if raw_delta:
            entry[RULES_COMPONENT] = delta
        named.append(entry)
    return named


def closest_history(position: int, profile: UserProfile, context: ExplainContext) -> list[BecauseItem]:
    """1-3 liked history items closest to `position` (content cosine; co-occurrence without vectors).

    One product alone; a list's are computed together by `list_links`.
    """
    liked = profile.history.liked
    if liked.size == 0:
        return []
    if context.vectors is not None and context.has_vector[position]:
        similarity = context.vectors[liked] @ context.vectors[position]
    else:
        similarity = np.asarray(context.similarity[liked][:, position].todense()).ravel()
    order = np.argsort(-similarity, kind="stable")[:MAX_BECAUSE]
    values = similarity[order].tolist()
    keep = [row for row, value in enumerate(values) if value > 0] or [0]
    chosen = liked[order].tolist()
    item_ids = context.catalog.item_ids
    return [BecauseItem(item_ids[chosen[row]], round(values[row], 4)) for row in keep]


def shared_keywords(item_id: str, because: Sequence[BecauseItem], context: ExplainContext) -> list[str]:
    """Key phrases of the recommended item's reviews that also appear for the `because` items."""
    own = context.keywords.get(item_id, ())
    if not own or not because:
        return []
    theirs = frozenset().union(*(context.keyword_set(entry.item_id) for entry in because))
    return [phrase for phrase in own if phrase.lower() in theirs][:MAX_KEYWORDS]


@dataclass(frozen=True)
class ListLinks:
    """What the explanations of one list share, computed once for all its products."""

    attribution: list[list[ComponentAttribution]]  # per product: its split personal components
    because: list[list[BecauseItem] | None]  # per product: closest liked history items (None: look up alone)


def list_links(
    positions: Sequence[int], components: np.ndarray, profile: UserProfile, context: ExplainContext
) -> ListLinks:
    """Attributions and closest history items of a list of products with their components, vectorised
    over the list (one matrix product and one sort instead of one per product)."""
    return lists_links([ListToExplain(positions, components, profile)], context)[0]


def lists_links(lists: Sequence[ListToExplain], context: ExplainContext) -> list[ListLinks]:
    """`list_links` of many lists (a chunk of a batch export), their attributions split together."""
    found = history_links_of_lists(
        lists, collaborative=context.collaborative, vectors=context.vectors, catalog=context.catalog,
        method=context.collaborative_method,
    )
    return [
        ListLinks(links.attribution, _closest_lists(item.positions, links.cosines, item.profile, context))
        for item, links in zip(lists, found, strict=True)
    ]


def _closest_lists(
    positions: Sequence[int], cosines: np.ndarray | None, profile: UserProfile, context: ExplainContext
) -> list[list[BecauseItem] | None]:
    """`closest_history` of every listed product from the (history, k) cosines; None where a product
    has no vector (its closest items come from co-occurrence, looked up alone)."""
    liked = profile.history.liked
    if liked.size == 0:
        return [[] for _ in positions]
    if cosines is None:
        return [None for _ in positions]
    similarity = cosines[profile.history.affinity > 0]
    order = np.argsort(-similarity, axis=0, kind="stable")[:MAX_BECAUSE]
    closest = similarity[order, np.arange(len(positions))].T
    values = closest.tolist()
    shown = np.round(closest.astype(np.float64), 4).tolist()  # for all of them at once: what round() gives
    chosen = liked[order].T.tolist()
    item_ids, has_vector = context.catalog.item_ids, context.has_vector
    found: list[list[BecauseItem] | None] = []
    for column, position in enumerate(positions):
        if not has_vector[position]:
            found.append(None)
            continue
        column_values, column_items = values[column], chosen[column]
        keep = [row for row, value in enumerate(column_values) if value > 0] or [0]
        found.append([BecauseItem.of(item_ids[column_items[row]], shown[column][row]) for row in keep])
    return found


def explain(
    position: int,
    *,
    components: np.ndarray,
    rule_delta: float,
    rule_notes: Sequence[str],
    profile: UserProfile,
    context: ExplainContext,
    links: ListLinks | None = None,
    column: int = 0,
    named: dict[str, float] | None = None,
) -> Explanation:
    """The explanation of one recommended item for one user.

    `links` may carry `list_links` of the whole list (computed once), `column` this item's column in
    it; without them they are computed for this item alone. `named` may carry the components as
    `components_dict` names them (`components_dicts` of the whole list).
    """
    if links is None:
        links, column = list_links([position], np.asarray(components)[None, :], profile, context), 0
    catalog = context.catalog
    item_id = catalog.item_ids[position]
    if named is None:
        named = components_dict(components, rule_delta)
    because = links.because[column]
    if because is None:
        because = closest_history(position, profile, context)
    attribution = links.attribution[column]
    phrases = shared_keywords(item_id, because, context)
    borrowed_from = borrowed_sources(position, context)
    reason = _reason(position, named, attribution, phrases, list(rule_notes), profile, context, borrowed_from)
    return Explanation.of(named, because, phrases, list(rule_notes), reason, attribution, borrowed_from)


def borrowed_sources(position: int, context: ExplainContext) -> list[BorrowedItem]:
    """The products a product nobody has bought borrows from, largest loan first (empty for the others)."""
    borrowed = context.borrowed
    if borrowed is None:
        return []
    if (found := context.borrowed_items.get(position)) is None:
        item_ids = context.catalog.item_ids
        found = context.borrowed_items[position] = tuple(
            BorrowedItem(item_ids[source], round(weight, 4)) for source, weight in borrowed.sources(position)
        ) if borrowed.is_new(position) else ()
    return list(found)


def _new_product_clause(borrowed_from: Sequence[BorrowedItem], context: ExplainContext) -> str:
    """'New: nobody has bought it yet; its description is close to 'X' and 'Y', whose signals it borrows'."""
    named = " and ".join(f"'{context.short_title(entry.item_id)}'" for entry in borrowed_from[:2])
    return f"New: nobody has bought it yet; its description is close to {named}, whose customer signals it borrows"


def short_title(catalog: Catalog, item_id: str) -> str:
    """A product's title as reasons quote it (the id when it has none; at most 60 characters)."""
    title = str(catalog.titles[catalog.positions[item_id]]).strip() or item_id
    return title if len(title) <= 60 else title[:57] + "..."


def _what_user_did(profile: UserProfile, contribution: Contribution) -> str:
    who = profile.user_id or "this customer"
    return f"which {who} {contribution.action}" + (" (disliked)" if contribution.disliked else "")


def _personal_part(
    attribution: ComponentAttribution, profile: UserProfile, context: ExplainContext, lead: bool,
    new_product: bool = False,
) -> str:
    """The clause naming the history product with the largest part of a component ('' when none is)."""
    for top in attribution.contributions:  # largest first: nearly always the first one
        if top.amount > 0:
            break
    else:
        return ""
    title = context.short_title(top.item_id)
    did = _what_user_did(profile, top)
    share = f" ({top.amount:.2f} of the {attribution.value:.2f} {attribution.component} score)"
    if attribution.component == "collaborative" and new_product:
        # Nobody chose the new product itself: its history link runs through the products it borrows from.
        return f"customers who chose '{title}', {did}, chose products like it{share}"
    if attribution.component == "collaborative" and top.disliked:
        # Said outright: the customer disliked it, yet it is what drives the collaborative part.
        opening = "Customers who chose" if lead else "also, customers who chose"
        return f"{opening} '{title}', {did}, also chose this{share}"
    if attribution.component == "collaborative":
        opening = "Often chosen together with" if lead else "also often chosen together with"
        return f"{opening} '{title}', {did}{share}"
    if top.weight < 0:
        # A disliked product pushes the interest away from itself: the item scores for being unlike it.
        opening = "Unlike" if lead else "also unlike"
    else:
        opening = "Close to" if lead else "also close to"
    return f"{opening} '{title}' ({top.link:.2f}), {did}{share}"


def _reason(
    position: int,
    named: Mapping[str, float],
    attribution: Sequence[ComponentAttribution],
    phrases: Sequence[str],
    rule_notes: Sequence[str],
    profile: UserProfile,
    context: ExplainContext,
    borrowed_from: Sequence[BorrowedItem] = (),
) -> str:
    """One sentence from the largest parts of the score: the leading component's largest history
    product, and the largest personal one when a catalog-wide signal leads. Never a part that is 0."""
    dominant = max(COMPONENTS, key=named.__getitem__)  # the first of equals, as COMPONENTS orders them
    if named[dominant] <= 0:
        dominant = ""
    personal = {entry.component: entry for entry in attribution if entry.value > 0}
    new_product = bool(borrowed_from)
    parts: list[str] = []
    if new_product:
        parts.append(_new_product_clause(borrowed_from, context))
    if profile.source == "text" and dominant == "semantic":
        parts.append(f"Matches the interests typed for this customer (semantic {named['semantic']:.2f})")
    elif dominant in personal and (
        clause := _personal_part(personal[dominant], profile, context, lead=not new_product, new_product=new_product)
    ):
        parts.append(clause)
        personal = {}  # a history product is named already
    elif dominant == "semantic":
        parts.append(f"Matches this customer's interests (semantic {named['semantic']:.2f})")
    elif dominant == "popularity" and new_product:
        parts.append(f"products like it are popular (popularity {named['popularity']:.2f}, borrowed)")
    elif dominant == "popularity":
        count = int(round(context.customers[position]))
        parts.append(f"Popular: {count} customer{'s' if count != 1 else ''} chose it")
    elif dominant == "quality":
        parts.append(
            f"Well rated: {context.stars[position]:.1f} stars on average over "
            f"{int(context.rating_count[position])} reviews"
        )
    elif dominant == "recency":
        parts.append("Trending: many customers chose it recently")
    else:
        parts.append("Recommended from the catalog's overall signals")
    # A history product that moved the score is named even when a catalog-wide signal leads.
    for entry in personal.values():
        if clause := _personal_part(entry, profile, context, lead=False, new_product=new_product):
            parts.append(clause)
            break
    if profile.history.size == 0 and profile.source != "text":
        parts.append("this customer has no history yet")
    if phrases:
        quoted = " and ".join(f"'{phrase}'" for phrase in phrases[:2])
        parts.append(f"reviewers of both mention {quoted}")
    if rule_notes:
        parts.append("rules: " + ", ".join(rule_notes))
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def held_back_clause(component: str, attribution: Sequence[ComponentAttribution], profile: UserProfile,
                     catalog: Catalog) -> str:
    """For "why not X?": where the personal component that held X back comes from, or that nothing fed it."""
    who = profile.user_id or "this customer"
    entry = next((found for found in attribution if found.component == component), None)
    top = next((found for found in entry.contributions if found.amount > 0), None) if entry else None
    if entry is not None and top is not None:
        return (f"the largest part of its {component} score ({top.amount:.3f} of {entry.value:.3f}) comes from "
                f"'{short_title(catalog, top.item_id)}', {_what_user_did(profile, top)}")
    if component == "collaborative":
        return f"no product of {who}'s history is chosen together with it"
    return f"it matches none of {who}'s interests"
