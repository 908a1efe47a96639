"""Screenshots of the dashboard on the demo workspace for the README.

    .venv/bin/python bench/screenshots.py [--workspace workspaces/demo] [--out docs]

Starts `streamlit run app.py` on a loopback port, drives Debian's Chromium with Playwright and writes
docs/screenshot.png (the home page) and docs/screenshots/<page>.png for the main pages. A tall viewport
is used because Chromium's `full_page` capture only covers the viewport of a Streamlit app (its content
scrolls inside a container, not the document).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_pages import CHROMIUM, browser_page, ensure_demo, running_app, wait_for_render  # noqa: E402
from recengine.demo import generate_demo, write_demo_files  # noqa: E402

VIEWPORT = (1440, 1500)


def open_page(page: object, label: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=label, exact=True).click()  # type: ignore[attr-defined]
    page.wait_for_timeout(100)  # type: ignore[attr-defined]
    wait_for_render(page)


def settle(page: object) -> None:
    """Let tables (canvas) and charts draw before the capture."""
    wait_for_render(page)
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]


def customer_with_history(workspace: Path) -> str:
    """An active demo customer, so the recommendations screenshot shows a real history."""
    from recengine.workspace import Workspace

    rows = Workspace.open(workspace).store.query_rows(
        "SELECT user_id FROM reviews WHERE user_id IS NOT NULL GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1"
    )
    return str(rows[0][0]) if rows else ""


def take(workspace: Path, out: Path) -> list[Path]:
    written: list[Path] = []
    (out / "screenshots").mkdir(parents=True, exist_ok=True)
    with running_app(workspace) as url, browser_page(VIEWPORT) as page:
        page.goto(url)  # type: ignore[attr-defined]
        settle(page)
        home = out / "screenshot.png"
        page.screenshot(path=str(home))  # type: ignore[attr-defined]
        written.append(home)

        open_page(page, "For a customer")
        finder = page.get_by_label("Find a customer")  # type: ignore[attr-defined]
        customer = customer_with_history(workspace)
        if finder.count() and customer:
            finder.fill(customer)
            finder.press("Enter")
            settle(page)
            page.get_by_test_id("stExpander").filter(has_text="Why this product?").first.locator("summary").click()  # type: ignore[attr-defined]
            settle(page)
        target = out / "screenshots" / "recommendations.png"
        page.screenshot(path=str(target))  # type: ignore[attr-defined]
        written.append(target)

        for label, name in (("Review insights", "insights"), ("Similar products", "similar")):
            open_page(page, label)
            settle(page)
            target = out / "screenshots" / f"{name}.png"
            page.screenshot(path=str(target))  # type: ignore[attr-defined]
            written.append(target)

        # The Data page with two exports being previewed and mapped (nothing is ingested).
        open_page(page, "Data")
        with tempfile.TemporaryDirectory() as folder:
            files = write_demo_files(generate_demo(size="small"), folder)
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([str(files.catalog), str(files.reviews)])  # type: ignore[attr-defined]
            page.get_by_text("What is in this file?").nth(1).wait_for(timeout=120_000)  # type: ignore[attr-defined]
            settle(page)
            page.get_by_test_id("stExpander").first.scroll_into_view_if_needed()  # type: ignore[attr-defined]
            page.wait_for_timeout(500)  # type: ignore[attr-defined]
            target = out / "screenshots" / "data.png"
            page.screenshot(path=str(target))  # type: ignore[attr-defined]
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=ROOT / "workspaces" / "demo")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit(f"No Chromium at {CHROMIUM}: apt-get install -y chromium chromium-driver")
    workspace = args.workspace.resolve()
    ensure_demo(workspace)
    for path in take(workspace, args.out):
        print(path)


if __name__ == "__main__":
    main()
