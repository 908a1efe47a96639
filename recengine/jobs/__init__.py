"""Background jobs of a workspace: run outside the dashboard's process, one at a time, with a record.

    records.py  the `jobs` table (status, progress, ETA, params, error, result)
    events.py   per-job JSONL event log (progress, loss, eval metrics, log lines) for live curves
    process.py  pid liveness (zombies, reused pids) and the one-job-per-workspace lock file
    context.py  what a running job reports to
    kinds.py    the job kinds: finetune_encoder, train_sentiment, prepare_workspace, ray_*
    runner.py   JobRunner: submit, get, list, cancel, events
    worker.py   `python -m recengine.jobs.worker JOB_ID WORKSPACE_DIR`
"""

from __future__ import annotations

from recengine.jobs.events import JobEvent
from recengine.jobs.kinds import KIND_LABELS, known_kinds
from recengine.jobs.records import ACTIVE_STATUSES, FINAL_STATUSES, JobRecord
from recengine.jobs.runner import JobRunner, JobRunnerProtocol, job_runner

__all__ = [
    "ACTIVE_STATUSES",
    "FINAL_STATUSES",
    "KIND_LABELS",
    "JobEvent",
    "JobRecord",
    "JobRunner",
    "JobRunnerProtocol",
    "job_runner",
    "known_kinds",
]
