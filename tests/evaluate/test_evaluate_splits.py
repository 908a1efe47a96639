"""Split invariants: no held-out item in the user's training rows, time order kept, validation apart."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recengine.errors import ConfigError
from recengine.evaluate.runner import split_sentence
from recengine.evaluate.splits import global_time_split, leave_last_out, make_splits, prepare_interactions


def random_log(seed: int, users: int = 30, items: int = 15, rows: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = datetime(2023, 1, 1)
    return pd.DataFrame(
        {
            "user_id": [f"u{value}" for value in rng.integers(0, users, rows)],
            "item_id": [f"i{value}" for value in rng.integers(0, items, rows)],
            # Day resolution on purpose: many ties, as in the Amazon data.
            "timestamp": [start + timedelta(days=int(value)) for value in rng.integers(0, 40, rows)],
        }
    )


def assert_split_invariants(train: pd.DataFrame, test: pd.DataFrame) -> None:
    train_pairs = set(zip(train["user_id"], train["item_id"], strict=True))
    for row in test.itertuples(index=False):
        assert (row.user_id, row.item_id) not in train_pairs, "a test item is in that user's training rows"
    latest_train = train.groupby("user_id")["timestamp"].max()
    earliest_test = test.groupby("user_id")["timestamp"].min()
    for user, first_test in earliest_test.items():
        assert user in latest_train.index, "every test user has training history"
        assert latest_train[user] <= first_test, "training rows come before the held-out ones"


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 3), min_history=st.integers(1, 3))
def test_leave_last_n_invariants(seed: int, n: int, min_history: int) -> None:
    log = random_log(seed)
    split = leave_last_out(log, n=n, min_history=min_history)
    assert_split_invariants(split.train, split.test)
    per_user_test = split.test.groupby("user_id").size()
    assert (per_user_test == n).all()
    per_user_train = split.train.groupby("user_id").size()
    assert (per_user_train[per_user_test.index] >= min_history).all()
    # Nothing is lost: train + test = the deduplicated log.
    assert len(split.train) + len(split.test) == len(prepare_interactions(log))


def test_leave_last_out_holds_out_the_latest_new_item() -> None:
    log = pd.DataFrame(
        {
            "user_id": ["u", "u", "u", "u", "v"],
            "item_id": ["a", "b", "a", "c", "a"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-01"]),
        }
    )
    split = leave_last_out(log)
    assert split.test[["user_id", "item_id"]].values.tolist() == [["u", "c"]]
    # The repeat of 'a' is dropped (first meeting kept); 'v' has one item only, so stays in training.
    assert sorted(split.train["item_id"].tolist()) == ["a", "a", "b"]
    assert split.test_users == ["u"]


def test_tied_share_counts_held_out_products_that_share_the_latest_time_stamp() -> None:
    log = pd.DataFrame(
        {
            "user_id": ["u", "u", "u", "v", "v", "w", "w"],
            "item_id": ["a", "b", "c", "a", "b", "a", "c"],
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-01", "2024-01-05", "2024-01-03", "2024-01-03"]
            ),
        }
    )
    split = leave_last_out(log)
    # u: c held out on the day of b; w: c held out on the day of a (the later row wins the tie); v: no tie.
    assert split.test.set_index("user_id")["item_id"].to_dict() == {"u": "c", "v": "b", "w": "c"}
    assert split.tied_share() == pytest.approx(2 / 3)
    assert "67% of the held-out products have the same time stamp" in split_sentence(split)
    untied = leave_last_out(log[log["user_id"] == "v"])
    assert untied.tied_share() == 0.0
    assert split_sentence(untied) == untied.description


def test_validation_is_cut_from_training_and_never_sees_test_rows() -> None:
    log = random_log(7)
    splits = make_splits(log)
    test_keys = set(zip(splits.test.test["user_id"], splits.test.test["item_id"], strict=True))
    validation_rows = pd.concat([splits.validation.train, splits.validation.test])
    validation_keys = set(zip(validation_rows["user_id"], validation_rows["item_id"], strict=True))
    assert not validation_keys & test_keys
    train_keys = set(zip(splits.test.train["user_id"], splits.test.train["item_id"], strict=True))
    assert validation_keys == train_keys
    assert_split_invariants(splits.validation.train, splits.validation.test)


def test_global_time_split_cuts_at_one_time() -> None:
    log = random_log(11)
    split = global_time_split(log, train_fraction=0.7)
    assert split.train["timestamp"].max() < split.test["timestamp"].min()
    assert_split_invariants(split.train, split.test)
    splits = make_splits(log, strategy="global_time")
    assert splits.validation.train["timestamp"].max() <= splits.test.train["timestamp"].max()


def test_min_user_interactions_drops_short_histories() -> None:
    log = random_log(5, users=60, rows=150)
    split = leave_last_out(log, min_user_interactions=4)
    counts = prepare_interactions(log).groupby("user_id").size()
    kept = set(split.train["user_id"]) | set(split.test["user_id"])
    assert kept == set(counts[counts >= 4].index)


def test_bad_arguments_raise_config_errors() -> None:
    log = random_log(1)
    with pytest.raises(ConfigError):
        leave_last_out(log, n=0)
    with pytest.raises(ConfigError):
        leave_last_out(log.drop(columns="timestamp"))
    with pytest.raises(ConfigError):
        make_splits(log, strategy="random")  # type: ignore[arg-type]


def event_log(seed: int) -> pd.DataFrame:
    log = random_log(seed, rows=400)
    rng = np.random.default_rng(seed)
    log["event"] = rng.choice(["view", "click", "cart", "purchase", "review"], size=len(log), p=[0.4, 0.2, 0.1, 0.2, 0.1])
    return log


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 2))
def test_only_purchases_and_reviews_are_held_out_when_the_log_has_views(seed: int, n: int) -> None:
    log = event_log(seed)
    splits = make_splits(log, strategy="leave_last_n", n=n)
    for split in (splits.test, splits.validation):
        assert set(split.test["event"]) <= {"purchase", "review"}
        assert (split.test.groupby("user_id").size() == n).all()
        train_pairs = set(zip(split.train["user_id"], split.train["item_id"], strict=True))
        for row in split.test.itertuples(index=False):
            assert (row.user_id, row.item_id) not in train_pairs
        latest_train = split.train.groupby("user_id")["timestamp"].max()
        for user, first_test in split.test.groupby("user_id")["timestamp"].min().items():
            assert latest_train[user] <= first_test
    # Validation never sees a test row.
    test_pairs = set(zip(splits.test.test["user_id"], splits.test.test["item_id"], strict=True))
    validation_pairs = set(zip(splits.validation.test["user_id"], splits.validation.test["item_id"], strict=True))
    assert not test_pairs & validation_pairs


def test_a_product_viewed_before_it_was_bought_stays_rankable() -> None:
    log = pd.DataFrame(
        {
            "user_id": ["u"] * 5,
            "item_id": ["a", "b", "x", "b", "x"],
            "event": ["purchase", "view", "view", "purchase", "purchase"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]),
        }
    )
    split = leave_last_out(log, target_events={"purchase", "review"})
    assert split.test[["item_id", "event"]].values.tolist() == [["x", "purchase"]]
    # The earlier view of x is not training (x would be "seen"); b's view and purchase both stay.
    assert split.train["item_id"].tolist() == ["a", "b", "b"]
    assert "purchase" in split.description


def test_auto_targets_only_when_weaker_events_exist() -> None:
    from recengine.evaluate.splits import default_target_events

    assert default_target_events(event_log(1)) == {"purchase", "review"}
    only_purchases = random_log(1).assign(event="purchase")
    assert default_target_events(only_purchases) is None
    assert default_target_events(random_log(1)) is None  # no event column
