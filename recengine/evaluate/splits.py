"""Train/test splits of interaction logs for offline evaluation.

Every split keeps time order (nothing a user did after a held-out item is used to predict it, for the
per-user splits; nothing after the cut, for the global split) and never leaves a held-out item in the
same user's training history: with seen items excluded from the ranking such an item could never be
recommended, and with them included it would be trivially "predicted".

Interactions are deduplicated per (user, item) first, keeping the first time the user met the item, so
the held-out item is a *new* item for the user: the question evaluation answers is "what will this
customer buy next that they have not bought before".

The validation split used for tuning is cut from the training part of the test split in the same way,
so tuning never sees a test item (`Splits.validation.train` is a subset of `Splits.test.train`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from recengine.errors import ConfigError

SplitStrategy = Literal["leave_last_out", "leave_last_n", "global_time"]
REQUIRED_COLUMNS = ("user_id", "item_id", "timestamp")


@dataclass(frozen=True)
class Split:
    """One train/test division of an interaction log.

    Attributes:
        train: interactions the methods may learn from (all columns of the input kept).
        test: held-out interactions to predict; every test user has at least one training row.
        description: a short sentence saying how the split was made.
    """

    train: pd.DataFrame
    test: pd.DataFrame
    description: str

    @property
    def test_users(self) -> list[str]:
        """Users with held-out items, in sorted order."""
        return sorted(self.test["user_id"].unique().tolist())


@dataclass(frozen=True)
class Splits:
    """A test split and a validation split cut from its training part (for tuning)."""

    test: Split
    validation: Split
    strategy: str


def prepare_interactions(interactions: pd.DataFrame) -> pd.DataFrame:
    """Check columns, drop rows without user/item/time, keep each (user, item) pair's first meeting.

    Rows are sorted by time; ties keep the input order (a stable sort), so results are deterministic.
    """
    missing = [column for column in REQUIRED_COLUMNS if column not in interactions.columns]
    if missing:
        raise ConfigError(
            f"Interactions for evaluation lack the column(s) {', '.join(missing)}.",
            hint="Pass a frame with user_id, item_id and timestamp (one row per event or review).",
        )
    frame = interactions.dropna(subset=list(REQUIRED_COLUMNS)).copy()
    frame["user_id"] = frame["user_id"].astype(str)
    frame["item_id"] = frame["item_id"].astype(str)
    frame = frame.reset_index(drop=True)
    frame["_order"] = np.arange(len(frame))
    frame = frame.sort_values(["timestamp", "_order"], kind="stable")
    frame = frame.drop_duplicates(["user_id", "item_id"], keep="first")
    return frame.drop(columns="_order").reset_index(drop=True)


def leave_last_out(
    interactions: pd.DataFrame, *, n: int = 1, min_history: int = 1, min_user_interactions: int = 0
) -> Split:
    """Hold out each user's last `n` new items (by time); the rest is training.

    Args:
        interactions: rows with user_id, item_id, timestamp (other columns are kept).
        n: items held out per user (1 = leave-last-out, more = leave-last-N).
        min_history: users whose training part would have fewer items than this are not tested
            (their rows all stay in training).
        min_user_interactions: users with fewer distinct items than this are dropped entirely.

    Returns:
        A `Split` whose test rows are, per user, strictly the latest `n` items of that user.
    """
    if n < 1:
        raise ConfigError(f"Leave-last-N needs n >= 1, got {n}.")
    if min_history < 1:
        raise ConfigError(
            f"min_history must be at least 1, got {min_history}.",
            hint="A test user needs some history to be predicted from.",
        )
    frame = prepare_interactions(interactions)
    counts = frame.groupby("user_id")["item_id"].transform("size")
    frame = frame[counts >= max(min_user_interactions, 1)].reset_index(drop=True)
    counts = frame.groupby("user_id")["item_id"].transform("size")
    # Position from the end within each user's time-ordered history: 0 = last.
    from_end = frame.groupby("user_id").cumcount(ascending=False)
    is_test = (from_end < n) & (counts - n >= min_history)
    train = frame[~is_test].reset_index(drop=True)
    test = frame[is_test].reset_index(drop=True)
    what = "last item" if n == 1 else f"last {n} items"
    description = (
        f"per user, the {what} by time held out for testing "
        f"(users with at least {min_history} earlier item(s)); the rest is training"
    )
    return Split(train=train, test=test, description=description)


def global_time_split(
    interactions: pd.DataFrame,
    *,
    cut: object | None = None,
    train_fraction: float = 0.8,
    min_history: int = 1,
) -> Split:
    """Everything before a point in time is training; what users do after it is the test.

    Args:
        interactions: rows with user_id, item_id, timestamp.
        cut: the time of the cut (same type as the timestamps); by default the time below which
            `train_fraction` of the interactions lie.
        train_fraction: used when `cut` is not given.
        min_history: only users with at least this many items before the cut are tested.
    """
    if cut is None and not 0.0 < train_fraction < 1.0:
        raise ConfigError(f"train_fraction must be between 0 and 1, got {train_fraction}.")
    frame = prepare_interactions(interactions)
    if frame.empty:
        return Split(frame, frame.copy(), "global time cut (no interactions)")
    if cut is None:
        position = min(int(len(frame) * train_fraction), len(frame) - 1)
        cut = frame["timestamp"].iloc[position]
    before = frame["timestamp"] < cut
    train = frame[before].reset_index(drop=True)
    after = frame[~before]
    history = train.groupby("user_id").size()
    eligible = history[history >= min_history].index
    # Dedup above already guarantees a test (user, item) pair is not in that user's training rows.
    test = after[after["user_id"].isin(eligible)].reset_index(drop=True)
    return Split(
        train=train,
        test=test,
        description=f"global time cut at {cut}: earlier interactions train, later ones test",
    )


def make_splits(
    interactions: pd.DataFrame,
    *,
    strategy: SplitStrategy = "leave_last_out",
    n: int = 1,
    min_history: int = 1,
    min_user_interactions: int = 0,
    train_fraction: float = 0.8,
) -> Splits:
    """The test split and, cut from its training part in the same way, the validation split."""
    if strategy == "leave_last_out":
        n = 1
    if strategy in ("leave_last_out", "leave_last_n"):
        test = leave_last_out(
            interactions, n=n, min_history=min_history, min_user_interactions=min_user_interactions
        )
        validation = leave_last_out(test.train, n=n, min_history=min_history)
    elif strategy == "global_time":
        test = global_time_split(interactions, train_fraction=train_fraction, min_history=min_history)
        validation = global_time_split(
            test.train, train_fraction=train_fraction, min_history=min_history
        )
    else:
        raise ConfigError(
            f"Unknown split strategy {strategy!r}.",
            hint="Use leave_last_out, leave_last_n or global_time.",
        )
    return Splits(test=test, validation=validation, strategy=strategy)
