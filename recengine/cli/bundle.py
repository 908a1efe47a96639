"""`recengine bundle`: frequently bought together / complete the set, for a product or a customer."""

from __future__ import annotations

import argparse

from recengine.cli.common import (
    add_format_argument,
    add_workspace_argument,
    open_workspace,
    print_json,
    print_table,
)
from recengine.errors import ConfigError
from recengine.progress import StderrProgress


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bundle", help="Suggest products that go with a product or a customer's purchases.")
    add_workspace_argument(parser)
    anchor = parser.add_mutually_exclusive_group(required=True)
    anchor.add_argument("--item", help="Product id to complete.")
    anchor.add_argument("--user", help="Customer whose recent purchases to complete.")
    parser.add_argument("--budget", type=float, help="Maximum total price of the added products.")
    parser.add_argument("--size", type=int, default=4, help="Products in the bundle (default 4).")
    add_format_argument(parser)
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    from recengine.recommend.bundles import bundle_for_item_id, bundle_for_user_id
    from recengine.recommend.workspace_model import recommender_for

    if arguments.budget is not None and arguments.budget <= 0:
        raise ConfigError(f"--budget {arguments.budget} must be positive.")
    if arguments.size <= 0:
        raise ConfigError(f"--size {arguments.size} must be at least 1.")
    workspace = open_workspace(arguments)
    recommender = recommender_for(workspace, progress=StderrProgress())
    if arguments.item is not None:
        bundle = bundle_for_item_id(recommender, arguments.item, size=arguments.size, budget=arguments.budget)
    else:
        bundle = bundle_for_user_id(recommender, arguments.user, size=arguments.size, budget=arguments.budget)
    if arguments.format == "json":
        print_json(bundle)
        return 0
    titles, positions = recommender.catalog.titles, recommender.catalog.positions
    print(f"for: {', '.join(bundle.anchor_item_ids)}")
    print_table(
        [[item.item_id, item.score, item.price, str(titles[positions[item.item_id]])[:40], item.reason] for item in bundle.items],
        ["item_id", "score", "price", "title", "reason"],
    )
    if bundle.total_price is not None:
        print(f"total price: {bundle.total_price:.2f}" + (f" (budget {bundle.budget:.2f})" if bundle.budget else ""))
    return 0
