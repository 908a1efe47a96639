"""Persistent job records: the `jobs` table of the workspace database.

The worker process writes status transitions and (throttled) progress; the dashboard and the CLI read.
Every write opens the database briefly, so a long training run never holds it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from recengine.errors import NotFoundError

if TYPE_CHECKING:
    from recengine.workspace import Workspace

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
ACTIVE_STATUSES: tuple[str, ...] = ("queued", "running")
FINAL_STATUSES: tuple[str, ...] = ("succeeded", "failed", "cancelled")

JOBS_DDL = """
    CREATE TABLE IF NOT EXISTS jobs (
        job_id VARCHAR PRIMARY KEY,
        kind VARCHAR NOT NULL,
        status VARCHAR NOT NULL,        -- queued | running | succeeded | failed | cancelled
        created_at TIMESTAMP NOT NULL,
        started_at TIMESTAMP,
        finished_at TIMESTAMP,
        progress DOUBLE,                -- 0..1
        eta_s DOUBLE,                   -- seconds left, estimated from progress so far
        message VARCHAR,                -- what the job is doing now
        params VARCHAR,                 -- JSON
        error VARCHAR,
        pid INTEGER,                    -- worker process (also its process group)
        pid_start VARCHAR,              -- the process's start time, to tell a reused pid
        result VARCHAR,                 -- JSON
        updated_at TIMESTAMP
    )"""


@dataclass(frozen=True)
class JobRecord:
    """One job as stored."""

    job_id: str
    kind: str
    status: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: float = 0.0
    eta_s: float | None = None
    message: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    pid: int | None = None
    pid_start: str | None = None
    result: dict[str, Any] | None = None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or now()
        return max(0.0, (end - self.started_at).total_seconds())


def now() -> datetime:
    # Naive UTC: DuckDB TIMESTAMP columns hold no zone.
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_jobs_table(workspace: Workspace) -> None:
    if not workspace.store.table_exists("jobs"):
        workspace.store.ensure_table(JOBS_DDL)


def insert_job(workspace: Workspace, job_id: str, kind: str, params: dict[str, Any]) -> JobRecord:
    ensure_jobs_table(workspace)
    created = now()
    with workspace.store.transaction() as connection:
        connection.execute(
            "INSERT INTO jobs (job_id, kind, status, created_at, progress, message, params, updated_at) "
            "VALUES (?, ?, 'queued', ?, 0.0, 'queued', ?, ?)",
            [job_id, kind, created, json.dumps(params, default=str), created],
        )
    return JobRecord(job_id=job_id, kind=kind, status="queued", created_at=created, message="queued", params=params)


def update_job(workspace: Workspace, job_id: str, *, only_if_active: bool = False, **values: Any) -> bool:
    """Set columns of one job; with `only_if_active`, leave a finished job alone. True when written."""
    if not values:
        return False
    encoded = {
        key: json.dumps(value, default=str) if key in ("params", "result") and value is not None else value
        for key, value in values.items()
    }
    encoded["updated_at"] = now()
    assignments = ", ".join(f"{_column(key)} = ?" for key in encoded)
    condition = " AND status IN ('queued', 'running')" if only_if_active else ""
    with workspace.store.transaction() as connection:
        cursor = connection.execute(
            f"UPDATE jobs SET {assignments} WHERE job_id = ?{condition} RETURNING job_id",
            [*encoded.values(), job_id],
        )
        return bool(cursor.fetchall())


def get_job(workspace: Workspace, job_id: str) -> JobRecord:
    ensure_jobs_table(workspace)
    frame = workspace.store.query_df("SELECT * FROM jobs WHERE job_id = ?", [job_id])
    if frame.empty:
        raise NotFoundError(f"No job {job_id!r} in this workspace.", hint="List jobs with `recengine jobs list`.")
    return _record(frame.iloc[0].to_dict())


def list_jobs(workspace: Workspace, *, limit: int = 50, kind: str | None = None) -> list[JobRecord]:
    ensure_jobs_table(workspace)
    sql = "SELECT * FROM jobs"
    params: list[Any] = []
    if kind:
        sql += " WHERE kind = ?"
        params.append(kind)
    sql += " ORDER BY created_at DESC LIMIT ?"
    params.append(int(limit))
    frame = workspace.store.query_df(sql, params)
    return [_record(row) for row in frame.to_dict("records")]


def _record(row: dict[str, Any]) -> JobRecord:
    def value(name: str) -> Any:
        item = row.get(name)
        if item is None or item is pd.NaT or (isinstance(item, float) and pd.isna(item)):
            return None
        if isinstance(item, pd.Timestamp):
            return item.to_pydatetime()
        return item

    params = value("params")
    result = value("result")
    pid = value("pid")
    return JobRecord(
        job_id=str(row["job_id"]),
        kind=str(row["kind"]),
        status=str(row["status"]),
        created_at=value("created_at"),
        started_at=value("started_at"),
        finished_at=value("finished_at"),
        progress=float(value("progress") or 0.0),
        eta_s=value("eta_s"),
        message=value("message") or "",
        params=json.loads(params) if params else {},
        error=value("error"),
        pid=int(pid) if pid is not None else None,
        pid_start=value("pid_start"),
        result=json.loads(result) if result else None,
    )


_COLUMNS = {
    "status", "started_at", "finished_at", "progress", "eta_s", "message", "params", "error", "pid",
    "pid_start", "result",
}


def _column(name: str) -> str:
    if name not in _COLUMNS | {"updated_at"}:
        raise ValueError(f"jobs has no writable column {name!r}")
    return name
