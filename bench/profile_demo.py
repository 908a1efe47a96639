"""Where the demo's minutes go: each part of `recengine demo`, its wall and CPU time, and what the learned
sentiment model scores on held-out demo reviews.

    .venv/bin/python bench/profile_demo.py [--reviews 6000] [--workspace DIR] [--no-write]

`--reviews` overrides the standard demo's review count (the purchases, events and catalog stay the same),
to compare what a smaller demo costs in quality. Writes the block `demo-cost-<reviews>` of
docs/BENCHMARKS.md. CPU time (all threads of this process) is given next to wall time because on a
shared machine the wall time mostly measures the other work.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.report import BENCHMARKS, publish, stamp  # noqa: E402


def profile(root: Path, reviews: int) -> tuple[list[tuple[str, float, float]], dict[str, object], str]:
    """Rows (part, wall s, CPU s), the analysis state's quality figures, and the workspace summary."""
    from recengine.demo import generate
    from recengine.demo.workspace import create_demo_workspace
    from recengine.preparation import STEPS, prepare_workspace
    from recengine.text import analysis_state

    standard = generate.SIZES["standard"]
    generate.SIZES["standard"] = dataclasses.replace(standard, reviews=reviews)
    rows: list[tuple[str, float, float]] = []
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        workspace = create_demo_workspace(root, post_ingest=False)
        rows.append(("data: generate, write, ingest", time.perf_counter() - wall, time.process_time() - cpu))
        for step in STEPS:
            wall, cpu = time.perf_counter(), time.process_time()
            prepare_workspace(workspace, steps=[step.name])
            rows.append((f"{step.name}: {step.label.lower()}", time.perf_counter() - wall, time.process_time() - cpu))
    finally:
        generate.SIZES["standard"] = standard
    summary = workspace.summary()
    described = (f"{summary.items:,} products, {summary.users:,} customers, {summary.reviews:,} reviews, "
                 f"{summary.interactions:,} events")
    return rows, dict(analysis_state(workspace).get("quality") or {}), described


def render(reviews: int, rows: list[tuple[str, float, float]], quality: dict[str, object], described: str) -> str:
    table = "\n".join(f"| {part} | {wall:.1f} | {cpu:.1f} |" for part, wall, cpu in rows)
    total_wall, total_cpu = sum(row[1] for row in rows), sum(row[2] for row in rows)
    learned = quality.get("learned") if isinstance(quality.get("learned"), dict) else None
    figures = (
        f"accuracy {learned['accuracy']:.4f}, macro-F1 {learned['macro_f1']:.4f}, polarity macro-F1 "
        f"{learned['polarity_macro_f1']:.4f} on {learned['reviews']:,} held-out reviews "
        f"({quality.get('train_reviews', '?')} training reviews)"
        if learned else "not measured"
    )
    return f"""### Where the demo's time goes: {reviews:,} reviews

{stamp()} Load average at the end: {os.getloadavg()[0]:.1f}. Demo: {described}.
Command: `.venv/bin/python bench/profile_demo.py --reviews {reviews}`.

| part | wall s | CPU s (all threads) |
|---|---|---|
{table}
| total | {total_wall:.1f} | {total_cpu:.1f} |

Learned sentiment model, held out: {figures}.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=None, help="Reviews in the demo (default: the standard size's).")
    parser.add_argument("--workspace", type=Path, default=None, help="Folder to build in (default: a temporary one).")
    parser.add_argument("--no-write", action="store_true", help="Print the block; leave docs/BENCHMARKS.md alone.")
    arguments = parser.parse_args(argv)
    from recengine.demo.generate import SIZES

    reviews = arguments.reviews or SIZES["standard"].reviews
    holder = None if arguments.workspace else Path(tempfile.mkdtemp(prefix="recengine-demo-profile-"))
    root = arguments.workspace or holder / "demo"  # type: ignore[operator]
    try:
        rows, quality, described = profile(root, reviews)
    finally:
        if holder is not None:
            shutil.rmtree(holder, ignore_errors=True)
    publish(BENCHMARKS, f"demo-cost-{reviews}", render(reviews, rows, quality, described), write=not arguments.no_write)


if __name__ == "__main__":
    main()
