"""Score "frequently bought together" bundles against a catalog's own also-bought lists.

Amazon catalogs carry `also_buy` lists and the Grocery data `r_complement` lists: products that
customers of a product also bought, as published by the shop. For a sample of anchor products that
have such a list, each method proposes `size` products and we count how many are on the list.
Methods: the product's bundle builder (co-occurrence + complementary categories + popularity, varied
by category), plain item-to-item co-occurrence (cosine neighbours) and best-sellers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recengine.errors import NotReadyError
from recengine.evaluate.baselines import InteractionMatrix, ItemKNN, MostPopular
from recengine.evaluate.data import EvaluationData
from recengine.evaluate.metrics import Estimate, bootstrap_ci, bootstrap_indices, paired_test
from recengine.progress import Progress, no_progress

BUNDLE_METRICS = ("precision", "recall", "hit_rate")


@dataclass(frozen=True)
class BundleEvaluation:
    """Per method, the share of proposed products that are on the anchor's also-bought list."""

    anchors: int
    size: int
    methods: dict[str, dict[str, Estimate]]
    reference: str
    p_values: dict[str, float]


def evaluate_bundles(
    data: EvaluationData,
    *,
    size: int = 4,
    max_anchors: int = 1000,
    seed: int = 0,
    n_resamples: int = 1000,
    settings: Any = None,
    progress: Progress | None = None,
) -> BundleEvaluation:
    """Compare bundle builders on anchors with a published also-bought list.

    Everything is fitted on all interactions: the also-bought lists come from the shop, not from the
    interactions, so there is nothing to hold out.
    """
    report = progress or no_progress
    if not data.complements:
        raise NotReadyError(
            f"{data.name} has no also-bought lists to score bundles against.",
            hint="Bundles can be scored only on catalogs with also_buy / complement columns.",
        )
    items = data.items.reset_index(drop=True)
    item_ids = items["item_id"].astype(str).tolist()
    position = {item_id: index for index, item_id in enumerate(item_ids)}
    matrix = InteractionMatrix(data.interactions, items)
    bought = matrix.item_user_counts() > 0
    truth: dict[int, set[int]] = {}
    for anchor, linked in data.complements.items():
        anchor_position = position.get(str(anchor))
        if anchor_position is None or not bought[anchor_position]:
            continue
        targets = {position[str(other)] for other in linked if str(other) in position} - {anchor_position}
        if targets:
            truth[anchor_position] = targets
    if not truth:
        raise NotReadyError(f"No product of {data.name} with interactions has an also-bought list in the catalog.")
    anchors = np.array(sorted(truth), dtype=np.int64)
    if len(anchors) > max_anchors:
        anchors = np.sort(np.random.default_rng(seed).choice(anchors, size=max_anchors, replace=False))

    report(0.05, "fitting")
    from recengine.config import RecommendSettings
    from recengine.recommend import Recommender
    from recengine.recommend.bundles import bundle_for_item_id

    recommender = Recommender.fit(
        items, data.interactions, data.item_vectors, settings or RecommendSettings(), review_vectors=data.review_vectors
    )
    knn = ItemKNN().fit(data.interactions, items)
    popular = MostPopular().fit(data.interactions, items).popularity

    def product_bundle(anchor: int) -> list[int]:
        bundle = bundle_for_item_id(recommender, item_ids[anchor], size=size)
        return [position[item.item_id] for item in bundle.items if item.item_id in position]

    def co_occurrence(anchor: int) -> list[int]:
        row = knn.similarity.getrow(anchor)
        order = np.argsort(-row.data, kind="stable")[:size]
        return [int(index) for index in row.indices[order]]

    popular_order = np.argsort(-popular, kind="stable")

    def best_sellers(anchor: int) -> list[int]:
        return [int(index) for index in popular_order[: size + 1] if index != anchor][:size]

    builders: dict[str, Callable[[int], Sequence[int]]] = {
        "Bundle (recommender)": product_bundle,
        "Co-occurrence (ItemKNN)": co_occurrence,
        "MostPopular": best_sellers,
    }
    per_anchor: dict[str, dict[str, np.ndarray]] = {}
    for step, (name, build) in enumerate(builders.items()):
        values = {metric: np.zeros(len(anchors)) for metric in BUNDLE_METRICS}
        for row, anchor in enumerate(anchors):
            proposed = list(build(int(anchor)))[:size]
            hits = len(set(proposed) & truth[int(anchor)])
            values["precision"][row] = hits / size
            values["recall"][row] = hits / min(len(truth[int(anchor)]), size)
            values["hit_rate"][row] = float(hits > 0)
        per_anchor[name] = values
        report((step + 1) / len(builders), f"bundles: {name}")
    indices = bootstrap_indices(len(anchors), n_resamples, seed)
    reference = "Bundle (recommender)"
    return BundleEvaluation(
        anchors=len(anchors),
        size=size,
        methods={
            name: {metric: bootstrap_ci(values[metric], indices=indices) for metric in BUNDLE_METRICS}
            for name, values in per_anchor.items()
        },
        reference=reference,
        p_values={
            name: paired_test(per_anchor[reference]["precision"], values["precision"], indices=indices).p_value
            for name, values in per_anchor.items()
            if name != reference
        },
    )
