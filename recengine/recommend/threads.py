"""Run small per-request matrix products on one BLAS thread.

A request multiplies a few thousand vectors by two or three interest vectors. OpenBLAS splits even
that across its threads, and on a busy 2-core machine waking them costs far more than the work:
measured here, a (2742 x 384) @ (384 x 2) product took 44 ms on 2 threads and 3 ms on one. Batch work
(score_users, fitting) keeps every thread. The limit is process-wide while it is held, so it is held
only for the few milliseconds of one request.

Why the limit is counted across threads. The OpenBLAS builds numpy and scipy ship (two separate
libraries, each with its own pool, pthreads threading layer) keep one process-wide thread count: a
count set in one thread is read by every other (`openblas_set_num_threads_local` sets that same count
in these builds; only OpenMP builds keep one per thread). And threadpoolctl (3.8) lets only one
"controlling" thread change it: the first to set it, until that thread leaves a `with` limit or
calls `OpenBLASController.clear_controlling_thread`; other threads' calls are silently ignored. So
when two dashboard sessions' requests overlap, a limit saved per entrant goes wrong: the second saves
the first's 1 as its original (and its own call is ignored), the first restores 2, the second then
takes control and "restores" 1, for good. One holder saved and restored from whichever thread comes
first and last fails too: its restore from another thread is ignored while the setting thread lives.
Hence `_ONE_BLAS_THREAD`: counted (`HeldSetting`), the first entrant sets 1 and the last leaver
restores, and each of those takes control of OpenBLAS only for its own call and gives it back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from recengine.held_setting import HeldSetting


@dataclass(frozen=True)
class _BlasLibraries:
    """threadpoolctl's controllers of the loaded BLAS libraries, and how to give back control of OpenBLAS."""

    controllers: tuple[Any, ...]
    give_back_control: Callable[[], None]
    modules: int  # len(sys.modules) at the scan: a library is loaded by an import (scipy's by scipy.linalg)

    @classmethod
    def loaded(cls) -> _BlasLibraries:
        """The BLAS libraries loaded now (none without threadpoolctl)."""
        modules = len(sys.modules)
        try:
            from threadpoolctl import OpenBLASController, ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            return cls((), lambda: None, modules)
        # threadpoolctl >= 3.8 ignores other threads' changes until the thread that set the count gives
        # back control; earlier versions have no such rule.
        give_back = getattr(OpenBLASController, "clear_controlling_thread", lambda: None)
        return cls(tuple(ThreadpoolController().select(user_api="blas").lib_controllers), give_back, modules)


# Scanned at the first request and again after an import (a scan takes milliseconds); None until then.
_libraries: _BlasLibraries | None = None


def _limit_to_one() -> list[tuple[Any, int]]:
    """Set every BLAS library to one thread; returns each library with its count from before."""
    global _libraries
    if _libraries is None or _libraries.modules != len(sys.modules):  # under the HeldSetting's lock
        _libraries = _BlasLibraries.loaded()
    # threadpoolctl's controllers directly, not its limiter, which reads every library's full info:
    # about 6 us per set and restore instead of 12.
    saved = [(library, threads) for library in _libraries.controllers if (threads := library.get_num_threads())]
    for library, _ in saved:
        library.set_num_threads(1)
    _libraries.give_back_control()  # else the restore, maybe from another thread, would be ignored
    return saved


def _restore(saved: list[tuple[Any, int]]) -> None:
    """Put back the counts `_limit_to_one` saved."""
    for library, threads in saved:
        library.set_num_threads(threads)
    if _libraries is not None:
        _libraries.give_back_control()


# Process-wide, like the OpenBLAS thread count it holds: every overlapping request in any thread
# counts as one holder.
_ONE_BLAS_THREAD = HeldSetting(_limit_to_one, _restore)


def single_blas_thread() -> AbstractContextManager[None]:
    """BLAS limited to one thread inside the block, restored when the last overlapping block ends.

    Re-entrant and counted across threads (see the module docstring); a no-op without threadpoolctl.
    """
    return _ONE_BLAS_THREAD.held()
