"""Throughput of `--engine ray` encoding with 1 and 2 Ray workers (actors), next to in-process encoding.

    .venv/bin/python -m bench.bench_ray                      # fake encoder, 6,000 demo review texts
    .venv/bin/python -m bench.bench_ray --real --texts 600   # the real MiniLM encoder on CPU
    .venv/bin/python -m bench.bench_ray --index              # IVF recall at 100k synthetic vectors

Texts are review texts of the generated demo shop. Each Ray run is one `encode_on_cluster` call, the
pipeline `embed --engine ray` runs: shards written, actors started (each loads the encoder), texts
encoded, vector shards written and read back; its wall time includes actor start-up, which is what a
user waits for. The local Ray is started with 3 logical CPUs so that two actors and Ray Data's read and
write tasks can be scheduled at once on this 2-core machine (see recengine.distributed.cluster).
Prints a Markdown table and writes bench/out/ray.json; docs/SCALING.md quotes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def demo_texts(count: int) -> list[str]:
    from recengine.demo.generate import generate_demo
    from recengine.text.sentences import review_text

    reviews = generate_demo(seed=7, size="standard").reviews
    texts = [review_text(title, text) for title, text in zip(reviews["title"], reviews["text"], strict=True)]
    while len(texts) < count:  # more than the demo holds: repeat with a suffix so the keys differ
        texts += [f"{text} ({len(texts) + position})" for position, text in enumerate(texts[: count - len(texts)])]
    return texts[:count]


def bench_encoding(texts: list[str], model: str, workers: list[int], batch_size: int) -> list[dict[str, object]]:
    from recengine.config import EmbedSettings
    from recengine.distributed.cluster import connect
    from recengine.distributed.embed import encode_on_cluster
    from recengine.embed import load_encoder, text_key

    settings = EmbedSettings(model=model, device="cpu") if model else EmbedSettings(device="cpu")
    rows: list[dict[str, object]] = []
    started = time.perf_counter()
    encoder = load_encoder(settings)
    loaded = time.perf_counter() - started
    encoder.encode(texts[:8])
    started = time.perf_counter()
    local_vectors = encoder.encode(texts)
    seconds = time.perf_counter() - started
    rows.append({"engine": "local (in-process)", "workers": 1, "texts": len(texts), "seconds": round(seconds, 2),
                 "texts_per_s": round(len(texts) / seconds, 1), "model_load_s": round(loaded, 2)})
    print(rows[-1], flush=True)
    started = time.perf_counter()
    info = connect(num_cpus=3)
    ray_start = time.perf_counter() - started
    keys = [text_key(text) for text in texts]
    for count in workers:
        with tempfile.TemporaryDirectory(prefix="bench-ray-") as folder:
            started = time.perf_counter()
            found, vectors, actors, _gpus = encode_on_cluster(
                keys, texts, settings.model_dump(), Path(folder), info=info, workers=count, batch_size=batch_size
            )
            seconds = time.perf_counter() - started
        order = {key: row for row, key in enumerate(found)}
        aligned = vectors[[order[key] for key in keys]]
        rows.append({"engine": "ray", "workers": actors, "texts": len(texts), "seconds": round(seconds, 2),
                     "texts_per_s": round(len(texts) / seconds, 1), "ray_start_s": round(ray_start, 2),
                     "max_abs_diff_vs_local": float(np.abs(aligned - local_vectors).max())})
        print(rows[-1], flush=True)
    return rows


DEFAULT_FACTORIES = ("IVF{nlist},Flat:16", "IVF{nlist},SQ8:16", "IVF{nlist},PQ48:16", "IVF{nlist},PQ48:64")


def bench_index(count: int, dimension: int, factories: Sequence[str] = DEFAULT_FACTORIES) -> list[dict[str, object]]:
    """Recall@10 and build time of IVF factories on clustered synthetic unit vectors (stand-ins)."""
    from recengine.index.scale import ShardedIVF, estimate_memory, exact_search, recall_at_k

    random = np.random.default_rng(0)
    centres = random.normal(size=(500, dimension))
    vectors = centres[random.integers(0, 500, count)] + 0.8 * random.normal(size=(count, dimension))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    ids = [str(row) for row in range(count)]
    queries = vectors[random.choice(count, 200, replace=False)] + 0.05 * random.normal(size=(200, dimension)).astype(np.float32)
    truth = exact_search(ids, vectors, queries, 10)
    rows = []
    for spec in factories:
        factory, _, probes = spec.rpartition(":")
        nprobe = int(probes)
        from recengine.index.factory import nlist_for

        filled = factory.format(nlist=nlist_for(count))
        started = time.perf_counter()
        index = ShardedIVF.train(vectors[random.choice(count, min(count, 40 * nlist_for(count)), replace=False)], filled, nprobe=nprobe)
        for start in range(0, count, 25_000):  # "shard by shard"
            index.add(ids[start:start + 25_000], vectors[start:start + 25_000])
        built = time.perf_counter() - started
        recall = recall_at_k(index.search(queries, 10), truth, 10)
        at_10m = estimate_memory(factory, 10_000_000, dimension)
        rows.append({"factory": filled, "nprobe": nprobe, "vectors": count, "build_s": round(built, 1),
                     "recall_at_10": round(recall, 3), "memory_at_10M_gib": round(at_10m.gib, 2),
                     "factory_at_10M": at_10m.factory})
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=6000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--real", action="store_true", help="The real default encoder (MiniLM) instead of the fake.")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--index", action="store_true", help="Only the IVF recall/memory part.")
    parser.add_argument("--index-vectors", type=int, default=100_000)
    parser.add_argument("--factories", nargs="+", default=list(DEFAULT_FACTORIES),
                        help="FACTORY:NPROBE pairs for --index ({nlist} is filled from the vector count).")
    parser.add_argument("--out", type=Path, default=Path("bench/out/ray.json"))
    arguments = parser.parse_args()
    os.environ.setdefault("RECENGINE_EMBED__DEVICE", "cpu")
    result: dict[str, object] = {"load_average": os.getloadavg(), "cores": os.cpu_count()}
    if arguments.index:
        result["index"] = bench_index(arguments.index_vectors, 384, arguments.factories)
    else:
        model = "" if arguments.real else "fake:384"
        result["encoding"] = bench_encoding(demo_texts(arguments.texts), model, arguments.workers, arguments.batch_size)
        result["model"] = "default (all-MiniLM-L6-v2)" if arguments.real else "fake:384"
    result["load_average_after"] = os.getloadavg()
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(arguments.out.read_text()) if arguments.out.exists() else {}
    key = "index" if arguments.index else ("real" if arguments.real else "fake")
    previous[key] = result
    arguments.out.write_text(json.dumps(previous, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
