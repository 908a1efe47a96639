"""The workspace preparation: a demo usable from its data alone, steps recorded as they finish, a killed
job completed by the next start, and the CLI that start.sh calls."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from recengine.cli import main
from recengine.demo import create_demo_workspace
from recengine.errors import ConfigError
from recengine.jobs import job_runner
from recengine.preparation import (
    STEP_NAMES,
    encoder_work_in_background,
    mark_pending,
    pending_steps,
    preparation_status,
    prepare_workspace,
)
from recengine.workspace import Workspace


def test_a_background_demo_is_usable_before_its_preparation_ends(
    tmp_path: Path, running_preparation: Callable[..., str]
) -> None:
    from recengine.recommend.workspace_model import clear_cache, recommender_for

    workspace = create_demo_workspace(tmp_path / "ws", size="small", post_ingest=False)
    assert pending_steps(workspace) == STEP_NAMES
    summary = workspace.summary()
    assert summary.items > 0 and summary.reviews > 0 and summary.interactions > 0 and summary.users > 0
    running_preparation(workspace)
    assert encoder_work_in_background(workspace, "embeddings")

    clear_cache()
    model = recommender_for(workspace)
    user_id = str(workspace.interactions()["user_id"].value_counts().index[0])
    recommendations = model.recommend(user_id, 10)
    assert len(recommendations) == 10
    assert any(rec.explanation.components.get("collaborative", 0) > 0 for rec in recommendations)
    assert all(rec.explanation.components.get("semantic", 0) == 0 for rec in recommendations)
    assert model.vectors is None
    encoded = [path for path in (workspace.root / "embeddings").rglob("*") if path.is_file()]
    assert not encoded, "nothing was encoded beside the background job"


def test_steps_run_in_order_and_leave_the_pending_list_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recengine import preparation

    workspace = create_demo_workspace(tmp_path / "ws", size="small", post_ingest=False)
    seen: list[tuple[str, tuple[str, ...]]] = []

    def recorder(name: str):  # type: ignore[no-untyped-def]
        def run(ws: Workspace, progress) -> None:  # type: ignore[no-untyped-def]
            assert ws.is_demo()
            progress(0.5, "half way")
            seen.append((name, pending_steps(ws)))
            if name == "analysis":  # works the CPU for 0.3 s; the embeddings step waits
                until = time.process_time() + 0.3
                while time.process_time() < until:
                    pass
            else:
                time.sleep(0.3)

        return run

    monkeypatch.setattr(preparation, "_RUNNERS", {name: recorder(name) for name in STEP_NAMES})
    messages: list[tuple[float, str]] = []
    version = workspace.store.get_meta("data_version")
    report = prepare_workspace(workspace, lambda fraction, message: messages.append((fraction, message)),
                               should_stop=lambda: len(seen) == 2)
    # Each step sees itself (and the later ones) still pending: it leaves the list only when done.
    assert seen == [("analysis", STEP_NAMES), ("embeddings", STEP_NAMES[1:])]
    assert report.steps == ("analysis", "embeddings") and pending_steps(workspace) == STEP_NAMES[2:]
    # CPU seconds next to wall seconds, per step (the CPU seconds also count the database's threads).
    assert set(report.cpu_seconds) == set(report.seconds) == {"analysis", "embeddings"}
    assert report.cpu_seconds["analysis"] >= 0.29 and report.seconds["embeddings"] >= 0.3
    assert workspace.store.get_meta("data_version") != version, "open pages are told to refresh"
    fractions = [fraction for fraction, _ in messages]
    assert fractions == sorted(fractions)
    assert any(message == "Step 1/4: Reading the reviews: half way" for _, message in messages)

    prepare_workspace(workspace)  # the rest: only what is pending
    assert [name for name, _ in seen] == list(STEP_NAMES) and pending_steps(workspace) == ()
    with pytest.raises(ConfigError, match="Unknown preparation step"):
        mark_pending(workspace, ["no_such_step"])


def test_a_killed_preparation_is_completed_by_the_next_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ws"
    # What start.sh runs on a first start: the data now, the preparation as a background job.
    assert main(["demo", "--workspace", str(root), "--size", "small", "--background"]) == 0
    printed = capsys.readouterr().out
    assert "data ready" in printed and "job " in printed
    workspace = Workspace.open(root)
    status = preparation_status(workspace)
    assert status.job is not None and status.pending == STEP_NAMES
    runner = job_runner(workspace)
    deadline = time.monotonic() + 60
    record = runner.get(status.job.job_id)
    while record.pid is None and time.monotonic() < deadline:
        time.sleep(0.05)
        record = runner.get(record.job_id)
    assert record.pid is not None
    os.killpg(record.pid, signal.SIGKILL)  # the machine went down mid-way
    while runner.get(record.job_id).is_active and time.monotonic() < deadline:
        time.sleep(0.05)
    killed = preparation_status(workspace)
    assert killed.job is not None and killed.job.status == "failed"
    assert killed.interrupted and killed.pending, "the steps the kill cut short are still pending"

    # The next start: `recengine prepare --resume` (start.sh adds --background) finishes them.
    assert main(["prepare", "--workspace", str(root), "--resume"]) == 0
    resumed = capsys.readouterr().out
    assert "Resuming the preparation" in resumed
    assert "Prepared in" in resumed and "CPU s)" in resumed, "each step's wall and CPU time are printed"
    assert pending_steps(workspace) == ()
    from recengine.embed import saved_item_index
    from recengine.evaluate import list_experiments
    from recengine.text import analysis_state

    assert analysis_state(workspace)["method"] == "learned"
    assert saved_item_index(workspace) is not None
    assert len(list_experiments(workspace)) == 1
    assert main(["prepare", "--workspace", str(root), "--resume"]) == 0
    assert "Nothing left to prepare" in capsys.readouterr().out
