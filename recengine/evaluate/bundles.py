"""Score "frequently bought together" bundles against a catalog's own also-bought lists.

Amazon catalogs carry `also_buy` lists and the Grocery data `r_complement` lists: products that
customers of a product also bought, as published by the shop (`recengine.evaluate.linked`).
Methods: the product's bundle builder (co-occurrence + complementary categories + popularity, varied
by category), plain item-to-item co-occurrence (cosine neighbours) and best-sellers.
"""

from __future__ import annotations

from typing import Any

from recengine.evaluate.data import EvaluationData
from recengine.evaluate.linked import Builders, LinkedAnchors, ListEvaluation, evaluate_links
from recengine.progress import Progress


def evaluate_bundles(
    data: EvaluationData,
    *,
    size: int = 4,
    max_anchors: int = 1000,
    seed: int = 0,
    n_resamples: int = 1000,
    settings: Any = None,
    progress: Progress | None = None,
) -> ListEvaluation:
    """Compare bundle builders on anchors with a published also-bought list (fitted on all interactions)."""
    from recengine.config import RecommendSettings
    from recengine.recommend import Recommender
    from recengine.recommend.bundles import bundle_for_item_id

    def builders(linked: LinkedAnchors) -> Builders:
        items, item_ids, position = linked.items, linked.item_ids, linked.position
        recommender = Recommender.fit(
            items, data.interactions, data.item_vectors, settings or RecommendSettings(),
            review_vectors=data.review_vectors,
        )

        def product_bundle(anchor: int) -> list[int]:
            bundle = bundle_for_item_id(recommender, item_ids[anchor], size=size)
            return [position[item.item_id] for item in bundle.items if item.item_id in position]

        return {"Bundle (recommender)": product_bundle}

    return evaluate_links(
        data.items, data.interactions, data.complements, builders, what="also-bought", size=size,
        reference="Bundle (recommender)", neighbours_name="Co-occurrence (ItemKNN)", max_anchors=max_anchors,
        seed=seed, n_resamples=n_resamples, progress=progress,
    )
