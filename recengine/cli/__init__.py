"""The `recengine` command line (also `python -m recengine`).

Each command lives in its own module of this package with a `register(subparsers)` function that adds
its parser and sets `handler`. Handlers return an exit code. A `RecEngineError` becomes one line on
stderr and exit status 2; nothing else is caught, so bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from recengine.errors import RecEngineError

# Modules of this package that define commands, in the order `--help` lists them.
COMMAND_MODULES = (
    "demo",
    "prepare",
    "ingest",
    "analyze",
    "embed",
    "recommend",
    "similar",
    "search",
    "bundle",
    "status",
    "export",
    "evaluate",
    "tune-weights",
    "finetune",
    "models",
    "jobs",
    "hash-password",
)

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recengine",
        description="Explainable product recommendations from catalogs and reviews.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"recengine.cli.{module_name.replace('-', '_')}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        return int(arguments.handler(arguments) or 0)
    except RecEngineError as error:
        from recengine.progress import end_progress_line

        end_progress_line()  # the reason gets a line of its own, not the tail of a progress bar
        print(f"recengine: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("recengine: interrupted", file=sys.stderr)
        return 130
