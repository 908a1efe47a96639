"""Batches of customers for the interaction objective: their products, sampled negatives, their histories.

A batch is a set of customers, every product in their training histories, and products sampled from the
rest of the catalog as negatives (products no batch customer chose, which the loss pushes away). The
history matrix says which of the batch's products each customer chose.

Products held out as new by an evaluation (`exclude_items`) are removed from the histories *and* from
the negative pool, so that their text never reaches training in any role.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recengine.train.pairs import (
    DEFAULT_TEMPLATE,
    HoldOut,
    engagement_frame,
    evaluation_holdout,
    item_texts,
    without_holdout,
)

if TYPE_CHECKING:
    from recengine.train.arguments import FineTuneArguments

# A customer with one product teaches nothing: with the −I of the loss that product has nothing to be
# predicted from.
MIN_HISTORY = 2


@dataclass(frozen=True)
class UserBatch:
    """One training step's customers and products.

    Attributes:
        user_ids: the batch's customers (rows of `history`).
        item_ids: the batch's products (columns of `history`), shortest text first when texts are known.
        history: (customers, products) float32 0/1 matrix.
        negatives: how many of `item_ids` were sampled as negatives.
    """

    user_ids: list[str]
    item_ids: list[str]
    history: np.ndarray = field(repr=False)
    negatives: int


def user_histories(
    engagements: pd.DataFrame,
    *,
    exclude_items: Collection[str] = frozenset(),
    min_history: int = MIN_HISTORY,
    known_items: Collection[str] | None = None,
) -> dict[str, list[str]]:
    """Customer -> the distinct products they chose, in first-seen order, without excluded products.

    Args:
        engagements: rows with user_id and item_id (timestamp orders them when present).
        exclude_items: products that must never be trained on (held-out new products).
        min_history: customers with fewer products left are dropped.
        known_items: when given, products outside it (no text) are dropped too.
    """
    if engagements.empty:
        return {}
    frame = engagements.dropna(subset=["user_id", "item_id"])
    if "timestamp" in frame.columns:
        frame = frame.sort_values("timestamp", kind="stable")
    users = frame["user_id"].astype(str).to_numpy()
    items = frame["item_id"].astype(str).to_numpy()
    keep = ~np.isin(items, np.array(sorted(set(exclude_items)), dtype=object))
    if known_items is not None:
        keep &= np.isin(items, np.array(sorted(set(known_items)), dtype=object))
    histories: dict[str, list[str]] = {}
    for user, item in zip(users[keep], items[keep], strict=True):
        histories.setdefault(user, []).append(item)
    return {
        user: unique
        for user, chosen in histories.items()
        if len(unique := list(dict.fromkeys(chosen))) >= min_history
    }


class UserBatchSampler:
    """Shuffled batches of customers, each with its products and sampled negatives.

    Args:
        histories: customer -> products chosen (from `user_histories`).
        catalog: every product that may be a negative (texts known).
        users_per_batch: customers per batch (fewer when their products would exceed `max_items`).
        negatives: products sampled per batch from the catalog outside the batch's histories.
        max_items: at most this many history products per batch (bounds the encoding work of a step).
        exclude_items: products never put in a batch, whatever the histories and catalog say.
        item_lengths: product -> text length; products are then ordered shortest first, so that
            encoding chunks hold texts of similar length (less padding).
        seed: seed of the shuffling and the sampling.
    """

    def __init__(
        self,
        histories: Mapping[str, Sequence[str]],
        catalog: Sequence[str],
        *,
        users_per_batch: int,
        negatives: int,
        max_items: int,
        exclude_items: Collection[str] = frozenset(),
        item_lengths: Mapping[str, int] | None = None,
        seed: int = 0,
    ) -> None:
        excluded = set(exclude_items)
        self.histories = {
            user: kept for user, items in histories.items() if len(kept := [item for item in items if item not in excluded]) >= MIN_HISTORY
        }
        self.users = sorted(self.histories)
        self.catalog = np.array(sorted(set(catalog) - excluded), dtype=object)
        self.users_per_batch = max(1, users_per_batch)
        self.negatives = max(0, negatives)
        self.max_items = max(MIN_HISTORY, max_items)
        self.item_lengths = dict(item_lengths or {})
        self.seed = seed

    def __len__(self) -> int:
        """Batches per epoch (an estimate when `max_items` splits batches)."""
        return max(1, -(-len(self.users) // self.users_per_batch)) if self.users else 0

    def epoch(self, number: int) -> Iterator[UserBatch]:
        """The batches of one pass over every customer, shuffled by seed and epoch number."""
        rng = np.random.default_rng([self.seed, number])
        order = [self.users[index] for index in rng.permutation(len(self.users))]
        batch_users: list[str] = []
        batch_items: dict[str, None] = {}
        for user in order:
            history = self.histories[user]
            if len(history) > self.max_items:  # a very heavy customer: a random part of their history
                history = [history[index] for index in sorted(rng.choice(len(history), self.max_items, replace=False))]
            new_items = [item for item in history if item not in batch_items]
            if batch_users and (len(batch_users) >= self.users_per_batch or len(batch_items) + len(new_items) > self.max_items):
                yield self._batch(batch_users, list(batch_items), rng)
                batch_users, batch_items = [], {}
            batch_users.append(user)
            batch_items.update(dict.fromkeys(history))
        if batch_users:
            yield self._batch(batch_users, list(batch_items), rng)

    def _batch(self, users: list[str], positives: list[str], rng: np.random.Generator) -> UserBatch:
        chosen = set(positives)
        pool = self.catalog[~np.isin(self.catalog, np.array(positives, dtype=object))] if chosen else self.catalog
        count = min(self.negatives, len(pool))
        negatives = pool[rng.choice(len(pool), size=count, replace=False)].tolist() if count else []
        item_ids = positives + negatives
        if self.item_lengths:
            item_ids = sorted(item_ids, key=lambda item: self.item_lengths.get(item, 0))
        column = {item: index for index, item in enumerate(item_ids)}
        history = np.zeros((len(users), len(item_ids)), dtype=np.float32)
        for row, user in enumerate(users):
            for item in self.histories[user]:
                if item in column:
                    history[row, column[item]] = 1.0
        return UserBatch(user_ids=list(users), item_ids=item_ids, history=history, negatives=len(negatives))


@dataclass(frozen=True)
class InteractionData:
    """What the interaction objective trains and validates on.

    Attributes:
        item_texts: product -> the text the encoder sees (every catalog product).
        histories: training customer -> products chosen (2+, no excluded product).
        validation: validation customer -> products chosen in time order (never trained on; the last
            product is the one to find from the others).
        exclude_items: products that never reach training (held out as new by an evaluation).
        holdout_users: customers of the evaluation split whose data never reaches training.
        holdout_description: one sentence on what was held out.
        held_out_interactions: test (customer, product) pairs of the evaluation split held out.
    """

    item_texts: dict[str, str] = field(repr=False)
    histories: dict[str, list[str]] = field(repr=False)
    validation: dict[str, list[str]] = field(repr=False)
    exclude_items: frozenset[str] = frozenset()
    holdout_users: frozenset[str] = field(default_factory=frozenset, repr=False)
    holdout_description: str = ""
    held_out_interactions: int = 0

    @property
    def trainable_items(self) -> list[str]:
        """Products that may appear in a batch (texts known, not excluded), sorted."""
        return sorted(set(self.item_texts) - self.exclude_items)


def split_users(
    histories: Mapping[str, Sequence[str]], *, validation_fraction: float, max_validation: int, max_users: int, seed: int
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Seeded (training, validation) customers: validation customers are never trained on."""
    rng = np.random.default_rng([seed, 7])
    users = sorted(histories)
    order = [users[index] for index in rng.permutation(len(users))]
    validation_count = min(max_validation, int(round(len(users) * validation_fraction))) if len(users) > 1 else 0
    validation = {user: list(histories[user]) for user in order[:validation_count]}
    training = {user: list(histories[user]) for user in order[validation_count : validation_count + max_users]}
    return training, validation


def interaction_data(
    items: pd.DataFrame,
    reviews: pd.DataFrame,
    interactions: pd.DataFrame,
    arguments: FineTuneArguments,
    *,
    template: str | None = None,
    holdout: HoldOut | None = None,
    exclude_items: Collection[str] = frozenset(),
) -> InteractionData:
    """Customers' histories from a workspace's frames, without the evaluation's held-out data.

    Reviews rated below `arguments.positive_rating` do not count as a choice; interaction events do.
    The leave-last-out test data (and all data of a share of the test customers) is removed as for the
    pair objective, and so are `exclude_items` wherever they occur.
    """
    texts = item_texts(items, template or DEFAULT_TEMPLATE) if not items.empty else {}
    liked_reviews = reviews
    if not reviews.empty and "rating" in reviews.columns:
        rating = pd.to_numeric(reviews["rating"], errors="coerce")
        liked_reviews = reviews[rating.isna() | (rating >= arguments.positive_rating)]
    engagements = engagement_frame(liked_reviews, interactions)
    if holdout is None:
        holdout = evaluation_holdout(
            engagement_frame(reviews, interactions), mode=arguments.holdout,
            user_fraction=arguments.holdout_user_fraction, seed=arguments.seed,
        )
    histories = user_histories(without_holdout(engagements, holdout), exclude_items=exclude_items, known_items=texts)
    training, validation = split_users(
        histories, validation_fraction=arguments.validation_fraction,
        max_validation=arguments.max_validation_queries, max_users=arguments.max_users, seed=arguments.seed,
    )
    return InteractionData(
        item_texts=texts, histories=training, validation=validation, exclude_items=frozenset(exclude_items),
        holdout_users=holdout.users, holdout_description=holdout.description,
        held_out_interactions=len(holdout.test_pairs),
    )
