"""Attribution: the personal components split over the history products that produced them (issue 22)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from recommend_fixtures import FakeItemVectors

from recengine.config import RecommendSettings
from recengine.evaluate.faithfulness import evaluate_faithfulness, without
from recengine.recommend import Recommendation, Recommender, RuleSet
from recengine.recommend.attribution import LIST_UNTIL, MAX_CONTRIBUTIONS
from recengine.recommend.collaborative import user_scores
from recengine.recommend.explain import _personal_part
from recengine.recommend.results import ComponentAttribution, attribution_dict, attribution_from_dict
from recengine.recommend.rules import PinItem

SIGNALS = {"co-occurrence": 0.0, "EASE": 50.0}


def model_with(items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors | None, signal: str,
               **settings: float) -> Recommender:
    model = Recommender.fit(items, interactions, vectors, RecommendSettings(collaborative_ease_l2=SIGNALS[signal], **settings))
    assert model.collaborative_method == signal
    return model


def low_rater(interactions: pd.DataFrame) -> pd.DataFrame:
    """The checkerboard plus customer 'sour', whose only history is a 2-star rating of J0."""
    row = pd.DataFrame([("sour", "J0", "review", 2.0, datetime(2024, 3, 1))], columns=interactions.columns)
    return pd.concat([interactions, row], ignore_index=True)


@pytest.mark.parametrize("signal", list(SIGNALS))
def test_a_customer_whose_only_product_was_rated_low_gets_a_labelled_attribution(
    items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors, signal: str
) -> None:
    model = model_with(items, low_rater(interactions), vectors, signal)
    assert model.profile("sour").history.liked.size == 0  # nothing liked: `because` is empty, as in the issue
    top = model.recommend("sour", 3)
    driven = [item for item in top if item.explanation.components["collaborative"] > 0]
    assert driven, [item.explanation.components for item in top]
    for item in driven:
        assert item.explanation.because == []
        attribution = item.explanation.attribution_of("collaborative")
        assert attribution is not None and attribution.source == signal
        [entry] = attribution.contributions
        assert (entry.item_id, entry.disliked, entry.action) == ("J0", True, "rated 2 stars")
        assert entry.amount == pytest.approx(item.explanation.components["collaborative"], abs=1e-6)
    # The most collaborative recommendation's sentence names the product and labels it.
    lead = max(driven, key=lambda item: item.explanation.components["collaborative"])
    assert lead.explanation.reason.startswith("Customers who chose 'Jazz record 0', which sour rated 2 stars (disliked), also chose this")
    assert "overall signals" not in lead.explanation.reason


@pytest.mark.parametrize("signal", list(SIGNALS))
def test_contributions_add_up_to_their_component(
    items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors, signal: str
) -> None:
    model = model_with(items, low_rater(interactions), vectors, signal)
    checked = set()
    for user in ("j0", "j4", "g2", "sour"):
        for item in model.recommend(user, 6):
            for attribution in item.explanation.attribution:
                assert attribution.value == item.explanation.components[attribution.component]
                assert attribution.listed + attribution.unlisted == pytest.approx(attribution.value, abs=1e-5)
                # Listed until they account for LIST_UNTIL of the component (short histories: never capped).
                assert attribution.coverage >= LIST_UNTIL - 1e-5
                history = {model.item_ids[p] for p in model.user_history(user).positions}
                assert {entry.item_id for entry in attribution.contributions} <= history
                checked.add(attribution.component)
            missing = {"collaborative", "semantic"} - {entry.component for entry in item.explanation.attribution}
            assert all(item.explanation.components[name] == 0 for name in missing)
    assert checked == {"collaborative", "semantic"}


def test_long_histories_list_the_largest_parts_and_sum_the_rest(items: pd.DataFrame, vectors: FakeItemVectors) -> None:
    # One customer bought 15 products, the others pairs of them: more contributors than are listed.
    rows = [("big", item_id, "purchase", np.nan, datetime(2024, 1, 1)) for item_id in items["item_id"][:15]]
    rows += [(f"u{index}", first, "purchase", np.nan, datetime(2024, 1, 2)) for index, first in enumerate(items["item_id"])]
    rows += [(f"u{index}", second, "purchase", np.nan, datetime(2024, 1, 3))
             for index, second in enumerate(np.roll(items["item_id"], 1))]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "event", "rating", "timestamp"])
    model = Recommender.fit(items, frame, vectors, RecommendSettings())
    [item] = model.recommend("big", 1)
    attribution = item.explanation.attribution_of("collaborative")
    assert attribution is not None
    assert len(attribution.contributions) <= MAX_CONTRIBUTIONS
    amounts = [abs(entry.amount) for entry in attribution.contributions]
    assert amounts == sorted(amounts, reverse=True)
    assert attribution.listed + attribution.unlisted == pytest.approx(attribution.value, abs=1e-5)


@pytest.mark.parametrize("signal", list(SIGNALS))
def test_removing_the_top_product_drops_the_raw_collaborative_score_by_its_part(
    items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors, signal: str
) -> None:
    # Exact before renormalisation: the part is weight x entry / norm of the matrix the scorer uses.
    model = model_with(items, interactions, vectors, signal)
    weight = model.settings.weight_collaborative
    checked = 0
    for user in ("j0", "g5"):
        history = model.user_history(user)
        raw = user_scores(history.positions, history.confidence, model.collaborative)
        unseen = raw.copy()
        unseen[history.positions] = 0
        norm = float(unseen.max())
        for item in model.recommend(user, 4, rules=RuleSet(enabled=False)):
            attribution = item.explanation.attribution_of("collaborative")
            if attribution is None:  # J7 and G7: nobody bought them
                assert item.explanation.components["collaborative"] == 0
                continue
            checked += 1
            top = attribution.contributions[0]
            target, removed = model.catalog.positions[item.item_id], model.catalog.positions[top.item_id]
            reduced = without(history, removed)
            after = user_scores(reduced.positions, reduced.confidence, model.collaborative)
            assert weight * (raw[target] - after[target]) / norm == pytest.approx(top.amount, abs=2e-6)
    assert checked >= 4


def test_the_evaluation_finds_the_collaborative_part_exact_and_the_top_product_decisive(
    items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors
) -> None:
    model = model_with(items, low_rater(interactions), vectors, "EASE")
    report = evaluate_faithfulness(model, ["j0", "j3", "g1", "g6", "sour", "nobody"], k=3)
    assert report.customers == 5 and report.recommendations == 15
    assert report.named == 1.0 and report.covered_all == 1.0
    summary = report.summary()
    assert summary["collaborative_error"] < 1e-5
    assert 0.5 < summary["collaborative_ratio"] < 1.5  # renormalisation moves the drop a little, either way
    # The top attributed product takes more of the score away than a random other one.
    assert summary["drop_score"] > summary["drop_score_control"]
    frame = report.frame()
    assert set(frame["user_id"]) == {"j0", "j3", "g1", "g6"}  # 'sour' has one product: nothing to remove


def test_semantic_parts_come_from_the_interest_that_won(recommender: Recommender) -> None:
    profile = recommender.profile("j2")
    assert profile.composition is not None
    np.testing.assert_allclose(
        profile.composition @ recommender.vectors[profile.history.positions], profile.interests, atol=1e-5
    )
    for item in recommender.recommend("j2", 3):
        attribution = item.explanation.attribution_of("semantic")
        assert attribution is not None and attribution.interest == 0
        assert attribution.source.startswith("interest 1 of")
        assert all(entry.weight > 0 and entry.link > 0 for entry in attribution.contributions)


def test_attribution_survives_the_json_export(recommender: Recommender) -> None:
    for item in recommender.recommend("g4", 3):
        payload = json.loads(json.dumps(item.to_dict()))
        assert set(payload["explanation"]) == {"components", "because", "shared_keywords", "rules", "reason", "attribution",
                                                    "borrowed_from"}
        assert Recommendation.from_dict(payload) == item


@pytest.mark.parametrize("signal", list(SIGNALS))
def test_a_chunk_of_lists_is_explained_exactly_as_each_list_alone(
    items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors, signal: str
) -> None:
    # The export splits the attributions of a chunk of customers together; every number, record and
    # sentence must be what one customer's request returns (the low rater and an unknown customer too).
    model = model_with(items, low_rater(interactions), vectors, signal)
    users = [*model.user_ids, "nobody"]
    for rules in (None, RuleSet((PinItem("G5", 2),))):
        alone = [model.recommend(user, 4, rules=rules) for user in users]
        assert model.recommend_chunk(users, 4, rules=rules) == alone
        assert [found for _, found in model.recommend_many(users, 4, rules=rules, workers=1)] == alone
    listed = [entry for found in alone for item in found for entry in item.explanation.attribution]
    assert {entry.component for entry in listed} == {"collaborative", "semantic"}
    assert sum(len(entry.contributions) for entry in listed) > len(listed)
    assert model.recommend_chunk(["sour", "nobody"], 0) == [[], []]
    assert model.recommend_chunk([], 4) == []
    # The JSON of an attribution is its dataclass's fields, whichever way the record was built.
    for entry in listed:
        assert attribution_dict(entry) == dataclasses.asdict(entry) == attribution_dict(attribution_from_dict(
            json.loads(json.dumps(attribution_dict(entry)))))


def test_why_not_says_what_feeds_the_held_back_component(recommender: Recommender) -> None:
    answer = recommender.why_not("j0", "G3", 3)
    assert answer.rank is not None and answer.rank > 3
    assert "no product of j0's history is chosen together with it" in answer.reason or answer.held_back_by != "collaborative"
    listed = recommender.recommend("j0", 3)[0]
    inside = recommender.why_not("j0", listed.item_id, 3)
    assert inside.attribution == listed.explanation.attribution


def test_a_semantic_part_from_a_disliked_product_reads_as_unlike_it(
    items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors
) -> None:
    # 'mixed' liked a jazz record and rated a garden tool 1 star: the garden tool pushes the interest away
    # from garden products, so the other jazz records' semantic parts include a positive part from it.
    rows = pd.DataFrame(
        [("mixed", "J0", "review", 5.0, datetime(2024, 3, 1)), ("mixed", "G0", "review", 1.0, datetime(2024, 3, 2))],
        columns=interactions.columns,
    )
    model = Recommender.fit(items, pd.concat([interactions, rows], ignore_index=True), vectors,
                            RecommendSettings(weight_collaborative=0.0, weight_popularity=0.0, weight_quality=0.0,
                                              weight_recency=0.0))
    top = model.recommend("mixed", 1)[0]
    semantic = top.explanation.attribution_of("semantic")
    assert semantic is not None
    pushed = [entry for entry in semantic.contributions if entry.item_id == "G0"]
    assert pushed and pushed[0].weight < 0 and pushed[0].disliked and pushed[0].link < 0 < pushed[0].amount
    assert top.explanation.reason.startswith("Close to 'Jazz record 0'")  # the liked product's part is larger
    assert semantic.listed + semantic.unlisted == pytest.approx(semantic.value, abs=1e-5)
    # When such a part is the largest, the sentence says the item is unlike the disliked product.
    lead = ComponentAttribution("semantic", semantic.value, semantic.source, pushed, semantic.value - pushed[0].amount)
    clause = _personal_part(lead, model.profile("mixed"), model.explain_context, lead=True)
    assert clause.startswith("Unlike 'Garden tool 0'") and "which mixed rated 1 star (disliked)" in clause
