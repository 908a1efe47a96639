"""`recengine ingest`: store catalog, review and interaction files in a workspace, nothing lost."""

from __future__ import annotations

import argparse
from pathlib import Path

from recengine.cli.common import (
    add_format_argument,
    add_workspace_argument,
    open_workspace,
    print_json,
    print_table,
)
from recengine.errors import SchemaError, UploadError
from recengine.ingest import IngestReport, IngestSource, Kind, ingest_files, preview_source
from recengine.progress import StderrProgress, end_progress_line


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="Read catalog, review and interaction files into the workspace.",
        description=(
            "Read CSV, TSV, JSON, JSON Lines, Parquet or Excel files (optionally gzip-compressed) into the "
            "workspace. Every row ends accepted, updated, duplicate or rejected with a reason; the counts "
            "add up to the rows read. A file that cannot be read at all changes nothing."
        ),
    )
    add_workspace_argument(parser)
    parser.add_argument(
        "--catalog",
        action="append",
        type=Path,
        default=[],
        metavar="F",
        help="A product catalog file (repeatable).",
    )
    parser.add_argument(
        "--reviews", action="append", type=Path, default=[], metavar="F", help="A reviews file (repeatable)."
    )
    parser.add_argument(
        "--interactions",
        action="append",
        type=Path,
        default=[],
        metavar="F",
        help="An events file: view, click, cart, purchase (repeatable).",
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="SRC=FIELD",
        help="Map a source column to a field, overriding detection (repeatable). Header-less files name "
        "their columns column_1, column_2, ...; FIELD 'attributes' keeps a column as an attribute, "
        "'ignore' drops it. Applies to every file that has the column.",
    )
    add_format_argument(parser)
    parser.set_defaults(handler=run)


def parse_map_arguments(values: list[str]) -> dict[str, str]:
    """`SRC=FIELD` pairs as a dict; a malformed pair raises `SchemaError`."""
    mapping: dict[str, str] = {}
    for value in values:
        source, separator, target = value.rpartition("=")
        if not separator or not source.strip() or not target.strip():
            raise SchemaError(
                "--map", f"{value!r} is not SRC=FIELD.", hint="Write e.g. --map reviewerID=user_id."
            )
        mapping[source.strip()] = target.strip()
    return mapping


def build_sources(arguments: argparse.Namespace) -> list[IngestSource]:
    """One `IngestSource` per named file, each with the `--map` entries for the columns it has."""
    files: list[tuple[Kind, Path]] = [
        *(("catalog", path) for path in arguments.catalog),
        *(("reviews", path) for path in arguments.reviews),
        *(("interactions", path) for path in arguments.interactions),
    ]
    if not files:
        raise UploadError(
            "ingest", "no file given.", hint="Name files with --catalog, --reviews or --interactions."
        )
    mapping = parse_map_arguments(arguments.map)
    sources = [IngestSource(kind, path.name, path) for kind, path in files]
    if not mapping:
        return sources
    used: set[str] = set()
    mapped: list[IngestSource] = []
    for source in sources:
        columns = preview_source(source).columns
        names = set(columns) | {str(position) for position in range(1, len(columns) + 1)}
        own = {column: field for column, field in mapping.items() if column in names}
        used |= own.keys()
        mapped.append(IngestSource(source.kind, source.name, source.data, own or None))
    unused = sorted(set(mapping) - used)
    if unused:
        raise SchemaError(
            "--map",
            f"no file has a column {unused[0]!r}.",
            column=unused[0],
            hint="Check the column name (header-less files use column_1, column_2, ...).",
        )
    return mapped


class _LineProgress(StderrProgress):
    """StderrProgress that ends a line left open, so an error starts on a fresh line."""

    def close_line(self) -> None:
        if self.line_open:
            end_progress_line(self.stream)


def run(arguments: argparse.Namespace) -> int:
    sources = build_sources(arguments)
    workspace = open_workspace(arguments, create=True)
    progress = _LineProgress()
    try:
        report = ingest_files(workspace, sources, progress=progress)
    finally:
        progress.close_line()
    if arguments.format == "json":
        print_json(report.to_dict())
    else:
        print_report(report)
    return 0


def print_report(report: IngestReport) -> None:
    rows = [
        (f.file_name, f.kind, f.rows_read, f.accepted, f.updated, f.duplicate, f.rejected, f.placeholders)
        for f in report.files
    ]
    rows.append(
        (
            "total",
            "",
            report.rows_read,
            report.accepted,
            report.updated,
            report.duplicate,
            report.rejected,
            report.placeholders,
        )
    )
    print_table(
        rows, ["file", "kind", "read", "accepted", "updated", "duplicate", "rejected", "placeholders"]
    )
    reasons = report.reasons()
    if reasons:
        print()
        print_table(sorted(reasons.items(), key=lambda item: -item[1]), ["rejection reason", "rows"])
        print("\nExport the rejected rows with: recengine export --workspace DIR --table rejects --out rejects.csv")
