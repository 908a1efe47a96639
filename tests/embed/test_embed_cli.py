"""`recengine embed` and `recengine similar` end to end on the generated catalog (fake encoder)."""

from __future__ import annotations

import json

from embed_catalog import catalog_rows, insert_items

from recengine.cli import main


def test_embed_then_similar(catalog_workspace, capsys):
    root = str(catalog_workspace.root)
    assert main(["embed", "--workspace", root]) == 0
    captured = capsys.readouterr()
    assert "items  32     0       32" in captured.out and "index: built (exact, Flat, 32 items" in captured.out
    assert "100%" in captured.err  # progress on stderr
    assert main(["embed", "--workspace", root, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["items"]["encoded"] == 0 and report["items"]["cache_hits"] == 32
    assert report["index"]["action"] == "unchanged"

    insert_items(catalog_workspace, [dict(catalog_rows()[3], description="Different words entirely")])
    assert main(["embed", "--workspace", root, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["items"]["encoded"] == 1 and report["index"]["action"] == "updated"

    assert main(["similar", "--workspace", root, "--item", "P2001", "-k", "3", "--format", "json"]) == 0
    similar = json.loads(capsys.readouterr().out)
    assert similar["item_id"] == "P2001" and [hit["rank"] for hit in similar["similar"]] == [1, 2, 3]
    assert all(hit["item_id"] != "P2001" for hit in similar["similar"])
    assert main(["similar", "--workspace", root, "--item", "P2001", "--same-category"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["rank", "item_id", "cosine", "title", "category"]
    assert len(table) == 2 + 7 and all("Kitchen > Cookware > Pans" in line for line in table[2:])


def test_similar_bad_input(catalog_workspace, capsys):
    root = str(catalog_workspace.root)
    assert main(["similar", "--workspace", root, "--item", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err
    assert main(["similar", "--workspace", root, "--item", "P0000", "-k", "0"]) == 2


def test_status_shows_embedding_section(catalog_workspace, capsys):
    root = str(catalog_workspace.root)
    main(["embed", "--workspace", root])
    capsys.readouterr()
    assert main(["status", "--workspace", root, "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)["embeddings"]
    assert status["model"] == "fake" and status["index"] == "fresh" and status["index_kind"] == "exact"
    assert status["cache_entries"] == 32 and status["device"] == "cpu"
