"""`recengine recommend`, `search` and `bundle` on a small workspace: json, jsonl, csv, errors."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import pytest
from recommend_fixtures import fill_workspace  # noqa: E402

from recengine.cli import bundle as bundle_command
from recengine.cli import recommend as recommend_command
from recengine.cli import search as search_command
from recengine.errors import RecEngineError
from recengine.recommend import COMPONENTS
from recengine.recommend.workspace_model import clear_cache
from recengine.workspace import Workspace


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (recommend_command, search_command, bundle_command):
        module.register(subparsers)
    arguments = parser.parse_args(list(argv))
    return int(arguments.handler(arguments) or 0)


@pytest.fixture(scope="module")
def filled_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One workspace for the module: the fitted model is cached per data version, so it is fitted once."""
    clear_cache()
    return fill_workspace(Workspace.open(tmp_path_factory.mktemp("cli") / "ws"))


def test_recommend_json_has_explanations(filled_workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("recommend", "--workspace", str(filled_workspace.root), "--user", "j0", "-k", "3", "--format", "json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["user_id"] == "j0"
    assert [item["rank"] for item in payload["recommendations"]] == [1, 2, 3]
    for item in payload["recommendations"]:
        assert item["item_id"].startswith("J")
        explanation = item["explanation"]
        assert set(COMPONENTS) <= set(explanation["components"])
        assert sum(explanation["components"].values()) == pytest.approx(item["score"], abs=1e-5)
        assert {"because", "shared_keywords", "rules", "reason"} <= set(explanation)


def component_of_top_five(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], component: str, *extra: str
) -> dict[str, float]:
    """`recommend --user j0 -k 5 --format json` with `extra` options: item -> that score component."""
    assert run("recommend", "--workspace", str(workspace.root), "--user", "j0", "-k", "5", "--format", "json", *extra) == 0
    payload = json.loads(capsys.readouterr().out)
    return {item["item_id"]: item["explanation"]["components"][component] for item in payload["recommendations"]}


def test_ease_l2_switches_the_collaborative_signal_for_one_run(
    filled_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    def collaborative(*extra: str) -> dict[str, float]:
        return component_of_top_five(filled_workspace, capsys, "collaborative", *extra)

    co_occurrence = collaborative()
    ease = collaborative("--ease-l2", "5")
    assert any(value > 0 for value in ease.values())
    assert ease != co_occurrence
    assert collaborative("--ease-l2", "0") == co_occurrence
    assert Workspace.open(filled_workspace.root).settings.recommend.collaborative_ease_l2 == 0  # nothing saved


def test_review_weight_switches_the_reviews_text_for_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from recommend_fixtures import fill_workspace

    from recengine.embed import embed_workspace

    workspace = fill_workspace(Workspace.open(tmp_path / "ws"))
    embed_workspace(workspace, reviews=True)

    def semantic(*extra: str) -> dict[str, float]:
        return component_of_top_five(workspace, capsys, "semantic", *extra)

    with_reviews = semantic()
    catalog_only = semantic("--review-weight", "0")
    assert with_reviews != catalog_only
    assert semantic("--review-weight", "1") == with_reviews  # the default weight
    assert Workspace.open(workspace.root).settings.recommend.review_vector_weight == 1.0  # nothing saved


def test_recommend_table_with_explain(filled_workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("recommend", "--workspace", str(filled_workspace.root), "--user", "g1", "--explain") == 0
    out = capsys.readouterr().out
    assert "reason" in out.splitlines()[0] and "because" in out.splitlines()[0]
    assert "attribution" in out.splitlines()[0]
    assert "Garden tool" in out
    assert "collaborative: G" in out  # each history product's part, by id


def test_json_and_csv_exports_carry_the_attribution(
    filled_workspace: Workspace, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run("recommend", "--workspace", str(filled_workspace.root), "--user", "j0", "-k", "3", "--format", "json") == 0
    for item in json.loads(capsys.readouterr().out)["recommendations"]:
        explanation = item["explanation"]
        assert [entry["component"] for entry in explanation["attribution"]]
        for entry in explanation["attribution"]:
            assert entry["value"] == explanation["components"][entry["component"]]
            listed = sum(part["amount"] for part in entry["contributions"]) + entry["unlisted"]
            assert listed == pytest.approx(entry["value"], abs=1e-5)
            assert all(part["item_id"].startswith("J") and part["action"] for part in entry["contributions"])
    users = tmp_path / "users.txt"
    users.write_text("j0\n")
    out_csv = tmp_path / "recs.csv"
    assert run("recommend", "--workspace", str(filled_workspace.root), "--users-file", str(users), "-k", "2",
               "--format", "csv", "--out", str(out_csv)) == 0
    rows = list(csv.DictReader(out_csv.open()))
    assert all(row["attribution"].startswith(("collaborative: J", "semantic: J")) for row in rows), rows


def test_batch_export_jsonl_and_csv(filled_workspace: Workspace, tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    users.write_text("user_id\nj0\ng0\nnew-customer\n")
    out = tmp_path / "recs.jsonl"
    assert run("recommend", "--workspace", str(filled_workspace.root), "--users-file", str(users), "-k", "2",
               "--format", "jsonl", "--out", str(out)) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["user_id"] for line in lines] == ["j0", "g0", "new-customer"]
    for line in lines:
        assert len(line["recommendations"]) == 2
        assert all("explanation" in item for item in line["recommendations"])
    out_csv = tmp_path / "recs.csv"
    assert run("recommend", "--workspace", str(filled_workspace.root), "--users-file", str(users), "-k", "2",
               "--format", "csv", "--out", str(out_csv)) == 0
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 6 and rows[0]["user_id"] == "j0" and rows[0]["reason"]


@pytest.mark.parametrize(
    "argv",
    [
        ("--user", "nobody"),
        ("--user", "j0", "-k", "0"),
        ("--user", "j0", "--format", "jsonl"),
        ("--users-file", "missing.txt", "--format", "jsonl", "--out", "x.jsonl"),
        ("--user", "j0", "--weight", "semantic=lots"),
        ("--user", "j0", "--ease-l2", "-1"),
        ("--user", "j0", "--review-weight", "-1"),
    ],
)
def test_bad_input_is_a_readable_error(filled_workspace: Workspace, argv: tuple[str, ...]) -> None:
    with pytest.raises(RecEngineError):
        run("recommend", "--workspace", str(filled_workspace.root), *argv)


def test_batch_export_needs_out_and_format(filled_workspace: Workspace, tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    users.write_text("j0\n")
    with pytest.raises(RecEngineError):
        run("recommend", "--workspace", str(filled_workspace.root), "--users-file", str(users), "--format", "jsonl")
    with pytest.raises(RecEngineError):
        run("recommend", "--workspace", str(filled_workspace.root), "--users-file", str(users), "--out", str(tmp_path / "x"))


def test_rules_file_and_rules_off(filled_workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": [{"type": "pin", "item_id": "G3", "position": 1}]}))
    run("recommend", "--workspace", str(filled_workspace.root), "--user", "j0", "--format", "json", "--rules", str(rules))
    pinned = json.loads(capsys.readouterr().out)["recommendations"][0]
    assert pinned["item_id"] == "G3" and pinned["explanation"]["rules"] == ["pinned at position 1"]
    run("recommend", "--workspace", str(filled_workspace.root), "--user", "j0", "--format", "json", "--rules", str(rules), "--no-rules")
    assert json.loads(capsys.readouterr().out)["recommendations"][0]["item_id"] != "G3"


def test_search_and_bundle_commands(filled_workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("search", "--workspace", str(filled_workspace.root), "--query", "jazz record", "--user", "j0", "--format", "json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["results"] and payload["results"][0]["item_id"].startswith("J")
    assert run("bundle", "--workspace", str(filled_workspace.root), "--item", "G1", "--budget", "30", "--format", "json") == 0
    bundle = json.loads(capsys.readouterr().out)
    assert bundle["anchor_item_ids"] == ["G1"]
    assert bundle["total_price"] is None or bundle["total_price"] <= 30
    assert run("bundle", "--workspace", str(filled_workspace.root), "--user", "g2") == 0
    assert "item_id" in capsys.readouterr().out
    with pytest.raises(RecEngineError):
        run("bundle", "--workspace", str(filled_workspace.root), "--item", "G1", "--budget", "-1")


def test_typed_interests_for_a_new_customer(filled_workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("recommend", "--workspace", str(filled_workspace.root), "--interests", "jazz record", "-k", "3",
               "--format", "json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["recommendations"]) == 3
    assert all(item["explanation"]["because"] == [] for item in payload["recommendations"])


def test_new_arrivals_flag_gives_never_bought_products_fixed_positions(
    filled_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    run("recommend", "--workspace", str(filled_workspace.root), "--user", "j0", "-k", "4", "--format", "json",
        "--new-arrivals", "1", "--new-arrivals-positions", "2,4")
    listed = json.loads(capsys.readouterr().out)["recommendations"]
    assert {listed[1]["item_id"], listed[3]["item_id"]} == {"J7", "G7"}  # nobody has bought them yet
    with pytest.raises(RecEngineError, match="positions"):
        run("recommend", "--workspace", str(filled_workspace.root), "--user", "j0", "--new-arrivals", "1",
            "--new-arrivals-positions", "two")
