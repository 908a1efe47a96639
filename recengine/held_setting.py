"""A process-wide setting changed while any of several overlapping users needs it, restored after the last.

torch's intra-op thread count (held at one while encoder batches run side by side) and Python's garbage
collector (paused while an export's chunk is explained) are process-wide: two dashboard sessions can
overlap, and neither may restore the setting while the other still relies on it, nor save the other's
changed value as the original. A `HeldSetting` counts its holders: the first saves the original and
changes it, the last puts the original back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

Saved = TypeVar("Saved")


class HeldSetting(Generic[Saved]):
    """A setting changed by `hold` (which returns what to restore) while held, restored by `release`."""

    def __init__(self, hold: Callable[[], Saved], release: Callable[[Saved], None]) -> None:
        self._hold, self._release = hold, release
        self._lock = threading.Lock()
        self._active = 0
        self._saved: Saved | None = None

    @property
    def saved(self) -> Saved | None:
        """The original value while the setting is held, else None."""
        with self._lock:
            return self._saved if self._active else None

    @contextmanager
    def held(self) -> Iterator[None]:
        """The changed setting inside the block; the original once the last overlapping block ends."""
        with self._lock:
            if self._active == 0:
                self._saved = self._hold()
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0:
                    saved, self._saved = self._saved, None
                    self._release(saved)  # type: ignore[arg-type]
