"""Score "similar products" against a catalog's own also-viewed lists.

Amazon catalogs carry `also_view` lists and the Grocery data `r_substitute` lists: products that shoppers
of a product also looked at, mostly alternatives to it, as published by the shop
(`recengine.evaluate.linked`). Methods: the product's similar items (content + co-occurrence,
`recengine.recommend.similar`), each half alone, the same with item vectors of catalog text only (when the
data has review vectors), plain ItemKNN neighbours and best-sellers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from recengine.evaluate.data import EvaluationData
from recengine.evaluate.linked import Builders, LinkedAnchors, ListEvaluation, evaluate_links
from recengine.progress import Progress

REFERENCE = "Similar (recommender)"


def evaluate_similar(
    data: EvaluationData,
    *,
    size: int = 10,
    max_anchors: int = 1000,
    seed: int = 0,
    n_resamples: int = 1000,
    settings: Any = None,
    progress: Progress | None = None,
) -> ListEvaluation:
    """Compare similar-product lists on anchors with a published also-viewed list (fitted on all interactions)."""
    from recengine.config import RecommendSettings
    from recengine.recommend import Recommender
    from recengine.recommend.similar import similar_to

    settings = settings or RecommendSettings()

    def builders(linked: LinkedAnchors) -> Builders:
        item_ids, position = linked.item_ids, linked.position

        def fitted(review_vectors: Any) -> Any:
            return Recommender.fit(linked.items, data.interactions, data.item_vectors, settings, review_vectors=review_vectors)

        def similar(recommender: Any, content_weight: float | None = None) -> Callable[[int], list[int]]:
            def build(anchor: int) -> list[int]:
                found = similar_to(recommender, item_ids[anchor], size, content_weight=content_weight)
                return [position[item.item_id] for item in found if item.item_id in position]

            return build

        recommender = fitted(data.review_vectors)
        found: Builders = {REFERENCE: similar(recommender)}
        if recommender.vectors is not None:
            found["Content only"] = similar(recommender, 1.0)
        found["Co-occurrence only"] = similar(recommender, 0.0)
        if recommender.review_text_items:
            catalog_text = fitted(None)
            found["Similar (catalog text only)"] = similar(catalog_text)
            found["Content only (catalog text)"] = similar(catalog_text, 1.0)
        return found

    return evaluate_links(
        data.items, data.interactions, data.substitutes, builders, what="also-viewed", size=size, reference=REFERENCE,
        neighbours_name="ItemKNN (cosine neighbours)", pairs=[("Content only", "Content only (catalog text)")],
        max_anchors=max_anchors, seed=seed, n_resamples=n_resamples, progress=progress,
    )
