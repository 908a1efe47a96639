"""Progress on stderr: a redrawn bar on a terminal, whole readable lines in a file or a pipe."""

from __future__ import annotations

import io

import pytest

from recengine import progress as progress_module
from recengine.progress import StderrProgress, duration_text, step_of


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", fake)
    return fake


def test_a_file_gets_a_line_per_step_and_at_most_one_every_few_seconds_within_a_step(clock: Clock) -> None:
    log = io.StringIO()
    report = StderrProgress(log, line_interval_s=5.0)
    report(0.0, "Generating the demo shop")
    for position in range(0, 12_001, 100):  # 121 updates over 12.1 s within one step
        clock.now += 0.1
        report(0.1 + 0.4 * position / 12_000, f"reading review text {position:,}/12,000")
    clock.now += 1
    report(0.6, "Writing the demo export files")
    clock.now += 1
    report(1.0, "Demo data ready")
    text = log.getvalue()
    assert "\r" not in text and text.endswith("\n")
    lines = text.splitlines()
    assert lines[0].startswith("[  0%] Generating the demo shop (0 s so far")
    reading = [line for line in lines if "reading review text" in line]
    # The step's first line once a second has passed since the last one, then one every 5 s: 3 lines
    # instead of 121.
    assert len(reading) == 3, reading
    assert reading[0].startswith("[ 13%] reading review text 900/12,000 (1 s so far") and "left)" in reading[1]
    assert lines[-2].startswith("[ 60%] Writing the demo export files")
    assert lines[-1] == "[100%] Demo data ready (done in 14 s)"
    report(1.0, "Demo data ready")  # the same end twice: no second line
    assert log.getvalue() == text


def test_a_terminal_gets_one_redrawn_line(clock: Clock) -> None:
    screen = Terminal()
    report = StderrProgress(screen)
    report(0.0, "Generating the demo shop")
    clock.now += 1
    report(0.5, "reading review text 6,000/12,000")
    assert screen.getvalue().count("\r") == 2 and "\n" not in screen.getvalue()
    assert report.line_open
    clock.now += 1
    report(1.0, "done")
    assert screen.getvalue().endswith("\n") and not report.line_open


def test_steps_and_durations_read_as_words() -> None:
    assert step_of("reading review text 500/12,000") == step_of("reading review text 1,000/12,000")
    assert step_of("Step 2/4: Embedding the products") != step_of("Step 2/4: Writing the index")
    assert duration_text(42.4) == "42 s" and duration_text(185) == "3 min 05 s"
