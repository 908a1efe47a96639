"""`generate_demo`: the whole demo shop as pandas frames, from one seed.

Deterministic: one `numpy.random.Generator` drives everything in a fixed order, the demo period has
fixed dates (not "now"), and nothing depends on hash or set order, so the same seed gives the same
frames (and `write_demo_files` the same bytes) on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import pandas as pd

from recengine.demo.catalog import Leaf, Product, all_brands, build_catalog
from recengine.demo.events import build_events
from recengine.demo.people import build_acquisitions, build_users, latent_rating
from recengine.demo.reviews import compose_mismatch, compose_review
from recengine.demo.sampling import weighted_index
from recengine.demo.vocabulary import CATEGORIES, TIER_NAMES
from recengine.errors import ConfigError

DemoSize = Literal["small", "standard"]

# The demo covers two years that end on a fixed day, so that output never depends on the clock.
PERIOD_START = datetime(2024, 7, 1, tzinfo=UTC)
PERIOD_END = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)

_ANONYMOUS_SHARE = 0.07
_UNRATED_SHARE = 0.05
_MISMATCH_LOW_STARS = 0.12
_MISMATCH_HIGH_STARS = 0.02


@dataclass(frozen=True)
class DemoSizeSpec:
    """How big a demo shop is.

    Attributes:
        products: Catalog size.
        users: Registered customers.
        reviews: Reviews (about 7% of them anonymous).
        events: Click-stream events.
        purchases: First purchases of the customers (the reviews follow some of them), fixed apart from
            `reviews`: fewer reviews leave the purchase history and the collaborative signal as they are.
    """

    products: int
    users: int
    reviews: int
    events: int
    purchases: int


SIZES: dict[str, DemoSizeSpec] = {
    # 3,000 reviews rather than 6,000 (or the first 12,000): every review is encoded on a first start, and
    # the encoder's arithmetic on them was most of the preparation; half as many show the same 26 aspects,
    # keywords for 577 of the 640 products instead of 613, 139 rating/text mismatches instead of 299, and
    # learned sentiment as good on held-out reviews (docs/BENCHMARKS.md, "What the cheaper demo cost").
    "standard": DemoSizeSpec(products=640, users=1500, reviews=3_000, events=40_000, purchases=13_950),
    "small": DemoSizeSpec(products=120, users=200, reviews=1_500, events=5_000, purchases=1_743),
}


@dataclass(frozen=True)
class DemoData:
    """The generated shop, in canonical field names (see DESIGN.md), plus what generated it.

    Attributes:
        items: item_id, title, description, brand, category, price, in_stock, image_url, stock, tags.
        reviews: review_id, user_id (None when anonymous), item_id, rating (None when unrated), title,
            text, timestamp (UTC), reviewer_name, verified, and the ground truth `sentiment` (what the
            words say) and `mismatch` ("" or sarcasm / complaint_5_stars / praise_1_star_delivery).
        interactions: interaction_id, user_id, item_id, event, timestamp (UTC), quantity, session_id.
        users: user_id, name, first_seen and the hidden tastes (favourite_categories, price_band,
            favourite_brands).
        item_truth: item_id, popularity, quality, tier, companions (';'-joined item ids).
    """

    seed: int
    size: str
    items: pd.DataFrame
    reviews: pd.DataFrame
    interactions: pd.DataFrame
    users: pd.DataFrame
    item_truth: pd.DataFrame


def _timestamps(seconds: list[float] | np.ndarray) -> pd.Series:
    # Whole seconds: exports carry no sub-second precision, and it keeps the files byte-stable.
    return pd.Series(
        pd.to_datetime(np.floor(np.asarray(seconds, dtype=float)).astype("int64"), unit="s", utc=True)
    )


def generate_demo(seed: int = 7, size: DemoSize | str = "standard") -> DemoData:
    """Generate the demo shop.

    Args:
        seed: Seed of the random generator; the same seed gives identical data.
        size: "standard" (640 products, 1,500 users, about 3,000 reviews and 40,000 events) or
            "small" (120 products, 200 users, about 1,500 reviews and 5,000 events) for tests.

    Returns:
        The frames of the shop and its hidden ground truth.

    Raises:
        ConfigError: `size` is not one of the known sizes.
    """
    if size not in SIZES:
        raise ConfigError(f"Unknown demo size {size!r}.", hint=f"Use one of: {', '.join(SIZES)}.")
    spec = SIZES[size]
    rng = np.random.default_rng(seed)
    start, end = PERIOD_START.timestamp(), PERIOD_END.timestamp()

    leaves, products = build_catalog(rng, spec.products)
    users = build_users(rng, spec.users, start, end)
    user_reviews_target = int(round(spec.reviews * (1 - _ANONYMOUS_SHARE)))
    acquisitions = build_acquisitions(rng, users, leaves, products, spec.purchases, end)

    # -- reviews: most first purchases get one, a few weeks later; plus anonymous ones ----------------
    firsts = [a for a in acquisitions if not a.repeat]
    # Reviews are written a few days to weeks after the purchase; the last days' ones not yet.
    written = np.array([a.time for a in firsts]) + rng.exponential(10 * 86_400.0, len(firsts)) + 86_400.0
    eligible = [(a, when) for a, when in zip(firsts, written, strict=True) if when <= end]
    review_share = min(1.0, user_reviews_target / max(1, len(eligible)))
    rows: list[dict[str, object]] = []
    for acquisition, when in eligible:
        if rng.random() >= review_share:
            continue
        user, product = users[acquisition.user], products[acquisition.product]
        stars = latent_rating(rng, user, product)
        rows.append(
            _review_row(
                rng,
                product,
                leaves[product.leaf],
                stars,
                user.user_id,
                user.name,
                float(when),
                verified=bool(rng.random() < 0.92),
            )
        )
    popularity = np.array([product.popularity for product in products])
    for _ in range(spec.reviews - len(rows)):
        product = products[weighted_index(rng, popularity)]
        # Guests write when something went very well or very badly: wider spread of stars.
        stars = int(np.clip(np.rint(3.7 + 0.9 * product.quality + rng.normal(0.0, 1.3)), 1, 5))
        rows.append(
            _review_row(
                rng,
                product,
                leaves[product.leaf],
                stars,
                None,
                "A customer",
                float(rng.uniform(start, end)),
                verified=False,
            )
        )
    reviews = pd.DataFrame(rows).sort_values(["timestamp", "item_id"], kind="stable").reset_index(drop=True)
    reviews.insert(0, "review_id", [f"R{number:06d}" for number in range(1, len(reviews) + 1)])
    reviews["timestamp"] = _timestamps(reviews["timestamp"].to_numpy())

    # -- interactions ----------------------------------------------------------------------------
    events = build_events(rng, users, leaves, products, acquisitions, spec.events, end)
    interactions = pd.DataFrame(
        {
            "interaction_id": [f"E{number:07d}" for number in range(1, len(events) + 1)],
            "user_id": [users[event.user].user_id for event in events],
            "item_id": [products[event.product].item_id for event in events],
            "event": [event.event for event in events],
            "timestamp": _timestamps([event.time for event in events]),
            "quantity": pd.array([event.quantity for event in events], dtype="Int64"),
            "session_id": [f"S{event.session:06d}" for event in events],
        }
    )

    items = pd.DataFrame(
        {
            "item_id": [product.item_id for product in products],
            "title": [product.title for product in products],
            "description": [product.description for product in products],
            "brand": [product.brand for product in products],
            "category": [product.category for product in products],
            "price": [product.price for product in products],
            "in_stock": [product.stock > 0 for product in products],
            "image_url": [""] * len(products),
            "stock": [product.stock for product in products],
            "tags": [product.tags for product in products],
        }
    )
    item_truth = pd.DataFrame(
        {
            "item_id": items["item_id"],
            "popularity": [product.popularity for product in products],
            "quality": [product.quality for product in products],
            "tier": [TIER_NAMES[product.tier] for product in products],
            "companions": [";".join(products[c].item_id for c in product.companions) for product in products],
        }
    )
    brands = all_brands()
    users_frame = pd.DataFrame(
        {
            "user_id": [user.user_id for user in users],
            "name": [user.name for user in users],
            "first_seen": _timestamps([user.joined for user in users]),
            "favourite_categories": [
                ";".join(CATEGORIES[int(c)].path for c in user.categories) for user in users
            ],
            "price_band": [TIER_NAMES[user.price_band] for user in users],
            "favourite_brands": [
                ";".join(brands[b][1].name for b in user.favourite_brands) for user in users
            ],
        }
    )
    return DemoData(seed, str(size), items, reviews, interactions, users_frame, item_truth)


def _review_row(
    rng: np.random.Generator,
    product: Product,
    leaf: Leaf,
    stars: int,
    user_id: str | None,
    reviewer_name: str,
    time: float,
    *,
    verified: bool,
) -> dict[str, object]:
    review = None
    # Mismatches come mostly from unhappy buyers (sarcasm, complaints under five stars).
    if rng.random() < (_MISMATCH_LOW_STARS if stars <= 2 else _MISMATCH_HIGH_STARS if stars >= 4 else 0.0):
        review = compose_mismatch(rng, product, leaf, stars)
    if review is None:
        review = compose_review(rng, product, leaf, stars)
    rated = rng.random() >= _UNRATED_SHARE
    return {
        "user_id": user_id,
        "item_id": product.item_id,
        "rating": float(review.stars) if rated else None,
        "title": review.title,
        "text": review.text,
        "timestamp": time,
        "reviewer_name": reviewer_name,
        "verified": verified,
        "sentiment": review.sentiment,
        "mismatch": review.mismatch,
    }
