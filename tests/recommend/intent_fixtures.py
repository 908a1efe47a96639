"""A small shop whose categories and brands the hand-labelled queries name (a plain module: conftest
names collide across folders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from recengine.config import RecommendSettings
from recengine.embed.fake import HashingEncoder
from recengine.recommend import Recommender

# (category path, brand, title, price, rating or nan)
PRODUCTS: list[tuple[str, str, str, float, float]] = [
    ("Music > Jazz", "Bluenote", "Kind of Blue on vinyl", 24.0, 5.0),
    ("Music > Jazz", "Bluenote", "Blue Train remastered CD", 12.0, 4.0),
    ("Music > Jazz", "Impulse Records", "A Love Supreme CD", 9.0, 5.0),
    ("Music > Jazz", "Impulse Records", "Ballads vinyl record", 31.0, 3.0),
    ("Music > Jazz", "Verve", "Ella and Louis CD", 8.0, 4.0),
    ("Music > Jazz", "Verve", "Getz/Gilberto vinyl", 27.0, np.nan),
    ("Music > Rock", "Columbia", "Greatest hits CD", 11.0, 2.0),
    ("Music > Rock", "Columbia", "Live in concert vinyl", 35.0, 4.0),
    ("Music > Vinyl Records", "Audio-Technica", "Record cleaning kit", 19.0, 4.0),
    ("Music > Vinyl Records", "Audio-Technica", "Turntable stylus", 45.0, 5.0),
    ("Home > Heating & Cooling > Thermostats", "Nest", "Learning thermostat, works with voice assistants", 104.99, 4.0),
    ("Home > Heating & Cooling > Thermostats", "Ecobee", "Smart thermostat with voice control", 184.99, 5.0),
    ("Home > Heating & Cooling > Thermostats", "Honeywell", "Quiet programmable thermostat", 39.99, 4.0),
    ("Home > Heating & Cooling > Thermostats", "Honeywell", "Basic non-programmable thermostat", 19.99, 3.0),
    ("Home > Heating & Cooling > Fans", "Dyson", "Quiet tower fan", 299.0, 4.0),
    ("Home > Heating & Cooling > Fans", "Honeywell", "Desk fan", 24.0, 3.0),
    ("Home > Kitchen & Dining", "Acme Inc.", "Chef knife", 49.0, 4.0),
    ("Home > Kitchen & Dining", "Acme Inc.", "Cast iron pan", 35.0, 5.0),
    ("Home > Kitchen & Dining", "OXO", "Salad spinner", 29.0, 4.0),
    ("Home > Kitchen & Dining", "OXO", "Garlic press", 14.0, 4.0),
    ("Electronics > Headphones", "Sony", "Noise cancelling headphones", 279.0, 5.0),
    ("Electronics > Headphones", "Sony", "Wired earbuds", 15.0, 3.0),
    ("Electronics > Headphones", "Audio-Technica", "Studio monitor headphones", 149.0, 5.0),
    ("Electronics > Headphones", "JBL", "Wireless kids headphones with batteries", 29.0, 4.0),
    ("Electronics > Batteries", "Duracell", "AA batteries, pack of 8", 9.99, 5.0),
    ("Electronics > Batteries", "Energizer", "Rechargeable AA battery", 19.99, 4.0),
    ("Garden > Tools", "Greenthumb", "Pruning shears", 18.0, 4.0),
    ("Garden > Tools", "Greenthumb", "Garden hose 50 ft", 39.0, 3.0),
    ("Garden > Tools", "Fiskars", "Folding saw", 32.0, 5.0),
    ("Garden > Outdoor Lighting", "Philips", "Solar path lights", 44.0, 4.0),
    ("Books > Science Fiction", "Penguin Books", "Dune paperback", 10.99, 5.0),
    ("Books > Science Fiction", "Penguin Books", "Foundation hardcover", 27.0, 4.0),
    ("Books > Science Fiction", "Tor", "The Left Hand of Darkness", 16.0, np.nan),
    ("Books > Cookbooks", "Penguin Books", "Salt Fat Acid Heat", 22.0, 5.0),
    ("Books > Children's Books", "Scholastic", "Picture book for toddlers", 7.99, 4.0),
    ("Toys & Games > Puzzles", "Ravensburger", "1000 piece puzzle", 21.0, 4.0),
    ("Toys & Games > Board Games", "Hasbro", "Family board game", 25.0, 3.0),
    ("Toys & Games > Board Games", "Hasbro", "Kids card game", 9.0, 4.0),
    ("Clothing > Women > Jackets", "Patagonia", "Warm hiking jacket", 199.0, 5.0),
    ("Clothing > Men > Jackets", "The North Face", "Rain jacket", 129.0, 4.0),
]


def shop_items() -> pd.DataFrame:
    """The shop's catalog, ids P00..P39."""
    return pd.DataFrame(
        {
            "item_id": [f"P{index:02d}" for index in range(len(PRODUCTS))],
            "category": [row[0] for row in PRODUCTS],
            "brand": [row[1] for row in PRODUCTS],
            "title": [row[2] for row in PRODUCTS],
            "price": [row[3] for row in PRODUCTS],
            "in_stock": True,
        }
    )


def shop_interactions() -> pd.DataFrame:
    """One review per rated product (its rating), by customers c0..c9; every product bought once more."""
    rows = []
    start = datetime(2024, 1, 1)
    for index, row in enumerate(PRODUCTS):
        item = f"P{index:02d}"
        if not np.isnan(row[4]):
            rows.append((f"c{index % 10}", item, "review", row[4], start + timedelta(days=index)))
        rows.append((f"c{(index + 3) % 10}", item, "purchase", np.nan, start + timedelta(days=index, hours=1)))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "event", "rating", "timestamp"])


@dataclass(frozen=True)
class ShopVectors:
    """Shaped like recengine.embed.ItemVectors."""

    item_ids: list[str]
    vectors: np.ndarray
    fingerprint: str = "fake"


def shop_model() -> Recommender:
    """The shop fitted with the hashing encoder for items and queries."""
    encoder = HashingEncoder()
    items = shop_items()
    texts = [f"{row.title}. {row.brand}. {row.category}" for row in items.itertuples()]
    vectors = ShopVectors(items["item_id"].tolist(), encoder.encode(texts))
    return Recommender.fit(items, shop_interactions(), vectors, RecommendSettings(),
                           encode_query=lambda text: encoder.encode([text])[0])
