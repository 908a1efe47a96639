"""Workspace tables as Parquet shards on a shared path, for cluster workers that never open DuckDB.

A shard set is a folder (a local path, or any URI pyarrow can write: `s3://...`, `gs://...`, `hdfs://...`)
with one sub-folder per table of `part-00000.parquet` files and a `manifest.json` that lists the tables,
their files and row counts. DuckDB lets one process open the database file at a time, so the driver
(the process running the CLI or the job) exports once and every worker reads the files with pyarrow or
`ray.data.read_parquet`.

Tables: items, reviews, users, interactions (rows as stored, ordered by their key), and embeddings
(item_id, key, vector of every item with the active model, read from the embedding cache: exporting never
encodes). Vectors are a fixed-size list of float32, the layout of the embedding cache.
"""

from __future__ import annotations

import json
import posixpath
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from recengine.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from recengine.workspace import Workspace

MANIFEST_FILE = "manifest.json"
ROWS_PER_SHARD = 100_000
STORED_TABLES = ("items", "reviews", "users", "interactions")
ALL_TABLES = (*STORED_TABLES, "embeddings")
_ORDER = {"items": "item_id", "reviews": "review_id", "users": "user_id", "interactions": "interaction_id"}


@dataclass(frozen=True)
class TableShards:
    """One table of a shard set: its files (paths inside the shard set's filesystem) and row count."""

    name: str
    files: tuple[str, ...]
    rows: int


@dataclass(frozen=True)
class ShardSet:
    """An exported shard set: where it is and what it holds."""

    root: str
    tables: dict[str, TableShards] = field(default_factory=dict)
    fingerprint: str = ""  # model of the embeddings table ("" when not exported)

    def files(self, table: str) -> list[str]:
        """The Parquet files of `table`, as full paths/URIs (what `ray.data.read_parquet` takes)."""
        return [_join(self.root, name) for name in self._table(table).files]

    def rows(self, table: str) -> int:
        return self._table(table).rows

    def _table(self, table: str) -> TableShards:
        if table not in self.tables:
            raise NotFoundError(f"The shard set at {self.root} has no table {table!r}.",
                                hint=f"It holds: {', '.join(self.tables) or 'nothing'}.")
        return self.tables[table]


# -- filesystem ------------------------------------------------------------------------------------------


def _filesystem(root: str) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path inside it) for a local path or a URI pyarrow understands."""
    try:
        return pafs.FileSystem.from_uri(root)
    except (pa.ArrowInvalid, ValueError):
        return pafs.LocalFileSystem(), str(Path(root).absolute())


def _join(root: str, relative: str) -> str:
    return posixpath.join(root.rstrip("/"), relative) if "://" in root else str(Path(root).absolute() / relative)


# -- writing ---------------------------------------------------------------------------------------------


def export_tables(
    workspace: Workspace,
    root: str,
    tables: Sequence[str] = ALL_TABLES,
    *,
    rows_per_shard: int = ROWS_PER_SHARD,
) -> ShardSet:
    """Write workspace tables as Parquet shards under `root` (replacing those tables there).

    Args:
        workspace: the workspace to export from (the only place the database is opened).
        root: folder or URI of the shard set.
        tables: any of items, reviews, users, interactions, embeddings.
        rows_per_shard: rows per Parquet file; a worker reads one file at a time.

    Returns:
        The `ShardSet` written (also recorded in `root/manifest.json`).

    Raises:
        ConfigError: an unknown table name.
    """
    unknown = [name for name in tables if name not in ALL_TABLES]
    if unknown:
        raise ConfigError(f"Unknown shard table(s) {unknown}.", hint=f"Use any of: {', '.join(ALL_TABLES)}.")
    filesystem, base = _filesystem(root)
    previous = read_manifest(root, missing_ok=True)
    written = dict(previous.tables) if previous else {}
    fingerprint = previous.fingerprint if previous else ""
    for name in tables:
        if name == "embeddings":
            batches, fingerprint = _embedding_batches(workspace, rows_per_shard)
        else:
            batches = _table_batches(workspace, name, rows_per_shard)
        written[name] = _write_batches(filesystem, base, name, batches)
    shard_set = ShardSet(root=root, tables=written, fingerprint=fingerprint)
    _write_manifest(filesystem, base, shard_set)
    return shard_set


def _table_batches(workspace: Workspace, name: str, rows_per_shard: int) -> Iterable[pa.RecordBatch]:
    # Streamed from DuckDB in record batches: a 100M-row table never sits in memory whole.
    with workspace.store.connect() as connection:
        reader = connection.sql(f"SELECT * FROM {name} ORDER BY {_ORDER[name]}").to_arrow_reader(rows_per_shard)
        yield from reader


def _embedding_batches(workspace: Workspace, rows_per_shard: int) -> tuple[list[pa.RecordBatch], str]:
    from recengine.embed import EmbeddingCache, item_texts, resolve_model, text_key
    from recengine.embed.pipeline import EMBEDDINGS_DIR

    source = resolve_model(workspace.settings.embed.model)
    item_ids, texts = item_texts(workspace)
    keys = [text_key(text) for text in texts]
    cache = EmbeddingCache(workspace.subdir(EMBEDDINGS_DIR), source.fingerprint, source.dimension)
    found, vectors = cache.lookup(keys)
    if len(keys) and not found.all():
        raise NotFoundError(
            f"{int((~found).sum()):,} of {len(keys):,} products have no cached embedding with the active model.",
            hint="Run `recengine embed` first (with --engine ray on a cluster).",
        )
    batches = []
    for start in range(0, max(len(keys), 1), rows_per_shard):
        stop = min(start + rows_per_shard, len(keys))
        batches.append(vector_batch(keys[start:stop], vectors[start:stop], item_ids=item_ids[start:stop]))
    return batches, source.fingerprint


def vector_batch(keys: Sequence[str], vectors: np.ndarray, *, item_ids: Sequence[str] | None = None) -> pa.RecordBatch:
    """A record batch (item_id?, key, vector) with vectors as fixed-size float32 lists."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dimension = vectors.shape[1] if vectors.ndim == 2 else 0
    column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), type=pa.float32()), dimension)
    columns: dict[str, pa.Array] = {}
    if item_ids is not None:
        columns["item_id"] = pa.array(list(item_ids), type=pa.string())
    columns["key"] = pa.array(list(keys), type=pa.string())
    columns["vector"] = column
    return pa.RecordBatch.from_pydict(columns)


def _write_batches(
    filesystem: pafs.FileSystem, base: str, name: str, batches: Iterable[pa.RecordBatch]
) -> TableShards:
    folder = posixpath.join(base, name)
    # Replace the table: remove its old parts first so that readers of the new manifest never mix sets.
    try:
        filesystem.delete_dir_contents(folder, missing_dir_ok=True)
    except (FileNotFoundError, OSError):
        pass
    filesystem.create_dir(folder, recursive=True)
    files: list[str] = []
    rows = 0
    schema = None
    for batch in batches:
        if batch.num_rows == 0 and files:
            continue
        relative = f"{name}/part-{len(files):05d}.parquet"
        pq.write_table(pa.Table.from_batches([batch]), posixpath.join(base, relative), filesystem=filesystem,
                       compression="zstd")
        files.append(relative)
        rows += batch.num_rows
        schema = batch.schema
    if not files and schema is None:
        # An empty table still gets one (empty) file so that readers find its columns.
        relative = f"{name}/part-00000.parquet"
        pq.write_table(pa.table({}), posixpath.join(base, relative), filesystem=filesystem)
        files.append(relative)
    return TableShards(name, tuple(files), rows)


def _write_manifest(filesystem: pafs.FileSystem, base: str, shard_set: ShardSet) -> None:
    payload = {
        "fingerprint": shard_set.fingerprint,
        "tables": {name: {"files": list(table.files), "rows": table.rows} for name, table in shard_set.tables.items()},
    }
    filesystem.create_dir(base, recursive=True)
    # Written last and whole: a reader sees the previous manifest or this one, not a half-written set.
    temporary = posixpath.join(base, f".{MANIFEST_FILE}.tmp")
    with filesystem.open_output_stream(temporary) as stream:
        stream.write(json.dumps(payload, indent=2).encode("utf-8"))
    filesystem.move(temporary, posixpath.join(base, MANIFEST_FILE))


# -- reading ---------------------------------------------------------------------------------------------


def read_manifest(root: str, *, missing_ok: bool = False) -> ShardSet | None:
    """The shard set at `root`, from its manifest.

    Raises:
        NotFoundError: no manifest there (unless `missing_ok`, then None).
    """
    filesystem, base = _filesystem(root)
    try:
        with filesystem.open_input_stream(posixpath.join(base, MANIFEST_FILE)) as stream:
            payload = json.loads(stream.read().decode("utf-8"))
    except (FileNotFoundError, OSError):
        if missing_ok:
            return None
        raise NotFoundError(f"No shard set at {root} (no {MANIFEST_FILE}).",
                            hint="Export one with recengine.distributed.export_tables.") from None
    tables = {
        name: TableShards(name, tuple(values["files"]), int(values["rows"]))
        for name, values in payload.get("tables", {}).items()
    }
    return ShardSet(root=root, tables=tables, fingerprint=str(payload.get("fingerprint", "")))


def read_table(root: str, table: str, columns: Sequence[str] | None = None) -> pa.Table:
    """One table of the shard set at `root`, all shards concatenated (pyarrow only, no database)."""
    shard_set = read_manifest(root)
    assert shard_set is not None
    filesystem, base = _filesystem(root)
    parts = [
        pq.read_table(posixpath.join(base, relative), filesystem=filesystem, columns=list(columns) if columns else None)
        for relative in shard_set._table(table).files
    ]
    parts = [part for part in parts if part.num_columns]
    if not parts:
        return pa.table({})
    return pa.concat_tables(parts)


def vectors_of(table: pa.Table, column: str = "vector") -> np.ndarray:
    """The (rows, dimension) float32 matrix of a fixed-size-list vector column."""
    vectors = table.column(column).combine_chunks()
    width = vectors.type.list_size
    if len(vectors) == 0:
        return np.empty((0, width), dtype=np.float32)
    return vectors.values.to_numpy(zero_copy_only=False).reshape(-1, width).astype(np.float32, copy=False)


def read_vector_files(paths: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """(keys, vectors) of Parquet files with `key` and `vector` columns (the embed pipeline's output)."""
    keys: list[str] = []
    chunks: list[np.ndarray] = []
    for path in paths:
        filesystem, inner = _filesystem(path)
        table = pq.read_table(inner, filesystem=filesystem, columns=["key", "vector"])
        if table.num_rows == 0:
            continue
        keys.extend(table.column("key").to_pylist())
        chunks.append(vectors_of(table))
    if not chunks:
        return keys, np.empty((0, 0), dtype=np.float32)
    return keys, np.concatenate(chunks)


def list_parquet(root: str) -> list[str]:
    """Every `*.parquet` file under `root` (a folder written by `Dataset.write_parquet`), sorted."""
    filesystem, base = _filesystem(root)
    selector = pafs.FileSelector(base, recursive=True, allow_not_found=True)
    paths = sorted(info.path for info in filesystem.get_file_info(selector)
                   if info.type == pafs.FileType.File and info.path.endswith(".parquet"))
    if "://" in root:
        scheme = root.split("://", 1)[0]
        return [f"{scheme}://{path}" for path in paths]
    return paths


def rows_per_shard(rows: int, workers: float, cap: int) -> int:
    """Shard size giving at least two shards per worker (every worker gets some, a slow one holds up
    little), at most `cap` rows each."""
    return max(1, min(cap, -(-rows // max(2, int(2 * workers)))))


def write_row_shards(table: pa.Table, folder: Path, rows: int, *, compression: str = "snappy") -> int:
    """Replace `folder` with `table` cut into `part-NNNNN.parquet` files of `rows` rows; return how many.

    An empty table still gets one (empty) file, so that a reader sees its schema.
    """
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shards = 0
    for start in range(0, max(table.num_rows, 1), rows):
        pq.write_table(table.slice(start, rows), folder / f"part-{shards:05d}.parquet", compression=compression)
        shards += 1
    return shards
