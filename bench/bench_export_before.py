"""The batch export now against the export before attribution existed (issue 22: "within 10% of today's time").

Issue 22 asked for the attribution split with the batch export staying within 10% of its time when the
issue was filed. That code is commit `BEFORE` (the last one before the attribution and the borrowed
estimates of new products, issue 21). This bench checks it out in a temporary git worktree and exports
the same customers of the same synthetic model (`bench_recommend.synthetic`, 10,000 items) as jsonl,
top-10 with explanations, the way each version's `recengine recommend --users-file` does, in three
long-lived processes:

- `before`: the code at `BEFORE` (`recommend_many` + `json.dumps` of each line, as its CLI did);
- `now`: this tree (`render_many` with `jsonl_line`, attribution included);
- `now, no attribution`: this tree with bench_recommend's switch (`attribution_switched_off`), which
  isolates what the split itself costs from everything else that changed.

Each process fits once and exports once unmeasured; then the exports alternate `--rounds` times, each
building its customers' profiles again as a fresh `recengine recommend` process does, and each variant
keeps its run with the least CPU (process time: what the export costs the cores, whatever else the
shared machine runs).

    .venv/bin/python bench/bench_export_before.py [--users 3000] [--rounds 5] [--no-write]

Needs git and the repository's history (skips with a message in a shallow clone).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "ff92fcb"  # the last commit before issue 22's attribution and issue 21's borrowed estimates
VARIANTS = {"before": "before", "now": "now", "now, no attribution": "switch"}
TARGET = 1.10


def serve(variant: str, users: int) -> None:
    """One export process: fit, export once, then one timed export per line read from stdin.

    Imports `bench` and `recengine` from the tree in PYTHONPATH (this file's own tree is not on the path).
    """
    import recengine
    from bench.bench_recommend import synthetic
    from recengine.config import RecommendSettings
    from recengine.recommend import Recommender

    print(f"code {Path(recengine.__file__).resolve().parents[1]}", flush=True)
    catalog, interactions, vectors, keywords = synthetic(10_000, users, 20, seed=2)
    model = Recommender.fit(catalog, interactions, vectors, RecommendSettings(), keywords=keywords)
    chosen = model.user_ids[:users]
    if variant == "before":
        from recengine.cli.recommend import recommendation_line  # type: ignore[attr-defined]

        def export(handle) -> None:  # type: ignore[no-untyped-def]
            for user_id, recommendations in model.recommend_many(chosen, 10, workers=1):
                handle.write(json.dumps(recommendation_line(user_id, recommendations), ensure_ascii=False) + "\n")
    else:
        from contextlib import nullcontext

        from bench.bench_recommend import attribution_switched_off
        from recengine.cli.recommend import jsonl_line

        def export(handle) -> None:  # type: ignore[no-untyped-def]
            with attribution_switched_off() if variant == "switch" else nullcontext():
                for line in model.render_many(chosen, jsonl_line, 10, workers=1):
                    handle.write(line)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            export(handle)
        print("ready", flush=True)
        for _ in sys.stdin:
            # Each customer's profile built once per export, as in a `recengine recommend` process (the
            # model caches them; the cache is private to both versions alike).
            model._profiles.clear()
            began = time.process_time()
            with path.open("w", encoding="utf-8") as handle:
                export(handle)
            cpu = time.process_time() - began
            print(json.dumps({"cpu_s": cpu, "megabytes": path.stat().st_size / 1e6}), flush=True)


def _start(variant: str, tree: Path, users: int) -> subprocess.Popen[str]:
    environment = dict(os.environ, PYTHONPATH=str(tree))
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", variant, "--users", str(users)],
        cwd=tree, env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    code = process.stdout.readline().split(" ", 1)[-1].strip()
    if Path(code) != tree.resolve():  # an installed recengine would shadow the tree asked for
        process.kill()
        raise SystemExit(f"The {variant!r} export imported recengine from {code}, not {tree}.")
    return process


def compare(users: int, rounds: int) -> dict[str, dict[str, object]]:
    """CPU seconds of each variant's exports (alternating), from three processes."""
    with tempfile.TemporaryDirectory() as folder:
        before_tree = Path(folder) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before_tree), BEFORE],
                       check=True, capture_output=True)
        try:
            trees = {"before": before_tree, "now": ROOT, "switch": ROOT}
            processes = {name: _start(variant, trees[variant], users) for name, variant in VARIANTS.items()}
            for process in processes.values():
                assert process.stdout is not None
                while process.stdout.readline().strip() != "ready":
                    pass
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in processes}
            for _ in range(rounds):
                for name, process in processes.items():
                    assert process.stdin is not None and process.stdout is not None
                    process.stdin.write("go\n")
                    process.stdin.flush()
                    runs[name].append(json.loads(process.stdout.readline()))
            for process in processes.values():
                assert process.stdin is not None
                process.stdin.close()
                process.wait()
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before_tree)],
                           check=False, capture_output=True)
    return {
        name: {"cpu_s": min(run["cpu_s"] for run in found), "median_cpu_s": statistics.median(run["cpu_s"] for run in found),
               "all_cpu_s": [run["cpu_s"] for run in found], "megabytes": found[0]["megabytes"]}
        for name, found in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=3_000, help="Customers exported (and of the synthetic model).")
    parser.add_argument("--rounds", type=int, default=5, help="Timed exports of each variant, alternating.")
    parser.add_argument("--serve", choices=sorted(set(VARIANTS.values())), help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true")
    arguments = parser.parse_args()
    if arguments.serve:
        serve(arguments.serve, arguments.users)
        return
    sys.path.insert(0, str(ROOT))
    from bench.report import BENCHMARKS, publish, stamp
    known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{BEFORE}^{{commit}}"], capture_output=True)
    if known.returncode != 0:
        print(f"Skipped: commit {BEFORE} (the export before attribution) is not in this clone's history "
              "(a shallow clone?); fetch the full history to compare.")
        return
    load_start = os.getloadavg()[0]
    results = compare(arguments.users, arguments.rounds)
    load_end = os.getloadavg()[0]
    print(json.dumps(results), flush=True)
    before = results["before"]["cpu_s"]
    before_median = results["before"]["median_cpu_s"]
    rows = "\n".join(
        f"| {name} | {result['cpu_s']:.2f} s ({', '.join(f'{value:.2f}' for value in result['all_cpu_s'])}) | "
        f"{result['megabytes']:.0f} MB | {result['cpu_s'] / before:.2f}x | {result['median_cpu_s'] / before_median:.2f}x |"
        for name, result in results.items()
    )
    ratio = results["now"]["cpu_s"] / before
    median_ratio = results["now"]["median_cpu_s"] / before_median
    split = results["now"]["cpu_s"] / results["now, no attribution"]["cpu_s"]
    markdown = f"""## The batch export against the export before attribution (bench/bench_export_before.py)

{stamp()} Load average {load_start:.1f} at start, {load_end:.1f} at end.

{arguments.users:,} customers' top-10 with explanations as jsonl, 10,000 synthetic items, one process; CPU
seconds of the least costly of {arguments.rounds} alternating exports per variant (all runs in brackets).
"before" is commit {BEFORE}, the code when issue 22 was filed (no attribution, no borrowed estimates).

| variant | CPU | output | against before | medians against before's |
|---|---|---|---|---|
{rows}

Now against before: **{ratio:.2f}x** (target <= {TARGET:.2f}x: {'met' if ratio <= TARGET else '**not met**'}), medians
{median_ratio:.2f}x. The attribution split alone (now against now without it): {split:.2f}x. The least CPU counts
(other jobs on the shared cores only ever add to it); the medians show how far single runs stray.
"""
    publish(BENCHMARKS, "export-before", markdown, write=not arguments.no_write)


if __name__ == "__main__":
    main()
