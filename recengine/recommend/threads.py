"""Run small per-request matrix products on one BLAS thread.

A request multiplies a few thousand vectors by two or three interest vectors. OpenBLAS splits even
that across its threads, and on a busy 2-core machine waking them costs far more than the work:
measured here, a (2742 x 384) @ (384 x 2) product took 44 ms on 2 threads and 3 ms on one. Batch work
(score_users, fitting) keeps every thread. The limit is held only for the few milliseconds of one
request.

Why the limit is counted across threads. The OpenBLAS builds numpy and scipy ship (two separate
libraries, pthreads threading layer) keep one process-wide thread count: a count set in one thread is
read by every other (`openblas_set_num_threads_local` sets that same count in these builds). And
threadpoolctl (3.8) lets only one "controlling" thread change it: the first to set it, until that
thread leaves a `with` limit or calls `OpenBLASController.clear_controlling_thread`; other threads'
calls are silently ignored. So when two dashboard sessions' requests overlap, a limit saved per
entrant goes wrong: the second saves the first's 1 as its original (and its own call is ignored), the
first restores 2, the second then takes control and "restores" 1, for good. One holder saved and
restored from whichever thread comes first and last fails too: its restore from another thread is
ignored while the setting thread lives. Hence `_SHARED_POOLS`: counted (`HeldSetting`), the first
entrant sets 1 and the last leaver restores, and each of those takes control of OpenBLAS only for its
own call and gives it back.

faiss-cpu ships a third OpenBLAS, built on OpenMP: its count is OpenMP's, one per thread (threadpoolctl
sets it with `omp_set_num_threads`). Each thread limits that one itself and restores it when its own
outermost block ends (`_own_pools`, one counted holder per thread): restored from another thread, it
would stay at one in the thread that set it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from recengine.held_setting import HeldSetting

# A library controller (threadpoolctl's) with the thread count it had before the limit.
_Saved = list[tuple[Any, int]]


@dataclass(frozen=True)
class _BlasLibraries:
    """threadpoolctl's controllers of the loaded BLAS libraries, by the reach of their thread count."""

    shared: tuple[Any, ...]  # one count for the process (OpenBLAS on pthreads: numpy's, scipy's)
    per_thread: tuple[Any, ...]  # one count per calling thread (OpenBLAS on OpenMP: faiss's)
    give_back_control: Callable[[], None]
    modules: int  # len(sys.modules) at the scan: a library is loaded by an import (scipy's by scipy.linalg)

    @classmethod
    def loaded(cls) -> _BlasLibraries:
        """The BLAS libraries loaded now (none without threadpoolctl)."""
        modules = len(sys.modules)
        try:
            from threadpoolctl import OpenBLASController, ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            return cls((), (), lambda: None, modules)
        controllers = ThreadpoolController().select(user_api="blas").lib_controllers
        per_thread = tuple(lib for lib in controllers if getattr(lib, "threading_layer", None) == "openmp")
        shared = tuple(lib for lib in controllers if lib not in per_thread)
        # threadpoolctl >= 3.8 ignores other threads' changes until the thread that set the count gives
        # back control; earlier versions have no such rule.
        give_back = getattr(OpenBLASController, "clear_controlling_thread", lambda: None)
        return cls(shared, per_thread, give_back, modules)


# Scanned at the first request and again after an import (a scan takes milliseconds); None until then.
_libraries: _BlasLibraries | None = None


def _set_to_one(controllers: tuple[Any, ...]) -> _Saved:
    # threadpoolctl's controllers directly, not its limiter, which reads every library's full info:
    # about 6 us per set and restore instead of 12.
    saved = [(library, threads) for library in controllers if (threads := library.get_num_threads())]
    for library, _ in saved:
        library.set_num_threads(1)
    return saved


def _put_back(saved: _Saved) -> None:
    for library, threads in saved:
        library.set_num_threads(threads)


def _limit_shared() -> _Saved:
    """Set the process-wide counts to one (finding the libraries first if an import may have added one)."""
    global _libraries
    if _libraries is None or _libraries.modules != len(sys.modules):  # under the HeldSetting's lock
        _libraries = _BlasLibraries.loaded()
    saved = _set_to_one(_libraries.shared)
    _libraries.give_back_control()  # else the restore, maybe from another thread, would be ignored
    return saved


def _restore_shared(saved: _Saved) -> None:
    _put_back(saved)
    if _libraries is not None:
        _libraries.give_back_control()


def _limit_own() -> _Saved:
    """Set this thread's counts to one (`_limit_shared`, entered first, has found the libraries)."""
    return _set_to_one(_libraries.per_thread if _libraries is not None else ())


# Process-wide, like the count it holds: every overlapping request in any thread counts as one holder.
_SHARED_POOLS = HeldSetting(_limit_shared, _restore_shared)
_threads = threading.local()


def _own_pools() -> HeldSetting[_Saved]:
    """This thread's holder of its per-thread counts (nested blocks count; the outermost restores)."""
    holder: HeldSetting[_Saved] | None = getattr(_threads, "own_pools", None)
    if holder is None:
        holder = _threads.own_pools = HeldSetting(_limit_own, _put_back)
    return holder


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread inside the block, restored when the last overlapping block ends.

    Re-entrant and counted across threads (see the module docstring); a no-op without threadpoolctl.
    """
    with _SHARED_POOLS.held():
        if _libraries is None or not _libraries.per_thread:
            yield
            return
        with _own_pools().held():
            yield
