"""Data of the recommend tests (a plain module with a unique name: conftest names collide across folders).

A checkerboard catalog whose right answer is obvious."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from recengine.workspace import Workspace

GROUP = 8  # items per taste
START = datetime(2024, 1, 1)


@dataclass(frozen=True)
class FakeItemVectors:
    """Shaped like recengine.embed.ItemVectors."""

    item_ids: list[str]
    vectors: np.ndarray
    fingerprint: str = "test"


def checkerboard_items() -> pd.DataFrame:
    """Jazz records J0..J7 and garden tools G0..G7, prices 1..16, all in stock."""
    return pd.DataFrame(
        {
            "item_id": [f"J{index}" for index in range(GROUP)] + [f"G{index}" for index in range(GROUP)],
            "title": [f"Jazz record {index}" for index in range(GROUP)]
            + [f"Garden tool {index}" for index in range(GROUP)],
            "brand": ["Bluenote"] * GROUP + ["Greenthumb"] * GROUP,
            "category": ["Music > Jazz"] * GROUP + ["Garden > Tools"] * GROUP,
            "price": np.arange(1, 2 * GROUP + 1, dtype=float),
            "in_stock": [True] * (2 * GROUP),
        }
    )


def checkerboard_vectors(items: pd.DataFrame | None = None) -> FakeItemVectors:
    """Jazz items point along axis 0, garden along axis 1, with small noise."""
    ids = (items if items is not None else checkerboard_items())["item_id"].tolist()
    rng = np.random.default_rng(7)
    vectors = np.zeros((len(ids), 8), dtype=np.float32)
    for row, item_id in enumerate(ids):
        vectors[row, 0 if item_id.startswith("J") else 1] = 1.0
    vectors += rng.normal(0, 0.08, vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return FakeItemVectors(ids, vectors)


def checkerboard_interactions() -> pd.DataFrame:
    """Users j0..j9 buy only jazz items, g0..g9 only garden items; each has 4 of the 8 (a rotating window).

    J7 and G7 are never bought: items with no interactions, recommendable on content alone.
    """
    rows = []
    for group, prefix in (("j", "J"), ("g", "G")):
        for user in range(10):
            for step in range(4):
                item = f"{prefix}{(user + step) % (GROUP - 1)}"
                rows.append((f"{group}{user}", item, "purchase", np.nan, START + timedelta(days=user + step)))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "event", "rating", "timestamp"])


def _hash(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def fill_workspace(workspace: Workspace) -> Workspace:
    """Write the checkerboard into a workspace directly (no ingest needed): items, users, reviews, events."""
    items = checkerboard_items()
    interactions = checkerboard_interactions()
    with workspace.store.transaction() as connection:
        for row in items.itertuples(index=False):
            connection.execute(
                "INSERT INTO items (item_id, title, description, brand, category, price, in_stock, row_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [row.item_id, row.title, f"A {row.title.lower()}", row.brand, row.category, row.price,
                 row.in_stock, _hash(row.item_id)],
            )
        users = sorted(interactions["user_id"].unique())
        for user in users:
            connection.execute("INSERT INTO users (user_id, first_seen) VALUES (?, ?)", [user, START])
        for number, row in enumerate(interactions.itertuples(index=False)):
            if number % 2:
                connection.execute(
                    "INSERT INTO reviews (review_id, user_id, item_id, rating, title, text, timestamp, row_hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [f"R{number}", row.user_id, row.item_id, 5.0, "Great", "Lovely sound, great value.",
                     row.timestamp, _hash("r", number)],
                )
            else:
                connection.execute(
                    "INSERT INTO interactions (interaction_id, user_id, item_id, event, timestamp, quantity, row_hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [f"E{number}", row.user_id, row.item_id, "purchase", row.timestamp, 1.0, _hash("e", number)],
                )
        connection.execute(
            "INSERT INTO meta VALUES ('data_version', '1') ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
    return workspace
