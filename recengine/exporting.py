"""Export a workspace table to CSV, JSON Lines, Parquet or Excel, chosen by the file's extension.

Spreadsheets run cells that start with `=`, `+`, `-` or `@` as formulas, so text cells that begin with
one of them (customers type anything into reviews) are prefixed with a single quote in CSV and Excel
output (OWASP's advice against CSV injection). JSON Lines and Parquet are data formats and keep values
exactly. Review text leaves the workspace masked (e-mail addresses, phone and card numbers) unless the
workspace's `privacy.mask_personal_data` setting is off. Files are written atomically.
"""

from __future__ import annotations

import re
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
# Free-text columns that may carry personal data typed by customers.
_PERSONAL_TEXT = {"reviews": ("title", "text", "aspects"), "rejects": ("raw",)}  # aspects quote the text
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


def export_table(workspace: Workspace, table: str, out: Path) -> int:
    """Write `table` of `workspace` to `out` in the format of its extension; return the rows written.

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
        from recengine.text.analysis import reviews_with_analysis

        frame = reviews_with_analysis(workspace)
    else:
        frame = workspace.store.query_df(f"SELECT * FROM {table} ORDER BY {_ORDER.get(table, '1')}")
    if suffix == ".xlsx" and len(frame) > EXCEL_MAX_ROWS:
        raise ExportError(
            f"{table} has {len(frame):,} rows, more than an Excel sheet holds.",
            hint="Export to .csv or .parquet.",
        )
    if workspace.settings.privacy.mask_personal_data:
        frame = _mask(frame, _PERSONAL_TEXT.get(table, ()))
    with atomic_path(out) as temporary:
        if suffix == ".csv":
            neutralise_formulas(frame).to_csv(temporary, index=False, encoding="utf-8")
        elif suffix == ".jsonl":
            frame.to_json(temporary, orient="records", lines=True, date_format="iso", force_ascii=False)
        elif suffix == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            _strip_illegal_characters(neutralise_formulas(frame)).to_excel(
                temporary, index=False, sheet_name=table[:31], engine="openpyxl"
            )
    return len(frame)


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
