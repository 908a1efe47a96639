"""The workspace database: one DuckDB file, opened briefly for each operation.

DuckDB lets only one process open a database file at a time, and the dashboard, the CLI and
background jobs are separate processes. So nothing holds a connection for long: every read or write
opens the file, does its work and closes it, and a caller that finds the file locked by another process
retries until `busy_timeout_s` has passed. Inside one process connections share one database instance,
and writes are serialised by a lock so that two Streamlit sessions never race on the same rows.
Every write runs in one transaction: a crash or a kill before COMMIT leaves the previous state.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from recengine.errors import WorkspaceBusyError, WorkspaceError
from recengine.store.schema import SCHEMA_VERSION, TABLES

_WRITE_LOCKS: dict[Path, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(path: Path) -> threading.RLock:
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(path.resolve(), threading.RLock())


def _is_lock_conflict(error: Exception) -> bool:
    text = str(error).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


class Store:
    """Access to one workspace database file."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s

    # -- connections ---------------------------------------------------------------------------

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the database (waiting while another process holds it) and close it afterwards."""
        connection = self._open_with_retry()
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside BEGIN ... COMMIT; any exception rolls the whole write back."""
        with _write_lock(self.path), self.connect() as connection:
            connection.execute("BEGIN TRANSACTION")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _open_with_retry(self) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.busy_timeout_s
        delay = 0.02
        while True:
            try:
                connection = duckdb.connect(str(self.path))
                # DuckDB draws a progress bar on stdout during long queries; stdout carries CLI output.
                connection.execute("SET enable_progress_bar = false")
                return connection
            except duckdb.IOException as error:
                if not _is_lock_conflict(error):
                    raise WorkspaceError(f"Cannot open the workspace database {self.path}: {error}") from error
                if time.monotonic() > deadline:
                    raise WorkspaceBusyError(
                        f"The workspace database {self.path} is in use by another process.",
                        hint="Wait for the running ingest or job to finish, then try again.",
                    ) from error
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)

    # -- schema ----------------------------------------------------------------------------------

    def initialise(self) -> None:
        """Create missing tables; refuse a database written by a newer schema."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.transaction() as connection:
            for ddl in TABLES.values():
                connection.execute(ddl)
            row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                connection.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise WorkspaceError(
                    f"The workspace at {self.path.parent} was written by a newer recengine "
                    f"(schema {row[0]}, this version reads {SCHEMA_VERSION}).",
                    hint="Upgrade recengine.",
                )

    def ensure_table(self, ddl: str) -> None:
        """Create a table owned by another module (analysis results, registry, jobs) if missing."""
        with self.transaction() as connection:
            connection.execute(ddl)

    # -- reads -----------------------------------------------------------------------------------

    def query_df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run a read query and return a pandas frame."""
        with self.connect() as connection:
            return connection.execute(sql, params or []).df()

    def query_rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.connect() as connection:
            return connection.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.query_rows(sql, params)
        return rows[0][0] if rows else None

    def count(self, table: str) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {_identifier(table)}"))

    def table_exists(self, table: str) -> bool:
        return bool(
            self.scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
            )
        )

    def get_meta(self, key: str) -> str | None:
        return self.scalar("SELECT value FROM meta WHERE key = ?", [key])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as connection:
            connection.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise WorkspaceError(f"Invalid table name {name!r}.")
    return name
