"""Fixtures of the recommend tests (data in recommend_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from recommend_fixtures import (
    FakeItemVectors,
    checkerboard_interactions,
    checkerboard_items,
    checkerboard_vectors,
    fill_workspace,
)

from recengine.config import RecommendSettings
from recengine.recommend import Recommender
from recengine.workspace import Workspace


@pytest.fixture
def items() -> pd.DataFrame:
    return checkerboard_items()


@pytest.fixture
def interactions() -> pd.DataFrame:
    return checkerboard_interactions()


@pytest.fixture
def vectors() -> FakeItemVectors:
    return checkerboard_vectors()


@pytest.fixture
def recommender(items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors) -> Recommender:
    return Recommender.fit(items, interactions, vectors, RecommendSettings())


@pytest.fixture
def filled_workspace(tmp_path: Path) -> Workspace:
    return fill_workspace(Workspace.open(tmp_path / "ws"))
