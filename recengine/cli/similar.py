"""`recengine similar`: the products closest to one product by embedding cosine."""

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


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("similar", help="List the products most similar to one product.")
    add_workspace_argument(parser)
    parser.add_argument("--item", required=True, help="Product id.")
    parser.add_argument("-k", type=int, default=10, help="How many similar products (default 10).")
    parser.add_argument("--same-category", action="store_true", help="Only products of the same category.")
    add_format_argument(parser)
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    from recengine.embed import similar_items

    if arguments.k < 1:
        raise ConfigError(f"-k must be at least 1, not {arguments.k}.")
    workspace = open_workspace(arguments)
    hits = similar_items(workspace, arguments.item, arguments.k, same_category=arguments.same_category)
    details = _details(workspace, [hit.item_id for hit in hits])
    if arguments.format == "json":
        print_json(
            {
                "item_id": arguments.item,
                "similar": [
                    {"item_id": hit.item_id, "rank": hit.rank, "similarity": round(hit.similarity, 4),
                     "title": details.get(hit.item_id, {}).get("title"),
                     "category": details.get(hit.item_id, {}).get("category")}
                    for hit in hits
                ],
            }
        )
        return 0
    print_table(
        [[hit.rank, hit.item_id, hit.similarity, details.get(hit.item_id, {}).get("title"),
          details.get(hit.item_id, {}).get("category")] for hit in hits],
        ["rank", "item_id", "cosine", "title", "category"],
    )
    return 0


def _details(workspace: object, item_ids: list[str]) -> dict[str, dict[str, object]]:
    if not item_ids:
        return {}
    placeholders = ", ".join("?" for _ in item_ids)
    rows = workspace.store.query_rows(  # type: ignore[attr-defined]
        f"SELECT item_id, title, category FROM items WHERE item_id IN ({placeholders})", item_ids
    )
    return {row[0]: {"title": row[1], "category": row[2]} for row in rows}
