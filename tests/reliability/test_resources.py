"""Bounded resources: many recommendation calls and many page reloads do not grow memory without bound.

Memory is the resident set size from /proc/self/statm (no psutil). Each loop warms up first (caches,
lazy imports, allocator pools), then must stay within a small bound while it repeats the same work:
a leak of even a kilobyte per call would show over 1,000 calls.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import pytest
from reliability_data import catalog_csv, events_csv, reviews_csv, source

from recengine.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Resident memory of this process in MiB (Linux)."""
    fields = Path("/proc/self/statm").read_text().split()
    return int(fields[1]) * PAGE_SIZE / 2**20


def _shop(root: Path) -> Workspace:
    workspace = Workspace.open(root)
    workspace.ingest(
        [
            source("catalog", "catalog.csv", catalog_csv(120)),
            source("reviews", "reviews.csv", reviews_csv(600, items=120, users=150)),
            source("interactions", "events.csv", events_csv(900, items=120, users=150)),
        ]
    )
    return workspace


def _recommendation_loop(workspace: Workspace, calls: int) -> tuple[float, float, float]:
    from recengine.recommend import Recommender

    users = [f"U{number:03d}" for number in range(150)]
    recommender = Recommender.from_workspace(workspace)

    def one(number: int) -> None:
        nonlocal recommender
        if number % 25 == 0:
            # As the dashboard does per request: the workspace's recommender, cached per data version
            # (each look reads the data version from the database, so not on every call here).
            recommender = Recommender.from_workspace(workspace)
        results = recommender.recommend(users[number % len(users)], k=10)
        assert results and all(result.explanation.reason for result in results)

    for number in range(max(50, calls // 10)):  # warm-up: every user's profile cached once
        one(number)
    gc.collect()
    start = rss_mb()
    peak = start
    for number in range(calls):
        one(number)
        if number % 50 == 0:
            peak = max(peak, rss_mb())
    gc.collect()
    return start, rss_mb(), peak


@pytest.mark.parametrize("calls", [pytest.param(100, id="100"), pytest.param(1000, id="1000", marks=pytest.mark.slow)])
def test_recommendation_calls_do_not_grow_memory(tmp_path: Path, calls: int) -> None:
    workspace = _shop(tmp_path / "ws")
    start, end, peak = _recommendation_loop(workspace, calls)
    print(f"{calls} recommendation calls: RSS {start:.1f} -> {end:.1f} MiB (peak {peak:.1f})")
    assert end - start < 15.0, (start, end, peak)


def open_page(page: str, workspace: Path) -> object:
    """Run one page of the dashboard on `workspace`, as a fresh browser session would."""
    from streamlit.testing.v1 import AppTest

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # `ui` lives at the repository root
    app = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=120)
    app.session_state["workspace_dir"] = str(workspace)
    return app.run()


@pytest.mark.slow  # each AppTest run of the page takes seconds on a busy machine
@pytest.mark.parametrize("reloads", [20])
def test_page_reloads_do_not_grow_memory(tmp_path: Path, reloads: int) -> None:
    workspace = _shop(tmp_path / "ws")
    sizes = []
    for _reload in range(reloads):
        app = open_page("recommendations.py", workspace.root)
        assert not app.exception, [exception.message for exception in app.exception]  # type: ignore[attr-defined]
        del app
        gc.collect()
        sizes.append(rss_mb())
    print(f"{reloads} reloads of the Recommendations page: RSS {[round(size, 1) for size in sizes]} MiB")
    # After two warm-up runs (imports, caches) memory stays flat; a per-run leak would climb steadily.
    assert sizes[-1] - sizes[1] < 10.0 + 1.0 * reloads, sizes
