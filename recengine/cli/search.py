"""`recengine search`: natural-language product search that reads price limits, ratings, exclusions and
the categories and brands named; personalised with --user."""

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
from recengine.recommend.intent import QueryIntent


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search",
        help="Search products by a description, optionally for a customer.",
        description="Reads what the query asks: price limits ('under $50', 'between 20 and 40', 'cheap'), "
        "a minimum rating ('4 stars and up'), exclusions ('not vinyl', 'without batteries') and the "
        "workspace's categories and brands it names. Price, rating and exclusions filter (relaxed, with a "
        "note, when too few products meet them); named categories and brands are boosted.",
    )
    add_workspace_argument(parser)
    parser.add_argument("--query", required=True, help="What the customer is looking for, e.g. 'jazz under $20, not vinyl'.")
    parser.add_argument("--user", help="Personalise for this customer (query match + their profile).")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--literal", action="store_true",
                        help="Read the query as plain words: no price, rating, exclusion, category or brand.")
    add_format_argument(parser)
    parser.set_defaults(handler=run)


def print_intent(intent: QueryIntent, note: str = "") -> None:
    """The constraints read from a query, as a table, then the relaxation note (shared with `recommend --interests`)."""
    print(f"Looking for: {intent.free_text or '(anything)'}")
    if intent.constraints:
        print_table(
            [[constraint.label, "filter" if constraint.hard else "boost", constraint.phrase] for constraint in intent.constraints],
            ["constraint", "applied as", "read from"],
        )
    if note:
        print(f"Note: {note}")
    print()


def run(arguments: argparse.Namespace) -> int:
    from recengine.recommend.search import search_with_intent
    from recengine.recommend.workspace_model import recommender_for

    if arguments.k <= 0:
        raise ConfigError(f"-k {arguments.k} must be at least 1.")
    workspace = open_workspace(arguments)
    recommender = recommender_for(workspace, progress=StderrProgress())
    response = search_with_intent(
        recommender, arguments.query, user_id=arguments.user, k=arguments.k, understand=not arguments.literal
    )
    if arguments.format == "json":
        print_json(response.to_dict())
        return 0
    print_intent(response.intent, response.note)
    titles, positions = recommender.catalog.titles, recommender.catalog.positions
    columns = ["rank", "item_id", "score", "query", "personal", "title"]
    rows: list[list[object]] = [
        [hit.rank, hit.item_id, hit.score, hit.query, hit.personal, str(titles[positions[hit.item_id]])[:50]]
        for hit in response.results
    ]
    if response.intent.constraints:
        columns.append("constraints")
        for row, hit in zip(rows, response.results, strict=True):
            row.append(hit.reason)
    print_table(rows, columns)
    return 0
