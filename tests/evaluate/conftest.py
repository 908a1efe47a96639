"""Fixtures of the evaluation tests (data helpers live in evaluate_fixtures.py)."""

from __future__ import annotations

import pytest
from evaluate_fixtures import checkerboard_data, fill_workspace

from recengine.evaluate.data import EvaluationData
from recengine.workspace import Workspace


@pytest.fixture
def checkerboard() -> EvaluationData:
    return checkerboard_data()


@pytest.fixture
def filled_workspace(workspace: Workspace) -> Workspace:
    return fill_workspace(workspace)
