"""Kill points for crash tests: a job kind that runs a real engine job and can be SIGKILLed at step N.

The parent test submits the job kind `killable` through the real `JobRunner` (so the job runs in the
real worker process and is tracked in the jobs table). Inside the worker, `killable` installs
checkpoints on every place where state becomes durable:

    progress: <message>          every progress callback of the engine function
    before-commit / after-commit every DuckDB transaction (`Store.transaction`), around its COMMIT
    before-replace / after-replace every `os.replace` (atomic file writes, registry moves), by file name

Each checkpoint is appended to a trace file. When the job's `kill` spec matches, the worker writes the
label to a marker file and sleeps; the parent sees the marker and SIGKILLs the worker's process group,
so the kill lands exactly at that point. Writes of the job record itself (throttled by time, so not
reproducible) are not checkpoints.

Kill spec: `{"nth": N}` kills at the N-th checkpoint (1-based); `{"after": [s1, s2, ...]}` kills at
the first checkpoint containing the last string, once checkpoints containing the earlier ones were
seen in order.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KIND_SPEC = "killable=reliability_support:killable"
SLEEP_AT_KILL_S = 600.0

_STATE: dict[str, Any] = {"count": 0, "stage": 0, "muted": False, "params": {}}


# -- inside the worker -----------------------------------------------------------------------------


def checkpoint(label: str) -> None:
    """Record one kill point; sleep (to be killed) when the job's kill spec says so."""
    if _STATE["muted"]:
        return
    params = _STATE["params"]
    _STATE["count"] += 1
    with open(params["trace"], "a", encoding="utf-8") as trace:
        trace.write(label.replace("\n", " ") + "\n")
    spec = params.get("kill") or {}
    hit = False
    if "nth" in spec:
        hit = _STATE["count"] == int(spec["nth"])
    elif "after" in spec:
        wanted = spec["after"]
        if wanted[_STATE["stage"]] in label:
            _STATE["stage"] += 1
            hit = _STATE["stage"] == len(wanted)
    if hit:
        Path(params["marker"]).write_text(label, encoding="utf-8")
        time.sleep(SLEEP_AT_KILL_S)


def _install_checkpoints() -> None:
    from recengine.store import database

    real_replace = os.replace

    def replace(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        name = Path(str(target)).name
        checkpoint(f"before-replace: {name}")
        real_replace(source, target, *args, **kwargs)
        checkpoint(f"after-replace: {name}")

    os.replace = replace  # type: ignore[assignment]

    @contextmanager
    def transaction(self: database.Store) -> Iterator[Any]:
        # The same steps as Store.transaction, with kill points around COMMIT.
        with database._write_lock(self.path), self.connect() as connection:
            connection.execute("BEGIN TRANSACTION")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            checkpoint("before-commit")
            connection.execute("COMMIT")
        checkpoint("after-commit")

    database.Store.transaction = transaction  # type: ignore[method-assign]


def _progress(context: Any) -> Callable[[float, str], None]:
    def progress(fraction: float, message: str) -> None:
        checkpoint(f"progress: {message}")
        _STATE["muted"] = True  # the job record's own (time-throttled) writes are not kill points
        try:
            context.progress(fraction, message)
        finally:
            _STATE["muted"] = False

    return progress


def killable(workspace: Any, params: dict[str, Any], context: Any) -> dict[str, Any]:
    """Job kind: run `params["job"]` with kill points installed."""
    _STATE.update(count=0, stage=0, muted=False, params=params)
    _install_checkpoints()
    progress = _progress(context)
    job = params["job"]
    if job == "analyze":
        from recengine.text import analyze_reviews

        analyze_reviews(workspace, progress)
    elif job == "embed":
        from recengine.embed.pipeline import embed_workspace

        embed_workspace(workspace, progress=progress)
    elif job == "activate":
        from recengine.train import registry

        registry.activate(workspace, params["version"], reembed=bool(params.get("reembed")), progress=progress)
    elif job == "finetune":
        from recengine.train.arguments import FineTuneArguments
        from recengine.train.finetune import train_and_register

        train_and_register(
            workspace,
            FineTuneArguments.from_dict(params["arguments"]),
            activate=True,
            job_id=context.job_id,
            base_model=params["base_model"],
            progress=progress,
            on_event=context.event,
            should_stop=context.cancelled,
        )
    elif job == "ingest":
        from recengine.ingest import IngestSource, ingest_files

        sources = [IngestSource(kind, Path(path).name, Path(path)) for kind, path in params["files"]]
        ingest_files(workspace, sources, progress=progress)
    else:
        raise ValueError(f"unknown job {job!r}")
    _STATE["muted"] = True  # the worker's own record of the ending is not part of the job
    return {"checkpoints": _STATE["count"]}


# -- in the test process -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KillOutcome:
    """What happened to one killable job."""

    job_id: str
    killed_at: str | None  # the checkpoint label, or None when the job finished first
    status: str
    error: str | None
    trace: list[str]


def job_environment(monkeypatch: Any) -> None:
    """Let worker processes find the `killable` kind (and this module)."""
    from recengine.jobs.kinds import EXTRA_KINDS_VARIABLE

    monkeypatch.setenv(EXTRA_KINDS_VARIABLE, KIND_SPEC)
    monkeypatch.setenv("PYTHONPATH", str(HERE))


def run_killable(
    workspace: Any, params: dict[str, Any], kill: dict[str, Any] | None, *, timeout_s: float = 240.0
) -> KillOutcome:
    """Submit a killable job, SIGKILL its worker at the kill point, and return the job as recorded."""
    from recengine.jobs import JobRunner

    folder = Path(workspace.root).parent / f"kill-{time.monotonic_ns()}"
    folder.mkdir(parents=True)
    marker, trace = folder / "marker", folder / "trace"
    runner = JobRunner(workspace)
    record = runner.submit("killable", {**params, "kill": kill, "marker": str(marker), "trace": str(trace)})
    from recengine.jobs import process

    assert record.pid, "the job has no worker pid"
    deadline = time.monotonic() + timeout_s
    killed_at = None
    # Watch the marker and the process only: at a kill point the worker may hold the database open,
    # so reading the job record here would wait for it.
    while time.monotonic() < deadline:
        if marker.exists():
            killed_at = marker.read_text(encoding="utf-8")
            os.killpg(record.pid, signal.SIGKILL)
            break
        if not process.is_alive(record.pid, record.pid_start):
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"job {params['job']} neither reached its kill point nor ended: {runner.log_tail(record.job_id)}")
    final = runner.wait(record.job_id, timeout_s=60, poll_s=0.05)
    lines = trace.read_text(encoding="utf-8").splitlines() if trace.exists() else []
    if killed_at is None and final.status != "succeeded":
        raise AssertionError(f"job {params['job']} failed on its own: {final.error} {runner.log_tail(record.job_id)}")
    return KillOutcome(record.job_id, killed_at, final.status, final.error, lines)


def copy_workspace(source: Path, target: Path) -> Path:
    """A copy of a closed workspace folder (each kill point starts from the same prepared state)."""
    shutil.copytree(source, target)
    return target


def table_rows(workspace: Any, table: str, *, drop: tuple[str, ...] = ()) -> list[str]:
    """The rows of a table as sorted JSON strings, without volatile columns (timestamps of writes)."""
    if not workspace.store.table_exists(table):
        return []
    frame = workspace.store.query_df(f"SELECT * FROM {table}")
    frame = frame.drop(columns=[column for column in drop if column in frame.columns])
    return sorted(json.dumps(row, sort_keys=True, default=str) for row in frame.to_dict("records"))


BASE_TABLES = ("items", "users", "reviews", "interactions", "rejects", "ingest_batches")


def base_state(workspace: Any) -> dict[str, list[str]]:
    """What ingest committed: the tables a derived job (analyze, embed, fine-tune) must never change."""
    return {table: table_rows(workspace, table) for table in BASE_TABLES}


def sample_points(total: int, wanted: int) -> list[int]:
    """About `wanted` kill points spread evenly over 1..total (all of them when total is small)."""
    if total <= wanted:
        return list(range(1, total + 1))
    step = total / wanted
    return sorted({max(1, min(total, round(1 + step * position))) for position in range(wanted)})
