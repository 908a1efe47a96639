"""Previews of an upload: how the file was read and how its columns map, before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from recengine.config import IngestSettings
from recengine.ingest.mapping import fields_for, missing_required, resolve_mapping
from recengine.ingest.readers import read_table
from recengine.ingest.sources import IngestSource, load_source

PREVIEW_BYTES = 1 << 20
PREVIEW_ROWS = 20


@dataclass(frozen=True, eq=False)
class FilePreview:
    """What the Data page shows before ingesting a file.

    Attributes:
        file_name, kind: as given.
        format: csv, tsv, json, jsonl, parquet or excel (sniffed from the content).
        encoding: the detected text encoding (None for binary formats).
        compression: "gzip" or None.
        has_header: whether the first row was taken as a header (header-less files get
            column_1, column_2, ...).
        columns: the file's columns, in order.
        mapping: source column -> field, "attributes" (kept as JSON) or "ignore", as detected (with
            the source's own mapping applied on top).
        fields: the fields a column can be mapped to for this kind (`fields_for(kind)`).
        missing: required fields no column maps to yet (ingesting would fail until mapped).
        sample: the first rows as read (source columns, raw values).
        sampled_rows: rows parsed for the preview; `truncated` when only the start was read.
    """

    file_name: str
    kind: str
    format: str
    encoding: str | None
    compression: str | None
    has_header: bool
    columns: list[str]
    mapping: dict[str, str]
    fields: list[str]
    missing: list[str]
    sample: pd.DataFrame
    sampled_rows: int
    truncated: bool
    warnings: list[str] = field(default_factory=list)


def preview_source(source: IngestSource, settings: IngestSettings | None = None) -> FilePreview:
    """Read the start of `source` (about 1 MB) and detect format, encoding, header and mapping.

    Raises:
        UploadError: the file cannot be read at all.
        SchemaError: the source's explicit mapping names unknown columns or fields.
    """
    settings = settings or IngestSettings()
    loaded = load_source(source, settings, limit=PREVIEW_BYTES)
    table = read_table(loaded, has_header=source.has_header)
    mapping = resolve_mapping(
        source.name,
        source.kind,
        table.columns,
        source.mapping,
        sample=table.frame.head(500),
        positional=not table.has_header,
        check_required=False,
    )
    missing = missing_required(source.kind, mapping)
    warnings: list[str] = []
    if missing:
        warnings.append(f"No column is mapped to {', '.join(missing)}; map one before ingesting.")
    if table.broken:
        warnings.append(f"{len(table.broken)} row(s) in the preview cannot be parsed; they will be rejected.")
    if source.kind == "catalog" and "title" not in mapping.values() and "description" not in mapping.values():
        warnings.append("No title or description column: is this really a catalog?")
    return FilePreview(
        file_name=source.name,
        kind=source.kind,
        format=loaded.format,
        encoding=loaded.encoding,
        compression=loaded.compression,
        has_header=table.has_header,
        columns=list(table.columns),
        mapping=mapping,
        fields=fields_for(source.kind),
        missing=missing,
        sample=table.frame.head(PREVIEW_ROWS).reset_index(drop=True),
        sampled_rows=table.rows_read,
        truncated=loaded.truncated,
        warnings=warnings,
    )
