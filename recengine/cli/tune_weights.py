"""`recengine tune-weights`: suggest score weights from the workspace's own data, optionally save them."""

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
        "tune-weights",
        help="Suggest the hybrid's score weights from this shop's data (validation split).",
        description=(
            "Try score weights and collaborative settings (co-occurrence or EASE) on each customer's second-to-last product (never the products the "
            "evaluate command tests), compare the best with the current weights by a paired bootstrap over "
            "customers, and with --apply save it to the workspace's config.toml when it is significantly "
            "better."
        ),
    )
    add_workspace_argument(parser)
    parser.add_argument("-k", "--k", type=int, default=10, help="Cutoff K of NDCG@K (default 10).")
    parser.add_argument(
        "--apply", action="store_true", help="Save the suggestion as the workspace's weights if it is significantly better."
    )
    parser.add_argument(
        "--force", action="store_true", help="With --apply: save the suggestion even when it is not significantly better."
    )
    parser.add_argument("--resamples", type=int, default=1000, help="Bootstrap resamples (default 1000).")
    add_format_argument(parser)
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    from recengine.errors import ConfigError
    from recengine.evaluate.weights import overridden_by_environment, save_weights, suggest_weights

    if arguments.k < 1:
        raise ConfigError(f"-k must be at least 1, got {arguments.k}.")
    if arguments.force and not arguments.apply:
        raise ConfigError("--force only makes sense with --apply.")
    workspace = open_workspace(arguments)
    suggestion = suggest_weights(workspace, k=arguments.k, n_resamples=arguments.resamples, progress=StderrProgress())
    saved = None
    if arguments.apply and (suggestion.worth_applying or arguments.force):
        saved = save_weights(workspace, suggestion.suggested, suggestion.suggested_collaborative)
    overridden = overridden_by_environment()
    if arguments.format == "json":
        print_json({**suggestion.to_dict(), "saved_to": saved, "overridden_by_environment": overridden})
        return 0
    print_table([list(row) for row in suggestion.rows()], ["setting", "current", "suggested"])
    print()
    print(suggestion.verdict)
    if saved is not None:
        print(f"Saved to {saved}.")
    elif arguments.apply:
        print("Not saved (not significantly better; --force saves it anyway).")
    if overridden:
        print(f"Note: {', '.join(overridden)} set in the environment override config.toml.")
    return 0
