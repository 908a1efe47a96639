"""Time to first render of every dashboard page on the demo workspace; writes docs/BENCHMARKS.md.

    .venv/bin/python bench/bench_pages.py [--workspace workspaces/demo] [--no-browser]

Three views of "how long until the page is there":
- first render: the page's script in a fresh process (AppTest), nothing cached in memory; on the very
  first pass this includes whatever the page computes and stores on disk (analysis, embeddings, index);
- fresh server: the same again, in another fresh process, with the disk artefacts from the first pass;
- warm: a second run in the same process (Streamlit caches filled), what a user sees on a rerun;
- browser (when Debian's Chromium is present): a real `streamlit run`, from the click on the page's
  link until the script has finished (first visit after the server started, then a second visit).

The demo workspace is created with `recengine.demo.create_demo_workspace` when the folder holds none.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.report import BENCHMARKS, stamp, write_section  # noqa: E402

CHROMIUM = Path(os.environ.get("RECENGINE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# (page file, its label in the sidebar navigation), in navigation order.
PAGES = [
    ("pages/home.py", "Home"),
    ("pages/data.py", "Data"),
    ("pages/insights.py", "Review insights"),
    ("pages/recommendations.py", "For a customer"),
    ("pages/similar.py", "Similar products"),
    ("pages/search.py", "Search & bundles"),
    ("pages/evaluation.py", "Evaluation"),
    ("pages/fine_tuning.py", "Fine-tuning"),
]

# Run in a child process so that every page starts with empty in-memory caches.
_CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({app!r}, default_timeout=900)
at.switch_page({page!r})
started = time.perf_counter(); at.run(); first = time.perf_counter() - started
started = time.perf_counter(); at.run(); warm = time.perf_counter() - started
problems = [str(item.value)[:120] for item in at.exception] + [str(item.value)[:120] for item in at.error]
print(json.dumps({{"first": first, "warm": warm, "problems": problems}}))
"""


# The home page shows every capability's status section; in a fresh process each costs this much.
_SECTIONS_CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from recengine.status import status_sections
from recengine.workspace import Workspace
workspace = Workspace.open({workspace!r})
timings = {{}}
for name, section in status_sections().items():
    started = time.perf_counter(); section(workspace); timings[name] = time.perf_counter() - started
print(json.dumps(timings))
"""


def measure_status_sections(workspace: Path) -> dict[str, float]:
    code = _SECTIONS_CHILD.format(root=str(ROOT), workspace=str(workspace))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=900)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


@dataclass(frozen=True)
class PageTiming:
    page: str
    first_s: float
    fresh_s: float
    warm_s: float
    problems: list[str]


def run_page(page: str, env: dict[str, str]) -> dict[str, object]:
    code = _CHILD.format(root=str(ROOT), app=str(ROOT / "app.py"), page=page)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"first": float("nan"), "warm": float("nan"), "problems": [done.stderr.strip()[-300:]]}
    result = json.loads(lines[-1])
    if result["problems"]:
        # The page logged the cause (ui.common.guarded): keep the exception's last line with the message.
        causes = [line for line in done.stderr.splitlines() if line and not line.startswith((" ", "Traceback"))]
        result["problems"] = [f"{problem} (log: {causes[-1][:200] if causes else 'none'})" for problem in result["problems"]]
    return result


def measure_apptest(workspace: Path) -> list[PageTiming]:
    env = {**os.environ, "RECENGINE_WORKSPACE": str(workspace)}
    timings = []
    for page, _label in PAGES:
        first = run_page(page, env)
        fresh = run_page(page, env)
        timings.append(
            PageTiming(
                page,
                float(first["first"]),  # type: ignore[arg-type]
                float(fresh["first"]),  # type: ignore[arg-type]
                float(fresh["warm"]),  # type: ignore[arg-type]
                list(first["problems"]) + list(fresh["problems"]),  # type: ignore[arg-type]
            )
        )
        print(f"{page:28} first {timings[-1].first_s:7.2f} s  fresh {timings[-1].fresh_s:6.2f} s  "
              f"warm {timings[-1].warm_s:6.2f} s", file=sys.stderr)
    return timings


# -- a real server and browser ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_app(workspace: Path, *, env: dict[str, str] | None = None) -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port; yields its URL and stops it afterwards."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **(env or {}), "RECENGINE_WORKSPACE": str(workspace)},
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"streamlit did not start:\n{log.read().decode(errors='replace')}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                        break
                except OSError:
                    time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


LOAD_AT_START = os.getloadavg()
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


@contextmanager
def browser_page(viewport: tuple[int, int] = (1400, 1000)) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            yield page
        finally:
            browser.close()


def wait_for_render(page: object) -> None:
    """Wait until a script run has started and finished (the title is drawn and the app is idle)."""
    page.wait_for_selector("h1", timeout=900_000)  # type: ignore[attr-defined]
    page.wait_for_selector(IDLE, timeout=900_000)  # type: ignore[attr-defined]


def measure_browser(workspace: Path) -> dict[str, tuple[float, float]]:
    results: dict[str, list[float]] = {page: [] for page, _ in PAGES}
    with running_app(workspace) as url, browser_page() as page:
        started = time.perf_counter()
        page.goto(url)  # type: ignore[attr-defined]
        wait_for_render(page)
        results["pages/home.py"].append(time.perf_counter() - started)
        for round_number in range(2):
            for path, label in PAGES:
                if path == "pages/home.py" and round_number == 0:
                    continue
                link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=label, exact=True)  # type: ignore[attr-defined]
                started = time.perf_counter()
                link.click()
                page.wait_for_timeout(50)  # type: ignore[attr-defined]  # let the rerun start
                wait_for_render(page)
                results[path].append(time.perf_counter() - started)
    return {path: (values[0], values[1] if len(values) > 1 else float("nan")) for path, values in results.items()}


# -- main --------------------------------------------------------------------------------------------------


def ensure_demo(workspace: Path) -> str:
    from recengine.demo import create_demo_workspace
    from recengine.workspace import DATABASE_FILE

    if (workspace / DATABASE_FILE).exists():
        return "existing"
    started = time.perf_counter()
    create_demo_workspace(workspace)
    return f"created in {time.perf_counter() - started:.0f} s"


def render(
    workspace: Path,
    how: str,
    timings: list[PageTiming],
    browser: dict[str, tuple[float, float]] | None,
    sections: dict[str, float] | None = None,
) -> str:
    from recengine.workspace import Workspace

    summary = Workspace.open(workspace).summary()
    model = os.environ.get("RECENGINE_EMBED__MODEL", "default (bundled all-MiniLM-L6-v2)")
    lines = [
        "## Dashboard: time to first render per page",
        "",
        stamp(),
        f"Workspace: the demo ({summary.items:,} products, {summary.users:,} customers, {summary.reviews:,} reviews, "
        f"{summary.interactions:,} events; {how}); encoder: {model}.",
        "Command: `.venv/bin/python bench/bench_pages.py`. Load average when it started: "
        f"{LOAD_AT_START[0]:.1f} (other jobs share these 2 cores, so absolute figures are noisy; the "
        "differences between columns are the point).",
        "",
        "*first render*: the page alone in a fresh process (AppTest), nothing in memory; on this first pass it "
        "includes whatever the page computes and stores on disk. *fresh server*: the same in another fresh "
        "process, disk artefacts now present (what a user sees after a server restart). *warm*: a rerun in "
        "the same process (Streamlit caches filled)."
        + (" *browser*: a real `streamlit run` with Chromium, from the click on the page's link until the "
           "script finished; first visit after the server started / second visit." if browser else ""),
        "",
        "| page | first render (s) | fresh server (s) | warm rerun (s) |" + (" browser first / again (s) |" if browser else ""),
        "|---|---:|---:|---:|" + ("---:|" if browser else ""),
    ]
    for timing in timings:
        row = f"| {timing.page} | {timing.first_s:.2f} | {timing.fresh_s:.2f} | {timing.warm_s:.2f} |"
        if browser:
            first, again = browser[timing.page]
            row += f" {first:.2f} / {again:.2f} |"
        lines.append(row)
    if sections:
        lines += [
            "",
            "Home page status sections, each computed once in a fresh process (they run at the bottom of the "
            "page, after the data metrics and next steps are already shown): "
            + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in sections.items())
            + ".",
        ]
    problems = [f"- {timing.page}: {problem}" for timing in timings for problem in timing.problems]
    if problems:
        lines += ["", "Errors shown while measuring:", *problems]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=ROOT / "workspaces" / "demo")
    parser.add_argument("--no-browser", action="store_true", help="skip the real-browser timings")
    parser.add_argument("--no-write", action="store_true", help="print, do not update docs/BENCHMARKS.md")
    args = parser.parse_args(argv)
    workspace = args.workspace.resolve()
    how = ensure_demo(workspace)
    timings = measure_apptest(workspace)
    browser = None if args.no_browser or not CHROMIUM.exists() else measure_browser(workspace)
    markdown = render(workspace, how, timings, browser, measure_status_sections(workspace))
    print(markdown)
    if not args.no_write:
        write_section(BENCHMARKS, "dashboard-pages", markdown)


if __name__ == "__main__":
    main()
