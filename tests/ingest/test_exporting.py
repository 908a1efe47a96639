"""Exports: formats by extension, formula neutralising for spreadsheets, personal data masked."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recengine.errors import ExportError
from recengine.exporting import export_table, neutralise_formulas
from recengine.ingest import ingest_files
from recengine.workspace import Workspace


def test_neutralise_formulas_only_touches_text_that_starts_like_a_formula() -> None:
    frame = pd.DataFrame(
        {
            "text": ["=1+1", "+49 30 1234", "-minus", "@SUM(A1)", "plain", None, "a=b"],
            "number": [-1, 2, 3, 4, 5, 6, 7],
        }
    )
    result = neutralise_formulas(frame)
    assert result["text"].tolist()[:5] == ["'=1+1", "'+49 30 1234", "'-minus", "'@SUM(A1)", "plain"]
    assert pd.isna(result["text"][5]) and result["text"][6] == "a=b"
    assert result["number"].tolist() == [-1, 2, 3, 4, 5, 6, 7]  # numbers are never quoted
    assert frame["text"][0] == "=1+1"  # the input is not modified


def test_review_text_is_masked_on_export_unless_disabled(
    workspace: Workspace, source_of, tmp_path: Path
) -> None:
    data = "user_id,item_id,rating,text\nu1,A,5,Mail me at jane.doe@example.com please\n"
    ingest_files(workspace, [source_of("reviews", data)])
    out = tmp_path / "reviews.csv"
    assert export_table(workspace, "reviews", out) == 1
    assert "jane.doe@example.com" not in out.read_text(encoding="utf-8")
    assert "[email]" in out.read_text(encoding="utf-8")
    assert workspace.reviews()["text"][0].endswith("example.com please")  # stored verbatim

    workspace.settings.privacy.mask_personal_data = False
    export_table(workspace, "reviews", out)
    assert "jane.doe@example.com" in out.read_text(encoding="utf-8")


def test_export_errors(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no table"):
        export_table(workspace, "secrets", tmp_path / "x.csv")
    with pytest.raises(ExportError, match="unknown file type"):
        export_table(workspace, "items", tmp_path / "x.docx")
    assert not (tmp_path / "x.docx").exists()


def test_export_of_an_empty_table_writes_a_header(workspace: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "rejects.csv"
    assert export_table(workspace, "rejects", out) == 0
    assert out.read_text(encoding="utf-8").startswith("batch_id,file_name,row_number")
