"""Shared dashboard plumbing: the workspace handle, error display, safe text, progress bars.

Cached resources are shared by every browser session of the server: never mutate what they return.
"""

from __future__ import annotations

import logging
import os
import re
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


def require_items(workspace: Workspace) -> None:
    """Stop the page with a pointer to the Data page when the workspace has no products yet."""
    if workspace.store.count("items") == 0:
        st.info("This workspace has no products yet. Upload a catalog on the Data page.", icon=":material/inventory_2:")
        st.stop()


@contextmanager
def guarded(action: str = "This step") -> Iterator[None]:
    """Show a `RecEngineError` as a readable message; log anything else and show a short note."""
    try:
        yield
    except RecEngineError as error:
        # Messages quote uploaded values (file and column names, ids): shown literally, never as Markdown.
        st.error(escape_markdown(str(error)), icon=":material/error:")
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


# -- workspace switching (sidebar) -----------------------------------------------------------------

WORKSPACES_FOLDER = Path("workspaces")
_OTHER_FOLDER = "Another folder…"
# Session-state keys starting with this are dropped when the user switches workspace.
SCOPED_PREFIX = "ws_scoped:"


def workspace_at(path: str | Path) -> Workspace:
    """The shared handle of the workspace at `path`, created when missing."""
    return _open_workspace(str(Path(path).resolve()))


def is_workspace(path: Path) -> bool:
    """Whether `path` holds a workspace database."""
    from recengine.workspace import DATABASE_FILE

    return (path / DATABASE_FILE).is_file()


def known_workspaces() -> list[Path]:
    """Workspace folders to offer: the default, the current one, and those under `workspaces/`.

    Only folders next to the default workspace or under ./workspaces are listed, so the switcher does not
    crawl the file system; any other folder can be typed.
    """
    # The current folder first so that its spelling (relative or absolute) is the one offered.
    candidates = [workspace_dir(), default_workspace_dir()]
    for parent in {WORKSPACES_FOLDER, default_workspace_dir().parent}:
        try:
            candidates.extend(sorted(child for child in parent.iterdir() if is_workspace(child)))
        except OSError:
            continue
    unique: dict[Path, Path] = {}
    for path in candidates:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def _switch_workspace(path: str) -> None:
    st.session_state[WORKSPACE_KEY] = path
    # A new workspace invalidates whatever the pages keep in the session (previews, reports).
    for key in [key for key in st.session_state if str(key).startswith(SCOPED_PREFIX)]:
        del st.session_state[key]


def _on_workspace_choice() -> None:
    choice = st.session_state["workspace_choice"]
    if choice != _OTHER_FOLDER:
        _switch_workspace(choice)


def _on_workspace_open() -> None:
    typed = str(st.session_state.get("workspace_typed") or "").strip()
    if not typed:
        return
    target = Path(typed).expanduser()
    if target.exists() and not target.is_dir():
        st.session_state["workspace_error"] = f"{target} is a file, not a folder."
    elif target.is_dir() and not is_workspace(target) and any(target.iterdir()):
        # Never scatter a database into a folder of other files (a home or system folder, say).
        st.session_state["workspace_error"] = (
            f"{target} holds other files and no workspace: pick an empty folder, a new one, or a workspace."
        )
    elif not target.exists() and not target.parent.is_dir():
        st.session_state["workspace_error"] = (
            f"{target.parent} does not exist: create the parent folder first, or pick another path."
        )
    else:
        st.session_state.pop("workspace_error", None)
        _switch_workspace(str(target))
        st.session_state["workspace_choice"] = str(target)


def workspace_switcher(*, allow_other_folders: bool = True) -> None:
    """Sidebar control choosing the session's workspace folder (stored in `WORKSPACE_KEY`).

    Lists the known workspaces; "Another folder…" (when `allow_other_folders`) lets the user type any
    folder path: an existing workspace, or a new folder that becomes an empty workspace.
    """
    current = str(workspace_dir())
    known = known_workspaces()
    options = [str(path) for path in known] + ([_OTHER_FOLDER] if allow_other_folders else [])
    labels = {str(path): _workspace_label(path) for path in known}
    # Keep the widget in step when the workspace was changed by something other than this widget.
    remembered = st.session_state.get("workspace_choice")
    if remembered != current and not (remembered == _OTHER_FOLDER and allow_other_folders):
        st.session_state["workspace_choice"] = current
    choice = st.sidebar.selectbox(
        "Workspace",
        options,
        format_func=lambda option: labels.get(option, option),
        key="workspace_choice",
        on_change=_on_workspace_choice,
        help="A workspace is a folder holding one data set: products, reviews, events and everything "
        "computed from them.",
    )
    if choice == _OTHER_FOLDER:
        st.sidebar.text_input(
            "Folder path",
            key="workspace_typed",
            placeholder="workspaces/my-shop",
            help="An existing workspace, or a new folder to create an empty workspace in.",
        )
        st.sidebar.button(
            "Open folder", key="workspace_open", icon=":material/folder_open:", on_click=_on_workspace_open
        )
        if error := st.session_state.get("workspace_error"):
            st.sidebar.error(error, icon=":material/error:")


def _workspace_label(path: Path) -> str:
    name = path.name or str(path)
    return f"{name}  ({path.parent})" if str(path.parent) not in ("", ".") else name


@st.cache_data(show_spinner=False, ttl=30, max_entries=64)
def workspace_is_demo(root: str) -> bool:
    """`Workspace.is_demo()`, cached briefly: every page shows the notice and each database open costs
    tens of milliseconds on a large workspace, while the flag changes only when a demo is (re)built."""
    return workspace_at(root).is_demo()


def demo_notice(workspace: Workspace, *, sidebar: bool = True) -> None:
    """Say plainly that the demo workspace holds generated data."""
    if not workspace_is_demo(str(workspace.root.resolve())):
        return
    message = "Demo workspace: generated data, not real customers or products."
    if sidebar:
        st.sidebar.caption(f":material/science: {message}")
    else:
        st.info(message, icon=":material/science:")


_AUTOLINK_SCHEME = re.compile(r"(?<=[A-Za-z0-9])(?=:/)")
_AUTOLINK_WWW = re.compile(r"(?i)\bwww\.")
_MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()#+-.!|~<>$:=&\"'")


def escape_markdown(text: object) -> str:
    """`text` backslash-escaped so that a Markdown-rendering label shows it literally.

    Widget labels, expander titles and captions render Markdown, so an uploaded file or column name such
    as `[click](http://…)` or `**x**` would otherwise become a link or bold text. Prefer `show_text` or
    `st.dataframe` for uploaded content; use this only where a label is required.

    Only for text Streamlit renders as Markdown: labels, expander titles, `st.markdown`/`st.caption`,
    alert and metric values. Not for `format_func` of selectbox/radio/multiselect options: those are shown
    as plain text, so the backslashes would show (checked in Chromium with Streamlit 1.67).
    """
    raw = "" if text is None else str(text)
    # Newlines would start new Markdown blocks (headings, lists) inside a label.
    raw = " ".join(raw.split())
    # GitHub-flavoured Markdown turns bare URLs, www. names and e-mail addresses into links even when
    # their punctuation is escaped: an invisible zero-width space keeps them plain text.
    raw = _AUTOLINK_SCHEME.sub("\u200b", raw)
    raw = _AUTOLINK_WWW.sub("www\u200b.", raw)
    raw = raw.replace("@", "\u200b@")
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in raw)
