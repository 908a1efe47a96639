"""recengine: explainable product recommendations from catalogs and reviews."""

from __future__ import annotations

from recengine.errors import RecEngineError
from recengine.workspace import Workspace

__version__ = "0.1.0"
__all__ = ["RecEngineError", "Workspace", "__version__"]
