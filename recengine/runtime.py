"""Device selection in one place: explicit setting > RECENGINE_DEVICE > CUDA > Apple MPS > CPU."""

from __future__ import annotations

import os
import platform
import sys
from functools import lru_cache
from pathlib import Path

from recengine.errors import ConfigError

VALID_DEVICES = ("cpu", "cuda", "mps")


def choose_device(explicit: str | None = None) -> str:
    """Return the torch device string to run models on.

    Args:
        explicit: A device asked for by the caller ("cpu", "cuda", "cuda:1", "mps"); wins over all else.
    """
    requested = explicit or os.environ.get("RECENGINE_DEVICE") or ""
    requested = requested.strip().lower()
    if requested and requested != "auto":
        if requested.split(":")[0] not in VALID_DEVICES:
            raise ConfigError(
                f"Unknown device {requested!r}.", hint=f"Use one of {', '.join(VALID_DEVICES)} or auto."
            )
        return requested
    return _detect_device()


def expected_device(explicit: str | None = None) -> str:
    """The device `choose_device` would pick, without importing torch when it is not loaded yet.

    Importing torch takes seconds on a small machine; a status line should not pay that. Until torch is
    loaded, the answer comes from the setting or the machine (an NVIDIA driver, Apple silicon), which can
    only differ from `choose_device` where torch was built without support for that accelerator.
    """
    if "torch" in sys.modules:
        return choose_device(explicit)
    requested = (explicit or os.environ.get("RECENGINE_DEVICE") or "").strip().lower()
    if requested and requested != "auto":
        return choose_device(requested)
    if Path("/proc/driver/nvidia/version").exists():
        return "cuda"
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return "mps"
    return "cpu"


@lru_cache(maxsize=1)
def _detect_device() -> str:
    import torch  # imported here so that importing recengine stays fast

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


@lru_cache(maxsize=1)
def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 matrix instructions (AVX-512 BF16 or AMX).

    Without them bf16 on CPU is emulated and slower than fp32, so we only choose it when present.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            flags = cpuinfo.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def quiet_transformers_progress() -> None:
    """Switch off transformers' weight loading/saving bars: they would interleave with recengine's own
    progress line on stderr."""
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass
