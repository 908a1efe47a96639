"""Write the demo shop as a shop system and a marketplace would export it.

The files use the column names of real exports, not our field names, so that ingesting them goes
through the ingester's automatic mapping like an upload would: a catalog CSV (sku, name, brand,
category, price, stock, ...), an Amazon-style reviews JSON Lines file (reviewerID, asin, overall,
summary, reviewText, unixReviewTime) and a click-stream CSV (event_id, customer_id, sku, event, ...).
Output is byte-identical for identical data: fixed column order, fixed number formats, '\\n' endings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recengine.demo.generate import DemoData

CATALOG_FILE = "catalog.csv"
REVIEWS_FILE = "reviews.jsonl"
INTERACTIONS_FILE = "interactions.csv"


@dataclass(frozen=True)
class DemoFiles:
    """Paths of the written demo files."""

    catalog: Path
    reviews: Path
    interactions: Path


def catalog_frame(data: DemoData) -> pd.DataFrame:
    """The catalog in the shape of a shop-system product export."""
    items = data.items
    return pd.DataFrame(
        {
            "sku": items["item_id"],
            "name": items["title"],
            "brand": items["brand"],
            "category": items["category"],
            "price": [f"{price:.2f}" for price in items["price"]],
            "stock": items["stock"].astype("int64"),
            "image_url": items["image_url"],
            "description": items["description"],
            "tags": items["tags"],
        }
    )


def review_records(data: DemoData) -> list[dict[str, object]]:
    """Reviews as Amazon-style records; anonymous reviews have no reviewerID, unrated ones no overall."""
    records: list[dict[str, object]] = []
    for row in data.reviews.itertuples(index=False):
        rating = None if pd.isna(row.rating) else float(row.rating)
        records.append(
            {
                "review_id": row.review_id,
                "reviewerID": row.user_id if isinstance(row.user_id, str) else None,
                "reviewerName": row.reviewer_name,
                "asin": row.item_id,
                "overall": rating,
                "verified": bool(row.verified),
                "summary": row.title,
                "reviewText": row.text,
                "unixReviewTime": int(row.timestamp.timestamp()),
            }
        )
    return records


def interactions_frame(data: DemoData) -> pd.DataFrame:
    """Events in the shape of a web-analytics export."""
    events = data.interactions
    return pd.DataFrame(
        {
            "event_id": events["interaction_id"],
            "customer_id": events["user_id"],
            "sku": events["item_id"],
            "event": events["event"],
            "timestamp": events["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "quantity": events["quantity"],
            "session_id": events["session_id"],
        }
    )


def write_demo_files(data: DemoData, folder: Path | str) -> DemoFiles:
    """Write the catalog, reviews and interactions files of `data` into `folder`.

    Args:
        data: What `generate_demo` returned.
        folder: Created if missing; existing demo files in it are replaced.

    Returns:
        The three paths.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(folder / CATALOG_FILE, folder / REVIEWS_FILE, folder / INTERACTIONS_FILE)
    catalog_frame(data).to_csv(files.catalog, index=False, lineterminator="\n", encoding="utf-8")
    with files.reviews.open("w", encoding="utf-8", newline="\n") as handle:
        for record in review_records(data):
            handle.write(json.dumps(record, ensure_ascii=False))
            handle.write("\n")
    interactions_frame(data).to_csv(files.interactions, index=False, lineterminator="\n", encoding="utf-8")
    return files
