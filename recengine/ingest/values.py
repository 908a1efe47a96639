"""Cleaning of single columns, vectorised: text, ids, numbers, prices, booleans, times, Amazon lists.

Every function takes a column (or None when the file has no such column) and returns a column of the
same length; parsers also return a mask of values that are present but unusable, which the caller turns
into rejections. Messy strings are parsed once per distinct value (`per_distinct`), not once per row.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

# Values of numeric/date/boolean columns that mean "no value".
NULL_TOKENS = frozenset({"", "null", "none", "nan", "n/a", "na", "-", "--", "nil", "#n/a"})


def empty_column(count: int) -> pd.Series:
    """A column of `count` missing strings (for fields the file has no column for)."""
    return pd.Series(pd.array([None] * count, dtype="string"))


def to_text(value: Any) -> str | None:
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


def string_column(series: pd.Series) -> pd.Series:
    """Any column as a pandas string Series (Arrow-backed); non-strings converted by `to_text`."""
    series = series.reset_index(drop=True)
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(series.dtype):
        return series.astype("string")
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return pd.Series([to_text(value) for value in series.astype(object)], dtype="string")
    values = series.astype(object)
    is_text = np.fromiter((isinstance(value, str) for value in values), dtype=bool, count=len(values))
    if not is_text.all():
        values = values.copy()
        values[~is_text] = [to_text(value) for value in values[~is_text]]
    return pd.Series(values, dtype="string")


def text_column(series: pd.Series | None, count: int, *, strip: bool = True) -> pd.Series:
    """Text values (string dtype), empty ones as NA. With `strip` False the text stays verbatim."""
    if series is None:
        return empty_column(count)
    text = string_column(series)
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


def identifier_column(series: pd.Series | None, count: int) -> pd.Series:
    """Ids as text: stripped, numbers without a trailing ".0", empty ones missing."""
    return text_column(series, count)


def clean_line(text: pd.Series) -> pd.Series:
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
BAD = object()


def per_distinct(series: pd.Series, function: Callable[[Any], Any]) -> pd.Series:
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


def distinct_strings(series: pd.Series, function: Callable[[Any], str | None]) -> pd.Series:
    """`per_distinct` for functions that return text: the result is assembled in Arrow from the
    distinct outputs and the row codes, without a Python object per row."""
    import pyarrow as pa

    series = series.reset_index(drop=True)
    try:
        codes, distinct = pd.factorize(series)
    except TypeError:  # unhashable values (lists from JSON)
        return pd.Series(per_distinct(series, function), dtype="string")
    dictionary = pa.array([function(value) for value in distinct], type=pa.string())
    indices = pa.array(codes.astype(np.int32), mask=codes < 0, type=pa.int32())
    strings = pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())
    return pd.Series(pd.arrays.ArrowStringArray(strings))


def bad_mask(parsed: pd.Series) -> pd.Series:
    """Which parsed values are `BAD` (present but unusable)."""
    return pd.Series(np.fromiter((value is BAD for value in parsed), dtype=bool, count=len(parsed)))


def floats_of(parsed: pd.Series) -> pd.Series:
    """The float results of a parse as a float column (NaN elsewhere)."""
    return pd.Series([value if isinstance(value, float) else np.nan for value in parsed], dtype=float)


def description_column(series: pd.Series | None, count: int) -> pd.Series:
    """Descriptions as text; Amazon's lists of paragraphs joined by line breaks."""
    if series is None:
        return empty_column(count)

    def join(value: Any) -> str | None:
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            parts = [str(part).strip() for part in _flatten(value) if part is not None and str(part).strip()]
            return "\n".join(parts) or None
        return to_text(value)

    joined = per_distinct(series.reset_index(drop=True).astype(object), join)
    return text_column(joined, count)


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


def category_column(series: pd.Series | None, count: int) -> pd.Series:
    """Category lists (Amazon: ["A", "B", "C"], 2014: [["A", "B"]]) as 'A > B > C'; 'A>B' spaced."""
    if series is None:
        return empty_column(count)

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
            text = to_text(value)
            if text is None:
                return None
            parts = [html.unescape(part).strip() for part in text.split(">")]
        # Scraped catalogs leave tag debris ("</span></span>") in category lists.
        parts = [
            re.sub(r"\s+", " ", HTML_TAG.sub(" ", part)).strip() if "<" in part else part for part in parts
        ]
        parts = [part for part in parts if part]
        deduplicated = [
            part for position, part in enumerate(parts) if position == 0 or part != parts[position - 1]
        ]
        return " > ".join(deduplicated) or None

    return pd.Series(per_distinct(series.reset_index(drop=True).astype(object), path), dtype="string")


def first_of_list_column(series: pd.Series | None, count: int) -> pd.Series:
    """The first URL of a list of images (Amazon), else the value as text."""
    if series is None:
        return empty_column(count)

    def first(value: Any) -> str | None:
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            flat = [part for part in _flatten(value) if part]
            return str(flat[0]).strip() if flat else None
        return to_text(value)

    return text_column(per_distinct(series.reset_index(drop=True).astype(object), first), count)


HTML_TAG = re.compile(r"<\s*/?\s*[A-Za-z!][^<>]*(?:>|$)")


def title_column(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Titles with HTML tags stripped and entities unescaped; whether each one was an HTML fragment."""
    was_html = raw.notna() & pd.Series(raw, dtype="string").str.contains(HTML_TAG, regex=True).fillna(
        False
    ).astype(bool)

    def clean(value: str) -> str | None:
        text = HTML_TAG.sub(" ", value) if "<" in value else value
        text = html.unescape(text) if "&" in text else text
        text = re.sub(r"\s+", " ", text).strip()
        # A fragment such as '<span class="a-size-medium' leaves quote or attribute debris only.
        return text if re.search(r"[A-Za-z0-9]{2}", text) else None

    return pd.Series(per_distinct(raw, clean), dtype="string"), was_html.astype(bool)


_PRICE_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:[ ,.'\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?|[.,]\d+)"
)
_PRICE_ALLOWED = re.compile(r"^[\s$€£¥₹\u00a0\u202fA-Za-z.:,'0-9\-–~/]*$")


def parse_price(value: Any) -> Any:
    """A price from a number or a string such as "$25.00", "1.299,00 €", "USD 12", "$10.99 - $15.99".

    Ranges give their lower bound. Returns None for no value and `BAD` for something that is no price
    at all (HTML, CSS, words).
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        number = float(value)
        return None if math.isnan(number) else number
    text = to_text(value)
    if text is None or text.strip().lower() in NULL_TOKENS:
        return None
    text = text.strip()
    if len(text) > 64 or not _PRICE_ALLOWED.match(text) or not any(character.isdigit() for character in text):
        return BAD
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
        return BAD
    match = _PRICE_NUMBER.search(text)
    if match is None:
        return BAD
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
        return BAD


def price_column(series: pd.Series | None, count: int) -> tuple[pd.Series, pd.Series]:
    """Prices as floats; the mask marks values that are no price at all (or negative)."""
    if series is None:
        return pd.Series(np.full(count, np.nan)), pd.Series(np.zeros(count, dtype=bool))
    series = series.reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.astype(float)
        bad = pd.Series(((values < 0) | np.isinf(values)).to_numpy(dtype=bool))
        return values.where(~bad, np.nan), bad
    parsed = per_distinct(series.astype(object), parse_price)
    numbers = floats_of(parsed)
    bad = bad_mask(parsed) | (numbers < 0) | np.isinf(numbers)
    return numbers.where(~bad, np.nan), bad


_RATING_TEXT = re.compile(
    r"^\s*(\d+(?:[.,]\d+)?)\s*(?:(?:/|out\s+of|of)\s*5(?:\.0)?)?\s*(?:stars?)?\s*$", re.IGNORECASE
)


def rating_value(value: Any) -> Any:
    """A rating from "4", "4.5", "4,5", "4/5", "4 out of 5 stars"; None when empty, else `BAD`."""
    text = to_text(value)
    if text is None or text.strip().lower() in NULL_TOKENS:
        return None
    match = _RATING_TEXT.match(text)
    return float(match.group(1).replace(",", ".")) if match else BAD


def plain_number(value: Any) -> Any:
    """A number from text (decimal comma allowed); None when empty, else `BAD`."""
    text = to_text(value)
    if text is None or text.strip().lower() in NULL_TOKENS:
        return None
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return BAD


def fast_floats(text: pd.Series) -> pd.Series:
    """Floats from a string Series (NaN where not a number): one Arrow cast when every value is a
    plain number, else pandas' slower element-wise conversion."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        array = pa.array(text.array) if not hasattr(text.array, "_pa_array") else text.array._pa_array
        return pd.Series(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError, ValueError):
        return pd.Series(pd.to_numeric(text, errors="coerce"), dtype=float)


def number_column(
    series: pd.Series | None, count: int, parse: Callable[[Any], Any]
) -> tuple[pd.Series, pd.Series]:
    """Numbers from a column; the second result marks values present but not numbers."""
    if series is None:
        return pd.Series(np.full(count, np.nan)), pd.Series(np.zeros(count, dtype=bool))
    series = series.reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.astype(float)
        bad = pd.Series(np.isinf(values.to_numpy()))
        return values.where(~bad, np.nan), bad
    series = text_column(series, count)
    # Fast path: plain numbers (the usual case) convert in one vectorised call.
    numbers = fast_floats(series)
    bad = pd.Series(np.zeros(count, dtype=bool))
    left = (numbers.isna() & series.notna()).to_numpy(dtype=bool)
    if left.any():
        parsed = per_distinct(series[left], parse)
        numbers[left] = floats_of(parsed).to_numpy()
        bad[left] = bad_mask(parsed).to_numpy()
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


def boolean_column(series: pd.Series | None, count: int) -> tuple[pd.Series, pd.Series]:
    """Booleans from flags, words or stock counts (> 0 is in stock); the second marks unknown words."""
    if series is None:
        return pd.Series(pd.array([None] * count, dtype="boolean")), pd.Series(np.zeros(count, dtype=bool))
    series = series.reset_index(drop=True)

    def flag(value: Any) -> Any:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, float, np.integer, np.floating)):
            return None if math.isnan(float(value)) else bool(float(value) > 0)
        text = (to_text(value) or "").strip().lower()
        if text in NULL_TOKENS:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        try:
            return float(text) > 0
        except ValueError:
            return BAD

    parsed = per_distinct(series.astype(object), flag)
    unknown = bad_mask(parsed)
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
        text = text_column(series, count)
        text = text.where(~text.str.lower().isin(NULL_TOKENS).fillna(False).astype(bool), pd.NA)
        numbers = fast_floats(text)
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

        parsed = per_distinct(strings[~ok], one)
        left = np.flatnonzero(~ok)
        for position, stamp in zip(left, parsed, strict=True):
            if stamp is not None:
                result[position] = stamp
    low, high = np.datetime64("1900-01-01", "us"), np.datetime64("2100-01-01", "us")
    values = result.to_numpy()
    result[(values < low) | (values > high)] = np.datetime64("NaT")
    return result
