"""Workspace tables to Parquet shards and back, read with pyarrow only (no database)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recengine.distributed import export_tables, read_manifest, read_table
from recengine.distributed.shards import read_vector_files, vectors_of
from recengine.errors import ConfigError, NotFoundError
from recengine.workspace import Workspace


@pytest.fixture
def demo(tmp_path: Path) -> Workspace:
    from recengine.demo.workspace import create_demo_workspace

    return create_demo_workspace(tmp_path / "ws", size="small", post_ingest=False)


def test_tables_round_trip_through_shards(demo: Workspace, tmp_path: Path) -> None:
    root = str(tmp_path / "shards")
    shard_set = export_tables(demo, root, ("items", "reviews", "users", "interactions"), rows_per_shard=400)
    assert len(shard_set.files("reviews")) == -(-demo.store.count("reviews") // 400) > 1
    again = read_manifest(root)
    assert again is not None and again.tables == shard_set.tables
    for table, key in (("items", "item_id"), ("reviews", "review_id"), ("users", "user_id"),
                       ("interactions", "interaction_id")):
        stored = demo.store.query_df(f"SELECT * FROM {table} ORDER BY {key}")
        shards = read_table(root, table).to_pandas()
        assert shard_set.rows(table) == len(stored) == len(shards) > 0
        assert list(shards.columns) == list(stored.columns)
        assert shards[key].tolist() == stored[key].tolist()
    reviews = read_table(root, "reviews", columns=["review_id", "text"]).to_pandas()
    stored = demo.store.query_df("SELECT review_id, text FROM reviews ORDER BY review_id")
    assert reviews.equals(stored)


def test_embeddings_table_holds_the_cached_item_vectors(demo: Workspace, tmp_path: Path) -> None:
    from recengine.embed import item_vectors

    root = str(tmp_path / "shards")
    with pytest.raises(NotFoundError, match="no cached embedding"):
        export_tables(demo, root, ("embeddings",))  # exporting never encodes
    expected = item_vectors(demo)
    shard_set = export_tables(demo, root, ("embeddings",), rows_per_shard=50)
    assert shard_set.fingerprint == expected.fingerprint
    table = read_table(root, "embeddings")
    assert table.column("item_id").to_pylist() == expected.item_ids
    np.testing.assert_array_equal(vectors_of(table), expected.vectors)
    keys, vectors = read_vector_files(shard_set.files("embeddings"))
    assert len(keys) == len(expected.item_ids) and vectors.shape == expected.vectors.shape


def test_unknown_tables_and_missing_sets_are_reported(demo: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown shard table"):
        export_tables(demo, str(tmp_path / "s"), ("orders",))
    with pytest.raises(NotFoundError, match="No shard set"):
        read_table(str(tmp_path / "nowhere"), "items")
    export_tables(demo, str(tmp_path / "s"), ("items",))
    with pytest.raises(NotFoundError, match="no table 'users'"):
        read_table(str(tmp_path / "s"), "users")


def test_row_shards_cover_every_row_once_in_order(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from recengine.distributed.shards import rows_per_shard, write_row_shards

    assert rows_per_shard(10, 2, 100) == 3  # at least two shards per worker
    assert rows_per_shard(1_000, 1, 100) == 100  # never more than the cap
    assert rows_per_shard(0, 4, 100) == 1
    folder = tmp_path / "users"
    (folder / "old").mkdir(parents=True)
    table = pa.table({"position": list(range(10)), "user_id": [f"u{i}" for i in range(10)]})
    assert write_row_shards(table, folder, 3) == 4
    assert not (folder / "old").exists()
    parts = sorted(folder.glob("part-*.parquet"))
    assert [pq.read_table(part).num_rows for part in parts] == [3, 3, 3, 1]
    assert pa.concat_tables([pq.read_table(part) for part in parts]).equals(table)
    assert write_row_shards(table.slice(0, 0), folder, 3) == 1  # an empty table keeps its schema
    assert pq.read_table(folder / "part-00000.parquet").schema.names == ["position", "user_id"]
