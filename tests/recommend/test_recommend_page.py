"""AppTest of the Recommendations and Search pages on a small workspace."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from recommend_fixtures import fill_workspace  # noqa: E402
from streamlit.testing.v1 import AppTest

from recengine.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="module")
def filled_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One small workspace for the module, so the cached model is fitted once."""
    return fill_workspace(Workspace.open(tmp_path_factory.mktemp("page") / "ws"))


def open_page(page: str, workspace: Workspace) -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=60)
    app.session_state["workspace_dir"] = str(workspace.root)
    return app.run()


def test_recommendations_page_shows_a_customer_and_reasons(filled_workspace: Workspace) -> None:
    app = open_page("recommendations.py", filled_workspace)
    assert not app.exception, app.exception
    assert app.selectbox(key="rec_user").value == "g0"  # most active first, then by id
    app.selectbox(key="rec_user").set_value("j3").run()
    assert not app.exception
    texts = [element.value for element in app.text]
    assert any("Jazz record" in text or "Close to" in text for text in texts), texts
    chart = app.get("plotly_chart")[0].proto.spec
    assert "semantic" in chart or "collaborative" in chart
    assert app.get("download_button")


def test_rules_in_the_sidebar_rerank_live(filled_workspace: Workspace) -> None:
    app = open_page("recommendations.py", filled_workspace)
    app.selectbox(key="rec_user").set_value("j3").run()
    app.text_input(key="rec_pin").set_value("G4").run()
    assert not app.exception
    first = next(element.value for element in app.markdown if element.value.startswith("**1.**"))
    assert "Garden tool 4" in first
    app.toggle(key="rec_rules_on").set_value(False).run()
    first = next(element.value for element in app.markdown if element.value.startswith("**1.**"))
    assert "Jazz record" in first


def test_why_not_and_compare(filled_workspace: Workspace) -> None:
    app = open_page("recommendations.py", filled_workspace)
    app.selectbox(key="rec_user").set_value("j3").run()
    app.slider(key="rec_k").set_value(3).run()
    app.text_input(key="rec_why_not").set_value("G2").run()
    assert not app.exception
    assert any("ranks" in element.value for element in app.text)
    app.toggle(key="rec_compare").set_value(True).run()
    assert not app.exception
    assert any("Configuration B" in element.value for element in app.caption)


def test_cold_start_segment(filled_workspace: Workspace) -> None:
    app = open_page("recommendations.py", filled_workspace)
    app.selectbox(key="rec_segment").set_value("Garden").run()
    assert not app.exception
    cards = [element.value for element in app.markdown if element.value.startswith("**")]
    assert cards and all("Garden tool" in card for card in cards)


def test_search_page(filled_workspace: Workspace) -> None:
    app = open_page("search.py", filled_workspace)
    assert not app.exception
    app.text_input(key="search_query").set_value("garden tool").run()
    assert not app.exception
    assert app.dataframe
    app.radio(key="bundle_mode").set_value("a customer").run()
    assert not app.exception


@pytest.mark.parametrize("page", ["recommendations.py", "search.py"])
def test_pages_explain_an_empty_workspace(workspace: Workspace, page: str) -> None:
    app = open_page(page, workspace)
    assert not app.exception
    assert any("no products" in element.value for element in app.info)


def test_sidebar_weights_can_be_saved_as_the_shops_defaults(tmp_path: Path) -> None:
    from recengine.workspace import CONFIG_FILE

    workspace = fill_workspace(Workspace.open(tmp_path / "ws"))  # its own: saving changes the settings
    app = open_page("recommendations.py", workspace)
    assert not [button for button in app.button if button.label == "Save as this shop's default weights"]
    app.slider(key="rec_w_semantic").set_value(0.8).run()
    assert not app.exception, app.exception
    next(button for button in app.button if button.label == "Save as this shop's default weights").click()
    app = app.run()
    assert not app.exception, app.exception
    assert "weight_semantic = 0.8" in (workspace.root / CONFIG_FILE).read_text()
    # From the next rerun the page's model carries the saved weights: nothing left to save.
    app = app.run()
    assert not [button for button in app.button if button.label == "Save as this shop's default weights"]


def test_weight_help_names_the_collaborative_signal_in_use(items, interactions) -> None:  # type: ignore[no-untyped-def]
    from recengine.config import RecommendSettings
    from recengine.recommend import Recommender
    from ui.recommend import component_help

    co_occurrence = Recommender.fit(items, interactions, None, RecommendSettings())
    ease = Recommender.fit(items, interactions, None, RecommendSettings(collaborative_ease_l2=5.0))
    assert "co-occurrence" in component_help(co_occurrence, "collaborative")
    assert "EASE" in component_help(ease, "collaborative")
    assert component_help(ease, "popularity") == component_help(co_occurrence, "popularity")


def test_collaborative_signal_switches_live_and_per_configuration(filled_workspace: Workspace) -> None:
    app = open_page("recommendations.py", filled_workspace)
    app.selectbox(key="rec_user").set_value("j3").run()
    assert app.selectbox(key="rec_signal").value == 0.0  # the saved setting: co-occurrence
    assert "co-occurrence" in app.slider(key="rec_w_collaborative").help
    app.selectbox(key="rec_signal").set_value(50.0).run()
    assert not app.exception, app.exception
    assert "EASE" in app.slider(key="rec_w_collaborative").help
    app.toggle(key="rec_compare").set_value(True).run()
    assert app.selectbox(key="recb_signal").value == 50.0  # B starts from A's signal
    app.selectbox(key="recb_signal").set_value(0.0).run()
    assert not app.exception, app.exception
    captions = [element.value for element in app.caption]
    assert any(caption.startswith("Configuration A") and "EASE (L2 50)" in caption for caption in captions), captions
    assert any(caption.startswith("Configuration B · Co-occurrence") for caption in captions), captions
    assert "co-occurrence" in app.slider(key="recb_w_collaborative").help


def test_the_reviews_text_toggle_refits_with_or_without_them(tmp_path: Path) -> None:
    from recengine.embed import embed_workspace

    workspace = fill_workspace(Workspace.open(tmp_path / "ws"))
    app = open_page("recommendations.py", workspace)
    assert app.toggle(key="rec_signal_reviews").value  # on by default (review_vector_weight 1)
    assert any("No product has encoded reviews yet" in element.value for element in app.caption)
    embed_workspace(workspace, reviews=True)  # what review analysis does; a new data version
    app = open_page("recommendations.py", workspace)
    reviewed = workspace.store.query_rows("SELECT count(DISTINCT item_id) FROM reviews")[0][0]
    assert any(element.value == f"{reviewed:,} products described by their reviews too" for element in app.caption)
    app.toggle(key="rec_signal_reviews").set_value(False).run()
    assert not app.exception, app.exception
    assert not any("described by their reviews" in element.value for element in app.caption)


def test_a_picked_signal_is_saved_with_the_weights(tmp_path: Path) -> None:
    from recengine.workspace import CONFIG_FILE

    workspace = fill_workspace(Workspace.open(tmp_path / "ws"))
    app = open_page("recommendations.py", workspace)
    app.selectbox(key="rec_signal").set_value(250.0).run()
    next(button for button in app.button if button.label == "Save as this shop's default weights").click()
    app = app.run()
    assert not app.exception, app.exception
    assert "collaborative_ease_l2 = 250.0" in (workspace.root / CONFIG_FILE).read_text()
    app = app.run()
    assert app.selectbox(key="rec_signal").value == 250.0
    assert not [button for button in app.button if button.label == "Save as this shop's default weights"]


def test_why_this_product_charts_the_history_products_behind_the_score(filled_workspace: Workspace) -> None:
    app = open_page("recommendations.py", filled_workspace)
    app.selectbox(key="rec_user").set_value("j3").run()
    app.slider(key="rec_k").set_value(3).run()
    assert not app.exception, app.exception
    parts = [chart for chart in app.get("plotly_chart") if chart.proto.id and "_parts_" in chart.proto.id]
    assert len(parts) == 3, [chart.proto.id for chart in app.get("plotly_chart")]
    spec = json.loads(parts[0].proto.spec)
    history = {str(title) for title in ("Jazz record 0", "Jazz record 1", "Jazz record 2", "Jazz record 3",
                                        "Jazz record 4", "Jazz record 5", "Jazz record 6")}
    bars = {trace["name"]: trace for trace in spec["data"]}
    assert set(bars) <= {"collaborative", "semantic"} and bars
    for trace in bars.values():
        assert all(any(title in label for title in history) for label in trace["y"])
        assert all(value != 0 for value in trace["x"])
    assert any("add up to it" in caption.value for caption in app.caption)
