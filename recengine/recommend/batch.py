"""Recommendations for many users at once, spread over worker processes.

Workers are forked from the process that holds the fitted model, so they share its arrays
copy-on-write instead of pickling them; each worker takes chunks of user ids and returns the finished
lists (`Recommender.recommend_chunk`: a chunk's explanations are computed together). Where fork is
unavailable (or one worker is asked for) everything runs in this process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from recengine.held_setting import HeldSetting
from recengine.progress import Progress, no_progress

if TYPE_CHECKING:
    from recengine.recommend.recommender import Recommender
    from recengine.recommend.results import Recommendation
    from recengine.recommend.rules import RuleSet

CHUNK = 250
# The model a forked worker inherits (set just before the pool forks).
_SHARED: dict[str, Any] = {}


def default_workers() -> int:
    """One worker per idle core: on a busy machine extra processes only queue for the same cores
    (measured on a shared 2-core machine at load 12: 67 s with one process, 95 s with two)."""
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS
        cores = max(1, os.cpu_count() or 1)
    try:
        busy = int(round(os.getloadavg()[0]))
    except OSError:  # pragma: no cover - no load average on this platform
        busy = 0
    return max(1, min(cores, cores - busy))


def user_and_list(user_id: str, recommendations: list[Recommendation]) -> tuple[str, list[Recommendation]]:
    """The default rendering of a batch: the pair itself."""
    return user_id, recommendations


def _chunk_worker(user_ids: list[str]) -> list[Any]:
    options = _SHARED["options"]
    return rendered_chunk(_SHARED["model"], user_ids, options["k"], rules=options["rules"], weights=options["weights"],
                          render=options["render"])


def rendered_chunk(
    model: Recommender, user_ids: Sequence[str], k: int, *, rules: RuleSet | None,
    weights: Mapping[str, float] | None, render: Callable[[str, list[Recommendation]], Any],
) -> list[Any]:
    """`render(user_id, recommendations)` of one chunk of users, computed with automatic garbage
    collection paused (`collections_paused`)."""
    with collections_paused():
        lists = model.recommend_chunk(user_ids, k, rules=rules, weights=weights)
        return [render(user_id, found) for user_id, found in zip(user_ids, lists, strict=True)]


def recommend_batch(
    model: Recommender,
    user_ids: Sequence[str],
    k: int,
    *,
    rules: RuleSet | None = None,
    weights: Mapping[str, float] | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    chunk: int = CHUNK,
    render: Callable[[str, list[Recommendation]], Any] = user_and_list,
) -> Iterator[Any]:
    """`render(user_id, recommendations)` for every user, in the order given, computed by `workers` processes.

    By default the pair itself. An export renders what it writes (a JSON line, CSV rows): rendered in
    the workers, only that crosses back to this process, where the explained records would cost more
    to pickle and rebuild than to render (a forked worker calls `render` as it is, unpickled).
    """
    report = progress or no_progress
    ids = [str(user_id) for user_id in user_ids]
    count = workers if workers is not None else default_workers()
    use_pool = count > 1 and len(ids) > chunk and "fork" in multiprocessing.get_all_start_methods()
    with _model_out_of_collections():
        if use_pool:
            yield from _in_workers(model, ids, k, rules, weights, count, chunk, report, render)
        else:
            for start in range(0, len(ids), chunk):
                # recommend_chunk holds one BLAS limit per chunk, not per user (entering threadpoolctl's
                # limit costs more than a small user's whole request), released between chunks for other work.
                yield from rendered_chunk(model, ids[start : start + chunk], k, rules=rules, weights=weights,
                                          render=render)
                done = min(start + chunk, len(ids))
                report(done / max(len(ids), 1), f"{done:,} of {len(ids):,} users")
    report(1.0, f"{len(ids):,} users")


def _freeze_collections() -> None:
    gc.freeze()


def _unfreeze_collections(_: None) -> None:
    gc.unfreeze()


# The objects that exist when an export starts (the fitted model's) left out of the garbage collector's
# passes while it runs.
#
# An export allocates millions of small records (an explanation's attributions, and in a pool the
# unpickled results), which triggers collections that would each traverse the model's objects too:
# with them frozen, unpickling a chunk of 250 explained lists cost 0.26 ms per user instead of 0.72 on
# the shared machine. Forked workers inherit the frozen state, so their collections leave the model's
# pages unwritten (shared copy-on-write, as `gc.freeze` documents). Like the pause below, process-wide
# and counted: overlapping exports (dashboard threads) unfreeze when the last one ends.
_FROZEN = HeldSetting(_freeze_collections, _unfreeze_collections)


def _model_out_of_collections() -> AbstractContextManager[None]:
    """The model's objects out of the collector's passes inside the block (see `_FROZEN`)."""
    return _FROZEN.held()


def _pause_collector() -> bool:
    was_enabled = gc.isenabled()
    gc.disable()
    return was_enabled


def _resume_collector(was_enabled: bool) -> None:
    if was_enabled:
        gc.enable()


# Automatic garbage collection switched off while at least one chunk is computed, in any thread.
#
# A chunk's explained records (about 150 small objects per customer with its attribution, a chunk's
# worth alive at once until rendered) are acyclic and freed by reference counting; left on, the
# collector's passes traverse them again and again as they pile up: timed with `gc.callbacks` on the
# bench's export (1,500 customers), its passes took 0.15 ms per customer with the attribution, 0.05
# without. `gc.disable` is process-wide, so concurrent exports (dashboard threads) count their
# pauses and the collector is switched back on, if it was on, when the last one ends; whatever
# cycles a chunk leaves are collected after it.
_COLLECTOR = HeldSetting(_pause_collector, _resume_collector)


def collections_paused() -> AbstractContextManager[None]:
    """Automatic garbage collection off inside the block (counted across threads: see `_COLLECTOR`)."""
    return _COLLECTOR.held()


def _in_workers(
    model: Recommender, ids: list[str], k: int, rules: RuleSet | None, weights: Mapping[str, float] | None,
    count: int, chunk: int, report: Progress, render: Callable[[str, list[Recommendation]], Any],
) -> Iterator[Any]:
    """The batch spread over `count` forked worker processes, chunk by chunk, in order."""
    chunks = [ids[start : start + chunk] for start in range(0, len(ids), chunk)]
    _SHARED["model"] = model
    _SHARED["options"] = {"k": k, "rules": rules, "weights": dict(weights) if weights else None, "render": render}
    done = 0
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
            for results in pool.map(_chunk_worker, chunks):
                yield from results
                done += len(results)
                report(done / len(ids), f"{done:,} of {len(ids):,} users")
    finally:
        _SHARED.clear()
