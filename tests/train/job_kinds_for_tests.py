"""Job kinds used by the runner tests; the worker finds them through RECENGINE_JOB_KINDS."""

from __future__ import annotations

import time
from typing import Any


def quick(workspace: Any, params: dict[str, Any], context: Any) -> dict[str, Any]:
    context.progress(0.5, "half way")
    context.event("loss", {"step": 1, "loss": 1.5})
    return {"answer": params.get("answer", 42)}


def boom(workspace: Any, params: dict[str, Any], context: Any) -> dict[str, Any]:
    context.log("about to fail")
    raise ValueError("boom")


def sleepy(workspace: Any, params: dict[str, Any], context: Any) -> dict[str, Any]:
    seconds = float(params.get("seconds", 30))
    started = time.monotonic()
    step = 0
    while time.monotonic() - started < seconds:
        if context.cancelled():
            raise RuntimeError("stopped on request")
        step += 1
        context.progress((time.monotonic() - started) / seconds, f"step {step}")
        context.event("loss", {"step": step, "loss": 1.0 / step})
        time.sleep(0.05)
    return {"steps": step}
