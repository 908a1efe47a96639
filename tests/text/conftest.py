"""Fixtures of the review-analysis tests (data and helpers live in text_fixtures.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from text_fixtures import HANDMADE_REVIEWS, add_reviews, insert_rows, item_frame

from recengine.workspace import Workspace


@pytest.fixture
def make_workspace(tmp_path: Path) -> Callable[..., Workspace]:
    """Build a workspace from items and review rows."""

    def build(reviews: Sequence[tuple[object, ...]] = HANDMADE_REVIEWS, name: str = "ws") -> Workspace:
        workspace = Workspace.open(tmp_path / name)
        insert_rows(workspace, "items", item_frame())
        add_reviews(workspace, reviews)
        return workspace

    return build
