"""The workspace's background preparation on the dashboard: a live panel on the home page and a one-line
banner for every page that needs one of its steps.

Both re-run as fragments every few seconds while the job runs (nothing else on the page re-runs), and
re-run the whole page when a step finishes, so the page fills in without a manual reload.
"""

from __future__ import annotations

import streamlit as st

from recengine.jobs import JobRecord
from recengine.preparation import (
    STEPS,
    PreparationStatus,
    preparation_status,
    resume_preparation,
    step_named,
)
from recengine.progress import duration_text
from recengine.workspace import Workspace
from ui.auth import is_editor, require_editor
from ui.common import escape_markdown, guarded

POLL_S = 2.0


def status_line(status: PreparationStatus) -> str:
    """`Step 3 of 4: Training the sentiment model · 62% · about 40 s left` (or why it stopped). Our own
    words only (shown as Markdown); the job's message, which may quote data, is shown escaped."""
    job = status.job
    if job is None:
        return ""
    if status.interrupted:
        return f"The preparation stopped ({job.status}) with {', '.join(status.pending)} left."
    current = status.current
    position = f"Step {STEPS.index(current) + 1} of {len(STEPS)}: {current.label}" if current else "Starting"
    return f"{position} · {job.progress:.0%} · {time_left(job)}"


def time_left(job: JobRecord) -> str:
    """`about 40 s left`, or `estimating the time left` before the job has an estimate."""
    if job.status == "queued":
        return "waiting to start"
    if job.eta_s is None:
        return "estimating the time left"
    return f"about {duration_text(job.eta_s)} left"


def _changed(before: PreparationStatus, after: PreparationStatus) -> bool:
    return before.pending != after.pending or before.running != after.running


def preparation_panel(workspace: Workspace) -> PreparationStatus:
    """The home page's panel: progress bar, current step, time left and what each step makes available;
    a Resume button (editors) when a preparation stopped before its end. Shows nothing when no
    preparation was ever started or when it is complete."""
    status = preparation_status(workspace)
    if not (status.running or status.interrupted):
        return status

    @st.fragment(run_every=POLL_S if status.running else None)
    def panel() -> None:
        current = preparation_status(workspace)
        if _changed(status, current):
            st.rerun()  # a step finished: the whole page reads the new results
        with st.container(border=True):
            if current.interrupted:
                st.warning(
                    status_line(current) + " Pages compute what they need when opened; "
                    "resuming finishes it in the background.",
                    icon=":material/pause_circle:",
                )
                if is_editor() and st.button("Resume the preparation", key="preparation_resume",
                                             icon=":material/play_arrow:"):
                    with guarded("Resuming the preparation"):
                        require_editor("resume the preparation")
                        resume_preparation(workspace)
                        st.rerun()
            elif current.job is not None:
                st.markdown("**Preparing this workspace in the background**")
                st.progress(min(max(current.job.progress, 0.0), 1.0), text=status_line(current))
                if current.job.message:
                    st.caption(escape_markdown(current.job.message))
            for step in STEPS:
                done = current.is_ready(step.name)
                icon = ":material/check_circle:" if done else (
                    ":material/progress_activity:" if current.current == step else ":material/schedule:"
                )
                state = "ready" if done else ("in progress" if current.current == step else "waiting")
                st.markdown(f"{icon} {step.label}: {step.shows} ({state})")

    panel()
    return status


def preparation_banner(workspace: Workspace, waits_for: str, meanwhile: str) -> PreparationStatus:
    """One line on a page that needs the preparation step `waits_for`: while that step is pending in a
    running preparation, say what is being prepared, how far it is, and what the page shows meanwhile
    (`meanwhile`, a sentence); the page re-runs by itself when the step is done.

    Returns:
        The status, so a page can decide what to show (`status.is_ready(step)`).
    """
    step = step_named(waits_for)
    status = preparation_status(workspace)
    if not status.running or status.is_ready(step.name):
        return status

    @st.fragment(run_every=POLL_S)
    def banner() -> None:
        current = preparation_status(workspace)
        if _changed(status, current):
            st.rerun()
        st.info(
            f"Being prepared in the background: {step.shows} ({status_line(current)}). "
            f"Meanwhile {meanwhile} This page fills in by itself when it is done.",
            icon=":material/hourglass_top:",
        )

    banner()
    return status
