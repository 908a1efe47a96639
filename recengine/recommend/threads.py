"""Run small per-request matrix products on one BLAS thread.

A request multiplies a few thousand vectors by two or three interest vectors. OpenBLAS splits even
that across its threads, and on a busy 2-core machine waking them costs far more than the work:
measured here, a (2742 x 384) @ (384 x 2) product took 44 ms on 2 threads and 3 ms on one. Batch work
(score_users, fitting) keeps every thread. The limit is process-wide while it is held, so it is held
only for the few milliseconds of one request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_controller: Any = None
_guard = threading.Lock()
_local = threading.local()


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread inside the block (re-entrant, no-op without threadpoolctl)."""
    global _controller
    if getattr(_local, "depth", 0):
        _local.depth += 1
        try:
            yield
        finally:
            _local.depth -= 1
        return
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with _guard:
        if _controller is None:
            _controller = ThreadpoolController()
    _local.depth = 1
    try:
        with _controller.limit(limits=1, user_api="blas"):
            yield
    finally:
        _local.depth = 0
