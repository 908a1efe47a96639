"""Home page glue: first-start demo workspace, cached workspace summary and status sections.

Status sections come from every capability (`recengine.status`); they are converted here to plain
values (numbers, text, dates, small tables) so that the page can render any section generically and a
new capability's section appears without touching the page.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import threading
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import streamlit as st

from recengine.config import default_workspace_dir
from recengine.errors import RecEngineError
from recengine.workspace import DATABASE_FILE, WorkspaceSummary
from ui.common import (
    _open_workspace,
    escape_markdown,
    progress_bar,
    workspace_at,
    workspace_dir,
    workspace_is_demo,
)

log = logging.getLogger("recengine.ui")

# Sections of `workspace_status` already shown by dedicated widgets on the home page.
SHOWN_ELSEWHERE = {"data"}
# A section failing must not take the page down; its cached value says why instead.
SECTION_ERROR = "__error__"

PlainValue = str | int | float | bool | None | datetime | date


# -- first start ---------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _demo_creation_lock() -> threading.Lock:
    # One lock per server process: two browser sessions opening the app at once must not both
    # generate the demo into the same folder.
    return threading.Lock()


def needs_first_start_demo() -> bool:
    """True when the session is on the default workspace and that folder holds no workspace yet."""
    current = workspace_dir().resolve()
    return current == default_workspace_dir().resolve() and not (current / DATABASE_FILE).exists()


def create_first_start_demo() -> bool:
    """Generate the demo data into the default folder, showing progress; True if it was created.

    Only the data is made here (seconds): what needs the encoder runs as a background job started at
    the end, which the home page follows. The data is built in a sibling folder and renamed into place,
    so a crash or a closed browser midway never leaves a half-built default workspace that would then
    be opened as if complete.
    """
    from recengine.demo import create_demo_workspace
    from recengine.preparation import resume_preparation

    with _demo_creation_lock():
        if not needs_first_start_demo():
            return False  # another session finished it while this one waited
        target = workspace_dir().resolve()
        partial = target.with_name(f".{target.name}.partial")
        with st.status("First start: preparing the demo workspace…", expanded=True) as status:
            st.write(
                "recengine generates a demo shop (products, customers, reviews, events). Review analysis, "
                "embeddings and an evaluation follow in the background; the home page shows how far they are."
            )
            shutil.rmtree(partial, ignore_errors=True)
            build_in_place = target.exists() and any(target.iterdir())
            try:
                create_demo_workspace(
                    target if build_in_place else partial, progress=progress_bar("Demo workspace"), post_ingest=False
                )
                if not build_in_place:
                    if target.exists():
                        target.rmdir()  # an empty folder someone created beforehand
                    partial.rename(target)
            except BaseException:
                status.update(label="The demo workspace could not be created", state="error")
                raise
            finally:
                shutil.rmtree(partial, ignore_errors=True)
            status.update(label="Demo data ready", state="complete", expanded=False)
    _open_workspace.clear()  # handles made before the rename read settings from a folder that moved
    # Started after the rename: the job records the folder it works on.
    resume_preparation(workspace_at(target))
    workspace_summary.clear()
    status_sections.clear()
    workspace_is_demo.clear()
    return True


# -- cached reads ----------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, ttl=300, max_entries=32)
def workspace_summary(root: str, version: str) -> WorkspaceSummary:
    """`Workspace.summary()`, recomputed when the data version changes.

    Args:
        root: The workspace folder.
        version: `ui.common.data_version(workspace)`; only part of the cache key.
    """
    return workspace_at(root).summary()


@st.cache_data(show_spinner="Checking what is computed…", ttl=60, max_entries=32)
def status_sections(root: str, version: str) -> dict[str, Any]:
    """Every capability's status section as plain values, each computed on its own.

    A section that raises is returned as `{SECTION_ERROR: message}` so that the others still show.
    The short TTL catches changes that do not bump the data version (a model switched by the CLI).
    """
    from recengine.status import status_sections as registered_sections

    workspace = workspace_at(root)
    sections: dict[str, Any] = {}
    for name, section in registered_sections().items():
        if name in SHOWN_ELSEWHERE:
            continue
        try:
            sections[name] = to_plain(section(workspace))
        except RecEngineError as error:
            sections[name] = {SECTION_ERROR: str(error)}
        except Exception:  # noqa: BLE001 - one broken section must not hide the others
            log.exception("status section %s failed", name)
            sections[name] = {SECTION_ERROR: "This section could not be computed; see the server log."}
    return sections


def to_plain(value: Any) -> Any:
    """Turn dataclasses, enums, paths and mappings into plain, picklable values for display."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_plain(item) for item in value]
    if isinstance(value, Enum):
        return to_plain(value.value)
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool, datetime, date)):
        return value
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        try:
            return value.item()
        except (TypeError, ValueError):
            pass
    return str(value)


# -- formatting ------------------------------------------------------------------------------------


def label_for(key: str) -> str:
    """A readable label for a status key: `last_ingest` -> `Last ingest`."""
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else key


def format_value(value: PlainValue) -> str:
    """A short display string for one status value."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, datetime, date))


# Keys shown as headline metrics first when a section has them, in this order; then keys containing one
# of the hint words; everything else goes to "Details".
HEADLINE_KEYS = (
    "active_version", "model", "embeddings", "index", "state", "status", "sentiment_method",
    "analyzed_reviews", "pending_reviews", "items_embedded",
)  # fmt: skip
HEADLINE_HINTS = ("model", "version", "active", "fresh", "state", "analyzed", "embedded", "ndcg", "recall")
# Keys whose non-empty value is a problem the user should see at once.
PROBLEM_KEYS = ("problem", "problems", "error", "warning", "warnings")
HEADLINE_MAX_CHARS = 24


def headline_keys(values: Mapping[str, Any], *, limit: int = 4) -> list[str]:
    """The few keys of a section worth a big number: short values, hinted keys first, then in order."""
    order = list(values)
    candidates = [
        key
        for key, value in values.items()
        if key not in PROBLEM_KEYS
        and value not in (None, "")
        and is_scalar(value)
        and len(format_value(value)) <= HEADLINE_MAX_CHARS
    ]

    def rank(key: str) -> tuple[int, int]:
        if key in HEADLINE_KEYS:
            return (0, HEADLINE_KEYS.index(key))
        return (1 if any(hint in key for hint in HEADLINE_HINTS) else 2, order.index(key))

    return sorted(candidates, key=rank)[:limit]


def short_display(text: str, *, width: int = 16) -> str:
    """A headline-sized form of a long value: `bundled:all-MiniLM-L6-v2` -> `all-MiniLM-L6-v2`, and a
    long path -> its last part (the full value goes into the metric's help)."""
    if len(text) <= width:
        return text
    for separator in (":", "/"):
        if separator in text.rstrip(separator):
            return text.rstrip(separator).rsplit(separator, 1)[-1]
    return text


def details_rows(values: Mapping[str, Any], prefix: str = "") -> list[dict[str, str]]:
    """Every field of a section as (field, value) text rows, nested mappings flattened."""
    rows: list[dict[str, str]] = []
    for key, value in values.items():
        label = f"{prefix}{label_for(key)}"
        if isinstance(value, Mapping):
            rows.extend(details_rows(value, prefix=f"{label} · "))
        elif isinstance(value, list):
            rows.append({"field": label, "value": ", ".join(format_value(item) if is_scalar(item) else str(item) for item in value)})
        else:
            rows.append({"field": label, "value": format_value(value)})
    return rows


def render_values(values: Mapping[str, Any], *, per_row: int = 4, headlines: int = 4) -> None:
    """Render any status section: its problems as warnings, a row of headline metrics, and every field
    in a collapsed "Details" table (text in a table is never interpreted as Markdown)."""
    for key in PROBLEM_KEYS:
        problem = values.get(key)
        if problem:
            text = "; ".join(map(str, problem)) if isinstance(problem, list) else str(problem)
            st.warning(escape_markdown(text), icon=":material/warning:")
    headline = headline_keys(values, limit=headlines)
    for start in range(0, len(headline), per_row):
        for column, key in zip(st.columns(per_row), headline[start : start + per_row], strict=False):
            full = format_value(values[key])
            # Metric values render Markdown: escaped, since some come from settings or uploaded names.
            column.metric(
                label_for(key),
                escape_markdown(short_display(full)),
                help=escape_markdown(full) if short_display(full) != full else None,
            )
    with st.expander("Details", icon=":material/list:"):
        st.dataframe(details_rows(values), hide_index=True, width="stretch")


# -- sentiment split ---------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, ttl=300, max_entries=32)
def sentiment_split(root: str, version: str) -> dict[str, int]:
    """Analysed reviews per sentiment label (empty before the analysis has run)."""
    from recengine.text import review_sentiment

    labels = review_sentiment(workspace_at(root))["sentiment_label"]
    counts = labels.value_counts()
    return {label: int(counts.get(label, 0)) for label in ("positive", "neutral", "negative")} if len(labels) else {}


def render_sentiment_split(split: Mapping[str, int]) -> None:
    total = sum(split.values())
    icons = {"positive": ":material/sentiment_satisfied:", "neutral": ":material/sentiment_neutral:",
             "negative": ":material/sentiment_dissatisfied:"}  # fmt: skip
    for column, (label, count) in zip(st.columns(4), split.items(), strict=False):
        column.metric(
            f"{icons.get(label, '')} {label.capitalize()} reviews",
            f"{count / total:.0%}" if total else "—",
            help=f"{count:,} of {total:,} analysed reviews.",
        )
