"""AppTest fixtures: a small demo workspace shared by the page tests, and small upload files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# `ui` and `pages` live at the repository root, which is not an installed package: make them importable.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def demo_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private small demo workspace (built once per process, then copied), opened by the app as its
    default workspace."""
    from recengine.demo import small_demo_workspace

    path = tmp_path / "demo"
    small_demo_workspace(path)
    monkeypatch.setenv("RECENGINE_WORKSPACE", str(path))
    return path


@pytest.fixture
def empty_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty workspace opened by the app as its default workspace (so no first-start demo)."""
    from recengine.workspace import Workspace

    path = tmp_path / "shop"
    Workspace.open(path)
    monkeypatch.setenv("RECENGINE_WORKSPACE", str(path))
    return path
