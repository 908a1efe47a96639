"""Value parsing and detection: prices, times, ratings, header rows, column mapping, previews."""

from __future__ import annotations

import pandas as pd
import pytest

from recengine.errors import SchemaError
from recengine.ingest import fields_for, preview_source
from recengine.ingest.mapping import resolve_mapping
from recengine.ingest.readers import detect_header
from recengine.ingest.values import BAD, parse_price, parse_timestamps


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("$25.00", 25.0),
        ("25", 25.0),
        (19.99, 19.99),
        ("1,299.00", 1299.0),
        ("1.299,00 €", 1299.0),
        ("12,50", 12.5),
        ("USD 12", 12.0),
        ("$10.99 - $15.99", 10.99),
        ("£7", 7.0),
        ("", None),
        ("   ", None),
        ("n/a", None),
    ],
)
def test_prices_are_parsed(value: object, expected: float | None) -> None:
    assert parse_price(value) == expected


@pytest.mark.parametrize("value", [".a-box-inner{background-color:#fff}", "<script>", "call us", "free"])
def test_junk_prices_are_flagged(value: str) -> None:
    assert parse_price(value) is BAD


def test_timestamps_from_numbers_and_strings() -> None:
    values = pd.Series(
        [
            "1529193600",
            "1529193600000",
            "2018-06-17",
            "2018-06-17T10:00:00+02:00",
            "06 17, 2018",
            "",
            "soon",
            "99999999999999999999",
        ],
        dtype="string",
    )
    times, bad = parse_timestamps(values, len(values))
    assert times[0] == pd.Timestamp("2018-06-17")
    assert times[1] == pd.Timestamp("2018-06-17")  # milliseconds
    assert times[2] == pd.Timestamp("2018-06-17")
    assert times[3] == pd.Timestamp("2018-06-17 08:00:00")  # converted to UTC
    assert times[4] == pd.Timestamp("2018-06-17")
    assert pd.isna(times[5]) and not bad[5]  # empty is simply unknown
    assert bad.tolist() == [False, False, False, False, False, False, True, True]


def test_numeric_timestamp_columns() -> None:
    times, bad = parse_timestamps(pd.Series([1_600_000_000, None, 1e20]), 3)
    assert times[0] == pd.Timestamp("2020-09-13 12:26:40")
    assert pd.isna(times[1]) and not bad[1]
    assert bad[2]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([["item_id", "title"], ["A", "B"]], True),
        ([["asin", "reviewerID", "overall"], ["B00005N7P0", "AH2IFH762VY5U", "5.0"]], True),
        ([["B00005N7P0", "AH2IFH762VY5U", "5.0", "1005177600"]], False),
        ([["B00005N7P0", "AH2IFH762VY5U", "great"]], False),
        ([["Product code", "Colour"], ["X-1", "red"]], True),
        ([["a", "a"], ["1", "2"]], False),
        ([["6185", "691", "1149206400"]], False),
    ],
)
def test_header_detection(rows: list[list[str]], expected: bool) -> None:
    assert detect_header(rows) is expected


def test_synonyms_map_amazon_and_shop_names() -> None:
    columns = [
        "reviewerID",
        "asin",
        "overall",
        "summary",
        "reviewText",
        "unixReviewTime",
        "reviewTime",
        "vote",
    ]
    mapping = resolve_mapping("f", "reviews", columns)
    assert mapping == {
        "reviewerID": "user_id",
        "asin": "item_id",
        "overall": "rating",
        "summary": "title",
        "reviewText": "text",
        "unixReviewTime": "timestamp",
        "reviewTime": "attributes",
        "vote": "attributes",
    }
    catalog = resolve_mapping(
        "f", "catalog", ["SKU", "Product Name", "Price", "Stock", "main_cat", "category"]
    )
    assert catalog["SKU"] == "item_id" and catalog["Product Name"] == "title"
    assert catalog["category"] == "category" and catalog["main_cat"] == "attributes"  # the better one wins
    assert catalog["Stock"] == "in_stock"


def test_explicit_mapping_wins_and_is_checked() -> None:
    mapping = resolve_mapping("f", "catalog", ["asin", "sku"], {"sku": "item_id"})
    assert mapping == {"sku": "item_id", "asin": "attributes"}
    with pytest.raises(SchemaError, match="two columns"):
        resolve_mapping("f", "catalog", ["asin", "sku"], {"sku": "item_id", "asin": "item_id"})


def test_fields_for_each_kind() -> None:
    assert fields_for("catalog")[0] == "item_id" and "price" in fields_for("catalog")
    assert fields_for("reviews") == [
        "review_id",
        "user_id",
        "item_id",
        "rating",
        "title",
        "text",
        "timestamp",
    ]
    assert "event" in fields_for("interactions")


def test_preview_shows_format_mapping_and_sample(source_of) -> None:
    data = "reviewerID;asin;overall;extra\nu1;A;5;x\n".encode("cp1252")
    preview = preview_source(source_of("reviews", data, name="export.txt.gz", gz=True))
    assert (preview.format, preview.encoding, preview.compression, preview.has_header) == (
        "csv",
        "utf-8",
        "gzip",
        True,
    )
    assert preview.mapping == {
        "reviewerID": "user_id",
        "asin": "item_id",
        "overall": "rating",
        "extra": "attributes",
    }
    assert preview.missing == []
    assert preview.sample.iloc[0].tolist() == ["u1", "A", "5", "x"]
    assert preview.fields == fields_for("reviews")

    missing = preview_source(source_of("catalog", "name,colour\nKettle,red\n"))
    assert missing.missing == ["item_id"] and missing.warnings


def test_preview_of_a_large_file_reads_only_the_start(source_of) -> None:
    data = "item_id,title\n" + "".join(f"A{i},Item {i}\n" for i in range(200_000))
    preview = preview_source(source_of("catalog", data))
    assert preview.truncated
    assert 0 < preview.sampled_rows < 200_000
    assert len(preview.sample) == 20
