"""AppTest fixtures: a small demo workspace shared by the page tests, and small upload files."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

# `ui` and `pages` live at the repository root, which is not an installed package: make them importable.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo workspace built once per test session (with the fake encoder)."""
    import os

    from recengine.demo import create_demo_workspace

    previous = os.environ.get("RECENGINE_EMBED__MODEL")
    os.environ["RECENGINE_EMBED__MODEL"] = "fake"  # session fixtures run before the autouse one
    try:
        path = tmp_path_factory.mktemp("demo-template") / "demo"
        create_demo_workspace(path, size="small")
    finally:
        if previous is None:
            os.environ.pop("RECENGINE_EMBED__MODEL", None)
        else:
            os.environ["RECENGINE_EMBED__MODEL"] = previous
    return path


@pytest.fixture
def demo_workspace(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the small demo workspace, opened by the app as its default workspace."""
    path = tmp_path / "demo"
    shutil.copytree(demo_template, path)
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
