"""Parsers: a loaded file -> a frame of its rows (source column names, raw values) and its broken rows.

Rows that cannot be parsed (a CSV line with too many fields, a JSON line that is not JSON) are not an
error for the whole file: they come back as `BrokenRow`s and end up as rejected rows with a reason.
Only a file that cannot be parsed at all raises `UploadError`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recengine.errors import UploadError
from recengine.ingest.mapping import SYNONYMS, normalise_name, positional_names
from recengine.ingest.sources import LoadedFile

_SAMPLE_BYTES = 1 << 16
_SAMPLE_ROWS = 50


@dataclass(frozen=True)
class BrokenRow:
    """A row that could not be parsed; `row_number` is 1-based among data rows (header not counted)."""

    row_number: int
    reason: str
    raw: str


@dataclass(frozen=True, eq=False)
class RawTable:
    """The rows of one file as read: source columns, values as strings or JSON values."""

    frame: pd.DataFrame
    row_numbers: np.ndarray
    broken: list[BrokenRow] = field(default_factory=list)
    has_header: bool = True
    columns: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.broken)


def read_table(loaded: LoadedFile, *, has_header: bool | None = None) -> RawTable:
    """Parse `loaded` according to its sniffed format.

    Raises:
        UploadError: the file cannot be parsed at all, or holds no rows.
    """
    readers = {
        "csv": _read_delimited,
        "tsv": _read_delimited,
        "json": _read_json_document,
        "jsonl": _read_json_lines,
        "parquet": _read_parquet,
        "excel": _read_excel,
    }
    table = readers[loaded.format](loaded, has_header)
    if table.rows_read == 0:
        raise UploadError(
            loaded.name, "the file has no data rows.", hint="Check that you exported the right file."
        )
    return table


# -- CSV / TSV --------------------------------------------------------------------------------------


def _read_delimited(loaded: LoadedFile, has_header: bool | None) -> RawTable:
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    sample_text = loaded.content[:_SAMPLE_BYTES].decode("utf-8", "ignore")
    delimiter = "\t" if loaded.format == "tsv" else _sniff_delimiter(sample_text)
    first_rows = _first_rows(sample_text, delimiter, complete=len(loaded.content) <= _SAMPLE_BYTES)
    if not first_rows:
        raise UploadError(
            loaded.name, "the file has no rows.", hint="Check that you exported the right file."
        )
    header = detect_header(first_rows) if has_header is None else has_header
    if header:
        names = unique_names(first_rows[0])
    else:
        widths = [len(row) for row in first_rows]
        names = positional_names(max(set(widths), key=widths.count))

    broken: list[tuple[int | None, int, str]] = []

    def on_invalid_row(row: pa_csv.InvalidRow) -> str:
        broken.append((row.number, row.actual_columns, row.text))
        return "skip"

    def parse(use_threads: bool) -> pa.Table:
        broken.clear()
        return pa_csv.read_csv(
            io.BytesIO(loaded.content),
            read_options=pa_csv.ReadOptions(
                column_names=names, skip_rows=1 if header else 0, use_threads=use_threads, block_size=1 << 24
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid_row
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        table = parse(use_threads=True)
        if any(number is None for number, _, _ in broken):
            # Parallel parsing does not know row numbers; a sequential pass does.
            table = parse(use_threads=False)
    except (pa.ArrowException, ValueError, OverflowError) as error:
        raise UploadError(
            loaded.name,
            f"cannot be read as {'TSV' if delimiter == chr(9) else 'CSV'}: {_first_line_of(error)}",
            hint="Check quoting (an unclosed quote swallows the rest of the file) or upload another format.",
        ) from error
    _check_unclosed_quote(loaded, table, delimiter)
    frame = _strings_frame(table)
    header_rows = 1 if header else 0
    broken_rows = [
        BrokenRow(
            row_number=int(number) - header_rows if number is not None else 0,
            reason="malformed row",
            raw=json.dumps({"_line": text, "_fields": actual, "_expected": len(names)}, ensure_ascii=False),
        )
        for number, actual, text in broken
    ]
    return RawTable(frame, _row_numbers(len(frame), broken_rows), broken_rows, header, names)


def _check_unclosed_quote(loaded: LoadedFile, table: object, delimiter: str) -> None:
    """Refuse a file whose last quoted field never closes: it would swallow every row after it.

    A parser takes such a field to the end of the file, so the last row's last value then holds line
    breaks while the file does not end with the closing quote. (A preview, cut short, is exempt.)
    """
    if loaded.truncated or table.num_rows == 0:  # type: ignore[attr-defined]
        return
    last_value = table.column(table.num_columns - 1)[table.num_rows - 1].as_py()  # type: ignore[attr-defined]
    ending = loaded.content[-(1 << 16) :].rstrip()  # the tail is enough; never copy the whole file
    if (
        last_value
        and "\n" in last_value
        and not ending.endswith(b'"')
        and ending.endswith(last_value.rstrip().encode("utf-8")[-(1 << 15) :])
    ):
        raise UploadError(
            loaded.name,
            'a quote (") is opened and never closed, so the rest of the file would be read as one value.',
            hint="Fix the quoting in the file (double a quote inside a quoted value) and upload it again.",
        )


def _strings_frame(table: object) -> pd.DataFrame:
    frame = table.to_pandas()  # type: ignore[attr-defined]
    return frame


def _row_numbers(valid: int, broken: list[BrokenRow]) -> np.ndarray:
    """1-based data-row numbers of the valid rows, leaving out the positions of the broken ones."""
    total = valid + len(broken)
    positions = {row.row_number for row in broken}
    if len(positions) == len(broken) and all(1 <= position <= total for position in positions):
        keep = np.ones(total, dtype=bool)
        keep[np.fromiter(positions, dtype=np.int64, count=len(positions)) - 1] = False
        return np.arange(1, total + 1, dtype=np.int64)[keep]
    return np.arange(1, valid + 1, dtype=np.int64)


def _sniff_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;|\t").delimiter
    except csv.Error:
        pass
    counts = {delimiter: lines[0].count(delimiter) for delimiter in (",", ";", "|", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _first_rows(sample: str, delimiter: str, *, complete: bool) -> list[list[str]]:
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(sample), delimiter=delimiter):
            if row and any(cell.strip() for cell in row):
                rows.append(row)
            if len(rows) > _SAMPLE_ROWS:
                break
    except csv.Error:
        pass
    if not complete and len(rows) > 1 and len(rows) <= _SAMPLE_ROWS:
        rows = rows[:-1]  # the last sampled row may be cut
    return rows


def unique_names(raw_names: list[str]) -> list[str]:
    """Header cells as column names: stripped, empty ones numbered, repeats suffixed _2, _3, ..."""
    names: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(raw_names, start=1):
        name = str(raw).strip().lstrip("\ufeff") or f"column_{position}"
        candidate, suffix = name, 2
        while candidate in seen:
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        seen.add(candidate)
        names.append(candidate)
    return names


_KNOWN_NAMES = {
    normalise_name(s) for kind in SYNONYMS.values() for synonyms in kind.values() for s in synonyms
}
_KNOWN_NAMES |= {normalise_name(f) for kind in SYNONYMS.values() for f in kind}
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_HEADER_CELL = re.compile(r"^[A-Za-z_][\w .\-/()#:]*$")


def detect_header(rows: list[list[str]]) -> bool:
    """Whether the first row is a header.

    A header names known fields, or consists of short name-like cells (letters, lower-case or words; no
    numbers, no repeats) while the rows below hold data. Amazon ids such as `B00005N7P0` or
    `AH2IFH762VY5U` are upper-case letter/digit mixes and do not count as names.
    """
    if not rows:
        return False
    cells = [cell.strip() for cell in rows[0]]
    if any(normalise_name(cell) in _KNOWN_NAMES for cell in cells if cell):
        return True
    if any(_NUMBER.match(cell) for cell in cells):
        return False
    if len({cell for cell in cells if cell}) < len([cell for cell in cells if cell]):
        return False
    return all(not cell or _is_name_like(cell) for cell in cells)


def _is_name_like(cell: str) -> bool:
    if len(cell) > 60 or not _HEADER_CELL.match(cell):
        return False
    digits = sum(character.isdigit() for character in cell)
    if digits * 3 > len(cell):
        return False
    return any(character.islower() for character in cell) or cell.replace("_", "").replace(" ", "").isalpha()


# -- JSON ---------------------------------------------------------------------------------------------


def _read_json_document(loaded: LoadedFile, has_header: bool | None) -> RawTable:
    try:
        document = json.loads(loaded.content)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise UploadError(
            loaded.name,
            f"is not valid JSON ({_first_line_of(error)}).",
            hint="Check that the export finished, or upload JSON Lines (one object per line).",
        ) from error
    return _records_table(loaded.name, _records_of(loaded.name, document))


def _records_of(name: str, document: object) -> list[object]:
    if isinstance(document, list):
        records = document
    elif isinstance(document, dict):
        lists = [
            value
            for value in document.values()
            if isinstance(value, list) and any(isinstance(v, dict) for v in value)
        ]
        # {"products": [...]} is common; a single object is one record.
        records = max(lists, key=len) if lists else [document]
    else:
        raise UploadError(
            name, "the JSON holds a single value, not records.", hint="Upload a list of objects."
        )
    if records and not any(isinstance(record, dict) for record in records):
        raise UploadError(name, "the JSON list holds no objects (records).", hint="Upload a list of objects.")
    return records


def _read_json_lines(loaded: LoadedFile, has_header: bool | None) -> RawTable:
    lines = loaded.content.split(b"\n")
    records: list[object] = []
    numbers: list[int] = []
    broken: list[BrokenRow] = []
    decode = json.loads
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = decode(line)
        except (ValueError, RecursionError):
            record = _NOT_JSON
        if isinstance(record, dict):
            records.append(record)
            numbers.append(number)
        else:
            reason = "not valid JSON" if record is _NOT_JSON else "not a JSON object"
            broken.append(
                BrokenRow(
                    number, reason, json.dumps({"_line": line.decode("utf-8", "replace")}, ensure_ascii=False)
                )
            )
    if not records and broken:
        # Perhaps one pretty-printed JSON document rather than JSON Lines.
        try:
            document = json.loads(loaded.content)
        except (ValueError, RecursionError):
            raise UploadError(
                loaded.name,
                "is neither JSON nor JSON Lines: no line holds a JSON object.",
                hint="Upload CSV, a JSON list of objects or JSON Lines.",
            ) from None
        return _records_table(loaded.name, _records_of(loaded.name, document))
    if len(records) == 1 and not broken:
        # A single object on one line may wrap the records: {"products": [...]}.
        return _records_table(loaded.name, _records_of(loaded.name, records[0]))
    frame = _frame_from_records(records)
    return RawTable(frame, np.asarray(numbers, dtype=np.int64), broken, True, list(frame.columns))


_NOT_JSON = object()


def _records_table(name: str, records: list[object]) -> RawTable:
    good = [record for record in records if isinstance(record, dict)]
    numbers = np.asarray(
        [n for n, record in enumerate(records, start=1) if isinstance(record, dict)], dtype=np.int64
    )
    broken = [
        BrokenRow(n, "not a JSON object", json.dumps({"_value": record}, ensure_ascii=False, default=str))
        for n, record in enumerate(records, start=1)
        if not isinstance(record, dict)
    ]
    frame = _frame_from_records(good)
    return RawTable(frame, numbers, broken, True, list(frame.columns))


def _frame_from_records(records: list[dict]) -> pd.DataFrame:  # type: ignore[type-arg]
    if not records:
        return pd.DataFrame()
    frame = pd.DataFrame.from_records(records)
    frame.columns = unique_names([str(column) for column in frame.columns])
    return frame


# -- Parquet / Excel ----------------------------------------------------------------------------------


def _read_parquet(loaded: LoadedFile, has_header: bool | None) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(loaded.content))
        frame = table.to_pandas()
    except (pa.ArrowException, OSError, ValueError, TypeError) as error:
        raise UploadError(
            loaded.name, f"is not a readable Parquet file ({_first_line_of(error)})."
        ) from error
    frame = frame.reset_index(drop=True)
    frame.columns = unique_names([str(column) for column in frame.columns])
    return RawTable(frame, np.arange(1, len(frame) + 1, dtype=np.int64), [], True, list(frame.columns))


def _read_excel(loaded: LoadedFile, has_header: bool | None) -> RawTable:
    try:
        grid = pd.read_excel(
            io.BytesIO(loaded.content), sheet_name=0, header=None, dtype=object, engine="openpyxl"
        )
    except Exception as error:  # openpyxl raises many unrelated types on broken workbooks
        raise UploadError(
            loaded.name,
            f"is not a readable Excel workbook ({_first_line_of(error)}).",
            hint="Open it in Excel and save it again as .xlsx or CSV.",
        ) from error
    grid = grid.dropna(how="all").dropna(axis=1, how="all")
    if grid.empty:
        raise UploadError(loaded.name, "the first sheet is empty.", hint="Put the data on the first sheet.")
    row_numbers = grid.index.to_numpy(dtype=np.int64) + 1  # sheet rows, 1-based
    first_rows = [
        ["" if pd.isna(v) else str(v) for v in row] for row in grid.head(_SAMPLE_ROWS).itertuples(index=False)
    ]
    header = detect_header(first_rows) if has_header is None else has_header
    if header:
        names = unique_names(first_rows[0])
        grid = grid.iloc[1:]
        row_numbers = row_numbers[1:] - 1
    else:
        names = positional_names(grid.shape[1])
    frame = grid.reset_index(drop=True)
    frame.columns = names
    return RawTable(frame, row_numbers, [], header, names)


def _first_line_of(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]
