"""Every page of app.py renders on a small demo workspace; home, switcher and first start behave."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from apptest_support import PAGES, ROOT, new_app
from streamlit.testing.v1 import AppTest

from recengine.workspace import Workspace
from ui.common import WORKSPACE_KEY


def test_app_lists_every_page() -> None:
    listed = re.findall(r'st\.Page\("([^"]+)"', (ROOT / "app.py").read_text())
    assert sorted(listed) == sorted(PAGES)
    for page in listed:
        assert (ROOT / page).is_file(), f"app.py points at a missing page {page}"


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_errors(demo_workspace: Path, page: str) -> None:
    at = new_app().run()
    if page != "pages/home.py":
        at.switch_page(page).run()
    assert not at.exception, [item.message for item in at.exception]
    assert not at.error, [item.value for item in at.error]
    assert at.title, f"{page} shows no title"
    if page == "pages/home.py":
        # AppTest drops app.py's sidebar elements after a page switch (the browser test sees them on
        # every page), so the generated-data notice is checked on the first page only.
        assert any("generated data" in caption.value for caption in at.sidebar.caption)


def test_home_shows_what_is_in_the_workspace(demo_workspace: Path) -> None:
    summary = Workspace.open(demo_workspace).summary()
    at = new_app().run()
    assert not at.exception
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Products"] == f"{summary.items:,}"
    assert metrics["Customers"] == f"{summary.users:,}"
    assert metrics["Reviews"] == f"{summary.reviews:,}"
    assert metrics["Average rating"].startswith(f"{summary.average_rating:.2f}")
    assert any("generated data" in info.value for info in at.info)
    links = {link.proto.page for link in at.get("page_link")}  # url paths of the linked pages
    assert {"data", "recommendations", "insights", "search", "evaluation"} <= links


def test_home_on_empty_workspace_points_to_data_page(empty_workspace: Path) -> None:
    at = new_app().run()
    assert not at.exception
    assert {metric.label: metric.value for metric in at.metric}["Products"] == "0"
    assert any("Upload a product catalog" in info.value for info in at.info)
    assert not any("generated data" in caption.value for caption in at.sidebar.caption)


def test_first_start_creates_the_demo_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recengine.demo

    target = tmp_path / "workspaces" / "demo"
    monkeypatch.setenv("RECENGINE_WORKSPACE", str(target))
    calls: list[Path] = []
    original = recengine.demo.create_demo_workspace

    def small_demo(path: Path, **kwargs: object) -> Workspace:
        calls.append(Path(path))
        return original(path, **{**kwargs, "size": "small"})  # type: ignore[arg-type]

    monkeypatch.setattr(recengine.demo, "create_demo_workspace", small_demo)
    at = new_app().run()
    assert not at.exception, [item.message for item in at.exception]
    assert len(calls) == 1 and calls[0] != target, "built beside the target, then moved into place"
    workspace = Workspace.open(target, create=False)
    assert workspace.is_demo() and workspace.summary().items > 0
    assert not calls[0].exists(), "the partial folder is gone"
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Products"] == f"{workspace.summary().items:,}"
    at.run()  # a second run must not generate again
    assert len(calls) == 1
    # Only the data was made in the page; the rest runs as a background job that the home page follows.
    from recengine.jobs import job_runner
    from recengine.preparation import preparation_status

    status = preparation_status(workspace)
    assert status.pending and status.job is not None
    job_runner(workspace).cancel(status.job.job_id)  # the test is over: stop its worker


def test_session_workspace_drives_every_page(demo_workspace: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    Workspace.open(other)
    at = new_app().run()
    assert {metric.label: metric.value for metric in at.metric}["Products"] != "0"
    at.session_state[WORKSPACE_KEY] = str(other)
    at.run()
    assert not at.exception
    assert {metric.label: metric.value for metric in at.metric}["Products"] == "0"
    assert not any("generated data" in info.value for info in at.info)


def _switcher_app() -> None:
    import streamlit as st

    from ui.common import workspace_dir, workspace_switcher

    workspace_switcher()
    st.text(f"current: {workspace_dir()}")


def _current(at: AppTest) -> str:
    return next(text.value for text in at.text if text.value.startswith("current: "))[len("current: ") :]


# The switcher is tested on its own page: AppTest loses app.py's sidebar elements after the first run
# of an `st.navigation` app, while a browser keeps them (the e2e journey uses the sidebar).
def test_workspace_switcher_lists_workspaces_and_opens_a_typed_folder(
    demo_workspace: Path, tmp_path: Path
) -> None:
    at = AppTest.from_function(_switcher_app, default_timeout=30).run()
    choice = at.sidebar.selectbox(key="workspace_choice")
    assert choice.value == str(demo_workspace)
    assert choice.options[-1] == "Another folder…"
    choice.set_value("Another folder…").run()
    new_folder = tmp_path / "new-shop"
    at.sidebar.text_input(key="workspace_typed").input(str(new_folder)).run()
    at.sidebar.button(key="workspace_open").click().run()
    assert not at.exception
    assert _current(at) == str(new_folder)
    assert at.sidebar.selectbox(key="workspace_choice").value == str(new_folder)
    # Back to the demo through the list.
    at.sidebar.selectbox(key="workspace_choice").set_value(str(demo_workspace)).run()
    assert _current(at) == str(demo_workspace)


def test_workspace_switcher_refuses_a_folder_in_a_missing_parent(
    demo_workspace: Path, tmp_path: Path
) -> None:
    at = AppTest.from_function(_switcher_app, default_timeout=30).run()
    at.sidebar.selectbox(key="workspace_choice").set_value("Another folder…").run()
    at.sidebar.text_input(key="workspace_typed").input(str(tmp_path / "no" / "such" / "ws")).run()
    at.sidebar.button(key="workspace_open").click().run()
    assert any("does not exist" in error.value for error in at.sidebar.error)
    assert _current(at) == str(demo_workspace)
    assert not (tmp_path / "no").exists()


def test_viewers_cannot_type_a_folder(demo_workspace: Path) -> None:
    def viewer_switcher() -> None:
        import streamlit as st

        from ui.common import workspace_switcher

        workspace_switcher(allow_other_folders=False)
        st.text("ok")

    at = AppTest.from_function(viewer_switcher, default_timeout=30).run()
    assert "Another folder…" not in at.sidebar.selectbox(key="workspace_choice").options


def test_workspace_switcher_refuses_a_folder_of_other_files(demo_workspace: Path, tmp_path: Path) -> None:
    crowded = tmp_path / "documents"
    crowded.mkdir()
    (crowded / "letter.txt").write_text("not a workspace")
    at = AppTest.from_function(_switcher_app, default_timeout=30).run()
    at.sidebar.selectbox(key="workspace_choice").set_value("Another folder…").run()
    at.sidebar.text_input(key="workspace_typed").input(str(crowded)).run()
    at.sidebar.button(key="workspace_open").click().run()
    assert any("holds other files" in error.value for error in at.sidebar.error)
    assert _current(at) == str(demo_workspace)
    assert sorted(path.name for path in crowded.iterdir()) == ["letter.txt"]

