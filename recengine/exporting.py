"""Export a workspace table to CSV, JSON Lines, Parquet or Excel, chosen by the file's extension.

Spreadsheets run cells that start with `=`, `+`, `-` or `@` as formulas, so text cells that begin with
one of them (customers type anything into reviews) are prefixed with a single quote in CSV and Excel
output (OWASP's advice against CSV injection). JSON Lines and Parquet are data formats and keep values
exactly. Review text leaves the workspace masked (e-mail addresses, phone and card numbers) unless the
workspace's `privacy.mask_personal_data` setting (or the call's `mask_personal_data`) is off. With
`pseudonymize_users`, every user id (the `user_id` column, and user id fields inside a rejected row's
raw JSON) is replaced by a keyed HMAC pseudonym: the key is a random secret kept in the workspace
database, so one customer has the same pseudonym in every export of that workspace (exports can be
joined), and a different one in another workspace. Files are written atomically.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from recengine.errors import ExportError
from recengine.store.files import atomic_path

if TYPE_CHECKING:
    from recengine.workspace import Workspace

EXPORT_FORMATS = (".csv", ".jsonl", ".parquet", ".xlsx")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_ROWS = 1_048_575  # one row of the sheet is the header
EXCEL_MAX_CELL_CHARS = 32_767  # longer cells are silently cut by openpyxl
# Free-text columns that may carry personal data typed by customers.
_PERSONAL_TEXT = {"reviews": ("title", "text", "aspects"), "rejects": ("raw",)}  # aspects quote the text
PSEUDONYM_SECRET_META_KEY = "privacy.pseudonym_secret"

_ORDER = {
    "items": "item_id",
    "reviews": "review_id",
    "interactions": "interaction_id",
    "users": "user_id",
    "rejects": "batch_id, row_number",
}


def exportable_tables() -> list[str]:
    """Tables `export_table` can write."""
    from recengine.workspace import EXPORTABLE_TABLES

    return list(EXPORTABLE_TABLES)


def export_table(
    workspace: Workspace,
    table: str,
    out: Path,
    *,
    pseudonymize_users: bool = False,
    mask_personal_data: bool | None = None,
) -> int:
    """Write `table` of `workspace` to `out` in the format of its extension; return the rows written.

    Args:
        workspace: the workspace to export from.
        table: one of `exportable_tables()`.
        out: the file to write; its extension picks the format.
        pseudonymize_users: replace user ids by stable per-workspace pseudonyms (`pseudonym_secret`).
        mask_personal_data: mask e-mail addresses, phone and card numbers in free text; None follows the
            workspace setting `privacy.mask_personal_data` (on by default).

    Raises:
        ExportError: unknown table or extension, or more rows than an Excel sheet holds.
    """
    out = Path(out)
    if table not in exportable_tables():
        raise ExportError(
            f"There is no table {table!r} to export.", hint=f"Choose one of {', '.join(exportable_tables())}."
        )
    suffix = out.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise ExportError(
            f"Cannot export to {out.name!r}: unknown file type {suffix or '(none)'}.",
            hint=f"End the file name with one of {', '.join(EXPORT_FORMATS)}.",
        )
    if table == "reviews":
        # Reviews leave with their analysis: sentiment_label, sentiment_score, keywords, aspects.
        from recengine.text.summaries import reviews_with_analysis

        frame = reviews_with_analysis(workspace)
    else:
        frame = workspace.store.query_df(f"SELECT * FROM {table} ORDER BY {_ORDER.get(table, '1')}")
    if suffix == ".xlsx" and len(frame) > EXCEL_MAX_ROWS:
        raise ExportError(
            f"{table} has {len(frame):,} rows, more than an Excel sheet holds.",
            hint="Export to .csv or .parquet.",
        )
    mask = workspace.settings.privacy.mask_personal_data if mask_personal_data is None else mask_personal_data
    if mask:
        frame = _mask(frame, _PERSONAL_TEXT.get(table, ()))
    if pseudonymize_users:
        frame = pseudonymize_user_ids(frame, pseudonym_secret(workspace))
    with atomic_path(out) as temporary:
        if suffix == ".csv":
            neutralise_formulas(frame).to_csv(temporary, index=False, encoding="utf-8")
        elif suffix == ".jsonl":
            frame.to_json(temporary, orient="records", lines=True, date_format="iso", force_ascii=False)
        elif suffix == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            sheet = _strip_illegal_characters(neutralise_formulas(frame))
            _refuse_overlong_cells(sheet, table)
            sheet.to_excel(
                temporary, index=False, sheet_name=table[:31], engine="openpyxl"
            )
    return len(frame)


def pseudonym_secret(workspace: Workspace) -> str:
    """The workspace's pseudonym key, created (random, 256 bits) on first use.

    Created with INSERT ... ON CONFLICT DO NOTHING and read back in the same transaction, so two
    processes exporting at once agree on one key.
    """
    with workspace.store.transaction() as connection:
        connection.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            [PSEUDONYM_SECRET_META_KEY, secrets.token_hex(32)],
        )
        row = connection.execute("SELECT value FROM meta WHERE key = ?", [PSEUDONYM_SECRET_META_KEY]).fetchone()
    return str(row[0])


def pseudonymize_user_ids(frame: pd.DataFrame, secret: str) -> pd.DataFrame:
    """A copy with `user_id` values (and user id fields of `raw` row JSON) replaced by HMAC pseudonyms."""
    from recengine.privacy import pseudonymise

    result = frame.copy()
    if "user_id" in result.columns:
        result["user_id"] = result["user_id"].map(lambda value: pseudonymise(str(value), secret), na_action="ignore")
    if "raw" in result.columns:
        result["raw"] = result["raw"].map(lambda value: _pseudonymize_raw(value, secret), na_action="ignore")
    return result


def _user_field_names() -> set[str]:
    """Column names the ingester maps to `user_id` automatically, compared as the mapping does.

    A user column mapped by hand under another name is not recognised inside a rejected row's raw
    JSON (the mapping of a past upload is not stored with its rejects).
    """
    from recengine.ingest.mapping import SYNONYMS

    names = {name for kind in ("reviews", "interactions") for name in SYNONYMS[kind]["user_id"]}  # type: ignore[index]
    return {_compare_name(name) for name in names}


def _compare_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _pseudonymize_raw(raw: object, secret: str) -> object:
    from recengine.privacy import pseudonymise

    try:
        row = json.loads(str(raw))
    except ValueError:
        return raw
    if not isinstance(row, dict):
        return raw
    changed = False
    user_fields = _user_field_names()
    for key, value in row.items():
        if value is not None and _compare_name(str(key)) in user_fields:
            row[key] = pseudonymise(str(value), secret)
            changed = True
    return json.dumps(row, ensure_ascii=False) if changed else raw


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where text cells starting with = + - @ (or tab/CR) begin with a single quote instead."""
    result = frame.copy()
    for column in result.columns:
        values = result[column]
        if not (pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype)):
            continue
        text = values.astype("string")
        dangerous = text.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
        if dangerous.any():
            result[column] = text.where(~dangerous, "'" + text)
    return result


_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _refuse_overlong_cells(frame: pd.DataFrame, table: str) -> None:
    """An Excel cell holds at most 32,767 characters; rather refuse than write a truncated review."""
    for column in frame.columns:
        values = frame[column]
        if not (pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype)):
            continue
        lengths = values.astype("string").str.len().fillna(0)
        if (lengths > EXCEL_MAX_CELL_CHARS).any():
            count = int((lengths > EXCEL_MAX_CELL_CHARS).sum())
            raise ExportError(
                f"{count:,} {column} value(s) of {table} are longer than an Excel cell holds "
                f"({EXCEL_MAX_CELL_CHARS:,} characters); Excel would cut them.",
                hint="Export to .csv, .jsonl or .parquet, which keep every character.",
            )


def _strip_illegal_characters(frame: pd.DataFrame) -> pd.DataFrame:
    """openpyxl refuses control characters in cells; drop them (they are invisible anyway)."""
    for column in frame.columns:
        if pd.api.types.is_object_dtype(frame[column].dtype) or pd.api.types.is_string_dtype(
            frame[column].dtype
        ):
            frame[column] = frame[column].astype("string").str.replace(_ILLEGAL_XLSX, "", regex=True)
    return frame


def _mask(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    present = [column for column in columns if column in frame.columns]
    if not present:
        return frame
    from recengine.privacy import mask_personal_data

    frame = frame.copy()
    for column in present:
        frame[column] = frame[column].map(mask_personal_data, na_action="ignore")
    return frame
