"""The demo catalog: products with names, brands, prices, stock and descriptions, plus hidden truth.

Every product belongs to one leaf of the category tree. Its brand fixes its price tier, its
description is composed from the leaf's feature sentences with slot values drawn per product, and it
has a hidden popularity and quality that drive what users buy and how they rate it. Each product also
gets up to two companions from complementary leaves (grinder -> beans): the co-purchase structure.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

from recengine.demo.sampling import weighted_sample
from recengine.demo.vocabulary import (
    CATEGORIES,
    COMPLEMENTS,
    GENRE_BLURBS,
    TIER_NAMES,
    Brand,
    CategorySpec,
    ProductType,
)

_FORMATTER = string.Formatter()
_NAME_SUFFIXES = ("II", "Pro", "Max", "Lite", "S", "X", "Plus", "Air", "2", "3", "Mini", "Ultra")
_USE_SENTENCES = ("Ideal for {use}.", "A great choice for {use}.", "Made for {use}.", "Perfect for {use}.")
_OUT_OF_STOCK_RATE = 0.08
_LEMON_RATE = 0.12
_BASE_GAMES, _EXPANSIONS = "Strategy Games", "Game Expansions"
# Where in the leaf's log-price range each tier sits (budget low, premium high, overlapping a little).
_TIER_PRICE_BANDS = ((0.0, 0.42), (0.3, 0.72), (0.62, 1.0))


@dataclass(frozen=True)
class Leaf:
    """A product type together with its category, as generation sees it."""

    index: int
    category: CategorySpec
    kind: ProductType

    @property
    def key(self) -> tuple[str, str]:
        return (self.category.key, self.kind.leaf)

    @property
    def path(self) -> str:
        return f"{self.category.path} > {self.kind.leaf}"


@dataclass
class Product:
    item_id: str
    title: str
    description: str
    brand: str
    category: str
    price: float
    stock: int
    tags: str
    leaf: int
    tier: int
    brand_index: int  # index into all_brands()
    popularity: float
    quality: float
    short: str
    companions: list[int]


def all_leaves() -> list[Leaf]:
    leaves: list[Leaf] = []
    for category in CATEGORIES:
        for kind in category.types:
            leaves.append(Leaf(len(leaves), category, kind))
    return leaves


def all_brands() -> list[tuple[str, Brand]]:
    """(category key, brand) for every brand; a brand name may appear in one category only."""
    return [(category.key, brand) for category in CATEGORIES for brand in category.brands]


def _pick(rng: np.random.Generator, values: tuple[str, ...] | list[str]) -> str:
    return values[int(rng.integers(len(values)))]


def _article(word: str) -> str:
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def _lower_words(text: str) -> str:
    """Lower-case ordinary capitalised words, keeping acronyms such as ANC or LED."""
    return " ".join(
        word if word[1:] != word[1:].lower() and "-" not in word else word.lower() for word in text.split()
    )


def _round_price(value: float) -> float:
    # Shop prices end in .99 / .49 below 100 and in 9.00 / 4.99 above: realistic, and stable to print.
    if value < 20:
        return round(np.floor(value) + 0.99, 2)
    if value < 100:
        return round(np.floor(value) + (0.49 if value % 1 < 0.5 else 0.99), 2)
    return round(np.floor(value / 5) * 5 + 4.99, 2)


def _slot_values(rng: np.random.Generator, category: CategorySpec, leaf: Leaf, noun: str) -> dict[str, str]:
    values = {name: _pick(rng, options) for name, options in category.slots.items()}
    for name, options in category.extra.items():
        values[name] = _pick(rng, options)
    # Derived slots: lower-/title-case variants and composites that some templates use.
    values["noun_lower"] = noun.lower()
    if "roast" in values:
        values["roast_lower"] = values["roast"].lower()
    if "instrument" in values:
        values["instrument_title"] = values["instrument"].title()
    if "songbook_genre" in values:
        values["songbook_genre_lower"] = values["songbook_genre"].lower()
    if category.key == "vinyl":
        if rng.random() < 0.45:
            values["artist"] = f"The {values['band_adj']} {values['band_noun']}"
        else:
            values["artist"] = f"{values['artist_first']} {values['artist_last']}"
        values["album"] = f"{values['album_a']} {values['album_b']}"
        values["genre_blurb"] = _pick(rng, GENRE_BLURBS[leaf.kind.leaf])
    return values


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in _FORMATTER.parse(template) if name]


def _make_product(
    rng: np.random.Generator,
    leaf: Leaf,
    item_id: str,
    taken_names: set[str],
    brand_lookup: dict[str, int],
    base_games: list[Product],
) -> Product:
    category, kind = leaf.category, leaf.kind
    brands = [brand for brand in category.brands if not kind.brands or brand.name in kind.brands]
    brand = brands[int(rng.integers(len(brands)))]
    noun, short = kind.nouns[int(rng.integers(len(kind.nouns)))]
    values = _slot_values(rng, category, leaf, noun)
    if kind.leaf == _EXPANSIONS and base_games:
        # An expansion belongs to a strategy game of the catalog, from the same publisher.
        base = base_games[int(rng.integers(len(base_games)))]
        values["game_a"], values["game_b"] = base.title.split(" ", 1)
        brand = next(b for b in category.brands if b.name == base.brand)
    series = _pick(rng, category.series)
    values.update(
        brand=brand.name,
        series=series,
        noun=noun,
        short=short,
        tier=TIER_NAMES[brand.tier],
        thing=_lower_words(noun) if noun else short,
    )

    title = " ".join(kind.name_pattern.format_map(values).split())
    if title in taken_names:
        for suffix in _NAME_SUFFIXES:
            if f"{title} {suffix}" not in taken_names:
                title = f"{title} {suffix}"
                break
        else:
            title = f"{title} {item_id[-3:]}"
    taken_names.add(title)
    values["name"] = title

    thing = values["thing"]
    adjectives = [word for word in category.adjectives if word not in thing] or list(category.adjectives)
    adjective = _pick(rng, adjectives)
    # "a pair of" for plural nouns (headphones, speakers, shorts) so the sentence stays grammatical.
    plural = thing.endswith("s") and not thing.endswith("ss")
    described = f"a pair of {adjective} {thing}" if plural else f"{_article(adjective)} {thing}"
    values.update(adjective=adjective, a_adjective=_article(adjective), described=described)
    sentences = [_pick(rng, category.intros).format_map(values)]
    count = min(len(kind.features), int(rng.integers(2, 5)))
    chosen = sorted(rng.choice(len(kind.features), size=count, replace=False).tolist())
    tags: list[str] = []
    for index in chosen:
        template = kind.features[index]
        sentences.append(template.format_map(values))
        tags.extend(values[name] for name in _fields(template) if name in category.slots)
    sentences.append(_pick(rng, _USE_SENTENCES).format(use=_pick(rng, kind.uses)))
    description = " ".join(sentence[0].upper() + sentence[1:] for sentence in sentences)
    description = description.replace("..", ".")  # a name ending in "Co." closing a sentence

    low, high = np.log(kind.price[0]), np.log(kind.price[1])
    band_low, band_high = _TIER_PRICE_BANDS[brand.tier]
    position = rng.uniform(band_low, band_high)
    price = _round_price(float(np.exp(low + (high - low) * position)))
    in_stock = rng.random() >= _OUT_OF_STOCK_RATE
    stock = int(rng.integers(1, 120)) if in_stock else 0

    return Product(
        item_id=item_id,
        title=title,
        description=description,
        brand=brand.name,
        category=leaf.path,
        price=price,
        stock=stock,
        tags="; ".join(dict.fromkeys(tags)),
        leaf=leaf.index,
        tier=brand.tier,
        brand_index=brand_lookup[f"{category.key}/{brand.name}"],
        popularity=float(rng.lognormal(0.0, 1.0)),
        # A few lemons: products most buyers regret, the source of most one-star reviews.
        quality=float(rng.normal(-3.3, 0.6) if rng.random() < _LEMON_RATE else rng.normal(0.25, 0.85)),
        short=short,
        companions=[],
    )


def build_catalog(rng: np.random.Generator, n_products: int) -> tuple[list[Leaf], list[Product]]:
    """Products spread evenly over categories, then over each category's leaves."""
    leaves = all_leaves()
    brand_lookup = {f"{key}/{brand.name}": index for index, (key, brand) in enumerate(all_brands())}
    per_category = np.full(len(CATEGORIES), n_products // len(CATEGORIES))
    per_category[: n_products % len(CATEGORIES)] += 1

    products: list[Product] = []
    taken_names: set[str] = set()
    leaf_offset = 0
    for category, count in zip(CATEGORIES, per_category, strict=True):
        category_leaves = leaves[leaf_offset : leaf_offset + len(category.types)]
        leaf_offset += len(category.types)
        for position in range(int(count)):
            leaf = category_leaves[position % len(category_leaves)]
            item_id = f"{category.sku_prefix}-{1001 + position:05d}"
            base_games = [p for p in products if p.category.endswith(f"> {_BASE_GAMES}")]
            product = _make_product(rng, leaf, item_id, taken_names, brand_lookup, base_games)
            products.append(product)
    _link_companions(rng, leaves, products)
    return leaves, products


def _same_game(first: str, second: str) -> bool:
    """An expansion and its base game ('Ember Peaks: Lost Relics Expansion' and 'Ember Peaks')."""
    return first.startswith(second + ":") or second.startswith(first + ":")


def products_by_leaf(leaves: list[Leaf], products: list[Product]) -> list[np.ndarray]:
    members: list[list[int]] = [[] for _ in leaves]
    for index, product in enumerate(products):
        members[product.leaf].append(index)
    return [np.asarray(indices, dtype=np.int64) for indices in members]


def _link_companions(rng: np.random.Generator, leaves: list[Leaf], products: list[Product]) -> None:
    """Give each product up to two companions from complementary leaves, similar in price tier."""
    by_key = {leaf.key: leaf.index for leaf in leaves}
    members = products_by_leaf(leaves, products)
    for product in products:
        targets = COMPLEMENTS.get(leaves[product.leaf].key, ())
        candidates = np.concatenate(
            [members[by_key[target]] for target in targets if target in by_key] or [np.empty(0, np.int64)]
        )
        if candidates.size == 0:
            continue
        weights = np.array(
            [
                products[c].popularity
                * np.exp(-1.2 * abs(products[c].tier - product.tier))
                * (1.6 if products[c].brand == product.brand else 1.0)
                * (50.0 if _same_game(products[c].title, product.title) else 1.0)
                for c in candidates
            ]
        )
        size = min(2, candidates.size)
        product.companions = [int(candidates[index]) for index in weighted_sample(rng, weights, size)]
