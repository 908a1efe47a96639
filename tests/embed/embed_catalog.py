"""A small generated catalog written straight into a workspace store (independent of ingest and demo).

A plain module (not conftest) so that test files can import it: conftest names collide across folders.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from recengine.config import Settings
from recengine.workspace import Workspace

CATEGORIES = {
    "Electronics > Audio > Headphones": (
        ["wireless", "bluetooth", "noise cancelling", "over-ear", "earbuds"],
        ["headphones", "earbuds", "headset"],
    ),
    "Home > Garden > Watering": (["garden", "expandable", "heavy duty", "brass", "kink-free"], ["hose", "sprinkler", "nozzle"]),
    "Kitchen > Cookware > Pans": (["nonstick", "cast iron", "stainless", "ceramic", "deep"], ["frying pan", "skillet", "wok"]),
    "Sports > Running > Shoes": (["lightweight", "trail", "cushioned", "breathable", "racing"], ["running shoes", "trainers", "sneakers"]),
}
BRANDS = ["Acme", "Northwind", "Contoso", "Globex"]


def catalog_rows(per_category: int = 8) -> list[dict[str, object]]:
    """Deterministic products: similar words within a category, different words across categories."""
    rows = []
    for category_index, (category, (adjectives, nouns)) in enumerate(CATEGORIES.items()):
        for number in range(per_category):
            adjective = adjectives[number % len(adjectives)]
            noun = nouns[number % len(nouns)]
            other = adjectives[(number + 2) % len(adjectives)]
            rows.append(
                {
                    "item_id": f"P{category_index}{number:03d}",
                    "title": f"{adjective.title()} {noun} {number}",
                    "description": f"A {other} {noun} that is {adjective}. Great {noun} for everyday use.",
                    "brand": BRANDS[number % len(BRANDS)],
                    "category": category,
                    "price": 10.0 + number,
                }
            )
    return rows


def insert_items(workspace: Workspace, rows: Iterable[dict[str, object]]) -> None:
    """Upsert items the way the ingester would store them (row_hash, updated_at)."""
    with workspace.store.transaction() as connection:
        for row in rows:
            row_hash = hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()
            connection.execute(
                "INSERT OR REPLACE INTO items (item_id, title, description, brand, category, price, in_stock, "
                "image_url, attributes, is_placeholder, row_hash, batch_id, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, TRUE, NULL, '{}', FALSE, ?, 1, ?)",
                [row["item_id"], row.get("title"), row.get("description"), row.get("brand"), row.get("category"),
                 row.get("price"), row_hash, datetime(2026, 1, 1)],
            )


def delete_items(workspace: Workspace, item_ids: Iterable[str]) -> None:
    with workspace.store.transaction() as connection:
        for item_id in item_ids:
            connection.execute("DELETE FROM items WHERE item_id = ?", [item_id])


def insert_reviews(workspace: Workspace, reviews: Iterable[tuple[str, str, str]]) -> None:
    """(review_id, item_id, text) rows."""
    with workspace.store.transaction() as connection:
        for review_id, item_id, text in reviews:
            connection.execute(
                "INSERT OR REPLACE INTO reviews (review_id, user_id, item_id, rating, title, text, timestamp, "
                "attributes, row_hash, batch_id, updated_at) VALUES (?, 'U1', ?, 5, NULL, ?, ?, '{}', ?, 1, ?)",
                [review_id, item_id, text, datetime(2026, 1, 2), hashlib.sha256(text.encode()).hexdigest(),
                 datetime(2026, 1, 2)],
            )


def with_model(workspace: Workspace, model: str) -> Workspace:
    """The same workspace folder seen with another `embed.model` setting."""
    settings = Settings.load(None)
    embed = settings.embed.model_copy(update={"model": model})
    return Workspace(workspace.root, settings.model_copy(update={"embed": embed}))
