"""AppTest of the Insights page on a small workspace built here from handmade reviews."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from text_fixtures import HANDMADE_REVIEWS, add_reviews

from recengine.text.analysis import analyze_reviews

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `ui` lives at the repository root

from streamlit.testing.v1 import AppTest  # noqa: E402

PAGE = str(ROOT / "pages" / "insights.py")
HOSTILE = "**bold** <b>html</b> [link](http://example.com)"


def page_for(workspace) -> AppTest:  # type: ignore[no-untyped-def]
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.session_state["workspace_dir"] = str(workspace.root)
    return app


def explorer_table(app: AppTest):  # type: ignore[no-untyped-def]
    """The review explorer's frame (the one table with both review text and aspect names)."""
    return next(
        frame.value for frame in app.dataframe
        if {"review_id", "sentiment_label", "aspects", "text"} <= set(frame.value.columns)
    )


def texts(app: AppTest) -> list[str]:
    return [element.value for element in app.text]


def test_insights_page_shows_sentiment_aspects_keywords_and_quality(make_workspace) -> None:  # type: ignore[no-untyped-def]
    workspace = make_workspace()
    add_reviews(workspace, [("R10", "P1", 5, "Odd", f"The camera is great. {HOSTILE}", "2024-05-02")])
    analyze_reviews(workspace)
    app = page_for(workspace).run()
    assert not app.exception
    assert len(app.get("plotly_chart")) == 2
    spec = app.get("plotly_chart")[0].proto.spec
    assert "positive" in spec and "negative" in spec
    # Quotes are plain text elements; the hostile review never reaches a Markdown element.
    assert any("camera" in value for value in texts(app))
    assert not any("<b>html</b>" in element.value for element in app.markdown)
    assert len(app.dataframe) >= 6  # aspects, keywords, explorer, sentences, mismatches, quality
    assert any("Sentiment method in use: lexicon" in caption.value for caption in app.caption)

    # One product: the battery is both praised and criticised there.
    app.radio(key="insights_scope").set_value("item").run()
    assert not app.exception
    assert app.selectbox(key="insights_pick_item").value.scope_id == "P1"
    assert any(text.startswith("battery") for text in texts(app)) or any(
        text.startswith("camera") for text in texts(app)
    )

    # Review explorer filters: negative reviews of P1 only.
    app.multiselect(key="filter_sentiments").set_value(["negative"]).run()
    assert not app.exception
    shown = explorer_table(app)
    assert set(shown["sentiment_label"]) == {"negative"} and "R3" in set(shown["review_id"])
    app.text_input(key="filter_search").set_value("[link](").run()  # typed text is never a regex
    assert not app.exception and explorer_table(app).empty


def test_run_analysis_button_when_not_analysed(make_workspace) -> None:  # type: ignore[no-untyped-def]
    workspace = make_workspace()
    app = page_for(workspace).run()
    assert not app.exception
    assert any("not been analysed" in info.value for info in app.info)
    assert not app.get("plotly_chart")
    app.button(key="run_analysis").click().run()
    assert not app.exception
    assert any(f"Analysed {len(HANDMADE_REVIEWS)} reviews" in success.value for success in app.success)
    assert len(app.get("plotly_chart")) == 2
    assert workspace.store.scalar("SELECT count(*) FROM review_analysis") == len(HANDMADE_REVIEWS)


@pytest.mark.parametrize("scope", ["category", "brand"])
def test_every_scope_renders(make_workspace, scope: str) -> None:  # type: ignore[no-untyped-def]
    workspace = make_workspace()
    analyze_reviews(workspace)
    app = page_for(workspace).run()
    app.radio(key="insights_scope").set_value(scope).run()
    assert not app.exception
    assert app.selectbox(key=f"insights_pick_{scope}").value.reviews > 0


def test_insights_page_on_the_demo_workspace(tmp_path: Path) -> None:
    """The generated demo shop (about 1,500 rated reviews): the learned model is trained and shown."""
    from recengine.demo import small_demo_workspace

    workspace = small_demo_workspace(tmp_path / "demo", post_ingest=False)
    report = analyze_reviews(workspace)
    assert report.sentiment_method == "learned" and report.quality is not None
    app = page_for(workspace).run()
    assert not app.exception
    assert any("Sentiment method in use: learned" in caption.value for caption in app.caption)
    quality = next(frame.value for frame in app.dataframe if "polarity macro-F1 (no 3★)" in frame.value.columns)
    assert quality["polarity macro-F1 (no 3★)"].notna().all()
    assert len(app.get("plotly_chart")) == 2
    # The advice box follows the held-out figure: shown under the target, absent above it.
    learned_f1 = float(quality["polarity macro-F1 (no 3★)"].iloc[0])
    advised = any("all-mpnet-base-v2" in box.value for box in app.info)
    assert advised == (learned_f1 < 0.85)


def test_weak_sentiment_figures_come_with_a_next_step() -> None:
    from recengine.text.status import quality_advice

    assert "scripts/install-mpnet.sh" in quality_advice("learned", 0.80, "bundled:all-MiniLM-L6-v2")
    assert quality_advice("learned", 0.90, "bundled:all-MiniLM-L6-v2") == ""
    larger = quality_advice("learned", 0.80, "bundled:all-mpnet-base-v2")  # already the larger encoder
    assert "text.sentiment_prior" in larger and "install-mpnet" not in larger
    assert quality_advice("learned", 0.80, "bundled:all-mpnet-base-v2", borrowing=True) == ""  # nothing left to say
    assert quality_advice("lexicon", None, "bundled:all-MiniLM-L6-v2") == ""


def test_the_quality_table_shows_the_plain_encoder_figure_when_tuned() -> None:
    from ui.insights import quality_frame

    status = {"tuned_encoder": True, "plain_polarity_macro_f1": 0.77, "learned_polarity_macro_f1": 0.86,
              "lexicon_polarity_macro_f1": 0.70}
    frame = quality_frame(status)
    assert frame["method"].tolist()[0].startswith("learned (encoder + its copy tuned for sentiment")
    assert frame["polarity macro-F1 (no 3★)"].tolist() == [0.86, 0.70, 0.77]
    assert len(quality_frame({"learned_polarity_macro_f1": 0.9})) == 2
