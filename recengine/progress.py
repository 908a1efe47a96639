"""Progress reporting shared by the dashboard (progress bars) and the CLI (a line on stderr).

Long operations take an optional `progress` callback `(fraction, message)` with fraction in [0, 1].
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

Progress = Callable[[float, str], None]
# Streams where a progress line was drawn and not ended: an error printed next must start a new line.
_OPEN_LINES: set[int] = set()


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores everything."""


def scaled(progress: Progress | None, start: float, end: float) -> Progress:
    """Map a sub-task's 0..1 onto `start..end` of the caller's progress."""
    report = progress or no_progress

    def scaled_progress(fraction: float, message: str) -> None:
        report(start + (end - start) * min(max(fraction, 0.0), 1.0), message)

    return scaled_progress


class StderrProgress:
    """A tqdm-style single line on stderr, redrawn at most every `interval_s` seconds."""

    def __init__(self, stream: TextIO | None = None, interval_s: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.interval_s = interval_s
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._drew = False

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_draw < self.interval_s:
            return
        self._last_draw = now
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(fraction * 24)
        elapsed = now - self.started
        eta = f" eta {elapsed / fraction - elapsed:5.0f}s" if 0.02 < fraction < 1.0 else ""
        line = f"\r[{'#' * filled}{'.' * (24 - filled)}] {fraction:4.0%} {message[:60]:<60}{eta}"
        if self.stream.isatty() or fraction >= 1.0 or not self._drew:
            self.stream.write(line)
            self._drew = True
            _OPEN_LINES.add(id(self.stream))
        if fraction >= 1.0:
            self.stream.write("\n")
            _OPEN_LINES.discard(id(self.stream))
        self.stream.flush()


def end_progress_line(stream: TextIO | None = None) -> None:
    """End a progress line left open (a command failed mid-way), so what follows starts a new line."""
    stream = stream or sys.stderr
    if id(stream) in _OPEN_LINES:
        stream.write("\n")
        stream.flush()
        _OPEN_LINES.discard(id(stream))
