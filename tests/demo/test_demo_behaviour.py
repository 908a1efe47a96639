"""Demo customers and events: a funnel, coherent tastes, co-purchases, and predictable later purchases.

These are the properties that make evaluating a recommender on the demo meaningful: if later
purchases could not be predicted from earlier ones, every method would score like random.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import numpy as np
import pandas as pd

from recengine.demo import PERIOD_END, DemoData


def _purchases(data: DemoData) -> pd.DataFrame:
    events = data.interactions
    return events[events["event"] == "purchase"]


def test_events_form_a_funnel(standard_demo: DemoData) -> None:
    events = standard_demo.interactions
    assert 36_000 <= len(events) <= 44_000
    assert events["interaction_id"].is_unique
    assert set(events["event"]) == {"view", "click", "cart", "purchase"}
    counts = events["event"].value_counts()
    assert counts["view"] > counts["click"] > counts["cart"] >= counts["purchase"] > 3_000
    assert events["timestamp"].is_monotonic_increasing
    assert events["timestamp"].max() <= pd.Timestamp(PERIOD_END)
    assert events["user_id"].isin(standard_demo.users["user_id"]).all()
    assert events["item_id"].isin(standard_demo.items["item_id"]).all()
    # Every purchase was put in the cart earlier in the same session.
    purchases = events[events["event"] == "purchase"]
    carts = events[events["event"] == "cart"]
    joined = purchases.merge(carts, on=["session_id", "user_id", "item_id"], suffixes=("", "_cart"))
    assert joined.drop_duplicates("interaction_id")["interaction_id"].size == len(purchases)
    assert (joined["timestamp_cart"] <= joined["timestamp"]).all()
    assert (purchases["quantity"] >= 1).all() and events.loc[
        events["event"] == "view", "quantity"
    ].isna().all()


def test_users_buy_mostly_in_their_favourite_categories(standard_demo: DemoData) -> None:
    users = standard_demo.users.set_index("user_id")
    purchases = _purchases(standard_demo).merge(standard_demo.items[["item_id", "category"]], on="item_id")
    favourite = [
        " > ".join(category.split(" > ")[:2]) in users.at[user, "favourite_categories"].split(";")
        for user, category in zip(purchases["user_id"], purchases["category"], strict=True)
    ]
    # Companions (turntable -> records) and a little exploration lead outside the favourites.
    assert 0.7 <= np.mean(favourite) <= 0.97
    per_user = users["favourite_categories"].str.count(";") + 1
    assert set(per_user) == {1, 2, 3}


def test_some_pairs_are_bought_together_far_above_chance(standard_demo: DemoData) -> None:
    purchases = _purchases(standard_demo)
    baskets = purchases.groupby("user_id")["item_id"].apply(lambda items: sorted(set(items)))
    singles: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for basket in baskets:
        singles.update(basket)
        pairs.update(combinations(basket, 2))
    users = len(baskets)
    lifts = [
        (count, count * users / (singles[first] * singles[second]))
        for (first, second), count in pairs.items()
        if count >= 4
    ]
    assert max(lift for _, lift in lifts) > 20
    # The generator's companion links are what co-occur.
    companions = {
        tuple(sorted((item, companion)))
        for item, linked in standard_demo.item_truth[["item_id", "companions"]].itertuples(index=False)
        for companion in linked.split(";")
        if companion
    }
    top = [pair for pair, count in pairs.most_common(30)]
    assert sum(pair in companions for pair in top) >= 10


def test_later_purchases_are_predictable_from_earlier_ones(standard_demo: DemoData) -> None:
    """Leave-last-out: item co-occurrence beats popularity by far, and both beat random."""
    reviews = standard_demo.reviews.dropna(subset=["user_id"])
    history = pd.concat(
        [
            reviews[["user_id", "item_id", "timestamp"]],
            _purchases(standard_demo)[["user_id", "item_id", "timestamp"]],
        ]
    ).sort_values("timestamp", kind="stable")
    history = history.drop_duplicates(["user_id", "item_id"])
    last = history.groupby("user_id").tail(1)
    train = history.drop(last.index)
    last = last[last["user_id"].isin(train["user_id"])]
    item_ids = standard_demo.items["item_id"].tolist()
    index = {item: position for position, item in enumerate(item_ids)}
    seen = {user: [index[item] for item in items] for user, items in train.groupby("user_id")["item_id"]}
    popularity = train["item_id"].value_counts().reindex(item_ids, fill_value=0).to_numpy(float)
    cooccurrence = np.zeros((len(item_ids), len(item_ids)))
    for items in seen.values():
        cooccurrence[np.ix_(items, items)] += 1
    np.fill_diagonal(cooccurrence, 0)

    hits = {"popular": 0, "cooccurrence": 0}
    for user, item in zip(last["user_id"], last["item_id"], strict=True):
        history_items = seen[user]
        scores = {
            "popular": popularity.copy(),
            "cooccurrence": cooccurrence[history_items].sum(axis=0) / np.sqrt(popularity + 1)
            + 1e-3 * popularity,
        }
        for name, score in scores.items():
            score[history_items] = -np.inf
            hits[name] += index[item] in np.argpartition(-score, 10)[:10]
    rate = {name: count / len(last) for name, count in hits.items()}
    random_rate = 10 / len(item_ids)
    assert rate["popular"] > 2 * random_rate
    assert rate["cooccurrence"] > 2.5 * rate["popular"]
    assert rate["cooccurrence"] > 0.15
