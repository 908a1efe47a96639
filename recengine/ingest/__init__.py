"""Ingestion: uploaded catalogs, reviews and interaction files into the workspace, nothing lost.

    from recengine.ingest import IngestSource, ingest_files, preview_source
    report = ingest_files(workspace, [IngestSource("catalog", "shop.csv", Path("shop.csv"))])

Modules: `sources` (bytes, limits, gzip, format and encoding sniffing), `readers` (CSV/TSV/JSON/JSON
Lines/Parquet/Excel into frames), `mapping` (columns to fields), `normalize` (cleaning and rejections),
`pipeline` (storing, classification), `report` and `preview` (what the user sees).
"""

from __future__ import annotations

from recengine.ingest.mapping import ATTRIBUTES, IGNORE, fields_for, targets_for
from recengine.ingest.pipeline import ingest_files, rejected_rows
from recengine.ingest.preview import FilePreview, preview_source
from recengine.ingest.report import FileReport, IngestReport
from recengine.ingest.sources import KINDS, IngestSource, Kind

__all__ = [
    "ATTRIBUTES",
    "IGNORE",
    "KINDS",
    "FilePreview",
    "FileReport",
    "IngestReport",
    "IngestSource",
    "Kind",
    "fields_for",
    "ingest_files",
    "preview_source",
    "rejected_rows",
    "targets_for",
]
