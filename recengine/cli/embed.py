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
from recengine.distributed import add_engine_arguments, check_engine_arguments
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
    add_engine_arguments(parser)
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    from recengine.embed import embed_workspace, prune_embeddings

    use_ray = check_engine_arguments(arguments)
    workspace = open_workspace(arguments)
    cluster_runs = None
    if use_ray:
        from recengine.distributed.embed import embed_with_ray

        distributed = embed_with_ray(workspace, reviews=arguments.reviews, address=arguments.address,
                                     workers=arguments.workers, shards=arguments.shards, progress=StderrProgress())
        report, cluster_runs = distributed.report, distributed.runs
    else:
        report = embed_workspace(workspace, reviews=arguments.reviews, progress=StderrProgress())
    pruned = None
    if arguments.prune:
        from recengine.text.sentiment_stage import sentiment_vector_fingerprints

        pruned = prune_embeddings(workspace, keep=sentiment_vector_fingerprints(workspace))
    if arguments.format == "json":
        values = {"items": report.items, "index": report.index, "reviews": report.reviews, "pruned": pruned}
        if cluster_runs is not None:
            values["ray"] = list(cluster_runs)
        print_json(values)
        return 0
    if cluster_runs is not None:
        # On Ray the encoding happened on the cluster; the in-process pass below found every text cached.
        print_table([[run_.kind, run_.texts, run_.cache_hits, run_.encoded, run_.actors, run_.gpus_per_actor,
                      run_.seconds] for run_ in cluster_runs],
                    ["ray", "count", "cached", "encoded", "actors", "gpus/actor", "seconds"])
        print()
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
