"""`ingest_files`: read, check and store uploaded files so that every row is accounted for.

Two phases. First every file is read, mapped and checked in memory; a file that cannot be read at all
stops the whole call with `UploadError`/`SchemaError` before anything is written. Then each file is
stored in its own transaction (catalogs first, so reviews find their products): the rows are staged in
DuckDB and classified there in bulk (window functions over the file's rows plus a join with what is
stored), upserted with one `INSERT ... ON CONFLICT`, and the batch, the rejected rows, new users and
placeholder products are written in the same transaction. A crash or kill before COMMIT leaves the
workspace as it was.

Row outcomes (they add up to the rows read):
- accepted: the id is new to the workspace (a product that was only a placeholder counts as new);
- updated: the id exists with other content, or an earlier row of the same file had other content;
- duplicate: identical (same `row_hash`) to the stored row or to the previous row with that id;
- rejected: a value cannot be used (missing id, rating outside 1-5, unreadable time or price, ...).
The last row of an id in a file wins. Reviews and interactions without an id get a deterministic one:
reviews by (item, user, time), anonymous reviews by their whole content; interactions by
(user, item, event, time).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from recengine.config import IngestSettings
from recengine.ingest.mapping import ATTRIBUTES, resolve_mapping
from recengine.ingest.normalize import NormalizedRows, normalize
from recengine.ingest.readers import read_table
from recengine.ingest.report import FileReport, IngestReport
from recengine.ingest.sources import KINDS, IngestSource, LoadedFile, load_source
from recengine.progress import Progress, no_progress, scaled

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from recengine.workspace import Workspace

_TABLE = {"catalog": "items", "reviews": "reviews", "interactions": "interactions"}
_KEY = {"catalog": "item_id", "reviews": "review_id", "interactions": "interaction_id"}

_SCHEMAS: dict[str, pa.Schema] = {
    "catalog": pa.schema(
        [
            ("row_number", pa.int64()),
            ("item_id", pa.string()),
            ("title", pa.string()),
            ("description", pa.string()),
            ("brand", pa.string()),
            ("category", pa.string()),
            ("price", pa.float64()),
            ("in_stock", pa.bool_()),
            ("image_url", pa.string()),
            ("attributes", pa.string()),
        ]
    ),
    "reviews": pa.schema(
        [
            ("row_number", pa.int64()),
            ("review_id", pa.string()),
            ("user_id", pa.string()),
            ("item_id", pa.string()),
            ("rating", pa.float64()),
            ("title", pa.string()),
            ("text", pa.string()),
            ("timestamp", pa.timestamp("us")),
            ("attributes", pa.string()),
        ]
    ),
    "interactions": pa.schema(
        [
            ("row_number", pa.int64()),
            ("interaction_id", pa.string()),
            ("user_id", pa.string()),
            ("item_id", pa.string()),
            ("event", pa.string()),
            ("timestamp", pa.timestamp("us")),
            ("quantity", pa.float64()),
            ("attributes", pa.string()),
        ]
    ),
}
_REJECTS_SCHEMA = pa.schema(
    [("row_number", pa.int64()), ("column_name", pa.string()), ("reason", pa.string()), ("raw", pa.string())]
)

# Files with at least this many valid rows are written without compression (see `store_prepared`).
UNCOMPRESSED_LOAD_ROWS = 200_000

# SQL text of a time that is the same on every machine (ids and hashes must not depend on locale).
_TIME_TEXT = "coalesce(strftime({column}, '%Y-%m-%dT%H:%M:%S.%f'), '')"
_MISSING = "chr(1)"  # stands for NULL inside hashes, so NULL and '' differ

_GENERATED_ID = {
    "catalog": "item_id",
    "reviews": (
        "coalesce(review_id, 'r_' || substr(md5(CASE WHEN user_id IS NULL "
        "THEN concat_ws(chr(31), 'anonymous', item_id, "
        + _TIME_TEXT.format(column="timestamp")
        + ", coalesce(CAST(rating AS VARCHAR), ''), coalesce(title, ''), coalesce(text, '')) "
        "ELSE concat_ws(chr(31), item_id, user_id, "
        + _TIME_TEXT.format(column="timestamp")
        + ") END), 1, 20))"
    ),
    "interactions": (
        "coalesce(interaction_id, 'i_' || substr(md5(concat_ws(chr(31), user_id, item_id, event, "
        + _TIME_TEXT.format(column="timestamp")
        + ")), 1, 20))"
    ),
}


@dataclass(frozen=True, eq=False)
class PreparedFile:
    """A file read, mapped and checked in memory, ready to be stored."""

    source: IngestSource
    loaded: LoadedFile
    has_header: bool
    mapping: dict[str, str]
    rows: NormalizedRows
    started: datetime
    seconds: float


def prepare_source(
    source: IngestSource, settings: IngestSettings, progress: Progress | None = None
) -> PreparedFile:
    """Read, map and check one file without touching the workspace.

    Raises:
        UploadError: the file cannot be read at all.
        SchemaError: its columns cannot be mapped (e.g. no item id column).
    """
    started = datetime.now(UTC).replace(tzinfo=None)
    clock = time.perf_counter()
    report = progress or no_progress
    loaded = load_source(source, settings)
    report(0.2, f"parsing {source.name} ({len(loaded.content) / 2**20:,.0f} MB {loaded.format})")
    table = read_table(loaded, has_header=source.has_header)
    report(0.6, f"checking {table.rows_read:,} rows of {source.name}")
    mapping = resolve_mapping(
        source.name,
        source.kind,
        table.columns,
        source.mapping,
        sample=table.frame.head(500),
        positional=not table.has_header,
    )
    rows = normalize(table, source.kind, mapping)
    return PreparedFile(source, loaded, table.has_header, mapping, rows, started, time.perf_counter() - clock)


def ingest_files(
    workspace: Workspace, sources: list[IngestSource], progress: Progress | None = None
) -> IngestReport:
    """Ingest `sources` into `workspace`; every row read ends accepted, updated, duplicate or rejected.

    Args:
        workspace: the workspace to write to.
        sources: the files; catalogs are stored before reviews and interactions whatever the order.
        progress: optional callback (fraction, message).

    Returns:
        One `FileReport` per file, in the order stored.

    Raises:
        UploadError: a file cannot be read at all (nothing is written then).
        SchemaError: a file's columns cannot be mapped (nothing is written then).
    """
    report = progress or no_progress
    ordered = sorted(sources, key=lambda source: KINDS.index(source.kind))
    prepared: list[PreparedFile] = []
    for position, source in enumerate(ordered):
        report(0.5 * position / max(len(ordered), 1), f"reading {source.name}")
        prepared.append(
            prepare_source(
                source,
                workspace.settings.ingest,
                scaled(report, 0.5 * position / len(ordered), 0.5 * (position + 1) / len(ordered)),
            )
        )
    reports: list[FileReport] = []
    for position, item in enumerate(prepared):
        start, end = 0.5 + 0.5 * position / len(prepared), 0.5 + 0.5 * (position + 1) / len(prepared)

        def file_progress(fraction: float, message: str, start: float = start, end: float = end) -> None:
            report(start + (end - start) * fraction, message)

        reports.append(store_prepared(workspace, item, file_progress))
    report(1.0, f"ingested {sum(r.rows_read for r in reports):,} rows from {len(reports)} file(s)")
    return IngestReport(files=tuple(reports), data_version=workspace.store.get_meta("data_version"))


def store_prepared(
    workspace: Workspace, prepared: PreparedFile, progress: Progress | None = None
) -> FileReport:
    """Store one prepared file in a single transaction and report how its rows ended."""
    report = progress or no_progress
    clock = time.perf_counter()
    kind = prepared.source.kind
    fields = [name for name in _SCHEMAS[kind].names if name not in ("row_number", "attributes")]
    incoming = _arrow(prepared.rows.rows, _SCHEMAS[kind])
    rejects = _arrow(prepared.rows.rejects, _REJECTS_SCHEMA)
    now = datetime.now(UTC).replace(tzinfo=None)
    report(0.05, f"storing {prepared.source.name}")
    with workspace.store.transaction() as connection:
        # DuckDB draws a progress bar on stdout for long statements, which would corrupt JSON output.
        _run(connection, "SET enable_progress_bar = false")
        batch_id = int(_run(connection, "SELECT coalesce(max(batch_id), 0) + 1 FROM ingest_batches")[0][0])
        connection.register("incoming_rows", incoming)
        connection.register("incoming_rejects", rejects)
        present = _present_fields(prepared)
        if len(prepared.rows.rows) >= UNCOMPRESSED_LOAD_ROWS:
            # Choosing a compression for a million new texts costs more than the whole rest of the
            # ingest on two cores; big loads are written uncompressed (larger file, same reads).
            _run(connection, "SET force_compression = 'uncompressed'")
        inserted = _insert_all_new(connection, kind, fields, present, batch_id, now)
        if inserted is not None:
            counts = {"accepted": inserted, "updated": 0, "duplicate": 0, "placeholders_filled": 0}
        else:
            counts = _stage_and_classify(connection, kind, fields, present)
            report(
                0.4,
                f"storing {prepared.source.name}: {counts['accepted'] + counts['updated']:,} new or changed rows",
            )
            _upsert(connection, kind, fields, present, batch_id, now)
        _run(connection, "RESET force_compression")
        report(0.7, f"storing rows of {prepared.source.name}")
        placeholders = _add_placeholders(connection, batch_id, now) if kind != "catalog" else 0
        new_users = _add_users(connection, batch_id) if kind != "catalog" else 0
        _run(
            connection,
            "INSERT INTO rejects SELECT ?, ?, row_number, column_name, reason, raw FROM incoming_rejects",
            [batch_id, prepared.source.name],
        )
        reasons = dict(
            _run(
                connection,
                "SELECT reason, count(*) FROM incoming_rejects GROUP BY reason ORDER BY count(*) DESC, reason",
            )
        )
        rows_read = prepared.rows.rows_read
        rejected = len(prepared.rows.rejects)
        seconds = prepared.seconds + time.perf_counter() - clock
        _run(
            connection,
            "INSERT INTO ingest_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id,
                prepared.source.name,
                kind,
                prepared.started,
                datetime.now(UTC).replace(tzinfo=None),
                rows_read,
                counts["accepted"],
                counts["updated"],
                counts["duplicate"],
                rejected,
                placeholders,
                json.dumps(prepared.mapping, ensure_ascii=False),
            ],
        )
        changed = counts["accepted"] + counts["updated"] + rejected + placeholders + new_users
        if changed:
            _run(
                connection,
                "INSERT INTO meta VALUES ('data_version', '1') ON CONFLICT (key) DO UPDATE "
                "SET value = CAST(coalesce(TRY_CAST(meta.value AS BIGINT), 0) + 1 AS VARCHAR)",
            )
        connection.unregister("incoming_rows")
        connection.unregister("incoming_rejects")
    report(1.0, f"stored {prepared.source.name}")
    return FileReport(
        file_name=prepared.source.name,
        kind=kind,
        batch_id=batch_id,
        format=prepared.loaded.format,
        encoding=prepared.loaded.encoding,
        compression=prepared.loaded.compression,
        has_header=prepared.has_header,
        rows_read=rows_read,
        accepted=counts["accepted"],
        updated=counts["updated"],
        duplicate=counts["duplicate"],
        rejected=rejected,
        placeholders=placeholders,
        placeholders_filled=counts["placeholders_filled"],
        new_users=new_users,
        reasons={str(reason): int(count) for reason, count in reasons.items()},
        mapping=dict(prepared.mapping),
        seconds=round(seconds, 3),
    )


def _present_fields(prepared: PreparedFile) -> set[str]:
    """Fields the file has a column for (ids are always present: generated when absent)."""
    targets = set(prepared.mapping.values())
    present = {name for name in _SCHEMAS[prepared.source.kind].names if name in targets}
    present.add(_KEY[prepared.source.kind])
    if prepared.source.kind == "catalog":
        present.add("title")  # a fallback title is always built
    if prepared.source.kind == "interactions":
        present.add("event")  # a default event is always set
    if ATTRIBUTES in targets or prepared.rows.rows["attributes"].notna().any():
        present.add("attributes")
    return present


def _run(connection: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> list[tuple]:  # type: ignore[type-arg]
    """Execute and fetch everything: DuckDB refuses new work while a result is still open."""
    return connection.execute(sql, params or []).fetchall()


def _arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    if frame.empty:
        return schema.empty_table()
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def _hash_expression(
    kind: str, fields: list[str], present: set[str], file_alias: str, stored_alias: str | None
) -> str:
    """SQL for the row hash: md5 over the id and every field, each rendered the same way everywhere.

    Present fields come from `file_alias`, absent ones from the stored row (`stored_alias`, or NULL).
    """
    key = _KEY[kind]
    others = [name for name in fields if name != key]

    def ref(name: str) -> str:
        if name in present:
            return f"{file_alias}.{name}"
        return f"{stored_alias}.{name}" if stored_alias else "NULL"

    parts = [f"coalesce(CAST({file_alias}.{key} AS VARCHAR), {_MISSING})"] + [
        _TIME_TEXT.format(column=ref(name))
        if name == "timestamp"
        else f"coalesce(CAST({ref(name)} AS VARCHAR), {_MISSING})"
        for name in [*others, "attributes"]
    ]
    return f"md5(concat_ws(chr(31), {', '.join(parts)}))"


def _insert_all_new(
    connection: duckdb.DuckDBPyConnection,
    kind: str,
    fields: list[str],
    present: set[str],
    batch_id: int,
    now: datetime,
) -> int | None:
    """Fast path of a first load: when every row has a distinct id the workspace does not know yet,
    insert straight from the file (no classification table, no join). Returns the rows inserted, or
    None when the general path is needed."""
    table, key = _TABLE[kind], _KEY[kind]
    total, distinct, known = _run(
        connection,
        f"""SELECT count(*), count(DISTINCT k.{key}), count(t.{key})
            FROM (SELECT {_GENERATED_ID[kind]} AS {key} FROM incoming_rows) k
            LEFT JOIN {table} t ON k.{key} = t.{key}""",
    )[0]
    if total == 0 or distinct != total or known:
        return None
    others = [name for name in fields if name != key]
    columns = [key, *others, "attributes"]
    values = ", ".join(
        [f"k.{key}"] + [f"k.{name}" if name in present else "NULL" for name in [*others, "attributes"]]
    )
    placeholder_column = ", is_placeholder" if kind == "catalog" else ""
    placeholder_value = ", FALSE" if kind == "catalog" else ""
    _run(
        connection,
        f"""INSERT INTO {table} ({", ".join(columns)}, row_hash, batch_id, updated_at{placeholder_column})
            SELECT {values}, {_hash_expression(kind, fields, present, "k", None)}, ?, ?{placeholder_value}
            FROM (SELECT * REPLACE ({_GENERATED_ID[kind]} AS {key}) FROM incoming_rows) k""",
        [batch_id, now],
    )
    return int(total)


def _stage_and_classify(
    connection: duckdb.DuckDBPyConnection, kind: str, fields: list[str], present: set[str]
) -> dict[str, int]:
    """Give every row its id, merge in stored values of fields the file lacks, hash and classify.

    A file without a column for a field says nothing about it, so an update keeps the stored value
    (a ratings-only export does not wipe the review texts of an earlier full export); a column that is
    present but empty does clear the value. Classification then compares each row's hash with the
    previous row of the same id in the file, else with the stored row.

    `classified` stays narrow (row number, id, hashes, flags, merged stored values): the wide incoming
    columns (texts) are read once for the hash and once more by the INSERT, never copied or sorted.
    """
    table, key = _TABLE[kind], _KEY[kind]
    others = [name for name in fields if name != key]
    hashed_fields = [*others, "attributes"]

    hashed = _hash_expression(kind, fields, present, "k", "t")
    kept = "".join(f", t.{name} AS {name}" for name in hashed_fields if name not in present)
    placeholder = "t.is_placeholder" if kind == "catalog" else "FALSE"
    _run(
        connection,
        f"""CREATE TEMP TABLE classified AS
            WITH keyed AS (
                SELECT row_number, {_GENERATED_ID[kind]} AS {key}, {", ".join(others)}, attributes
                FROM incoming_rows),
            merged AS (
                SELECT k.row_number, k.{key}{kept},
                       t.{key} IS NOT NULL AS stored_exists,
                       coalesce({placeholder}, FALSE) AS was_placeholder,
                       -- placeholders count as absent: a catalog row that fills one is a new product
                       CASE WHEN coalesce({placeholder}, FALSE) THEN NULL ELSE t.row_hash END AS stored_hash,
                       {hashed} AS row_hash
                FROM keyed k LEFT JOIN {table} t ON k.{key} = t.{key})
            SELECT *,
                   lag(row_hash) OVER (PARTITION BY {key} ORDER BY row_number) AS previous_hash,
                   row_number() OVER (PARTITION BY {key} ORDER BY row_number DESC) AS from_last
            FROM merged""",
    )
    accepted, updated, duplicate, filled = _run(
        connection,
        """SELECT
             count(*) FILTER (WHERE coalesce(previous_hash, stored_hash) IS NULL),
             count(*) FILTER (WHERE coalesce(previous_hash, stored_hash) IS NOT NULL
                              AND row_hash <> coalesce(previous_hash, stored_hash)),
             count(*) FILTER (WHERE row_hash = coalesce(previous_hash, stored_hash)),
             count(*) FILTER (WHERE was_placeholder AND from_last = 1)
           FROM classified""",
    )[0]
    return {
        "accepted": int(accepted),
        "updated": int(updated),
        "duplicate": int(duplicate),
        "placeholders_filled": int(filled),
    }


def _upsert(
    connection: duckdb.DuckDBPyConnection,
    kind: str,
    fields: list[str],
    present: set[str],
    batch_id: int,
    now: datetime,
) -> None:
    """Insert new ids and update changed ones: the last row of each id in the file wins.

    A plain INSERT for new ids plus an UPDATE for existing ones is several times faster in DuckDB than
    one `INSERT ... ON CONFLICT DO UPDATE` over the whole file.
    """
    table, key = _TABLE[kind], _KEY[kind]
    others = [name for name in fields if name != key]
    columns = [key, *others, "attributes"]
    values = ", ".join(
        [f"c.{key} AS {key}"]
        + [
            f"i.{name} AS {name}" if name in present else f"c.{name} AS {name}"
            for name in [*others, "attributes"]
        ]
    )
    rows = f"""SELECT {values}, c.row_hash AS row_hash
               FROM classified c JOIN incoming_rows i ON c.row_number = i.row_number
               WHERE c.from_last = 1 AND {{condition}}"""
    placeholder_column = ", is_placeholder" if kind == "catalog" else ""
    placeholder_value = ", FALSE" if kind == "catalog" else ""
    _run(
        connection,
        f"""INSERT INTO {table} ({", ".join(columns)}, row_hash, batch_id, updated_at{placeholder_column})
            SELECT *, ?, ?{placeholder_value}
            FROM ({rows.format(condition="NOT c.stored_exists")})""",
        [batch_id, now],
    )
    assignments = ", ".join(f"{name} = u.{name}" for name in [*others, "attributes", "row_hash"])
    if kind == "catalog":
        assignments += ", is_placeholder = FALSE"
    changed = "c.stored_exists AND (c.stored_hash IS NULL OR c.row_hash <> c.stored_hash)"
    _run(
        connection,
        f"""UPDATE {table} SET {assignments}, batch_id = ?, updated_at = ?
            FROM ({rows.format(condition=changed)}) u
            WHERE {table}.{key} = u.{key}""",
        [batch_id, now],
    )


def _add_placeholders(connection: duckdb.DuckDBPyConnection, batch_id: int, now: datetime) -> int:
    """Create placeholder products for item ids the catalog does not have yet."""
    result = _run(
        connection,
        """INSERT INTO items (item_id, is_placeholder, row_hash, batch_id, updated_at)
           SELECT d.item_id, TRUE, 'placeholder', ?, ?
           FROM (SELECT DISTINCT item_id FROM incoming_rows) d
           WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.item_id = d.item_id)""",
        [batch_id, now],
    )
    return int(result[0][0]) if result else 0


def _add_users(connection: duckdb.DuckDBPyConnection, batch_id: int) -> int:
    """Add users seen for the first time; move `first_seen` earlier where older rows arrived."""
    _run(
        connection,
        """CREATE TEMP TABLE seen_users AS
           SELECT user_id, min(timestamp) AS first_seen FROM incoming_rows WHERE user_id IS NOT NULL GROUP BY user_id""",
    )
    result = _run(
        connection,
        """INSERT INTO users
           SELECT s.user_id, s.first_seen, ? FROM seen_users s
           WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = s.user_id)""",
        [batch_id],
    )
    _run(
        connection,
        """UPDATE users SET first_seen = s.first_seen FROM seen_users s
           WHERE users.user_id = s.user_id AND s.first_seen IS NOT NULL
             AND (users.first_seen IS NULL OR s.first_seen < users.first_seen)""",
    )
    return int(result[0][0]) if result else 0


def rejected_rows(
    workspace: Workspace, batch_ids: list[int] | None = None, limit: int | None = None
) -> pd.DataFrame:
    """Rejected rows (file, row number, column, reason, raw row JSON), of some batches or all."""
    sql = "SELECT batch_id, file_name, row_number, column_name, reason, raw FROM rejects"
    params: list[object] = []
    if batch_ids is not None:
        if not batch_ids:
            sql += " WHERE FALSE"
        else:
            sql += f" WHERE batch_id IN ({', '.join('?' for _ in batch_ids)})"
            params.extend(int(batch_id) for batch_id in batch_ids)
    sql += " ORDER BY batch_id, row_number"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return workspace.store.query_df(sql, params)
