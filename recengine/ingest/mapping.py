"""Column mapping: which source column feeds which field of the workspace.

Three layers, in order of precedence: the user's explicit mapping (`--map SRC=FIELD`, the Data page's
mapping editor), then synonyms of the field names (DESIGN.md), then, for header-less files only, a guess
from the columns' content (ids, 1-5 ratings, unix times, ...). Columns mapped to no field are kept as
attributes (JSON) so nothing is lost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pandas as pd

from recengine.errors import SchemaError
from recengine.ingest.sources import Kind

# Targets that are not fields: keep the column in `attributes`, or drop it.
ATTRIBUTES = "attributes"
IGNORE = "ignore"

# Fields per kind, in the order they are shown and filled positionally; the first ones are the keys.
FIELDS: dict[Kind, tuple[str, ...]] = {
    "catalog": ("item_id", "title", "description", "brand", "category", "price", "in_stock", "image_url"),
    "reviews": ("review_id", "user_id", "item_id", "rating", "title", "text", "timestamp"),
    "interactions": ("interaction_id", "user_id", "item_id", "event", "timestamp", "quantity"),
}

REQUIRED: dict[Kind, tuple[str, ...]] = {
    "catalog": ("item_id",),
    "reviews": ("item_id",),
    "interactions": ("user_id", "item_id"),
}

# Synonyms per field, best first. Compared after lower-casing and removing everything but letters and
# digits, so `reviewerID`, `reviewer_id` and `Reviewer ID` are the same name.
SYNONYMS: dict[Kind, dict[str, tuple[str, ...]]] = {
    "catalog": {
        "item_id": (
            "item_id",
            "asin",
            "sku",
            "product_id",
            "id",
            "item",
            "product_code",
            "article_number",
            "parent_asin",
        ),
        "title": ("title", "name", "product_name", "product_title", "item_name"),
        "description": ("description", "desc", "product_description", "long_description", "body_html"),
        "brand": ("brand", "manufacturer", "brand_name", "vendor", "maker"),
        "category": (
            "category",
            "categories",
            "category_path",
            "main_cat",
            "product_type",
            "department",
            "i_category",
        ),
        "price": ("price", "unit_price", "list_price", "sale_price"),
        "in_stock": (
            "in_stock",
            "stock",
            "instock",
            "available",
            "availability",
            "is_available",
            "stock_status",
        ),
        "image_url": ("image_url", "image", "images", "imurl", "image_link", "img", "picture", "thumbnail"),
    },
    "reviews": {
        "review_id": ("review_id", "id"),
        "user_id": ("user_id", "reviewer_id", "customer_id", "user", "customer", "author_id"),
        "item_id": ("item_id", "asin", "sku", "product_id", "item", "product", "parent_asin"),
        "rating": ("rating", "overall", "stars", "score", "star_rating", "review_rating", "rate"),
        "title": ("title", "summary", "review_title", "headline", "subject"),
        "text": ("text", "review_text", "body", "review", "review_body", "comment", "content"),
        "timestamp": (
            "timestamp",
            "unix_review_time",
            "date",
            "time",
            "review_date",
            "created_at",
            "datetime",
        ),
    },
    "interactions": {
        "interaction_id": ("interaction_id", "event_id", "id"),
        "user_id": ("user_id", "customer_id", "visitor_id", "user", "customer", "reviewer_id", "session_id"),
        "item_id": ("item_id", "asin", "sku", "product_id", "item", "product"),
        "event": ("event", "event_type", "action", "type", "interaction", "behavior", "behaviour"),
        "timestamp": (
            "timestamp",
            "time",
            "date",
            "datetime",
            "event_time",
            "ts",
            "created_at",
            "unix_review_time",
        ),
        "quantity": ("quantity", "qty", "count", "units"),
    },
}

POSITIONAL_PREFIX = "column_"


def fields_for(kind: Kind) -> list[str]:
    """The fields a file of `kind` can be mapped to, keys first."""
    return list(FIELDS[kind])


def targets_for(kind: Kind) -> list[str]:
    """Everything a column can be mapped to: the fields plus "attributes" and "ignore"."""
    return [*FIELDS[kind], ATTRIBUTES, IGNORE]


def positional_names(count: int) -> list[str]:
    """Column names given to a header-less file: column_1, column_2, ..."""
    return [f"{POSITIONAL_PREFIX}{position}" for position in range(1, count + 1)]


def normalise_name(name: str) -> str:
    """A column name compared with synonyms: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def resolve_mapping(
    file_name: str,
    kind: Kind,
    columns: Sequence[str],
    override: Mapping[str, str] | None = None,
    *,
    sample: pd.DataFrame | None = None,
    positional: bool = False,
    check_required: bool = True,
) -> dict[str, str]:
    """Source column -> target (a field, "attributes" or "ignore") for every column of the file.

    Args:
        file_name: used in error messages.
        kind: the table the rows go to.
        columns: the file's column names (column_1, ... for header-less files).
        override: explicit mapping that wins over everything detected.
        sample: the first rows, used to guess header-less columns from their content.
        positional: the file has no header, so guess from content and position.
        check_required: raise when a required field has no column (previews pass False).

    Raises:
        SchemaError: the override names an unknown column or field, maps two columns to one field, or a
            required field (e.g. item_id) has no column.
    """
    mapping: dict[str, str] = {}
    claimed: set[str] = set()
    column_by_name = {column: column for column in columns}
    # Accept "3" or "#3" for column_3 in header-less files, which is what people type.
    for position, column in enumerate(columns, start=1):
        column_by_name.setdefault(str(position), column)
        column_by_name.setdefault(f"#{position}", column)
    valid_targets = targets_for(kind)
    for source_column, target in (override or {}).items():
        column = column_by_name.get(source_column)
        if column is None:
            raise SchemaError(
                file_name,
                f"the mapping names a column {source_column!r} that the file does not have.",
                column=source_column,
                hint=f"Columns are: {', '.join(map(str, columns))}.",
            )
        target = target.strip()
        if target not in valid_targets:
            raise SchemaError(
                file_name,
                f"cannot map a column to {target!r}.",
                column=column,
                hint=f"Map {kind} columns to one of: {', '.join(valid_targets)}.",
            )
        if target in claimed and target not in (ATTRIBUTES, IGNORE):
            raise SchemaError(
                file_name,
                f"two columns are mapped to {target!r}.",
                column=column,
                hint="Map each field once.",
            )
        mapping[column] = target
        claimed.add(target)

    free_columns = [column for column in columns if column not in mapping]
    by_normalised: dict[str, str] = {}
    for column in free_columns:
        by_normalised.setdefault(normalise_name(column), column)
    for field_name, synonyms in SYNONYMS[kind].items():
        if field_name in claimed:
            continue
        for synonym in synonyms:
            column = by_normalised.get(normalise_name(synonym))
            if column is not None and column not in mapping:
                mapping[column] = field_name
                claimed.add(field_name)
                break

    if positional and sample is not None:
        for column, field_name in guess_from_content(
            kind, sample, [c for c in columns if c not in mapping], claimed
        ).items():
            mapping[column] = field_name
            claimed.add(field_name)

    for column in columns:
        mapping.setdefault(column, ATTRIBUTES)
    missing = [field_name for field_name in REQUIRED[kind] if field_name not in claimed]
    if missing and check_required:
        raise SchemaError(
            file_name,
            f"no column was recognised as {' or '.join(missing)} for a {kind} file.",
            column=None,
            hint=f"Columns are: {', '.join(map(str, columns))}. Map one by hand, e.g. --map {columns[0] if columns else 'COLUMN'}={missing[0]}.",
        )
    return mapping


def missing_required(kind: Kind, mapping: Mapping[str, str]) -> list[str]:
    """Required fields of `kind` that `mapping` does not fill."""
    filled = set(mapping.values())
    return [field_name for field_name in REQUIRED[kind] if field_name not in filled]


# -- guessing header-less columns from their content ----------------------------------------------

_ASIN = re.compile(r"^(?:B0[0-9A-Z]{8}|[0-9]{9}[0-9X])$")
_EVENTS = {
    "view",
    "click",
    "cart",
    "purchase",
    "buy",
    "order",
    "add_to_cart",
    "addtocart",
    "transaction",
    "pageview",
}


def guess_from_content(
    kind: Kind, sample: pd.DataFrame, columns: Sequence[str], claimed: set[str]
) -> dict[str, str]:
    """Guess fields of header-less columns from their values.

    Amazon's ratings-only exports are (item, user, rating, unix time); shops export (user, item, ...).
    So: a 1-5 number column is the rating, large integers or dates the timestamp, known event words the
    event, Amazon ASIN/ISBN-looking values the item id, long free text the review text, and the
    remaining short id-like columns fill the id fields in the order of `FIELDS`.
    """
    if kind == "catalog":
        free_fields = [f for f in FIELDS[kind] if f not in claimed]
        return dict(zip(columns, free_fields, strict=False))
    guessed: dict[str, str] = {}
    taken = set(claimed)
    profiles = {column: _profile(sample[column]) for column in columns if column in sample}

    def take(column: str, field_name: str) -> None:
        guessed[column] = field_name
        taken.add(field_name)

    for column, profile in profiles.items():
        if "timestamp" not in taken and profile["timestamp"]:
            take(column, "timestamp")
        elif kind == "reviews" and "rating" not in taken and profile["rating"]:
            take(column, "rating")
        elif kind == "interactions" and "event" not in taken and profile["event"]:
            take(column, "event")
        elif kind == "interactions" and "quantity" not in taken and profile["small_count"]:
            take(column, "quantity")
        elif kind == "reviews" and "text" not in taken and profile["long_text"]:
            take(column, "text")
    for column, profile in profiles.items():
        if column not in guessed and "item_id" not in taken and profile["asin"]:
            take(column, "item_id")
    id_fields = [f for f in ("user_id", "item_id") if f not in taken]
    for column, profile in profiles.items():
        if column in guessed or not id_fields or not profile["id_like"]:
            continue
        take(column, id_fields.pop(0))
    return guessed


def _profile(values: pd.Series) -> dict[str, bool]:
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    if text.empty:
        return dict.fromkeys(
            ("timestamp", "rating", "event", "small_count", "long_text", "asin", "id_like"), False
        )
    numbers = pd.to_numeric(text, errors="coerce")
    numeric = bool(numbers.notna().mean() >= 0.95)
    timestamp = numeric and bool(((numbers > 1e8) & (numbers < 1e14)).mean() >= 0.95)
    if not numeric:
        dates = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
        timestamp = bool(dates.notna().mean() >= 0.95) and bool(
            text.str.contains(r"\d{4}-\d{2}", regex=True).mean() >= 0.95
        )
    rating = numeric and bool(numbers.between(1, 5).mean() >= 0.99)
    small_count = numeric and bool(
        ((numbers >= 0) & (numbers < 1000) & (numbers == numbers.round())).mean() >= 0.99
    )
    lowered = text.str.lower()
    return {
        "timestamp": timestamp,
        "rating": rating,
        "event": bool(lowered.isin(_EVENTS).mean() >= 0.9),
        "small_count": small_count,
        "long_text": bool(text.str.len().mean() > 40 and text.str.contains(" ").mean() > 0.5),
        "asin": bool(text.str.match(_ASIN).mean() >= 0.9),
        "id_like": bool(text.str.len().max() <= 64 and not text.str.contains(" ").any()) and not timestamp,
    }
