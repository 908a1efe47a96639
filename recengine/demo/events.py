"""Demo click-stream: view, click, cart and purchase events from the web shop's tracking.

Tracking started a year before the end of the demo period, and only web-shop purchases are tracked,
so the event log holds a sample of the purchases in that year. Each tracked purchase comes with its
funnel (a view, a click, a cart add, the purchase) and the alternatives the user looked at first;
browse-only sessions (views and clicks that end without a purchase) fill the log up to its size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recengine.demo.catalog import Leaf, Product, products_by_leaf
from recengine.demo.people import Acquisition, User
from recengine.demo.sampling import cumulative_index, pick, weighted_index
from recengine.demo.vocabulary import CATEGORIES

_DAY = 86_400.0
_TRACKING_DAYS = 365
_EVENTS_PER_PURCHASE = 6.2  # funnel of 4 plus the alternatives looked at, on average
_BROWSE_SHARE = 0.15  # share of events from sessions without a purchase


@dataclass(frozen=True)
class Event:
    user: int
    product: int
    event: str
    time: float
    quantity: int | None
    session: int


def build_events(
    rng: np.random.Generator,
    users: list[User],
    leaves: list[Leaf],
    products: list[Product],
    acquisitions: list[Acquisition],
    target: int,
    end: float,
) -> list[Event]:
    """About `target` events, sorted by time."""
    members = products_by_leaf(leaves, products)
    popularity = [np.cumsum([products[i].popularity for i in m]) for m in members]
    tracking_start = end - _TRACKING_DAYS * _DAY
    tracked = [a for a in acquisitions if a.time >= tracking_start]
    share = min(1.0, (1 - _BROWSE_SHARE) * target / (_EVENTS_PER_PURCHASE * max(1, len(tracked))))
    events: list[Event] = []
    session = 0

    def browse(user: int, leaf: int, start: float, views: int, clicks: float) -> float:
        """Views of popular products of `leaf`; returns the time after the last one."""
        time = start
        if members[leaf].size == 0:
            return time
        for _ in range(views):
            product = int(members[leaf][cumulative_index(rng, popularity[leaf])])
            events.append(Event(user, product, "view", time, None, session))
            time += rng.uniform(5, 90)
            if rng.random() < clicks:
                events.append(Event(user, product, "click", time, None, session))
                time += rng.uniform(20, 240)
                if rng.random() < 0.08:  # an abandoned cart
                    events.append(Event(user, product, "cart", time, 1, session))
                    time += rng.uniform(10, 60)
        return time

    for acquisition in tracked:
        if rng.random() >= share:
            continue
        session += 1
        product = products[acquisition.product]
        quantity = pick(rng, (1, 1, 1, 2, 3)) if leaves[product.leaf].kind.consumable else 1
        alternatives = 0 if acquisition.companion_of is not None else int(rng.poisson(1.4))
        # The funnel runs backwards from the purchase, so every step precedes the next one.
        cart_time = acquisition.time - rng.uniform(30, 600)
        click_time = cart_time - rng.uniform(30, 300)
        view_time = click_time - rng.uniform(5, 60)
        # One alternative takes at most ~7 minutes of browsing (see `browse`); they come first.
        browse(acquisition.user, product.leaf, view_time - 420 * alternatives - 1, alternatives, 0.4)
        user, item = acquisition.user, acquisition.product
        events.append(Event(user, item, "view", view_time, None, session))
        events.append(Event(user, item, "click", click_time, None, session))
        events.append(Event(user, item, "cart", cart_time, quantity, session))
        events.append(Event(user, item, "purchase", acquisition.time, quantity, session))

    activity = np.cumsum([user.activity for user in users])
    while len(events) < target:
        user_index = cumulative_index(rng, activity)
        user = users[user_index]
        category = int(user.categories[weighted_index(rng, user.category_weights)])
        leaf = _leaf_of_category(rng, leaves, category, user.leaf_weights[category])
        start = rng.uniform(max(user.joined, tracking_start), end - 3600)
        session += 1
        browse(user_index, leaf, start, int(rng.integers(1, 6)), 0.45)
    events.sort(key=lambda event: (event.time, event.user, event.session))
    return events


def _leaf_of_category(
    rng: np.random.Generator, leaves: list[Leaf], category: int, weights: np.ndarray
) -> int:
    key = CATEGORIES[category].key
    indices = [leaf.index for leaf in leaves if leaf.category.key == key]
    return indices[weighted_index(rng, weights)]
