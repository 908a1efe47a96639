"""New products: the cold-start evaluation on real data and the demo; writes its block of docs/EVALUATION.md.

    .venv/bin/python -m bench.eval_cold_start [--datasets magazine_ratings gift_cards demo] [--seeds 0 1] [--no-larger-encoder] [--no-write]

For each data set and seed, 20% of the products with interactions are made new
(`recengine.evaluate.cold_start.new_products_split`), and `recengine.evaluate.cold_start_run.evaluate_new_products`
ranks them: among new products only (the content signal) and in the hybrid's whole-catalog lists (what
customers see). Settings were chosen on Magazine (all ratings) seed 0 and are confirmed on seed 1 and on
Gift Cards and the demo, which were not used to choose them. Item vectors: bundled MiniLM on catalog
text ("Embedding"), and the bundled all-mpnet-base-v2 as one more row when it is installed
(scripts/install-mpnet.sh; `--no-larger-encoder` leaves it out), both cached by bench/evaluate.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bench.evaluate import embed_items  # noqa: E402
from bench.report import EVALUATION, publish, stamp  # noqa: E402
from recengine.evaluate.cold_start import ColdStartResult  # noqa: E402
from recengine.evaluate.cold_start_run import ColdStartEvaluation, evaluate_new_products  # noqa: E402
from recengine.evaluate.data import EvaluationData, interactions_frame  # noqa: E402
from recengine.evaluate.datasets import DATASETS, DatasetUnavailableError  # noqa: E402
from recengine.progress import StderrProgress  # noqa: E402

SECTION = "eval_cold_start"


def demo_data() -> EvaluationData:
    """The generated demo shop: its purchases, carts and reviews as interactions."""
    from recengine.demo.generate import generate_demo

    demo = generate_demo()
    events = demo.interactions[demo.interactions["event"].isin(["purchase", "cart"])]
    reviews = demo.reviews[demo.reviews["user_id"].notna()]
    interactions = interactions_frame(
        list(events["user_id"]) + list(reviews["user_id"]),
        list(events["item_id"]) + list(reviews["item_id"]),
        list(events["timestamp"]) + list(reviews["timestamp"]),
        events=list(events["event"]) + ["review"] * len(reviews),
        ratings=[float("nan")] * len(events) + list(reviews["rating"]),
    )
    return EvaluationData(name="Demo shop (generated)", items=demo.items, interactions=interactions)


def load(key: str) -> EvaluationData:
    return demo_data() if key == "demo" else DATASETS[key]()


def result_rows(result: ColdStartResult, metrics: list[str]) -> list[str]:
    rows = []
    for name, method in result.methods.items():
        cells = [name]
        for metric in metrics:
            estimate = method.estimates[metric]
            cells.append(f"{estimate.mean:.4f} [{estimate.low:.4f}, {estimate.high:.4f}]")
        test = result.comparisons.get(name, {}).get(metrics[0])
        cells.append("-" if test is None else f"{test.mean_difference:+.4f} (p={test.p_value:.3f})")
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def ratio(result: ColdStartResult, name: str, reference: str, metric: str = "recall@20") -> str:
    if name not in result.methods or reference not in result.methods:
        return "-"
    base = result.methods[reference].estimates[metric].mean
    return f"{result.methods[name].estimates[metric].mean / base:.2f}x" if base else "-"


def markdown(evaluation: ColdStartEvaluation, seed: int, seconds: float) -> str:
    among, whole = evaluation.among_new, evaluation.whole_catalog
    hybrid = whole.methods["Hybrid"].estimates["recall@20"].mean if "Hybrid" in whole.methods else float("nan")
    best_content = max(
        (method.estimates["recall@20"].mean, name) for name, method in among.methods.items() if name != "Hybrid"
    )
    lines = [
        f"### {evaluation.dataset}, seed {seed}",
        "",
        f"{evaluation.description} ({seconds:.0f} s with cached vectors).",
        "",
        "Among new products only (Recall@20 = hits / min(20, liked new products); NDCG@100):",
        "",
        f"| method | Recall@20 | NDCG@100 | Recall@20 vs {among.reference} |",
        "|---|---|---|---|",
        *result_rows(among, ["recall@20", "ndcg@100"]),
        "",
        "Whole catalog (the new products' Recall@20 in each method's top 20; share of the top-20 slots that go to "
        "new products):",
        "",
        f"| method | Recall@20 of new products | share of slots | Recall@20 vs {whole.reference} |",
        "|---|---|---|---|",
        *result_rows(whole, ["recall@20", "new share"]),
        "",
        f"Encoder vs TF-IDF among new products: {ratio(among, 'Embedding', 'TF-IDF')}; fusion vs TF-IDF: "
        f"{ratio(among, 'TF-IDF + Embedding', 'TF-IDF')}. The hybrid's whole-catalog Recall@20 of new products is "
        f"{hybrid / best_content[0]:.2f} of the best content ranking among new products ({best_content[1]}, "
        f"{best_content[0]:.4f}); the target is at least 0.5. Without borrowing: "
        f"{ratio(whole, 'Hybrid without borrowing', 'Hybrid')} of the hybrid's.",
    ]
    return "\n".join(lines)


def warm_check(data: EvaluationData) -> str:
    """Leave-last-out NDCG@10 of the hybrid with and without borrowing: products with interactions must not lose."""
    from recengine.config import RecommendSettings
    from recengine.evaluate.baselines import HybridRanker
    from recengine.evaluate.metrics import metrics_from_ranks, paired_test
    from recengine.evaluate.runner import EvaluationContext
    from recengine.evaluate.splits import leave_last_out

    context = EvaluationContext(leave_last_out(data.interactions), data.items)
    ndcg = {}
    for label, neighbours in (("without", 0), ("with", RecommendSettings().new_product_neighbours)):
        ranker = HybridRanker(data.item_vectors, RecommendSettings(new_product_neighbours=neighbours))
        ndcg[label] = metrics_from_ranks(context.run(ranker, k_max=10).ranks, 10)["ndcg"]
    test = paired_test(ndcg["with"], ndcg["without"])
    never_bought = len(data.items) - data.interactions["item_id"].nunique()
    return (
        f"Warm check (leave-last-out, {len(context.user_ids):,} customers, {never_bought:,} catalog products nobody "
        f"bought): hybrid NDCG@10 {ndcg['without'].mean():.4f} without borrowing, {ndcg['with'].mean():.4f} with "
        f"({test.mean_difference:+.4f}, p={test.p_value:.3f}{', significant' if test.significant else ', not significant'})."
    )


LARGER_ENCODER = "bundled:all-mpnet-base-v2"


def larger_encoder(data: EvaluationData, arguments: argparse.Namespace) -> dict[str, object] | None:
    """The bundled mpnet's item vectors as one more content method, when it is installed (scripts/install-mpnet.sh)."""
    if arguments.no_larger_encoder:
        return None
    from recengine.embed.models import resolve_model
    from recengine.errors import ModelError

    try:
        resolve_model(LARGER_ENCODER)
    except ModelError as error:
        print(f"  no {LARGER_ENCODER} row: {error}", file=sys.stderr)
        return None
    return {LARGER_ENCODER.removeprefix("bundled:"): embed_items(data.items, LARGER_ENCODER)[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["magazine_ratings", "gift_cards", "demo"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--no-warm-check", action="store_true", help="Skip the leave-last-out check on products with interactions.")
    parser.add_argument("--no-larger-encoder", action="store_true",
                        help=f"Leave out the {LARGER_ENCODER} row (about 8x MiniLM's encoding time, cached once).")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/EVALUATION.md alone.")
    arguments = parser.parse_args(argv)
    sections = [
        "## New products (cold start)",
        "",
        stamp() + " Reproduce: `.venv/bin/python -m bench.eval_cold_start`.",
        "",
        "A seeded 20% of the products with interactions become new: all their interactions leave training, "
        "their catalog text stays. Test customers liked a new product and another product; their other liked "
        "products are the input of the content methods (the collaborative ones learn from every training "
        "interaction). Settings (new products borrow from 5 text neighbours, discounted by their mean cosine, "
        "popularity borrowed too; fusion 0.5/0.5) were chosen on Magazine (all ratings) seed 0; the other rows "
        "confirm them. Borrowing from 2 neighbours, or without the closeness discount, showed more new "
        "products on Magazine seed 1 and the demo but cost Gift Cards' warm NDCG@10 0.014 to 0.033 "
        "(significant): Gift Cards' catalog holds 1,400 products nobody bought, which then crowd the lists. "
        "Two more estimates were tried and not kept (same splits, 2026-12-07; the variants are not kept in the code): a ridge map from text "
        "onto the products with interactions as the borrowing weights (alpha = x (X'X + I)^-1 X', the "
        "evaluation's text -> collaborative map inside the hybrid) reached about the same new-product hits "
        "per list slot as the 5 neighbours (Magazine seed 0: 0.236 at 3.8% of the slots against 0.224 at "
        "3.7%; Gift Cards and the demo no better) and needs a dense new x old matrix; a closeness relative to "
        "the catalog's typical neighbour closeness (a new product as close to its neighbours as products "
        "usually are borrows in full) raised Magazine to 0.247 / 0.136 and the demo to 0.217 / 0.196 (seeds 0 "
        "/ 1) but cost Gift Cards' warm NDCG@10 0.0078 (p=0.002) and lowered its seed-0 new-product recall. "
        "Every estimate that shows more new products does so by giving them more slots, and Gift Cards' "
        "never-bought products take those slots too.",
    ]
    for key in arguments.datasets:
        try:
            data = load(key)
        except DatasetUnavailableError as error:
            print(f"skipping {key}: {error}", file=sys.stderr)
            continue
        data = replace(data, item_vectors=embed_items(data.items)[0], version_vectors=larger_encoder(data, arguments))
        for seed in arguments.seeds:
            print(f"== {key}, seed {seed}", file=sys.stderr)
            started = time.perf_counter()
            evaluation = evaluate_new_products(data, seed=seed, n_resamples=arguments.resamples, progress=StderrProgress())
            sections += ["", markdown(evaluation, seed, time.perf_counter() - started)]
        if not arguments.no_warm_check:
            print(f"== {key}, warm check", file=sys.stderr)
            sections += ["", warm_check(data)]
    publish(EVALUATION, SECTION, "\n".join(sections), write=not arguments.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
