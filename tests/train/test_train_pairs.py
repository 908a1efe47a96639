"""Training pairs: sources, de-duplication, sampling and the evaluation hold-out."""

from __future__ import annotations

import pandas as pd
import pytest
from train_fixtures import catalog_frame, interactions_frame, reviews_frame

from recengine.errors import ConfigError
from recengine.train.arguments import FineTuneArguments
from recengine.train.pairs import (
    HoldOut,
    build_pairs,
    engagement_frame,
    evaluation_holdout,
    split_validation,
)


def _texts_of_user(reviews: pd.DataFrame, user: str) -> set[str]:
    own = reviews[reviews["user_id"] == user]
    return {f"{title} {text}" for title, text in zip(own["title"], own["text"], strict=True)}


def test_every_source_gives_pairs_and_counts_add_up() -> None:
    pairs = build_pairs(catalog_frame(), reviews_frame(), interactions_frame(), FineTuneArguments(holdout="test_items"))
    assert set(pairs.used_per_source) == {"sequence", "review", "co_bought"}
    assert all(count > 0 for count in pairs.found_per_source.values()), pairs.found_per_source
    assert sum(pairs.used_per_source.values()) == len(pairs.pairs)
    # Co-bought pairs come from catalog links (the MISSING link is dropped) and from same-day baskets.
    co_bought = {(pair.anchor_item_id, pair.positive_item_id) for pair in pairs.pairs if pair.source == "co_bought"}
    assert ("I50", "I00") in co_bought  # a catalog link no customer sequence repeats
    baskets_only = build_pairs(
        catalog_frame(), reviews_frame(), interactions_frame(),
        FineTuneArguments(holdout="test_items", sources=("co_bought",)),
    )
    assert ("I00", "I01") in {(pair.anchor_item_id, pair.positive_item_id) for pair in baskets_only.pairs}  # U20's basket
    assert all(pair.positive_item_id != "MISSING" for pair in pairs.pairs)


def test_pairs_are_unique_and_never_identical() -> None:
    pairs = build_pairs(catalog_frame(), reviews_frame(), interactions_frame(), FineTuneArguments(holdout="test_items"))
    keys = [(pair.anchor, pair.positive) for pair in pairs.pairs]
    assert len(keys) == len(set(keys))
    assert all(pair.anchor != pair.positive for pair in pairs.pairs)


def test_only_positive_reviews_make_review_pairs() -> None:
    reviews = reviews_frame()
    pairs = build_pairs(catalog_frame(), reviews, interactions_frame(), FineTuneArguments(holdout="test_items"))
    negative_texts = {
        f"{title} {text}" for title, text, rating in zip(reviews["title"], reviews["text"], reviews["rating"], strict=True)
        if rating < 4
    }
    review_anchors = {pair.anchor for pair in pairs.pairs if pair.source == "review"}
    assert review_anchors
    assert not review_anchors & (negative_texts - {f"{t} {x}" for t, x, r in zip(reviews["title"], reviews["text"], reviews["rating"], strict=True) if r >= 4})


NO_HOLDOUT = HoldOut(users=frozenset(), test_pairs=frozenset(), description="none")


def test_held_out_users_never_appear() -> None:
    items, reviews, interactions = catalog_frame(), reviews_frame(), interactions_frame()
    arguments = FineTuneArguments(holdout="test_users", holdout_user_fraction=0.5, seed=3)
    holdout = evaluation_holdout(engagement_frame(reviews, interactions), user_fraction=0.5, seed=3)
    assert 0 < len(holdout.users) < 14
    pairs = build_pairs(items, reviews, interactions, arguments, holdout=holdout)
    held_out_texts = set().union(*(_texts_of_user(reviews, user) for user in holdout.users))
    assert held_out_texts and not {pair.anchor for pair in pairs.pairs} & held_out_texts
    # The pairs are exactly those of the data without the held-out users: their data has no influence.
    without = build_pairs(
        items,
        reviews[~reviews["user_id"].isin(holdout.users)],
        interactions[~interactions["user_id"].isin(holdout.users)],
        arguments,
        holdout=HoldOut(frozenset(), holdout.test_pairs, "test items only"),
    )
    assert sorted(pairs.pairs, key=repr) == sorted(without.pairs, key=repr)
    assert pairs.held_out_users == len(holdout.users)


def test_test_items_of_every_user_are_held_out() -> None:
    items, reviews, interactions = catalog_frame(), reviews_frame(), interactions_frame()
    engagements = engagement_frame(reviews, interactions)
    holdout = evaluation_holdout(engagements, mode="test_items")
    assert not holdout.users
    # Every reviewer's last item is a test item (leave-last-out by time).
    last = reviews.sort_values("timestamp").groupby("user_id").tail(1)
    assert {(row.user_id, row.item_id) for row in last.itertuples()} <= holdout.test_pairs
    pairs = build_pairs(items, reviews, interactions, FineTuneArguments(holdout="test_items"), holdout=holdout)
    test_rows = [(user, item) in holdout.test_pairs for user, item in zip(reviews["user_id"], reviews["item_id"], strict=True)]
    without_tests = build_pairs(
        items,
        reviews[[not flag for flag in test_rows]],
        interactions[[(u, i) not in holdout.test_pairs for u, i in zip(interactions["user_id"], interactions["item_id"], strict=True)]],
        FineTuneArguments(holdout="test_items"),
        holdout=NO_HOLDOUT,
    )
    assert sorted(pairs.pairs, key=repr) == sorted(without_tests.pairs, key=repr)
    everything = build_pairs(items, reviews, interactions, FineTuneArguments(holdout="test_items"), holdout=NO_HOLDOUT)
    assert len(everything.pairs) > len(pairs.pairs)


def test_max_pairs_shares_evenly_across_sources_and_is_deterministic() -> None:
    frames = (catalog_frame(), reviews_frame(), interactions_frame())
    full = build_pairs(*frames, FineTuneArguments(holdout="test_items"))
    small = build_pairs(*frames, FineTuneArguments(holdout="test_items", max_pairs=30))
    again = build_pairs(*frames, FineTuneArguments(holdout="test_items", max_pairs=30))
    assert len(small.pairs) == 30
    assert small.pairs == again.pairs
    assert small.found_per_source == full.found_per_source
    # Every source that has enough pairs gets the same share; a small source gives its rest away.
    assert all(count == 10 for source, count in small.used_per_source.items() if full.found_per_source[source] >= 10)
    tiny_source = min(full.found_per_source, key=full.found_per_source.get)
    quota = build_pairs(*frames, FineTuneArguments(holdout="test_items", max_pairs=3 * full.found_per_source[tiny_source] + 6))
    assert quota.used_per_source[tiny_source] == full.found_per_source[tiny_source]
    assert len(quota.pairs) == 3 * full.found_per_source[tiny_source] + 6


def test_validation_split_keeps_anchors_on_one_side() -> None:
    pairs = build_pairs(catalog_frame(), reviews_frame(), interactions_frame(), FineTuneArguments(holdout="test_items"))
    train, validation = split_validation(pairs.pairs, 0.25, seed=1)
    assert validation and train
    assert not {pair.anchor for pair in train} & {pair.anchor for pair in validation}
    assert len(train) + len(validation) == len(pairs.pairs)


def test_arguments_reject_bad_values_with_a_hint() -> None:
    with pytest.raises(ConfigError, match="batch_size"):
        FineTuneArguments(batch_size=1)
    with pytest.raises(ConfigError, match="Valid settings"):
        FineTuneArguments.from_dict({"epochz": 2})
    assert FineTuneArguments.from_dict(FineTuneArguments(epochs=3).to_dict()).epochs == 3
    assert FineTuneArguments.from_dict({"sources": "sequence"}).sources == ("sequence",)
    assert FineTuneArguments.from_dict({"sources": "sequence, review"}).sources == ("sequence", "review")
    assert "in-batch" in FineTuneArguments.help_texts()["batch_size"]


def test_excluded_products_are_in_no_pair() -> None:
    excluded = {"I00", "I01", "I11", "I22"}
    pairs = build_pairs(catalog_frame(), reviews_frame(), interactions_frame(), FineTuneArguments(max_pairs=10_000),
                        exclude_items=excluded)
    named = {pair.positive_item_id for pair in pairs.pairs} | {pair.anchor_item_id for pair in pairs.pairs}
    assert pairs.pairs and not named & excluded
    assert excluded <= set(pairs.item_texts)  # still described, so evaluations can embed them
