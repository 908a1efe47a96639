"""Every format (also gzip-compressed) and every text encoding reads to the same rows."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from recengine.ingest import IngestSource, ingest_files, preview_source
from recengine.workspace import Workspace

REVIEWS = pd.DataFrame(
    {
        "reviewerID": ["A1", "A2", "A3"],
        "asin": ["B0000001", "B0000001", "B0000002"],
        "overall": [5, 3, 1],
        "summary": ["Great", "Okay", "Broke"],
        "reviewText": ["Loved it, sound is great.", "  Fine, I guess\nsecond line ", "Broke after a day"],
        "unixReviewTime": [1529193600, 1528934400, 1400000000],
        "verified": [True, False, True],
    }
)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("file_format", ["csv", "tsv", "json", "jsonl", "parquet", "xlsx"])
def test_every_format_reads_the_same_reviews(
    workspace: Workspace, source_of, file_format: str, gz: bool
) -> None:
    source = source_of("reviews", REVIEWS, file_format=file_format, gz=gz)
    report = ingest_files(workspace, [source])

    file_report = report.files[0]
    assert file_report.format == {"xlsx": "excel"}.get(file_format, file_format)
    assert file_report.compression == ("gzip" if gz else None)
    assert (file_report.rows_read, file_report.accepted, file_report.rejected) == (3, 3, 0)
    reviews = workspace.reviews().set_index("user_id")
    assert reviews.loc["A2", "rating"] == 3.0
    assert reviews.loc["A2", "item_id"] == "B0000001"
    # Free text stays verbatim, leading spaces and line breaks included.
    assert reviews.loc["A2", "text"] == "  Fine, I guess\nsecond line "
    assert reviews.loc["A1", "timestamp"] == pd.Timestamp("2018-06-17")
    assert json.loads(reviews.loc["A1", "attributes"])["verified"] in (True, "True", "true")
    assert set(workspace.users()["user_id"]) == {"A1", "A2", "A3"}


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("cp1252", "cp1252"),
        ("latin-1", "latin-1"),
        ("utf-16", "utf-16"),
    ],
)
def test_text_encodings_are_detected(workspace: Workspace, source_of, encoding: str, expected: str) -> None:
    # cp1252 has the euro sign at 0x80; Latin-1 files are told apart by a byte cp1252 leaves undefined.
    title = "Crème brûlée set" + (" €5 off" if encoding in ("utf-8", "utf-8-sig", "cp1252", "utf-16") else "")
    text = f"sku;name;price\nS1;{title};12,50\n"
    data = text.encode(encoding)
    if encoding == "latin-1":
        data = data.replace(b"set", b"set\x81")
        title += "\x81"
    report = ingest_files(workspace, [source_of("catalog", data)])

    assert report.files[0].encoding == expected
    item = workspace.item("S1")
    assert item["title"] == title
    assert item["price"] == 12.5


def test_header_less_ratings_csv_is_mapped_by_content(workspace: Workspace, source_of) -> None:
    data = "B00005N7P0,AH2IFH762VY5U,5.0,1005177600\nB00005N7OJ,A3JPFWKS83R49V,3.0,1174694400\n"
    preview = preview_source(source_of("reviews", data))
    assert preview.has_header is False
    assert preview.columns == ["column_1", "column_2", "column_3", "column_4"]
    assert preview.mapping == {
        "column_1": "item_id",
        "column_2": "user_id",
        "column_3": "rating",
        "column_4": "timestamp",
    }

    report = ingest_files(workspace, [source_of("reviews", data)])
    assert report.files[0].accepted == 2
    reviews = workspace.reviews()
    assert sorted(reviews["item_id"]) == ["B00005N7OJ", "B00005N7P0"]
    assert sorted(reviews["rating"]) == [3.0, 5.0]


def test_header_can_be_forced_and_columns_mapped_by_position(workspace: Workspace, source_of) -> None:
    data = "u1,p1,view\nu2,p2,purchase\n"
    source = source_of(
        "interactions",
        data,
        has_header=False,
        mapping={"column_1": "user_id", "2": "item_id", "column_3": "event"},
    )
    report = ingest_files(workspace, [source])
    assert report.files[0].accepted == 2
    assert sorted(workspace.interactions()["event"]) == ["purchase", "view"]


def test_json_document_with_a_records_list(workspace: Workspace, source_of) -> None:
    document = {
        "exported": "2024-01-01",
        "products": [{"id": 1, "name": "Kettle"}, {"id": 2, "name": "Toaster"}],
    }
    report = ingest_files(workspace, [source_of("catalog", json.dumps(document), file_format="json")])
    assert report.files[0].accepted == 2
    assert workspace.item("1")["title"] == "Kettle"


def test_multi_member_gzip_is_read_whole(workspace: Workspace) -> None:
    data = gzip.compress(b"item_id,title\nA,First\n") + gzip.compress(b"B,Second\n")
    report = ingest_files(workspace, [IngestSource("catalog", "two.csv.gz", data)])
    assert report.files[0].accepted == 2


def test_files_are_read_from_paths(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "catalog.txt"  # the content decides the format, not the extension
    path.write_text("item_id\ttitle\tprice\nA\tLamp\t$25.00\n", encoding="utf-8")
    report = ingest_files(workspace, [IngestSource("catalog", path.name, path)])
    assert report.files[0].format == "tsv"
    assert workspace.item("A")["price"] == 25.0


def test_numeric_ids_from_json_stay_text_without_decimals(workspace: Workspace, source_of) -> None:
    data = '{"user_id": 17, "item_id": 4.0, "event": "Add To Cart"}\n{"user_id": 18, "item_id": 5, "event": "click"}\n'
    report = ingest_files(workspace, [source_of("interactions", data, file_format="jsonl")])
    assert report.files[0].accepted == 2
    frame = workspace.interactions().set_index("user_id")
    assert frame.loc["17", "item_id"] == "4"
    assert frame.loc["17", "event"] == "cart"
