"""The "fine-tuning" section of `recengine status` and of the dashboard's workspace status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recengine.errors import RecEngineError
from recengine.status import register_status_section

if TYPE_CHECKING:
    from recengine.workspace import Workspace


@dataclass(frozen=True)
class FineTuningStatus:
    """Which encoder version is active, how many exist, and the latest background job."""

    active_version: str
    active_model: str
    versions: int
    active_ndcg_change: str  # relative change of validation NDCG@10 of the active version, "" for the base
    last_job: str  # "kind status (job id)" or "none"
    problem: str = ""


def fine_tuning_status(workspace: Workspace) -> FineTuningStatus:
    from recengine.train import registry

    last_job = "none"
    try:
        from recengine.jobs.records import list_jobs

        # Read-only: a status look must not create the jobs table (nor mark stale jobs; the runner does).
        jobs = list_jobs(workspace, limit=1) if workspace.store.table_exists("jobs") else []
        if jobs:
            last_job = f"{jobs[0].kind} {jobs[0].status} ({jobs[0].job_id})"
        state = registry.load_registry(workspace)
        version = state.active_version
        change = ""
        before, after = version.metrics_before.get("ndcg@10"), version.metrics_after.get("ndcg@10")
        if before and after is not None:
            change = f"{(after - before) / before:+.1%}"
        return FineTuningStatus(
            active_version=version.version_id,
            active_model=registry.active_model_setting(workspace),
            versions=len(state.versions),
            active_ndcg_change=change,
            last_job=last_job,
        )
    except RecEngineError as error:
        return FineTuningStatus("?", "?", 0, "", last_job, problem=str(error))


register_status_section("fine-tuning", fine_tuning_status)
