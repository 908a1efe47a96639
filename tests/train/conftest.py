"""Fixtures for fine-tuning, registry and job tests: a filled workspace and a tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_fixtures import build_tiny_model, fill_workspace

from recengine.workspace import Workspace


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the tiny model, built once per test session."""
    pytest.importorskip("sentence_transformers")
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny-st")


@pytest.fixture
def filled_workspace(workspace: Workspace) -> Workspace:
    return fill_workspace(workspace)
