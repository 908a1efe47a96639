"""`recengine export`: write a workspace table to CSV, JSON Lines, Parquet or Excel."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from recengine.cli.common import add_workspace_argument, open_workspace
from recengine.exporting import EXPORT_FORMATS, export_table, exportable_tables


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="Write a table (items, reviews, rejects, ...) to a file.",
        description=f"The format follows the extension of --out: {', '.join(EXPORT_FORMATS)}. Cells that "
        "a spreadsheet would run as a formula are prefixed with a quote in CSV and Excel files.",
    )
    add_workspace_argument(parser)
    parser.add_argument("--table", required=True, choices=exportable_tables(), help="The table to export.")
    parser.add_argument("--out", required=True, type=Path, metavar="F", help="The file to write.")
    parser.add_argument(
        "--pseudonymize-users",
        action="store_true",
        help="Replace user ids by pseudonyms (keyed HMAC, the same per customer within this workspace).",
    )
    parser.add_argument(
        "--keep-personal-data",
        action="store_true",
        help="Do not mask e-mail addresses, phone and card numbers in review text (masked by default, "
        "or as the workspace setting privacy.mask_personal_data says).",
    )
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    workspace = open_workspace(arguments)
    rows = export_table(
        workspace,
        arguments.table,
        arguments.out,
        pseudonymize_users=arguments.pseudonymize_users,
        mask_personal_data=False if arguments.keep_personal_data else None,
    )
    print(f"wrote {rows:,} rows of {arguments.table} to {arguments.out}", file=sys.stderr)
    return 0
