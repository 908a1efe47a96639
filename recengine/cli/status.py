"""`recengine status`: what is in the workspace and how fresh the derived data is."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from recengine.cli.common import add_format_argument, add_workspace_argument, open_workspace, print_json
from recengine.status import workspace_status


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="Show what the workspace holds and how fresh it is.")
    add_workspace_argument(parser)
    add_format_argument(parser)
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    workspace = open_workspace(arguments)
    sections = workspace_status(workspace)
    if arguments.format == "json":
        print_json({name: asdict(section) if hasattr(section, "__dataclass_fields__") else section
                    for name, section in sections.items()})
        return 0
    for name, section in sections.items():
        print(f"{name}:")
        values = asdict(section) if hasattr(section, "__dataclass_fields__") else section
        for key, value in values.items():
            print(f"  {key:<20} {value}")
    return 0
