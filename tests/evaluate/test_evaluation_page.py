"""AppTest of the Evaluation page on a small workspace (the checkerboard), with fast methods only."""

from __future__ import annotations

import sys
from pathlib import Path

from evaluate_fixtures import fill_workspace

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `ui` lives at the repository root

from streamlit.testing.v1 import AppTest  # noqa: E402

PAGE = str(ROOT / "pages" / "evaluation.py")


def page_for(root: Path) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.session_state["workspace_dir"] = str(root)
    return app


def run_evaluation(app: AppTest) -> AppTest:
    app.number_input[0].set_value(2)
    app.multiselect[0].set_value(["MostPopular", "ItemKNN"])
    app.select_slider[0].set_value(200)
    next(button for button in app.button if button.label == "Run evaluation").click()
    return app.run()


def test_page_runs_an_evaluation_and_shows_metrics_charts_and_verdict(workspace) -> None:  # type: ignore[no-untyped-def]
    fill_workspace(workspace)
    app = page_for(workspace.root).run()
    assert not app.exception
    assert any("Run an evaluation" in info.value for info in app.info)
    app = run_evaluation(app)
    assert not app.exception, app.exception
    verdict = app.success[0].value
    assert "top 2" in verdict and "%" in verdict
    table = app.dataframe[0].value
    assert table["method"].tolist() == ["MostPopular", "ItemKNN"]
    assert "NDCG@2" in table.columns and table["NDCG@2"].str.contains(r"\[").all()
    charts = app.get("plotly_chart")
    assert len(charts) >= 1
    assert "ItemKNN" in charts[0].proto.spec


def test_saved_experiments_can_be_compared(workspace) -> None:  # type: ignore[no-untyped-def]
    fill_workspace(workspace)
    app = run_evaluation(page_for(workspace.root).run())
    for name in ("first", "second"):
        app.text_input[0].set_value(name)
        next(button for button in app.button if button.label == "Save as experiment").click()
        app = app.run()
        assert not app.exception, app.exception
    assert any("Before" == box.label for box in app.selectbox)
    frames = [frame.value for frame in app.dataframe]
    listed = next(frame for frame in frames if "experiment_id" in frame.columns)
    assert sorted(listed["name"]) == ["first", "second"]
    changes = next(frame for frame in frames if "change" in frame.columns)
    assert set(changes["method"]) == {"MostPopular", "ItemKNN"}
    assert (changes["change"].abs() < 1e-12).all()
    assert len(app.get("plotly_chart")) >= 2
