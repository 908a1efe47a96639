"""The job runner: separate worker processes, persistent records, cancel, kill, one job at a time."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from recengine.errors import ConfigError
from recengine.jobs import JobRunner
from recengine.jobs.kinds import EXTRA_KINDS_VARIABLE
from recengine.train import registry
from recengine.train.card import ModelCard

HERE = Path(__file__).resolve().parent


@pytest.fixture
def runner(workspace, monkeypatch: pytest.MonkeyPatch) -> JobRunner:
    monkeypatch.setenv(
        EXTRA_KINDS_VARIABLE,
        "quick=job_kinds_for_tests:quick,boom=job_kinds_for_tests:boom,sleepy=job_kinds_for_tests:sleepy",
    )
    monkeypatch.setenv("PYTHONPATH", str(HERE))
    return JobRunner(workspace)


def _wait_for(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def _register_dummy_version(workspace) -> str:
    """A registered version with a real safetensors file (enough for the registry, not for encoding)."""
    from safetensors.numpy import save_file

    folder = registry.staging_dir(workspace, "dummy")
    save_file({"weight": np.ones((2, 2), dtype=np.float32)}, str(folder / "model.safetensors"))
    card = ModelCard(base_model="fake")
    card.start()
    return registry.register_version(workspace, folder, card).version_id


def test_job_runs_in_another_process_and_records_its_result(runner: JobRunner) -> None:
    record = runner.submit("quick", {"answer": 7})
    assert record.status in ("queued", "running") and record.pid and record.pid != os.getpid()
    final = runner.wait(record.job_id, timeout_s=60)
    assert final.status == "succeeded", final.error
    assert final.result == {"answer": 7}
    assert final.progress == 1.0 and final.started_at and final.finished_at
    assert [event.values["loss"] for event in runner.events(record.job_id, ("loss",))] == [1.5]
    assert runner.list()[0].job_id == record.job_id


def test_failing_job_is_failed_with_its_error(runner: JobRunner) -> None:
    final = runner.wait(runner.submit("boom").job_id, timeout_s=60)
    assert final.status == "failed"
    assert "ValueError: boom" in (final.error or "")
    assert any("about to fail" in line for line in runner.log_tail(final.job_id))


def test_unknown_kind_is_refused(runner: JobRunner) -> None:
    with pytest.raises(ConfigError, match="Known kinds"):
        runner.submit("make_coffee")


def test_cancel_stops_a_running_job(runner: JobRunner) -> None:
    record = runner.submit("sleepy", {"seconds": 60})
    _wait_for(lambda: runner.get(record.job_id).status == "running")
    final = runner.cancel(record.job_id, grace_s=10)
    assert final.status == "cancelled"
    assert not runner.get(record.job_id).is_active


def test_killed_job_is_failed_and_leaves_the_active_model(runner: JobRunner, workspace) -> None:
    version_id = _register_dummy_version(workspace)
    registry.activate(workspace, version_id, reembed=False)
    record = runner.submit("sleepy", {"seconds": 60})
    _wait_for(lambda: len(runner.events(record.job_id, ("loss",))) > 2)
    os.killpg(record.pid, signal.SIGKILL)
    _wait_for(lambda: not runner.get(record.job_id).is_active, timeout_s=10)
    final = runner.get(record.job_id)
    assert final.status == "failed"
    assert "crashed or was killed" in (final.error or "")
    assert registry.active_version(workspace).version_id == version_id
    # The stale lock of the killed worker does not block the next job.
    assert runner.wait(runner.submit("quick").job_id, timeout_s=60).status == "succeeded"


def test_one_job_at_a_time_per_workspace(runner: JobRunner) -> None:
    first = runner.submit("sleepy", {"seconds": 60})
    _wait_for(lambda: runner.get(first.job_id).status == "running")
    second = runner.submit("quick")
    _wait_for(lambda: "waiting for job" in runner.get(second.job_id).message)
    assert runner.get(second.job_id).status == "queued"
    assert runner.active().job_id == first.job_id
    runner.cancel(first.job_id, grace_s=10)
    assert runner.wait(second.job_id, timeout_s=60).status == "succeeded"


@pytest.mark.slow  # a worker that imports torch and trains: ~30 s on 2 shared cores
def test_finetune_job_killed_mid_training_registers_nothing(filled_workspace, tiny_model_dir: Path) -> None:
    pytest.importorskip("datasets")
    runner = JobRunner(filled_workspace)
    arguments = {"objective": "pairs", "epochs": 20, "batch_size": 8, "max_pairs": 120, "holdout": "test_items",
                 "evaluations_per_epoch": 1, "early_stopping_patience": 0, "max_seq_length": 32}
    record = runner.submit("finetune_encoder", {"arguments": arguments, "base_model": str(tiny_model_dir),
                                                "activate": True})
    _wait_for(lambda: len(runner.events(record.job_id, ("loss",))) >= 2, timeout_s=60)
    staging = registry.registry_dir(filled_workspace) / f"{registry.STAGING_PREFIX}{record.job_id}"
    assert staging.exists()
    os.killpg(record.pid, signal.SIGKILL)
    _wait_for(lambda: not runner.get(record.job_id).is_active, timeout_s=10)
    assert runner.get(record.job_id).status == "failed"
    assert [version.version_id for version in registry.list_versions(filled_workspace)] == ["base"]
    assert registry.active_version(filled_workspace).is_base
    assert not staging.exists()
    # The curves drawn so far stay readable for the page.
    assert runner.events(record.job_id, ("eval",))[0].values["step"] == 0


def test_train_sentiment_kind_reports_held_out_scores(filled_workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The sentiment kind, called as the worker would (in-process here): learned model vs lexicon."""
    from recengine.jobs.context import JobContext
    from recengine.jobs.kinds import train_sentiment
    from recengine.workspace import Workspace

    monkeypatch.setenv("RECENGINE_TEXT__MIN_RATED_REVIEWS_FOR_MODEL", "20")
    workspace = Workspace.open(filled_workspace.root)  # settings re-read with the variable above
    from recengine.jobs.records import get_job, insert_job

    insert_job(workspace, "sentiment-test", "train_sentiment", {})
    context = JobContext(workspace, "sentiment-test", tmp_path)
    result = train_sentiment(workspace, {}, context)
    assert result["reviews"] == 60
    assert result["sentiment_method"] == "learned"
    assert {"learned", "lexicon"} <= set(result["quality"])
    assert result["quality"]["held_out_reviews"] > 0
    from recengine.jobs.events import read_events

    assert any(event.kind == "log" for event in read_events(tmp_path))
    assert get_job(workspace, "sentiment-test").progress == 1.0  # progress reached the record

    # The page's choice of encoder tuning is saved before the retraining (the fake encoder has no weights
    # to tune, and the reason says so).
    insert_job(workspace, "sentiment-tuned", "train_sentiment", {"encoder_tuning": "always"})
    tuned = train_sentiment(workspace, {"encoder_tuning": "always"}, JobContext(workspace, "sentiment-tuned", tmp_path))
    assert Workspace.open(workspace.root).settings.text.sentiment_encoder_tuning == "always"
    assert "no weights to tune" in tuned["method_reason"]
    # A borrowed model that is not there: the job fails with the reason, nothing is saved.
    insert_job(workspace, "sentiment-prior", "train_sentiment", {"sentiment_prior": str(tmp_path / "no-shop")})
    with pytest.raises(ConfigError, match="No sentiment model"):
        train_sentiment(workspace, {"sentiment_prior": str(tmp_path / "no-shop")},
                        JobContext(workspace, "sentiment-prior", tmp_path))
    assert Workspace.open(workspace.root).settings.text.sentiment_prior == ""
