"""Browser tests: a real `streamlit run app.py` on a loopback port, driven by Playwright with Debian's
Chromium (browsers cannot be downloaded here, so Playwright's own are never installed).

Every test here is marked `e2e` and skipped with a clear message where /usr/bin/chromium is missing
(`apt-get install chromium chromium-driver`; scripts/test.sh does it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from e2e_support import CHROMIUM, CHROMIUM_FLAGS, RunningApp, start_app, stop_app  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
            if not CHROMIUM.exists():
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"browser test skipped: no Chromium at {CHROMIUM} "
                        "(install it with `apt-get install -y chromium chromium-driver`)"
                    )
                )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch Debian's Chromium instead of a Playwright-downloaded browser."""
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture(scope="module")
def empty_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The dashboard on a fresh, empty workspace (no first-start demo: the folder already exists)."""
    from recengine.workspace import Workspace

    folder = tmp_path_factory.mktemp("e2e")
    workspace = folder / "shop"
    Workspace.open(workspace)
    app = start_app(workspace, folder / "streamlit.log")
    yield app
    stop_app(app.process)
