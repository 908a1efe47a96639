"""Write one benchmark's results into a marked block of a Markdown report, leaving other blocks alone."""

from __future__ import annotations

import os
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"
EVALUATION = ROOT / "docs" / "EVALUATION.md"


def machine_description() -> str:
    """One line naming the machine the figures come from."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory_gb}, Python {platform.python_version()}, {platform.system()}"


def stamp() -> str:
    return f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine_description()}."


def publish(doc_path: Path, name: str, markdown: str, *, write: bool) -> None:
    """Print a report's Markdown; with `write`, also put it in its block of `doc_path` and say so on stderr."""
    if write:
        write_section(doc_path, name, markdown)
    print(markdown)
    if write:
        print(f"wrote {doc_path}", file=sys.stderr)


def write_section(doc_path: Path, name: str, markdown: str) -> None:
    """Replace the block `<!-- BEGIN name -->...<!-- END name -->` in `doc_path`, or append it."""
    doc_path.parent.mkdir(parents=True, exist_ok=True)
    title = "Benchmarks" if doc_path.name == "BENCHMARKS.md" else "Evaluation"
    existing = doc_path.read_text(encoding="utf-8") if doc_path.exists() else f"# {title}\n\n"
    block = f"<!-- BEGIN {name} -->\n{markdown.strip()}\n<!-- END {name} -->"
    pattern = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.S)
    if pattern.search(existing):
        updated = pattern.sub(lambda _match: block, existing)
    else:
        updated = existing.rstrip() + "\n\n" + block + "\n"
    doc_path.write_text(updated, encoding="utf-8")
