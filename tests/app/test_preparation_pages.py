"""While the workspace preparation runs: the home page follows it, other pages say what they are waiting
for and show what they can, and everything fills in once it is done."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from apptest_support import new_app

from recengine.jobs.records import now, update_job
from recengine.preparation import STEP_NAMES, pending_steps
from recengine.workspace import Workspace


@pytest.fixture
def preparing_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, running_preparation: Callable[..., str]) -> tuple[Workspace, str]:
    """The demo's data without its preparation, and a preparation job in its second step."""
    from recengine.demo import small_demo_workspace

    root = tmp_path / "demo"
    workspace = small_demo_workspace(root, post_ingest=False)
    update_job_id = running_preparation(workspace, progress=0.35, message="Step 1/4: Reading the reviews: finding aspects")
    monkeypatch.setenv("RECENGINE_WORKSPACE", str(root))
    return workspace, update_job_id


def _texts(at) -> list[str]:  # type: ignore[no-untyped-def]
    return [element.value for element in [*at.markdown, *at.info, *at.caption, *at.warning]]


def test_home_shows_the_data_and_the_preparations_progress(preparing_demo: tuple[Workspace, str]) -> None:
    workspace, job_id = preparing_demo
    at = new_app().run()
    assert not at.exception, [item.message for item in at.exception]
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Products"] == f"{workspace.summary().items:,}" and metrics["Events"] != "0"
    texts = _texts(at)
    assert "**Preparing this workspace in the background**" in texts
    bars = [element.proto.text for element in at.get("progress")]
    assert any("Step 1 of 4: Reading the reviews" in text and "35%" in text and "about 42 s left" in text
               for text in bars), bars
    assert any("Reading the reviews: keywords, aspects and lexicon sentiment (in progress)" in text for text in texts)
    assert any("Evaluating the recommender: a saved evaluation against baselines (waiting)" in text for text in texts)

    # The job ends: the panel goes and the page reads the new state.
    workspace.store.set_meta("preparation_pending", "[]")
    update_job(workspace, job_id, status="succeeded", finished_at=now(), progress=1.0)
    at.run()
    assert not any("Preparing this workspace" in text for text in _texts(at))


def test_pages_say_what_they_wait_for_and_show_what_they_can(preparing_demo: tuple[Workspace, str]) -> None:
    workspace, _job_id = preparing_demo
    at = new_app().run()
    at.switch_page("pages/recommendations.py").run()
    assert not at.exception, [item.message for item in at.exception]
    infos = [info.value for info in at.info]
    assert any("Being prepared in the background: semantic scores" in info for info in infos), infos
    assert any("bought together" in info for info in infos)
    assert at.dataframe, "the recommendations from the collaborative signal are shown"
    encoded = [path for path in (workspace.root / "embeddings").rglob("*") if path.is_file()]
    assert not encoded, "the page did not embed beside the job"

    at.switch_page("pages/insights.py").run()
    assert not at.exception
    assert any("keywords, aspects and lexicon sentiment" in info.value for info in at.info)
    assert not at.button, "no second analysis is offered while the background one runs"

    at.switch_page("pages/evaluation.py").run()
    assert not at.exception
    assert any("a saved evaluation against baselines" in info.value for info in at.info)
    assert pending_steps(workspace) == STEP_NAMES  # reading pages changed nothing


def test_the_evaluation_page_opens_with_the_saved_evaluation(demo_workspace: Path) -> None:
    """The preparation saves one evaluation: a presenter's Evaluation page shows it without a run."""
    at = new_app().run()
    at.switch_page("pages/evaluation.py").run()
    assert not at.exception, [item.message for item in at.exception]
    assert not any("Run an evaluation" in info.value for info in at.info)
    assert at.success and at.dataframe, "the saved evaluation's verdict and metrics are shown"


def test_the_similar_page_offers_no_second_embedding_while_the_preparation_embeds(
    preparing_demo: tuple[Workspace, str],
) -> None:
    workspace, job_id = preparing_demo
    at = new_app().run()
    at.switch_page("pages/similar.py").run()
    assert not at.exception, [item.message for item in at.exception]
    button = at.button(key="similar_embeddings_update")
    assert button.disabled and "background preparation" in button.help
    assert any("being made by the workspace's preparation" in caption.value for caption in at.caption)

    # Once the preparation ended (here: stopped before its embeddings), the button is offered again.
    update_job(workspace, job_id, status="failed", finished_at=now())
    at.run()
    assert not at.exception
    assert not at.button(key="similar_embeddings_update").disabled
