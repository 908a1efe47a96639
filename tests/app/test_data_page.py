"""The Data page: upload several files, preview, correct the mapping, ingest, read the report."""

from __future__ import annotations

from pathlib import Path

from apptest_support import CATALOG_CSV, REVIEWS_CSV, new_app
from streamlit.testing.v1 import AppTest

from recengine.workspace import Workspace


def open_data_page() -> AppTest:
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, [item.message for item in at.exception]
    return at


def upload(at: AppTest, *files: tuple[str, bytes, str]) -> AppTest:
    uploader = at.get("file_uploader")[0]
    uploader.set_value(list(files)).run()
    assert not at.exception, [item.message for item in at.exception]
    return at


def test_upload_preview_map_ingest_and_report(empty_workspace: Path) -> None:
    at = open_data_page()
    upload(at, ("catalog.csv", CATALOG_CSV, "text/csv"), ("reviews.csv", REVIEWS_CSV, "text/csv"))

    kinds = [box for box in at.selectbox if box.label == "What is in this file?"]
    assert [box.value for box in kinds] == ["catalog", "reviews"], "kind guessed from the columns"
    mapping = {box.label: box.value for box in at.selectbox if box.key and box.key.startswith("map:")}
    assert mapping["sku"] == "item_id" and mapping["name"] == "title"
    assert mapping["reviewText"] == "text" and mapping["overall"] == "rating"
    # Sample rows of both files are shown as tables (inert: never Markdown).
    samples = [frame.value for frame in at.dataframe]
    assert "sku" in samples[0].columns and list(samples[0]["sku"][:3]) == ["P1", "P2", "P3"]
    assert "reviewText" in samples[1].columns
    assert "<script>alert(1)</script> **bold**" in samples[1]["reviewText"].iloc[0]
    assert any("CSV" in caption.value and "header row" in caption.value for caption in at.caption)

    at.button(key="ingest").click().run()
    assert not at.exception, [item.message for item in at.exception]
    assert not at.error, [item.value for item in at.error]

    totals = {metric.label: metric.value for metric in at.metric}
    assert totals["Rows read"] == "9"
    assert totals["Rejected"] == "2"
    assert int(totals["Accepted"]) + int(totals["Updated"]) + int(totals["Duplicate"]) + 2 == 9
    assert any("Every row is accounted for" in item.value for item in at.success)
    frames = [frame.value for frame in at.dataframe]
    counts = next(frame for frame in frames if "rows read" in frame.columns)
    assert list(counts["file"]) == ["catalog.csv", "reviews.csv"]
    assert (counts["accepted"] + counts["updated"] + counts["duplicate"] + counts["rejected"] == counts["rows read"]).all()
    reasons = next(frame for frame in frames if list(frame.columns) == ["file", "reason", "rows"])
    assert reasons["rows"].sum() == 2
    rejects = next(frame for frame in frames if "row_number" in frame.columns)
    assert sorted(rejects["file_name"]) == ["catalog.csv", "reviews.csv"]
    assert rejects["reason"].str.len().min() > 0
    assert at.get("download_button"), "rejected rows can be downloaded"

    summary = Workspace.open(empty_workspace).summary()
    assert summary.items == 4  # three products and the placeholder P9 referenced by a review
    assert summary.reviews == 4
    assert totals["Products"] == "4"
    # The uploader was emptied, so a second click cannot ingest the same files twice by accident.
    assert not [box for box in at.selectbox if box.label == "What is in this file?"]

    # What the download button serves: every rejected row of this ingest, as CSV.
    import io

    import pandas as pd

    from ui.data import csv_bytes, rejected_rows

    batch_ids = sorted(set(rejects["batch_id"].astype(int)))
    download = pd.read_csv(io.BytesIO(csv_bytes(rejected_rows(Workspace.open(empty_workspace), batch_ids, limit=None))))
    assert sorted(download["reason"]) == sorted(rejects["reason"])

    at.button(key="clear_report").click().run()
    assert not any(header.value == "Ingest report" for header in at.subheader)


def test_mapping_can_be_corrected_by_hand(empty_workspace: Path) -> None:
    odd = b"code;label;cost\nA1;Blue mug;4.5\nA2;Red mug;5\n"
    at = open_data_page()
    upload(at, ("export.txt", odd, "text/plain"))
    boxes = {box.label: box for box in at.selectbox if box.key and box.key.startswith("map:")}
    # "code" is no synonym of item_id: the page says what is missing and will not ingest yet.
    assert any("item_id" in warning.value for warning in at.warning)
    assert at.button(key="ingest").disabled
    boxes["code"].set_value("item_id")
    boxes["cost"].set_value("price")
    at.run()
    assert not any("item_id" in warning.value for warning in at.warning)
    at.button(key="ingest").click().run()
    assert not at.exception and not at.error
    items = Workspace.open(empty_workspace).items()
    assert sorted(items["item_id"]) == ["A1", "A2"]
    assert sorted(items["price"].tolist()) == [4.5, 5.0]


def test_two_columns_mapped_to_one_field_block_the_ingest(empty_workspace: Path) -> None:
    at = open_data_page()
    upload(at, ("catalog.csv", CATALOG_CSV, "text/csv"))
    boxes = {box.label: box for box in at.selectbox if box.key and box.key.startswith("map:")}
    boxes["brand"].set_value("title")
    at.run()
    assert any("Several columns are mapped to title" in warning.value for warning in at.warning)
    assert at.button(key="ingest").disabled


def test_unreadable_file_shows_a_readable_error_and_is_left_out(empty_workspace: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    at = open_data_page()
    upload(at, ("photo.csv", png, "text/csv"), ("catalog.csv", CATALOG_CSV, "text/csv"))
    # Messages are Markdown-escaped (they quote file names); the reader sees them without backslashes.
    messages = [error.value.replace("\\", "") for error in at.error]
    assert any("photo.csv: this is a PNG image" in message for message in messages), messages
    assert at.button(key="ingest").label.startswith("Ingest 1 file")
    assert any("cannot be read" in warning.value for warning in at.warning)


def test_uploaded_names_are_shown_literally(empty_workspace: Path) -> None:
    sneaky = b"id,[click](http://example.com),**bold**\nX1,a,b\n"
    at = open_data_page()
    upload(at, ("[x](http://example.com).csv", sneaky, "text/csv"))
    labels = [box.label for box in at.selectbox if box.key and box.key.startswith("map:")]
    assert "\\[click\\]\\(http\u200b\\://example\\.com\\)" in labels
    assert r"\*\*bold\*\*" in labels
    assert all(expander.label.startswith(r"\[x\]") for expander in at.expander)


def test_gzipped_json_lines_events_are_recognised_and_ingested(empty_workspace: Path) -> None:
    import gzip
    import json

    lines = [{"customer_id": f"U{i % 3}", "product_id": f"P{i % 4}", "event_type": "purchase" if i % 5 == 0 else "view",
              "ts": 1_700_000_000 + i} for i in range(20)]  # fmt: skip
    payload = gzip.compress("\n".join(json.dumps(line) for line in lines).encode())
    at = open_data_page()
    upload(at, ("clickstream.jsonl.gz", payload, "application/gzip"))
    assert [box.value for box in at.selectbox if box.label == "What is in this file?"] == ["interactions"]
    caption = next(caption.value for caption in at.caption if caption.value.startswith("JSONL"))
    assert "gzip" in caption and "header" not in caption
    assert not at.toggle, "no header switch for JSON"
    at.button(key="ingest").click().run()
    assert not at.exception and not at.error
    assert Workspace.open(empty_workspace).summary().interactions == 20
