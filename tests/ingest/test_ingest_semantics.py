"""Nothing lost: every row ends accepted, updated, duplicate or rejected, and the store agrees."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from recengine.errors import SchemaError, UploadError
from recengine.ingest import ingest_files, rejected_rows
from recengine.workspace import Workspace

CATALOG = """item_id,title,price,category,stock
A,Kettle,$25.00,Kitchen>Small appliances,yes
B,Toaster,19.99,Kitchen,0
C,Lamp,,Living,in stock
"""


def counts(file_report) -> tuple[int, int, int, int]:
    return (file_report.accepted, file_report.updated, file_report.duplicate, file_report.rejected)


def test_reingest_is_all_duplicates_and_changes_are_updates(workspace: Workspace, source_of) -> None:
    first = ingest_files(workspace, [source_of("catalog", CATALOG)])
    assert counts(first.files[0]) == (3, 0, 0, 0)
    version = workspace.store.get_meta("data_version")

    again = ingest_files(workspace, [source_of("catalog", CATALOG)])
    assert counts(again.files[0]) == (0, 0, 3, 0)
    assert workspace.store.get_meta("data_version") == version  # nothing changed, caches stay valid

    changed = CATALOG.replace("Toaster,19.99", "Toaster,17.99") + "D,Mug,3,Kitchen,yes\n"
    third = ingest_files(workspace, [source_of("catalog", changed)])
    assert counts(third.files[0]) == (1, 1, 2, 0)
    assert workspace.item("B")["price"] == 17.99
    assert len(workspace.items()) == 4
    assert int(workspace.store.get_meta("data_version")) == int(version) + 1
    batches = workspace.store.query_df("SELECT * FROM ingest_batches ORDER BY batch_id")
    assert batches["accepted"].tolist() == [3, 0, 1]
    assert batches["duplicate"].tolist() == [0, 3, 2]


def test_catalog_values_are_normalised(workspace: Workspace, source_of) -> None:
    ingest_files(workspace, [source_of("catalog", CATALOG)])
    kettle, toaster, lamp = (workspace.item(item_id) for item_id in "ABC")
    assert kettle["price"] == 25.0
    assert kettle["category"] == "Kitchen > Small appliances"
    assert kettle["in_stock"] is True or kettle["in_stock"] == True  # noqa: E712 - numpy bool
    assert toaster["in_stock"] == False  # noqa: E712 - stock count 0
    assert lamp["in_stock"] == True  # noqa: E712
    assert pd.isna(lamp["price"])


def test_repeats_within_a_file_last_different_row_wins(workspace: Workspace, source_of) -> None:
    data = "item_id,title\nA,One\nA,One\nA,Two\nB,Bee\nA,Two\n"
    report = ingest_files(workspace, [source_of("catalog", data)])
    # A: accepted, duplicate (same as before), updated (different), ...; B accepted; last A duplicate.
    assert counts(report.files[0]) == (2, 1, 2, 0)
    assert workspace.item("A")["title"] == "Two"
    assert len(workspace.items()) == 2


def test_bad_values_are_rejected_with_reasons_and_stored(workspace: Workspace, source_of) -> None:
    data = (
        "review_id,user_id,item_id,rating,text,timestamp\n"
        "r1,u1,A,5,fine,2020-01-01\n"
        "r2,u1,,4,no item,2020-01-02\n"
        "r3,u2,A,7,too many stars,2020-01-03\n"
        "r4,u2,A,abc,not a number,2020-01-04\n"
        "r5,u3,B,2,bad time,yesterday-ish\n"
        "r6,,B,,anonymous and unrated,\n"
        "r7,u4,B,0.5,half a star,2020-01-05\n"
    )
    report = ingest_files(workspace, [source_of("reviews", data, name="shop reviews.csv")])
    file_report = report.files[0]
    assert counts(file_report) == (2, 0, 0, 5)
    assert file_report.reasons == {
        "rating outside 1-5": 2,
        "missing item_id": 1,
        "rating is not a number": 1,
        "unparseable timestamp": 1,
    }
    rejects = rejected_rows(workspace, report.batch_ids)
    assert rejects["row_number"].tolist() == [2, 3, 4, 5, 7]
    assert set(rejects["file_name"]) == {"shop reviews.csv"}
    by_row = rejects.set_index("row_number")
    assert by_row.loc[3, "column_name"] == "rating"
    assert by_row.loc[5, "column_name"] == "timestamp"
    assert json.loads(by_row.loc[3, "raw"])["text"] == "too many stars"
    stored = workspace.reviews().set_index("review_id")
    assert set(stored.index) == {"r1", "r6"}
    assert pd.isna(stored.loc["r6", "user_id"]) and pd.isna(stored.loc["r6", "rating"])


def test_placeholders_are_created_then_filled_by_the_catalog(workspace: Workspace, source_of) -> None:
    reviews = "user_id,item_id,rating,timestamp\nu1,A,5,1600000000\nu2,Z,4,1500000000\nu1,Z,3,1400000000\n"
    report = ingest_files(workspace, [source_of("reviews", reviews)])
    assert report.files[0].placeholders == 2
    items = workspace.items().set_index("item_id")
    assert items["is_placeholder"].all()
    users = workspace.users().set_index("user_id")
    assert users.loc["u1", "first_seen"] == pd.Timestamp(1400000000, unit="s")

    catalog = ingest_files(workspace, [source_of("catalog", "item_id,title\nA,Kettle\nB,Toaster\n")])
    assert counts(catalog.files[0]) == (2, 0, 0, 0)
    assert catalog.files[0].placeholders_filled == 1
    items = workspace.items().set_index("item_id")
    assert not items.loc["A", "is_placeholder"] and items.loc["A", "title"] == "Kettle"
    assert items.loc["Z", "is_placeholder"]
    assert workspace.summary().placeholder_items == 1


def test_catalog_is_stored_before_reviews_in_one_call(workspace: Workspace, source_of) -> None:
    reviews = source_of("reviews", "user_id,item_id,rating\nu1,A,5\n")
    catalog = source_of("catalog", "item_id,title\nA,Kettle\n")
    report = ingest_files(workspace, [reviews, catalog])
    assert [f.kind for f in report.files] == ["catalog", "reviews"]
    assert report.placeholders == 0


def test_generated_review_ids_are_deterministic(workspace: Workspace, source_of) -> None:
    data = "reviewerID,asin,overall,reviewText,unixReviewTime\nu1,A,5,good,1600000000\nu1,A,5,good,1600000000\n,A,4,anon,\n,A,3,anon two,\n"
    first = ingest_files(workspace, [source_of("reviews", data)])
    assert counts(first.files[0]) == (3, 0, 1, 0)
    again = ingest_files(workspace, [source_of("reviews", data)])
    assert counts(again.files[0]) == (0, 0, 4, 0)
    edited = data.replace("u1,A,5,good,1600000000\nu1", "u1,A,4,better,1600000000\nu1", 1)
    third = ingest_files(workspace, [source_of("reviews", edited)])
    assert third.files[0].updated == 2  # edited, then the file's second row changes it back
    assert len(workspace.reviews()) == 3


def test_interactions_events_and_quantities(workspace: Workspace, source_of) -> None:
    data = "user,product,action,qty,ts\nu1,A,Page View,1,1600000000000\nu1,A,bought,2,1600000001000\nu2,B,wishlist,1,1600000002000\nu3,B,click,-1,1600000003000\n"
    report = ingest_files(workspace, [source_of("interactions", data)])
    assert counts(report.files[0]) == (2, 0, 0, 2)
    assert report.files[0].reasons == {
        "unknown event (use view, click, cart or purchase)": 1,
        "negative quantity": 1,
    }
    frame = workspace.interactions().sort_values("timestamp")
    assert frame["event"].tolist() == ["view", "purchase"]
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2020-09-13 12:26:40")  # milliseconds understood
    assert frame["quantity"].tolist() == [1.0, 2.0]


def test_interactions_without_event_column_are_purchases(workspace: Workspace, source_of) -> None:
    ingest_files(workspace, [source_of("interactions", "user_id,item_id,time\n1,10,1149206400\n")])
    assert workspace.interactions()["event"].tolist() == ["purchase"]


def test_amazon_nested_fields_are_flattened(workspace: Workspace, source_of) -> None:
    record = {
        "asin": "B00005N7OC",
        "title": '<span class="a-size-medium a-color-secondary"',
        "brand": "String Letter Publishers",
        "description": ["Written by and for musicians. Covers a variety of styles.", "", ""],
        "category": ["Magazine Subscriptions", "Arts, Music &amp; Photography", "Music", "Music"],
        "price": "$25.00",
        "also_buy": ["B002PXVYGE", "B0054LRNC8"],
        "details": {"Format:": "Print Magazine"},
        "image": ["https://example.com/1.jpg", "https://example.com/2.jpg"],
    }
    report = ingest_files(workspace, [source_of("catalog", json.dumps(record) + "\n", file_format="jsonl")])
    assert report.files[0].accepted == 1
    item = workspace.item("B00005N7OC")
    assert item["title"] == "String Letter Publishers: Written by and for musicians"
    assert item["description"] == "Written by and for musicians. Covers a variety of styles."
    assert item["category"] == "Magazine Subscriptions > Arts, Music & Photography > Music"
    assert item["price"] == 25.0
    assert item["image_url"] == "https://example.com/1.jpg"
    attributes = json.loads(item["attributes"])
    assert attributes["also_buy"] == ["B002PXVYGE", "B0054LRNC8"]
    assert attributes["details"] == {"Format:": "Print Magazine"}
    assert attributes["original_title"].startswith("<span")


def test_mapping_override_and_errors_change_nothing(workspace: Workspace, source_of) -> None:
    data = "code,label,extra,junk\nA,Kettle,x,y\n"
    with pytest.raises(SchemaError, match="item_id"):
        ingest_files(workspace, [source_of("catalog", data)])
    with pytest.raises(SchemaError, match="nosuch"):
        ingest_files(workspace, [source_of("catalog", data, mapping={"nosuch": "item_id"})])
    with pytest.raises(SchemaError, match="cannot map"):
        ingest_files(workspace, [source_of("catalog", data, mapping={"code": "sku_code"})])
    assert workspace.summary().ingest_batches == 0

    source = source_of("catalog", data, mapping={"code": "item_id", "label": "title", "junk": "ignore"})
    ingest_files(workspace, [source])
    item = workspace.item("A")
    assert item["title"] == "Kettle"
    assert json.loads(item["attributes"]) == {"extra": "x"}


def test_a_bad_file_stops_the_whole_call_before_any_write(workspace: Workspace, source_of) -> None:
    good = source_of("catalog", "item_id,title\nA,Kettle\n")
    empty = source_of("reviews", b"", name="empty.csv")
    with pytest.raises(UploadError, match="empty.csv"):
        ingest_files(workspace, [good, empty])
    assert workspace.summary().items == 0
    assert workspace.store.get_meta("data_version") is None


def test_malformed_csv_rows_are_rejected_with_their_row_number(workspace: Workspace, source_of) -> None:
    data = 'item_id,title\nA,Kettle\nB,Toaster,unexpected\n"C","multi\nline"\nD\n'
    report = ingest_files(workspace, [source_of("catalog", data)])
    assert report.files[0].rows_read == 4
    assert counts(report.files[0]) == (2, 0, 0, 2)
    rejects = rejected_rows(workspace)
    assert rejects["row_number"].tolist() == [2, 4]
    assert set(rejects["reason"]) == {"malformed row"}
    assert workspace.item("C")["title"] == "multi line"  # titles are one line


def test_a_file_without_a_column_keeps_the_stored_values(workspace: Workspace, source_of) -> None:
    full = "user_id,item_id,rating,text,timestamp\nu1,A,5,Loved the sound,1600000000\n"
    ingest_files(workspace, [source_of("reviews", full)])
    ratings_only = "user_id,item_id,rating,timestamp\nu1,A,4,1600000000\n"
    report = ingest_files(workspace, [source_of("reviews", ratings_only)])
    assert counts(report.files[0]) == (0, 1, 0, 0)
    review = workspace.reviews().iloc[0]
    assert (review["rating"], review["text"]) == (4.0, "Loved the sound")  # no column: text kept
    again = ingest_files(workspace, [source_of("reviews", ratings_only)])
    assert counts(again.files[0]) == (0, 0, 1, 0)
    cleared = "user_id,item_id,rating,text,timestamp\nu1,A,4,,1600000000\n"
    ingest_files(workspace, [source_of("reviews", cleared)])
    assert pd.isna(workspace.reviews().iloc[0]["text"])  # an empty cell does clear it


def test_fallback_titles_and_list_cells(workspace: Workspace, source_of) -> None:
    data = 'item_id,brand,category,also_bought\nA,Acme,,\nB,,Kitchen > Mugs,"[1, 2]"\nC,,,\n'
    ingest_files(workspace, [source_of("catalog", data)])
    assert [workspace.item(i)["title"] for i in "ABC"] == ["Acme", "Mugs (B)", "C"]
    assert json.loads(workspace.item("B")["attributes"]) == {"also_bought": [1, 2]}
