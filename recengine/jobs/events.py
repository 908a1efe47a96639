"""Per-job event log: one JSON object per line under workspace/jobs/<job_id>/events.jsonl.

The worker appends progress, loss, validation metrics and log lines; the dashboard re-reads the file to
draw live curves and to reattach after a reload. Appends are single `write` calls of one line, and the
reader skips a torn last line, so reading while the worker writes is safe.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recengine.workspace import Workspace

EVENTS_FILE = "events.jsonl"
WORKER_LOG = "worker.log"


@dataclass(frozen=True)
class JobEvent:
    """One line of a job's event log."""

    time: float
    kind: str  # progress | loss | eval | log | status
    values: dict[str, Any]


def job_dir(workspace: Workspace, job_id: str) -> Path:
    path = workspace.subdir("jobs") / job_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def append_event(folder: Path, kind: str, values: dict[str, Any]) -> None:
    line = json.dumps({"time": time.time(), "kind": kind, "values": values}, default=_plain) + "\n"
    with open(folder / EVENTS_FILE, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()


def read_events(folder: Path, *, kinds: tuple[str, ...] | None = None) -> list[JobEvent]:
    path = folder / EVENTS_FILE
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            continue  # the line being written right now
        if kinds is None or raw.get("kind") in kinds:
            events.append(JobEvent(float(raw.get("time", 0.0)), str(raw.get("kind", "")), dict(raw.get("values", {}))))
    return events


def last_lines(path: Path, count: int = 20) -> list[str]:
    """The last `count` lines of a text file (the worker's stderr), for error messages."""
    if not path.exists():
        return []
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 16_384))
        text = handle.read().decode("utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip()][-count:]


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)
