"""Fixtures shared by every test package. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from recengine.workspace import Workspace

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _fake_model_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests use the deterministic fake encoder; `slow` tests ask for the real model explicitly."""
    monkeypatch.setenv("RECENGINE_EMBED__MODEL", "fake")
    monkeypatch.setenv("RECENGINE_EMBED__DEVICE", "cpu")


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace in a temporary folder."""
    return Workspace.open(tmp_path / "ws")


def shared_data_or_skip(*parts: str) -> Path:
    """Path into ../shared/data, skipping the test with a clear message when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available at {path} (only on the team's machines)")
    return path


@pytest.fixture
def running_preparation() -> Callable[..., str]:
    """Records a workspace preparation job as running in this test's own process (alive as long as the
    test), so pages and commands see a preparation in progress without a worker process."""
    from recengine.jobs import job_runner
    from recengine.jobs.process import process_start_time
    from recengine.jobs.records import insert_job, update_job
    from recengine.preparation import JOB_KIND

    def start(workspace: Workspace, *, progress: float = 0.3, message: str = "Step 2/4: Embedding the products") -> str:
        job_id = f"test-{time.monotonic_ns()}"
        job_runner(workspace)  # creates the jobs table
        insert_job(workspace, job_id, JOB_KIND, {})
        update_job(workspace, job_id, status="running", pid=os.getpid(), pid_start=process_start_time(os.getpid()),
                   progress=progress, eta_s=42.0, message=message)
        return job_id

    return start
