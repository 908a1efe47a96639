"""Score lists of products (bundles, similar products) against the links a catalog publishes.

Amazon catalogs carry `also_buy` and `also_view` lists (Grocery: `r_complement`, `r_substitute`): products
that customers of a product also bought, or also looked at. For a sample of anchor products that have such
a list, each method proposes `size` products and we count how many are on it. The lists come from the
shop, not from the interactions, so methods are fitted on all interactions: there is nothing to hold out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from recengine.errors import NotReadyError
from recengine.evaluate.baselines import InteractionMatrix, ItemKNN, MostPopular
from recengine.evaluate.metrics import Estimate, bootstrap_ci, bootstrap_indices, paired_test
from recengine.progress import Progress, no_progress

LIST_METRICS = ("precision", "recall", "hit_rate")


@dataclass(frozen=True)
class ListEvaluation:
    """Per method, the share of proposed products that are on the anchor's published list."""

    anchors: int
    size: int
    methods: dict[str, dict[str, Estimate]]
    reference: str
    p_values: dict[str, float]  # the reference's precision against each other method's (paired bootstrap)
    pair_p_values: dict[tuple[str, str], float] = field(default_factory=dict)  # more pairs asked for


@dataclass(frozen=True)
class LinkedAnchors:
    """The catalog in evaluation order and the anchors (bought products with a list) with their targets."""

    items: pd.DataFrame
    item_ids: list[str]
    position: dict[str, int]
    anchors: np.ndarray
    truth: dict[int, set[int]]


def linked_anchors(
    items: pd.DataFrame,
    interactions: pd.DataFrame,
    links: Mapping[str, Sequence[str]] | None,
    *,
    what: str,
    max_anchors: int = 1000,
    seed: int = 0,
) -> LinkedAnchors:
    """Anchors: products with interactions whose list names other catalog products (a sample above
    `max_anchors`).

    Raises:
        NotReadyError: no such list (`what` names it in the message, e.g. "also-bought").
    """
    if not links:
        raise NotReadyError(
            f"No {what} lists to score against.",
            hint=f"Only catalogs with {what} links (Amazon metadata, Grocery's item_meta) can be scored.",
        )
    items = items.reset_index(drop=True)
    item_ids = items["item_id"].astype(str).tolist()
    position = {item_id: index for index, item_id in enumerate(item_ids)}
    bought = InteractionMatrix(interactions, items).item_user_counts() > 0
    truth: dict[int, set[int]] = {}
    for anchor, linked in links.items():
        anchor_position = position.get(str(anchor))
        if anchor_position is None or not bought[anchor_position]:
            continue
        targets = {position[str(other)] for other in linked if str(other) in position} - {anchor_position}
        if targets:
            truth[anchor_position] = targets
    if not truth:
        raise NotReadyError(f"No product with interactions has a {what} list naming other catalog products.")
    anchors = np.array(sorted(truth), dtype=np.int64)
    if len(anchors) > max_anchors:
        anchors = np.sort(np.random.default_rng(seed).choice(anchors, size=max_anchors, replace=False))
    return LinkedAnchors(items, item_ids, position, anchors, truth)


def score_lists(
    linked: LinkedAnchors,
    builders: Mapping[str, Callable[[int], Sequence[int]]],
    *,
    size: int,
    reference: str,
    pairs: Sequence[tuple[str, str]] = (),
    n_resamples: int = 1000,
    seed: int = 0,
    progress: Progress | None = None,
) -> ListEvaluation:
    """Precision, recall and hit rate at `size` of every builder (anchor position -> proposed positions),
    with bootstrap intervals over anchors and paired p-values of precision against `reference` (and
    between the two methods of each of `pairs` that was run)."""
    report = progress or no_progress
    per_anchor: dict[str, dict[str, np.ndarray]] = {}
    for step, (name, build) in enumerate(builders.items()):
        values = {metric: np.zeros(len(linked.anchors)) for metric in LIST_METRICS}
        for row, anchor in enumerate(linked.anchors):
            targets = linked.truth[int(anchor)]
            hits = len(set(list(build(int(anchor)))[:size]) & targets)
            values["precision"][row] = hits / size
            values["recall"][row] = hits / min(len(targets), size)
            values["hit_rate"][row] = float(hits > 0)
        per_anchor[name] = values
        report((step + 1) / len(builders), name)
    indices = bootstrap_indices(len(linked.anchors), n_resamples, seed)

    def p_value(first: str, second: str) -> float:
        return paired_test(per_anchor[first]["precision"], per_anchor[second]["precision"], indices=indices).p_value

    return ListEvaluation(
        anchors=len(linked.anchors),
        size=size,
        methods={
            name: {metric: bootstrap_ci(values[metric], indices=indices) for metric in LIST_METRICS}
            for name, values in per_anchor.items()
        },
        reference=reference,
        p_values={name: p_value(reference, name) for name in per_anchor if name != reference},
        pair_p_values={pair: p_value(*pair) for pair in pairs if set(pair) <= set(per_anchor)},
    )


Builders = dict[str, Callable[[int], Sequence[int]]]


def evaluate_links(
    items: pd.DataFrame,
    interactions: pd.DataFrame,
    links: Mapping[str, Sequence[str]] | None,
    builders_for: Callable[[LinkedAnchors], Builders],
    *,
    what: str,
    size: int,
    reference: str,
    neighbours_name: str,
    pairs: Sequence[tuple[str, str]] = (),
    max_anchors: int = 1000,
    seed: int = 0,
    n_resamples: int = 1000,
    progress: Progress | None = None,
) -> ListEvaluation:
    """Anchors with a `what` list, the methods `builders_for` fits on them, and their scores.

    The same two rivals follow every list's own methods: plain ItemKNN cosine neighbours (named
    `neighbours_name`) and best-sellers ("MostPopular").
    """
    report = progress or no_progress
    linked = linked_anchors(items, interactions, links, what=what, max_anchors=max_anchors, seed=seed)
    report(0.05, "fitting")
    knn = ItemKNN().fit(interactions, linked.items)
    popular = np.argsort(-MostPopular().fit(interactions, linked.items).popularity, kind="stable")
    builders = {
        **builders_for(linked),
        neighbours_name: lambda anchor: _top_of_row(knn.similarity, anchor, size),
        "MostPopular": lambda anchor: [int(index) for index in popular[: size + 1] if index != anchor][:size],
    }
    return score_lists(
        linked, builders, size=size, reference=reference, pairs=pairs, n_resamples=n_resamples, seed=seed,
        progress=lambda fraction, message: report(0.1 + 0.9 * fraction, f"{what}: {message}"),
    )


def _top_of_row(similarity: sparse.csr_matrix, anchor: int, size: int) -> list[int]:
    """The `size` largest entries of one CSR row (an item's co-occurrence neighbours), best first."""
    row = similarity.getrow(anchor)
    order = np.argsort(-row.data, kind="stable")[:size]
    return [int(index) for index in row.indices[order]]
