"""`recengine demo`: generate the demo shop and ingest it into a workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from recengine.cli.common import add_workspace_argument
from recengine.config import default_workspace_dir
from recengine.progress import StderrProgress


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="Generate the demo shop (products, customers, reviews, events) and ingest it.",
        description="Generate a realistic demo shop and ingest it into the workspace. The data is "
        "invented; the same --seed always gives the same data.",
    )
    add_workspace_argument(parser)
    parser.add_argument("--seed", type=int, default=7, help="Seed of the generator (default 7).")
    parser.add_argument(
        "--size",
        choices=["small", "standard"],
        default="standard",
        help="standard: 640 products, 1,500 users, ~12,000 reviews, ~40,000 events; small: for tests.",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="Replace a workspace that holds data other than the demo.",
    )
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    from recengine.demo import create_demo_workspace

    root = Path(arguments.workspace or default_workspace_dir())
    workspace = create_demo_workspace(
        root, seed=arguments.seed, size=arguments.size, force=arguments.force, progress=StderrProgress()
    )
    summary = workspace.summary()
    print(
        f"Demo workspace ready at {root}: {summary.items} products, {summary.users} users, "
        f"{summary.reviews} reviews, {summary.interactions} events, {summary.rejected_rows} rejected rows "
        f"(generated data, seed {arguments.seed}, size {arguments.size})."
    )
    return 0
