"""ui.data helpers that need no running page: kind guessing, mapping checks, safe CSV download."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from ui.data import csv_bytes, guess_kind, mapping_problems, target_options


@pytest.mark.parametrize(
    ("name", "columns", "kind"),
    [
        ("export.csv", ["asin", "title", "brand", "price", "categories"], "catalog"),
        ("export.csv", ["reviewerID", "asin", "overall", "reviewText", "unixReviewTime"], "reviews"),
        ("export.csv", ["user_id", "item_id", "event_type", "timestamp"], "interactions"),
        ("product_reviews.csv", ["id", "item", "comment"], "reviews"),
        ("clicks.jsonl", ["user", "item", "ts"], "interactions"),
        ("anything.csv", ["id", "name"], "catalog"),
    ],
)
def test_guess_kind_from_columns_and_name(name: str, columns: list[str], kind: str) -> None:
    assert guess_kind(name, columns) == kind


def test_guess_kind_of_a_headerless_ratings_file_from_its_values() -> None:
    sample = pd.DataFrame(
        {
            "column_1": ["B00005N7P0", "B00005N7OJ", "B00005N7P0"],
            "column_2": ["AH2IFH762VY5U", "AOSFI0JEYU4XM", "A3JPFWKS83R49V"],
            "column_3": ["5.0", "4.0", "1.0"],
            "column_4": ["1005177600", "1004486400", "1000080000"],
        }
    )
    assert guess_kind("Magazine_Subscriptions.csv", list(sample.columns), sample) == "reviews"


def test_mapping_problems_name_what_to_change() -> None:
    assert mapping_problems("catalog", {"sku": "item_id", "name": "title"}) == []
    assert mapping_problems("catalog", {"name": "title"}) == [
        "No column is mapped to item_id, which a catalog file needs."
    ]
    problems = mapping_problems("reviews", {"a": "item_id", "b": "text", "c": "text", "d": "attributes", "e": "attributes"})
    assert problems == ["Several columns are mapped to text: map each field once."]
    assert target_options("reviews")[-2:] == ["attributes", "ignore"]


def test_csv_download_neutralises_formulas_and_keeps_text() -> None:
    frame = pd.DataFrame({"raw": ["=HYPERLINK(\"http://x\")", "plain, with comma", "+1", "café"], "row_number": [1, 2, 3, 4]})
    data = csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
    assert list(back["raw"]) == ["'=HYPERLINK(\"http://x\")", "plain, with comma", "'+1", "café"]
    assert list(back["row_number"]) == ["1", "2", "3", "4"]


def test_escape_markdown_keeps_links_emphasis_and_html_inert() -> None:
    from ui.common import escape_markdown

    escaped = escape_markdown("**b** _i_ <script>x</script> [a](http://e.com) www.e.com me@e.com $x$ :smile:\n# h")
    for raw in ("**", "_i_", "<script>", "[a]", "](", "http:", "www.", "$x$", ":smile:", "\n"):
        assert raw not in escaped, raw
    visible = escaped.replace("\\", "").replace("\u200b", "")
    assert visible == "**b** _i_ <script>x</script> [a](http://e.com) www.e.com me@e.com $x$ :smile: # h"
