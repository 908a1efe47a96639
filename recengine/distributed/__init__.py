"""Batch work on a Ray cluster: embedding, review analysis and recommendation export (`--engine ray`).

Ray only distributes: every pipeline calls the same in-process functions the local engine uses, over
Parquet shards of the workspace tables that workers read without opening the database. Importing this
package imports neither Ray nor faiss; `recengine.distributed.cluster.import_ray` is the one place that
imports Ray, when a pipeline runs.

Modules: `shards` (tables to and from Parquet shards), `cluster` (connecting, actor sizing, progress),
`embed`, `analyze`, `recommend` (the pipelines), `jobs` (job kinds for the dashboard's job view).
"""

from __future__ import annotations

import argparse

from recengine.distributed.shards import ShardSet, export_tables, read_manifest, read_table

ENGINES = ("local", "ray")

__all__ = ["ENGINES", "ShardSet", "add_engine_arguments", "check_engine_arguments", "export_tables",
           "read_manifest", "read_table"]


def add_engine_arguments(parser: argparse.ArgumentParser, *, workers: bool = True) -> None:
    """The `--engine local|ray`, `--address`, `--shards` (and `--workers`) options of batch commands."""
    parser.add_argument("--engine", choices=ENGINES, default="local",
                        help="local (default): in this process; ray: as Ray Data pipelines on a Ray cluster "
                        "(needs recengine[ray]).")
    parser.add_argument("--address", default=None,
                        help="With --engine ray: the cluster to join (e.g. auto, ray://head:10001); "
                        "default: start a local Ray on this machine.")
    parser.add_argument("--shards", default=None,
                        help="With --engine ray: folder for the Parquet shards, visible to every node at the "
                        "same path (default: WORKSPACE/shards).")
    if workers:
        parser.add_argument("--workers", type=int, default=None,
                            help="With --engine ray: actors (default: one per GPU, else one per CPU of the cluster).")


def check_engine_arguments(arguments: argparse.Namespace) -> bool:
    """True for `--engine ray` (Ray importable); ConfigError for Ray options without it or without Ray."""
    from recengine.errors import ConfigError

    if arguments.engine != "ray":
        if arguments.address or arguments.shards:
            raise ConfigError("--address and --shards are options of --engine ray.", hint="Add --engine ray.")
        return False
    from recengine.distributed.cluster import import_ray

    import_ray()
    workers = getattr(arguments, "workers", None)
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers {workers} must be at least 1.")
    return True
