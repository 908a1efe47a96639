"""Item-to-item similarity: content (cosine of item vectors) blended with co-occurrence."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from recengine.errors import NotFoundError
from recengine.recommend.results import SimilarItem

if TYPE_CHECKING:
    from recengine.recommend.recommender import Recommender
    from recengine.workspace import Workspace


def similar_to(
    recommender: Recommender,
    item_id: str,
    k: int = 10,
    *,
    content_weight: float | None = None,
    exclude: tuple[str, ...] = (),
) -> list[SimilarItem]:
    """Items most like `item_id`: `content_weight` x content + (1 - content_weight) x co-occurrence.

    Both parts are scaled so the best other item has 1. Without item vectors only co-occurrence
    counts; without co-occurrence (a new product) only content does.
    """
    catalog = recommender.catalog
    position = catalog.positions.get(str(item_id))
    if position is None:
        raise NotFoundError(f"No product with id {item_id!r} in this workspace.")
    weight = recommender.settings.similar_content_weight if content_weight is None else content_weight
    content = np.zeros(catalog.size, dtype=np.float32)
    vectors = recommender.vectors
    if vectors is not None and np.linalg.norm(vectors[position]) > 0:
        content = np.clip(vectors @ vectors[position], 0.0, None)
    collaborative = np.zeros(catalog.size, dtype=np.float32)
    row = recommender.similarity.getrow(position)
    collaborative[row.indices] = row.data
    content[position] = collaborative[position] = 0.0
    for other in exclude:
        if other in catalog.positions:
            content[catalog.positions[other]] = collaborative[catalog.positions[other]] = 0.0
    has_content = content.max(initial=0.0) > 0
    has_collaborative = collaborative.max(initial=0.0) > 0
    if not has_collaborative:
        weight = 1.0
    elif not has_content:
        weight = 0.0
    content = content / max(float(content.max(initial=0.0)), 1e-9)
    collaborative = collaborative / max(float(collaborative.max(initial=0.0)), 1e-9)
    score = weight * content + (1.0 - weight) * collaborative
    score[position] = -np.inf
    take = min(k, catalog.size - 1)
    if take <= 0:
        return []
    top = np.argpartition(-score, take - 1)[:take]
    top = top[np.lexsort((top, -score[top]))]
    return [
        SimilarItem(
            item_id=catalog.item_ids[int(p)],
            rank=rank,
            score=round(float(score[p]), 6),
            content=round(float(weight * content[p]), 6),
            collaborative=round(float((1.0 - weight) * collaborative[p]), 6),
        )
        for rank, p in enumerate(top, start=1)
        if np.isfinite(score[p])
    ]


def similar_items(workspace: Workspace, item_id: str, k: int = 10) -> list[SimilarItem]:
    """Similar products for `item_id` in a workspace (content + collaborative)."""
    from recengine.recommend.workspace_model import recommender_for

    return similar_to(recommender_for(workspace), item_id, k)
