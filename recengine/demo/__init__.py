"""Generated demo data: a realistic shop with products, customers, reviews and click-stream events.

`generate_demo` builds it in memory (seeded, deterministic), `write_demo_files` writes it as a shop
system would export it, and `create_demo_workspace` ingests those files into a workspace. Everything
in it is invented: the dashboard says so wherever a demo workspace is open.
"""

from __future__ import annotations

from recengine.demo.files import DemoFiles, write_demo_files
from recengine.demo.generate import PERIOD_END, PERIOD_START, SIZES, DemoData, DemoSize, generate_demo
from recengine.demo.workspace import (
    create_demo_workspace,
    ensure_demo_workspace,
    small_demo_workspace,
)

__all__ = [
    "PERIOD_END",
    "PERIOD_START",
    "SIZES",
    "DemoData",
    "DemoFiles",
    "DemoSize",
    "create_demo_workspace",
    "ensure_demo_workspace",
    "generate_demo",
    "small_demo_workspace",
    "write_demo_files",
]
