"""Reliability tests: crashes, concurrency, bounded resources, hostile input, fuzzing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture
def job_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes started by JobRunner find the `killable` job kind."""
    from reliability_support import job_environment

    job_environment(monkeypatch)
