"""Loaders of the public data sets, on tiny files written in their formats."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from recengine.evaluate.datasets import DatasetUnavailableError, magazine_ratings


def _write_meta(path: Path, rows: list[dict]) -> None:
    with gzip.open(path, "wt") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def test_magazine_ratings_dedupes_and_keeps_unlisted_items(tmp_path: Path) -> None:
    folder = tmp_path / "amazon2018-magazine"
    folder.mkdir()
    # Headerless item,user,rating,time with a repeated row and a second rating of the same pair later.
    (folder / "Magazine_Subscriptions.csv").write_text(
        "M1,alice,5.0,1000\nM1,alice,5.0,1000\nM2,alice,4.0,2000\nM1,alice,1.0,3000\nM3,bob,2.0,1500\n"
    )
    _write_meta(
        folder / "meta_Magazine_Subscriptions.json.gz",
        [
            {"asin": "M1", "title": "<span class=x>", "brand": "Jazz Monthly", "also_buy": ["M2"]},
            {"asin": "M1", "title": "duplicate row", "brand": "ignored"},
            {"asin": "M2", "title": "Vinyl Review", "brand": "Groove"},
        ],
    )
    data = magazine_ratings(tmp_path)
    pairs = data.interactions[["user_id", "item_id"]].apply(tuple, axis=1).tolist()
    assert sorted(pairs) == [("alice", "M1"), ("alice", "M2"), ("bob", "M3")]
    first = data.interactions.set_index(["user_id", "item_id"]).loc[("alice", "M1")]
    assert first["rating"] == 5.0  # the first rating in time, not the later 1 star
    assert data.items["item_id"].tolist() == ["M1", "M2", "M3"]  # M3 is rated but not in the metadata
    assert data.items.set_index("item_id").loc["M1", "brand"] == "Jazz Monthly"
    assert data.items.set_index("item_id").loc["M3", "title"] == ""
    assert data.complements == {"M1": ["M2"]}
    assert data.reviews is None


def test_missing_folder_says_where(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailableError, match="amazon2018-magazine"):
        magazine_ratings(tmp_path)
