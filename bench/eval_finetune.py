"""Before/after evaluation of a fine-tuned encoder on real data; writes its block of docs/EVALUATION.md.

    .venv/bin/python -m bench.eval_finetune [--datasets gift_cards magazine] [--epochs 1] [--max-pairs 4000]

Per data set (Amazon 2018 5-core with review text and the catalog):
1. The evaluation split of `recengine.evaluate` (leave-last-out by time: each customer's latest new
   product is the test item).
2. Hold-out for training (`recengine.train.pairs.evaluation_holdout`): every test (customer, product)
   and *all* data of half of the test customers are kept away from fine-tuning.
3. Training pairs from the rest (next product, positive review -> product, also-bought links), a
   one-epoch fine-tune of the bundled MiniLM with `recengine.train.finetune` (SentenceTransformerTrainer,
   MultipleNegativesRankingLoss, best checkpoint on validation pairs).
4. Full-ranking evaluation (whole catalog, training items excluded) of the embedding-only profile and
   the hybrid recommender with the base and the fine-tuned encoder: on the held-out customers (never
   seen in training: the strict comparison) and on all test customers. Paired bootstrap over customers.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.report import EVALUATION, stamp, write_section  # noqa: E402
from recengine.evaluate.baselines import EmbeddingProfile, HybridRanker, MostPopular  # noqa: E402
from recengine.evaluate.datasets import data_root, gift_cards, magazine  # noqa: E402
from recengine.evaluate.metrics import bootstrap_ci, bootstrap_indices, metrics_from_ranks, paired_test  # noqa: E402
from recengine.evaluate.runner import EvaluationContext  # noqa: E402
from recengine.evaluate.splits import Split, make_splits  # noqa: E402
from recengine.progress import StderrProgress  # noqa: E402
from recengine.train.arguments import FineTuneArguments  # noqa: E402
from recengine.train.finetune import finetune_encoder, resolve_model_path  # noqa: E402
from recengine.train.pairs import (  # noqa: E402
    DEFAULT_TEMPLATE,
    build_pairs,
    engagement_frame,
    evaluation_holdout,
    item_texts,
)

SECTION = "eval_finetune"
K = 10
DATASETS = {
    "gift_cards": (gift_cards, "amazon2018-giftcards", "Gift_Cards_5.json.gz"),
    "magazine": (magazine, "amazon2018-magazine", "Magazine_Subscriptions_5.json.gz"),
}


class Vectors:
    """The minimal `ItemVectors` shape the rankers use."""

    def __init__(self, item_ids: list[str], vectors: np.ndarray, fingerprint: str) -> None:
        self.item_ids, self.vectors, self.fingerprint = item_ids, vectors, fingerprint


def review_frame(folder: str, file_name: str) -> pd.DataFrame:
    """The 5-core reviews with their text, in the columns of the workspace's `reviews` table."""
    with gzip.open(data_root() / folder / file_name, "rt", encoding="utf-8") as handle:
        raw = pd.DataFrame([json.loads(line) for line in handle])
    return pd.DataFrame(
        {
            "review_id": [f"R{index}" for index in range(len(raw))],
            "user_id": raw["reviewerID"].astype(str),
            "item_id": raw["asin"].astype(str),
            "rating": pd.to_numeric(raw["overall"], errors="coerce"),
            "title": raw.get("summary", pd.Series([""] * len(raw))).fillna("").astype(str),
            "text": raw.get("reviewText", pd.Series([""] * len(raw))).fillna("").astype(str),
            "timestamp": pd.to_datetime(raw["unixReviewTime"], unit="s"),
        }
    )


def encode(model: Any, texts: list[str]) -> np.ndarray:
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    return np.asarray(vectors, dtype=np.float32)


def evaluate_methods(split: Split, items: pd.DataFrame, methods: dict[str, Any]) -> dict[str, dict[str, np.ndarray]]:
    """Per-user NDCG@10 / Recall@10 of every method on the split (full ranking, seen items excluded)."""
    context = EvaluationContext(split, items, seed=0)
    per_user = {}
    for name, ranker in methods.items():
        run = context.run(ranker, k_max=K, batch_size=512)
        per_user[name] = metrics_from_ranks(run.ranks, K)
    return per_user


def run_dataset(name: str, arguments: FineTuneArguments, base_model: str, workdir: Path) -> dict[str, Any]:
    loader, folder, review_file = DATASETS[name]
    data = loader()
    reviews = review_frame(folder, review_file)
    items = data.items.copy()
    complements = data.complements or {}
    items["attributes"] = [json.dumps({"also_buy": complements.get(item_id, [])}) for item_id in items["item_id"]]

    # The evaluation split and the training hold-out come from the same leave-last-out split.
    splits = make_splits(data.interactions, strategy="leave_last_out")
    holdout = evaluation_holdout(
        engagement_frame(reviews, pd.DataFrame()),
        mode=arguments.holdout, user_fraction=arguments.holdout_user_fraction, seed=arguments.seed,
    )
    test_pairs = set(zip(splits.test.test["user_id"], splits.test.test["item_id"], strict=True))
    assert test_pairs == set(holdout.test_pairs), "training hold-out and evaluation split disagree"

    started = time.perf_counter()
    pairs = build_pairs(items, reviews, pd.DataFrame(), arguments, template=DEFAULT_TEMPLATE, holdout=holdout)
    pair_seconds = time.perf_counter() - started
    print(f"[{name}] pairs found {pairs.found_per_source}, used {pairs.used_per_source}", file=sys.stderr)

    from sentence_transformers import SentenceTransformer

    from recengine.workspace import Workspace

    texts = item_texts(items, DEFAULT_TEMPLATE)
    item_ids = items["item_id"].astype(str).tolist()
    corpus = [texts[item_id] for item_id in item_ids]
    base = SentenceTransformer(resolve_model_path(base_model), device="cpu")
    started = time.perf_counter()
    base_vectors = encode(base, corpus)
    encode_seconds = time.perf_counter() - started

    scratch = Workspace.open(workdir / f"{name}-ws")
    started = time.perf_counter()
    result = finetune_encoder(
        scratch, arguments, output_dir=workdir / f"{name}-run", base_model=base_model, pairs=pairs,
        progress=StderrProgress(),
    )
    train_seconds = time.perf_counter() - started
    tuned = SentenceTransformer(str(result.model_dir), device="cpu")
    tuned_vectors = encode(tuned, corpus)

    methods = {
        "MostPopular": MostPopular(),
        "Embedding (base)": EmbeddingProfile(item_ids, base_vectors),
        "Embedding (fine-tuned)": EmbeddingProfile(item_ids, tuned_vectors),
        "Hybrid (base)": HybridRanker(Vectors(item_ids, base_vectors, "base"), name="Hybrid (base)"),
        "Hybrid (fine-tuned)": HybridRanker(Vectors(item_ids, tuned_vectors, "tuned"), name="Hybrid (fine-tuned)"),
    }
    test = splits.test.test
    strict = Split(splits.test.train, test[test["user_id"].isin(holdout.users)].reset_index(drop=True),
                   "held-out customers only")
    evaluations = {
        "held-out customers (never in training)": evaluate_methods(strict, data.items, methods),
        "all test customers": evaluate_methods(splits.test, data.items, methods),
    }
    return {
        "name": data.name,
        "items": len(data.items),
        "users": int(data.interactions["user_id"].nunique()),
        "interactions": len(data.interactions),
        "pairs_found": pairs.found_per_source,
        "pairs_used": pairs.used_per_source,
        "train_pairs": result.card.train_pairs,
        "validation_pairs": result.card.validation_pairs,
        "held_out_users": len(holdout.users),
        "validation_before": result.metrics_before,
        "validation_after": result.metrics_after,
        "steps": result.card.total_steps,
        "best_step": result.card.best_step,
        "train_seconds": train_seconds,
        "pair_seconds": pair_seconds,
        "encode_seconds": encode_seconds,
        "evaluations": evaluations,
    }


def _row(label: str, values: dict[str, np.ndarray], users: int) -> str:
    indices = bootstrap_indices(users, 1000, 0)
    ndcg = bootstrap_ci(values["ndcg"], indices=indices)
    recall = bootstrap_ci(values["recall"], indices=indices)
    return f"| {label} | {ndcg.format()} | {recall.format()} |"


def _change(base: dict[str, np.ndarray], tuned: dict[str, np.ndarray], metric: str) -> str:
    before, after = float(base[metric].mean()), float(tuned[metric].mean())
    test = paired_test(tuned[metric], base[metric])
    relative = f"{(after - before) / before:+.1%}" if before else "n/a"
    return f"{relative} (diff {test.mean_difference:+.4f} [{test.low:+.4f}, {test.high:+.4f}], p={test.p_value:.3f})"


def render(
    results: list[dict[str, Any]], arguments: FineTuneArguments, base_model: str, total_seconds: float,
    skipped: list[str] | None = None,
) -> str:
    lines = [
        "## Fine-tuned encoder: before / after",
        "",
        stamp(),
        f"Command: `.venv/bin/python -m bench.eval_finetune` (total {total_seconds / 60:.1f} min). Base encoder "
        f"`{base_model}`; fine-tuning settings: epochs {arguments.epochs}, batch {arguments.batch_size}, "
        f"lr {arguments.learning_rate:g}, warmup {arguments.warmup_ratio}, max pairs {arguments.max_pairs}, "
        f"max_seq_length {arguments.max_seq_length}, pairs shared evenly across sources, MultipleNegativesRankingLoss (in-batch negatives, "
        f"no-duplicates batches), best checkpoint by validation NDCG@10, seed {arguments.seed}.",
        "",
        "Protocol: leave-last-out by time (recengine.evaluate.splits); every test (customer, product) and all "
        f"data of {arguments.holdout_user_fraction:.0%} of the test customers are never used for training. Full "
        "ranking of the whole catalog, training items excluded, 95% bootstrap intervals over customers; "
        "changes are fine-tuned minus base, paired bootstrap. Hybrid = `recengine.recommend.Recommender` with "
        "default weights, same settings for both encoders.",
    ]
    if skipped:
        lines += ["", f"Not run this time (time budget): {', '.join(skipped)}."]
    for result in results:
        lines += [
            "",
            f"### {result['name']}",
            "",
            f"{result['items']:,} catalog items, {result['users']:,} customers, {result['interactions']:,} reviews. "
            f"Pairs found per source: {', '.join(f'{k} {v:,}' for k, v in result['pairs_found'].items())}; used: "
            f"{', '.join(f'{k} {v:,}' for k, v in result['pairs_used'].items())} ({result['train_pairs']:,} train, "
            f"{result['validation_pairs']:,} validation). {result['held_out_users']} customers held out entirely.",
            f"Training: {result['train_seconds']:.0f} s for {result['steps']} steps (best checkpoint at step "
            f"{result['best_step']}), CPU fp32; encoding the catalog once takes {result['encode_seconds']:.0f} s.",
            f"Validation pairs (retrieving the right product among the catalog): NDCG@10 "
            f"{result['validation_before'].get('ndcg@10', float('nan')):.4f} -> {result['validation_after'].get('ndcg@10', float('nan')):.4f}, "
            f"Recall@10 {result['validation_before'].get('recall@10', float('nan')):.4f} -> "
            f"{result['validation_after'].get('recall@10', float('nan')):.4f}.",
        ]
        for scope, per_method in result["evaluations"].items():
            users = len(next(iter(per_method.values()))["ndcg"])
            lines += ["", f"**{scope}** ({users} customers)", "", "| method | NDCG@10 | Recall@10 |", "|---|---|---|"]
            for method, values in per_method.items():
                lines.append(_row(method, values, users))
            lines += ["", "| comparison | NDCG@10 change | Recall@10 change |", "|---|---|---|"]
            for family in ("Embedding", "Hybrid"):
                base, tuned = per_method[f"{family} (base)"], per_method[f"{family} (fine-tuned)"]
                lines.append(f"| {family}: fine-tuned vs base | {_change(base, tuned, 'ndcg')} | {_change(base, tuned, 'recall')} |")
        strict = next(iter(result["evaluations"].values()))
        lines += ["", verdict(strict)]
    return "\n".join(lines)


def verdict(per_method: dict[str, dict[str, np.ndarray]]) -> str:
    """Target check: +10% relative NDCG@10 for embedding-only and hybrid, neither worse beyond noise."""
    parts, met = [], True
    for family in ("Embedding", "Hybrid"):
        base, tuned = per_method[f"{family} (base)"]["ndcg"], per_method[f"{family} (fine-tuned)"]["ndcg"]
        relative = (tuned.mean() - base.mean()) / base.mean() if base.mean() else 0.0
        test = paired_test(tuned, base)
        worse = test.significant and test.mean_difference < 0
        met = met and relative >= 0.10 and not worse
        state = "significantly worse" if worse else ("significant" if test.significant else "within noise")
        parts.append(f"{family.lower()} {relative:+.1%} ({state})")
    head = "Target (+10% relative NDCG@10 on embedding-only and hybrid, held-out customers): "
    return head + ("met" if met else "not met") + " - " + "; ".join(parts) + "."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["gift_cards", "magazine"], choices=sorted(DATASETS))
    parser.add_argument("--base-model", default="bundled:all-MiniLM-L6-v2")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--max-pairs", type=int, default=1200)
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument(
        "--time-budget-min", type=float, default=15.0,
        help="Skip the remaining data sets when the next one would likely end past this budget.",
    )
    parser.add_argument("--no-write", action="store_true", help="Print the Markdown instead of writing the report.")
    options = parser.parse_args(argv)
    arguments = FineTuneArguments(
        epochs=options.epochs, batch_size=options.batch_size, learning_rate=options.learning_rate,
        max_pairs=options.max_pairs, max_seq_length=options.max_seq_length, holdout="test_users",
        holdout_user_fraction=0.5, evaluations_per_epoch=1, early_stopping_patience=0, max_validation_queries=150,
        eval_corpus_size=800, device="cpu", recommendation_eval=False,  # measured below, in more detail
    )
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="eval-finetune-") as scratch:
        last_duration = 0.0
        for name in options.datasets:
            elapsed = time.perf_counter() - started
            if results and elapsed + last_duration > options.time_budget_min * 60:
                print(f"skipping {name}: {elapsed / 60:.1f} min used, the last data set took {last_duration / 60:.1f} min",
                      file=sys.stderr)
                skipped.append(name)
                continue
            began = time.perf_counter()
            results.append(run_dataset(name, arguments, options.base_model, Path(scratch)))
            last_duration = time.perf_counter() - began
            markdown = render(results, arguments, options.base_model, time.perf_counter() - started, skipped)
            if options.no_write:
                print(markdown)
            else:
                write_section(EVALUATION, SECTION, markdown)  # after each data set: partial results survive
    markdown = render(results, arguments, options.base_model, time.perf_counter() - started, skipped)
    if skipped and not options.no_write:
        write_section(EVALUATION, SECTION, markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
