"""Loaders of the public data sets in ../shared/data into `EvaluationData`, for the evaluation script.

The files are read where they lie (never copied into the project). A missing folder raises
`DatasetUnavailableError` with the path, so scripts can skip that data set with a clear message.

- Gift Cards and Magazine Subscriptions (Amazon 2018): the 5-core review files are the interactions
  (a review = a purchase, with its star rating); the catalog is the whole metadata file, so methods
  rank every listed product, including the many nobody in the 5-core bought.
- Grocery (Amazon 2014, ReChorus edition): train/dev/test are concatenated and re-split by time like
  the others; the catalog has no text, so an item's text is its category id.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from recengine.errors import RecEngineError
from recengine.evaluate.data import EvaluationData, interactions_frame

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
_TAGS = re.compile(r"<[^>]*>")


class DatasetUnavailableError(RecEngineError):
    """A public data set is not on this machine."""


def data_root(root: Path | None = None) -> Path:
    return Path(root) if root is not None else SHARED_DATA


def _require(path: Path) -> Path:
    if not path.exists():
        raise DatasetUnavailableError(
            f"{path} is not here.",
            hint="The public data sets live in ../shared/data on the team's machines only; skipping it.",
        )
    return path


def _clean_text(value: object) -> str:
    if isinstance(value, list):
        value = " ".join(str(part) for part in value if part)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = html.unescape(_TAGS.sub(" ", str(value)))
    return " ".join(text.split())


def _category_path(value: object) -> str:
    if not isinstance(value, list):
        return _clean_text(value)
    parts: list[str] = []
    for part in value:
        cleaned = _clean_text(part)
        if cleaned and cleaned not in parts:
            parts.append(cleaned)
    return " > ".join(parts)


def _price(value: object) -> float:
    match = re.search(r"\d+(?:\.\d+)?", str(value or "").replace(",", ""))
    return float(match.group()) if match else float("nan")


def amazon_catalog(
    meta_path: Path, interacted: pd.Series
) -> tuple[pd.DataFrame, dict[str, list[str]], dict[str, list[str]]]:
    """The metadata file as a catalog (plus text-less rows for interacted items it does not list), each
    product's published also-bought list (the bundle evaluation's ground truth) and also-viewed list (the
    similar-products evaluation's)."""
    meta = pd.read_json(_require(meta_path), lines=True).drop_duplicates("asin", keep="first")
    # Magazine titles are mostly a broken HTML fragment: nothing is left after removing the tags.
    items = pd.DataFrame(
        {
            "item_id": meta["asin"].astype(str),
            "title": meta["title"].map(_clean_text),
            "brand": meta["brand"].map(_clean_text) if "brand" in meta else "",
            "category": meta["category"].map(_category_path) if "category" in meta else "",
            "description": meta["description"].map(_clean_text) if "description" in meta else "",
            "price": meta["price"].map(_price) if "price" in meta else np.nan,
        }
    )
    also_buy, also_view = (
        {
            str(asin): [str(other) for other in also]
            for asin, also in zip(meta["asin"], meta.get(column, pd.Series([[]] * len(meta))), strict=True)
            if isinstance(also, list) and also
        }
        for column in ("also_buy", "also_view")
    )
    missing = sorted(set(interacted.astype(str)) - set(items["item_id"]))
    if missing:
        # Interacted items absent from the catalog stay rankable, without text (as ingest's placeholders).
        items = pd.concat(
            [items, pd.DataFrame({"item_id": missing, "title": "", "brand": "", "category": "", "description": ""})],
            ignore_index=True,
        )
    return items.sort_values("item_id").reset_index(drop=True), also_buy, also_view


def amazon_2018(folder: str, reviews_file: str, meta_file: str, name: str, root: Path | None = None) -> EvaluationData:
    """An Amazon 2018 category: 5-core reviews as interactions, the metadata file as the catalog."""
    base = _require(data_root(root) / folder)
    reviews = pd.read_json(_require(base / reviews_file), lines=True)
    items, complements, substitutes = amazon_catalog(base / meta_file, reviews["asin"])
    interactions = interactions_frame(
        reviews["reviewerID"],
        reviews["asin"],
        pd.to_datetime(reviews["unixReviewTime"], unit="s"),
        events="purchase",
        ratings=reviews["overall"].to_numpy(),
    )
    # The review behind each interaction, so the hybrid can weigh it by review sentiment once the
    # review text is analysed (`recengine.evaluate.review_analysis`).
    review_ids = (
        reviews["reviewerID"].astype(str) + "|" + reviews["asin"].astype(str) + "|"
        + reviews["unixReviewTime"].astype(str)
    )
    interactions["review_id"] = review_ids.to_numpy()
    review_frame = pd.DataFrame(
        {
            "review_id": review_ids,
            "user_id": reviews["reviewerID"].astype(str),
            "item_id": reviews["asin"].astype(str),
            "rating": pd.to_numeric(reviews["overall"], errors="coerce"),
            "title": reviews["summary"].map(_clean_text) if "summary" in reviews else "",
            "text": reviews["reviewText"].map(_clean_text) if "reviewText" in reviews else "",
            "timestamp": pd.to_datetime(reviews["unixReviewTime"], unit="s"),
        }
    ).drop_duplicates("review_id", keep="first").reset_index(drop=True)
    return EvaluationData(
        name=name, items=items, interactions=interactions, complements=complements, substitutes=substitutes,
        reviews=review_frame,
    )


def gift_cards(root: Path | None = None) -> EvaluationData:
    """Amazon 2018 Gift Cards, 5-core (458 users, 148 bought items, 1,547 catalog items)."""
    return amazon_2018(
        "amazon2018-giftcards", "Gift_Cards_5.json.gz", "meta_Gift_Cards.json.gz", "Gift Cards (5-core)", root
    )


def magazine(root: Path | None = None) -> EvaluationData:
    """Amazon 2018 Magazine Subscriptions, 5-core reviews (348 users, 157 items, ~2,320 catalog items)."""
    return amazon_2018(
        "amazon2018-magazine",
        "Magazine_Subscriptions_5.json.gz",
        "meta_Magazine_Subscriptions.json.gz",
        "Magazine Subscriptions (5-core)",
        root,
    )


def magazine_ratings(root: Path | None = None) -> EvaluationData:
    """Amazon 2018 Magazine Subscriptions, every rating (not only the 5-core): ~72,000 customers.

    Ratings only, no review text. Most customers rated one magazine; those with two or more (about
    10,000) are the test customers, 30 times as many as in the 5-core file, so differences between
    methods that the 5-core file cannot resolve can be measured here on the same catalog.
    """
    base = _require(data_root(root) / "amazon2018-magazine")
    ratings = pd.read_csv(
        _require(base / "Magazine_Subscriptions.csv"), header=None, names=["asin", "user", "rating", "time"]
    )
    # The file repeats rows; one rating per (customer, product), the first in time.
    ratings = ratings.sort_values("time", kind="stable").drop_duplicates(["user", "asin"], keep="first")
    items, complements, substitutes = amazon_catalog(base / "meta_Magazine_Subscriptions.json.gz", ratings["asin"])
    interactions = interactions_frame(
        ratings["user"],
        ratings["asin"],
        pd.to_datetime(ratings["time"], unit="s"),
        events="purchase",
        ratings=ratings["rating"].to_numpy(),
    )
    return EvaluationData(
        name="Magazine Subscriptions (all ratings)", items=items, interactions=interactions, complements=complements,
        substitutes=substitutes,
    )


def grocery(root: Path | None = None) -> EvaluationData:
    """Amazon 2014 Grocery 5-core, ReChorus edition (14,681 users, 8,713 items, no text)."""
    base = _require(data_root(root) / "grocery2014-rechorus")
    parts = [pd.read_csv(_require(base / f"{name}.csv")) for name in ("train", "dev", "test")]
    log = pd.concat(parts, ignore_index=True)
    meta = pd.read_csv(_require(base / "item_meta.csv"))
    items = pd.DataFrame(
        {
            "item_id": meta["item_id"].astype(str),
            "title": "",
            "brand": "",
            # The only content there is: an anonymous category id, written as a word so text methods
            # can match it.
            "category": "grocery category " + meta["i_category"].astype(str),
            "description": "",
        }
    )
    items = items.sort_values("item_id").reset_index(drop=True)
    interactions = interactions_frame(
        log["user_id"], log["item_id"], pd.to_datetime(log["time"], unit="s"), events="purchase"
    )
    complements, substitutes = (
        {
            str(item_id): [str(other) for other in json.loads(links)]
            for item_id, links in zip(meta["item_id"], meta[column], strict=True)
            if isinstance(links, str) and links.strip() not in ("", "[]")
        }
        for column in ("r_complement", "r_substitute")
    )
    return EvaluationData(
        name="Grocery (Amazon 2014, 5-core)", items=items, interactions=interactions, complements=complements,
        substitutes=substitutes,
    )


DATASETS: dict[str, Callable[..., EvaluationData]] = {
    "gift_cards": gift_cards,
    "magazine": magazine,
    "grocery": grocery,
    "magazine_ratings": magazine_ratings,
}
