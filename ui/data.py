"""Data page glue: uploaded files, their previews, the mapping editor, ingest and its report.

Nothing here parses files: `recengine.ingest` does (`preview_source`, `ingest_files`). This module keeps
what a browser session has uploaded and chosen (kind, header, mapping) in session state, so that
previews are computed once per file and choice, not on every rerun.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from recengine.ingest import (
    ATTRIBUTES,
    IGNORE,
    KINDS,
    FilePreview,
    IngestReport,
    IngestSource,
    Kind,
    fields_for,
    preview_source,
)
from recengine.ingest import rejected_rows as stored_rejected_rows
from recengine.ingest.mapping import REQUIRED, SYNONYMS, guess_from_content, normalise_name
from recengine.workspace import Workspace
from ui.common import SCOPED_PREFIX, escape_markdown, progress_bar

KIND_LABELS: dict[str, str] = {
    "catalog": "Product catalog",
    "reviews": "Customer reviews",
    "interactions": "Events (views, clicks, carts, purchases)",
}
TARGET_LABELS = {ATTRIBUTES: "keep as attribute", IGNORE: "ignore"}
# Formats where the first row may or may not be a header (JSON and Parquet name their fields).
HEADER_FORMATS = ("csv", "tsv", "excel")
UPLOAD_TYPES = ["csv", "tsv", "txt", "json", "jsonl", "ndjson", "parquet", "xlsx", "gz"]

# Fields that point to one kind of file; fields shared by several kinds (item_id, title) say nothing.
_DISTINCTIVE: dict[str, set[str]] = {
    "catalog": {"description", "brand", "category", "price", "in_stock", "image_url"},
    "reviews": {"rating", "text"},
    "interactions": {"event", "quantity"},
}
_NAME_HINTS: dict[str, tuple[str, ...]] = {
    "reviews": ("review", "rating", "feedback", "comment"),
    "interactions": ("event", "interaction", "click", "purchase", "order", "session", "view", "cart"),
    "catalog": ("catalog", "catalogue", "product", "item", "meta", "inventory", "sku"),
}

_PREVIEWS = f"{SCOPED_PREFIX}data_previews"
REPORT_KEY = f"{SCOPED_PREFIX}data_report"
UPLOADER_GENERATION = "data_uploader_generation"


@dataclass(frozen=True)
class Upload:
    """One uploaded file as the page handles it."""

    key: str  # stable across reruns: widget keys and cached previews hang off it
    name: str
    data: bytes = dataclasses.field(repr=False)

    @property
    def size_label(self) -> str:
        # Decimal units, as the uploader itself shows them.
        size = len(self.data)
        return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.1f} KB"


def uploads_from(files: Iterable[Any] | None) -> list[Upload]:
    """Wrap Streamlit's `UploadedFile`s (or anything with `name` and `getvalue()`)."""
    uploads = []
    for position, file in enumerate(files or []):
        data = file.getvalue()
        # Streamlit's file id stays the same while other files are added or removed, so the choices
        # made for this file survive; without one, position and content identify it.
        file_id = getattr(file, "file_id", None) or f"{position}-{hashlib.sha1(data).hexdigest()[:16]}"
        uploads.append(Upload(key=str(file_id), name=str(file.name), data=data))
    return uploads


# -- kind guessing -----------------------------------------------------------------------------


def guess_kind(name: str, columns: Sequence[str], sample: pd.DataFrame | None = None) -> Kind:
    """Guess whether a file is a catalog, reviews or events from its column names, values and name.

    Column names that are synonyms of fields only one kind has (rating, event, price, ...) count most;
    the file name breaks ties. Pass `sample` only for header-less files: they are judged by their values
    (a 1-5 column is a rating), which would mislead on named columns such as a price of 4.5.
    """
    scores: dict[str, float] = dict.fromkeys(KINDS, 0.0)
    normalised = {normalise_name(column) for column in columns}
    for kind in KINDS:
        for field_name, synonyms in SYNONYMS[kind].items():
            if field_name in _DISTINCTIVE[kind] and normalised & {normalise_name(s) for s in synonyms}:
                scores[kind] += 1.0
    lowered = name.lower()
    for hinted_kind, hints in _NAME_HINTS.items():
        if any(hint in lowered for hint in hints):
            scores[hinted_kind] += 1.5
            break  # the first matching family wins: "product_reviews.csv" is reviews, not a catalog
    if sample is not None and not any(scores.values()):
        scores.update(_guess_from_values(sample))
    best = max(KINDS, key=lambda kind: (scores[kind], kind == "catalog"))
    return best if scores[best] > 0 else "catalog"


def _guess_from_values(sample: pd.DataFrame) -> dict[str, float]:
    columns = [str(column) for column in sample.columns]
    as_reviews = guess_from_content("reviews", sample, columns, set())
    as_events = guess_from_content("interactions", sample, columns, set())
    return {
        "reviews": 1.0 if "rating" in as_reviews.values() or "text" in as_reviews.values() else 0.0,
        "interactions": 1.0 if "event" in as_events.values() else 0.0,
    }


# -- previews ----------------------------------------------------------------------------------


def preview(upload: Upload, kind: Kind, has_header: bool | None) -> FilePreview:
    """`recengine.ingest.preview_source` for this upload, computed once per (file, kind, header)."""
    cache: dict[tuple[str, str, bool | None], FilePreview] = st.session_state.setdefault(_PREVIEWS, {})
    cache_key = (upload.key, kind, has_header)
    if cache_key not in cache:
        source = IngestSource(kind=kind, name=upload.name, data=upload.data, has_header=has_header)
        cache[cache_key] = preview_source(source)
    return cache[cache_key]


def describe(file_preview: FilePreview) -> str:
    """One line about how the file was read, for a caption (engine values only, no uploaded text)."""
    header = "header row" if file_preview.has_header else "no header row (columns named by position)"
    parts = [
        file_preview.format.upper(),
        file_preview.encoding or "binary",
        *([file_preview.compression] if file_preview.compression else []),
        *([header] if file_preview.format in HEADER_FORMATS else []),
        f"{len(file_preview.columns)} columns",
        f"{file_preview.sampled_rows:,} rows previewed" + (" (start of the file)" if file_preview.truncated else ""),
    ]
    return " · ".join(parts)


def preview_notes(file_preview: FilePreview) -> list[str]:
    """The preview's warnings, minus missing required fields (the live mapping check reports those)."""
    return [note for note in file_preview.warnings if not note.startswith("No column is mapped to")]


# -- mapping editor ------------------------------------------------------------------------------


def target_options(kind: Kind) -> list[str]:
    """The choices of a column's selectbox: the fields of `kind`, then keep-as-attribute and ignore."""
    return [*fields_for(kind), ATTRIBUTES, IGNORE]


def target_label(kind: Kind, target: str) -> str:
    if target in TARGET_LABELS:
        return TARGET_LABELS[target]
    return f"{target} (required)" if target in REQUIRED[kind] else target


def mapping_editor(upload: Upload, kind: Kind, view: FilePreview, *, per_row: int = 4) -> dict[str, str]:
    """One selectbox per source column, defaulting to the detected mapping; returns column -> target.

    Widget keys include the kind and header choice, so changing either starts from the new detection.
    """
    options = target_options(kind)
    mapping: dict[str, str] = {}
    for start in range(0, len(view.columns), per_row):
        row = st.columns(per_row)
        for column, source_column in zip(row, view.columns[start : start + per_row], strict=False):
            detected = view.mapping.get(source_column, ATTRIBUTES)
            mapping[source_column] = column.selectbox(
                # Column names come from the uploaded file: escaped so a label never renders Markdown.
                escape_markdown(source_column) or "(unnamed)",
                options,
                index=options.index(detected) if detected in options else options.index(ATTRIBUTES),
                format_func=lambda target: target_label(kind, target),
                key=mapping_widget_key(upload, kind, view.has_header, source_column),
            )
    return mapping


def mapping_widget_key(upload: Upload, kind: str, has_header: bool | None, column: str) -> str:
    digest = hashlib.sha1(column.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"map:{upload.key}:{kind}:{has_header}:{digest}"


def mapping_problems(kind: Kind, mapping: Mapping[str, str]) -> list[str]:
    """What must change before this mapping can be ingested (empty when it is fine)."""
    problems = []
    targets = [target for target in mapping.values() if target not in (ATTRIBUTES, IGNORE)]
    for field_name in sorted({target for target in targets if targets.count(target) > 1}):
        problems.append(f"Several columns are mapped to {field_name}: map each field once.")
    for field_name in REQUIRED[kind]:
        if field_name not in targets:
            problems.append(f"No column is mapped to {field_name}, which a {kind} file needs.")
    return problems


# -- ingest and report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedFile:
    """An upload with the choices made for it on the page."""

    upload: Upload
    kind: Kind
    has_header: bool | None
    mapping: dict[str, str]


def ingest(workspace: Workspace, planned: Sequence[PlannedFile]) -> IngestReport:
    """Ingest all planned files in one call, with a progress bar; returns the `IngestReport`."""
    sources = [
        IngestSource(
            kind=item.kind,
            name=item.upload.name,
            data=item.upload.data,
            mapping=dict(item.mapping),
            has_header=item.has_header,
        )
        for item in planned
    ]
    return workspace.ingest(sources, progress=progress_bar("Ingesting"))


def counts_frame(report: IngestReport) -> pd.DataFrame:
    """One row per file: rows read and how they ended (accepted + updated + duplicate + rejected)."""
    rows = []
    for file_report in report.files:
        outcomes = file_report.accepted + file_report.updated + file_report.duplicate + file_report.rejected
        rows.append(
            {
                "file": file_report.file_name,
                "kind": file_report.kind,
                "rows read": file_report.rows_read,
                "accepted": file_report.accepted,
                "updated": file_report.updated,
                "duplicate": file_report.duplicate,
                "rejected": file_report.rejected,
                "adds up": outcomes == file_report.rows_read,
                "placeholder products": file_report.placeholders,
                "new customers": file_report.new_users,
                "read as": " · ".join(
                    part
                    for part in (
                        file_report.format.upper(),
                        file_report.encoding or "",
                        file_report.compression or "",
                        "header" if file_report.has_header else "no header",
                    )
                    if part
                ),
                "seconds": round(file_report.seconds, 2),
            }
        )
    return pd.DataFrame(rows)


def reasons_frame(report: IngestReport) -> pd.DataFrame:
    """Rejection reasons counted per file, most frequent first."""
    rows = [
        {"file": file_report.file_name, "reason": reason, "rows": count}
        for file_report in report.files
        for reason, count in file_report.reasons.items()
    ]
    frame = pd.DataFrame(rows, columns=["file", "reason", "rows"])
    return frame.sort_values(["rows", "file"], ascending=[False, True], ignore_index=True)


REJECTS_SHOWN = 5_000


def rejected_rows(workspace: Workspace, batches: Sequence[int], *, limit: int | None = REJECTS_SHOWN) -> pd.DataFrame:
    """Rejected rows (file, row number, column, reason, raw row) of the given batches, at most `limit`.

    The raw row is masked (e-mail addresses, phone and card numbers) unless the workspace's
    privacy.mask_personal_data setting is off, like review text everywhere in the dashboard.
    """
    rows = stored_rejected_rows(workspace, list(batches), limit=limit)
    if not workspace.settings.privacy.mask_personal_data:
        return rows
    from recengine.privacy import mask_columns

    return mask_columns(rows, ("raw",))


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV (with BOM, so Excel reads accents), formula-like cells neutralised.

    Rejected rows are raw uploaded values: a cell such as `=HYPERLINK(...)` would run as a formula when
    a merchandiser opens the download in a spreadsheet, so such cells get a leading apostrophe.
    """
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(
                lambda value: f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value
            )
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8-sig")


def remember_report(report: IngestReport) -> None:
    st.session_state[REPORT_KEY] = report


def forget_report() -> None:
    st.session_state.pop(REPORT_KEY, None)


def last_report() -> IngestReport | None:
    return st.session_state.get(REPORT_KEY)


def uploader_key() -> str:
    """The uploader's widget key; bumping the generation empties the uploader after an ingest."""
    return f"data_upload_{st.session_state.get(UPLOADER_GENERATION, 0)}"


def reset_uploader() -> None:
    st.session_state[UPLOADER_GENERATION] = st.session_state.get(UPLOADER_GENERATION, 0) + 1
    st.session_state.pop(_PREVIEWS, None)


def label_of(upload: Upload) -> str:
    """An expander title for an upload: the file name escaped (it is uploaded text) and its size."""
    return f"{escape_markdown(upload.name)} · {upload.size_label}"
