"""The worker process of one job: `python -m recengine.jobs.worker JOB_ID WORKSPACE_DIR`.

Started by `JobRunner.submit` in its own session (process group), so closing the browser, reloading
the page or stopping the dashboard does not stop it, and a cancel can signal the whole group. It waits
for the workspace's job lock (one job at a time per workspace), runs the job's kind, and records how it
ended. SIGTERM asks the job to stop at its next step (the runner follows up with SIGKILL after a grace
period); a job killed outright is noticed by the runner (its pid is gone) and marked failed.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from types import FrameType

from recengine.errors import RecEngineError
from recengine.jobs import process
from recengine.jobs.context import JobContext
from recengine.jobs.events import append_event, job_dir
from recengine.jobs.kinds import resolve_kind
from recengine.jobs.records import get_job, now, update_job
from recengine.workspace import Workspace

log = logging.getLogger("recengine.jobs.worker")
LOCK_POLL_S = 1.0


def run_job(workspace: Workspace, job_id: str, context: JobContext) -> str:
    """Run one queued job to its end in this process; return its final status."""
    record = get_job(workspace, job_id)
    if record.status != "queued":
        return record.status  # cancelled (or already run) before this worker got to it
    jobs_folder = workspace.subdir("jobs")
    waiting_on: str | None = None
    while (holder := process.try_acquire(jobs_folder, job_id)) is not None:
        if context.cancelled():
            update_job(workspace, job_id, only_if_active=True, status="cancelled", finished_at=now(),
                       message="cancelled while waiting")
            return "cancelled"
        if holder.job_id != waiting_on:
            waiting_on = holder.job_id
            update_job(workspace, job_id, only_if_active=True, message=f"waiting for job {holder.job_id} to finish")
        time.sleep(LOCK_POLL_S)
    try:
        start = process.process_start_time(_pid())
        if not update_job(workspace, job_id, only_if_active=True, status="running", started_at=now(),
                          pid=_pid(), pid_start=start, message="starting"):
            return get_job(workspace, job_id).status
        append_event(context.folder, "status", {"status": "running"})
        function = resolve_kind(record.kind)
        status, values = "succeeded", {}
        try:
            result = function(workspace, record.params, context)
            values = {"result": result or {}, "progress": 1.0, "eta_s": 0.0, "message": "finished"}
        except BaseException as error:  # noqa: BLE001 - every ending is recorded, then re-raised if fatal
            status, values = _failure(error, context)
            if not isinstance(error, Exception | KeyboardInterrupt):
                update_job(workspace, job_id, only_if_active=True, status=status, finished_at=now(), **values)
                raise
        update_job(workspace, job_id, only_if_active=True, status=status, finished_at=now(), **values)
        append_event(context.folder, "status", {"status": status, **({"error": values["error"]} if "error" in values else {})})
        return status
    finally:
        process.release(jobs_folder, job_id)


def _failure(error: BaseException, context: JobContext) -> tuple[str, dict[str, object]]:
    if context.cancelled():
        context.log("cancelled")
        return "cancelled", {"message": "cancelled", "error": None}
    if isinstance(error, RecEngineError):
        message = str(error)
    else:
        message = f"{type(error).__name__}: {error}"
        context.log("".join(traceback.format_exception(error)).strip()[-4000:])
    context.log(f"failed: {message}")
    return "failed", {"error": message[:2000], "message": "failed"}


def _pid() -> int:
    import os

    return os.getpid()


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 2:
        print("usage: python -m recengine.jobs.worker JOB_ID WORKSPACE_DIR", file=sys.stderr)
        return 2
    job_id, root = arguments
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    workspace = Workspace.open(root, create=False)
    context = JobContext(workspace, job_id, job_dir(workspace, job_id))

    def on_term(signum: int, frame: FrameType | None) -> None:
        if context.cancelled():
            raise SystemExit(143)  # a second SIGTERM: stop now
        context.request_cancel()

    signal.signal(signal.SIGTERM, on_term)
    status = run_job(workspace, job_id, context)
    log.info("job %s %s", job_id, status)
    return 0 if status in ("succeeded", "cancelled") else 1


if __name__ == "__main__":
    sys.exit(main())
