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

import html
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recengine.ingest.mapping import ATTRIBUTES, FIELDS
from recengine.ingest.readers import RawTable
from recengine.ingest.sources import Kind

# Values of numeric/date/boolean columns that mean "no value".
NULL_TOKENS = frozenset({"", "null", "none", "nan", "n/a", "na", "-", "--", "nil", "#n/a"})

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
    item_id = _identifier(source("item_id"), count)
    reject(item_id.isna(), "missing item_id", "item_id")
    out["item_id"] = item_id
    brand = _clean_line(_text(source("brand"), count))
    description = _description(source("description"), count)
    category = _category(source("category"), count)
    raw_title = _text(source("title"), count)
    title, was_html = _title(raw_title)
    fallback = _fallback_title(brand, description, category, item_id)
    needs_fallback = title.isna()
    title = title.where(~needs_fallback, fallback)
    if was_html.any():
        extra["original_title"] = raw_title.where(was_html, None)
    price_source = source("price")
    price, price_bad = _price(price_source, count)
    reject(price_bad, "unparseable price", "price")
    stock_source = source("in_stock")
    in_stock, stock_unknown = _boolean(stock_source, count)
    if stock_unknown.any() and stock_source is not None:
        extra["in_stock_raw"] = _text(stock_source, count).where(stock_unknown, None)
    out["title"] = title
    out["description"] = description
    out["brand"] = brand
    out["category"] = category
    out["price"] = price
    out["in_stock"] = in_stock
    out["image_url"] = _first_of_list(source("image_url"), count)


def _reviews(out: pd.DataFrame, source: Source, reject: Reject, count: int) -> None:
    item_id = _identifier(source("item_id"), count)
    reject(item_id.isna(), "missing item_id", "item_id")
    rating, rating_not_number = _number(source("rating"), count, _rating_value)
    reject(rating_not_number, "rating is not a number", "rating")
    reject(rating.notna() & ~rating.between(1, 5), "rating outside 1-5", "rating")
    timestamp, timestamp_bad = parse_timestamps(source("timestamp"), count)
    reject(timestamp_bad, "unparseable timestamp", "timestamp")
    out["review_id"] = _identifier(source("review_id"), count)
    out["user_id"] = _identifier(source("user_id"), count)
    out["item_id"] = item_id
    out["rating"] = rating
    out["title"] = _text(source("title"), count)
    out["text"] = _text(source("text"), count, strip=False)
    out["timestamp"] = timestamp


def _interactions(out: pd.DataFrame, source: Source, reject: Reject, count: int) -> None:
    user_id = _identifier(source("user_id"), count)
    item_id = _identifier(source("item_id"), count)
    reject(user_id.isna(), "missing user_id", "user_id")
    reject(item_id.isna(), "missing item_id", "item_id")
    event_text = _text(source("event"), count)
    event = event_text.str.lower().str.replace(r"\s+", "_", regex=True).map(EVENT_SYNONYMS)
    reject(event_text.notna() & event.isna(), "unknown event (use view, click, cart or purchase)", "event")
    event = event.where(event_text.notna(), DEFAULT_EVENT)
    timestamp, timestamp_bad = parse_timestamps(source("timestamp"), count)
    reject(timestamp_bad, "unparseable timestamp", "timestamp")
    quantity, quantity_bad = _number(source("quantity"), count, _plain_number)
    reject(quantity_bad, "quantity is not a number", "quantity")
    reject(quantity.notna() & (quantity < 0), "negative quantity", "quantity")
    out["interaction_id"] = _identifier(source("interaction_id"), count)
    out["user_id"] = user_id
    out["item_id"] = item_id
    out["event"] = event.astype("string")
    out["timestamp"] = timestamp
    out["quantity"] = quantity


# -- value cleaning -------------------------------------------------------------------------------------


def _empty(count: int) -> pd.Series:
    return pd.Series(pd.array([None] * count, dtype="string"))


def _to_text(value: Any) -> str | None:
    """One non-string value as text: numbers without a spurious '.0', containers as JSON."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isnan(number):
            return None
        return str(int(number)) if number.is_integer() and abs(number) < 2**63 else repr(number)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _strings(series: pd.Series) -> pd.Series:
    """Any column as a pandas string Series (Arrow-backed); non-strings converted by `_to_text`."""
    series = series.reset_index(drop=True)
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(series.dtype):
        return series.astype("string")
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return pd.Series([_to_text(value) for value in series.astype(object)], dtype="string")
    values = series.astype(object)
    is_text = np.fromiter((isinstance(value, str) for value in values), dtype=bool, count=len(values))
    if not is_text.all():
        values = values.copy()
        values[~is_text] = [_to_text(value) for value in values[~is_text]]
    return pd.Series(values, dtype="string")


def _text(series: pd.Series | None, count: int, *, strip: bool = True) -> pd.Series:
    """Text values (string dtype), empty ones as NA. With `strip` False the text stays verbatim."""
    if series is None:
        return _empty(count)
    text = _strings(series)
    if strip:
        stripped = text.str.strip()
        return stripped.where(stripped != "", pd.NA)
    # Verbatim text: only values starting with white space can be blank; strip just those (long
    # review texts are expensive to copy).
    blank = (text == "").fillna(False).astype(bool)
    spaced = (text.str.slice(0, 1).str.strip() == "").fillna(False).astype(bool)
    if spaced.any():
        blank[spaced] = (text[spaced].str.strip() == "").fillna(False).astype(bool)
    return text.where(~blank, pd.NA)


def _identifier(series: pd.Series | None, count: int) -> pd.Series:
    return _text(series, count)


def _clean_line(text: pd.Series) -> pd.Series:
    """Unescape HTML entities and collapse whitespace (brands, categories)."""
    if text.isna().all():
        return text
    needs_unescape = text.str.contains("&", regex=False).fillna(False).astype(bool)
    if needs_unescape.any():
        text = text.copy()
        text[needs_unescape] = [html.unescape(value) for value in text[needs_unescape]]
    collapsed = text.str.replace(r"\s+", " ", regex=True).str.strip()
    return collapsed.where(collapsed != "", pd.NA)


# Marks a value that is present but cannot be parsed (a `None` result means "no value").
_BAD = object()


def _per_distinct(series: pd.Series, function: Callable[[Any], Any]) -> pd.Series:
    """Apply `function` once per distinct non-null value (hashable or not) and map the results back.

    Returns an object Series; rows with a null input get None.
    """
    series = series.reset_index(drop=True)
    result = np.full(len(series), None, dtype=object)
    present = series.notna().to_numpy(dtype=bool)
    if not present.any():
        return pd.Series(result, dtype=object)
    values = series.to_numpy(dtype=object)[present]
    try:
        codes, distinct = pd.factorize(values)
        outputs = np.empty(len(distinct), dtype=object)
        outputs[:] = [function(value) for value in distinct]
        result[present] = outputs[codes]
    except TypeError:  # unhashable values (lists from JSON): parse each
        parsed = np.empty(len(values), dtype=object)
        parsed[:] = [function(value) for value in values]
        result[present] = parsed
    return pd.Series(result, dtype=object)


def _bad_mask(parsed: pd.Series) -> pd.Series:
    return pd.Series(np.fromiter((value is _BAD for value in parsed), dtype=bool, count=len(parsed)))


def _floats(parsed: pd.Series) -> pd.Series:
    return pd.Series([value if isinstance(value, float) else np.nan for value in parsed], dtype=float)


def _description(series: pd.Series | None, count: int) -> pd.Series:
    if series is None:
        return _empty(count)

    def join(value: Any) -> str | None:
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            parts = [str(part).strip() for part in _flatten(value) if part is not None and str(part).strip()]
            return "\n".join(parts) or None
        return _to_text(value)

    joined = _per_distinct(series.reset_index(drop=True).astype(object), join)
    return _text(joined, count)


def _flatten(values: Any) -> list[Any]:
    flat: list[Any] = []
    for value in values:
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            flat.extend(_flatten(value))
        else:
            flat.append(value)
    return flat


def _category(series: pd.Series | None, count: int) -> pd.Series:
    """Category lists (Amazon: ["A", "B", "C"], 2014: [["A", "B"]]) as 'A > B > C'; 'A>B' spaced."""
    if series is None:
        return _empty(count)

    def path(value: Any) -> str | None:
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if isinstance(value, (list, tuple)):
            if value and isinstance(value[0], (list, tuple, np.ndarray)):
                value = list(value[0])  # Amazon 2014: a list of paths; the first is the main one
            parts = [html.unescape(str(part)).strip() for part in _flatten(value) if part is not None]
        else:
            text = _to_text(value)
            if text is None:
                return None
            parts = [html.unescape(part).strip() for part in text.split(">")]
        # Scraped catalogs leave tag debris ("</span></span>") in category lists.
        parts = [re.sub(r"\s+", " ", _TAG.sub(" ", part)).strip() if "<" in part else part for part in parts]
        parts = [part for part in parts if part]
        deduplicated = [
            part for position, part in enumerate(parts) if position == 0 or part != parts[position - 1]
        ]
        return " > ".join(deduplicated) or None

    return pd.Series(_per_distinct(series.reset_index(drop=True).astype(object), path), dtype="string")


def _first_of_list(series: pd.Series | None, count: int) -> pd.Series:
    if series is None:
        return _empty(count)

    def first(value: Any) -> str | None:
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            flat = [part for part in _flatten(value) if part]
            return str(flat[0]).strip() if flat else None
        return _to_text(value)

    return _text(_per_distinct(series.reset_index(drop=True).astype(object), first), count)


_TAG = re.compile(r"<\s*/?\s*[A-Za-z!][^<>]*(?:>|$)")


def _title(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Titles with HTML tags stripped and entities unescaped; whether each one was an HTML fragment."""
    was_html = raw.notna() & pd.Series(raw, dtype="string").str.contains(_TAG, regex=True).fillna(
        False
    ).astype(bool)

    def clean(value: str) -> str | None:
        text = _TAG.sub(" ", value) if "<" in value else value
        text = html.unescape(text) if "&" in text else text
        text = re.sub(r"\s+", " ", text).strip()
        # A fragment such as '<span class="a-size-medium' leaves quote or attribute debris only.
        return text if re.search(r"[A-Za-z0-9]{2}", text) else None

    return pd.Series(_per_distinct(raw, clean), dtype="string"), was_html.astype(bool)


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


_PRICE_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:[ ,.'\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?|[.,]\d+)"
)
_PRICE_ALLOWED = re.compile(r"^[\s$€£¥₹\u00a0\u202fA-Za-z.:,'0-9\-–~/]*$")


def parse_price(value: Any) -> Any:
    """A price from a number or a string such as "$25.00", "1.299,00 €", "USD 12", "$10.99 - $15.99".

    Ranges give their lower bound. Returns None for no value and `_BAD` for something that is no price
    at all (HTML, CSS, words).
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        number = float(value)
        return None if math.isnan(number) else number
    text = _to_text(value)
    if text is None or text.strip().lower() in NULL_TOKENS:
        return None
    text = text.strip()
    if len(text) > 64 or not _PRICE_ALLOWED.match(text) or not any(character.isdigit() for character in text):
        return _BAD
    letters = re.sub(r"[^A-Za-z]", "", text).lower()
    if letters and letters not in {
        "usd",
        "eur",
        "gbp",
        "chf",
        "jpy",
        "cad",
        "aud",
        "inr",
        "from",
        "to",
        "ca",
        "us",
        "c",
        "a",
        "r",
        "s",
        "kr",
        "sek",
        "nok",
        "dkk",
        "pln",
        "zl",
    }:
        return _BAD
    match = _PRICE_NUMBER.search(text)
    if match is None:
        return _BAD
    token = match.group(1).replace(" ", "").replace("'", "").replace("\u00a0", "").replace("\u202f", "")
    if "," in token and "." in token:
        decimal = "," if token.rfind(",") > token.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        token = token.replace(thousands, "").replace(decimal, ".")
    elif "," in token:
        head, _, tail = token.rpartition(",")
        token = (
            token.replace(",", "")
            if len(tail) == 3 and head.replace(",", "").isdigit() and "," in token[:-4] + ","
            else head.replace(",", "") + "." + tail
        )
    elif token.count(".") > 1:
        token = token.replace(".", "")
    try:
        return float(token)
    except ValueError:
        return _BAD


def _price(series: pd.Series | None, count: int) -> tuple[pd.Series, pd.Series]:
    if series is None:
        return pd.Series(np.full(count, np.nan)), pd.Series(np.zeros(count, dtype=bool))
    series = series.reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.astype(float)
        bad = pd.Series(((values < 0) | np.isinf(values)).to_numpy(dtype=bool))
        return values.where(~bad, np.nan), bad
    parsed = _per_distinct(series.astype(object), parse_price)
    numbers = _floats(parsed)
    bad = _bad_mask(parsed) | (numbers < 0) | np.isinf(numbers)
    return numbers.where(~bad, np.nan), bad


_RATING_TEXT = re.compile(
    r"^\s*(\d+(?:[.,]\d+)?)\s*(?:(?:/|out\s+of|of)\s*5(?:\.0)?)?\s*(?:stars?)?\s*$", re.IGNORECASE
)


def _rating_value(value: Any) -> Any:
    text = _to_text(value)
    if text is None or text.strip().lower() in NULL_TOKENS:
        return None
    match = _RATING_TEXT.match(text)
    return float(match.group(1).replace(",", ".")) if match else _BAD


def _plain_number(value: Any) -> Any:
    text = _to_text(value)
    if text is None or text.strip().lower() in NULL_TOKENS:
        return None
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return _BAD


def _fast_floats(text: pd.Series) -> pd.Series:
    """Floats from a string Series (NaN where not a number): one Arrow cast when every value is a
    plain number, else pandas' slower element-wise conversion."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        array = pa.array(text.array) if not hasattr(text.array, "_pa_array") else text.array._pa_array
        return pd.Series(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError, ValueError):
        return pd.Series(pd.to_numeric(text, errors="coerce"), dtype=float)


def _number(series: pd.Series | None, count: int, parse: Callable[[Any], Any]) -> tuple[pd.Series, pd.Series]:
    """Numbers from a column; the second result marks values present but not numbers."""
    if series is None:
        return pd.Series(np.full(count, np.nan)), pd.Series(np.zeros(count, dtype=bool))
    series = series.reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.astype(float)
        bad = pd.Series(np.isinf(values.to_numpy()))
        return values.where(~bad, np.nan), bad
    series = _text(series, count)
    # Fast path: plain numbers (the usual case) convert in one vectorised call.
    numbers = _fast_floats(series)
    bad = pd.Series(np.zeros(count, dtype=bool))
    left = (numbers.isna() & series.notna()).to_numpy(dtype=bool)
    if left.any():
        parsed = _per_distinct(series[left], parse)
        numbers[left] = _floats(parsed).to_numpy()
        bad[left] = _bad_mask(parsed).to_numpy()
    bad = bad | np.isinf(numbers)
    return numbers.where(~bad, np.nan), bad


_TRUE = {"true", "t", "yes", "y", "1", "in stock", "instock", "in_stock", "available", "ja", "oui", "si", "x"}
_FALSE = {
    "false",
    "f",
    "no",
    "n",
    "0",
    "out of stock",
    "outofstock",
    "out_of_stock",
    "unavailable",
    "sold out",
    "soldout",
    "nein",
    "non",
}


def _boolean(series: pd.Series | None, count: int) -> tuple[pd.Series, pd.Series]:
    """Booleans from flags, words or stock counts (> 0 is in stock); the second marks unknown words."""
    if series is None:
        return pd.Series(pd.array([None] * count, dtype="boolean")), pd.Series(np.zeros(count, dtype=bool))
    series = series.reset_index(drop=True)

    def flag(value: Any) -> Any:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, float, np.integer, np.floating)):
            return None if math.isnan(float(value)) else bool(float(value) > 0)
        text = (_to_text(value) or "").strip().lower()
        if text in NULL_TOKENS:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        try:
            return float(text) > 0
        except ValueError:
            return _BAD

    parsed = _per_distinct(series.astype(object), flag)
    unknown = _bad_mask(parsed)
    flags = pd.array([value if isinstance(value, bool) else None for value in parsed], dtype="boolean")
    return pd.Series(flags), unknown


# Unix times above these magnitudes are in milli-, micro- or nanoseconds (1e11 s is the year 5138).
_MS, _US, _NS = 1e11, 1e14, 1e17
_EARLIEST = pd.Timestamp("1900-01-01").value / 1e9
_LATEST = pd.Timestamp("2100-01-01").value / 1e9


def parse_timestamps(series: pd.Series | None, count: int) -> tuple[pd.Series, pd.Series]:
    """Times as naive UTC `datetime64[us]`; the second result marks values present but not times.

    Numbers are unix seconds, milliseconds, microseconds or nanoseconds (by magnitude); strings are
    ISO 8601 or anything pandas/dateutil reads ("06 17, 2018", "2018-06-17 10:00:00+02:00").
    """
    times = pd.Series(np.full(count, np.datetime64("NaT"), dtype="datetime64[us]"))
    bad = pd.Series(np.zeros(count, dtype=bool))
    if series is None:
        return times, bad
    series = series.reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return series.astype("datetime64[us]"), bad
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        numbers = series.astype(float)
        text = None
        text_left = np.zeros(count, dtype=bool)
    else:
        if (
            pd.api.types.is_object_dtype(series.dtype)
            and series.map(
                lambda value: hasattr(value, "year") and hasattr(value, "month"), na_action="ignore"
            )
            .fillna(False)
            .astype(bool)
            .any()
        ):
            # Excel cells: datetime objects mixed with strings; render them ISO for the string path.
            series = series.map(
                lambda value: value.isoformat() if hasattr(value, "isoformat") else value, na_action="ignore"
            )
        text = _text(series, count)
        text = text.where(~text.str.lower().isin(NULL_TOKENS).fillna(False).astype(bool), pd.NA)
        numbers = _fast_floats(text)
        text_left = (text.notna() & numbers.isna()).to_numpy(dtype=bool)
    # Numbers: scale to seconds by magnitude, range-check, convert in one call.
    magnitude = numbers.abs()
    seconds = numbers.where(magnitude < _MS, numbers / 1e3)
    seconds = seconds.where(magnitude < _US, numbers / 1e6)
    seconds = seconds.where(magnitude < _NS, numbers / 1e9)
    in_range = seconds.between(_EARLIEST, _LATEST)
    numeric_ok = (numbers.notna() & in_range).to_numpy(dtype=bool)
    if numeric_ok.any():
        microseconds = (seconds[numeric_ok] * 1e6).round().astype(np.int64).to_numpy()
        times[numeric_ok] = microseconds.astype("datetime64[us]")
    bad |= numbers.notna() & ~in_range
    if text is not None and text_left.any():
        parsed = _parse_date_strings(text[text_left])
        ok = parsed.notna().to_numpy(dtype=bool)
        positions = np.flatnonzero(text_left)
        times[positions[ok]] = parsed[ok].to_numpy(dtype="datetime64[us]")
        bad[positions[~ok]] = True
    return times, bad


def _parse_date_strings(strings: pd.Series) -> pd.Series:
    """Date strings as naive UTC times (NaT where unreadable or outside 1900-2100)."""
    strings = strings.reset_index(drop=True)
    result = pd.Series(np.full(len(strings), np.datetime64("NaT"), dtype="datetime64[us]"))
    try:
        iso = pd.to_datetime(strings, errors="coerce", utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        iso = pd.Series(pd.NaT, index=strings.index, dtype="datetime64[ns, UTC]")
    ok = iso.notna().to_numpy(dtype=bool)
    if ok.any():
        result[ok] = iso[ok].dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    if not ok.all():

        def one(value: str) -> Any:
            try:
                stamp = pd.to_datetime(value, utc=True, format="mixed")
            except (ValueError, TypeError, OverflowError):
                return None
            if not isinstance(stamp, pd.Timestamp) or pd.isna(stamp):
                return None
            return stamp.tz_convert("UTC").tz_localize(None).to_datetime64().astype("datetime64[us]")

        parsed = _per_distinct(strings[~ok], one)
        left = np.flatnonzero(~ok)
        for position, stamp in zip(left, parsed, strict=True):
            if stamp is not None:
                result[position] = stamp
    low, high = np.datetime64("1900-01-01", "us"), np.datetime64("2100-01-01", "us")
    values = result.to_numpy()
    result[(values < low) | (values > high)] = np.datetime64("NaT")
    return result


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
        return _empty(count)
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

    return pd.Series(_per_distinct(values.astype(object), encode), dtype="string")


def raw_json(frame: pd.DataFrame) -> list[str]:
    """The rows of `frame` as JSON objects (all columns, as read), for the rejects table."""
    if frame.empty:
        return []
    encoded = attributes_json(frame).fillna("{}")
    return encoded.tolist()
