"""Start a tiny fine-tune from the dashboard and cancel it, in a real browser, on the real bundled encoder
(the fake test encoder has no weights to train). Marked `slow` (real model, about 30-60 s): run with
`scripts/test.sh -m slow` or `-m "e2e or slow"`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_support import RunningApp, start_app, stop_app
from playwright.sync_api import Page, expect


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    from recengine.demo import small_demo_workspace

    folder = tmp_path_factory.mktemp("e2e-finetune")
    workspace = folder / "demo"
    small_demo_workspace(workspace, post_ingest=False)
    app = start_app(workspace, folder / "streamlit.log", extra_env={"RECENGINE_EMBED__MODEL": "bundled:all-MiniLM-L6-v2"})
    yield app
    stop_app(app.process)


@pytest.mark.slow
def test_start_and_cancel_a_fine_tune(demo_app: RunningApp, page: Page) -> None:
    page.goto(f"{demo_app.url}/fine_tuning")
    expect(page.get_by_role("heading", name="Fine-tuning", exact=True)).to_be_visible(timeout=30_000)
    start = page.get_by_role("button", name="Start fine-tuning")
    expect(start).to_be_enabled(timeout=60_000)
    page.get_by_role("spinbutton", name="Epochs").fill("1")
    page.get_by_role("spinbutton", name="Max pairs").fill("10")
    start.click()
    cancel = page.get_by_role("button", name="Cancel")
    expect(cancel).to_be_visible(timeout=30_000)
    cancel.click()
    expect(page.get_by_text("The job was cancelled")).to_be_visible(timeout=60_000)
