"""Are explanations faithful to the score? Writes its block of docs/EVALUATION.md.

    .venv/bin/python -m bench.eval_faithfulness [--datasets magazine_ratings gift_cards] [--customers 400] [--no-write]

Per data set the recommender is fitted on every interaction (the model whose explanations customers
see), with the co-occurrence signal (the default) and with EASE (L2 250, the strongest setting
`recengine tune-weights` tries). For a sample of customers (half drawn from everyone, half from those
with at least two products, who are the only ones a product can be removed from) the top 10 in pure
score order is explained, then `recengine.evaluate.faithfulness` removes each recommendation's top
attributed history product, scores the catalog again and compares (see that module). Item vectors are
the bundled MiniLM's, cached by bench/evaluate.py (catalog text only: no review analysis here).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bench.evaluate import embed_items  # noqa: E402
from bench.report import EVALUATION, machine_description, publish  # noqa: E402
from recengine.config import RecommendSettings  # noqa: E402
from recengine.evaluate.datasets import DATASETS, DatasetUnavailableError  # noqa: E402
from recengine.evaluate.faithfulness import (  # noqa: E402
    FaithfulnessReport,
    evaluate_faithfulness,
    figures,
    sample_customers,
)
from recengine.recommend import Recommender  # noqa: E402

SECTION = "eval_faithfulness"
K = 10
SIGNALS = {"co-occurrence": 0.0, "EASE (L2 250)": 250.0}


def evaluate(key: str, customers: int) -> tuple[str, list[tuple[str, FaithfulnessReport, float]]]:
    print(f"== {key}", file=sys.stderr)
    data = DATASETS[key]()
    vectors = embed_items(data.items)[0]
    reports = []
    for label, l2 in SIGNALS.items():
        started = time.perf_counter()
        model = Recommender.fit(data.items, data.interactions, vectors, RecommendSettings(collaborative_ease_l2=l2))
        chosen = sample_customers(model, customers // 2, seed=1)
        chosen += [user for user in sample_customers(model, customers // 2, seed=2, min_history=2) if user not in chosen]
        report = evaluate_faithfulness(model, chosen, K)
        seconds = time.perf_counter() - started
        print(f"  {label}: {report.summary()} ({seconds:.0f} s)", file=sys.stderr)
        reports.append((label, report, seconds))
    return data.name, reports


def section(name: str, reports: list[tuple[str, FaithfulnessReport, float]]) -> str:
    labels = [label for label, _, _ in reports]
    rows = [figures(report) for _, report, _ in reports]
    lines = [f"### {name}", "", "| measure | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for index, (measure, _) in enumerate(rows[0]):
        if measure == "collaborative signal":
            continue
        lines.append(f"| {measure} | " + " | ".join(row[index][1] for row in rows) + " |")
    seconds = ", ".join(f"{label} {time:.0f} s" for label, _, time in reports)
    lines += ["", f"Fit and evaluation time: {seconds}."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["magazine_ratings", "gift_cards"], choices=sorted(DATASETS))
    parser.add_argument("--customers", type=int, default=400, help="Customers sampled per data set (default 400).")
    parser.add_argument("--no-write", action="store_true", help="Print the block without writing EVALUATION.md.")
    arguments = parser.parse_args()
    started = time.perf_counter()
    sections = []
    for key in arguments.datasets:
        try:
            sections.append(section(*evaluate(key, arguments.customers)))
        except DatasetUnavailableError as error:
            print(f"skipping {key}: {error}", file=sys.stderr)
    if not sections:
        print("No data set is available here; nothing written.", file=sys.stderr)
        return
    markdown = "\n\n".join([
        "## Faithfulness of explanations (bench/eval_faithfulness.py)",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine_description()} (2 cores shared with other "
        f"work), {time.perf_counter() - started:.0f} s in all. Run: `.venv/bin/python -m bench.eval_faithfulness`.",
        HOW,
        *sections,
        READING,
    ])
    publish(EVALUATION, SECTION, markdown, write=not arguments.no_write)


HOW = """Every recommendation's explanation splits its collaborative and semantic parts over the customer's
history products (`Explanation.attribution`). The recommender is fitted on all of a data set's
interactions; a sample of customers (half from everyone, half from customers with two products or more)
gets its top 10 in pure score order (no rules). Then, per recommendation, the history product with the
largest attributed part is removed from the customer's history and the whole catalog is scored again
(`recengine.evaluate.faithfulness`; `recengine evaluate --faithfulness` runs the same on a workspace).
A control removes a random other product of the same history instead."""

READING = """How to read it:
- *Reason names a contributing history product*: of the recommendations with a personal part, the share
  whose sentence quotes a history product that produced part of the score (before issue 22, 2.3% of
  such recommendations on held-out reviews named none).
- *Covered*: the share of recommendations whose listed products account for at least 90% of the part
  (the list stops at 95% of it or 10 products; the rest is given as one `unlisted` sum).
- *Collaborative drop at the old norm minus its part*: removing a product takes exactly its confidence
  x matrix entry off the raw collaborative score, so at the norm the component had, the drop equals the
  attributed part (this largest difference is rounding). The component is then renormalised by the
  customer's new best unseen raw score, which moves both ways: down when the removed product also fed
  the best product, up when the removed product, no longer seen, becomes the best one itself. The
  *after renormalisation / part* ratio shows how much that moves the drop on average.
- *Semantic*: the part splits the interest vector that won into its history products (each member's
  weight x its cosine to the product), which adds up exactly, but it is not what removing the product
  does: the interests are clustered again, the interest is a unit vector (removing one of several
  similar members barely turns it), and the semantic score is renormalised by the best unseen cosine.
  So the semantic drop is far smaller than the part; the correlation says whether larger parts at least
  come with larger drops.
- *Falls out of the top 10*: how often removing the top attributed product pushes the product out, against
  removing a random other product of the same history."""


if __name__ == "__main__":
    main()
