"""Worker processes: is a pid still our worker, and the one-job-at-a-time lock file.

A pid alone is not proof: a dead worker's pid can be reused by another process, and a killed child
that its parent has not waited for stays a zombie that `kill(pid, 0)` still finds. So a worker is
"alive" only when the pid exists, is not a zombie, and (on Linux) has the start time recorded when the
job started.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

LOCK_FILE = "runner.lock"


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (clock ticks since boot) on Linux; None elsewhere or if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 2 (comm) may hold spaces and parentheses: split after its closing parenthesis.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[0] if fields else None


def is_alive(pid: int | None, start_time: str | None = None) -> bool:
    """True when `pid` runs, is not a zombie, and (when given) started at `start_time`."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else: cannot be our worker, but it is alive
    state = _state(pid)
    if state in ("Z", "X"):
        return False
    if start_time is not None:
        current = process_start_time(pid)
        if current is not None and current != start_time:
            return False  # the pid was reused by another process
    return True


@dataclass(frozen=True)
class LockOwner:
    pid: int
    job_id: str
    start_time: str | None
    since: float


def read_lock(folder: Path) -> LockOwner | None:
    path = folder / LOCK_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return LockOwner(int(raw["pid"]), str(raw["job_id"]), raw.get("start_time"), float(raw.get("since", 0.0)))
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        return None


def try_acquire(folder: Path, job_id: str) -> LockOwner | None:
    """Take the workspace's job lock for this process. Returns None on success, else the holder.

    A lock whose holder is gone (crashed, killed) is stale: it is removed and taken over.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    me = LockOwner(os.getpid(), job_id, process_start_time(os.getpid()), time.time())
    for _attempt in range(3):
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = read_lock(folder)
            if holder is not None and is_alive(holder.pid, holder.start_time):
                return holder
            if holder is None and time.time() - _mtime(path) < 2.0:
                time.sleep(0.1)  # being written by its new owner right now
                continue
            path.unlink(missing_ok=True)  # stale: its owner is gone
            continue
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({"pid": me.pid, "job_id": job_id, "start_time": me.start_time, "since": me.since}, handle)
        return None
    holder = read_lock(folder)
    return holder or LockOwner(0, "?", None, 0.0)


def release(folder: Path, job_id: str) -> None:
    """Remove the lock if this process holds it for `job_id`."""
    holder = read_lock(folder)
    if holder is not None and holder.pid == os.getpid() and holder.job_id == job_id:
        (folder / LOCK_FILE).unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
