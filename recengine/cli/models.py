"""`recengine models`: the encoder versions of the workspace; activate one or roll back."""

from __future__ import annotations

import argparse

from recengine.cli.common import (
    add_format_argument,
    add_workspace_argument,
    open_workspace,
    print_json,
    print_table,
)
from recengine.progress import StderrProgress


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models", help="List encoder versions (base and fine-tuned), activate one, or roll back."
    )
    add_workspace_argument(parser)
    parser.add_argument("action", choices=["list", "activate", "rollback"], nargs="?", default="list")
    parser.add_argument("version_id", nargs="?", help="Version to activate ('base' for the configured model).")
    parser.add_argument("--no-reembed", action="store_true",
                        help="Switch without re-embedding now (embeddings are rebuilt on next use).")
    add_format_argument(parser)
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    from recengine.errors import ConfigError
    from recengine.train import registry

    workspace = open_workspace(arguments)
    if arguments.action == "activate":
        if not arguments.version_id:
            raise ConfigError("`recengine models activate` needs a version id.", hint="See `recengine models list`.")
        version = registry.activate(workspace, arguments.version_id, reembed=not arguments.no_reembed,
                                    progress=StderrProgress())
        print(f"active encoder: {version.version_id}")
        return 0
    if arguments.action == "rollback":
        version = registry.rollback(workspace, reembed=not arguments.no_reembed, progress=StderrProgress())
        print(f"active encoder: {version.version_id}")
        return 0
    rows = registry.describe(workspace)
    if arguments.format == "json":
        print_json(rows)
    else:
        headers = list(rows[0]) if rows else []
        print_table([[row[name] for name in headers] for row in rows], headers)
    return 0
