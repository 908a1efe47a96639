"""Preparing a workspace: everything that needs the encoder, in the order that shows most soonest.

After an ingest a workspace answers at once from its data (products, customers, reviews, events, and
recommendations from the collaborative signal). What reads text through the encoder takes minutes on a
CPU, so `prepare_workspace` runs it step by step, each step making one more capability available:

    analysis     keywords, aspects and lexicon sentiment of the reviews (the encoder reads only the
                 candidate aspect phrases, not the reviews)
    embeddings   item embeddings and their FAISS index (semantic scores, similar products, search)
    sentiment    the learned sentiment model on the reviews' vectors (re-scores every review)
    evaluation   one saved evaluation against baselines (the Evaluation page opens with results)

Steps still to run are kept in the workspace (meta `preparation_pending`) and a step leaves that list
only once its results are committed, so a preparation that was killed is completed by the next one
(`resume_preparation`); every step is incremental and skips what is already done. The dashboard and
the CLI run it as a background job (`submit_preparation`, job kind `prepare_workspace`), or in the
foreground (`recengine prepare`, `recengine demo`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from recengine.errors import ConfigError, RecEngineError
from recengine.progress import Progress, no_progress, scaled

if TYPE_CHECKING:
    from recengine.jobs import JobRecord
    from recengine.workspace import Workspace

log = logging.getLogger(__name__)

PENDING_META_KEY = "preparation_pending"
JOB_KIND = "prepare_workspace"


@dataclass(frozen=True)
class PreparationStep:
    """One step of the preparation.

    Attributes:
        name: Identifier, as stored in the pending list and accepted by `--steps`.
        label: What it does, for progress messages and the dashboard.
        shows: What becomes available when it is done.
        share: Expected share of the whole preparation's time (measured on the demo), so that the
            progress bar moves evenly and the time left is a fair estimate.
    """

    name: str
    label: str
    shows: str
    share: float


# Shares of the CPU time each step took on the standard demo (9, 23, 48 and 4 CPU seconds on a quiet 2-core
# machine, bench_first_start.py; the analysis includes importing sentence-transformers, the sentiment step
# encodes every review and its title).
STEPS: tuple[PreparationStep, ...] = (
    PreparationStep("analysis", "Reading the reviews", "keywords, aspects and lexicon sentiment", 0.11),
    PreparationStep(
        "embeddings", "Embedding the products", "semantic scores, similar products and search", 0.27
    ),
    PreparationStep("sentiment", "Training the sentiment model", "learned sentiment of every review", 0.57),
    PreparationStep("evaluation", "Evaluating the recommender", "a saved evaluation against baselines", 0.05),
)
STEP_NAMES: tuple[str, ...] = tuple(step.name for step in STEPS)


@dataclass(frozen=True)
class PreparationReport:
    """What one `prepare_workspace` run did.

    Attributes:
        steps: The steps run, in order.
        seconds: Seconds per step run (wall clock).
        cpu_seconds: CPU seconds per step run, all threads of this process: what a step costs, which
            other work on a shared machine inflates far less than the wall clock.
        experiment_id: The evaluation saved by the `evaluation` step, when it ran.
        sentiment_method: The review analysis' sentiment method after the run ("" if not analysed).
    """

    steps: tuple[str, ...]
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    experiment_id: str | None = None
    sentiment_method: str = ""


@dataclass(frozen=True)
class PreparationStatus:
    """Where a workspace's preparation stands, for the dashboard and `recengine status`.

    Attributes:
        pending: Steps still to run, in order.
        job: With steps pending, the running (or queued) preparation job, else the latest one; None when
            none was started or nothing is pending.
    """

    pending: tuple[str, ...]
    job: JobRecord | None = None

    @property
    def running(self) -> bool:
        """A preparation job is queued or running."""
        return self.job is not None and self.job.is_active

    @property
    def interrupted(self) -> bool:
        """Steps are left and the last preparation job ended without finishing them (killed, failed)."""
        return bool(self.pending) and self.job is not None and not self.job.is_active

    @property
    def current(self) -> PreparationStep | None:
        """The step being run: the first pending one while a job runs."""
        return step_named(self.pending[0]) if self.running and self.pending else None

    def is_ready(self, step: str) -> bool:
        """Whether the results of `step` are there (it is not pending)."""
        return step not in self.pending


def step_named(name: str) -> PreparationStep:
    """The step called `name`.

    Raises:
        ConfigError: no such step (the message lists them).
    """
    for step in STEPS:
        if step.name == name:
            return step
    raise ConfigError(f"Unknown preparation step {name!r}.", hint=f"Use one of: {', '.join(STEP_NAMES)}.")


# -- the pending list ---------------------------------------------------------------------------------------


def pending_steps(workspace: Workspace) -> tuple[str, ...]:
    """The steps recorded as still to run, in order (empty when none is recorded)."""
    raw = workspace.store.get_meta(PENDING_META_KEY)
    if not raw:
        return ()
    try:
        names = set(json.loads(raw))
    except (ValueError, TypeError):
        names = set(STEP_NAMES)  # unreadable: run everything again (each step skips what is done)
    return tuple(name for name in STEP_NAMES if name in names)


def mark_pending(workspace: Workspace, steps: Sequence[str] = STEP_NAMES) -> None:
    """Record `steps` as still to run (after an ingest whose encoder work is left for later)."""
    for name in steps:
        step_named(name)
    wanted = set(steps) | set(pending_steps(workspace))
    _write_pending(workspace, [name for name in STEP_NAMES if name in wanted])


def _mark_done(workspace: Workspace, step: str) -> None:
    _write_pending(workspace, [name for name in pending_steps(workspace) if name != step])


def _write_pending(workspace: Workspace, steps: list[str]) -> None:
    workspace.store.set_meta(PENDING_META_KEY, json.dumps(steps))


# -- running ----------------------------------------------------------------------------------------------


def prepare_workspace(
    workspace: Workspace,
    progress: Progress | None = None,
    *,
    steps: Sequence[str] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> PreparationReport:
    """Run the preparation steps in order, each one recorded as done once its results are committed.

    Args:
        workspace: The workspace.
        progress: Callback `(fraction, message)`; messages start with the step's label.
        steps: The steps to run; None = the pending ones, or every step when none is pending.
        should_stop: Checked between steps; True stops before the next one (a cancelled job).

    Returns:
        A `PreparationReport`.

    Raises:
        ConfigError: an unknown step name.
    """
    report = progress or no_progress
    names = list(steps) if steps is not None else list(pending_steps(workspace) or STEP_NAMES)
    for name in names:
        step_named(name)  # an unknown name fails before anything runs
    chosen = [step for step in STEPS if step.name in names]
    total = sum(step.share for step in chosen) or 1.0
    seconds: dict[str, float] = {}
    cpu_seconds: dict[str, float] = {}
    experiment_id: str | None = None
    done = 0.0
    for step in chosen:
        if should_stop is not None and should_stop():
            break
        start, end = done / total, (done + step.share) / total
        # Numbered among all steps, as the dashboard numbers them, also when a resumed run skips some.
        prefix = f"Step {STEPS.index(step) + 1}/{len(STEPS)}: {step.label}"
        report(start, prefix)
        step_progress = _prefixed(scaled(report, start, end), prefix)
        started, cpu_started = time.perf_counter(), time.process_time()
        saved = _RUNNERS[step.name](workspace, step_progress)
        experiment_id = saved or experiment_id
        _mark_done(workspace, step.name)
        _bump_data_version(workspace)  # open pages refresh what the step changed
        seconds[step.name] = round(time.perf_counter() - started, 2)
        cpu_seconds[step.name] = round(time.process_time() - cpu_started, 2)
        log.info("preparation step %s took %.1f s (%.1f CPU s)", step.name, seconds[step.name], cpu_seconds[step.name])
        done += step.share
    report(1.0, "Workspace prepared" if len(seconds) == len(chosen) else "Preparation stopped")
    from recengine.text import analysis_state

    return PreparationReport(
        steps=tuple(seconds),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        experiment_id=experiment_id,
        sentiment_method=str(analysis_state(workspace).get("method") or ""),
    )


def _prefixed(progress: Progress, prefix: str) -> Progress:
    def report(fraction: float, message: str) -> None:
        progress(fraction, f"{prefix}: {message}" if message else prefix)

    return report


def _run_analysis(workspace: Workspace, progress: Progress) -> str | None:
    from recengine.text import analysis_state, analyze_reviews

    # A workspace already scored by the learned model keeps it; otherwise the lexicon pass needs no encoder.
    keep_learned = analysis_state(workspace).get("method") == "learned"
    analyze_reviews(workspace, progress, learned_sentiment=keep_learned)
    return None


def _run_embeddings(workspace: Workspace, progress: Progress) -> str | None:
    workspace.item_index(progress)
    return None


def _run_sentiment(workspace: Workspace, progress: Progress) -> str | None:
    workspace.analyze_reviews(progress)
    return None


# Bootstrap resamples of the saved evaluation: enough for stable 95% intervals on the demo's customers.
EVALUATION_RESAMPLES = 500


def _run_evaluation(workspace: Workspace, progress: Progress) -> str | None:
    from recengine.evaluate import run_evaluation, save_experiment

    try:
        result = run_evaluation(workspace, n_resamples=EVALUATION_RESAMPLES, progress=progress, model_versions=[])
    except RecEngineError as error:  # too little data to evaluate: the page says why when asked
        log.info("no evaluation saved: %s", error)
        return None
    return save_experiment(workspace, result, name="Prepared with the workspace").experiment_id


_RUNNERS: dict[str, Callable[[Workspace, Progress], str | None]] = {
    "analysis": _run_analysis,
    "embeddings": _run_embeddings,
    "sentiment": _run_sentiment,
    "evaluation": _run_evaluation,
}


def _bump_data_version(workspace: Workspace) -> None:
    from recengine.embed.pipeline import bump_data_version

    bump_data_version(workspace)


# -- as a background job -------------------------------------------------------------------------------------


def latest_preparation_job(workspace: Workspace) -> JobRecord | None:
    """The active preparation job, else the most recent one (None when none was ever started)."""
    from recengine.jobs import job_runner
    from recengine.jobs.records import list_jobs

    runner = job_runner(workspace)
    records = [runner.get(record.job_id) for record in list_jobs(workspace, limit=5, kind=JOB_KIND)]
    active = [record for record in records if record.is_active]
    if active:
        return min(active, key=lambda record: record.created_at)
    return records[0] if records else None


def preparation_status(workspace: Workspace) -> PreparationStatus:
    """The pending steps and the preparation job working on them, if one was started (None when nothing
    is pending: every page asks, and most workspaces have nothing to prepare)."""
    pending = pending_steps(workspace)
    return PreparationStatus(pending, latest_preparation_job(workspace) if pending else None)


def submit_preparation(workspace: Workspace, steps: Sequence[str] | None = None) -> JobRecord:
    """Start the preparation as a background job of the workspace (returns at once).

    Args:
        workspace: The workspace.
        steps: The steps to run; None = those pending when the job starts, else all.

    Returns:
        The job; a preparation job already queued or running is returned instead of a second one.
    """
    from recengine.jobs import job_runner

    for name in steps or ():
        step_named(name)
    current = latest_preparation_job(workspace)
    if current is not None and current.is_active:
        return current
    return job_runner(workspace).submit(JOB_KIND, {"steps": list(steps)} if steps else {})


def resume_preparation(workspace: Workspace) -> JobRecord | None:
    """Start the steps a killed or failed preparation left, when no preparation job is running.

    Returns:
        The job started (or already running); None when nothing is pending.
    """
    if not pending_steps(workspace):
        return None
    return submit_preparation(workspace)


def encoder_work_in_background(workspace: Workspace, step: str) -> bool:
    """True while a preparation job is running and `step` is still pending: a caller that would
    compute that step's results itself (a dashboard page, a CLI command) should use what exists instead
    of encoding the same texts in a second process at the same time."""
    if step not in pending_steps(workspace):
        return False
    try:
        job = latest_preparation_job(workspace)
    except RecEngineError:
        return False
    return job is not None and job.is_active


def preparation_section(workspace: Workspace) -> dict[str, object]:
    """The `preparation` section of `recengine status`: state, steps left, and the job's progress."""
    status = preparation_status(workspace)
    state = ("running" if status.running else "interrupted" if status.interrupted
             else "pending" if status.pending else "complete")
    section: dict[str, object] = {"state": state, "pending_steps": list(status.pending)}
    if status.job is not None:
        eta = status.job.eta_s
        section.update(job=status.job.job_id, job_status=status.job.status, progress=round(status.job.progress, 3),
                       eta_s=round(eta, 1) if eta is not None else None, message=status.job.message)
    return section


def _register() -> None:
    from recengine.status import register_status_section

    register_status_section("preparation", preparation_section)


_register()
