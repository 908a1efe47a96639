"""AppTest of pages/fine_tuning.py with a fake job runner (no process is started)."""

from __future__ import annotations

import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from recengine.jobs import JobEvent, JobRecord
from recengine.train import registry
from recengine.train.arguments import FineTuneArguments
from recengine.train.card import ModelCard

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PAGE = str(ROOT / "pages" / "fine_tuning.py")


class FakeRunner:
    """In-memory stand-in for `recengine.jobs.JobRunner`."""

    def __init__(self) -> None:
        self.records: dict[str, JobRecord] = {}
        self.event_log: dict[str, list[JobEvent]] = {}
        self.submitted: list[tuple[str, dict[str, Any]]] = []
        self.cancelled: list[str] = []

    def add(self, record: JobRecord, events: list[JobEvent] = ()) -> None:
        self.records[record.job_id] = record
        self.event_log[record.job_id] = list(events)

    def submit(self, kind: str, params: dict[str, Any]) -> JobRecord:
        self.submitted.append((kind, params))
        record = JobRecord(job_id=f"job{len(self.records) + 1}", kind=kind, status="queued",
                           created_at=datetime.now(), params=params)
        self.add(record)
        return record

    def get(self, job_id: str) -> JobRecord:
        return self.records[job_id]

    def list(self, limit: int = 20) -> list[JobRecord]:
        return sorted(self.records.values(), key=lambda record: record.created_at, reverse=True)[:limit]

    def active(self) -> JobRecord | None:
        active = [record for record in self.records.values() if record.is_active]
        return active[0] if active else None

    def cancel(self, job_id: str, *, grace_s: float = 10.0, block: bool = True) -> JobRecord:
        self.cancelled.append(job_id)
        from dataclasses import replace

        self.records[job_id] = replace(self.records[job_id], status="cancelled")
        return self.records[job_id]

    def events(self, job_id: str, kinds: tuple[str, ...] | None = None) -> list[JobEvent]:
        return [event for event in self.event_log.get(job_id, []) if kinds is None or event.kind in kinds]

    def log_tail(self, job_id: str, lines: int = 30) -> list[str]:
        return [str(event.values.get("message")) for event in self.events(job_id, ("log",))][-lines:]


def _running_job() -> tuple[JobRecord, list[JobEvent]]:
    now = time.time()
    record = JobRecord(job_id="j-run", kind="finetune_encoder", status="running", created_at=datetime.now(),
                       started_at=datetime.now(), progress=0.4, eta_s=75.0, message="step 40/100", pid=123)
    events = [
        JobEvent(now, "eval", {"step": 0, "ndcg@10": 0.20, "recall@10": 0.35}),
        JobEvent(now, "loss", {"step": 10, "loss": 2.1}),
        JobEvent(now, "loss", {"step": 20, "loss": 1.7}),
        JobEvent(now, "eval", {"step": 20, "ndcg@10": 0.24, "recall@10": 0.41}),
        JobEvent(now, "log", {"message": "pairs per source: {'sequence': 300}"}),
    ]
    return record, events


def _app(workspace_root: Path, runner: FakeRunner, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("RECENGINE_WORKSPACE", str(workspace_root))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["fine_tuning_runner"] = runner
    return at.run()


def _no_problems(at: AppTest) -> None:
    assert not at.exception, [item.message for item in at.exception]


def test_page_without_jobs_shows_data_and_the_active_base(filled_workspace, monkeypatch) -> None:
    at = _app(filled_workspace.root, FakeRunner(), monkeypatch)
    _no_problems(at)
    assert at.title[0].value == "Fine-tuning"
    assert [metric.value for metric in at.metric][:1] == ["36"]
    pairs = at.dataframe[0].value
    assert set(pairs["pairs"]) and (pairs["pairs"] > 0).all()
    assert any("No training has run" in info.value for info in at.info)
    # The fake test encoder cannot be trained: the page says so and does not offer the button.
    assert any("fake test encoder" in info.value for info in at.info)
    # With no fine-tune here yet, the duration is estimated from the catalog's 36 products.
    assert any("about 1 minute for 36 products on a 2-core CPU" in caption.value for caption in at.caption)
    assert at.button(key="FormSubmitter:ft_settings-Start fine-tuning").disabled
    versions = at.dataframe[1].value
    assert versions.loc[versions["active"] != "", "version"].tolist() == ["base"]


def test_running_job_shows_progress_curves_and_can_be_cancelled(filled_workspace, monkeypatch) -> None:
    runner = FakeRunner()
    runner.add(*_running_job())
    at = _app(filled_workspace.root, runner, monkeypatch)
    _no_problems(at)
    assert "step 40/100" in at.get("progress")[0].proto.text and "1 min 15 s left" in at.get("progress")[0].proto.text
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    assert "Training loss" in charts[0].proto.spec and "Validation" in charts[1].proto.spec
    assert "pairs per source" in at.code[0].value
    at.button(key="ft_cancel").click().run()
    _no_problems(at)
    assert runner.cancelled == ["j-run"]


def test_start_submits_a_finetune_job_with_the_settings(filled_workspace, tiny_model_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("RECENGINE_EMBED__MODEL", str(tiny_model_dir))
    runner = FakeRunner()
    at = _app(filled_workspace.root, runner, monkeypatch)
    _no_problems(at)
    at.number_input[0].set_value(2)  # epochs
    at.checkbox[1].check()  # activate when done
    at.button(key="FormSubmitter:ft_settings-Start fine-tuning").click().run()
    _no_problems(at)
    kind, params = runner.submitted[0]
    assert kind == "finetune_encoder"
    assert params["arguments"]["epochs"] == 2 and params["activate"] is True


def test_retrain_sentiment_submits_the_chosen_encoder_tuning(filled_workspace, monkeypatch) -> None:
    runner = FakeRunner()
    at = _app(filled_workspace.root, runner, monkeypatch)
    _no_problems(at)
    assert at.selectbox(key="ft_sentiment_tuning").value == "auto"  # the setting's default
    at.selectbox(key="ft_sentiment_tuning").set_value("always").run()
    at.button(key="ft_sentiment").click().run()
    _no_problems(at)
    assert runner.submitted == [("train_sentiment", {"encoder_tuning": "always", "sentiment_prior": ""})]


def test_the_page_offers_the_analysed_workspaces_next_to_this_one(filled_workspace, monkeypatch) -> None:
    sibling = filled_workspace.root.parent / "shoptwo"
    (sibling / "models" / "sentiment").mkdir(parents=True)
    (sibling / "models" / "sentiment" / "model.json").write_text("{}")
    # The saved setting, relative to this workspace, is shown as the sibling it names.
    filled_workspace.save_settings("text", {"sentiment_prior": "../shoptwo/models/sentiment"})
    at = _app(filled_workspace.root, FakeRunner(), monkeypatch)
    choice = at.selectbox(key="ft_sentiment_prior_choice")
    assert choice.options == ["No (this shop's reviews only)", f"shoptwo  ({sibling.parent})", "Another folder..."]
    assert choice.value == str(sibling)


def test_retrain_sentiment_refuses_a_folder_without_a_sentiment_model(filled_workspace, tmp_path, monkeypatch) -> None:
    runner = FakeRunner()
    at = _app(filled_workspace.root, runner, monkeypatch)
    at.selectbox(key="ft_sentiment_prior_choice").set_value("\x00another folder").run()
    at.text_input(key="ft_sentiment_prior").set_value(str(tmp_path / "no-shop-here")).run()
    at.button(key="ft_sentiment").click().run()
    assert any("No sentiment model in" in error.value for error in at.error)
    assert runner.submitted == []  # checked before a job starts


def test_failed_job_shows_its_error(filled_workspace, monkeypatch) -> None:
    runner = FakeRunner()
    runner.add(JobRecord(job_id="j-bad", kind="finetune_encoder", status="failed", created_at=datetime.now(),
                         error="The job failed: its worker process (pid 9) ended without recording a result"))
    at = _app(filled_workspace.root, runner, monkeypatch)
    _no_problems(at)
    assert any("ended without recording a result" in error.value for error in at.error)


def test_versions_compare_and_activate_then_roll_back(filled_workspace, tiny_model_dir: Path, monkeypatch) -> None:
    folder = registry.staging_dir(filled_workspace, "page")
    shutil.rmtree(folder)
    shutil.copytree(tiny_model_dir, folder)
    card = ModelCard(base_model="fake", metrics_before={"ndcg@10": 0.2, "recall@10": 0.3},
                     metrics_after={"ndcg@10": 0.26, "recall@10": 0.36})
    version_id = registry.register_version(filled_workspace, folder, card).version_id
    at = _app(filled_workspace.root, FakeRunner(), monkeypatch)
    _no_problems(at)
    assert "before (base encoder)" in at.get("plotly_chart")[0].proto.spec
    at.selectbox(key="ft_version").select(version_id).run()
    at.button(key="ft_activate").click().run()
    _no_problems(at)
    assert registry.active_version(filled_workspace).version_id == version_id
    at.button(key="ft_rollback").click().run()
    _no_problems(at)
    assert registry.active_version(filled_workspace).is_base


def test_start_can_choose_either_objective(filled_workspace, tiny_model_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("RECENGINE_EMBED__MODEL", str(tiny_model_dir))
    runner = FakeRunner()
    at = _app(filled_workspace.root, runner, monkeypatch)
    _no_problems(at)
    assert at.selectbox[0].value == "interactions"  # the default, chosen by the new-products measurement
    at.selectbox[0].set_value("pairs")
    at.button(key="FormSubmitter:ft_settings-Start fine-tuning").click().run()
    _no_problems(at)
    _kind, params = runner.submitted[0]
    assert params["arguments"]["objective"] == "pairs"
    assert params["arguments"]["trainable_layers"] == FineTuneArguments().trainable_layers


def test_comparison_shows_new_products_and_the_objective(filled_workspace, tiny_model_dir: Path) -> None:
    from ui import fine_tuning as ft

    folder = registry.staging_dir(filled_workspace, "cold")
    shutil.rmtree(folder)
    shutil.copytree(tiny_model_dir, folder)
    card = ModelCard(base_model="fake", hyperparameters={"objective": "interactions"},
                     metrics_before={"ndcg@10": 0.2, "new products recall@20": 0.40},
                     metrics_after={"ndcg@10": 0.25, "new products recall@20": 0.44})
    version_id = registry.register_version(filled_workspace, folder, card).version_id
    rows = ft.comparison_frame(filled_workspace).set_index("metric")
    assert rows.loc["new products recall@20", "change"] == pytest.approx(0.1)
    versions = ft.versions_frame(filled_workspace).set_index("version")
    assert versions.loc[version_id, "objective"] == "interactions"


def test_the_page_leads_with_one_action_and_advises_on_activation(
    filled_workspace, tiny_model_dir: Path, monkeypatch
) -> None:
    monkeypatch.setenv("RECENGINE_EMBED__MODEL", str(tiny_model_dir))
    folder = registry.staging_dir(filled_workspace, "advised")
    shutil.rmtree(folder)
    shutil.copytree(tiny_model_dir, folder)
    card = ModelCard(base_model="fake",
                     metrics_before={"new products recall@20": 0.40, "hybrid ndcg@10": 0.30},
                     metrics_after={"new products recall@20": 0.46, "new products p-value of the recall change": 0.01,
                                    "hybrid ndcg@10": 0.30})
    version_id = registry.register_version(filled_workspace, folder, card).version_id
    runner = FakeRunner()
    at = _app(filled_workspace.root, runner, monkeypatch)
    _no_problems(at)
    assert any(f"Activate {version_id}: it ranks new products better" in info.value for info in at.info)
    at.button(key="ft_improve").click().run()
    _no_problems(at)
    kind, params = runner.submitted[0]
    assert kind == "finetune_encoder" and params["activate"] is False
    assert params["arguments"] == FineTuneArguments().to_dict()  # the recommended settings


def test_expected_duration_follows_the_last_run_else_the_catalog_size() -> None:
    from ui.fine_tuning import expected_duration

    runner = FakeRunner()
    assert expected_duration(runner, 2_428, "cpu") == "about 3 minutes for 2,428 products on a 2-core CPU"
    assert expected_duration(runner, 640, "cuda:0").startswith("a few minutes on the GPU")
    started = datetime(2026, 12, 7, 8, 0, 0)
    runner.add(JobRecord(job_id="done", kind="finetune_encoder", status="succeeded", created_at=started,
                         started_at=started, finished_at=datetime(2026, 12, 7, 8, 10, 10)))
    assert expected_duration(runner, 2_428, "cpu") == "about 10 minutes, as long as the last run here"
