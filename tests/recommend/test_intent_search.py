"""The intent applied: search filters on hard constraints, boosts soft ones, relaxes with a note; the same
intent through typed interests, the CLI, the Python API and the Search page."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from intent_fixtures import shop_interactions, shop_items, shop_model
from recommend_fixtures import fill_workspace
from streamlit.testing.v1 import AppTest

from recengine.cli import recommend as recommend_command
from recengine.cli import search as search_command
from recengine.config import RecommendSettings
from recengine.recommend import Recommender
from recengine.recommend.intent_match import (
    MENTION_BOOST,
    intent_for,
    match_constraints,
    recommend_for_intent,
)
from recengine.recommend.search import SearchHit, search, search_items, search_with_intent
from recengine.recommend.workspace_model import clear_cache, recommender_for
from recengine.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="module")
def model() -> Recommender:
    return shop_model()


def price(model: Recommender, item_id: str) -> float:
    return float(model.catalog.prices[model.catalog.positions[item_id]])


def field(model: Recommender, item_id: str, name: str) -> str:
    return str(getattr(model.catalog, name)[model.catalog.positions[item_id]])


def test_a_price_limit_filters_where_plain_search_did_not(model: Recommender) -> None:
    query = "quiet thermostat that works with voice assistants under $50"
    literal = search(model, query, k=3, understand=False)
    assert any(price(model, hit.item_id) > 50 for hit in literal)  # the complaint, reproduced
    response = search_with_intent(model, query, k=5)
    assert all(price(model, hit.item_id) <= 50 for hit in response.results)
    assert "Thermostats" in field(model, response.results[0].item_id, "categories")
    assert response.note == "" and response.relaxed == ()
    first = response.results[0]
    assert isinstance(first, SearchHit) and first.meets == ("category: Thermostats", "price ≤ 50") and not first.misses
    assert first.reason == "meets category: Thermostats, price ≤ 50"


def test_rating_and_exclusions_filter(model: Recommender) -> None:
    rated = search_with_intent(model, "headphones 5 stars and up", k=3).results
    stars = model.statistics.rating_sum / np.maximum(model.statistics.rating_count, 1)
    assert all(stars[model.catalog.positions[hit.item_id]] >= 5 for hit in rated)
    not_sony = search_with_intent(model, "headphones not sony", k=6).results
    assert all(field(model, hit.item_id, "brands") != "Sony" for hit in not_sony)
    no_vinyl = search_with_intent(model, "jazz not vinyl", k=4).results
    assert all("vinyl" not in field(model, hit.item_id, "titles").lower() for hit in no_vinyl)
    # An excluded category also rules out products that name it: headphones "with batteries".
    no_batteries = search_with_intent(model, "headphones without batteries", k=6).results
    assert "P23" not in {hit.item_id for hit in no_batteries}


def test_named_categories_and_brands_boost_but_do_not_filter(model: Recommender) -> None:
    hits = search_with_intent(model, "sony headphones", k=6).results
    assert [field(model, hit.item_id, "brands") for hit in hits[:2]] == ["Sony", "Sony"]
    assert any(field(model, hit.item_id, "brands") != "Sony" for hit in hits)  # others still listed
    assert "brand: Sony" in hits[-1].misses or field(model, hits[-1].item_id, "brands") == "Sony"
    plain = search_with_intent(model, "sony headphones", k=6, understand=False).results
    assert [hit.item_id for hit in hits] != [hit.item_id for hit in plain] or hits[0].score > plain[0].score


def test_when_nothing_fits_the_list_relaxes_and_says_so(model: Recommender) -> None:
    response = search_with_intent(model, "board games under $5", k=4)
    assert len(response.results) == 4
    assert [constraint.label for constraint in response.relaxed] == ["price ≤ 5"]
    assert response.note.startswith("No product matching the query meets every constraint") and "price ≤ 5" in response.note
    assert all("price ≤ 5" in hit.misses for hit in response.results)
    assert "Board Games" in field(model, response.results[0].item_id, "categories")


def test_hard_constraints_filter_when_something_meets_them(model: Recommender) -> None:
    response = search_with_intent(model, "jazz under $10", k=10)
    assert {hit.item_id for hit in response.results if "category: Jazz" in hit.meets} == {"P02", "P04"}
    assert all(price(model, hit.item_id) <= 10 for hit in response.results) and response.note == ""


def test_the_rating_is_relaxed_before_the_price(model: Recommender) -> None:
    # No 5-star headphones under $16. AA batteries meet both constraints but are not what was searched
    # for: the rating is given up, so the $15 earbuds (3 stars) lead, and nothing above $16 is shown.
    response = search_with_intent(model, "headphones 5 stars and up under $16", k=10)
    assert response.results[0].item_id == "P21"
    assert all(price(model, hit.item_id) <= 16 for hit in response.results)
    assert [constraint.kind for constraint in response.relaxed] == ["rating"]
    assert "rating ≥ 5 stars" in response.note


def test_tiers_follow_the_relax_order(model: Recommender) -> None:
    match = match_constraints(model, intent_for(model, "jazz 5 stars and up under $10 not vinyl"))
    assert [constraint.kind for constraint in match.relax_order] == ["rating", "price", "exclude"]
    for position in range(model.catalog.size):
        meets = dict(zip(match.intent.constraints, (mask[position] for mask in match.meets), strict=True))
        rating, price_limit, exclusion = (meets[constraint] for constraint in match.relax_order)
        expected = 0 if rating and price_limit and exclusion else 1 if price_limit and exclusion else 2 if exclusion else 3
        assert match.tier[position] == expected


def test_only_constraints_typed_lists_what_meets_them(model: Recommender) -> None:
    hits = search_with_intent(model, "under $10", k=5).results
    assert hits and all(price(model, hit.item_id) <= 10 for hit in hits)


def test_personalised_search_keeps_the_hard_constraints(model: Recommender) -> None:
    hits = search_with_intent(model, "music under $20", user_id="c3", k=5).results
    assert all(price(model, hit.item_id) <= 20 for hit in hits)
    assert any(hit.personal > 0 for hit in hits)


def test_typed_interests_read_the_same_intent(model: Recommender) -> None:
    typed = recommend_for_intent(model, "jazz under $10 not vinyl", k=3)
    assert typed.intent == intent_for(model, "jazz under $10 not vinyl")
    assert [item.rank for item in typed.recommendations] == [1, 2, 3]
    for item in typed.recommendations:
        assert price(model, item.item_id) <= 10 and "vinyl" not in field(model, item.item_id, "titles").lower()
    assert all(field(model, item.item_id, "top_categories") == "Music" for item in typed.recommendations[:2])
    assert any("price" in rule for rule in typed.recommendations[0].explanation.rules)
    assert model.recommend_for_text("jazz under $10 not vinyl", k=3) == typed.recommendations
    impossible = recommend_for_intent(model, "jazz under $1", k=3)
    assert len(impossible.recommendations) == 3 and "price ≤ 1" in impossible.note


# -- CLI, Python API and the Search page on one workspace -------------------------------------------------


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    clear_cache()
    return fill_workspace(Workspace.open(tmp_path_factory.mktemp("intent") / "ws"))


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (recommend_command, search_command):
        module.register(subparsers)
    arguments = parser.parse_args(list(argv))
    return int(arguments.handler(arguments) or 0)


def test_cli_and_api_read_the_same_intent(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    query = "jazz records under $3 not garden"
    assert run("search", "--workspace", str(workspace.root), "--query", query, "-k", "3", "--format", "json") == 0
    payload = json.loads(capsys.readouterr().out)
    # Opened here, like the CLI does, so both read the test's settings (the fake encoder).
    same = Workspace.open(workspace.root)
    api = search_items(same, query, k=3)
    assert payload["intent"] == api.intent.to_dict() == intent_for(recommender_for(same), query).to_dict()
    assert [hit["item_id"] for hit in payload["results"]] == [hit.item_id for hit in api.results]
    assert {hit.item_id for hit in api.results} == {"J0", "J1", "J2"}
    assert payload["results"][0]["meets"] == ["category: Jazz", "price ≤ 3", "not Garden"]
    labels = [constraint["label"] for constraint in payload["intent"]["constraints"]]
    assert labels == ["category: Jazz", "price ≤ 3", "not Garden"]
    assert run("search", "--workspace", str(workspace.root), "--query", query, "-k", "3") == 0
    table = capsys.readouterr().out
    assert "Looking for: records" in table and "price ≤ 3" in table and "under $3" in table and "filter" in table
    assert run("search", "--workspace", str(workspace.root), "--query", query, "--literal", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["intent"]["constraints"] == []


def test_search_page_shows_chips_that_remove_a_constraint(workspace: Workspace) -> None:
    app = AppTest.from_file(str(ROOT / "pages" / "search.py"), default_timeout=60)
    app.session_state["workspace_dir"] = str(workspace.root)
    app.run()
    app.text_input(key="search_query").set_value("jazz record under $3").run()
    assert not app.exception, app.exception
    chips = app.pills[0]
    labels = chips.options  # as shown: the constraints read from the query, all selected
    assert chips.value == [0, 1] and "category: Jazz" in labels[0] and "price ≤ 3" in labels[1], labels
    frame = app.dataframe[0].value
    assert len(frame) == 3 and all(text.startswith("meets category: Jazz, price ≤ 3") for text in frame["constraints"])
    assert all(text.startswith("meets") and "does not meet" not in text for text in frame["constraints"])
    # Drop the price chip: pricier jazz comes back.
    chips.unselect(1).run()
    assert not app.exception, app.exception
    frame = app.dataframe[0].value
    assert len(frame) == 8 and not any("price" in text for text in frame["constraints"])
    # Nothing fits: the results stay, with the note.
    app.text_input(key="search_query").set_value("jazz record under $0.50").run()
    assert not app.exception
    assert any("No product matching the query meets every constraint" in element.value for element in app.warning)
    assert len(app.dataframe[0].value) > 0


def test_a_passing_mention_in_a_long_query_barely_boosts(model: Recommender) -> None:
    short = match_constraints(model, intent_for(model, "sony headphones"))
    long = match_constraints(model, intent_for(model, "wireless comfortable noise cancelling over ear travel gear from sony"))
    assert short.boost.max() == pytest.approx(MENTION_BOOST.amount)
    assert 0 < long.boost.max() < 0.1 * MENTION_BOOST.amount


def test_a_name_most_of_the_catalog_carries_boosts_nothing() -> None:
    items = shop_items()
    items["category"] = "Everything > " + items["category"]
    model = Recommender.fit(items, shop_interactions(), None, RecommendSettings())
    intent = intent_for(model, "everything jazz")
    assert [constraint.kind for constraint in intent.constraints] == ["category", "category"]
    match = match_constraints(model, intent)
    jazz = match.meets[1]
    assert match.boost[jazz].min() > 0 and match.boost[~jazz].max() == 0  # only the telling name lifts


def test_an_empty_brand_field_is_read_from_the_title() -> None:
    items = shop_items()
    items.loc[items["item_id"] == "P21", ["brand", "title"]] = ["", "Sony wired earbuds"]  # a Sony by its title
    items.loc[items["item_id"] == "P22", "brand"] = ""  # "Studio monitor headphones": nothing says Sony
    model = Recommender.fit(items, shop_interactions(), None, RecommendSettings())
    (brand,) = match_constraints(model, intent_for(model, "sony")).meets
    positions = model.catalog.positions
    assert brand[positions["P20"]] and brand[positions["P21"]] and not brand[positions["P22"]]


def test_no_relative_band_where_few_products_have_a_price() -> None:
    items = shop_items()
    items.loc[items.index[5:], "price"] = np.nan  # 5 of 40 priced
    model = Recommender.fit(items, shop_interactions(), None, RecommendSettings())
    assert not intent_for(model, "cheap jazz").of_kind("price")
    assert intent_for(model, "jazz under $10").of_kind("price")  # a stated price still filters


def test_recommend_interests_prints_and_returns_the_intent(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    interests = "jazz under $3"
    assert run("recommend", "--workspace", str(workspace.root), "--interests", interests, "-k", "3", "--format", "json") == 0
    payload = json.loads(capsys.readouterr().out)
    same = Workspace.open(workspace.root)
    assert payload["intent"] == intent_for(recommender_for(same), interests).to_dict()
    assert {item["item_id"] for item in payload["recommendations"]} == {"J0", "J1", "J2"}  # prices 1..3
    assert payload["note"] == ""
    assert run("recommend", "--workspace", str(workspace.root), "--interests", interests, "-k", "3") == 0
    table = capsys.readouterr().out
    assert "price ≤ 3" in table and "category: Jazz" in table and "J0" in table


@settings(max_examples=60, deadline=None)
@given(
    words=st.sampled_from(["headphones", "jazz", "thermostat", "board games", "kitchen", "books", "quiet fan"]),
    price=st.sampled_from(["", "under $5", "under $20", "over $100", "between $10 and $30", "cheap"]),
    rating=st.sampled_from(["", "4 stars and up", "5 stars and up"]),
    exclusion=st.sampled_from(["", "not sony", "without batteries", "not vinyl", "except honeywell"]),
)
def test_hits_break_only_the_constraints_the_note_relaxed(
    model: Recommender, words: str, price: str, rating: str, exclusion: str
) -> None:
    response = search_with_intent(model, " ".join(part for part in (words, price, rating, exclusion) if part), k=8)
    assert response.results
    relaxed = {constraint.label for constraint in response.relaxed}
    hard = {constraint.label for constraint in response.intent.hard}
    for hit in response.results:
        assert set(hit.misses) & hard <= relaxed
        assert set(hit.meets) | set(hit.misses) == {constraint.label for constraint in response.intent.constraints}
    assert bool(relaxed) == bool(response.note)
