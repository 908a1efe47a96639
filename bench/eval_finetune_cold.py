"""New products found by the encoder fine-tuned on customers' choices; blocks of docs/EVALUATION.md and BENCHMARKS.md.

    nice -n 5 .venv/bin/python -m bench.eval_finetune_cold [--dataset magazine_ratings] [--seeds 0 1]
        [--set NAME=VALUE]... [--resamples 1000] [--no-write]

For each seed:
1. The cold-start split of `recengine.evaluate.cold_start` (20% of the products with interactions made
   new: every interaction with them leaves training; test customers liked a new product and another).
2. The interaction objective (`recengine.train.interaction_finetune`, beeFormer's loss) trains the
   bundled MiniLM on the liked training histories, with the new products excluded (asserted: none is
   in any history or batch), validation customers taken from the training customers only: a linear
   head (trainable_layers=0) or the top N layers from their cached inputs (trainable_layers=N, the
   inputs cached in bench/out for both seeds). `--set objective=pairs` trains the pair objective on
   the split's training interactions instead (new products in no pair).
3. Among the new products only, each method ranks them for every test customer from the customer's
   other liked products (Recall@20, NDCG@100, bootstrap intervals, paired tests): TF-IDF, the base
   encoder, the tuned encoder, the tuned encoder plus TF-IDF, and the same objective trained by FedAvg
   over shards of the customers (`--shards`, a seeded hash standing in for regions). The base vectors are cached in bench/out; the fine-tune's duration counts
   the catalog encoding (measured when the cache was filled) plus the training.

The hyper-parameters were tuned on seed 0; the other seeds confirm them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from bench.report import BENCHMARKS, EVALUATION, publish, stamp  # noqa: E402
from recengine.cli.finetune import parse_settings  # noqa: E402
from recengine.evaluate.baselines import EmbeddingProfile, TfidfProfile, item_texts  # noqa: E402
from recengine.evaluate.cold_start import ColdStartResult, new_products_split, rank_new_products  # noqa: E402
from recengine.evaluate.datasets import DATASETS  # noqa: E402
from recengine.evaluate.metrics import bootstrap_indices, paired_test  # noqa: E402
from recengine.progress import StderrProgress  # noqa: E402
from recengine.train.arguments import FineTuneArguments  # noqa: E402
from recengine.train.cached_layers import LayerInputs, layer_inputs  # noqa: E402
from recengine.train.finetune import _load_model, resolve_model_path  # noqa: E402
from recengine.train.interaction_finetune import train_on_histories  # noqa: E402
from recengine.train.interaction_learners import linear_head_weight, make_learner, model_vectors, projected  # noqa: E402
from recengine.train.user_batches import InteractionData, split_users, user_histories  # noqa: E402

SECTION = "eval_finetune_cold"
BENCH_SECTION = "bench_finetune_cold"
BASE_MODEL = "bundled:all-MiniLM-L6-v2"
BASE, TUNED, TFIDF = "MiniLM (base)", "MiniLM tuned on customers' choices", "TF-IDF"
FUSED = "tuned MiniLM + TF-IDF (scores summed)"
FEDERATED = "MiniLM tuned by FedAvg over {shards} shards of customers"
VECTOR_CACHE = Path(__file__).resolve().parent / "out" / "finetune-cold-vectors"
LAYER_CACHE = Path(__file__).resolve().parent / "out" / "finetune-cold-layers"
# The run's settings, tuned on Magazine (all ratings) seed 0: a linear head, 10 passes, rate 0.01.
TUNED_SETTINGS = FineTuneArguments(objective="interactions", max_seq_length=128, trainable_layers=0)
TARGET_VS_BASE, TARGET_VS_TFIDF = 1.5, 1.2
# What seed 0 tried before these settings were fixed (same split, Recall@20 of the tuned encoder among
# new products; base 0.4193, TF-IDF 0.4275), each with the command that reproduces it.
TOP_LAYER_COMMAND = (
    "nice -n 5 python -m bench.eval_finetune_cold --seeds 0 --shards 0 --no-write --set trainable_layers=1 "
    "--set epochs=1 --set max_users=2560 --set learning_rate=5e-4 --set mini_batch_size=1024 "
    "--set evaluations_per_epoch=1"
)
PAIRS_COMMAND = (
    "nice -n 5 python -m bench.eval_finetune_cold --seeds 0 --shards 0 --no-write --set objective=pairs "
    "--set max_pairs=320 --set evaluations_per_epoch=1 --set eval_corpus_size=300 --set max_validation_queries=100"
)
TUNING_NOTE = (
    "Tried on seed 0 (tuning; the seed 1 rows above confirm the kept setting): linear head, rate 3e-5 for 5 "
    "passes 0.4328; rate 1e-3, 10 passes 0.4507; rate 1e-2, 10 passes 0.4512 (kept); every training rating "
    "instead of the liked ones 0.4551 (not kept: within the interval, and the split's content input is the "
    "liked products); 512 customers and 512 negatives a step 0.4423. Top layers trained from their cached "
    "inputs (`trainable_layers=N`): the top layer, rate 5e-4, one pass over 2,560 of the customers (20 steps "
    "of 128, one GradCache chunk a step) 0.4467 [0.4293, 0.4643] (+0.0275 over the base, p=0.002; +0.0192 "
    "over TF-IDF, p=0.006), below the head, in 21.4 minutes at load 6 to 12, past the 15-minute budget "
    f"(`{TOP_LAYER_COMMAND}`). The top two layers (10 steps of 128 customers) and the top layer with a linear "
    "head on it were started with the same settings and stopped unfinished: at 2 to 4 minutes a step on this "
    "shared CPU neither fits the budget (the two layers' loss fell from 1.86 to 1.73 in 4 steps). "
    "Every weight (`trainable_layers=-1`, GradCache through all 6 layers) took 208 s a step of about 300 "
    "products: the GPU path. The pair objective on the same split, on a sample because of its cost (320 "
    "sequence pairs of 6,867 found, 9 steps of 32 at rate 3e-5; its default 4,000 pairs would take about two "
    "hours at this load) 0.4421 [0.4250, 0.4588] (+0.0228 over the base, p=0.002; +0.0145 over TF-IDF, "
    f"p=0.054) in 28 minutes (`{PAIRS_COMMAND}`): below the interaction objective's head at three times its "
    "time, so `interactions` with the head is the default objective (the two were not compared by a paired "
    "test, and the pairs' full default was not run). Once the head trained in seconds (one intra-op thread), "
    "a sweep on seed 0 (`nice -n 5 python -m bench.eval_finetune_cold --seeds 0 --shards 0 --no-write "
    "--resamples 200 --set NAME=VALUE`): head_epochs=30 0.4564, head_epochs=50 0.4660, negatives_per_batch=512 "
    "0.4718, negatives_per_batch=1024 0.4752 (1.13x the base), 2048 0.4601, users_per_batch=32 0.4591, "
    "head_learning_rate=3e-2 0.4374, 30 passes without early stopping 0.4356; 1,024 negatives with 50 or 100 "
    "passes 0.4558 and 0.4696. 1,024 negatives confirmed on Magazine seed 1 (0.4191 against 0.3997) but scored "
    "lower on Gift Cards (seeds 0 and 1: 0.8635 and 0.8530 against 0.8762 and 0.8700, within the intervals), "
    "so the default stays: the linear head's ceiling here is about 0.47 on seed 0, 1.13x the base."
)
# What the top layers and the pair objective cost on seed 0 (same shared CPU), for BENCHMARKS.md.
TUNING_DURATIONS = (
    "Top layers from their cached inputs, seed 0: the inputs of the top layer for 2,428 products (5 of the 6 "
    "layers, run once) 169 s; a step of 128 customers (about 640 products, up to 128 tokens, through one "
    "layer forward and backward) 35 to 65 s, 20 steps 18.6 minutes: 21.4 minutes for one pass over 2,560 "
    "customers, past the 15-minute target at load 6 to 12. The inputs of the top two layers took 583 s and a "
    "step 2 to 4 minutes at load 10 to 12. The pair objective on 320 pairs (9 steps of 32 pairs, 64 texts "
    "through all 6 layers each): 16.9 minutes of training with its validation passes, 28 minutes with the "
    "catalog encoded by the tuned model and the ranking, at load 9 to 12.\n\n"
    "The linear head trained in 242 s (seed 0) and 89 s (seed 1), FedAvg in 449 s and 282 s, at load 10 or "
    "more before its training was held at one intra-op thread (2026-12-07): on two threads each of its small "
    "operations waited at a barrier for the core the other work held. The same steps take seconds now."
)


class SummedScores:
    """Two rankers' scores added: both score cosines, so the sum keeps their scales comparable.

    Asks whether TF-IDF's exact terms (names, publishers) add to what the tuned encoder learned.
    """

    def __init__(self, name: str, first: Any, second: Any) -> None:
        self.name, self.first, self.second = name, first, second

    def fit(self, train: Any, items: Any) -> SummedScores:
        self.first.fit(train, items)
        self.second.fit(train, items)
        return self

    def score(self, user_ids: Any) -> np.ndarray:
        return np.asarray(self.first.score(user_ids)) + np.asarray(self.second.score(user_ids))


@dataclass(frozen=True)
class SeedRun:
    seed: int
    result: ColdStartResult
    split_description: str
    tuned: Tuned
    versus_tfidf: Any
    federated_seconds: float | None = None


def base_vectors(model: Any, item_ids: list[str], texts: dict[str, str], tag: str) -> tuple[np.ndarray, float]:
    """The base model's normalised vectors of every product, cached with the seconds the encoding took."""
    digest = hashlib.sha256(("\x1f".join(texts[item] for item in item_ids) + tag).encode()).hexdigest()[:20]
    cache = VECTOR_CACHE / f"{digest}.npz"
    if cache.exists():
        stored = np.load(cache)
        print(f"  base vectors from {cache}", file=sys.stderr)
        return stored["vectors"], float(stored["seconds"])
    started = time.perf_counter()
    vectors = model_vectors(model, texts)(item_ids)
    seconds = time.perf_counter() - started
    VECTOR_CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(cache, vectors=vectors, seconds=np.array(seconds))
    return vectors, seconds


def cached_layer_inputs(
    model: Any, item_ids: list[str], texts: dict[str, str], layers: int, tag: str
) -> tuple[LayerInputs, float]:
    """Every product's inputs of the top `layers` blocks, cached in bench/out with the seconds they took.

    Both seeds share the catalog, so the bottom layers run once per setting, not once per run; the
    duration table still counts the seconds of that one pass, as a fine-tune in the product pays them.
    """
    import torch

    digest = hashlib.sha256(("\x1f".join(texts[item] for item in item_ids) + f"{tag}:{layers}").encode()).hexdigest()[:20]
    cache = LAYER_CACHE / f"{digest}.pt"
    if cache.exists():
        stored = torch.load(cache)
        print(f"  layer inputs from {cache}", file=sys.stderr)
        return LayerInputs(layers, stored["row"], stored["states"]), float(stored["seconds"])
    started = time.perf_counter()
    inputs = layer_inputs(model, texts, item_ids, layers, progress=StderrProgress())
    seconds = time.perf_counter() - started
    LAYER_CACHE.mkdir(parents=True, exist_ok=True)
    torch.save({"row": inputs.row, "states": inputs.states, "seconds": seconds}, cache)
    return inputs, seconds


def pair_vectors(
    data: Any, split: Any, item_ids: list[str], texts: dict[str, str], arguments: FineTuneArguments,
    encode_seconds: float,
) -> Tuned:
    """The pair objective trained on the split's training interactions (new products in no pair).

    The training seconds include encoding the catalog with the tuned model (the measurement needs it).
    Pairs take the benchmark's product texts, so both objectives see the same text of every product.
    """
    from types import SimpleNamespace

    import pandas as pd
    from sentence_transformers import SentenceTransformer

    from recengine.train.finetune import finetune_encoder
    from recengine.train.pairs import HoldOut, build_pairs

    pairs = build_pairs(data.items, pd.DataFrame(), split.train, arguments,
                        holdout=HoldOut(frozenset(), frozenset(), "the split's new products"),
                        exclude_items=split.new_items)
    pairs = replace(pairs, item_texts=texts, pairs=[
        replace(pair, positive=texts[pair.positive_item_id],
                anchor=texts[pair.anchor_item_id] if pair.anchor_item_id is not None else pair.anchor)
        for pair in pairs.pairs
    ])
    assert not {pair.positive_item_id for pair in pairs.pairs} & set(split.new_items), "a new product reached training"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        # Without a workspace: the split's pairs are given, and the recommender before/after is off.
        result = finetune_encoder(
            SimpleNamespace(root=Path(folder)), replace(arguments, recommendation_eval=False),  # type: ignore[arg-type]
            output_dir=Path(folder), base_model=BASE_MODEL, pairs=pairs, progress=StderrProgress(),
        )
        tuned = model_vectors(SentenceTransformer(str(result.model_dir), device="cpu"), texts)(item_ids)
    used = ", ".join(f"{source} {count:,}" for source, count in pairs.used_per_source.items() if count)
    return Tuned(tuned, encode_seconds, time.perf_counter() - started, result.card.total_steps,
                 f"{len(pairs.pairs):,} text pairs ({used}; {sum(pairs.found_per_source.values()):,} found)")


def federated_vectors(
    interaction_data: InteractionData, vectors: np.ndarray, item_ids: list[str], arguments: FineTuneArguments,
    shards: int, rounds: int,
) -> tuple[np.ndarray, float]:
    """FedAvg of linear heads over customers split into `shards` by a seeded hash (standing in for regions).

    Each round every shard trains `head_epochs / rounds` passes from the global head, so that the whole
    run makes as many passes as central training.
    """
    from recengine.train.federated import federated_interactions
    from recengine.train.pairs import unit_hash

    def shard_of(user: str) -> str:
        return f"shard{int(unit_hash(user, arguments.seed) * shards)}"

    shard_data = {
        name: replace(interaction_data,
                      histories={user: items for user, items in interaction_data.histories.items() if shard_of(user) == name},
                      validation={user: items for user, items in interaction_data.validation.items() if shard_of(user) == name})
        for name in sorted({shard_of(user) for user in interaction_data.histories})
    }
    local = replace(arguments, head_epochs=max(1, arguments.head_epochs // rounds))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        result = federated_interactions(
            "bench", local, shard_data, output_dir=Path(folder), base_model=BASE_MODEL, rounds=rounds,
            column="customer hash", frozen_vectors=dict(zip(item_ids, vectors, strict=True)),
        )
        from sentence_transformers import SentenceTransformer

        head = linear_head_weight(SentenceTransformer(str(result.model_dir), device="cpu"))
    assert head is not None
    return projected(vectors, head), time.perf_counter() - started


@dataclass(frozen=True)
class Tuned:
    """The tuned vectors of one run and what producing them cost."""

    vectors: np.ndarray
    encode_seconds: float
    train_seconds: float
    steps: int
    trained_on: str  # what the run learned from, for the report
    interaction_data: InteractionData | None = None


def interaction_vectors(
    split: Any, model: Any, item_ids: list[str], texts: dict[str, str], vectors: np.ndarray, encode_seconds: float,
    arguments: FineTuneArguments, device: str, precision: str,
) -> Tuned:
    """The interaction objective trained on the split's liked training histories."""
    histories = user_histories(split.liked_train, exclude_items=split.new_items, known_items=texts)
    training, validation = split_users(
        histories, validation_fraction=arguments.validation_fraction, max_validation=arguments.max_validation_queries,
        max_users=arguments.max_users, seed=arguments.seed,
    )
    chosen = {item for items in [*training.values(), *validation.values()] for item in items}
    assert not chosen & set(split.new_items), "a new product reached training"
    data = InteractionData(item_texts=texts, histories=training, validation=validation,
                           exclude_items=frozenset(split.new_items))
    learner = None
    if arguments.trainable_layers > 0:
        # The top layers train from their cached inputs: the pass through the bottom layers is this
        # fine-tune's encoding cost, not the base vectors' full pass.
        inputs, encode_seconds = cached_layer_inputs(model, item_ids, texts, arguments.trainable_layers,
                                                     f"{BASE_MODEL}:{arguments.max_seq_length}")
        learner = make_learner(model, data, arguments, device=device, precision=precision,
                               report=StderrProgress(), layer_inputs=inputs)
    started = time.perf_counter()
    summary = train_on_histories(
        model, data, arguments, device=device, precision=precision, progress=StderrProgress(),
        frozen_vectors=dict(zip(item_ids, vectors, strict=True)), learner=learner,
    )
    tuned = summary.vectors_of(item_ids)
    return Tuned(tuned, encode_seconds, time.perf_counter() - started, summary.steps,
                 f"{len(training):,} customers with 2+ liked products ({len(chosen):,} products)", data)


def run_seed(
    dataset: str, seed: int, arguments: FineTuneArguments, resamples: int, *, shards: int = 0, rounds: int = 2
) -> SeedRun:
    data = DATASETS[dataset]()
    split = new_products_split(data.interactions, share=0.2, seed=seed)
    item_ids = data.items["item_id"].astype(str).tolist()
    texts = dict(zip(item_ids, item_texts(data.items), strict=True))
    model, device, precision = _load_model(resolve_model_path(BASE_MODEL), arguments)
    vectors, encode_seconds = base_vectors(model, item_ids, texts, f"{BASE_MODEL}:{arguments.max_seq_length}")
    if arguments.objective == "pairs":
        tuned = pair_vectors(data, split, item_ids, texts, arguments, encode_seconds)
    else:
        tuned = interaction_vectors(split, model, item_ids, texts, vectors, encode_seconds, arguments, device, precision)

    base_ranker, tuned_ranker = EmbeddingProfile(item_ids, vectors), EmbeddingProfile(item_ids, tuned.vectors)
    base_ranker.name, tuned_ranker.name = BASE, TUNED
    fused = SummedScores(FUSED, EmbeddingProfile(item_ids, tuned.vectors), TfidfProfile())
    rankers: list[Any] = [TfidfProfile(), base_ranker, tuned_ranker, fused]
    federated_seconds = None
    if shards >= 2 and tuned.interaction_data is not None and arguments.trainable_layers == 0:
        federated, federated_seconds = federated_vectors(tuned.interaction_data, vectors, item_ids, arguments,
                                                         shards, rounds)
        rankers.append(EmbeddingProfile(item_ids, federated))
        rankers[-1].name = FEDERATED.format(shards=shards)
    result = rank_new_products(split, data.items, rankers, reference=BASE, resamples=resamples, seed=seed)
    indices = bootstrap_indices(result.users, resamples, seed)
    versus_tfidf = paired_test(result.methods[TUNED].per_user["recall@20"],
                               result.methods[TFIDF].per_user["recall@20"], indices=indices)
    return SeedRun(seed, result, split.description, tuned, versus_tfidf, federated_seconds)


def seed_markdown(run: SeedRun) -> str:
    table = run.result.table()
    columns = [column for column in table.columns if "ndcg" not in column or column == "ndcg@100"]
    lines = [f"**Seed {run.seed}.** {run.split_description}.", "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table[columns].itertuples(index=False):
        lines.append("| " + " | ".join("" if value != value else str(value) for value in row) + " |")
    recall = {name: method.estimates["recall@20"].mean for name, method in run.result.methods.items()}
    test_base = run.result.comparisons[TUNED]["recall@20"]
    lines += ["",
              f"Tuned / base Recall@20: **{recall[TUNED] / recall[BASE]:.3f}x** (target {TARGET_VS_BASE}x; "
              f"p={test_base.p_value:.3f}); tuned / TF-IDF: **{recall[TUNED] / recall[TFIDF]:.3f}x** "
              f"(target {TARGET_VS_TFIDF}x; {run.versus_tfidf.mean_difference:+.4f}, p={run.versus_tfidf.p_value:.3f}"
              f"{', significant' if run.versus_tfidf.significant else ''}); with TF-IDF's scores added: "
              f"{recall[FUSED] / recall[BASE]:.3f}x base, {recall[FUSED] / recall[TFIDF]:.3f}x TF-IDF. "
              f"Trained on {run.tuned.trained_on}, {run.tuned.steps} steps."]
    return "\n".join(lines)


def objective_description(arguments: FineTuneArguments) -> str:
    """What the run trained, in words."""
    if arguments.objective == "pairs":
        return f"The pair objective (MultipleNegativesRankingLoss on text pairs, at most {arguments.max_pairs:,} pairs)"
    if arguments.trainable_layers == 0:
        return "The interaction objective (beeFormer's loss) with a linear head on the frozen MiniLM"
    head = " and a linear head" if arguments.head_on_layers else ""
    return (f"The interaction objective (beeFormer's loss) training MiniLM's top {arguments.trainable_layers} "
            f"layer(s){head} from their cached inputs")


def report_markdown(dataset: str, runs: list[SeedRun], arguments: FineTuneArguments) -> str:
    settings = {name: value for name, value in arguments.to_dict().items()
                if value != FineTuneArguments().to_dict()[name] or name in ("trainable_layers", "head_epochs")}
    reached = all(
        run.result.methods[TUNED].estimates["recall@20"].mean >= TARGET_VS_BASE * run.result.methods[BASE].estimates["recall@20"].mean
        for run in runs
    )
    lines = [
        f"### New products: fine-tuning on customers' choices ({dataset})",
        "",
        stamp(),
        "`nice -n 5 python -m bench.eval_finetune_cold` (seed 0 tuned the settings, the other seeds confirm): "
        f"{objective_description(arguments)} trains on the cold-start split's training data, the new products "
        "excluded; then each method ranks only the new products for each test "
        f"customer. Settings: `{settings}`.",
        "",
    ]
    for run in runs:
        lines += [seed_markdown(run), ""]
    lines.append(
        "The targets of issue 21 (1.5x the base encoder and 1.2x TF-IDF, significant) are "
        + ("reached." if reached else "**not reached**: see the ratios above.")
    )
    lines += ["", TUNING_NOTE]
    return "\n".join(lines)


def duration_markdown(
    dataset: str, runs: list[SeedRun], arguments: FineTuneArguments, loads: tuple[float, float]
) -> str:
    lines = [
        f"### Fine-tuning on customers' choices: duration ({dataset})",
        "",
        stamp() + f" The CPU is shared with other work (1-minute load average {loads[0]:.1f} at the start, "
        f"{loads[1]:.1f} at the end). The products' encoding was timed when the vector cache in bench/out was "
        "filled; the training in this run.",
        "",
        "| seed | products encoded once (s) | training (s) | whole fine-tune (min) | steps | trained on | FedAvg training (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        tuned = run.tuned
        total = (tuned.encode_seconds + tuned.train_seconds) / 60
        federated = f"{run.federated_seconds:.0f}" if run.federated_seconds is not None else "not run"
        lines.append(f"| {run.seed} | {tuned.encode_seconds:.0f} | {tuned.train_seconds:.0f} | {total:.1f} | "
                     f"{tuned.steps} | {tuned.trained_on} | {federated} |")
    lines += ["", f"{objective_description(arguments)} (max_seq_length={arguments.max_seq_length}); target: "
              "within 15 minutes on 2 CPU cores.", "", TUNING_DURATIONS]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="magazine_ratings", choices=sorted(DATASETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a FineTuneArguments setting")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--shards", type=int, default=2,
                        help="also train by FedAvg over this many shards of the customers (0 = central only)")
    parser.add_argument("--rounds", type=int, default=2, help="FedAvg rounds")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ as they are")
    options = parser.parse_args()
    arguments = replace(TUNED_SETTINGS, **parse_settings(options.set))
    load_at_start = os.getloadavg()[0]
    runs = [run_seed(options.dataset, seed, arguments, options.resamples, shards=options.shards, rounds=options.rounds)
            for seed in options.seeds]
    suffix = "" if options.dataset == "magazine_ratings" else f"_{options.dataset}"
    publish(EVALUATION, SECTION + suffix, report_markdown(options.dataset, runs, arguments), write=not options.no_write)
    publish(BENCHMARKS, BENCH_SECTION + suffix, duration_markdown(options.dataset, runs, arguments, (load_at_start, os.getloadavg()[0])),
            write=not options.no_write)


if __name__ == "__main__":
    main()
