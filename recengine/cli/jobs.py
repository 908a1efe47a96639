"""`recengine jobs`: list, show, follow and cancel the workspace's background jobs."""

from __future__ import annotations

import argparse
import time

from recengine.cli.common import (
    add_format_argument,
    add_workspace_argument,
    open_workspace,
    print_json,
    print_table,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("jobs", help="List, show, follow or cancel background jobs (fine-tuning, training).")
    add_workspace_argument(parser)
    parser.add_argument("action", choices=["list", "show", "cancel", "wait"], nargs="?", default="list",
                        help="list (default), show ID, cancel ID, or wait ID (block until it ends).")
    parser.add_argument("job_id", nargs="?", help="The job id (for show, cancel and wait).")
    parser.add_argument("--limit", type=int, default=20, help="Jobs listed (newest first).")
    add_format_argument(parser)
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    from recengine.errors import ConfigError
    from recengine.jobs import job_runner

    runner = job_runner(open_workspace(arguments))
    if arguments.action == "list":
        records = runner.list(limit=arguments.limit)
        if arguments.format == "json":
            print_json(records)
        else:
            print_table(
                [[r.job_id, r.kind, r.status, f"{r.progress:.0%}", r.created_at, r.message or (r.error or "")[:60]]
                 for r in records],
                ["job", "kind", "status", "progress", "created", "message"],
            )
        return 0
    if not arguments.job_id:
        raise ConfigError(f"`recengine jobs {arguments.action}` needs a job id.", hint="See `recengine jobs list`.")
    if arguments.action == "cancel":
        record = runner.cancel(arguments.job_id)
    elif arguments.action == "wait":
        record = runner.get(arguments.job_id)
        while record.is_active:
            time.sleep(1.0)
            record = runner.get(arguments.job_id)
    else:
        record = runner.get(arguments.job_id)
    if arguments.format == "json":
        print_json(record)
    else:
        for name, value in (
            ("job", record.job_id), ("kind", record.kind), ("status", record.status),
            ("progress", f"{record.progress:.0%}"), ("eta", f"{record.eta_s:.0f} s" if record.eta_s else ""),
            ("message", record.message), ("error", record.error or ""), ("result", record.result or ""),
        ):
            print(f"{name:<10} {value}")
        for line in runner.log_tail(record.job_id, 10):
            print(f"  | {line}")
    return 1 if record.status == "failed" else 0
