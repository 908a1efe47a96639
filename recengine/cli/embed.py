"""`recengine embed`: embeddings and the item index for what changed, with progress on stderr."""

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
        "embed",
        help="Embed new or changed products (and optionally reviews) and update the similarity index.",
        description="Only texts not already in the embedding cache are encoded; the index is updated in "
        "place, or rebuilt when the model or the catalog size calls for it.",
    )
    add_workspace_argument(parser)
    parser.add_argument("--reviews", action="store_true", help="Also embed review texts.")
    parser.add_argument(
        "--prune",
        action="store_true",
        help="Afterwards delete cached vectors and indexes of models other than the active one.",
    )
    add_format_argument(parser)
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    from recengine.embed import embed_workspace, prune_embeddings

    workspace = open_workspace(arguments)
    report = embed_workspace(workspace, reviews=arguments.reviews, progress=StderrProgress())
    pruned = prune_embeddings(workspace) if arguments.prune else None
    if arguments.format == "json":
        print_json({"items": report.items, "index": report.index, "reviews": report.reviews, "pruned": pruned})
        return 0
    rows = []
    for run_ in (report.items, report.reviews):
        if run_ is not None:
            rows.append([run_.kind, run_.texts, run_.cache_hits, run_.encoded, f"{run_.hit_rate:.1%}", run_.seconds])
    print_table(rows, ["texts", "count", "cached", "encoded", "hit rate", "seconds"])
    index = report.index
    print(
        f"\nindex: {index.action} ({index.kind}, {index.factory}, {index.size:,} items; "
        f"+{index.added} ~{index.updated} -{index.removed}) in {index.seconds:.2f}s"
        + (f" - {index.reason}" if index.action == "built" and index.reason else "")
    )
    if pruned is not None:
        print(f"pruned: {len(pruned.removed_models)} other model cache(s), {pruned.removed_indexes} index(es)")
    return 0
