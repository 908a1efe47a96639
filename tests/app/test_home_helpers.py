"""ui.home: status sections of any shape render generically; a failing section does not hide the others."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from pathlib import Path

import numpy as np
import pytest
from apptest_support import new_app

import recengine.status
from recengine.errors import NotReadyError
from ui.home import details_rows, format_value, headline_keys, label_for, short_display, to_plain


class Freshness(Enum):
    FRESH = "fresh"


@dataclasses.dataclass(frozen=True)
class Nested:
    rate: float
    path: Path


@dataclasses.dataclass(frozen=True)
class SomeStatus:
    model: str
    items_embedded: np.int64
    index: Freshness
    last_run: datetime | None
    detail: Nested
    labels: tuple[str, ...]


def test_to_plain_turns_any_status_into_plain_values() -> None:
    status = SomeStatus("bundled:all-MiniLM-L6-v2", np.int64(640), Freshness.FRESH, None, Nested(0.5, Path("/x")), ("a", "b"))
    plain = to_plain(status)
    assert plain == {
        "model": "bundled:all-MiniLM-L6-v2",
        "items_embedded": 640,
        "index": "fresh",
        "last_run": None,
        "detail": {"rate": 0.5, "path": "/x"},
        "labels": ["a", "b"],
    }
    assert type(plain["items_embedded"]) is int


def test_headlines_prefer_short_hinted_values_and_details_keep_everything() -> None:
    values = {"cache_entries": 3, "method_reason": "Run `recengine analyze` to compute it.", "index": "fresh",
              "problem": "", "last_run": None, "model": "fake"}  # fmt: skip
    assert headline_keys(values, limit=2) == ["model", "index"]
    assert headline_keys(values) == ["model", "index", "cache_entries"], "long and empty values are details only"
    rows = details_rows({**values, "nested": {"a": 1}})
    assert {"field": "Method reason", "value": "Run `recengine analyze` to compute it."} in rows
    assert {"field": "Nested · A", "value": "1"} in rows
    assert label_for("last_run_hit_rate") == "Last run hit rate"
    assert short_display("bundled:all-MiniLM-L6-v2") == "all-MiniLM-L6-v2"
    assert short_display("/srv/models/shop-v3/") == "shop-v3" and short_display("fresh") == "fresh"
    assert format_value(None) == "—" and format_value(1234) == "1,234" and format_value(True) == "yes"


def test_a_failing_section_shows_a_warning_and_the_others_still_render(
    demo_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(workspace: object) -> object:
        raise NotReadyError("The widget index is not built yet.", hint="Run `recengine widgets`.")

    def crashing(workspace: object) -> object:
        raise ZeroDivisionError("bug")

    def fine(workspace: object) -> dict[str, object]:
        return {"state": "fresh", "problem": "Two models disagree **a lot**"}

    monkeypatch.setitem(recengine.status._SECTIONS, "widgets", broken)
    monkeypatch.setitem(recengine.status._SECTIONS, "gadgets", crashing)
    monkeypatch.setitem(recengine.status._SECTIONS, "gizmos", fine)
    at = new_app().run()
    assert not at.exception and not at.error
    warnings = [warning.value.replace("\\", "") for warning in at.warning]
    assert any("The widget index is not built yet. Run `recengine widgets`." in text for text in warnings)
    assert any("could not be computed" in text for text in warnings)
    assert any("Two models disagree **a lot**" in text for text in warnings), "problems shown literally"
    assert {"Widgets", "Gadgets", "Gizmos"} <= {markdown.value.strip("*") for markdown in at.markdown}
    assert "fresh" in [metric.value for metric in at.metric]


def test_home_shows_the_sentiment_split_once_reviews_are_analysed(
    demo_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    import recengine.text
    from ui.home import sentiment_split

    # The analysis itself is tested in tests/text; here only what the page makes of its result.
    nothing = pd.DataFrame({"review_id": [], "sentiment_label": [], "sentiment_score": []})
    monkeypatch.setattr(recengine.text, "review_sentiment", lambda workspace: nothing)
    sentiment_split.clear()
    at = new_app().run()
    assert not any("Positive reviews" in metric.label for metric in at.metric), "no split before analysis"
    labels = ["positive"] * 6 + ["neutral"] * 1 + ["negative"] * 3
    analysed = pd.DataFrame({"review_id": [f"R{i}" for i in range(10)], "sentiment_label": labels,
                             "sentiment_score": [0.5] * 10})  # fmt: skip
    monkeypatch.setattr(recengine.text, "review_sentiment", lambda workspace: analysed)
    sentiment_split.clear()
    at = new_app().run()
    assert not at.exception
    metrics = {metric.label.split(" ", 1)[-1]: metric.value for metric in at.metric}
    assert (metrics["Positive reviews"], metrics["Neutral reviews"], metrics["Negative reviews"]) == ("60%", "10%", "30%")
