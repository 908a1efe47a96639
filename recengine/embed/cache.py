"""Content-addressed embedding cache: one folder of Parquet files per model under workspace/embeddings/.

Key = sha256 of the exact text embedded; the folder is chosen by the model fingerprint, so activating
another model uses that model's own cache and never mixes vectors. New vectors are appended as a new part
file (written atomically), so an update costs the size of the change, not of the whole cache; parts are
compacted into one file when they pile up. Re-embedding an unchanged catalog costs only hashing and a
hash-table lookup.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from recengine.store import atomic_path, write_text_atomic

MODEL_FILE = "model.json"
MAX_PARTS = 16


def text_key(text: str) -> str:
    """The cache key of a text: sha256 of its exact UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def model_folder_name(fingerprint: str) -> str:
    """A file-system-safe folder name that still shows the model, unique per fingerprint."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", fingerprint)[:80]
    return f"{readable}-{hashlib.sha1(fingerprint.encode()).hexdigest()[:8]}"


@dataclass
class _Loaded:
    signature: tuple[tuple[str, int, int], ...]
    keys: pd.Index
    vectors: np.ndarray


_MEMO: dict[str, _Loaded] = {}
_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock(directory: Path) -> threading.RLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(str(directory), threading.RLock())


class EmbeddingCache:
    """The cached vectors of one model in one workspace."""

    def __init__(self, embeddings_root: Path, fingerprint: str, dimension: int | None = None) -> None:
        self.root = Path(embeddings_root)
        self.fingerprint = fingerprint
        self.directory = self.root / model_folder_name(fingerprint)
        self.dimension = dimension

    # -- reading -------------------------------------------------------------------------------

    def _parts(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("part-*.parquet"))

    def _signature(self, parts: list[Path]) -> tuple[tuple[str, int, int], ...]:
        signature = []
        for part in parts:
            try:
                stat = part.stat()
            except FileNotFoundError:
                continue
            signature.append((part.name, stat.st_size, stat.st_mtime_ns))
        return tuple(signature)

    def _load(self) -> _Loaded:
        """All entries, read once per process and re-read only when the part files change."""
        with _lock(self.directory):
            for _attempt in range(3):
                parts = self._parts()
                signature = self._signature(parts)
                memo = _MEMO.get(str(self.directory))
                if memo is not None and memo.signature == signature:
                    return memo
                try:
                    loaded = self._read(parts, signature)
                except FileNotFoundError:
                    # Another process compacted the parts while we listed them; list again.
                    continue
                _MEMO[str(self.directory)] = loaded
                return loaded
            raise RuntimeError(f"the embedding cache at {self.directory} keeps changing while read")

    def _read(self, parts: list[Path], signature: tuple[tuple[str, int, int], ...]) -> _Loaded:
        key_chunks: list[np.ndarray] = []
        vector_chunks: list[np.ndarray] = []
        dimension = self.dimension
        for part in parts:
            table = pq.read_table(part)
            if table.num_rows == 0:
                continue
            vectors = table.column("vector").combine_chunks()
            width = vectors.type.list_size
            if dimension is None:
                dimension = width
            if width != dimension:
                continue  # a part from an incompatible writer; ignore rather than mix
            key_chunks.append(table.column("key").to_numpy(zero_copy_only=False).astype(object))
            vector_chunks.append(vectors.values.to_numpy(zero_copy_only=False).reshape(-1, width).astype(np.float32))
        if dimension is not None:
            self.dimension = dimension
        if not key_chunks:
            return _Loaded(signature, pd.Index([], dtype=object), np.empty((0, dimension or 0), np.float32))
        keys = pd.Index(np.concatenate(key_chunks), dtype=object)
        vectors = np.concatenate(vector_chunks)
        duplicated = keys.duplicated(keep="last")
        if duplicated.any():
            keys, vectors = keys[~duplicated], vectors[~duplicated]
        return _Loaded(signature, keys, vectors)

    def __len__(self) -> int:
        return len(self._load().keys)

    def keys(self) -> pd.Index:
        return self._load().keys

    def lookup(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Find `keys`; return (found mask, vectors) with zero rows where not found."""
        loaded = self._load()
        positions = loaded.keys.get_indexer(pd.Index(list(keys), dtype=object)) if len(loaded.keys) else (
            np.full(len(keys), -1, dtype=np.int64)
        )
        found = positions >= 0
        dimension = loaded.vectors.shape[1] if loaded.vectors.ndim == 2 and loaded.vectors.shape[1] else (
            self.dimension or 0
        )
        vectors = np.zeros((len(keys), dimension), dtype=np.float32)
        if found.any():
            vectors[found] = loaded.vectors[positions[found]]
        return found, vectors

    # -- writing -------------------------------------------------------------------------------

    def add(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store new vectors as one more part file (atomic), then compact if parts pile up."""
        if len(keys) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape[0] != len(keys):
            raise ValueError("one vector per key")
        dimension = vectors.shape[1]
        with _lock(self.directory):
            self.directory.mkdir(parents=True, exist_ok=True)
            model_file = self.directory / MODEL_FILE
            if not model_file.exists():
                write_text_atomic(
                    model_file, json.dumps({"fingerprint": self.fingerprint, "dimension": dimension}, indent=2)
                )
            before = self._signature(self._parts())
            name = f"part-{time.time_ns():020d}-{os.getpid()}.parquet"
            self._write_part(self.directory / name, list(keys), vectors)
            self.dimension = dimension
            memo = _MEMO.get(str(self.directory))
            if memo is not None and memo.signature == before and memo.vectors.shape[1] in (0, dimension):
                # Extend what is in memory instead of re-reading every part on the next lookup.
                known = memo.keys.get_indexer(pd.Index(list(keys), dtype=object)) >= 0
                fresh_keys = [key for key, seen in zip(keys, known, strict=True) if not seen]
                _MEMO[str(self.directory)] = _Loaded(
                    self._signature(self._parts()),
                    memo.keys.append(pd.Index(fresh_keys, dtype=object)),
                    np.concatenate([memo.vectors.reshape(-1, dimension), vectors[~known]]),
                )
            if len(self._parts()) > MAX_PARTS:
                self.compact()

    def _write_part(self, target: Path, keys: list[str], vectors: np.ndarray) -> None:
        dimension = vectors.shape[1]
        column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), type=pa.float32()), dimension)
        table = pa.table({"key": pa.array(keys, type=pa.string()), "vector": column})
        table = table.replace_schema_metadata({"fingerprint": self.fingerprint, "dimension": str(dimension)})
        with atomic_path(target) as temporary:
            pq.write_table(table, temporary, compression="zstd")

    def compact(self, keep: Collection[str] | None = None) -> int:
        """Rewrite all parts as one file, optionally keeping only `keep` keys; return entries dropped."""
        with _lock(self.directory):
            parts = self._parts()
            loaded = self._load()
            keys, vectors = loaded.keys, loaded.vectors
            dropped = 0
            if keep is not None:
                mask = keys.isin(list(keep))
                dropped = int((~mask).sum())
                keys, vectors = keys[mask], vectors[mask]
            if len(parts) <= 1 and dropped == 0:
                return 0
            name = f"part-{time.time_ns():020d}-{os.getpid()}.parquet"
            if len(keys):
                self._write_part(self.directory / name, [str(key) for key in keys], vectors)
            # The new part is in place before old ones go, so a crash leaves duplicates (read as one).
            for part in parts:
                part.unlink(missing_ok=True)
            return dropped


@dataclass(frozen=True, eq=False)
class CacheLookup:
    """Texts looked up in a cache, each distinct text once: what was found and what must be encoded.

    Attributes:
        keys: the cache key of every text, in order (repeats included).
        missing_keys: distinct keys not in the cache, in first-seen order.
        missing_texts: their texts, to encode.
        cached: how many distinct texts the cache already held.
    """

    cache: EmbeddingCache
    keys: list[str]
    unique_keys: list[str]
    found: np.ndarray
    unique_vectors: np.ndarray
    missing_keys: list[str]
    missing_texts: list[str]

    @classmethod
    def of(cls, cache: EmbeddingCache, texts: Sequence[str]) -> CacheLookup:
        keys = [text_key(text) for text in texts]
        unique: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            unique.setdefault(key, text)
        unique_keys = list(unique)
        found, unique_vectors = cache.lookup(unique_keys)
        missing = [key for key, hit in zip(unique_keys, found, strict=True) if not hit]
        return cls(cache, keys, unique_keys, found, unique_vectors, missing, [unique[key] for key in missing])

    @property
    def cached(self) -> int:
        return len(self.unique_keys) - len(self.missing_keys)

    def complete(self, new_vectors: np.ndarray | None = None, *, dimension: int = 0) -> np.ndarray:
        """Store `new_vectors` (one per missing text) in the cache; return one vector per text, in order.

        Args:
            new_vectors: the encoded missing texts; None when nothing was missing.
            dimension: the vector length to use for an empty result when neither the cache nor the
                new vectors tell it.
        """
        unique_vectors = self.unique_vectors
        if self.missing_keys:
            if new_vectors is None:
                raise ValueError("vectors for the missing texts are needed")
            new_vectors = np.asarray(new_vectors, dtype=np.float32)
            self.cache.add(self.missing_keys, new_vectors)
            if unique_vectors.shape[1] != new_vectors.shape[1]:
                # Only when nothing was cached yet and the dimension was unknown before loading the model.
                unique_vectors = np.zeros((len(self.unique_keys), new_vectors.shape[1]), dtype=np.float32)
            unique_vectors[~self.found] = new_vectors
        if not self.keys:
            return np.empty((0, unique_vectors.shape[1] or self.cache.dimension or dimension), dtype=np.float32)
        position = {key: row for row, key in enumerate(self.unique_keys)}
        rows = np.fromiter((position[key] for key in self.keys), dtype=np.int64, count=len(self.keys))
        return unique_vectors[rows]


def cached_models(embeddings_root: Path) -> dict[str, Path]:
    """Fingerprint -> folder of every model with a cache in this workspace."""
    found: dict[str, Path] = {}
    if not embeddings_root.is_dir():
        return found
    for model_file in embeddings_root.glob(f"*/{MODEL_FILE}"):
        try:
            found[json.loads(model_file.read_text(encoding="utf-8"))["fingerprint"]] = model_file.parent
        except (OSError, ValueError, KeyError):
            continue
    return found


def prune_other_models(embeddings_root: Path, keep_fingerprints: Collection[str]) -> list[str]:
    """Delete the caches of every model not in `keep_fingerprints`; return the fingerprints removed."""
    return remove_model_caches(embeddings_root, set(cached_models(embeddings_root)) - set(keep_fingerprints))


def remove_model_caches(embeddings_root: Path, fingerprints: Collection[str]) -> list[str]:
    """Delete the caches of the models in `fingerprints`; return the fingerprints removed."""
    removed = []
    for fingerprint, folder in cached_models(embeddings_root).items():
        if fingerprint in fingerprints:
            shutil.rmtree(folder, ignore_errors=True)
            _MEMO.pop(str(folder), None)
            removed.append(fingerprint)
    return removed
