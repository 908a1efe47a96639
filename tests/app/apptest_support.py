"""Helpers shared by the dashboard's AppTest files (a plain module: conftest names collide across folders)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
# Every page app.py lists; a page missing here would go untested (test_app_lists_every_page checks).
PAGES = [
    "pages/home.py",
    "pages/data.py",
    "pages/insights.py",
    "pages/recommendations.py",
    "pages/similar.py",
    "pages/search.py",
    "pages/evaluation.py",
    "pages/fine_tuning.py",
]


def new_app() -> AppTest:
    """The dashboard, as `streamlit run app.py` would start it."""
    return AppTest.from_file(APP, default_timeout=60)

CATALOG_CSV = (
    b"sku,name,brand,price,category,description\n"
    b"P1,Trail Runner 2,Stride,$89.00,Shoes > Running,Light trail shoe with a grippy sole.\n"
    b"P2,City Walker,Stride,59.5,Shoes > Walking,Soft everyday shoe.\n"
    b"P3,Rain Shell,Northwind,120,Outdoor > Jackets,Waterproof jacket that packs small.\n"
    b",Nameless,NoBrand,10,Misc,This row has no id and must be rejected.\n"
)

REVIEWS_CSV = (
    b"reviewerID,asin,overall,summary,reviewText,unixReviewTime\n"
    b'U1,P1,5,Great,"Grippy and light, <script>alert(1)</script> **bold**",1600000000\n'
    b"U2,P1,4,Good,Comfortable on long runs.,1600100000\n"
    b"U1,P3,2,Meh,Leaks at the seams.,1600200000\n"
    b"U3,P9,5,Fine,Placeholder item review.,1600300000\n"
    b"U4,P2,9,Bad rating,Rating outside 1-5 must be rejected.,1600400000\n"
)
