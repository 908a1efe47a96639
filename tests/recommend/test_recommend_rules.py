"""Each business rule's effect, recorded per item, and the all-rules-off switch."""

from __future__ import annotations

import pandas as pd
import pytest
from recommend_fixtures import FakeItemVectors

from recengine.config import RecommendSettings
from recengine.errors import ConfigError
from recengine.recommend import (
    BoostRule,
    Diversity,
    ExcludeItems,
    HideOutOfStock,
    MinimumShare,
    PinItem,
    Recommender,
    RuleSet,
)


def ids(recommendations: list) -> list[str]:
    return [item.item_id for item in recommendations]


def test_hide_out_of_stock(items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors) -> None:
    baseline = Recommender.fit(items, interactions, vectors, RecommendSettings()).recommend("j0", k=3)
    gone = baseline[0].item_id
    stocked = items.copy()
    stocked.loc[stocked["item_id"] == gone, "in_stock"] = False
    model = Recommender.fit(stocked, interactions, vectors, RecommendSettings())
    assert gone in ids(model.recommend("j0", k=3))  # no rule, no effect
    ruled = model.recommend("j0", k=3, rules=RuleSet((HideOutOfStock(),)))
    assert gone not in ids(ruled)
    assert model.why_not("j0", gone, k=3, rules=RuleSet((HideOutOfStock(),))).held_back_by == "hidden: out of stock"


def test_exclude_list(recommender: Recommender) -> None:
    first = recommender.recommend("j0", k=3)[0].item_id
    ruled = recommender.recommend("j0", k=3, rules=RuleSet((ExcludeItems((first,)),)))
    assert first not in ids(ruled) and len(ruled) == 3


def test_pin_at_position(recommender: Recommender) -> None:
    ruled = recommender.recommend("j0", k=4, rules=RuleSet((PinItem("G5", 2),)))
    assert ruled[1].item_id == "G5"
    assert ruled[1].rank == 2
    assert "pinned at position 2" in ruled[1].explanation.rules
    assert sum(ruled[1].explanation.components.values()) == pytest.approx(ruled[1].score, abs=1e-5)


def test_boost_and_bury_change_the_score_through_a_rules_component(recommender: Recommender) -> None:
    boosted = recommender.recommend("j0", k=3, rules=RuleSet((BoostRule("category", "Garden", 2.0),)))
    assert all(item.item_id.startswith("G") for item in boosted)
    for item in boosted:
        assert item.explanation.components["rules"] == pytest.approx(2.0)
        assert sum(item.explanation.components.values()) == pytest.approx(item.score, abs=1e-5)
        assert any("boost category=Garden" in note for note in item.explanation.rules)
    buried = recommender.recommend("j0", k=3, rules=RuleSet((BoostRule("brand", "bluenote", -2.0),)))
    assert all(item.item_id.startswith("G") for item in buried)
    cheap = recommender.recommend("g0", k=2, rules=RuleSet((BoostRule("price", amount=3.0, price_max=2.0),)))
    assert {recommender.catalog.prices[recommender.catalog.positions[item.item_id]] for item in cheap} <= {1.0, 2.0}


def test_minimum_share_of_a_promoted_category(recommender: Recommender) -> None:
    plain = recommender.recommend("j0", k=4)
    assert not any(item.item_id.startswith("G") for item in plain)
    ruled = recommender.recommend("j0", k=4, rules=RuleSet((MinimumShare("Garden", 0.5),)))
    garden = [item for item in ruled if item.item_id.startswith("G")]
    assert len(garden) == 2 and len(ruled) == 4
    assert all(any(note.startswith("promoted") for note in item.explanation.rules) for item in garden)


def test_diversity_mixes_the_list(recommender: Recommender) -> None:
    semantic = {"semantic": 1.0, "collaborative": 0, "popularity": 0, "quality": 0, "recency": 0}
    plain = recommender.recommend("j0", k=4, weights=semantic)
    diverse = recommender.recommend("j0", k=4, weights=semantic, rules=RuleSet((Diversity(0.1),)))
    assert sum(item.item_id.startswith("G") for item in diverse) > sum(item.item_id.startswith("G") for item in plain)
    assert diverse[0].item_id == plain[0].item_id  # the most relevant item stays first


def test_all_rules_off_switch(recommender: Recommender) -> None:
    rules = (ExcludeItems(("J4",)), BoostRule("category", "Garden", 5.0), PinItem("G1", 1))
    off = recommender.recommend("j0", k=4, rules=RuleSet(rules, enabled=False))
    assert ids(off) == ids(recommender.recommend("j0", k=4))
    assert all(not item.explanation.rules for item in off)


def test_rules_round_trip_to_dict_and_json() -> None:
    rules = RuleSet(
        (HideOutOfStock(), ExcludeItems(("a", "b")), PinItem("x", 3), BoostRule("price", amount=-0.2, price_min=50.0),
         BoostRule("brand", "Acme", 0.1), MinimumShare("Books", 0.3), Diversity(0.6)),
        enabled=False,
    )
    assert RuleSet.from_dict(rules.to_dict()) == rules
    assert RuleSet.from_json(rules.to_json()) == rules
    assert rules.to_dict()["rules"][2] == {"type": "pin", "item_id": "x", "position": 3}


@pytest.mark.parametrize(
    "bad",
    [
        {"rules": [{"type": "teleport"}]},
        {"rules": [{"type": "pin", "item_id": "x", "position": 0}]},
        {"rules": [{"type": "boost", "field": "colour", "value": "red"}]},
        {"rules": [{"type": "boost", "field": "price"}]},
        {"rules": [{"type": "minimum_share", "category": "A", "share": 1.5}]},
        {"rules": [{"type": "diversity", "mmr_lambda": 2}]},
        {"rules": [{"type": "pin", "item_id": "x", "slot": 1}]},
    ],
)
def test_bad_rules_are_refused_with_a_message(bad: dict) -> None:
    with pytest.raises(ConfigError):
        RuleSet.from_dict(bad)


def test_settings_diversity_applies_unless_rules_are_off(items: pd.DataFrame, interactions: pd.DataFrame, vectors: FakeItemVectors) -> None:
    settings = RecommendSettings(diversity_lambda=0.1, weight_collaborative=0, weight_popularity=0, weight_quality=0, weight_recency=0)
    model = Recommender.fit(items, interactions, vectors, settings)
    mixed = model.recommend("j0", k=4)
    assert any(item.item_id.startswith("G") for item in mixed)
    clean = model.recommend("j0", k=4, rules=RuleSet(enabled=False))
    assert all(item.item_id.startswith("J") for item in clean)
