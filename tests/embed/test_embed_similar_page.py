"""The Similar products page (AppTest): status box, Update embeddings button, similar products table."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `ui` and `pages` live at the repository root
    sys.path.insert(0, str(ROOT))


def open_page(workspace_root: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("RECENGINE_WORKSPACE", str(workspace_root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    return at.switch_page("pages/similar.py").run()


def test_similar_page_updates_embeddings_then_lists_similar(catalog_workspace, monkeypatch):
    at = open_page(catalog_workspace.root, monkeypatch)
    assert not at.exception, at.exception
    assert any("Update the embeddings" in info.value for info in at.info)
    assert any("Not built yet" in markdown.value for markdown in at.markdown)

    at.button(key="similar_embeddings_update").click().run()
    assert not at.exception, at.exception
    assert any("Encoded 32 products" in success.value for success in at.success)
    assert any("Up to date" in markdown.value for markdown in at.markdown)
    table = at.dataframe[0].value
    assert len(table) == 10 and list(table["rank"]) == list(range(1, 11))
    chosen = at.selectbox(key="similar_item").value
    assert chosen not in set(table["item_id"])

    at.text_input(key="similar_query").input("sprinkler").run()
    at.toggle(key="similar_same_category").set_value(True).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="similar_item").value.startswith("P1")
    table = at.dataframe[0].value
    assert len(table) == 7 and set(table["category"]) == {"Home > Garden > Watering"}
    assert "Home > Garden > Watering" in [text.value for text in at.text]


def test_similar_page_without_products(workspace, monkeypatch):
    at = open_page(workspace.root, monkeypatch)
    assert not at.exception, at.exception
    assert any("No products yet" in info.value for info in at.info)
