"""Encoding on a CPU: one batch per core at a time, each batch on one thread.

torch runs one batch on all cores by splitting every operation (intra-op threads, OpenMP). On a machine
whose cores are shared with other work that is the slow choice: an operation ends only when its last
thread does, so when the scheduler takes one core away the other thread spins at the barrier, burning
CPU for nothing. Measured on the 2-core project machine (load 5-8, 1,200 demo reviews, MiniLM fp32): 38-40
CPU s and 54-77 s wall with 2 intra-op threads; 18-22 CPU s and 36-44 s wall with 2 batches at a time
on one thread each, the same vectors to the last bit. Independent batches need no barrier: a core taken
away only slows its own batch.

`encode_in_batches` runs the batches on worker threads while `IntraOpThreads.held_at_one` holds torch's
intra-op threads at one; torch releases the GIL inside its kernels, so the workers run in parallel. A
single batch (a search query, a few phrases) runs on one thread too: its operations are too small to split.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import AbstractContextManager

import numpy as np

from recengine.held_setting import HeldSetting
from recengine.progress import Progress


class IntraOpThreads:
    """torch's intra-op thread count held at one while any parallel encode runs, then restored.

    Counted (`HeldSetting`), not saved per caller: two encodes that overlap (two dashboard sessions) must
    not restore each other's one-thread setting while the other still runs, nor restore a one as the
    original.
    """

    def __init__(self, get_threads: Callable[[], int], set_threads: Callable[[int], None]) -> None:
        self._get = get_threads

        def hold() -> int:
            original = get_threads()
            set_threads(1)
            return original

        self._setting = HeldSetting(hold, set_threads)

    def workers(self) -> int:
        """The threads torch would use for one operation when no parallel encode runs: the cores this
        process may use (or OMP_NUM_THREADS / torch.set_num_threads when set)."""
        original = self._setting.saved
        return original if original is not None else self._get()

    def held_at_one(self) -> AbstractContextManager[None]:
        """One intra-op thread inside the block; the setting from before the first block after the last."""
        return self._setting.held()


def _torch_threads() -> IntraOpThreads:
    import torch

    return IntraOpThreads(torch.get_num_threads, torch.set_num_threads)


_TORCH_THREADS: IntraOpThreads | None = None
_TORCH_THREADS_LOCK = threading.Lock()


def torch_intra_op_threads() -> IntraOpThreads:
    """The process's one `IntraOpThreads` over torch (torch imported on first use)."""
    global _TORCH_THREADS
    with _TORCH_THREADS_LOCK:
        if _TORCH_THREADS is None:
            _TORCH_THREADS = _torch_threads()
        return _TORCH_THREADS


def encode_in_batches(
    batches: Sequence[Sequence[str]],
    encode_batch: Callable[[Sequence[str]], np.ndarray],
    *,
    workers: int,
    threads: IntraOpThreads | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[np.ndarray]:
    """Encode `batches` with up to `workers` at a time, each on one intra-op thread.

    Args:
        batches: The texts, already cut into batches (longest first keeps the padding small).
        encode_batch: Encodes one batch; called from worker threads, so it must not change shared
            state (a model in eval mode under `torch.inference_mode` does not).
        workers: Batches encoded at once; 1 encodes them one by one in this thread with the intra-op
            threads left as they are.
        threads: The intra-op thread setting to hold at one (torch's by default).
        progress: Called in this thread with the number of texts done, after each batch.

    Returns:
        One array per batch, in the order of `batches`.
    """
    results: list[np.ndarray] = []
    done = 0

    def finished(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done)

    if workers <= 1 or not batches:
        for batch in batches:
            results.append(encode_batch(batch))
            finished(len(batch))
        return results
    threads = threads or torch_intra_op_threads()
    found: dict[int, np.ndarray] = {}
    with threads.held_at_one():
        # The first batch runs alone, in this thread: it sets the fast tokenizer's padding and truncation up
        # once (changing them while another thread tokenizes fails with "Already borrowed"). On one
        # intra-op thread like the rest: a short encode is often this batch alone (a search query, a few
        # dozen aspect phrases), and on two threads each of its small operations waits at a barrier for a
        # thread the scheduler may have given to other work: 4 short phrases took 200-1,400 ms a call on
        # two threads at load 5, 30-40 ms on one; 64 phrases 1.1-2.7 s against 0.19 s.
        results.append(encode_batch(batches[0]))
        finished(len(batches[0]))
        rest = batches[1:]
        if not rest:
            return results
        with ThreadPoolExecutor(workers, thread_name_prefix="encode") as pool:
            futures = {pool.submit(encode_batch, batch): position for position, batch in enumerate(rest)}
            for future in as_completed(futures):
                position = futures[future]
                found[position] = future.result()
                finished(len(rest[position]))
    return results + [found[position] for position in range(len(rest))]


def report_texts_done(progress: Progress | None, total: int) -> Callable[[int], None] | None:
    """A `progress` for `encode_in_batches` that reports the share of `total` texts done."""
    if progress is None:
        return None

    def report(done: int) -> None:
        progress(done / total if total else 1.0, f"encoded {done:,} of {total:,} texts")

    return report
