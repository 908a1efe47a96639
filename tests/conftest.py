"""Fixtures shared by every test package. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from recengine.workspace import Workspace

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _fake_model_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests use the deterministic fake encoder; `slow` tests ask for the real model explicitly."""
    monkeypatch.setenv("RECENGINE_EMBED__MODEL", "fake")
    monkeypatch.setenv("RECENGINE_EMBED__DEVICE", "cpu")


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace in a temporary folder."""
    return Workspace.open(tmp_path / "ws")


def shared_data_or_skip(*parts: str) -> Path:
    """Path into ../shared/data, skipping the test with a clear message when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available at {path} (only on the team's machines)")
    return path
