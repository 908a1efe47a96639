"""Fixtures of the embedding tests; the catalog helpers live in embed_catalog.py."""

from __future__ import annotations

import pytest
from embed_catalog import catalog_rows, insert_items

from recengine.workspace import Workspace


@pytest.fixture
def catalog_workspace(workspace: Workspace) -> Workspace:
    """A workspace holding the generated catalog (32 products in 4 categories)."""
    insert_items(workspace, catalog_rows())
    return workspace
