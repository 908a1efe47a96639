"""What a running job's code talks to: progress with ETA, events, log lines, the cancel flag."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recengine.jobs.events import append_event
from recengine.jobs.records import update_job

if TYPE_CHECKING:
    from recengine.workspace import Workspace

DB_INTERVAL_S = 2.0  # progress reaches the database at most this often (events file: every call)
EVENT_INTERVAL_S = 0.5


class JobContext:
    """Handed to a job kind's function in the worker process.

    `progress` is a `recengine.progress.Progress` callback, so engine functions take it directly.
    """

    def __init__(self, workspace: Workspace, job_id: str, folder: Path) -> None:
        self.workspace = workspace
        self.job_id = job_id
        self.folder = folder
        self.started = time.monotonic()
        self._cancel = threading.Event()
        self._last_db = 0.0
        self._last_event = 0.0

    # -- cancellation ------------------------------------------------------------------------------

    def request_cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        """True once cancellation was asked for; long loops should stop soon after."""
        return self._cancel.is_set()

    # -- reporting ---------------------------------------------------------------------------------

    def eta(self, fraction: float) -> float | None:
        elapsed = time.monotonic() - self.started
        if fraction <= 0.01 or fraction >= 1.0:
            return None if fraction < 1.0 else 0.0
        return max(0.0, elapsed / fraction - elapsed)

    def progress(self, fraction: float, message: str) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        now = time.monotonic()
        eta = self.eta(fraction)
        if now - self._last_event >= EVENT_INTERVAL_S or fraction >= 1.0:
            self._last_event = now
            append_event(self.folder, "progress", {"fraction": fraction, "message": message, "eta_s": eta})
        if now - self._last_db >= DB_INTERVAL_S or fraction >= 1.0:
            self._last_db = now
            update_job(self.workspace, self.job_id, only_if_active=True, progress=fraction, eta_s=eta, message=message[:200])

    def event(self, kind: str, values: dict[str, Any]) -> None:
        """Record a loss / eval / log event (progress events from trainers are throttled)."""
        if kind == "progress":
            now = time.monotonic()
            if now - self._last_event < EVENT_INTERVAL_S:
                return
            self._last_event = now
        append_event(self.folder, kind, values)

    def log(self, message: str) -> None:
        append_event(self.folder, "log", {"message": message})
