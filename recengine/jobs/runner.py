"""Start, watch and cancel background jobs of one workspace.

`JobRunner` is what the dashboard, the CLI and tests use. Jobs run in a separate process
(`recengine.jobs.worker`), in their own session, one at a time per workspace (the worker holds a lock
file with its pid). Every look at a job checks that its worker is still alive: a job whose process is
gone without recording an end (crashed, OOM-killed, SIGKILLed) is marked failed with what its log
says, and the staging folder it trained into is removed. Such a job never registered or activated
anything (that happens only after success), so the active model and index are untouched.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from recengine.errors import ConfigError
from recengine.jobs import process
from recengine.jobs.events import WORKER_LOG, JobEvent, job_dir, last_lines, read_events
from recengine.jobs.kinds import known_kinds
from recengine.jobs.records import (
    JobRecord,
    ensure_jobs_table,
    get_job,
    insert_job,
    list_jobs,
    now,
    update_job,
)

if TYPE_CHECKING:
    from recengine.workspace import Workspace

NEVER_STARTED_S = 120.0  # a queued job whose worker never came up is failed after this
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
_CHILDREN_LOCK = threading.Lock()


class JobRunnerProtocol(Protocol):
    """What the dashboard needs from a runner (the tests give it a fake)."""

    def submit(self, kind: str, params: dict[str, Any]) -> JobRecord: ...
    def get(self, job_id: str) -> JobRecord: ...
    def list(self, limit: int = 20) -> list[JobRecord]: ...
    def active(self) -> JobRecord | None: ...
    def cancel(self, job_id: str, *, grace_s: float = 10.0, block: bool = True) -> JobRecord: ...
    def events(self, job_id: str, kinds: tuple[str, ...] | None = None) -> list[JobEvent]: ...
    def log_tail(self, job_id: str, lines: int = 30) -> list[str]: ...


class JobRunner:
    """Background jobs of one workspace."""

    def __init__(self, workspace: Workspace, *, python: str | None = None) -> None:
        self.workspace = workspace
        self.python = python or sys.executable

    # -- starting ----------------------------------------------------------------------------------

    def submit(self, kind: str, params: dict[str, Any] | None = None) -> JobRecord:
        """Record a job and start its worker process; returns at once (the job runs on its own).

        Raises:
            ConfigError: unknown kind.
        """
        if kind not in known_kinds():
            raise ConfigError(f"Unknown job kind {kind!r}.", hint=f"Known kinds: {', '.join(known_kinds())}.")
        job_id = f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"
        insert_job(self.workspace, job_id, kind, dict(params or {}))
        folder = job_dir(self.workspace, job_id)
        environment = dict(os.environ)
        package_parent = str(Path(__file__).resolve().parents[2])
        environment["PYTHONPATH"] = os.pathsep.join(
            part for part in (package_parent, environment.get("PYTHONPATH", "")) if part
        )
        with open(folder / WORKER_LOG, "ab") as worker_log:
            child = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [self.python, "-m", "recengine.jobs.worker", job_id, str(self.workspace.root.resolve())],
                stdin=subprocess.DEVNULL,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives the dashboard; cancel signals its whole group
                env=environment,
                cwd=package_parent,
            )
        with _CHILDREN_LOCK:
            _CHILDREN[child.pid] = child
        update_job(self.workspace, job_id, only_if_active=True, pid=child.pid,
                   pid_start=process.process_start_time(child.pid))
        return get_job(self.workspace, job_id)

    # -- looking -----------------------------------------------------------------------------------

    def get(self, job_id: str) -> JobRecord:
        """The job's record, after checking that a running job's worker is still alive."""
        return self._refresh(get_job(self.workspace, job_id))

    def list(self, limit: int = 20) -> list[JobRecord]:
        return [self._refresh(record) for record in list_jobs(self.workspace, limit=limit)]

    def active(self) -> JobRecord | None:
        """The queued or running job, if any (oldest first)."""
        active = [record for record in self.list(limit=50) if record.is_active]
        return min(active, key=lambda record: record.created_at) if active else None

    def events(self, job_id: str, kinds: tuple[str, ...] | None = None) -> list[JobEvent]:
        return read_events(job_dir(self.workspace, job_id), kinds=kinds)

    def log_tail(self, job_id: str, lines: int = 30) -> list[str]:
        """Log lines of the job: its 'log' events, else the worker's stderr."""
        logged = [str(event.values.get("message", "")) for event in self.events(job_id, ("log",))]
        if logged:
            return logged[-lines:]
        return last_lines(job_dir(self.workspace, job_id) / WORKER_LOG, lines)

    def wait(self, job_id: str, *, timeout_s: float = 600.0, poll_s: float = 0.5) -> JobRecord:
        """Block until the job ends (tests, CLI); returns its final record."""
        deadline = time.monotonic() + timeout_s
        while True:
            record = self.get(job_id)
            if not record.is_active or time.monotonic() > deadline:
                return record
            time.sleep(poll_s)

    # -- cancelling --------------------------------------------------------------------------------

    def cancel(self, job_id: str, *, grace_s: float = 10.0, block: bool = True) -> JobRecord:
        """Stop a job: SIGTERM to its process group, SIGKILL after `grace_s` if it is still there.

        With `block=False` the escalation happens in a background thread and the call returns at once.
        """
        record = self.get(job_id)
        if not record.is_active:
            return record
        if record.pid and process.is_alive(record.pid, record.pid_start):
            _signal_group(record.pid, signal.SIGTERM)
            update_job(self.workspace, job_id, only_if_active=True, message="cancelling")
            if block:
                self._escalate(record, grace_s)
            else:
                threading.Thread(target=self._escalate, args=(record, grace_s), daemon=True).start()
                return self.get(job_id)
        else:
            update_job(self.workspace, job_id, only_if_active=True, status="cancelled", finished_at=now(),
                       message="cancelled")
        return self.get(job_id)

    def _escalate(self, record: JobRecord, grace_s: float) -> None:
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and _alive(record):
            time.sleep(0.1)
        if _alive(record):
            _signal_group(record.pid or 0, signal.SIGKILL)
            for _ in range(50):
                if not _alive(record):
                    break
                time.sleep(0.1)
        # The worker records 'cancelled' itself when it stops in time; after a SIGKILL we do it.
        update_job(self.workspace, record.job_id, only_if_active=True, status="cancelled", finished_at=now(),
                   message="cancelled (stopped by force)")

    # -- liveness ----------------------------------------------------------------------------------

    def _refresh(self, record: JobRecord) -> JobRecord:
        if not record.is_active:
            return record
        if record.pid is None:
            age = (now() - record.created_at).total_seconds()
            if age < NEVER_STARTED_S:
                return record
            reason = f"its worker never started within {NEVER_STARTED_S:.0f} s"
        elif _alive(record):
            return record
        else:
            reason = f"its worker process (pid {record.pid}) ended without recording a result: it crashed or was killed"
        latest = get_job(self.workspace, record.job_id)
        if not latest.is_active:
            return latest  # it finished between our two reads
        tail = last_lines(job_dir(self.workspace, record.job_id) / WORKER_LOG, 3)
        error = f"The job failed: {reason}." + (f" Last output: {' | '.join(tail)}" if tail else "")
        update_job(self.workspace, record.job_id, only_if_active=True, status="failed", finished_at=now(),
                   error=error[:2000], message="failed")
        _clean_after_dead_worker(self.workspace, record.job_id)
        return get_job(self.workspace, record.job_id)


def _alive(record: JobRecord) -> bool:
    if not record.pid:
        return False
    with _CHILDREN_LOCK:
        child = _CHILDREN.get(record.pid)
    if child is not None and child.poll() is not None:
        with _CHILDREN_LOCK:
            _CHILDREN.pop(record.pid, None)  # reaped: no zombie left behind
        return False
    return process.is_alive(record.pid, record.pid_start)


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)  # the worker leads its own session, so its group id is its pid
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def _clean_after_dead_worker(workspace: Workspace, job_id: str) -> None:
    """Remove what a killed worker left half-done (its staging folder and a stale lock)."""
    import shutil

    from recengine.train.registry import STAGING_PREFIX, registry_dir

    shutil.rmtree(registry_dir(workspace) / f"{STAGING_PREFIX}{job_id}", ignore_errors=True)
    jobs_folder = workspace.subdir("jobs")
    holder = process.read_lock(jobs_folder)
    if holder is not None and holder.job_id == job_id and not process.is_alive(holder.pid, holder.start_time):
        (jobs_folder / process.LOCK_FILE).unlink(missing_ok=True)


def job_runner(workspace: Workspace) -> JobRunner:
    """The runner of a workspace (creates the jobs table when missing)."""
    ensure_jobs_table(workspace)
    return JobRunner(workspace)
