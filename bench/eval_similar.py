"""Similar products against the shops' own also-viewed lists; writes its block of docs/EVALUATION.md.

    .venv/bin/python -m bench.eval_similar [--datasets gift_cards magazine grocery magazine_ratings] [--no-write]

For every product that was bought and has a published also-viewed list (Amazon `also_view`, Grocery
`r_substitute`; up to 1,000 sampled), `recengine.recommend.similar.similar_to` proposes 10 products and we
count how many are on the list. Rows: the product's similar items (content + co-occurrence, half each by
default), each half alone, the same on item vectors of catalog text only (data sets with review text:
the product mixes each item's reviews into its vector, `recommend.review_vector_weight`), and
best-sellers. Item and review vectors are the ones bench/evaluate.py caches (bundled MiniLM).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bench.evaluate import analyse_reviews, embed_items, list_rows  # noqa: E402
from bench.report import EVALUATION, machine_description, publish  # noqa: E402
from recengine.evaluate.datasets import DATASETS, DatasetUnavailableError  # noqa: E402
from recengine.evaluate.linked import ListEvaluation  # noqa: E402
from recengine.evaluate.similar import REFERENCE, evaluate_similar  # noqa: E402
from recengine.progress import StderrProgress  # noqa: E402

SECTION = "eval_similar"
SIZE = 10


def evaluate(key: str, resamples: int) -> tuple[str, ListEvaluation, float]:
    started = time.perf_counter()
    print(f"== {key}", file=sys.stderr)
    data = DATASETS[key]()
    progress = StderrProgress()
    data = replace(data, item_vectors=embed_items(data.items)[0])
    if data.reviews is not None and not data.reviews.empty:
        data, _run = analyse_reviews(key, data, progress)
    result = evaluate_similar(data, size=SIZE, n_resamples=resamples, progress=progress)
    return data.name, result, time.perf_counter() - started


def table(name: str, result: ListEvaluation, seconds: float) -> str:
    lines = [
        f"### {name}",
        "",
        f"{result.anchors:,} anchor products with an also-viewed list; {result.size} similar products each "
        f"({seconds:.0f} s with cached vectors).",
        "",
        f"| method | precision@{result.size} | hit rate | p vs {REFERENCE} |",
        "|---|---|---|---|",
    ]
    lines += list_rows(result)
    pair = ("Content only", "Content only (catalog text)")
    if pair in result.pair_p_values:
        with_reviews, catalog_text = (result.methods[name]["precision"].mean for name in pair)
        lines += [
            "",
            f"The reviews' text in item vectors moved the content half's precision@{result.size} from "
            f"{catalog_text:.3f} to {with_reviews:.3f} (paired p = {result.pair_p_values[pair]:.3f}).",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true", help="Print the Markdown instead of writing it.")
    arguments = parser.parse_args(argv)
    started = time.perf_counter()
    sections, skipped = [], []
    for key in arguments.datasets:
        try:
            sections.append(table(*evaluate(key, arguments.resamples)))
        except DatasetUnavailableError as error:
            print(f"skipping {key}: {error}", file=sys.stderr)
            skipped.append(f"{key}: {error}")
    command = ".venv/bin/python -m bench.eval_similar" + (
        "" if arguments.datasets == list(DATASETS) else " --datasets " + " ".join(arguments.datasets)
    )
    markdown = "\n".join([
        "## Similar products against the shops' also-viewed lists (bench/eval_similar.py)",
        "",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Machine: {machine_description()}. Whole script: "
        f"{(time.perf_counter() - started) / 60:.1f} min. Command: `{command}`",
        "",
        "For each bought product with a published also-viewed list (Amazon `also_view`: what shoppers of "
        "a product also looked at, mostly alternatives; Grocery `r_substitute`), up to 1,000 sampled, "
        f"`similar_to` proposes {SIZE} products; precision = share of them on the list, hit rate = share of "
        "anchors with at least one. 95% bootstrap intervals over anchors; p = paired bootstrap of precision "
        f"against {REFERENCE}. Content only / Co-occurrence only are its two halves alone "
        "(`similar_content_weight` 1 and 0); the catalog-text rows use item vectors without the reviews' "
        "text. Fitted on all interactions: the lists come from the shop, so nothing is held out. The "
        "lists were not used to choose any setting.",
        "",
        *sections,
        *(["Skipped: " + "; ".join(skipped), ""] if skipped else []),
    ])
    publish(EVALUATION, SECTION, markdown, write=not arguments.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
