"""Demo data generated once per test session (generation is deterministic, so sharing is safe)."""

from __future__ import annotations

import pytest

from recengine.demo import DemoData, generate_demo


@pytest.fixture(scope="session")
def standard_demo() -> DemoData:
    return generate_demo(seed=7, size="standard")


@pytest.fixture(scope="session")
def small_demo() -> DemoData:
    return generate_demo(seed=7, size="small")
