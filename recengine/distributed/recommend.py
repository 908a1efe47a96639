"""`recengine recommend --users-file F --engine ray`: the batch export spread over Ray actors.

The driver fits the workspace's Recommender once (the same cached model the in-process export uses) and
puts it in Ray's object store; every `RecommendBatch` actor takes that one copy (its NumPy and SciPy
arrays are shared in memory by the actors of a node, not copied per actor) and runs the same
`Recommender.recommend` per batch of users read from Parquet shards. Workers never open the database.
Results come back to the driver as the JSON shape of DESIGN.md, in input order, so the CLI writes the
same file either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from recengine.distributed.cluster import actor_options, actor_pool, connect, import_ray
from recengine.distributed.shards import rows_per_shard, write_row_shards
from recengine.progress import Progress, no_progress, scaled

if TYPE_CHECKING:
    from recengine.recommend import Recommendation, RuleSet
    from recengine.workspace import Workspace

SHARDS_DIR = "shards"
USERS_PER_SHARD = 50_000
BATCH_SIZE = 200


class RecommendBatch:
    """Ray Data actor: holds the driver's fitted Recommender, recommends per batch of users."""

    def __init__(self, model: list[Any], k: int, rules: RuleSet | None, weights: Mapping[str, float] | None) -> None:
        ray = import_ray()
        # The reference travels inside a list so that Ray hands it over as is; one get per actor.
        self.model = ray.get(model[0])
        self.k, self.rules, self.weights = k, rules, dict(weights) if weights else None

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        # JSON, not pickle: results may spill to the object store's disk, and nothing pickled is loaded.
        # One recommend_chunk per batch: its lists' explanations are computed together.
        lists = self.model.recommend_chunk([str(user_id) for user_id in batch["user_id"]], self.k, rules=self.rules,
                                           weights=self.weights)
        payloads = [json.dumps([recommendation.to_dict() for recommendation in found]) for found in lists]
        return pd.DataFrame({"position": batch["position"], "user_id": batch["user_id"], "payload": payloads})


def recommend_with_ray(
    workspace: Workspace,
    user_ids: Sequence[str],
    k: int,
    *,
    rules: RuleSet | None = None,
    weights: Mapping[str, float] | None = None,
    address: str | None = None,
    workers: int | None = None,
    shards: Path | str | None = None,
    progress: Progress | None = None,
) -> Iterator[tuple[str, list[Recommendation]]]:
    """(user_id, recommendations) for every user in the order given, computed by Ray actors.

    Same results as `Recommender.recommend_many` on the workspace's recommender; a generator, so an
    export streams to its file.

    Args:
        workspace: the workspace (read by the driver only).
        user_ids: customers to recommend for.
        k: products per customer.
        rules, weights: as for `Recommender.recommend`.
        address: Ray cluster address (None: a local cluster on this machine).
        workers: recommender actors (default: one per CPU of the cluster).
        shards: folder every node can read, for the user id shards (default `workspace/shards`).
        progress: `(fraction, message)` callback.
    """
    from recengine.recommend import Recommendation
    from recengine.recommend.workspace_model import recommender_for

    ray = import_ray()
    report = progress or no_progress
    report(0.0, "connecting to Ray")
    info = connect(address)
    model = recommender_for(workspace, progress=scaled(progress, 0.0, 0.1))
    model_ref = ray.put(model)
    root = Path(shards) if shards is not None else workspace.subdir(SHARDS_DIR)
    users_dir = root / "export-users"
    ids = [str(user_id) for user_id in user_ids]
    actors, resources = actor_options(info, workers, want_gpu=False)
    shard_count = write_row_shards(
        pa.table({"position": pa.array(range(len(ids)), pa.int64()), "user_id": pa.array(ids, pa.string())}),
        users_dir, rows_per_shard(len(ids), actors, USERS_PER_SHARD),
    )
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # the export is in the users file's order
    dataset = ray.data.read_parquet(str(users_dir), override_num_blocks=shard_count).map_batches(
        RecommendBatch,
        fn_constructor_kwargs={"model": [model_ref], "k": k, "rules": rules, "weights": weights},
        batch_size=BATCH_SIZE, batch_format="pandas", compute=actor_pool(ray, actors), **resources,
    )
    done = 0
    report(0.1, f"recommending for {len(ids):,} customers on {actors} actor(s)")
    for batch in dataset.iter_batches(batch_format="pandas", batch_size=None):
        for user_id, payload in zip(batch["user_id"], batch["payload"], strict=True):
            yield str(user_id), [Recommendation.from_dict(entry) for entry in json.loads(payload)]
        done += len(batch)
        report(0.1 + 0.9 * done / max(len(ids), 1), f"{done:,} of {len(ids):,} customers")
    report(1.0, f"{len(ids):,} customers")
