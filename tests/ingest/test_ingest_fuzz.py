"""Hypothesis fuzzing of the parsers: only recengine errors escape, and the counts always add up."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recengine.config import IngestSettings
from recengine.errors import RecEngineError
from recengine.ingest import IngestSource, preview_source
from recengine.ingest.mapping import resolve_mapping
from recengine.ingest.normalize import normalize
from recengine.ingest.readers import read_table
from recengine.ingest.sources import load_source
from recengine.workspace import Workspace

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
KINDS = st.sampled_from(["catalog", "reviews", "interactions"])
COLUMN_NAMES = st.sampled_from(
    [
        "item_id",
        "asin",
        "user_id",
        "reviewerID",
        "rating",
        "overall",
        "price",
        "title",
        "text",
        "timestamp",
        "event",
        "quantity",
        "category",
        "in_stock",
        "x",
        "",
        "id",
        "date",
    ]
)
CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "5",
            "0",
            "6",
            "-1",
            "$25.00",
            "1,5",
            "NaN",
            "1600000000",
            "2020-02-30",
            "purchase",
            "yes",
            "<b>x</b>",
            "=cmd()",
            '"',
            "\n",
            "1e400",
        ]
    ),
    st.integers(-(10**15), 10**15).map(str),
)


def outcome_of(kind: str, data: bytes) -> int | None:
    """Parse and normalise without a workspace; return the number of outcomes, None on a clean error."""
    source = IngestSource(kind, "fuzz", data)  # type: ignore[arg-type]
    try:
        loaded = load_source(source, IngestSettings())
        table = read_table(loaded)
        mapping = resolve_mapping(
            "fuzz",
            kind,
            table.columns,
            sample=table.frame.head(500),  # type: ignore[arg-type]
            positional=not table.has_header,
        )
        rows = normalize(table, kind, mapping)  # type: ignore[arg-type]
    except RecEngineError:
        return None
    assert len(rows.rows) + len(rows.rejects) == rows.rows_read == table.rows_read
    assert rows.rejects["reason"].notna().all()
    return rows.rows_read


@FUZZ
@given(kind=KINDS, data=st.binary(max_size=400))
def test_random_bytes_never_crash(kind: str, data: bytes) -> None:
    outcome_of(kind, data)
    try:
        preview_source(IngestSource(kind, "fuzz.bin", data))  # type: ignore[arg-type]
    except RecEngineError:
        pass


@FUZZ
@given(
    kind=KINDS,
    header=st.lists(COLUMN_NAMES, min_size=1, max_size=6),
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=7), min_size=0, max_size=8),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    gz=st.booleans(),
)
def test_random_csv_shapes_add_up(
    kind: str, header: list[str], rows: list[list[str]], delimiter: str, gz: bool
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    if gz:
        import gzip

        data = gzip.compress(data)
    outcome_of(kind, data)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
RECORDS = st.lists(st.dictionaries(COLUMN_NAMES, JSON_VALUES, max_size=6) | JSON_VALUES, max_size=6)


@FUZZ
@given(kind=KINDS, records=RECORDS, lines=st.booleans())
def test_random_json_adds_up(kind: str, records: list[object], lines: bool) -> None:
    if lines:
        data = "\n".join(json.dumps(record) for record in records).encode("utf-8")
    else:
        data = json.dumps(records).encode("utf-8")
    outcome_of(kind, data)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C", ""]),
            st.sampled_from(["u1", "u2", ""]),
            st.sampled_from(["1", "5", "9", "x", ""]),
            st.sampled_from(["good", "bad", ""]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_stored_counts_add_up(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str, str, str]]
) -> None:
    workspace = Workspace.open(Path(tmp_path_factory.mktemp("fuzz")) / "ws")
    data = "item_id,user_id,rating,text\n" + "".join(",".join(row) + "\n" for row in rows)
    for attempt in range(2):  # the second ingest sees everything stored already
        report = workspace.ingest([IngestSource("reviews", "r.csv", data.encode())])
        file_report = report.files[0]
        assert (
            file_report.accepted + file_report.updated + file_report.duplicate + file_report.rejected
            == len(rows)
        )
        stored = workspace.store.scalar(
            "SELECT count(*) FROM rejects WHERE batch_id = ?", [file_report.batch_id]
        )
        assert stored == file_report.rejected
        if attempt == 1:
            assert file_report.accepted == 0  # every id is known by now
