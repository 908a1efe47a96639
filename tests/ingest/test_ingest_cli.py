"""`recengine ingest` and `recengine export` as the DESIGN.md contract describes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from recengine.cli import main
from recengine.workspace import Workspace


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text('sku,name,price\nA,Kettle,$25.00\nB,=HYPERLINK("http://x"),3\n', encoding="utf-8")
    reviews = tmp_path / "reviews.jsonl"
    reviews.write_text(
        '{"reviewerID": "u1", "asin": "A", "overall": 5, "reviewText": "+1 great", "unixReviewTime": 1600000000}\n'
        '{"reviewerID": "u2", "asin": "Z", "overall": 9, "reviewText": "bad stars"}\n',
        encoding="utf-8",
    )
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("B00005N7P0,AH2IFH762VY5U,5.0,1005177600\n", encoding="utf-8")
    return {"catalog": catalog, "reviews": reviews, "ratings": ratings}


def test_ingest_json_report_adds_up(
    tmp_path: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "ingest",
            "--workspace",
            str(tmp_path / "ws"),
            "--catalog",
            str(files["catalog"]),
            "--reviews",
            str(files["reviews"]),
            "--format",
            "json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    report = json.loads(captured.out)
    by_name = {entry["file_name"]: entry for entry in report["files"]}
    assert by_name["catalog.csv"]["accepted"] == 2
    reviews = by_name["reviews.jsonl"]
    assert (reviews["rows_read"], reviews["accepted"], reviews["rejected"]) == (2, 1, 1)
    assert reviews["reasons"] == {"rating outside 1-5": 1}
    totals = report["totals"]
    assert (
        totals["accepted"] + totals["updated"] + totals["duplicate"] + totals["rejected"]
        == totals["rows_read"]
        == 4
    )
    assert report["nothing_lost"] is True
    assert "stored" in captured.err  # progress goes to stderr, never into the JSON


def test_ingest_table_output_and_map_option(
    tmp_path: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "ingest",
            "--workspace",
            str(tmp_path / "ws"),
            "--interactions",
            str(files["ratings"]),
            "--map",
            "column_1=item_id",
            "--map",
            "column_2=user_id",
            "--map",
            "column_3=attributes",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "ratings.csv" in out and "accepted" in out
    interactions = Workspace.open(tmp_path / "ws").interactions()
    assert interactions[["user_id", "item_id", "event"]].values.tolist() == [
        ["AH2IFH762VY5U", "B00005N7P0", "purchase"]
    ]
    assert json.loads(interactions["attributes"][0]) == {"column_3": "5.0"}


@pytest.mark.parametrize(
    ("arguments", "phrase"),
    [
        (["--catalog", "{missing}"], "no such file"),
        (["--catalog", "{bad}"], "PNG image"),
        (["--catalog", "{catalog}", "--map", "nosuch=item_id"], "no file has a column 'nosuch'"),
        (["--catalog", "{catalog}", "--map", "oops"], "is not SRC=FIELD"),
        ([], "no file given"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    phrase: str,
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    values = {"missing": str(tmp_path / "missing.csv"), "bad": str(bad), "catalog": str(files["catalog"])}
    code = main(["ingest", "--workspace", str(tmp_path / "ws"), *[a.format(**values) for a in arguments]])
    err = capsys.readouterr().err
    assert code == 2
    error_lines = [line for line in err.splitlines() if line.startswith("recengine: error:")]
    assert len(error_lines) == 1 and phrase in error_lines[0]


def test_cli_subprocess_bad_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "recengine",
            "ingest",
            "--workspace",
            str(tmp_path / "ws"),
            "--reviews",
            str(empty),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert (
        lines[-1]
        == "recengine: error: empty.csv: the file is empty. Export the data again and upload that file."
    )
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".xlsx"])
def test_export_tables(
    tmp_path: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    workspace_dir = str(tmp_path / "ws")
    assert (
        main(
            [
                "ingest",
                "--workspace",
                workspace_dir,
                "--catalog",
                str(files["catalog"]),
                "--reviews",
                str(files["reviews"]),
            ]
        )
        == 0
    )
    for table, rows in (("items", 2), ("reviews", 1), ("rejects", 1)):
        out = tmp_path / f"{table}{suffix}"
        assert main(["export", "--workspace", workspace_dir, "--table", table, "--out", str(out)]) == 0
        frame = {
            ".csv": lambda p: pd.read_csv(p, dtype=str, keep_default_na=False),
            ".jsonl": lambda p: pd.read_json(p, lines=True, dtype=False),
            ".parquet": pd.read_parquet,
            ".xlsx": lambda p: pd.read_excel(p, dtype=str),
        }[suffix](out)
        assert len(frame) == rows, table
    items = {".csv": lambda p: pd.read_csv(p, dtype=str), ".xlsx": lambda p: pd.read_excel(p, dtype=str)}
    frame = items.get(
        suffix, pd.read_parquet if suffix == ".parquet" else lambda p: pd.read_json(p, lines=True)
    )(tmp_path / f"items{suffix}")
    titles = set(frame["title"])
    if suffix in (".csv", ".xlsx"):
        assert '\'=HYPERLINK("http://x")' in titles  # a spreadsheet shows it as text, never runs it
    else:
        assert '=HYPERLINK("http://x")' in titles  # data formats keep values exactly
    assert "wrote" in capsys.readouterr().err


def test_export_rejects_unknown_format(
    tmp_path: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    workspace_dir = str(tmp_path / "ws")
    main(["ingest", "--workspace", workspace_dir, "--catalog", str(files["catalog"])])
    code = main(
        ["export", "--workspace", workspace_dir, "--table", "items", "--out", str(tmp_path / "items.txt")]
    )
    assert code == 2
    assert "unknown file type .txt" in capsys.readouterr().err
