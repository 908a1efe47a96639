"""`recengine evaluate` prints every method's metrics as JSON or a table, and rejects bad input."""

from __future__ import annotations

import argparse
import json

import pytest

from recengine.cli import evaluate as evaluate_command
from recengine.errors import ConfigError


def parse(*argv: str) -> argparse.Namespace:
    # Only this command's parser: the test does not depend on other commands being importable.
    parser = argparse.ArgumentParser(prog="recengine")
    evaluate_command.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["evaluate", *argv])


def test_json_output_has_every_method(filled_workspace, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    arguments = parse(
        "--workspace", str(filled_workspace.root), "-k", "2", "--methods", "MostPopular", "ItemKNN",
        "--resamples", "50", "--format", "json", "--save",
    )
    assert arguments.handler(arguments) == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert [method["name"] for method in payload["methods"]] == ["MostPopular", "ItemKNN"]
    knn = payload["methods"][1]
    assert knn["metrics"]["hit_rate"]["mean"] == pytest.approx(1.0)
    assert set(knn["metrics"]) == {"recall", "precision", "ndcg", "hit_rate", "map", "mrr"}
    assert payload["k"] == 2 and payload["verdict"]
    assert payload["experiment_id"]
    assert "100%" in captured.err  # progress went to stderr, not into the JSON


def test_table_output(filled_workspace, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    arguments = parse("--workspace", str(filled_workspace.root), "-k", "2", "--methods", "MostPopular", "ItemKNN")
    assert arguments.handler(arguments) == 0
    out = capsys.readouterr().out
    assert "NDCG@2" in out and "ItemKNN" in out and "18 customers tested" in out


def test_faithfulness_reports_coverage_and_removals(filled_workspace, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    arguments = parse("--workspace", str(filled_workspace.root), "-k", "3", "--faithfulness", "--customers", "6",
                      "--format", "json")
    assert arguments.handler(arguments) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["covered_all"] == 1.0 and payload["named"] == 1.0
    assert payload["summary"]["removals"] > 0
    assert payload["summary"]["collaborative_error"] < 1e-5
    table = parse("--workspace", str(filled_workspace.root), "-k", "3", "--faithfulness", "--customers", "4")
    assert table.handler(table) == 0
    assert "falls out of the top 3" in capsys.readouterr().out


def test_bad_k_is_a_config_error(filled_workspace) -> None:  # type: ignore[no-untyped-def]
    arguments = parse("--workspace", str(filled_workspace.root), "-k", "0")
    with pytest.raises(ConfigError):
        arguments.handler(arguments)


def test_registered_in_the_main_command() -> None:
    from recengine.cli import COMMAND_MODULES

    assert "evaluate" in COMMAND_MODULES
