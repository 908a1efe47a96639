"""Batches encoded one per core, each on one intra-op thread (recengine.embed.cpu_batches)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from recengine.embed.cpu_batches import IntraOpThreads, encode_in_batches


class _Threads:
    """A stand-in for torch's intra-op thread setting, recording every change."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.changes: list[int] = []

    def get(self) -> int:
        return self.count

    def set(self, count: int) -> None:
        self.count = count
        self.changes.append(count)


def _encode(batch: Sequence[str]) -> np.ndarray:
    time.sleep(0.001 * (len(batch) % 3))  # batches finish out of order
    return np.array([[len(text), text.count("a")] for text in batch], dtype=np.float32)


BATCHES = [["aaaa", "bbb"], ["ab", "a"], ["c"], ["aa", "b", "ba"], ["x"]]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_every_batch_comes_back_in_order_with_its_own_vectors(workers: int) -> None:
    threads = _Threads(2)
    done: list[int] = []
    encoded = encode_in_batches(BATCHES, _encode, workers=workers, threads=IntraOpThreads(threads.get, threads.set),
                                progress=done.append)
    assert [result.tolist() for result in encoded] == [_encode(batch).tolist() for batch in BATCHES]
    assert done == sorted(done) and done[-1] == sum(len(batch) for batch in BATCHES)
    assert threads.count == 2  # the setting is back as it was


def test_every_batch_runs_on_one_intra_op_thread_and_the_first_runs_alone() -> None:
    threads = _Threads(4)
    seen: list[tuple[str, int]] = []

    def encode(batch: Sequence[str]) -> np.ndarray:
        seen.append((threading.current_thread().name, threads.count))
        return _encode(batch)

    encode_in_batches(BATCHES, encode, workers=2, threads=IntraOpThreads(threads.get, threads.set))
    assert seen[0] == (threading.main_thread().name, 1)  # alone, in the caller's thread: sets the tokenizer up
    assert all(name.startswith("encode") and count == 1 for name, count in seen[1:])
    assert threads.changes == [1, 4]


def test_a_single_batch_runs_on_one_intra_op_thread() -> None:
    threads = _Threads(2)
    seen: list[int] = []

    def encode(batch: Sequence[str]) -> np.ndarray:
        seen.append(threads.count)
        return _encode(batch)

    encoded = encode_in_batches([["a query"]], encode, workers=2, threads=IntraOpThreads(threads.get, threads.set))
    assert [result.tolist() for result in encoded] == [[[7.0, 1.0]]]
    assert seen == [1] and threads.count == 2
    assert encode_in_batches([], encode, workers=2, threads=IntraOpThreads(threads.get, threads.set)) == []


def test_one_worker_leaves_the_thread_setting_alone() -> None:
    threads = _Threads(2)
    encode_in_batches(BATCHES, _encode, workers=1, threads=IntraOpThreads(threads.get, threads.set))
    assert threads.changes == []


def test_overlapping_encodes_restore_the_original_setting_once_both_end() -> None:
    threads = _Threads(2)
    setting = IntraOpThreads(threads.get, threads.set)
    with setting.held_at_one():
        assert setting.workers() == 2  # what the cores allow, not the one it is held at
        with setting.held_at_one():
            assert threads.count == 1
        assert threads.count == 1  # the other encode still runs
    assert threads.count == 2 and threads.changes == [1, 2]


def test_a_failing_batch_raises_and_restores_the_setting() -> None:
    threads = _Threads(2)

    def encode(batch: Sequence[str]) -> np.ndarray:
        if batch == ["c"]:
            raise RuntimeError("out of memory")
        return _encode(batch)

    with pytest.raises(RuntimeError, match="out of memory"):
        encode_in_batches(BATCHES, encode, workers=2, threads=IntraOpThreads(threads.get, threads.set))
    assert threads.count == 2
