"""`recengine recommend --users-file F --engine ray`: the batch export spread over Ray actors.

The driver writes a snapshot of everything `Recommender.fit` takes (catalog, interactions, anonymous
ratings, review sentiment, item keywords, item vectors, the saved item index, the recommend settings) as
Parquet and FAISS files under a shared path, and the user ids as Parquet shards. Each `RecommendBatch`
actor fits the Recommender once from the snapshot (no database) and runs the same
`Recommender.recommend` the in-process export calls, per batch of users. Results stream back to the
driver in input order, so the CLI writes the same file either way.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from recengine.distributed.cluster import actor_options, actor_pool, connect, import_ray
from recengine.distributed.shards import vector_batch, vectors_of
from recengine.progress import Progress, no_progress, scaled

if TYPE_CHECKING:
    from recengine.recommend import Recommendation, Recommender, RuleSet
    from recengine.workspace import Workspace

SHARDS_DIR = "shards"
USERS_PER_SHARD = 50_000
BATCH_SIZE = 200
INDEX_NAME = "items"
_FRAMES = ("items", "interactions", "anonymous_ratings", "sentiment")


@dataclass(frozen=True)
class RecommenderSnapshot:
    """Where a snapshot of the recommender's inputs lies, and what it holds."""

    root: str
    items: int
    interactions: int
    has_vectors: bool
    has_index: bool


def export_recommender_inputs(workspace: Workspace, root: Path, *, progress: Progress | None = None) -> RecommenderSnapshot:
    """Write what `fit_workspace` would fit on as files under `root` (replacing an earlier snapshot).

    The inputs are gathered by the same helpers `recengine.recommend.workspace_model.fit_workspace`
    uses, so a Recommender fitted from the snapshot equals the one fitted in-process.
    """
    from recengine.recommend.interactions import anonymous_ratings, workspace_interactions
    from recengine.recommend.workspace_model import _embeddings, _text_results

    settings = workspace.settings.recommend
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    items = workspace.items()
    vectors, index, _encode = _embeddings(workspace, scaled(progress, 0.0, 0.8), True, len(items), settings)
    keywords, sentiment = _text_results(workspace)
    frames = {
        "items": items,
        "interactions": workspace_interactions(workspace),
        "anonymous_ratings": anonymous_ratings(workspace),
        "sentiment": sentiment,
    }
    for name, frame in frames.items():
        if frame is not None:
            frame.to_parquet(root / f"{name}.parquet", index=False)
    keyword_table = pa.table({"item_id": pa.array(list(keywords), pa.string()),
                              "keywords": pa.array([list(values) for values in keywords.values()], pa.list_(pa.string()))})
    pq.write_table(keyword_table, root / "keywords.parquet")
    if vectors is not None:
        batch = vector_batch(list(vectors.item_ids), np.asarray(vectors.vectors))
        table = pa.Table.from_batches([batch]).replace_schema_metadata({"fingerprint": str(vectors.fingerprint)})
        pq.write_table(table, root / "vectors.parquet")
    if index is not None:
        from recengine.index import save_index

        save_index(index, root, INDEX_NAME)
    (root / "settings.json").write_text(settings.model_dump_json(), encoding="utf-8")
    return RecommenderSnapshot(str(root), len(items), len(frames["interactions"]), vectors is not None, index is not None)


@dataclass(frozen=True, eq=False)
class _Vectors:
    item_ids: list[str]
    vectors: np.ndarray
    fingerprint: str


def load_recommender(root: Path | str) -> Recommender:
    """Fit a Recommender from a snapshot written by `export_recommender_inputs` (pyarrow + faiss only)."""
    from recengine.config import RecommendSettings
    from recengine.recommend import Recommender

    root = Path(root)
    frames = {name: pd.read_parquet(root / f"{name}.parquet") if (root / f"{name}.parquet").exists() else None
              for name in _FRAMES}
    keyword_table = pq.read_table(root / "keywords.parquet")
    keywords = dict(zip(keyword_table.column("item_id").to_pylist(), keyword_table.column("keywords").to_pylist(),
                        strict=True))
    vectors = None
    if (root / "vectors.parquet").exists():
        table = pq.read_table(root / "vectors.parquet")
        fingerprint = (table.schema.metadata or {}).get(b"fingerprint", b"").decode("utf-8")
        vectors = _Vectors(table.column("key").to_pylist(), vectors_of(table), fingerprint)
    index = None
    if (root / f"{INDEX_NAME}.json").exists():
        from recengine.index import load_index

        index = load_index(root, INDEX_NAME)
    settings = RecommendSettings.model_validate_json((root / "settings.json").read_text(encoding="utf-8"))
    return Recommender.fit(
        frames["items"],  # type: ignore[arg-type]
        frames["interactions"],  # type: ignore[arg-type]
        vectors,
        settings,
        keywords=keywords,
        sentiment=frames["sentiment"],
        anonymous_ratings=frames["anonymous_ratings"],
        item_index=index,
    )


class RecommendBatch:
    """Ray Data actor: fits the Recommender once from the snapshot, then recommends per user batch."""

    def __init__(self, snapshot: str, k: int, rules: RuleSet | None, weights: Mapping[str, float] | None) -> None:
        self.model = load_recommender(snapshot)
        self.k, self.rules, self.weights = k, rules, dict(weights) if weights else None

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        # JSON, not pickle: results may spill to the object store's disk, and nothing pickled is loaded.
        payloads = [
            json.dumps([recommendation.to_dict() for recommendation in
                        self.model.recommend(str(user_id), self.k, rules=self.rules, weights=self.weights)])
            for user_id in batch["user_id"]
        ]
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
        workers: recommender actors (default: one per CPU of the cluster); each holds one fitted model.
        shards: folder every node can read (default `workspace/shards`).
        progress: `(fraction, message)` callback.
    """
    from recengine.recommend import Recommendation

    ray = import_ray()
    report = progress or no_progress
    report(0.0, "connecting to Ray")
    info = connect(address)
    root = Path(shards) if shards is not None else workspace.subdir(SHARDS_DIR)
    snapshot = export_recommender_inputs(workspace, root / "recommender", progress=scaled(progress, 0.0, 0.1))
    users_dir = root / "export-users"
    shutil.rmtree(users_dir, ignore_errors=True)
    users_dir.mkdir(parents=True)
    ids = [str(user_id) for user_id in user_ids]
    actors, resources = actor_options(info, workers, want_gpu=False)
    rows = max(1, min(USERS_PER_SHARD, -(-len(ids) // (2 * actors))))  # two shards or more per actor
    for number, start in enumerate(range(0, max(len(ids), 1), rows)):
        chunk = ids[start:start + rows]
        pq.write_table(pa.table({"position": pa.array(range(start, start + len(chunk)), pa.int64()),
                                 "user_id": pa.array(chunk, pa.string())}), users_dir / f"part-{number:05d}.parquet")
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # the export is in the users file's order
    shard_count = len(list(users_dir.glob("*.parquet")))
    dataset = ray.data.read_parquet(str(users_dir), override_num_blocks=shard_count).map_batches(
        RecommendBatch,
        fn_constructor_kwargs={"snapshot": snapshot.root, "k": k, "rules": rules, "weights": weights},
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


def snapshot_summary(root: Path) -> dict[str, Any]:
    """Sizes of a snapshot's files (for the docs and debugging)."""
    return {path.name: path.stat().st_size for path in sorted(Path(root).iterdir()) if path.is_file()} | {
        "settings": json.loads((Path(root) / "settings.json").read_text(encoding="utf-8"))
    }
