"""Same seed, same bytes; another seed, other data."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from recengine.demo import DemoData, generate_demo, write_demo_files


def _digests(data: DemoData, folder: Path) -> dict[str, str]:
    files = write_demo_files(data, folder)
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in (files.catalog, files.reviews, files.interactions)
    }


def test_same_seed_gives_byte_identical_files(small_demo: DemoData, tmp_path: Path) -> None:
    first = _digests(small_demo, tmp_path / "a")
    second = _digests(generate_demo(seed=7, size="small"), tmp_path / "b")
    assert first == second


def test_same_seed_gives_the_same_bytes_in_another_process(small_demo: DemoData, tmp_path: Path) -> None:
    # A different hash seed would expose any dependence on set or dict-of-str iteration order.
    script = (
        "import sys; from recengine.demo import generate_demo, write_demo_files; "
        "write_demo_files(generate_demo(seed=7, size='small'), sys.argv[1])"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "child")], check=True, env=environment)
    here = _digests(small_demo, tmp_path / "here")
    child = {name: hashlib.sha256((tmp_path / "child" / name).read_bytes()).hexdigest() for name in here}
    assert child == here


def test_another_seed_gives_other_data(small_demo: DemoData, tmp_path: Path) -> None:
    other = generate_demo(seed=8, size="small")
    first, second = _digests(small_demo, tmp_path / "a"), _digests(other, tmp_path / "b")
    assert all(first[name] != second[name] for name in first)
    assert not small_demo.items["title"].equals(other.items["title"])
    assert other.reviews["text"].tolist() != small_demo.reviews["text"].tolist()
