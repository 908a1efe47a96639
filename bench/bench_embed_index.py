"""Benchmark: embedding pipeline and FAISS search, side by side with bare baselines, in one run.

1. Pipeline overhead: `recengine` embedding of N product texts through the workspace cache (cold) vs a
   bare `SentenceTransformer.encode` of the same texts, same model, precision and batch size
   (target <= 1.10x). The bare run is done before and after, and the ratio taken against their mean.
2. Warm cache: the second pipeline run of the same texts (fresh-process state: in-memory memo cleared)
   vs the cold run (target >= 50x faster).
3. bf16 vs fp32 on CPU: throughput, mean cosine and top-10 neighbour overlap.
4. Search at 100k and 1M 384-d vectors on a clustered synthetic set: exact (Flat) vs IVF vs HNSW through
   `recengine.index.ItemIndex`: build time, single-query p50/p95, batch throughput, recall@10 against
   exact, and filtered search (exclude 100 ids / restrict to 1% of items) (target p95 < 1 ms at 1M with
   recall@10 >= 0.98).
5. Peak resident memory of each step (sampled every 10 ms).

Run: `.venv/bin/python bench/bench_embed_index.py` (about 10 minutes on 2 cores). Writes its block into
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.report import BENCHMARKS, stamp, write_section  # noqa: E402

BUNDLED = "bundled:all-MiniLM-L6-v2"
DIMENSION = 384

# -- memory -----------------------------------------------------------------------------------------------


def _rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakMemory:
    """Peak resident memory while a step runs (a sampling thread; RSS, not only Python objects)."""

    def __init__(self) -> None:
        self.peak = 0
        self.start = 0

    @contextmanager
    def measure(self) -> Iterator[PeakMemory]:
        gc.collect()
        self.start = self.peak = _rss_bytes()
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                self.peak = max(self.peak, _rss_bytes())
                stop.wait(0.01)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()
            self.peak = max(self.peak, _rss_bytes())

    def text(self) -> str:
        return f"{self.peak / 2**30:.2f} GB (+{(self.peak - self.start) / 2**30:.2f})"


MEMORY: dict[str, str] = {}


@contextmanager
def step(name: str) -> Iterator[None]:
    meter = PeakMemory()
    started = time.perf_counter()
    with meter.measure():
        yield
    MEMORY[name] = meter.text()
    print(f"  {name}: {time.perf_counter() - started:.1f} s, peak RSS {meter.text()}", flush=True)


# -- texts ---------------------------------------------------------------------------------------------

ADJECTIVES = ("wireless lightweight waterproof stainless ergonomic compact premium vintage organic "
              "adjustable rechargeable foldable insulated durable breathable heavy-duty portable").split()
NOUNS = ("headphones kettle backpack jacket lamp blender chair tent watch speaker mattress drill "
         "sneakers skillet monitor keyboard bottle umbrella stroller vacuum").split()
BRANDS = "Acme Northwind Contoso Globex Initech Umbrella Stark Wayne Hooli Vandelay".split()
CATEGORIES = ["Electronics > Audio", "Home > Kitchen", "Outdoor > Camping", "Fashion > Outerwear",
              "Home > Lighting", "Sports > Running", "Office > Furniture", "Baby > Travel", "Tools > Power"]
FILLER = ("designed for everyday use with a sleek finish and reliable performance that customers love "
          "easy to clean and built to last through years of travel work and weekend adventures with "
          "a two year warranty free returns and a carrying case included in the box for extra value").split()


def product_rows(count: int, seed: int = 3) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    rows = []
    for number in range(count):
        adjectives = rng.choice(ADJECTIVES, 2, replace=False)
        noun = rng.choice(NOUNS)
        words = rng.choice(FILLER, int(rng.integers(22, 36)))
        rows.append({
            "item_id": f"B{number:06d}",
            "title": f"{adjectives[0].title()} {adjectives[1]} {noun} {number % 97}",
            "brand": str(rng.choice(BRANDS)),
            "category": str(rng.choice(CATEGORIES)),
            "description": f"This {adjectives[0]} {noun} is " + " ".join(words) + ".",
            "price": float(rng.integers(5, 500)),
        })
    return rows


def insert_items(workspace: object, rows: list[dict[str, object]]) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows)
    frame["in_stock"] = True
    frame["image_url"] = None
    frame["attributes"] = "{}"
    frame["is_placeholder"] = False
    frame["row_hash"] = frame["item_id"]
    frame["batch_id"] = 1
    frame["updated_at"] = pd.Timestamp("2026-01-01")
    with workspace.store.transaction() as connection:  # type: ignore[attr-defined]
        connection.register("new_items", frame)
        connection.execute(
            "INSERT INTO items (item_id, title, description, brand, category, price, in_stock, image_url, "
            "attributes, is_placeholder, row_hash, batch_id, updated_at) SELECT item_id, title, description, "
            "brand, category, price, in_stock, image_url, attributes, is_placeholder, row_hash, batch_id, "
            "updated_at FROM new_items"
        )


def neighbour_overlap(first: np.ndarray, second: np.ndarray, k: int = 10) -> float:
    """Mean share of each text's k nearest other texts that two embeddings agree on."""
    def neighbours(vectors: np.ndarray) -> np.ndarray:
        similarity = vectors @ vectors.T
        np.fill_diagonal(similarity, -np.inf)
        return np.argpartition(-similarity, k, axis=1)[:, :k]

    a, b = neighbours(first), neighbours(second)
    return float(np.mean([len(np.intersect1d(x, y)) / k for x, y in zip(a, b, strict=True)]))


# -- encoder benchmarks ------------------------------------------------------------------------------------


def bench_encoder(count: int, fp32_count: int) -> dict[str, object]:
    import torch
    from sentence_transformers import SentenceTransformer

    from recengine.embed import cache as cache_module
    from recengine.embed import item_texts, item_vectors, last_runs, load_encoder, pipeline, resolve_model
    from recengine.embed.encoder import encoder_runtime
    from recengine.workspace import Workspace

    os.environ["RECENGINE_EMBED__MODEL"] = BUNDLED
    results: dict[str, object] = {}
    folder = Path(tempfile.mkdtemp(prefix="bench-embed-"))
    workspace = Workspace.open(folder / "ws")
    insert_items(workspace, product_rows(count))
    _ids, texts = item_texts(workspace)
    settings = workspace.settings.embed
    runtime = encoder_runtime(settings)
    results["device"], results["precision"] = runtime.device, runtime.precision
    results["reduced_precision"] = runtime.precision
    results["batch_size"] = settings.batch_size
    results["torch_threads"] = torch.get_num_threads()
    results["texts"] = len(texts)
    results["mean_chars"] = float(np.mean([len(text) for text in texts]))
    source = resolve_model(BUNDLED)
    # The pipeline's one-time work outside the timed run: model load and the per-workspace precision
    # check (reduced precision vs fp32 on 128 texts: agreement and speed, recorded once per workspace).
    with step("pipeline: load + one-time precision check"):
        started = time.perf_counter()
        pipeline._encoder(workspace, texts)
        results["precision_check_s"] = time.perf_counter() - started
        record = pipeline.read_precision_record(workspace, source.fingerprint)
        results["precision_record"] = record
        decided = str((record or {}).get("decision") or runtime.precision)
        load_encoder(settings, precision=decided).encode(texts[:128])  # warm-up
    # The bare baseline runs in the precision the pipeline decided on, so that only the pipeline differs.
    results["precision"] = decided
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(decided)
    print(f"encoder: {len(texts)} texts, {runtime.device} {decided}", flush=True)

    bare = SentenceTransformer(str(source.path), device=runtime.device, local_files_only=True,
                               model_kwargs={"dtype": dtype} if dtype else None)
    bare.max_seq_length = settings.max_seq_length
    results["mean_tokens"] = float(np.mean([len(bare.tokenizer(text)["input_ids"]) for text in texts[:500]]))
    bare.encode(texts[:128], batch_size=settings.batch_size)  # warm-up

    def bare_run() -> tuple[float, np.ndarray]:
        started = time.perf_counter()
        vectors = bare.encode(texts, batch_size=settings.batch_size, normalize_embeddings=True,
                              convert_to_numpy=True, show_progress_bar=False)
        return time.perf_counter() - started, vectors

    with step("bare SentenceTransformer.encode #1"):
        bare_first, bare_vectors = bare_run()

    with step("pipeline cold (cache empty)"):
        started = time.perf_counter()
        cold = item_vectors(workspace)
        cold_s = time.perf_counter() - started
    assert last_runs(workspace)["items"].encoded == len(set(texts))

    with step("bare SentenceTransformer.encode #2"):
        bare_second, _unused = bare_run()

    cache_module._MEMO.clear()  # as a new process would find it
    with step("pipeline warm (all cached, fresh process state)"):
        started = time.perf_counter()
        warm = item_vectors(workspace)
        warm_s = time.perf_counter() - started
    started = time.perf_counter()
    item_vectors(workspace)
    warm_memo_s = time.perf_counter() - started
    assert np.array_equal(cold.vectors, warm.vectors)
    bare_mean = (bare_first + bare_second) / 2
    results.update(
        bare_s=[round(bare_first, 2), round(bare_second, 2)], bare_mean_s=round(bare_mean, 2),
        cold_s=round(cold_s, 2), overhead=round(cold_s / bare_mean, 3),
        warm_s=round(warm_s, 4), warm_memo_s=round(warm_memo_s, 4), warm_speedup=round(cold_s / warm_s, 1),
        bare_per_s=round(len(texts) / bare_mean, 1), pipeline_per_s=round(len(texts) / cold_s, 1),
        pipeline_vs_bare_cosine=float(np.mean(np.sum(cold.vectors * bare_vectors / np.linalg.norm(
            bare_vectors, axis=1, keepdims=True), axis=1))),
    )
    cache_entries = len(cache_module.EmbeddingCache(folder / "ws" / "embeddings", source.fingerprint))
    results["cache_entries"] = cache_entries
    results["cache_bytes"] = sum(path.stat().st_size for path in (folder / "ws" / "embeddings").rglob("*.parquet"))

    # bf16 vs fp32 on the same subset (throughput and agreement).
    subset = texts[:fp32_count]
    if runtime.precision != "fp32":
        if decided != runtime.precision:
            bare = SentenceTransformer(str(source.path), device=runtime.device, local_files_only=True,
                                       model_kwargs={"dtype": {"bf16": torch.bfloat16, "fp16": torch.float16}[runtime.precision]})
            bare.max_seq_length = settings.max_seq_length
            bare.encode(subset[:64], batch_size=settings.batch_size)
        reference = SentenceTransformer(str(source.path), device=runtime.device, local_files_only=True)
        reference.max_seq_length = settings.max_seq_length
        reference.encode(subset[:64], batch_size=settings.batch_size)
        with step(f"fp32 encode of {len(subset)} texts"):
            started = time.perf_counter()
            fp32 = reference.encode(subset, batch_size=settings.batch_size, normalize_embeddings=True,
                                    show_progress_bar=False)
            fp32_s = time.perf_counter() - started
        with step(f"{runtime.precision} encode of {len(subset)} texts"):
            started = time.perf_counter()
            reduced = bare.encode(subset, batch_size=settings.batch_size, normalize_embeddings=True,
                                  show_progress_bar=False).astype(np.float32)
            reduced_s = time.perf_counter() - started
        reduced /= np.linalg.norm(reduced, axis=1, keepdims=True)
        results["fp32_per_s"] = round(len(subset) / fp32_s, 1)
        results["reduced_per_s"] = round(len(subset) / reduced_s, 1)
        results["reduced_speedup"] = round(fp32_s / reduced_s, 2)
        results["agreement_mean_cosine"] = round(float(np.mean(np.sum(fp32 * reduced, axis=1))), 5)
        results["agreement_top10_overlap"] = round(neighbour_overlap(fp32, reduced), 4)
        results["agreement_texts"] = len(subset)
        del reference
    return results


# -- search benchmarks -------------------------------------------------------------------------------------


def clustered(count: int, queries: int, clusters: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around `clusters` random centres (noise 0.6 per dimension), plus held-out queries."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIMENSION), dtype=np.float32)
    total = count + queries
    data = np.empty((total, DIMENSION), dtype=np.float32)
    for start in range(0, total, 100_000):
        stop = min(start + 100_000, total)
        block = centres[rng.integers(0, clusters, stop - start)]
        block += 0.6 * rng.standard_normal(block.shape, dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        data[start:stop] = block
    return data[:count], data[count:]


def latencies(search: Callable[[np.ndarray], object], queries: np.ndarray) -> tuple[float, float]:
    times = []
    for row in range(len(queries)):
        started = time.perf_counter()
        search(queries[row:row + 1])
        times.append(time.perf_counter() - started)
    return float(np.percentile(times, 50) * 1000), float(np.percentile(times, 95) * 1000)


def recall(found: list[list[tuple[str, float]]], truth: list[list[tuple[str, float]]], k: int = 10) -> float:
    return float(np.mean([len({a for a, _ in f[:k]} & {t for t, _ in g[:k]}) / k for f, g in zip(found, truth, strict=True)]))


def bench_search(size: int, hnsw_budget_s: float, single_queries: int, batch_queries: int) -> dict[str, object]:
    from recengine.config import IndexSettings
    from recengine.index import ItemIndex, choose_factory, nlist_for

    print(f"search at {size:,} vectors", flush=True)
    rows: dict[str, object] = {"size": size}
    with step(f"{size:,}: generate clustered data"):
        vectors, queries = clustered(size, batch_queries, clusters=max(100, size // 1000), seed=11)
        item_ids = [f"I{number:07d}" for number in range(size)]
    settings = IndexSettings()
    ivf_factory = settings.approximate_factory.format(nlist=nlist_for(size))
    rows["default_factory"] = choose_factory(size, settings)
    results: dict[str, dict[str, object]] = {}
    truth = None
    category = set(item_ids[::100])  # a 1% "category"
    excluded = item_ids[:100]

    def measure(name: str, factory: str, **kwargs: object) -> None:
        nonlocal truth
        with step(f"{size:,}: build {factory}"):
            started = time.perf_counter()
            index = ItemIndex.build(item_ids, vectors, factory=factory, fingerprint="bench", **kwargs)
            build_s = time.perf_counter() - started
        memory = MEMORY[f"{size:,}: build {factory}"]
        per = single_queries if factory != "Flat" or size < 500_000 else max(20, single_queries // 5)
        p50, p95 = latencies(lambda query: index.search(query, 10), queries[:per])
        started = time.perf_counter()
        found = index.search(queries, 10)
        batch_s = time.perf_counter() - started
        if truth is None:
            truth = found
        f50, f95 = latencies(lambda query: index.search(query, 10, exclude=excluded), queries[:per])
        r50, r95 = latencies(lambda query: index.search(query, 10, restrict_to=category), queries[: max(20, per // 2)])
        results[name] = {
            "factory": factory, "build_s": round(build_s, 1), "p50_ms": round(p50, 3), "p95_ms": round(p95, 3),
            "batch_qps": round(len(queries) / batch_s, 0), "recall10": round(recall(found, truth), 4),
            "exclude_p50_ms": round(f50, 3), "restrict_p50_ms": round(r50, 3), "restrict_p95_ms": round(r95, 3),
            "peak_memory": memory,
        }
        print(f"    {name}: {results[name]}", flush=True)

    measure("exact", "Flat")
    measure("ivf", ivf_factory, nprobe=settings.nprobe)
    # HNSW build time grows a little faster than n; skip it where it would not fit the time budget.
    estimate = None
    previous = BUILD_TIMES.get("hnsw")
    if previous is not None:
        estimate = previous[1] * (size / previous[0]) * 1.15
    if estimate is not None and estimate > hnsw_budget_s:
        results["hnsw"] = {"factory": "HNSW32", "skipped": f"estimated build {estimate:.0f} s > budget {hnsw_budget_s:.0f} s"}
        print(f"    hnsw skipped: {results['hnsw']['skipped']}", flush=True)
    else:
        measure("hnsw", "HNSW32", ef_search=128)
        BUILD_TIMES["hnsw"] = (size, float(results["hnsw"]["build_s"]))  # type: ignore[arg-type]
    rows["indexes"] = results
    return rows


BUILD_TIMES: dict[str, tuple[int, float]] = {}


# -- report --------------------------------------------------------------------------------------------------


def markdown(encoder: dict[str, object] | None, searches: list[dict[str, object]], started: float) -> str:
    import torch

    from recengine.runtime import cpu_supports_bf16

    lines = [
        "## Embeddings and vector search (`bench/bench_embed_index.py`)",
        "",
        stamp(),
        f"torch {torch.__version__}, {torch.get_num_threads()} torch threads; CPU native bf16: "
        f"{'yes' if cpu_supports_bf16() else 'no'}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}. "
        f"Load average at start {LOAD_AT_START}, at end {os.getloadavg()[0]:.1f} (the machine is shared by "
        "several jobs: absolute figures are noisy, the ratios compare runs taken side by side).",
        f"Whole run {time.time() - started:.0f} s. Command: `.venv/bin/python bench/bench_embed_index.py`.",
        "",
        "**GPU: not measured** - no GPU device was available to this session (faiss-cpu; torch CPU build). "
        "On CUDA the encoder runs fp16 and faiss uses the GPU for unfiltered search when faiss-gpu is installed.",
        "",
    ]
    if encoder:
        record = encoder.get("precision_record") or {}
        lines += [
            f"### Encoder: {encoder['texts']:,} product texts, MiniLM-L6-v2 ({encoder['device']}, "
            f"{encoder['precision']}, batch {encoder['batch_size']})",
            "",
            f"Texts: generated products (title. brand. category. description), mean {encoder['mean_chars']:.0f} "
            f"characters, {encoder['mean_tokens']:.0f} tokens.",
            "",
            "| measurement | value | target |",
            "|---|---|---|",
            f"| bare `SentenceTransformer.encode` (runs before/after) | {encoder['bare_s'][0]} s / {encoder['bare_s'][1]} s "
            f"({encoder['bare_per_s']} texts/s) | |",
            f"| recengine `item_vectors`, cold cache | {encoder['cold_s']} s ({encoder['pipeline_per_s']} texts/s) | |",
            f"| **pipeline overhead** (cold / mean bare) | **{encoder['overhead']:.3f}x** | <= 1.10x |",
            f"| spread between the two identical bare runs | {_spread(encoder['bare_s']):.1%} | |",
            f"| pipeline work besides encoding (= the warm run) as a share of the cold run | "
            f"{encoder['warm_s'] / encoder['cold_s']:.2%} | |",
            f"| recengine `item_vectors`, warm cache (fresh process state) | {encoder['warm_s'] * 1000:.0f} ms | |",
            f"| **warm speed-up** (cold / warm) | **{encoder['warm_speedup']:.0f}x** | >= 50x |",
            f"| warm, in-process memo kept (dashboard case) | {encoder['warm_memo_s'] * 1000:.0f} ms | |",
            f"| one-time per workspace: model load + precision check (128 texts, both precisions) | "
            f"{encoder['precision_check_s']:.1f} s | |",
            f"| cache size | {encoder['cache_entries']:,} vectors, {encoder['cache_bytes'] / 2**20:.1f} MiB Parquet | |",
            "",
        ]
        if "fp32_per_s" in encoder:
            lines += [
                f"**{encoder['reduced_precision']} vs fp32** ({encoder['agreement_texts']:,} texts, same batches): "
                f"fp32 {encoder['fp32_per_s']} texts/s, {encoder['reduced_precision']} {encoder['reduced_per_s']} texts/s "
                f"(**{encoder['reduced_speedup']}x**); agreement mean cosine **{encoder['agreement_mean_cosine']:.4f}**, "
                f"top-10 neighbour overlap **{encoder['agreement_top10_overlap']:.3f}**. The pipeline's own check "
                f"on this workspace: mean cosine {record.get('mean_cosine')}, top-10 overlap {record.get('top10_overlap')} "
                f"on {record.get('sample_size')} texts -> uses {record.get('decision')} (fp32 when agreement is below 0.99 / 0.90 or the reduced precision "
                f"was not faster: {record.get('seconds')} s vs fp32 {record.get('fp32_seconds')} s on that sample).",
                "",
            ]
    for search in searches:
        lines += [
            f"### Search: {search['size']:,} vectors, 384-d, k=10 (default factory at this size: "
            f"`{search['default_factory']}`)",
            "",
            "Clustered synthetic set (unit vectors around n/1000 random centres, Gaussian noise 0.6 per "
            "dimension); held-out queries from the same clusters; recall@10 against the exact index.",
            "",
            "| index | build | p50 | p95 | batch | recall@10 | exclude 100 ids p50 | restrict to 1% p50 / p95 | peak RSS (build) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, row in search["indexes"].items():  # type: ignore[union-attr]
            if "skipped" in row:
                lines.append(f"| {name} `{row['factory']}` | skipped: {row['skipped']} | | | | | | | |")
                continue
            lines.append(
                f"| {name} `{row['factory']}` | {row['build_s']} s | {row['p50_ms']:.2f} ms | {row['p95_ms']:.2f} ms | "
                f"{row['batch_qps']:,.0f} q/s | {row['recall10']:.4f} | {row['exclude_p50_ms']:.2f} ms | "
                f"{row['restrict_p50_ms']:.2f} / {row['restrict_p95_ms']:.2f} ms | {row['peak_memory']} |"
            )
        lines.append("")
    lines += ["### Peak resident memory per step", "", "| step | peak RSS (+ growth during the step) |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in MEMORY.items()]
    return "\n".join(lines)


LOAD_AT_START = ""


def _spread(times: object) -> float:
    first, second = times  # type: ignore[misc]
    return abs(first - second) / min(first, second)


def main() -> None:
    global LOAD_AT_START
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=5_000)
    parser.add_argument("--fp32-texts", type=int, default=2_000)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--single-queries", type=int, default=200)
    parser.add_argument("--batch-queries", type=int, default=1_000)
    parser.add_argument("--hnsw-budget-s", type=float, default=120.0)
    parser.add_argument("--skip-encoder", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="Print the report without writing docs.")
    arguments = parser.parse_args()
    LOAD_AT_START = f"{os.getloadavg()[0]:.1f}"
    started = time.time()
    encoder = None if arguments.skip_encoder else bench_encoder(arguments.texts, arguments.fp32_texts)
    if encoder:
        print(json.dumps(encoder, indent=1, default=str), flush=True)
    searches = [
        bench_search(int(size), arguments.hnsw_budget_s, arguments.single_queries, arguments.batch_queries)
        for size in arguments.sizes.split(",") if size
    ]
    report = markdown(encoder, searches, started)
    print(report)
    if not arguments.no_write:
        write_section(BENCHMARKS, "embed-index", report)
        print(f"wrote the embed-index block of {BENCHMARKS}")


if __name__ == "__main__":
    main()
