"""`recengine embed --engine ray`: encode what the cache lacks on a Ray cluster, then the usual steps.

The driver renders the texts (`recengine.embed.item_texts` / `review_texts`), looks their content keys up
in the workspace's embedding cache and writes only the missing (key, text) pairs as Parquet shards. A Ray
Data pipeline reads the shards, encodes them in `map_batches` with a pool of encoder actors (each loads
the model once; one GPU per actor when the cluster has GPUs) and writes (key, vector) shards. The driver
adds those vectors to the cache, and `recengine.embed.embed_workspace` then runs in-process as always:
every text is a cache hit, so it encodes nothing and only builds or updates the index. Vectors are those
of the same `load_encoder` the local path uses, so both engines give the same vectors.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from recengine.distributed.cluster import (
    ClusterInfo,
    actor_options,
    actor_pool,
    connect,
    import_ray,
    run_with_progress,
    start_counter,
    stopwatch,
)
from recengine.distributed.shards import (
    list_parquet,
    read_vector_files,
    rows_per_shard,
    vector_batch,
    write_row_shards,
)
from recengine.progress import Progress, no_progress, scaled

if TYPE_CHECKING:
    from recengine.embed import EmbedReport
    from recengine.workspace import Workspace

SHARDS_DIR = "shards"
TEXT_ROWS_PER_SHARD = 20_000
BATCH_SIZE = 256
ADD_CHUNK = 200_000


@dataclass(frozen=True)
class RayEncodeRun:
    """What the cluster encoded for one kind of text (all kinds share one pipeline and its seconds)."""

    kind: str
    texts: int
    unique_texts: int
    cache_hits: int
    encoded: int
    actors: int
    gpus_per_actor: int
    seconds: float

    @property
    def texts_per_second(self) -> float:
        return self.encoded / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class RayEmbedReport:
    """`embed_with_ray`'s result: the cluster passes and the in-process report that followed."""

    cluster: ClusterInfo
    runs: tuple[RayEncodeRun, ...]
    report: EmbedReport


class EncodeBatch:
    """Ray Data actor: loads the encoder once, then turns (key, text) batches into (key, vector)."""

    def __init__(self, settings: dict[str, Any], counter: Any = None) -> None:
        from recengine.config import EmbedSettings
        from recengine.embed import load_encoder

        self.encoder = load_encoder(EmbedSettings(**settings))
        self.counter = counter

    def __call__(self, batch: pa.Table) -> pa.Table:
        texts = batch.column("text").to_pylist()
        vectors = self.encoder.encode(texts)
        if self.counter is not None:
            self.counter.add.remote(len(texts))
        return pa.Table.from_batches([vector_batch(batch.column("key").to_pylist(), vectors)])


def encode_on_cluster(
    keys: Sequence[str],
    texts: Sequence[str],
    settings: dict[str, Any],
    work_dir: Path,
    *,
    info: ClusterInfo,
    workers: int | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    message: str = "encoding",
) -> tuple[list[str], Any, int, int]:
    """Encode `texts` on the cluster; return (keys, vectors, actors, gpus per actor), rows in any order.

    The texts travel as Parquet shards under `work_dir` (a path every node can read), and so do the
    vectors coming back.
    """
    ray = import_ray()
    text_dir, vector_dir = work_dir / "texts", work_dir / "vectors"
    shutil.rmtree(vector_dir, ignore_errors=True)
    want_gpu = str(settings.get("device", "auto")) in ("auto", "cuda") or str(settings.get("device", "")).startswith("cuda")
    actors, resources = actor_options(info, workers, want_gpu=want_gpu)
    shard_count = write_row_shards(
        pa.table({"key": list(keys), "text": list(texts)}), text_dir,
        rows_per_shard(len(keys), actors, TEXT_ROWS_PER_SHARD), compression="zstd",
    )
    counter = start_counter()
    # One block per shard: Ray Data would otherwise merge small files into one block for one actor.
    dataset = ray.data.read_parquet(str(text_dir), override_num_blocks=shard_count).map_batches(
        EncodeBatch,
        fn_constructor_kwargs={"settings": settings, "counter": counter},
        batch_size=batch_size,
        batch_format="pyarrow",
        compute=actor_pool(ray, actors),
        **resources,
    )
    run_with_progress(lambda: dataset.write_parquet(str(vector_dir)), counter, len(keys), progress, message)
    found_keys, vectors = read_vector_files(list_parquet(str(vector_dir)))
    ray.kill(counter)
    return found_keys, vectors, actors, int(resources.get("num_gpus", 0))


def embed_with_ray(
    workspace: Workspace,
    *,
    reviews: bool = False,
    address: str | None = None,
    workers: int | None = None,
    shards: Path | str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> RayEmbedReport:
    """Bring item (and optionally review) embeddings and the item index up to date, encoding on Ray.

    Args:
        workspace: the workspace.
        reviews: also embed review texts.
        address: Ray cluster address (None: start a local cluster on this machine).
        workers: encoder actors (default: one per GPU, else one per CPU of the cluster).
        shards: folder for the text and vector shards; every node must see it at the same path
            (default `workspace/shards`, right for a local cluster or a shared mount).
        batch_size: texts per `map_batches` call.
        progress: `(fraction, message)` callback; the CLI draws it on stderr, a job records events.
    """
    from recengine.embed import EmbeddingCache, embed_workspace, item_texts, resolve_model, review_texts
    from recengine.embed.cache import CacheLookup
    from recengine.embed.pipeline import EMBEDDINGS_DIR, bump_data_version

    report = progress or no_progress
    report(0.0, "connecting to Ray")
    info = connect(address)
    settings = workspace.settings.embed
    source = resolve_model(settings.model)
    cache = EmbeddingCache(workspace.subdir(EMBEDDINGS_DIR), source.fingerprint, source.dimension)
    root = Path(shards) if shards is not None else workspace.subdir(SHARDS_DIR)
    kinds = ["items", "reviews"] if reviews else ["items"]
    elapsed = stopwatch()
    counts: dict[str, tuple[int, int, int]] = {}
    missing: dict[str, str] = {}  # key -> text, over all kinds: one actor pool encodes them all
    for kind in kinds:
        _ids, texts = item_texts(workspace) if kind == "items" else review_texts(workspace)
        lookup = CacheLookup.of(cache, texts)
        missing.update(zip(lookup.missing_keys, lookup.missing_texts, strict=True))
        counts[kind] = (len(texts), len(lookup.unique_keys), len(lookup.missing_keys))
    actors = gpus = 0
    if missing:
        keys, vectors, actors, gpus = encode_on_cluster(
            list(missing), list(missing.values()), settings.model_dump(), root / "embed",
            info=info, workers=workers, batch_size=batch_size, progress=scaled(progress, 0.02, 0.8),
            message=f"encoding {' and '.join(kinds)}",
        )
        for start in range(0, len(keys), ADD_CHUNK):
            cache.add(keys[start:start + ADD_CHUNK], vectors[start:start + ADD_CHUNK])
        bump_data_version(workspace)
    seconds = elapsed()
    runs = [RayEncodeRun(kind, texts, unique_count, unique_count - encoded, encoded, actors, gpus, seconds)
            for kind, (texts, unique_count, encoded) in counts.items()]
    # The usual in-process pass: all cache hits now, so it only maintains the index and the records.
    local = embed_workspace(workspace, reviews=reviews, progress=scaled(progress, 0.82, 1.0))
    return RayEmbedReport(cluster=info, runs=tuple(runs), report=local)
