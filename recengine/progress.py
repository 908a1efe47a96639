"""Progress reporting shared by the dashboard (progress bars) and the CLI (a line on stderr).

Long operations take an optional `progress` callback `(fraction, message)` with fraction in [0, 1].
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from typing import TextIO

Progress = Callable[[float, str], None]
# Streams where a progress line was drawn and not ended: an error printed next must start a new line.
_OPEN_LINES: set[int] = set()
# Numbers in a message ("reading review text 500/12,000") change within one step; without them the
# message names the step.
_NUMBERS = re.compile(r"[\d.,/%]+")


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores everything."""


def scaled(progress: Progress | None, start: float, end: float) -> Progress:
    """Map a sub-task's 0..1 onto `start..end` of the caller's progress."""
    report = progress or no_progress

    def scaled_progress(fraction: float, message: str) -> None:
        report(start + (end - start) * min(max(fraction, 0.0), 1.0), message)

    return scaled_progress


def step_of(message: str) -> str:
    """The step a progress message names: the message without its counts."""
    return " ".join(_NUMBERS.sub(" ", message).split())


def duration_text(seconds: float) -> str:
    """`42 s` or `3 min 05 s`: a duration for people."""
    whole = max(0, int(round(seconds)))
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


class StderrProgress:
    """Progress on stderr: a redrawn bar on a terminal, whole lines anywhere else.

    On a terminal one tqdm-style line is redrawn at most every `interval_s` seconds. A file or a pipe
    (a CI log, `nohup`, a container) cannot redraw, so there each line is written once and ended: a
    line when the step changes (the message without its counts; steps shorter than `step_interval_s`
    are folded into the next line), within a step at most every `line_interval_s` seconds, each with
    the time spent and the time left, and a last line when the work is done.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        interval_s: float = 0.2,
        *,
        line_interval_s: float = 5.0,
        step_interval_s: float = 1.0,
    ) -> None:
        self.stream = stream or sys.stderr
        self.interval_s = interval_s
        self.line_interval_s = line_interval_s
        self.step_interval_s = step_interval_s
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._drew = False
        self._last_step: str | None = None
        self._finished = False
        try:
            self.redraws = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self.redraws = False

    @property
    def line_open(self) -> bool:
        """Whether a redrawn line is on screen and not ended yet."""
        return id(self.stream) in _OPEN_LINES

    def __call__(self, fraction: float, message: str) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if self.redraws:
            self._redraw(fraction, message)
        else:
            self._write_line(fraction, message)

    def _eta(self, fraction: float, elapsed: float) -> float | None:
        return elapsed / fraction - elapsed if 0.02 < fraction < 1.0 else None

    def _redraw(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_draw < self.interval_s:
            return
        self._last_draw = now
        filled = int(fraction * 24)
        eta = self._eta(fraction, now - self.started)
        eta_text = f" eta {eta:5.0f}s" if eta is not None else ""
        self.stream.write(f"\r[{'#' * filled}{'.' * (24 - filled)}] {fraction:4.0%} {message[:60]:<60}{eta_text}")
        self._drew = True
        _OPEN_LINES.add(id(self.stream))
        if fraction >= 1.0:
            self.stream.write("\n")
            _OPEN_LINES.discard(id(self.stream))
        self.stream.flush()

    def _write_line(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        step = step_of(message)
        finished = fraction >= 1.0
        if finished and self._finished and step == self._last_step:
            return  # the same end reported twice
        since_last = now - self._last_draw
        due = since_last >= self.line_interval_s or (step != self._last_step and since_last >= self.step_interval_s)
        if not (due or finished or self._last_step is None):
            return
        self._last_draw = now
        self._last_step = step
        self._finished = finished
        elapsed = now - self.started
        eta = self._eta(fraction, elapsed)
        timing = f"{duration_text(elapsed)} so far" + (f", about {duration_text(eta)} left" if eta is not None else "")
        if finished:
            timing = f"done in {duration_text(elapsed)}"
        self.stream.write(f"[{fraction:4.0%}] {message} ({timing})\n")
        self.stream.flush()


def end_progress_line(stream: TextIO | None = None) -> None:
    """End a progress line left open (a command failed mid-way), so what follows starts a new line."""
    stream = stream or sys.stderr
    if id(stream) in _OPEN_LINES:
        stream.write("\n")
        stream.flush()
        _OPEN_LINES.discard(id(stream))
