"""One BLAS thread per request (recengine.recommend.threads), also when requests overlap in threads.

These read the real BLAS libraries numpy and scipy loaded, through threadpoolctl: the bug they guard
against (a process left at one BLAS thread after two overlapping requests) lives in how OpenBLAS and
threadpoolctl behave across threads, which a fake would not show.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from recengine.recommend import Recommender
from recengine.recommend.threads import single_blas_thread

threadpoolctl = pytest.importorskip("threadpoolctl")

# Events are set within milliseconds; this only bounds a hang when the code under test is broken.
_WAIT_S = 10.0


def _blas_threads(*, per_thread: bool = False) -> list[int]:
    """The thread counts of the BLAS libraries with one count for the process (OpenBLAS on pthreads:
    numpy's, scipy's), or with one per thread (OpenBLAS on OpenMP: faiss's), read in the calling thread."""
    import scipy.linalg  # noqa: F401 - scipy's own OpenBLAS, loaded like the recommender's imports do

    return [
        info["num_threads"]
        for info in threadpoolctl.threadpool_info()
        if info["user_api"] == "blas" and (info.get("threading_layer") == "openmp") == per_thread
    ]


def _in_fresh_thread(read: Callable[[], Any]) -> Any:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(read()))
    thread.start()
    thread.join(_WAIT_S)
    return result[0]


@pytest.fixture
def libraries() -> Iterator[int]:
    """The process-wide BLAS counts at two for the test (so that a count left at one shows); how many."""
    _blas_threads()  # loads scipy's OpenBLAS before the controller scans the libraries
    controller = threadpoolctl.ThreadpoolController().select(user_api="blas")
    shared = [lib for lib in controller.lib_controllers if getattr(lib, "threading_layer", None) != "openmp"]
    if not shared:
        pytest.skip("no BLAS library with a process-wide thread count that threadpoolctl can control is loaded")
    # A thread left in control of OpenBLAS by other code (threadpoolctl >= 3.8) would make every other
    # thread's change a no-op.
    clear = getattr(threadpoolctl.OpenBLASController, "clear_controlling_thread", lambda force=False: None)
    clear(force=True)
    limiter = controller.limit(limits={lib.filepath: 2 for lib in shared})
    clear()
    try:
        if _blas_threads() != [2] * len(shared):
            pytest.skip(f"the BLAS thread count cannot be set to 2 here (reads {_blas_threads()})")
        yield len(shared)
    finally:
        limiter.restore_original_limits()
        clear()


class _Steps:
    """Named events threads wait on, to force one order of entering and leaving without sleeping."""

    def __init__(self, *names: str) -> None:
        self._events = {name: threading.Event() for name in names}

    def done(self, name: str) -> None:
        self._events[name].set()

    def wait(self, name: str) -> None:
        assert self._events[name].wait(_WAIT_S), f"step {name!r} never happened"


def _run(targets: list[Callable[[], None]], meanwhile: Callable[[], None]) -> None:
    """Run each target in its own thread and `meanwhile` in this one; re-raise the first failure."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    try:
        meanwhile()
    finally:
        for thread in threads:
            thread.join(_WAIT_S)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]


@pytest.mark.parametrize("first_leaves_first", [True, False], ids=["first-leaves-first", "first-leaves-last"])
def test_overlapping_blocks_in_two_threads_leave_blas_as_before(libraries: int, first_leaves_first: bool) -> None:
    steps = _Steps("first in", "second in", "early left", "late left", "checked")
    early, late = ("first", "second") if first_leaves_first else ("second", "first")
    seen: dict[str, list[int]] = {}

    def request(name: str, after: str | None) -> None:
        if after:
            steps.wait(after)
        with single_blas_thread():
            seen[f"{name} inside"] = _blas_threads()
            steps.done(f"{name} in")
            steps.wait("second in")
            if name == late:
                steps.wait("early left")
                seen["late inside, early left"] = _blas_threads()
        steps.done("early left" if name == early else "late left")
        # Alive until the main thread has read the count: a thread that set the limit and still lives
        # (a dashboard's session thread) must not keep the other thread's restore from taking effect.
        steps.wait("checked")

    def read_after_both() -> None:
        try:
            steps.wait("late left")
            seen["main thread after both"] = _blas_threads()
            seen["fresh thread after both"] = _in_fresh_thread(_blas_threads)
        finally:
            steps.done("checked")

    _run([lambda: request("first", None), lambda: request("second", "first in")], read_after_both)
    one, two = [1] * libraries, [2] * libraries
    assert seen == {
        "first inside": one,
        "second inside": one,
        "late inside, early left": one,  # the other block still holds the limit
        "main thread after both": two,
        "fresh thread after both": two,
    }
    assert _blas_threads() == two  # with both threads gone too


def test_nested_blocks_in_one_thread_restore_when_the_outer_ends(libraries: int) -> None:
    one, two = [1] * libraries, [2] * libraries
    with single_blas_thread():
        assert _blas_threads() == one
        with single_blas_thread():
            assert _blas_threads() == one
        assert _blas_threads() == one
    assert _blas_threads() == two
    assert _in_fresh_thread(_blas_threads) == two


def test_a_block_in_a_living_thread_restores_for_the_others(libraries: int) -> None:
    steps = _Steps("left", "checked")
    seen: dict[str, list[int]] = {}

    def request() -> None:
        with single_blas_thread():
            seen["inside"] = _blas_threads()
        steps.done("left")
        steps.wait("checked")

    def read_after() -> None:
        try:
            steps.wait("left")
            seen["main thread after"] = _blas_threads()
            # The main thread can change the count: the thread that set it, still alive, kept no control.
            with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
                seen["main thread's own limit"] = _blas_threads()
        finally:
            steps.done("checked")

    _run([request], read_after)
    one, two = [1] * libraries, [2] * libraries
    assert seen == {"inside": one, "main thread after": two, "main thread's own limit": one}


def test_a_failing_block_restores(libraries: int) -> None:
    with pytest.raises(RuntimeError), single_blas_thread():
        raise RuntimeError("request failed")
    assert _blas_threads() == [2] * libraries


def test_concurrent_requests_in_living_threads_leave_blas_as_before(libraries: int, recommender: Recommender) -> None:
    """Two sessions' threads answering requests at once, as the dashboard's do (overlaps by chance)."""
    users = ["j0", "g1", "j2"]
    finished = threading.Barrier(3, timeout=_WAIT_S)
    checked = threading.Event()

    def session() -> None:
        for _ in range(40):
            for user in users:
                recommender.recommend(user, k=5)
        finished.wait()
        checked.wait(_WAIT_S)  # alive while the count is read, as a session's thread stays

    seen: list[list[int]] = []

    def read_after() -> None:
        try:
            finished.wait()
            seen.append(_blas_threads())
        finally:
            checked.set()

    _run([session, session], read_after)
    assert seen == [[2] * libraries]


_LOADED_LATER = """
import json
from threadpoolctl import threadpool_info
from recengine.recommend.threads import single_blas_thread
def counts():
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
with single_blas_thread():
    before_scipy = counts()
import scipy.linalg  # loads scipy's own OpenBLAS
with single_blas_thread():
    inside = counts()
print(json.dumps({"before scipy": before_scipy, "inside": inside, "after": counts()}))
"""


def test_a_blas_library_loaded_after_the_first_block_is_limited_too(libraries: int) -> None:
    """The recommender's imports load numpy's OpenBLAS only; scipy.linalg, imported later, brings its own."""
    import json
    import subprocess
    import sys

    # A fresh interpreter: in this one scipy's library is loaded already. Its count starts at 2 too.
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    result = subprocess.run(
        [sys.executable, "-c", _LOADED_LATER], capture_output=True, text=True, check=True, env=environment,
        timeout=60,
    )
    counts = json.loads(result.stdout)
    if len(counts["inside"]) != 2:
        pytest.skip(f"numpy and scipy do not load two BLAS libraries here ({counts})")
    assert counts == {"before scipy": [1], "inside": [1, 1], "after": [2, 2]}


def test_a_per_thread_blas_is_limited_and_restored_by_each_thread_itself(libraries: int) -> None:
    pytest.importorskip("faiss")  # faiss-cpu's wheel brings an OpenBLAS on OpenMP
    own_before = _in_fresh_thread(lambda: _blas_threads(per_thread=True))
    if not own_before or 1 in own_before:
        pytest.skip(f"no BLAS library with a per-thread count above one here ({own_before})")
    one = [1] * len(own_before)
    steps = _Steps("first in", "second in", "first left", "second left", "checked")
    seen: dict[str, list[int]] = {}

    def request(name: str, after: str | None) -> None:
        if after:
            steps.wait(after)
        with single_blas_thread():
            seen[f"{name}'s own, inside"] = _blas_threads(per_thread=True)
            steps.done(f"{name} in")
            steps.wait("second in")
            if name == "second":
                steps.wait("first left")
                seen["second's own, inside, first left"] = _blas_threads(per_thread=True)
        if name == "first":
            # Restored in this thread at once, though the other thread still holds the limit (and the
            # process-wide counts stay at one for it).
            seen["first's own, after"] = _blas_threads(per_thread=True)
            seen["process-wide, first left"] = _blas_threads()
            steps.done("first left")
        else:
            seen["second's own, after"] = _blas_threads(per_thread=True)
            steps.done("second left")
        steps.wait("checked")

    def read_after_both() -> None:
        try:
            steps.wait("second left")
            seen["process-wide, after both"] = _blas_threads()
        finally:
            steps.done("checked")

    _run([lambda: request("first", None), lambda: request("second", "first in")], read_after_both)
    assert seen == {
        "first's own, inside": one,
        "second's own, inside": one,
        "first's own, after": own_before,
        "process-wide, first left": [1] * libraries,
        "second's own, inside, first left": one,
        "second's own, after": own_before,
        "process-wide, after both": [2] * libraries,
    }
