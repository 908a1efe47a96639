"""AppTest of the Evaluation page on a small workspace (the checkerboard), with fast methods only."""

from __future__ import annotations

import json
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
    charts = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    assert len(charts) == 3  # metric by method, metric by K, slices
    by_method, by_k, slices = charts
    assert [trace["type"] for trace in by_method["data"]] == ["bar"] and by_method["data"][0]["x"] == ["MostPopular", "ItemKNN"]
    assert "error_y" in by_method["data"][0]  # confidence intervals drawn
    assert by_k["layout"]["xaxis"]["title"]["text"] == "K" and by_k["data"][0]["x"] == [1, 2, 5, 10, 20]
    assert any("cold users" in label for label in slices["data"][0]["x"])


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
    summary = next(info.value for info in app.info if "'first'" in info.value)  # the comparison in words
    assert "unchanged" in summary and "top 2" in summary


def test_page_compares_encoder_versions_of_the_registry(workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from evaluate_fixtures import register_weights_only_version

    from recengine.evaluate import versions as versions_module

    fill_workspace(workspace)
    version_id = register_weights_only_version(workspace, "a")
    original = versions_module.version_model_spec
    monkeypatch.setattr(
        versions_module, "version_model_spec",
        lambda ws, version: "fake:3" if version.version_id == version_id else original(ws, version),
    )
    app = page_for(workspace.root).run()
    assert not app.exception, app.exception
    picker = next(box for box in app.multiselect if box.label.startswith("Also evaluate these encoder versions"))
    assert picker.options == [version_id] and picker.value == [version_id]  # selected by default
    assert "active: base" in picker.label
    app.number_input[0].set_value(2)
    app.multiselect[0].set_value(["MostPopular", "Embedding", "Hybrid"])
    app.select_slider[0].set_value(200)
    next(button for button in app.button if button.label == "Run evaluation").click()
    app = app.run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert table["method"].tolist() == [
        "MostPopular", "Embedding", "Hybrid", f"Embedding ({version_id})", f"Hybrid ({version_id})"
    ]
    assert any(f"Also evaluated on the same split: {version_id}" in caption.value for caption in app.caption)
    assert f"encoder version {version_id}" in app.success[0].value
    tests = next(frame.value for frame in app.dataframe if "compared with" in frame.value.columns)
    pairs = set(zip(tests["method"], tests["compared with"], strict=True))
    assert ("Hybrid", f"Hybrid ({version_id})") in pairs and ("Embedding", f"Embedding ({version_id})") in pairs
    # Leaving every version out gives the plain rows only.
    picker = next(box for box in app.multiselect if box.label.startswith("Also evaluate"))
    picker.set_value([])
    next(button for button in app.button if button.label == "Run evaluation").click()
    app = app.run()
    assert app.dataframe[0].value["method"].tolist() == ["MostPopular", "Embedding", "Hybrid"]


def test_weights_are_suggested_and_saved_from_the_page(workspace) -> None:  # type: ignore[no-untyped-def]
    from recengine.workspace import CONFIG_FILE, Workspace

    fill_workspace(workspace)
    # Best-sellers only: on the checkerboard any weight on co-occurrence is clearly better.
    (workspace.root / CONFIG_FILE).write_text(
        "[recommend]\nweight_semantic = 0.0\nweight_collaborative = 0.0\nweight_popularity = 1.0\n"
        "weight_quality = 0.0\nweight_recency = 0.0\n"
    )
    app = page_for(workspace.root).run()
    next(button for button in app.button if button.label == "Suggest weights").click()
    app = app.run()
    assert not app.exception, app.exception
    assert any("significantly better" in message.value for message in app.success)
    table = next(frame.value for frame in app.dataframe if "suggested" in frame.value.columns).set_index("setting")
    assert table.loc["weight_popularity", "current"] == 1.0 and table.loc["weight_collaborative", "current"] == 0.0
    assert table.loc["weight_collaborative", "suggested"] > 0
    assert table.loc["collaborative_alpha", "current"] == 0.5  # the co-occurrence settings are tuned too
    assert "EASE" in table.loc["collaborative_ease_l2", "meaning"]  # each setting says what it means
    assert table.loc["weight_popularity", "meaning"] == "weight of the popularity score component"
    next(button for button in app.button if button.label == "Save as this shop's weights").click()
    app = app.run()
    assert not app.exception, app.exception
    assert Workspace.open(workspace.root).settings.recommend.weight_collaborative > 0


def test_page_evaluates_new_products(workspace) -> None:  # type: ignore[no-untyped-def]
    fill_workspace(workspace)
    app = page_for(workspace.root).run()
    next(button for button in app.button if button.label == "Evaluate new products").click()
    app = app.run()
    assert not app.exception, app.exception
    verdict = next(success.value for success in app.success if "Among new products" in success.value)
    assert "ranks best" in verdict
    methods = [frame.value["method"].tolist() for frame in app.dataframe]
    assert any(names[:2] == ["Random", "TF-IDF"] for names in methods)  # among new products
    assert any(names[0] == "ItemKNN" for names in methods)  # whole catalog
