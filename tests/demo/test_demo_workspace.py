"""The demo through the real ingester into a workspace, the CLI, and the fixture for other tests."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from recengine.cli import main
from recengine.demo import (
    SIZES,
    create_demo_workspace,
    ensure_demo_workspace,
    generate_demo,
    small_demo_workspace,
)
from recengine.errors import ConfigError, WorkspaceError
from recengine.ingest import IngestSource
from recengine.workspace import Workspace


def _own_catalog(root: Path) -> Workspace:
    workspace = Workspace.open(root)
    workspace.ingest([IngestSource("catalog", "mine.csv", b"sku,name,price\nMY-1,My own product,9.99\n")])
    return workspace


def test_small_demo_workspace_ingests_everything(tmp_path: Path) -> None:
    workspace = small_demo_workspace(tmp_path / "ws")
    data = generate_demo(size="small")
    summary = workspace.summary()
    assert summary.is_demo and workspace.store.get_meta("demo_size") == "small"
    assert summary.rejected_rows == 0 and summary.placeholder_items == 0
    assert summary.items == SIZES["small"].products
    assert summary.reviews == len(data.reviews)
    assert summary.interactions == len(data.interactions)
    assert summary.rated_reviews == data.reviews["rating"].notna().sum()
    assert summary.users >= 0.9 * SIZES["small"].users
    reviews = workspace.reviews()
    assert reviews["user_id"].isna().sum() == data.reviews["user_id"].isna().sum()
    assert set(reviews["text"]) == set(data.reviews["text"])  # kept verbatim
    items = workspace.items().set_index("item_id")
    assert items["category"].str.count(" > ").eq(2).all()
    assert (~items["in_stock"]).sum() == (~data.items["in_stock"]).sum()
    events = workspace.interactions()
    assert set(events["event"]) == {"view", "click", "cart", "purchase"}


def test_demo_files_go_through_the_automatic_column_mapping(tmp_path: Path) -> None:
    workspace = small_demo_workspace(tmp_path / "ws")
    batches = workspace.store.query_df("SELECT kind, mapping FROM ingest_batches ORDER BY batch_id")
    mappings = {
        kind: json.loads(mapping) for kind, mapping in zip(batches["kind"], batches["mapping"], strict=True)
    }
    assert mappings["catalog"] == {
        "sku": "item_id",
        "name": "title",
        "brand": "brand",
        "category": "category",
        "price": "price",
        "stock": "in_stock",
        "image_url": "image_url",
        "description": "description",
        "tags": "attributes",
    }
    assert {
        "reviewerID": "user_id",
        "asin": "item_id",
        "overall": "rating",
        "summary": "title",
        "reviewText": "text",
        "unixReviewTime": "timestamp",
    }.items() <= mappings["reviews"].items()
    assert {
        "event_id": "interaction_id",
        "customer_id": "user_id",
        "sku": "item_id",
        "event": "event",
    }.items() <= mappings["interactions"].items()


def test_ensure_demo_workspace_keeps_an_existing_workspace(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    small_demo_workspace(root)
    started = time.perf_counter()
    workspace = ensure_demo_workspace(root)
    assert time.perf_counter() - started < 2.0  # opened, not rebuilt
    assert workspace.store.get_meta("demo_size") == "small"


def test_rebuilding_a_demo_replaces_it_and_reports_progress(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    small_demo_workspace(root)  # seed 7
    messages: list[tuple[float, str]] = []
    workspace = create_demo_workspace(
        root, size="small", seed=8, progress=lambda fraction, message: messages.append((fraction, message))
    )
    assert set(workspace.items()["title"]) == set(generate_demo(seed=8, size="small").items["title"])
    assert workspace.summary().reviews == SIZES["small"].reviews
    assert workspace.store.get_meta("demo_seed") == "8"
    fractions = [fraction for fraction, _ in messages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_refuses_a_workspace_with_other_data(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _own_catalog(root)
    with pytest.raises(WorkspaceError, match="--force"):
        create_demo_workspace(root, size="small")
    assert Workspace.open(root).summary().items == 1  # untouched


def test_unknown_size_changes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        create_demo_workspace(tmp_path / "ws", size="large")
    assert not (tmp_path / "ws").exists()


def test_the_demo_is_prepared_after_its_ingest_or_left_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recengine import preparation

    calls: list[str] = []

    def step(name: str):  # type: ignore[no-untyped-def]
        def run(workspace: Workspace, progress) -> None:  # type: ignore[no-untyped-def]
            assert workspace.is_demo()  # steps see the finished, marked demo
            progress(0.5, name)
            calls.append(name)

        return run

    monkeypatch.setattr(preparation, "_RUNNERS", {name: step(name) for name in preparation.STEP_NAMES})
    workspace = create_demo_workspace(tmp_path / "ws", size="small")
    assert calls == list(preparation.STEP_NAMES) and preparation.pending_steps(workspace) == ()

    later = create_demo_workspace(tmp_path / "later", size="small", post_ingest=False)
    assert calls == list(preparation.STEP_NAMES), "nothing more ran"
    assert preparation.pending_steps(later) == preparation.STEP_NAMES


def test_small_demo_fixture_gives_independent_copies(tmp_path: Path) -> None:
    first = small_demo_workspace(tmp_path / "a")
    started = time.perf_counter()
    second = small_demo_workspace(tmp_path / "b")
    assert time.perf_counter() - started < 2.0  # copied, not rebuilt
    assert first.is_demo() and second.summary().items == SIZES["small"].products
    with first.store.transaction() as connection:
        connection.execute("DELETE FROM reviews")
    assert first.summary().reviews == 0
    assert second.summary().reviews == SIZES["small"].reviews
    with pytest.raises(WorkspaceError):
        small_demo_workspace(tmp_path / "a")


def test_cli_demo_refuses_other_data_then_replaces_it_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ws"
    _own_catalog(root)
    assert main(["demo", "--workspace", str(root), "--size", "small"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "not the demo" in error[0] and "--force" in error[0]

    assert main(["demo", "--workspace", str(root), "--size", "small", "--seed", "3", "--force"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) == 1
    assert f"{SIZES['small'].products} products" in lines[0] and "seed 3" in lines[0]
    assert "generated data" in lines[0]
    assert "Demo workspace ready" in captured.err  # progress goes to stderr
    workspace = Workspace.open(root)
    assert workspace.store.get_meta("demo_seed") == "3"
    assert "MY-1" not in set(workspace.items()["item_id"])
