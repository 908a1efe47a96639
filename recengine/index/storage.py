"""Saving and loading an ItemIndex: a .faiss file plus a JSON sidecar describing and checking it.

Sidecar: format, factory, kind, dimension, model fingerprint, count, next id, id map (item ids, faiss ids,
content keys), and the sha256 of the index file. Loading checks the hash, count and dimension, so a torn,
truncated or swapped file raises `IndexFileError` (callers rebuild) instead of answering wrongly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss

from recengine.errors import IndexFileError
from recengine.index.item_index import ItemIndex
from recengine.store import atomic_path, sha256_file, write_text_atomic

SIDECAR_FORMAT = 1


@dataclass(frozen=True)
class IndexSidecar:
    """The sidecar without the id map: what status displays."""

    factory: str
    kind: str
    dimension: int
    fingerprint: str
    count: int
    index_sha256: str
    saved_at: str


def index_paths(directory: Path, name: str) -> tuple[Path, Path]:
    """(index file, sidecar file) of the index called `name` in `directory`."""
    return directory / f"{name}.faiss", directory / f"{name}.json"


def save_index(index: ItemIndex, directory: Path, name: str) -> Path:
    """Write the index and then its sidecar, each atomically; return the sidecar path.

    The sidecar is written last and names the index file's hash, so a crash between the two writes
    leaves a sidecar that no longer matches, which `load_index` reports rather than trusting.
    """
    index_file, sidecar_file = index_paths(directory, name)
    with atomic_path(index_file) as temporary:
        faiss.write_index(index.faiss_index, str(temporary))
    sidecar = {
        "format": SIDECAR_FORMAT,
        "factory": index.factory,
        "kind": index.kind,
        "dimension": index.dimension,
        "fingerprint": index.fingerprint,
        "count": len(index),
        "next_id": index.next_id,
        "nprobe": index.nprobe,
        "ef_search": index.ef_search,
        "index_file": index_file.name,
        "index_sha256": sha256_file(index_file),
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "item_ids": index.item_ids,
        "faiss_ids": index.faiss_ids.tolist(),
        "content_keys": index.content_keys,
    }
    write_text_atomic(sidecar_file, json.dumps(sidecar, separators=(",", ":")))
    return sidecar_file


def read_sidecar(directory: Path, name: str) -> dict[str, object]:
    """The raw sidecar (raises IndexFileError when missing or unreadable)."""
    _index_file, sidecar_file = index_paths(directory, name)
    if not sidecar_file.exists():
        raise IndexFileError(f"No saved index {name!r} in {directory}.")
    try:
        sidecar = json.loads(sidecar_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexFileError(f"The index sidecar {sidecar_file} is unreadable: {error}.") from error
    if not isinstance(sidecar, dict) or sidecar.get("format") != SIDECAR_FORMAT:
        raise IndexFileError(f"The index sidecar {sidecar_file} has an unknown format.")
    return sidecar


def sidecar_summary(directory: Path, name: str) -> IndexSidecar | None:
    """What the sidecar says, or None when there is no readable one."""
    try:
        sidecar = read_sidecar(directory, name)
        return IndexSidecar(
            factory=str(sidecar["factory"]),
            kind=str(sidecar["kind"]),
            dimension=int(sidecar["dimension"]),  # type: ignore[call-overload]
            fingerprint=str(sidecar["fingerprint"]),
            count=int(sidecar["count"]),  # type: ignore[call-overload]
            index_sha256=str(sidecar["index_sha256"]),
            saved_at=str(sidecar.get("saved_at", "")),
        )
    except (IndexFileError, KeyError, TypeError, ValueError):
        return None


def load_index(directory: Path, name: str, *, expect_fingerprint: str | None = None) -> ItemIndex:
    """Load and verify a saved index.

    Raises:
        IndexFileError: missing, corrupt, or made by another model than `expect_fingerprint`.
    """
    index_file, sidecar_file = index_paths(directory, name)
    sidecar = read_sidecar(directory, name)
    if expect_fingerprint is not None and sidecar.get("fingerprint") != expect_fingerprint:
        raise IndexFileError(
            f"The saved index {name!r} was built with model {sidecar.get('fingerprint')!r}, "
            f"not the active {expect_fingerprint!r}."
        )
    if not index_file.exists():
        raise IndexFileError(f"The index file {index_file} is missing.")
    if sha256_file(index_file) != sidecar.get("index_sha256"):
        raise IndexFileError(f"The index file {index_file} does not match the sha256 in {sidecar_file}.")
    try:
        faiss_index = faiss.read_index(str(index_file))
        item_ids = [str(item_id) for item_id in sidecar["item_ids"]]  # type: ignore[union-attr]
        faiss_ids = sidecar["faiss_ids"]
        content_keys = sidecar.get("content_keys")
        if faiss_index.ntotal != sidecar["count"] or faiss_index.d != sidecar["dimension"]:
            raise IndexFileError(f"The index file {index_file} disagrees with its sidecar on size.")
        import numpy as np

        return ItemIndex(
            faiss_index,
            item_ids,
            np.asarray(faiss_ids, dtype=np.int64),
            factory=str(sidecar["factory"]),
            fingerprint=str(sidecar["fingerprint"]),
            content_keys=content_keys,  # type: ignore[arg-type]
            next_id=int(sidecar["next_id"]),  # type: ignore[call-overload]
            nprobe=int(sidecar.get("nprobe", 16)),  # type: ignore[call-overload]
            ef_search=int(sidecar.get("ef_search", 128)),  # type: ignore[call-overload]
        )
    except IndexFileError:
        raise
    except (RuntimeError, KeyError, TypeError, ValueError) as error:
        raise IndexFileError(f"The saved index {index_file} cannot be read: {error}.") from error


def remove_index(directory: Path, name: str) -> None:
    for path in index_paths(directory, name):
        path.unlink(missing_ok=True)
