"""`recengine demo`: generate the demo shop and ingest it into a workspace."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from recengine.cli.common import add_workspace_argument
from recengine.config import default_workspace_dir
from recengine.progress import StderrProgress, duration_text


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="Generate the demo shop (products, customers, reviews, events) and ingest it.",
        description="Generate a realistic demo shop and ingest it into the workspace, then prepare it: "
        "review analysis, item embeddings and index, the learned sentiment model and one saved evaluation "
        "(see `recengine prepare`). The data is invented; the same --seed always gives the same data.",
    )
    add_workspace_argument(parser)
    parser.add_argument("--seed", type=int, default=7, help="Seed of the generator (default 7).")
    parser.add_argument(
        "--size",
        choices=["small", "standard"],
        default="standard",
        help="standard: 640 products, 1,500 users, ~3,000 reviews, ~40,000 events; small: for tests.",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="Replace a workspace that holds data other than the demo.",
    )
    parser.add_argument(
        "--background",
        action="store_true",
        help="Return as soon as the data is ingested (seconds) and run the preparation as a background "
        "job of the workspace; the dashboard shows its progress and pages fill in as its steps finish "
        "(`recengine jobs wait ID` blocks until it ends).",
    )
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    from recengine.demo import create_demo_workspace

    started = time.monotonic()
    root = Path(arguments.workspace or default_workspace_dir())
    workspace = create_demo_workspace(
        root, seed=arguments.seed, size=arguments.size, force=arguments.force, progress=StderrProgress(),
        post_ingest=not arguments.background,
    )
    summary = workspace.summary()
    took = duration_text(time.monotonic() - started)
    state = "data ready" if arguments.background else "ready"
    print(
        f"Demo workspace {state} at {root} in {took}: {summary.items} products, {summary.users} users, "
        f"{summary.reviews} reviews, {summary.interactions} events, {summary.rejected_rows} rejected rows "
        f"(generated data, seed {arguments.seed}, size {arguments.size})."
    )
    if arguments.background:
        from recengine.preparation import submit_preparation

        job = submit_preparation(workspace)
        print(
            f"Preparing it in the background (review analysis, embeddings, sentiment model, evaluation): job "
            f"{job.job_id}. Follow it with `recengine jobs wait {job.job_id} --workspace {root}` or on the "
            "dashboard's home page."
        )
    return 0
