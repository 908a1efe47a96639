"""Handmade reviews whose aspects and polarity are obvious, and helpers that write them into a workspace
(a plain module, imported by name: conftest modules of different test folders collide when several
folders are collected together)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from recengine.workspace import Workspace

ITEMS = [
    # item_id, title, brand, category
    ("P1", "Pocket Phone X", "Acme", "Electronics > Phones"),
    ("H1", "Studio Headphones", "Sonic", "Electronics > Audio"),
    ("S1", "Trail Running Shoe", "Stride", "Fashion > Shoes"),
]

HANDMADE_REVIEWS = [
    # review_id, item_id, rating, title, text, date
    ("R1", "P1", 4, "Good phone", "Great value, runs smoothly, but the camera is mediocre.", "2024-01-05"),
    ("R2", "P1", 5, "Love it", "The battery life is amazing and the screen is gorgeous.", "2024-01-20"),
    ("R3", "P1", 1, "Awful", "The battery died after two days. Terrible phone, I returned it.", "2024-02-11"),
    ("R4", "H1", 5, "Superb sound", "The sound quality is excellent and the ear cushions are very comfortable.", "2024-02-15"),
    ("R5", "H1", 2, "Hurts", "Sound is fine but they are really uncomfortable after an hour.", "2024-03-01"),
    ("R6", "S1", 5, "Perfect fit", "These shoes fit perfectly. Shipping was fast.", "2024-03-10"),
    ("R7", "S1", 5, "Five stars", "Horrible. The sole fell apart after a week and the seller never answered. Worst purchase ever.", "2024-03-12"),
    ("R8", "S1", None, None, "The size runs small, order one size up.", "2024-04-01"),
]


def insert_rows(workspace: Workspace, table: str, frame: pd.DataFrame) -> None:
    """Insert a frame into a store table (the ingest path is tested elsewhere; here rows go in directly)."""
    with workspace.store.transaction() as connection:
        connection.register("incoming", frame)
        columns = ", ".join(frame.columns)
        connection.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM incoming")
        connection.unregister("incoming")


def review_frame(rows: Sequence[tuple[object, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["review_id", "item_id", "rating", "title", "text", "timestamp"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame["rating"] = frame["rating"].astype("float64")
    frame["user_id"] = [f"U{index}" for index in range(len(frame))]
    frame["row_hash"] = [f"h{index}" for index in range(len(frame))]
    frame["batch_id"] = 1
    return frame


def item_frame(rows: Sequence[tuple[str, str, str, str]] = ITEMS) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["item_id", "title", "brand", "category"])
    frame["row_hash"] = frame["item_id"]
    frame["is_placeholder"] = False
    frame["price"] = 10.0
    frame["in_stock"] = True
    return frame


def add_reviews(workspace: Workspace, rows: Sequence[tuple[object, ...]]) -> None:
    insert_rows(workspace, "reviews", review_frame(rows))
    # Mimic the ingest: every change bumps data_version.
    current = int(workspace.store.get_meta("data_version") or 0)
    workspace.store.set_meta("data_version", str(current + 1))


POSITIVE_PHRASES = [
    "great sound and excellent battery", "love it, works perfectly", "amazing quality, very happy",
    "superb comfort, highly recommend", "fantastic value, delighted", "wonderful design, great fit",
    "excellent performance, love the screen", "perfect size and great price",
]
NEGATIVE_PHRASES = [
    "terrible battery, broke quickly", "awful sound, very disappointed", "horrible fit, returned it",
    "poor quality, waste of money", "useless, stopped working", "bad design, cheap and flimsy",
    "worst purchase, broken on arrival", "disappointing screen, awful performance",
]
NEUTRAL_PHRASES = ["it is okay, average", "fine for the price, nothing special", "decent but mediocre"]


def rated_reviews(count: int, *, start: int = 0) -> list[tuple[object, ...]]:
    """Many templated rated reviews: positives with 4-5 stars, negatives with 1-2, a few 3s."""
    rows: list[tuple[object, ...]] = []
    items = [item[0] for item in ITEMS]
    for index in range(start, start + count):
        kind = index % 5
        if kind in (0, 1, 2):
            text, rating = POSITIVE_PHRASES[index % len(POSITIVE_PHRASES)], 4 + index % 2
        elif kind == 3:
            text, rating = NEGATIVE_PHRASES[index % len(NEGATIVE_PHRASES)], 1 + index % 2
        else:
            text, rating = NEUTRAL_PHRASES[index % len(NEUTRAL_PHRASES)], 3
        rows.append((f"G{index:05d}", items[index % len(items)], rating, None,
                     f"{text.capitalize()}. Review number {index}.", f"2024-{1 + index % 12:02d}-15"))
    return rows
