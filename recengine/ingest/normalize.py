"""Turn a file's raw rows into the workspace's fields, vectorised, and sort out the rows to reject.

Per kind: ids become strings, Amazon's nested fields are flattened (description lists joined, category
lists kept as an 'A > B > C' path, the first image of a list), prices such as "$25.00" are parsed,
HTML-fragment titles are detected and replaced by a title built from brand and description, times are
read from unix seconds or milliseconds or date strings, ratings must lie in 1..5. Columns mapped to no
field are kept in `attributes` (a JSON object). Free text (review text, description) stays verbatim.

Parsing of messy strings (prices, dates, booleans, HTML) runs once per distinct value, not per row, so
that a million rows with a few thousand distinct values cost a few thousand parses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recengine.ingest.mapping import ATTRIBUTES, FIELDS
from recengine.ingest.readers import RawTable
from recengine.ingest.sources import Kind
from recengine.ingest.values import (
    boolean_column,
    category_column,
    clean_line,
    description_column,
    distinct_strings,
    empty_column,
    first_of_list_column,
    identifier_column,
    number_column,
    parse_timestamps,
    per_distinct,
    plain_number,
    price_column,
    rating_value,
    text_column,
    title_column,
)

# Column types of the normalised frame per kind (besides row_number and attributes).
STRING_FIELDS = {
    "catalog": ("item_id", "title", "description", "brand", "category", "image_url"),
    "reviews": ("review_id", "user_id", "item_id", "title", "text"),
    "interactions": ("interaction_id", "user_id", "item_id", "event"),
}

EVENT_SYNONYMS = {
    "view": "view",
    "views": "view",
    "pageview": "view",
    "page_view": "view",
    "detail": "view",
    "impression": "view",
    "viewed": "view",
    "visit": "view",
    "click": "click",
    "clicks": "click",
    "clicked": "click",
    "cart": "cart",
    "add_to_cart": "cart",
    "addtocart": "cart",
    "add-to-cart": "cart",
    "basket": "cart",
    "addtobasket": "cart",
    "carted": "cart",
    "purchase": "purchase",
    "purchased": "purchase",
    "buy": "purchase",
    "bought": "purchase",
    "order": "purchase",
    "ordered": "purchase",
    "transaction": "purchase",
    "checkout": "purchase",
    "sale": "purchase",
}
# Files of interactions without an event column are order/purchase histories (the common export).
DEFAULT_EVENT = "purchase"


@dataclass(frozen=True, eq=False)
class NormalizedRows:
    """The valid rows in workspace fields, and the rejected ones with their reasons."""

    rows: pd.DataFrame  # row_number, the kind's fields, attributes
    rejects: pd.DataFrame  # row_number, column_name, reason, raw
    rows_read: int


def normalize(table: RawTable, kind: Kind, mapping: dict[str, str]) -> NormalizedRows:
    """Map and clean `table`'s rows for a `kind` table; never raises on bad values (they are rejected)."""
    frame = table.frame.reset_index(drop=True)
    count = len(frame)
    column_of = {
        target: column for column, target in mapping.items() if target in FIELDS[kind] and column in frame
    }
    reason = pd.Series([None] * count, dtype=object)
    reason_column = pd.Series([None] * count, dtype=object)

    def reject(mask: pd.Series, why: str, field_name: str) -> None:
        new = mask.fillna(False).astype(bool) & reason.isna()
        if new.any():
            reason[new] = why
            reason_column[new] = column_of.get(field_name, field_name)

    def source(field_name: str) -> pd.Series | None:
        column = column_of.get(field_name)
        return frame[column] if column is not None else None

    out = pd.DataFrame({"row_number": table.row_numbers.astype(np.int64)})
    extra: dict[str, pd.Series] = {}
    if kind == "catalog":
        _catalog(out, source, reject, extra, count)
    elif kind == "reviews":
        _reviews(out, source, reject, count)
    else:
        _interactions(out, source, reject, count)

    attribute_columns = [
        column for column, target in mapping.items() if target == ATTRIBUTES and column in frame
    ]
    out["attributes"] = attributes_json(frame[attribute_columns], extra)

    rejected = reason.notna().to_numpy()
    any_rejected = bool(rejected.any())
    rejects = pd.DataFrame(
        {
            "row_number": out["row_number"].to_numpy()[rejected],
            "column_name": reason_column.to_numpy()[rejected],
            "reason": reason.to_numpy()[rejected],
            "raw": raw_json(frame.loc[rejected]) if any_rejected else [],
        }
    )
    broken = pd.DataFrame(
        {
            "row_number": [row.row_number for row in table.broken],
            "column_name": [None] * len(table.broken),
            "reason": [row.reason for row in table.broken],
            "raw": [row.raw for row in table.broken],
        }
    )
    if len(broken):
        rejects = pd.concat([rejects, broken], ignore_index=True) if len(rejects) else broken
    rows = out.loc[~rejected].reset_index(drop=True) if any_rejected else out
    return NormalizedRows(rows=rows, rejects=rejects.reset_index(drop=True), rows_read=table.rows_read)


# -- per kind -----------------------------------------------------------------------------------------

Source = Callable[[str], "pd.Series | None"]
Reject = Callable[[pd.Series, str, str], None]


def _catalog(
    out: pd.DataFrame, source: Source, reject: Reject, extra: dict[str, pd.Series], count: int
) -> None:
    item_id = identifier_column(source("item_id"), count)
    reject(item_id.isna(), "missing item_id", "item_id")
    out["item_id"] = item_id
    brand = clean_line(text_column(source("brand"), count))
    description = description_column(source("description"), count)
    category = category_column(source("category"), count)
    raw_title = text_column(source("title"), count)
    title, was_html = title_column(raw_title)
    fallback = _fallback_title(brand, description, category, item_id)
    needs_fallback = title.isna()
    title = title.where(~needs_fallback, fallback)
    if was_html.any():
        extra["original_title"] = raw_title.where(was_html, None)
    price_source = source("price")
    price, price_bad = price_column(price_source, count)
    reject(price_bad, "unparseable price", "price")
    stock_source = source("in_stock")
    in_stock, stock_unknown = boolean_column(stock_source, count)
    if stock_unknown.any() and stock_source is not None:
        extra["in_stock_raw"] = text_column(stock_source, count).where(stock_unknown, None)
    out["title"] = title
    out["description"] = description
    out["brand"] = brand
    out["category"] = category
    out["price"] = price
    out["in_stock"] = in_stock
    out["image_url"] = first_of_list_column(source("image_url"), count)


def _reviews(out: pd.DataFrame, source: Source, reject: Reject, count: int) -> None:
    item_id = identifier_column(source("item_id"), count)
    reject(item_id.isna(), "missing item_id", "item_id")
    rating, rating_not_number = number_column(source("rating"), count, rating_value)
    reject(rating_not_number, "rating is not a number", "rating")
    reject(rating.notna() & ~rating.between(1, 5), "rating outside 1-5", "rating")
    timestamp, timestamp_bad = parse_timestamps(source("timestamp"), count)
    reject(timestamp_bad, "unparseable timestamp", "timestamp")
    out["review_id"] = identifier_column(source("review_id"), count)
    out["user_id"] = identifier_column(source("user_id"), count)
    out["item_id"] = item_id
    out["rating"] = rating
    out["title"] = text_column(source("title"), count)
    out["text"] = text_column(source("text"), count, strip=False)
    out["timestamp"] = timestamp


def _interactions(out: pd.DataFrame, source: Source, reject: Reject, count: int) -> None:
    user_id = identifier_column(source("user_id"), count)
    item_id = identifier_column(source("item_id"), count)
    reject(user_id.isna(), "missing user_id", "user_id")
    reject(item_id.isna(), "missing item_id", "item_id")
    event_text = text_column(source("event"), count)
    event = event_text.str.lower().str.replace(r"\s+", "_", regex=True).map(EVENT_SYNONYMS)
    reject(event_text.notna() & event.isna(), "unknown event (use view, click, cart or purchase)", "event")
    event = event.where(event_text.notna(), DEFAULT_EVENT)
    timestamp, timestamp_bad = parse_timestamps(source("timestamp"), count)
    reject(timestamp_bad, "unparseable timestamp", "timestamp")
    quantity, quantity_bad = number_column(source("quantity"), count, plain_number)
    reject(quantity_bad, "quantity is not a number", "quantity")
    reject(quantity.notna() & (quantity < 0), "negative quantity", "quantity")
    out["interaction_id"] = identifier_column(source("interaction_id"), count)
    out["user_id"] = user_id
    out["item_id"] = item_id
    out["event"] = event.astype("string")
    out["timestamp"] = timestamp
    out["quantity"] = quantity


# -- titles ----------------------------------------------------------------------------------------------


def _fallback_title(
    brand: pd.Series, description: pd.Series, category: pd.Series, item_id: pd.Series
) -> pd.Series:
    """A readable title from brand and the start of the description, else the category's last part."""
    sentence = (
        pd.Series(description, dtype="string").str.extract(r"^\s*([^\n.!?]{3,})", expand=False).str.strip()
    )
    long = sentence.str.len() > 80
    shortened = sentence.str.slice(0, 80).str.replace(r"\s+\S*$", "", regex=True) + "…"
    first_sentence = sentence.where(~long.fillna(False).astype(bool), shortened)
    leaf = pd.Series(category, dtype="string").str.split(" > ").str[-1].astype("string")
    brand_text = pd.Series(brand, dtype="string")
    identifier = pd.Series(item_id, dtype="string")
    combined = (brand_text + ": " + first_sentence).fillna(brand_text).fillna(first_sentence)
    # Only a category: its last part alone would repeat across products, so add the id.
    combined = combined.fillna(leaf + " (" + identifier + ")")
    return combined.fillna(identifier)


# -- JSON columns -----------------------------------------------------------------------------------------


def attributes_json(frame: pd.DataFrame, extra: dict[str, pd.Series] | None = None) -> pd.Series:
    """One JSON object per row of the unmapped columns (nulls and empty strings left out)."""
    count = len(frame)
    columns: dict[str, pd.Series] = {}
    for column in frame.columns:
        columns[str(column)] = frame[column].reset_index(drop=True)
    for key, values in (extra or {}).items():
        columns[key] = values.reset_index(drop=True)
    if not columns or count == 0:
        return empty_column(count)
    parts: list[pd.Series] = []
    for key, values in columns.items():
        encoded = _json_values(values)
        parts.append(("," + json.dumps(key, ensure_ascii=False) + ":" + encoded).where(encoded.notna(), ""))
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + part
    return ("{" + joined.str.slice(1) + "}").where(joined != "", pd.NA)


def _json_values(values: pd.Series) -> pd.Series:
    """JSON encodings of a column's values as strings; None where the value is missing or empty."""
    if pd.api.types.is_bool_dtype(values.dtype):
        flags = values.astype("boolean")
        words = pd.Series(np.where(flags.fillna(False).to_numpy(dtype=bool), "true", "false"), dtype="string")
        return words.where(flags.notna().to_numpy(dtype=bool), pd.NA)
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.astype("string")
    if pd.api.types.is_float_dtype(values.dtype):
        return values.where(np.isfinite(values.astype(float))).astype("string")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return '"' + values.astype("string") + '"'

    def encode(value: Any) -> str | None:
        if (
            value is None
            or (isinstance(value, float) and math.isnan(value))
            or value is pd.NA
            or value is pd.NaT
        ):
            return None
        if isinstance(value, str):
            if not value.strip():
                return None
            if value[:1] in "[{" and value.rstrip()[-1:] in "]}":
                # A list or object exported into a CSV cell ("[4496, 194]") is kept as JSON, not text.
                try:
                    return json.dumps(json.loads(value), ensure_ascii=False)
                except (ValueError, RecursionError):
                    pass
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, (np.integer, np.floating, np.bool_)):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return None
        try:
            return json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            return json.dumps(str(value), ensure_ascii=False)

    if pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_object_dtype(values.dtype):
        return distinct_strings(values, encode)
    return pd.Series(per_distinct(values.astype(object), encode), dtype="string")


def raw_json(frame: pd.DataFrame) -> list[str]:
    """The rows of `frame` as JSON objects (all columns, as read), for the rejects table."""
    if frame.empty:
        return []
    encoded = attributes_json(frame).fillna("{}")
    return encoded.tolist()
