"""Hostile text and files: stored verbatim, exported intact, shown inertly, refused cleanly.

Already covered elsewhere (not repeated here): binary/PDF/image files named .csv refused by content
(tests/ingest/bad_files), gzip bombs and the size limit (test_ingest_bad_files), formula cells in
exports (tests/ingest/test_exporting), Markdown in labels on the Insights and Data pages (tests/text,
tests/app).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from reliability_data import catalog_csv, source

from recengine.errors import ExportError, UploadError
from recengine.exporting import export_table
from recengine.ingest import IngestSource, preview_source
from recengine.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]

HOSTILE_TEXTS = {
    "H1": "<script>alert('x')</script> great <b>bold</b> <img src=x onerror=alert(1)>",
    "H2": "**really** _good_ [click me](http://evil.example/) `code` # not a heading\n- not a list",
    "H3": "zero\u200bwidth\u200c joiners\u200d and a BOM\ufeff inside, word\u2060joiner",
    "H4": "right-to-left \u202egnp.exe\u202c and isolates \u2067\u0645\u0631\u062d\u0628\u0627\u2069 \u200f!",
    "H5": "long " + "a very long line without breaks " * 3200,  # about 100k characters
    "H6": "=HYPERLINK(\"http://evil.example\",\"click\") starts like a formula",
    "H7": "$$x^2$$ :material/warning: :red[red] {{template}} ${jndi:ldap://x} %s %n \\x00",
}


def _reviews_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["review_id", "user_id", "item_id", "rating", "title", "text"])
    for number, (review_id, text) in enumerate(HOSTILE_TEXTS.items()):
        writer.writerow([review_id, f"U{number % 3}", f"P{number % 6:04d}", 1 + number % 5, text[:60], text])
    return buffer.getvalue().encode("utf-8")


@pytest.fixture
def hostile_workspace(tmp_path: Path) -> Workspace:
    workspace = Workspace.open(tmp_path / "ws")
    report = workspace.ingest([source("catalog", "catalog.csv", catalog_csv(12)), source("reviews", "hostile.csv", _reviews_csv())])
    assert report.rejected == 0, report
    return workspace


def test_hostile_text_is_stored_verbatim(hostile_workspace: Workspace) -> None:
    stored = hostile_workspace.reviews().set_index("review_id")["text"].to_dict()
    assert stored == HOSTILE_TEXTS
    assert len(stored["H5"]) > 100_000


def test_hostile_text_round_trips_through_export(hostile_workspace: Workspace, tmp_path: Path) -> None:
    for extension in (".jsonl", ".parquet", ".csv", ".xlsx"):  # .xlsx last: it drops the long review
        out = tmp_path / f"reviews{extension}"
        if extension == ".xlsx":
            # An Excel cell holds 32,767 characters: the 100k-character review is refused, not cut.
            with pytest.raises(ExportError, match="longer than an Excel cell"):
                export_table(hostile_workspace, "reviews", out)
            assert not out.exists() and not list(tmp_path.glob(".reviews*"))
            with hostile_workspace.store.transaction() as connection:
                connection.execute("DELETE FROM reviews WHERE review_id = 'H5'")
        expected_rows = len(HOSTILE_TEXTS) - (extension == ".xlsx")
        assert export_table(hostile_workspace, "reviews", out) == expected_rows
        if extension == ".jsonl":
            frame = pd.read_json(out, lines=True, dtype={"review_id": str})
        elif extension == ".parquet":
            frame = pd.read_parquet(out)
        elif extension == ".csv":
            frame = pd.read_csv(out, dtype=str, keep_default_na=False)
        else:
            frame = pd.read_excel(out, dtype=str)
        exported = frame.set_index("review_id")["text"].to_dict()
        for review_id, text in HOSTILE_TEXTS.items():
            if review_id not in exported and extension == ".xlsx":
                continue
            expected = text
            if extension in (".csv", ".xlsx") and text.startswith("="):
                expected = "'" + text  # spreadsheet formula neutralised, nothing else changed
            assert exported[review_id] == expected, (extension, review_id)


def _has_raw_markup(value: str) -> bool:
    # Markdown-rendered elements must carry hostile text escaped: no raw tag or link syntax left.
    return "<script" in value or "](http" in value or "<img" in value


def _open(page: str, workspace: Workspace, **state: object) -> object:
    from streamlit.testing.v1 import AppTest

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    app = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=120)
    app.session_state["workspace_dir"] = str(workspace.root)
    for key, value in state.items():
        app.session_state[key] = value
    return app.run()


@pytest.mark.slow  # AppTest of a page after an analysis run: ~15 s on a busy machine
def test_insights_page_shows_hostile_reviews_as_text(hostile_workspace: Workspace) -> None:
    hostile_workspace.analyze_reviews()
    app = _open("insights.py", hostile_workspace)
    assert not app.exception, [exception.message for exception in app.exception]
    for review_id in ("H1", "H2", "H4", "H5"):
        app.selectbox(key="explorer_review").set_value(review_id).run()
        assert not app.exception, [exception.message for exception in app.exception]
        shown = [element.value for element in app.text]
        # As plain text, exactly as stored (st.text trims white space at the ends, nothing else).
        assert HOSTILE_TEXTS[review_id].strip() in shown, review_id
    for element in [*app.markdown, *app.caption]:
        assert not _has_raw_markup(element.value), element.value


@pytest.mark.slow
def test_recommendations_page_with_hostile_titles_and_reviews(tmp_path: Path) -> None:
    workspace = Workspace.open(tmp_path / "ws")
    titles = "item_id,title,brand,category\n" + "".join(
        f"P{number:04d},\"{text[:200].replace(chr(34), chr(39))}\",<b>Brand</b>,**Cat** > [x](http://e.example)\n"
        for number, text in enumerate(HOSTILE_TEXTS.values())
    )
    workspace.ingest([source("catalog", "catalog.csv", titles.encode()), source("reviews", "hostile.csv", _reviews_csv())])
    workspace.analyze_reviews()
    app = _open("recommendations.py", workspace)
    assert not app.exception, [exception.message for exception in app.exception]
    for element in [*app.markdown, *app.caption]:
        assert not _has_raw_markup(element.value), element.value


# -- hostile files ------------------------------------------------------------------------------------


NESTED = {
    "deep_array.json": b"[" * 100_000 + b"]" * 100_000,
    "deep_object.json": b'[{"item_id": "A", "x": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}]",
    "deep_line.jsonl": b'{"item_id": "A", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}\n",
    "unclosed.json": b"[" * 200_000,
    "deep_line_in_good_file.jsonl": b'{"item_id": "A"}\n{"item_id": "B", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}\n",
}


def test_deeply_nested_json_is_refused_cleanly(workspace: Workspace) -> None:
    for name, data in NESTED.items():
        before = workspace.summary()
        try:
            report = workspace.ingest([IngestSource("catalog", name, data)])
        except UploadError as error:
            assert str(error) and "Traceback" not in str(error)
            assert workspace.summary() == before, name
            with pytest.raises(UploadError):
                preview_source(IngestSource("catalog", name, data))
            continue
        # A JSON Lines file may keep its good lines; the nested one is a rejected row with a reason.
        assert report.rejected >= 1 and report.accepted + report.rejected == report.rows_read, name
        assert set(workspace.items()["item_id"]) <= {"A", "B"}


def test_huge_json_is_refused_by_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECENGINE_INGEST__MAX_UPLOAD_MB", "1")
    workspace = Workspace.open(tmp_path / "ws")
    data = json.dumps([{"item_id": f"A{number}", "title": "x" * 100} for number in range(20_000)]).encode()
    assert len(data) > 2_000_000
    with pytest.raises(UploadError, match=r"(?i)limit|large|MB"):
        workspace.ingest([IngestSource("catalog", "huge.json", data)])
    assert workspace.summary().items == 0


HOSTILE_NAMES = ["../../escape.csv", "/tmp/absolute-name.csv", "..\\..\\windows.csv", "sub/dir/name.csv",
                 "name\x00.csv", "~/home.csv"]


def test_uploaded_file_names_are_never_used_as_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    workspace = Workspace.open(tmp_path / "deep" / "er" / "ws")
    files_before = sorted(path for path in tmp_path.rglob("*") if "ws" not in path.parts)
    absolute_existed = Path("/tmp/absolute-name.csv").exists()
    for number, name in enumerate(HOSTILE_NAMES):
        report = workspace.ingest([IngestSource("catalog", name, f"item_id,title\nA{number},Kettle\n".encode())])
        assert report.accepted == 1, name
    files_after = sorted(path for path in tmp_path.rglob("*") if "ws" not in path.parts)
    assert files_after == files_before  # nothing written outside the workspace
    assert Path("/tmp/absolute-name.csv").exists() == absolute_existed
    stored = [row[0] for row in workspace.store.query_rows("SELECT file_name FROM ingest_batches ORDER BY batch_id")]
    assert stored == HOSTILE_NAMES  # kept as labels only


def test_file_type_is_sniffed_from_content_not_name(workspace: Workspace) -> None:
    jsonl = b'{"item_id": "A", "title": "Kettle"}\n{"item_id": "B", "title": "Toaster"}\n'
    csv_bytes = b"item_id,title\nC,Lamp\n"
    # Wrong extensions both ways: the content decides.
    report = workspace.ingest([IngestSource("catalog", "items.csv", jsonl), IngestSource("catalog", "items.json", csv_bytes)])
    assert report.accepted == 3
    assert sorted(workspace.items()["item_id"]) == ["A", "B", "C"]
    with pytest.raises(UploadError):
        workspace.ingest([IngestSource("catalog", "catalog.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")])
