"""Positive training pairs built from the workspace's own data.

Three sources, each giving (anchor text, positive item) pairs for a contrastive loss:

- ``sequence``: the item a customer engaged with, and the next *different* item they engaged with
  (reviews and interaction events together, in time order);
- ``review``: a positive review's text, and the text of the item it reviews;
- ``co_bought``: a product and a product bought with it (catalog links such as ``also_buy``, and
  purchases of one customer on the same day).

Pairs are de-duplicated on their texts. So that the before/after comparison stays honest, the data of
the evaluation split's test part never reaches training: every held-out (user, item) of the split is
dropped, and with ``holdout="test_users"`` everything of a share of the test users is dropped too.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recengine.train.arguments import FineTuneArguments

log = logging.getLogger(__name__)

SOURCES = ("sequence", "review", "co_bought")
# Catalog attribute keys that list products bought together with an item (Amazon 2014/2018, RecHorus).
CO_BOUGHT_KEYS = ("also_buy", "also_bought", "bought_together", "r_complement", "frequently_bought_together")
PURCHASE_EVENTS = ("purchase", "cart")
MAX_TEXT_CHARS = 1000  # beyond what max_seq_length keeps anyway; bounds memory of the pair table
DEFAULT_TEMPLATE = "{title}. {brand}. {category}. {description}"


@dataclass(frozen=True)
class TrainingPair:
    """One positive pair: an anchor text and the item whose text should be close to it."""

    anchor: str
    positive: str
    positive_item_id: str
    source: str
    anchor_item_id: str | None = None


@dataclass(frozen=True)
class HoldOut:
    """What of the evaluation split was kept away from training."""

    users: frozenset[str]
    test_pairs: frozenset[tuple[str, str]]
    description: str


@dataclass(frozen=True)
class PairSet:
    """The pairs of one run, with counts per source before and after sampling."""

    pairs: list[TrainingPair]
    found_per_source: dict[str, int]
    used_per_source: dict[str, int]
    held_out_users: int
    held_out_interactions: int
    holdout_description: str
    item_texts: dict[str, str] = field(repr=False, default_factory=dict)
    holdout_users: frozenset[str] = field(repr=False, default_factory=frozenset)

    @property
    def pairs_per_source(self) -> dict[str, int]:
        return dict(self.used_per_source)


# -- item texts --------------------------------------------------------------------------------------


def item_texts(items: pd.DataFrame, template: str = DEFAULT_TEMPLATE) -> dict[str, str]:
    """The text the encoder sees for each item: the template with empty parts dropped.

    Uses the embedding module's template renderer when it is present, so that training and serving
    embed the same text; otherwise an equivalent local rendering.
    """
    rows = items.to_dict("records")
    try:
        from recengine.embed.templates import parse_template
    except ImportError:  # pragma: no cover - the embedding module ships with recengine
        parse_template = None
    if parse_template is not None:
        parsed = parse_template(template, setting="embed.item_template")
        return {
            str(row["item_id"]): (parsed.render(row) or str(row["item_id"]))[:MAX_TEXT_CHARS] for row in rows
        }
    parts = [piece.strip() for piece in template.split(".") if piece.strip()]
    texts: dict[str, str] = {}
    for row in rows:
        cleaned = {key: _clean(value) for key, value in row.items()}
        rendered = []
        for part in parts:
            try:
                value = part.format(**cleaned)
            except (KeyError, IndexError, ValueError):
                continue
            if value.strip():
                rendered.append(value.strip())
        texts[str(row["item_id"])] = (". ".join(rendered) or str(row["item_id"]))[:MAX_TEXT_CHARS]
    return texts


def _clean(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return " ".join(str(value).split())


# -- the evaluation hold-out -------------------------------------------------------------------------


def engagement_frame(reviews: pd.DataFrame, interactions: pd.DataFrame) -> pd.DataFrame:
    """(user_id, item_id, timestamp, event) of every review with a user and every interaction event."""
    parts = []
    if not interactions.empty:
        parts.append(
            interactions[["user_id", "item_id", "timestamp", "event"]].astype(
                {"user_id": str, "item_id": str, "event": str}
            )
        )
    if not reviews.empty:
        reviewed = reviews[reviews["user_id"].notna()][["user_id", "item_id", "timestamp"]].copy()
        reviewed["event"] = "review"
        parts.append(reviewed.astype({"user_id": str, "item_id": str}))
    if not parts:
        return pd.DataFrame(columns=["user_id", "item_id", "timestamp", "event"])
    frame = pd.concat(parts, ignore_index=True)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], errors="coerce")
    return frame


def evaluation_holdout(
    engagements: pd.DataFrame, *, mode: str = "test_users", user_fraction: float = 0.5, seed: int = 42
) -> HoldOut:
    """The part of the evaluation split that training must not see.

    The test split is `recengine.evaluate.splits.make_splits` (leave-last-out by time) when that module
    is present, else an equivalent local leave-last-out. Every test (user, item) is held out; with
    `mode="test_users"` a stable, seeded share of the test users is held out entirely.
    """
    test = _test_split(engagements)
    test_pairs = frozenset(zip(test["user_id"].astype(str), test["item_id"].astype(str), strict=True))
    users: frozenset[str] = frozenset()
    if mode == "test_users" and user_fraction > 0:
        test_users = sorted(set(test["user_id"].astype(str)))
        users = frozenset(user for user in test_users if unit_hash(user, seed) < user_fraction)
    description = (
        f"the last item of every evaluated user (leave-last-out, {len(test_pairs)} pairs)"
        + (f" and all data of {len(users)} test users ({user_fraction:.0%})" if users else "")
        + " never reach training"
    )
    return HoldOut(users=users, test_pairs=test_pairs, description=description)


def _test_split(engagements: pd.DataFrame) -> pd.DataFrame:
    frame = engagements.dropna(subset=["user_id", "item_id", "timestamp"])
    if frame.empty:
        return frame
    try:
        from recengine.evaluate.splits import make_splits

        return make_splits(frame, strategy="leave_last_out").test.test
    except ImportError:  # pragma: no cover - the evaluation module ships with recengine
        pass
    ordered = frame.sort_values("timestamp", kind="stable").drop_duplicates(["user_id", "item_id"])
    counts = ordered.groupby("user_id")["item_id"].transform("size")
    last = ordered.groupby("user_id").cumcount(ascending=False) == 0
    return ordered[last & (counts >= 2)]


def unit_hash(text: str, seed: int) -> float:
    """A stable, seeded number in [0, 1) for `text`: the same customer always lands on the same side."""
    digest = hashlib.blake2b(f"{seed}:{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


# -- pair sources ------------------------------------------------------------------------------------


def sequence_pairs(engagements: pd.DataFrame, texts: dict[str, str]) -> Iterable[TrainingPair]:
    """(item engaged with, next different item engaged with), per user in time order."""
    frame = engagements.dropna(subset=["timestamp"]).sort_values(["user_id", "timestamp"], kind="stable")
    for _user, history in frame.groupby("user_id", sort=False):
        previous: str | None = None
        for item_id in history["item_id"].astype(str):
            if previous is not None and item_id != previous and previous in texts and item_id in texts:
                yield TrainingPair(texts[previous], texts[item_id], item_id, "sequence", previous)
            previous = item_id


def review_pairs(
    reviews: pd.DataFrame, texts: dict[str, str], *, positive_rating: float = 4.0
) -> Iterable[TrainingPair]:
    """(text of a positive review, text of the reviewed item). Unrated reviews are not used."""
    if reviews.empty:
        return
    positive = reviews[pd.to_numeric(reviews["rating"], errors="coerce") >= positive_rating]
    for row in positive.itertuples(index=False):
        item_id = str(row.item_id)
        review_text = " ".join(part for part in (_clean(row.title), _clean(row.text)) if part)
        # Very short reviews ("Great!") say nothing about the product and only add noise.
        if item_id in texts and len(review_text) >= 20:
            yield TrainingPair(review_text[:MAX_TEXT_CHARS], texts[item_id], item_id, "review")


def co_bought_pairs(
    items: pd.DataFrame, engagements: pd.DataFrame, texts: dict[str, str]
) -> Iterable[TrainingPair]:
    """(product, product bought with it): catalog links, and same-day purchases of one customer."""
    for item_id, attributes in zip(items["item_id"].astype(str), items.get("attributes", []), strict=False):
        for other in _linked_items(attributes):
            if other != item_id and other in texts and item_id in texts:
                yield TrainingPair(texts[item_id], texts[other], other, "co_bought", item_id)
    purchases = engagements[engagements["event"].isin(PURCHASE_EVENTS)].dropna(subset=["timestamp"])
    if purchases.empty:
        return
    purchases = purchases.assign(day=purchases["timestamp"].dt.floor("D"))
    for _key, basket in purchases.groupby(["user_id", "day"], sort=False):
        basket_items = list(dict.fromkeys(basket["item_id"].astype(str)))[:20]
        for first, second in zip(basket_items, basket_items[1:], strict=False):
            if first in texts and second in texts:
                yield TrainingPair(texts[first], texts[second], second, "co_bought", first)


def _linked_items(attributes: object) -> list[str]:
    if not isinstance(attributes, str) or not attributes.strip().startswith("{"):
        return []
    try:
        values = json.loads(attributes)
    except json.JSONDecodeError:
        return []
    linked: list[str] = []
    for key in CO_BOUGHT_KEYS:
        value = values.get(key)
        if isinstance(value, str):
            value = [part for part in value.replace(";", ",").replace("|", ",").split(",")]
        if isinstance(value, list):
            linked.extend(str(part).strip() for part in value if str(part).strip())
    return linked


# -- assembling --------------------------------------------------------------------------------------


def build_pairs(
    items: pd.DataFrame,
    reviews: pd.DataFrame,
    interactions: pd.DataFrame,
    arguments: FineTuneArguments | None = None,
    *,
    template: str = DEFAULT_TEMPLATE,
    holdout: HoldOut | None = None,
    exclude_items: Collection[str] = frozenset(),
) -> PairSet:
    """All positive pairs of the chosen sources, held-out data removed, de-duplicated and sampled.

    Args:
        items, reviews, interactions: the workspace frames (or a training split of them).
        arguments: sources, hold-out and sampling settings (defaults when None).
        template: item text template (the embedding settings' `item_template`).
        holdout: what to keep away; computed from the evaluation split when None.
        exclude_items: products never trained on (held out as new by an evaluation): no pair names one.
    """
    arguments = arguments or FineTuneArguments()
    texts = item_texts(items, template) if not items.empty else {}
    engagements = engagement_frame(reviews, interactions)
    if holdout is None:
        holdout = evaluation_holdout(
            engagements,
            mode=arguments.holdout,
            user_fraction=arguments.holdout_user_fraction,
            seed=arguments.seed,
        )
    engagements = without_holdout(engagements, holdout)
    kept_reviews = reviews
    if not reviews.empty:
        review_users = reviews["user_id"].astype("string").fillna("")
        review_items = reviews["item_id"].astype(str)
        keep = ~review_users.isin(holdout.users) & ~pd.Series(
            [(user, item) in holdout.test_pairs for user, item in zip(review_users, review_items, strict=True)],
            index=reviews.index,
        )
        kept_reviews = reviews[keep]

    generators = {
        "sequence": lambda: sequence_pairs(engagements, texts),
        "review": lambda: review_pairs(kept_reviews, texts, positive_rating=arguments.positive_rating),
        "co_bought": lambda: co_bought_pairs(items, engagements, texts),
    }
    seen: set[tuple[str, str]] = set()
    excluded = set(exclude_items)
    by_source: dict[str, list[TrainingPair]] = {source: [] for source in SOURCES}
    for source in SOURCES:
        if source not in arguments.sources:
            continue
        for pair in generators[source]():
            key = (pair.anchor, pair.positive)
            # Identical texts teach nothing; a pair seen before (from any source) is counted once.
            if pair.anchor == pair.positive or key in seen or {pair.positive_item_id, pair.anchor_item_id} & excluded:
                continue
            seen.add(key)
            by_source[source].append(pair)
    found = {source: len(pairs) for source, pairs in by_source.items()}
    sampled = _sample(by_source, arguments.max_pairs, arguments.seed)
    used = {source: sum(1 for pair in sampled if pair.source == source) for source in SOURCES}
    log.info("training pairs found %s, used %s", found, used)
    return PairSet(
        pairs=sampled,
        found_per_source=found,
        used_per_source=used,
        held_out_users=len(holdout.users),
        held_out_interactions=len(holdout.test_pairs),
        holdout_description=holdout.description,
        item_texts=texts,
        holdout_users=holdout.users,
    )


def without_holdout(engagements: pd.DataFrame, holdout: HoldOut) -> pd.DataFrame:
    """The engagements that training may see: no held-out customer, no held-out (customer, product)."""
    if engagements.empty:
        return engagements
    users = engagements["user_id"].astype(str)
    pairs = [(user, item) in holdout.test_pairs for user, item in zip(users, engagements["item_id"].astype(str), strict=True)]
    keep = ~users.isin(holdout.users) & ~np.asarray(pairs, dtype=bool)
    return engagements[keep].reset_index(drop=True)


def _sample(by_source: dict[str, list[TrainingPair]], max_pairs: int, seed: int) -> list[TrainingPair]:
    """At most `max_pairs`, shared evenly across sources; shuffled with the seed.

    Each source gets an equal share; a source with fewer pairs than its share gives the rest to the
    others. A large but weak source (catalog links of a big catalog) thus cannot crowd out the customer
    sequences, which say most about what customers want next.
    """
    sizes = {source: len(by_source.get(source, [])) for source in SOURCES}
    quotas = {source: 0 for source in SOURCES}
    remaining = max_pairs
    open_sources = [source for source in SOURCES if sizes[source] > 0]
    while remaining > 0 and open_sources:
        share = max(1, remaining // len(open_sources))
        for source in list(open_sources):
            take = min(share, sizes[source] - quotas[source], remaining)
            quotas[source] += take
            remaining -= take
            if quotas[source] >= sizes[source]:
                open_sources.remove(source)
            if remaining <= 0:
                break
    rng = np.random.default_rng(seed)
    chosen: list[TrainingPair] = []
    for source in SOURCES:
        pairs = by_source.get(source, [])
        if quotas[source] < len(pairs):
            indices = rng.choice(len(pairs), size=quotas[source], replace=False)
            pairs = [pairs[index] for index in sorted(indices)]
        chosen.extend(pairs)
    order = rng.permutation(len(chosen))
    return [chosen[index] for index in order]


def split_validation(
    pairs: Sequence[TrainingPair], fraction: float, seed: int
) -> tuple[list[TrainingPair], list[TrainingPair]]:
    """Split pairs into training and validation, grouping by anchor so no anchor is on both sides."""
    anchors = sorted({pair.anchor for pair in pairs})
    rng = np.random.default_rng(seed + 1)
    count = max(1, int(round(len(anchors) * fraction))) if len(anchors) > 1 else 0
    validation_anchors = set(rng.choice(anchors, size=count, replace=False).tolist()) if count else set()
    train = [pair for pair in pairs if pair.anchor not in validation_anchors]
    validation = [pair for pair in pairs if pair.anchor in validation_anchors]
    return train, validation
