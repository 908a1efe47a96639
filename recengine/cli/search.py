"""`recengine search`: natural-language product search, personalised with --user."""

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
    parser = subparsers.add_parser("search", help="Search products by a description, optionally for a customer.")
    add_workspace_argument(parser)
    parser.add_argument("--query", required=True, help="What the customer is looking for.")
    parser.add_argument("--user", help="Personalise for this customer (query match + their profile).")
    parser.add_argument("-k", type=int, default=10)
    add_format_argument(parser)
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    from recengine.recommend.search import search
    from recengine.recommend.workspace_model import recommender_for

    if arguments.k <= 0:
        raise ConfigError(f"-k {arguments.k} must be at least 1.")
    workspace = open_workspace(arguments)
    recommender = recommender_for(workspace, progress=StderrProgress())
    results = search(recommender, arguments.query, user_id=arguments.user, k=arguments.k)
    if arguments.format == "json":
        print_json({"query": arguments.query, "user_id": arguments.user, "results": results})
        return 0
    titles, positions = recommender.catalog.titles, recommender.catalog.positions
    print_table(
        [[hit.rank, hit.item_id, hit.score, hit.query, hit.personal, str(titles[positions[hit.item_id]])[:50]] for hit in results],
        ["rank", "item_id", "score", "query", "personal", "title"],
    )
    return 0
