"""Shared dashboard plumbing: the workspace handle, error display, safe text, progress bars.

Cached resources are shared by every browser session of the server: never mutate what they return.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from recengine.config import default_workspace_dir
from recengine.errors import RecEngineError
from recengine.progress import Progress
from recengine.workspace import Workspace

log = logging.getLogger("recengine.ui")

WORKSPACE_KEY = "workspace_dir"


def workspace_dir() -> Path:
    """The folder of the workspace this browser session works on."""
    if WORKSPACE_KEY not in st.session_state:
        st.session_state[WORKSPACE_KEY] = str(default_workspace_dir())
    return Path(st.session_state[WORKSPACE_KEY])


@st.cache_resource(show_spinner=False)
def _open_workspace(path: str) -> Workspace:
    return Workspace.open(path, create=True)


def get_workspace() -> Workspace:
    """The session's workspace (one handle per folder, shared by all sessions)."""
    return _open_workspace(str(workspace_dir().resolve()))


def data_version(workspace: Workspace) -> str:
    """A token that changes whenever ingested data or derived results change.

    Pass it as an argument to `st.cache_data` functions so that they recompute after a change.
    """
    return workspace.store.get_meta("data_version") or "0"


@contextmanager
def guarded(action: str = "This step") -> Iterator[None]:
    """Show a `RecEngineError` as a readable message; log anything else and show a short note."""
    try:
        yield
    except RecEngineError as error:
        st.error(str(error), icon=":material/error:")
    except Exception:  # noqa: BLE001 - a merchandiser must never see a traceback
        log.exception("%s failed", action)
        st.error(
            f"{action} failed unexpectedly. The details are in the server log.",
            icon=":material/bug_report:",
        )
        if os.environ.get("RECENGINE_DEBUG"):
            raise


def show_text(text: object) -> None:
    """Display uploaded text inertly: never interpreted as Markdown or HTML."""
    st.text("" if text is None else str(text))


def progress_bar(label: str) -> Progress:
    """A `recengine` progress callback drawing a Streamlit progress bar."""
    bar = st.progress(0.0, text=label)

    def report(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=f"{label}: {message}" if message else label)

    return report
