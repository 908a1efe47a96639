"""Status sections of a workspace, gathered from each capability that has something to report.

Each capability registers a function `(workspace) -> dataclass | dict`; `recengine status` and the home
page show them all. Capabilities that are not computed yet report that rather than failing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from recengine.workspace import Workspace

StatusSection = Callable[[Workspace], Any]

_SECTIONS: dict[str, StatusSection] = {"data": lambda workspace: workspace.summary()}


def register_status_section(name: str, section: StatusSection) -> None:
    _SECTIONS[name] = section


def workspace_status(workspace: Workspace) -> dict[str, Any]:
    _load_capabilities()
    return {name: section(workspace) for name, section in _SECTIONS.items()}


def status_sections() -> dict[str, StatusSection]:
    """The registered sections by name, so that a caller can compute (and guard) each one on its own."""
    _load_capabilities()
    return dict(_SECTIONS)


def _load_capabilities() -> None:
    """Import the modules that register status sections (they are optional at import time)."""
    import importlib

    for module in (
        "recengine.embed.status",
        "recengine.text.status",
        "recengine.recommend.status",
        "recengine.train.status",
        "recengine.evaluate.status",
        "recengine.preparation",
    ):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name is None or not module.startswith(error.name):
                raise
