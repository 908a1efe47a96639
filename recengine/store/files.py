"""Atomic file writes: write a temporary file beside the target, fsync, then rename over it.

A crash or a kill at any point leaves either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `target` in one rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        with open(temporary_path, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary_path, target)
        _fsync_dir(target.parent)
    finally:
        temporary_path.unlink(missing_ok=True)


# The names `atomic_path` gives its temporary files: "." + target name + "." + random part + ".tmp".
_TEMPORARY_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]+\.tmp$")
STALE_TEMPORARY_S = 3600.0


def remove_stale_temporaries(root: Path, *, older_than_s: float = STALE_TEMPORARY_S) -> list[Path]:
    """Delete temporary files that a killed process left behind below `root`; return them.

    They are never read (the rename that would have published them did not happen), only wasted space.
    Files younger than `older_than_s` may belong to a write still in progress in another process, so
    they stay.
    """
    removed: list[Path] = []
    deadline = time.time() - older_than_s
    for folder, _subfolders, names in os.walk(root):
        for name in names:
            if not _TEMPORARY_NAME.match(name):
                continue
            path = Path(folder) / name
            try:
                if path.stat().st_mtime < deadline:
                    path.unlink()
                    removed.append(path)
            except OSError:
                continue  # gone already, or not ours to delete
    return removed


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_path(target) as temporary:
        temporary.write_bytes(data)


def write_text_atomic(target: Path, text: str) -> None:
    write_bytes_atomic(target, text.encode("utf-8"))


def write_with_atomic(target: Path, writer: Callable[[Path], None]) -> None:
    """Let `writer` write to a temporary path, then move it into place atomically."""
    with atomic_path(target) as temporary:
        writer(temporary)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
