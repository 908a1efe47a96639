"""The export's JSON text (json_lines.py) and the batch's paused garbage collection (issue 22, cost)."""

from __future__ import annotations

import copy
import dataclasses
import gc
import json
import pickle
import threading

import numpy as np
import pandas as pd
import pytest
from recommend_fixtures import FakeItemVectors

from recengine.cli.recommend import jsonl_line
from recengine.config import RecommendSettings
from recengine.recommend import Recommender
from recengine.recommend.batch import collections_paused
from recengine.recommend.json_lines import (
    Coded,
    attribution_json,
    contribution_lists_json,
    float_texts,
    recommendation_json_line,
    recommendation_record,
)
from recengine.recommend.results import (
    AttributionList,
    ComponentAttribution,
    Contribution,
    Explanation,
    Recommendation,
    attribution_dict,
)


def reference_line(user_id: str, recommendations: list[Recommendation]) -> str:
    """What the export wrote before json_lines: the json encoder's text of the record."""
    return json.dumps(recommendation_record(user_id, recommendations), ensure_ascii=False) + "\n"


def reference_attribution(attribution: list[ComponentAttribution]) -> str:
    return json.dumps([attribution_dict(entry) for entry in attribution], ensure_ascii=False)


def test_export_lines_are_the_json_encoders_text_byte_for_byte(recommender: Recommender) -> None:
    users = [*recommender.user_ids, "nobody"]
    found = recommender.recommend_chunk(users, 5)
    assert sum(len(item.explanation.attribution) for items in found for item in items) > 10
    for user, items in zip(users, found, strict=True):
        line = jsonl_line(user, items)
        assert line == reference_line(user, items)
        assert json.loads(line) == recommendation_record(user, items)
    assert jsonl_line("nobody", []) == reference_line("nobody", [])


@pytest.mark.parametrize("ease_l2", [0.0, 50.0], ids=["co-occurrence", "EASE"])
def test_the_text_made_with_a_chunk_is_the_json_encoders_text_of_its_records(
    items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors, ease_l2: float
) -> None:
    # A low rater (a disliked product that contributes) and typed interests (semantic parts with no
    # history product) besides the checkerboard's customers.
    sour = pd.DataFrame([("sour", "J0", "review", 2.0, pd.Timestamp("2024-03-01"))], columns=interactions.columns)
    model = Recommender.fit(items, pd.concat([interactions, sour], ignore_index=True), vectors,
                            RecommendSettings(collaborative_ease_l2=ease_l2),
                            encode_query=lambda text: np.eye(8, dtype=np.float32)[0])
    users = [*model.user_ids, "nobody"]
    made = [item for found in model.recommend_chunk(users, 6) for item in found]
    made += model.recommend(users[0], 6, profile=model.text_profile("jazz records"))
    made += model.recommend("sour", 6)
    texts = 0
    for item in made:
        attribution = item.explanation.attribution
        assert isinstance(attribution, AttributionList) and attribution.json_text is not None
        assert attribution.json_text == reference_attribution(attribution)
        texts += bool(attribution)
    assert texts > len(made) // 2


def test_the_text_is_a_cache_that_copies_and_pickles_leave_behind(recommender: Recommender) -> None:
    [item, *_] = recommender.recommend("j0", 3)
    attribution = item.explanation.attribution
    assert attribution and isinstance(attribution, AttributionList) and attribution.json_text
    for copied in (pickle.loads(pickle.dumps(item)), copy.deepcopy(item)):
        assert copied == item
        assert copied.explanation.attribution.json_text is None  # type: ignore[attr-defined]
        assert jsonl_line("j0", [copied]) == jsonl_line("j0", [item])


@pytest.mark.parametrize("values", [
    [0.166944, 0.166944, 0.0, -0.0, 1.0, -2.5, 1e-06, 5e-05, 0.0001, 12345678.123456, 1e16, 1e-300],
    [float("nan"), float("inf"), -float("inf"), 0.1 + 0.2],
    [],
], ids=["rounded-and-not", "not-finite", "none"])
def test_numbers_are_written_as_json_writes_them(values: list[float]) -> None:
    assert float_texts(np.array(values)).tolist() == [json.dumps(value) for value in values]


def test_contribution_lists_are_the_json_encoders_text() -> None:
    parts = [contribution("B1", 0.25), contribution('say "hi"', 0.1, disliked=True, action="rated 2 stars"),
             contribution("B1", -0.0, weight=0.25, link=1e-05)]
    ids = Coded(["B1", 'say "hi"'], np.array([0, 1, 0]))
    actions = Coded(["bought", "rated 2 stars"], np.array([0, 1, 0]))
    assert ids.values() == [part.item_id for part in parts]
    lists = contribution_lists_json(
        [2, 1], ids, np.array([part.amount for part in parts]), np.array([part.weight for part in parts]),
        np.array([part.link for part in parts]), np.array([part.disliked for part in parts]), actions,
    )
    assert ["[" + text + "]" for text in lists] == [
        json.dumps([dataclasses.asdict(part) for part in found], ensure_ascii=False) for found in (parts[:2], parts[2:])
    ]


def contribution(item_id: str = "B1", amount: float = 0.25, *, disliked: bool = False, action: str = "bought",
                 weight: float = 1.0, link: float = 0.5) -> Contribution:
    return Contribution(item_id, amount, weight, link, disliked, action)


@pytest.mark.parametrize(
    "attribution",
    [
        [],
        [ComponentAttribution("collaborative", 0.4, "co-occurrence", [contribution(), contribution("B2", 1e-06)], 0.0)],
        [ComponentAttribution("semantic", 0.18, "interest 1 of 2", [], 0.18, 0),
         ComponentAttribution("collaborative", 5e-05, "EASE", [contribution(disliked=True, action="rated 2 stars")],
                              -0.0, None)],
        # Text the encoder escapes, and letters that look like the words the fast path checks for.
        [ComponentAttribution("collaborative", 0.4, "co-occurrence",
                              [contribution('say "hi"'), contribution("back\\slash"), contribution("tab\there"),
                               contribution("naïve ☕"), contribution("infant nan None True")], 0.0)],
        # Numbers json writes its own way.
        [ComponentAttribution("collaborative", float("nan"), "co-occurrence", [contribution(amount=float("inf"))],
                              float("-inf"))],
        [ComponentAttribution("collaborative", 12345678.123456, "co-occurrence", [contribution(amount=-3.0, weight=2)],
                              1e16)],
    ],
    ids=["empty", "plain", "two-components", "escaped-text", "not-finite", "large-and-int"],
)
def test_an_attribution_is_written_as_the_json_encoder_writes_it(attribution: list[ComponentAttribution]) -> None:
    assert attribution_json(attribution) == reference_attribution(attribution)
    item = Recommendation("P1", 1, 0.5, Explanation({"collaborative": 0.5}, reason='A "quoted" %s reason',
                                                    attribution=attribution))
    assert recommendation_json_line("u 1", [item, item]) == reference_line("u 1", [item, item])


def test_a_value_the_templates_cannot_write_goes_through_the_json_encoder() -> None:
    unencodable = [ComponentAttribution("collaborative", 0.4, "co-occurrence", [contribution(action=None)], 0.0)]  # type: ignore[arg-type]
    assert attribution_json(unencodable) == reference_attribution(unencodable)


def test_collections_are_paused_inside_and_switched_back_on_by_the_last_one_out() -> None:
    assert gc.isenabled()
    entered, leave = threading.Event(), threading.Event()

    def other_export() -> None:
        with collections_paused():
            entered.set()
            leave.wait(5)

    worker = threading.Thread(target=other_export)
    with collections_paused():
        assert not gc.isenabled()
        worker.start()
        assert entered.wait(5)
    assert not gc.isenabled()  # the other export still runs
    leave.set()
    worker.join(5)
    assert gc.isenabled()


def test_collections_stay_off_when_they_were_off() -> None:
    gc.disable()
    try:
        with collections_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
