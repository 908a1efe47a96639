"""`recengine prepare`: run what needs the encoder (analysis, embeddings, sentiment model, evaluation)."""

from __future__ import annotations

import argparse
import time

from recengine.cli.common import add_workspace_argument, open_workspace
from recengine.progress import StderrProgress, duration_text


def register(subparsers: argparse._SubParsersAction) -> None:
    from recengine.preparation import STEP_NAMES

    parser = subparsers.add_parser(
        "prepare",
        help="Prepare a workspace: review analysis, item embeddings and index, sentiment model, an evaluation.",
        description="Run the steps that read text through the encoder, in the order that makes most of the "
        "dashboard usable soonest: analysis (keywords, aspects, lexicon sentiment), embeddings (item "
        "vectors and index), sentiment (the learned model), evaluation (one saved evaluation). Each step is "
        "incremental. By default the steps a previous preparation left (killed, failed) run, else all.",
    )
    add_workspace_argument(parser)
    parser.add_argument("--steps", nargs="+", choices=list(STEP_NAMES), default=None, metavar="STEP",
                        help=f"Steps to run: {' '.join(STEP_NAMES)} (default: the pending ones, else all).")
    parser.add_argument("--background", action="store_true",
                        help="Run as a background job of the workspace and return at once.")
    parser.add_argument("--resume", action="store_true",
                        help="Only when an earlier preparation left steps pending and none is running "
                        "(what scripts/start.sh does on every start); otherwise do nothing.")
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    from recengine.errors import WorkspaceBusyError
    from recengine.preparation import preparation_status, prepare_workspace, submit_preparation

    workspace = open_workspace(arguments)
    if arguments.resume:
        status = preparation_status(workspace)
        if status.running and status.job is not None:
            print(f"The preparation is running: job {status.job.job_id} ({status.job.progress:.0%}).")
            return 0
        if not status.pending:
            print("Nothing left to prepare from an earlier preparation.")
            return 0
        print(f"Resuming the preparation: {', '.join(status.pending)} left.")
    if arguments.background:
        job = submit_preparation(workspace, arguments.steps)  # the running one, if there is one
        print(f"Preparing in the background: job {job.job_id} (`recengine jobs wait {job.job_id}` to follow).")
        return 0
    running = preparation_status(workspace)
    if running.running and running.job is not None:
        raise WorkspaceBusyError(
            f"A preparation job is running in this workspace ({running.job.job_id}, {running.job.progress:.0%}).",
            hint=f"Wait for it: `recengine jobs wait {running.job.job_id}`, or cancel it: `recengine jobs cancel ...`.",
        )
    started = time.monotonic()
    report = prepare_workspace(workspace, StderrProgress(), steps=arguments.steps)
    steps = ", ".join(
        f"{name} {duration_text(seconds)} ({report.cpu_seconds.get(name, 0.0):.0f} CPU s)"
        for name, seconds in report.seconds.items()
    )
    print(f"Prepared in {duration_text(time.monotonic() - started)} ({steps or 'nothing to do'}).")
    return 0
