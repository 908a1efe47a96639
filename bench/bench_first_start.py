"""The first start a presenter sees: `scripts/start.sh` on a fresh clone, timed in Chromium.

    .venv/bin/python bench/bench_first_start.py [--venv PATH] [--timeout 900] [--no-write]

A fresh clone of this repository's HEAD (no workspace, nothing cached) whose `.venv` is a link to an
installed environment (`--venv`, default this checkout's .venv), with PYTHONPATH set to the clone so
that its own code runs, as an editable install of the clone would. Then:

- `scripts/start.sh` starts (the clock starts here), on a free port;
- Chromium (Playwright, Debian's /usr/bin/chromium) opens the dashboard as soon as it answers, and the
  time until the home page shows the demo's product count is "first home page";
- the workspace's pending preparation steps are polled: the time each one is done, and when all are;
- the browser, never reloaded, must see the home page's preparation panel go by itself;
- the preparation job's CPU seconds per step (from its result): what the preparation costs, which the
  load of other work inflates far less than every wall-clock figure.

The machine's load (1-minute average at the start and at the end) is part of the report: on a shared
machine every figure moves with it. Writes the `first-start` block of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_pages import CHROMIUM, browser_page, free_port  # noqa: E402
from bench.report import BENCHMARKS, publish, stamp  # noqa: E402

FIRST_PAGE_TARGET_S = 30.0
ALL_READY_TARGET_S = 120.0
PANEL = "Preparing this workspace in the background"


@dataclass
class FirstStart:
    """What one first start measured (seconds from the start of start.sh)."""

    first_page_s: float = float("nan")
    products_shown: str = ""
    steps_done_s: dict[str, float] = field(default_factory=dict)
    all_ready_s: float = float("nan")
    panel_gone_s: float = float("nan")
    job_status: str = ""
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    sentiment_quality: dict[str, object] = field(default_factory=dict)
    script_lines: list[str] = field(default_factory=list)
    load_before: float = 0.0
    load_after: float = 0.0


def fresh_clone(target: Path, venv: Path) -> Path:
    """A clone of HEAD at `target` with `.venv` linked to an installed environment."""
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)], check=True)
    (target / ".venv").symlink_to(venv.resolve(), target_is_directory=True)
    return target


def run_first_start(clone: Path, timeout_s: float) -> FirstStart:
    """Start the dashboard with scripts/start.sh and time what a presenter sees."""
    from recengine.preparation import STEP_NAMES, pending_steps
    from recengine.text import analysis_state
    from recengine.workspace import DATABASE_FILE, Workspace

    result = FirstStart(load_before=os.getloadavg()[0])
    port = free_port()
    workspace_dir = clone / "workspaces" / "demo"
    environment = {**os.environ, "PYTHONPATH": str(clone), "RECENGINE_WORKSPACE": "workspaces/demo"}
    log_path = clone / "start.log"
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        script = subprocess.Popen(
            ["scripts/start.sh", "--server.port", str(port), "--server.fileWatcherType", "none"],
            cwd=clone, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        with browser_page() as page:
            url = f"http://127.0.0.1:{port}/"
            while True:
                if script.poll() is not None:
                    raise RuntimeError(f"start.sh ended early:\n{log_path.read_text(errors='replace')}")
                if time.perf_counter() - started > timeout_s:
                    raise TimeoutError("the dashboard did not answer")
                try:
                    page.goto(url, timeout=5_000)  # type: ignore[attr-defined]
                    break
                except Exception:  # noqa: BLE001 - connection refused until streamlit listens
                    time.sleep(0.2)
            products = page.locator('[data-testid="stMetric"]', has_text="Products")  # type: ignore[attr-defined]
            products.first.wait_for(timeout=timeout_s * 1000)
            result.first_page_s = time.perf_counter() - started
            result.products_shown = re.sub(r"\s+", " ", products.first.inner_text()).strip()

            workspace = Workspace(workspace_dir)
            left = list(STEP_NAMES)
            while left and time.perf_counter() - started < timeout_s:
                if (workspace_dir / DATABASE_FILE).exists():
                    pending = set(pending_steps(workspace))
                    for name in [name for name in left if name not in pending]:
                        result.steps_done_s[name] = time.perf_counter() - started
                        left.remove(name)
                time.sleep(0.25)
            if not left:
                result.all_ready_s = max(result.steps_done_s.values())
                panel = page.get_by_text(PANEL)  # type: ignore[attr-defined]
                panel.wait_for(state="detached", timeout=60_000)
                result.panel_gone_s = time.perf_counter() - started
            result.sentiment_quality = dict(analysis_state(workspace).get("quality") or {})
            jobs = workspace.store.query_rows("SELECT status, result FROM jobs ORDER BY created_at DESC LIMIT 1")
            result.job_status = str(jobs[0][0]) if jobs else "none"
            job_result = json.loads(jobs[0][1]) if jobs and jobs[0][1] else {}
            result.cpu_seconds = {name: float(value) for name, value in (job_result.get("cpu_seconds") or {}).items()}
    finally:
        try:
            os.killpg(script.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        script.wait(timeout=30)
        result.load_after = os.getloadavg()[0]
        # start.sh's own messages: up to the one that hands over to Streamlit (whose log follows).
        lines = log_path.read_text(errors="replace").splitlines()
        handover = next((i for i, line in enumerate(lines) if line.startswith("Starting the dashboard")), len(lines))
        result.script_lines = lines[: handover + 1]
    return result


def seconds(value: float) -> str:
    return "not reached" if value != value else f"{value:.1f} s"


def render(result: FirstStart, clone_note: str) -> str:
    quality = result.sentiment_quality.get("learned") if result.sentiment_quality else None
    quality_text = (
        f"accuracy {quality['accuracy']:.3f}, macro-F1 {quality['macro_f1']:.3f}, polarity macro-F1 "
        f"{quality['polarity_macro_f1']:.3f} on {quality['reviews']:,} held-out reviews"
        if isinstance(quality, dict) else "not measured"
    )
    step_rows = "\n".join(f"| {name} done | {seconds(at)} |" for name, at in result.steps_done_s.items())
    cpu_text = (
        ", ".join(f"{name} {value:.1f}" for name, value in result.cpu_seconds.items())
        + f"; {sum(result.cpu_seconds.values()):.1f} CPU s in all"
        if result.cpu_seconds else "not recorded"
    )
    first_ok = "yes" if result.first_page_s <= FIRST_PAGE_TARGET_S else "NO"
    all_ok = "yes" if result.all_ready_s <= ALL_READY_TARGET_S else "NO"
    lines = "\n".join(f"    {line}" for line in result.script_lines)
    return f"""## First start (scripts/start.sh on a fresh clone, timed in Chromium)

{stamp()} 1-minute load average {result.load_before:.1f} at the start, {result.load_after:.1f} at the end
(the machine is shared: every figure moves with its load). {clone_note}
Command: `.venv/bin/python bench/bench_first_start.py`.

| from the start of `scripts/start.sh` | seconds |
|---|---|
| first rendered home page with the demo's data ({result.products_shown}) | {seconds(result.first_page_s)} |
{step_rows}
| every capability ready (all steps done) | {seconds(result.all_ready_s)} |
| the home page's progress panel gone in the browser, never reloaded | {seconds(result.panel_gone_s)} |

Targets: first page within {FIRST_PAGE_TARGET_S:.0f} s: {first_ok}; everything within {ALL_READY_TARGET_S:.0f} s: {all_ok}.
CPU seconds of the preparation job (all its threads; the load inflates them far less than the times
above, though some: the 2 cores share caches with the other work): {cpu_text}.
The preparation job ended {result.job_status}; the learned sentiment model's held-out figures: {quality_text}.

What start.sh printed:

{lines}
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv", help="An installed environment to link as .venv.")
    parser.add_argument("--timeout", type=float, default=900.0, help="Seconds to wait for every step.")
    parser.add_argument("--keep", action="store_true", help="Keep the clone (printed) for a look afterwards.")
    parser.add_argument("--no-write", action="store_true", help="Print the block; leave docs/BENCHMARKS.md alone.")
    arguments = parser.parse_args(argv)
    if not CHROMIUM.exists():
        sys.exit(f"Chromium not found at {CHROMIUM} (scripts/test.sh installs Debian's chromium).")
    if not (arguments.venv / "bin" / "python").exists():
        sys.exit(f"No environment at {arguments.venv}: run scripts/setup.sh first or pass --venv.")
    holder = Path(tempfile.mkdtemp(prefix="recengine-first-start-"))
    clone = fresh_clone(holder / "recengine", arguments.venv)
    note = (f"The clone's `.venv` links to an installed environment ({arguments.venv.resolve().name}) and "
            "PYTHONPATH points at the clone, as an editable install of the clone would.")
    result = run_first_start(clone, arguments.timeout)
    print(json.dumps({**result.__dict__}, indent=1, default=str), file=sys.stderr)
    publish(BENCHMARKS, "first-start", render(result, note), write=not arguments.no_write)
    if arguments.keep:
        print(f"clone kept at {clone}", file=sys.stderr)
    else:
        import shutil

        shutil.rmtree(holder, ignore_errors=True)


if __name__ == "__main__":
    main()
