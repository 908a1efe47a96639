"""Demo customers with coherent tastes, and what they buy over two years.

A user has one to three favourite categories (with a preference over each category's leaves), a
price band and a few favourite brands. Each purchase picks a category from those tastes (rarely one
outside them), a leaf, then a product by popularity, brand affinity and price fit. A purchase often
brings a companion product along (grinder -> beans, tent -> sleeping bag), and consumables are bought
again. So a user's later purchases follow from their earlier ones, which is what a recommender can
learn from this data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recengine.demo.catalog import Leaf, Product, all_brands, products_by_leaf
from recengine.demo.sampling import pick, weighted_index, weighted_sample
from recengine.demo.vocabulary import CATEGORIES, FIRST_NAMES, LAST_INITIALS

# How popular each category is among shoppers (a user's favourites are drawn with these weights).
_CATEGORY_APPEAL = np.array([1.4, 1.0, 1.3, 1.0, 1.1, 0.9, 0.7, 0.8, 1.2, 0.8])
_EXPLORE_RATE = 0.07  # share of purchases outside the user's favourite categories
_COMPANION_RATE = 0.35  # a purchase brings one of its companions along
_REBUY_RATE = 0.45  # a consumable leaf the user already buys: buy the same product again
_DAY = 86_400.0
_FAVOURITE_COUNT_WEIGHTS = np.array([0.3, 0.45, 0.25])
_PRICE_BAND_WEIGHTS = np.array([0.35, 0.45, 0.2])


@dataclass
class User:
    user_id: str
    name: str
    joined: float  # unix seconds
    categories: np.ndarray  # category indices
    category_weights: np.ndarray
    leaf_weights: dict[int, np.ndarray]  # category index -> weights over that category's leaves
    price_band: int  # 0 budget, 1 mid-range, 2 premium
    favourite_brands: list[int]  # indices into all_brands()
    activity: float
    rating_bias: float  # some people are harsher graders than others


@dataclass(frozen=True)
class Acquisition:
    user: int
    product: int
    time: float
    companion_of: int | None  # the product this one was bought with
    repeat: bool  # the user already had it (consumables)


def build_users(rng: np.random.Generator, n_users: int, start: float, end: float) -> list[User]:
    brands = all_brands()
    brand_indices_by_category = {
        category.key: [index for index, (key, _) in enumerate(brands) if key == category.key]
        for category in CATEGORIES
    }
    appeal = _CATEGORY_APPEAL / _CATEGORY_APPEAL.sum()
    users: list[User] = []
    for number in range(n_users):
        count = 1 + weighted_index(rng, _FAVOURITE_COUNT_WEIGHTS)
        categories = weighted_sample(rng, appeal, count)
        weights = rng.dirichlet(np.full(count, 2.0))
        leaf_weights = {
            int(category): rng.dirichlet(np.full(len(CATEGORIES[int(category)].types), 0.8))
            for category in categories
        }
        price_band = weighted_index(rng, _PRICE_BAND_WEIGHTS)
        favourite_brands: list[int] = []
        for category in categories:
            options = brand_indices_by_category[CATEGORIES[int(category)].key]
            tiers = np.array([brands[index][1].tier for index in options])
            fit = np.exp(-1.0 * np.abs(tiers - price_band))
            picks = weighted_sample(rng, fit, min(len(options), int(rng.integers(1, 3))))
            favourite_brands.extend(options[int(index)] for index in picks)
        joined = float(rng.uniform(start, end - 90 * _DAY))
        name = f"{FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]} {LAST_INITIALS[int(rng.integers(len(LAST_INITIALS)))]}."
        users.append(
            User(
                user_id=f"C{10001 + number}",
                name=name,
                joined=joined,
                categories=categories.astype(np.int64),
                category_weights=weights,
                leaf_weights=leaf_weights,
                price_band=price_band,
                favourite_brands=favourite_brands,
                activity=float(rng.lognormal(0.0, 0.7)),
                rating_bias=float(rng.normal(0.0, 0.4)),
            )
        )
    return users


class _Chooser:
    """Picks a product within a leaf for a user: popularity x brand affinity x price fit."""

    def __init__(self, leaves: list[Leaf], products: list[Product]) -> None:
        self.members = products_by_leaf(leaves, products)
        self.log_popularity = [np.log([products[i].popularity for i in m]) for m in self.members]
        self.tiers = [np.array([products[i].tier for i in m], dtype=np.int64) for m in self.members]
        self.brands = [np.array([products[i].brand_index for i in m], dtype=np.int64) for m in self.members]
        self.n_brands = len(all_brands())
        self.category_leaves: list[np.ndarray] = []
        offset = 0
        for category in CATEGORIES:
            self.category_leaves.append(np.arange(offset, offset + len(category.types)))
            offset += len(category.types)

    def favourites(self, user: User) -> np.ndarray:
        mask = np.zeros(self.n_brands, dtype=bool)
        mask[user.favourite_brands] = True
        return mask

    def pick(
        self, rng: np.random.Generator, user: User, favourites: np.ndarray, leaf: int, owned: np.ndarray
    ) -> int | None:
        members = self.members[leaf]
        available = ~owned[members]
        if not available.any():
            return None
        logits = (
            self.log_popularity[leaf]
            - 1.1 * np.abs(self.tiers[leaf] - user.price_band)
            + 1.6 * favourites[self.brands[leaf]]
        )
        weights = np.where(available, np.exp(logits - logits.max()), 0.0)
        return int(members[weighted_index(rng, weights)])


def build_acquisitions(
    rng: np.random.Generator,
    users: list[User],
    leaves: list[Leaf],
    products: list[Product],
    target: int,
    end: float,
) -> list[Acquisition]:
    """About `target` purchases (companions included), in time order per user."""
    chooser = _Chooser(leaves, products)
    activity = np.array([user.activity for user in users])
    base_target = max(len(users), int(target / (1 + _COMPANION_RATE * 0.8)))
    counts = 1 + rng.multinomial(base_target - len(users), activity / activity.sum())
    acquisitions: list[Acquisition] = []
    for user_index, (user, count) in enumerate(zip(users, counts, strict=True)):
        times = np.sort(rng.uniform(user.joined, end, size=int(count)))
        favourites = chooser.favourites(user)
        owned = np.zeros(len(products), dtype=bool)
        bought_consumables: dict[int, list[int]] = {}
        for time in times:
            if rng.random() < _EXPLORE_RATE:
                category = int(rng.integers(len(CATEGORIES)))
                leaf = int(pick(rng, chooser.category_leaves[category]))
            else:
                category = int(user.categories[weighted_index(rng, user.category_weights)])
                leaf = int(
                    chooser.category_leaves[category][weighted_index(rng, user.leaf_weights[category])]
                )
            repeat = False
            previous = bought_consumables.get(leaf)
            if previous and rng.random() < _REBUY_RATE:
                product: int | None = pick(rng, previous)
                repeat = True
            else:
                product = chooser.pick(rng, user, favourites, leaf, owned)
            if product is None:
                continue
            acquisitions.append(Acquisition(user_index, product, float(time), None, repeat))
            owned[product] = True
            if leaves[leaf].kind.consumable:
                bought_consumables.setdefault(leaf, [])
                if product not in bought_consumables[leaf]:
                    bought_consumables[leaf].append(product)
            companions = [c for c in products[product].companions if not owned[c]]
            if companions and rng.random() < _COMPANION_RATE:
                companion = companions[0] if rng.random() < 0.7 else companions[-1]
                # Half of the companions go in the same basket, the rest follow within two weeks.
                delay = rng.uniform(60, 900) if rng.random() < 0.5 else rng.uniform(_DAY, 14 * _DAY)
                acquisitions.append(
                    Acquisition(user_index, companion, min(float(time + delay), end), product, False)
                )
                owned[companion] = True
    acquisitions.sort(key=lambda acquisition: (acquisition.user, acquisition.time))
    return acquisitions


def latent_rating(rng: np.random.Generator, user: User, product: Product, *, noise: float = 0.9) -> int:
    """Stars the user would give: product quality, plus taste fit, plus noise; skewed positive."""
    fit = 0.35 * (product.brand_index in user.favourite_brands) - 0.25 * abs(product.tier - user.price_band)
    value = 4.3 + 1.0 * product.quality + fit + user.rating_bias + rng.normal(0.0, noise)
    return int(np.clip(np.rint(value), 1, 5))
