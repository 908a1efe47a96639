"""Exports: pseudonymised user ids (keyed per workspace) and personal data masked by default."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from reliability_data import source

from recengine.cli import main
from recengine.exporting import export_table, pseudonym_secret
from recengine.privacy import pseudonymise
from recengine.workspace import Workspace

REVIEWS = (
    "review_id,reviewerID,asin,overall,reviewText\n"
    "R1,alice,A,5,Mail me at alice@example.com or +44 20 7946 0958\n"
    "R2,bob,A,4,card 4111 1111 1111 1111 works\n"
    "R3,alice,B,2,plain text\n"
    "R4,carol,B,9,rating out of range - write to carol@example.com\n"  # rejected: its raw row names the user too
)
EVENTS = "user_id,item_id,event\nalice,A,purchase\nbob,B,view\n"


@pytest.fixture
def shop(tmp_path: Path) -> Workspace:
    workspace = Workspace.open(tmp_path / "shop")
    report = workspace.ingest([
        source("catalog", "c.csv", b"item_id,title\nA,Kettle\nB,Toaster\n"),
        source("reviews", "r.csv", REVIEWS.encode()),
        source("interactions", "e.csv", EVENTS.encode()),
    ])
    assert report.rejected == 1
    return workspace


def _read(path: Path) -> pd.DataFrame:
    return pd.read_json(path, lines=True, dtype=False)


def test_pseudonyms_are_stable_within_a_workspace_and_differ_across(shop: Workspace, tmp_path: Path) -> None:
    for table in ("reviews", "interactions", "users", "rejects"):
        export_table(shop, table, tmp_path / f"{table}.jsonl", pseudonymize_users=True)
    reviews, events, users = (_read(tmp_path / f"{name}.jsonl") for name in ("reviews", "interactions", "users"))
    secret = pseudonym_secret(shop)
    alice = pseudonymise("alice", secret)
    assert alice and alice.startswith("u_") and alice != pseudonymise("bob", secret)
    # The same customer is the same pseudonym in every table (exports can still be joined)...
    assert reviews.set_index("review_id").loc[["R1", "R3"], "user_id"].tolist() == [alice, alice]
    assert events.set_index("item_id").loc["A", "user_id"] == alice
    assert set(users["user_id"]) == {pseudonymise(name, secret) for name in ("alice", "bob")}
    # ...and no real id is left anywhere, not even inside a rejected row's raw values.
    for table in ("reviews", "interactions", "users", "rejects"):
        text = (tmp_path / f"{table}.jsonl").read_text(encoding="utf-8")
        assert "alice" not in text and "bob" not in text and "carol" not in text, table
    raw = json.loads(_read(tmp_path / "rejects.jsonl")["raw"][0])
    assert raw["reviewerID"] == pseudonymise("carol", secret)
    # A second export uses the same key; another workspace has its own.
    export_table(shop, "reviews", tmp_path / "again.jsonl", pseudonymize_users=True)
    assert _read(tmp_path / "again.jsonl")["user_id"].tolist() == reviews["user_id"].tolist()
    other = Workspace.open(tmp_path / "other")
    other.ingest([source("reviews", "r.csv", REVIEWS.encode())])
    export_table(other, "reviews", tmp_path / "other.jsonl", pseudonymize_users=True)
    assert alice not in set(_read(tmp_path / "other.jsonl")["user_id"])
    # The stored data is untouched.
    assert set(shop.users()["user_id"]) == {"alice", "bob"}


def test_without_the_option_ids_are_exported_as_they_are(shop: Workspace, tmp_path: Path) -> None:
    export_table(shop, "reviews", tmp_path / "reviews.csv")
    assert "alice" in (tmp_path / "reviews.csv").read_text(encoding="utf-8")


def test_masking_is_on_by_default_and_configurable(shop: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    export_table(shop, "reviews", tmp_path / "masked.csv")
    masked = (tmp_path / "masked.csv").read_text(encoding="utf-8")
    assert "alice@example.com" not in masked and "7946" not in masked and "4111" not in masked
    assert "[email]" in masked and "[phone]" in masked and "[card]" in masked
    export_table(shop, "reviews", tmp_path / "plain.csv", mask_personal_data=False)
    assert "alice@example.com" in (tmp_path / "plain.csv").read_text(encoding="utf-8")
    # The workspace setting (config.toml or environment) turns it off for every export.
    monkeypatch.setenv("RECENGINE_PRIVACY__MASK_PERSONAL_DATA", "false")
    export_table(Workspace.open(shop.root), "reviews", tmp_path / "setting.csv")
    assert "alice@example.com" in (tmp_path / "setting.csv").read_text(encoding="utf-8")


def test_cli_export_options(shop: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "cli.jsonl"
    assert main(["export", "--workspace", str(shop.root), "--table", "reviews", "--out", str(out), "--pseudonymize-users"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "alice" not in text and pseudonymise("alice", pseudonym_secret(shop)) in text
    assert "[email]" in text
    plain = tmp_path / "plain.jsonl"
    assert main(["export", "--workspace", str(shop.root), "--table", "reviews", "--out", str(plain), "--keep-personal-data"]) == 0
    assert "alice@example.com" in plain.read_text(encoding="utf-8")


def test_dashboard_masks_review_text_and_rejected_rows(shop: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Insights page's reads and the Data page's rejected rows, as the pages call them."""
    import sys

    root = Path(__file__).resolve().parents[2]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from ui import data as data_ui
    from ui import insights as insights_ui

    version = shop.store.get_meta("data_version") or "0"  # (the explorer lists reviews before analysis too)
    reviews = insights_ui.scope_reviews(str(shop.root), version, "all", "")
    shown = " ".join(reviews["text"].dropna())
    assert "alice@example.com" not in shown and "7946" not in shown and "4111" not in shown
    assert "[email]" in shown and "[card]" in shown
    batch = int(shop.store.scalar("SELECT batch_id FROM rejects"))
    rejects = data_ui.rejected_rows(shop, [batch])
    assert len(rejects) == 1 and "carol@example.com" not in rejects["raw"][0] and "[email]" in rejects["raw"][0]
    raw = shop.store.query_df("SELECT raw FROM rejects")["raw"][0]
    assert "carol@example.com" in raw  # stored verbatim
