"""The "recommendations" section of `recengine status` and the home page (cheap: a few counts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recengine.status import register_status_section

if TYPE_CHECKING:
    from recengine.config import RecommendSettings
    from recengine.workspace import Workspace


@dataclass(frozen=True)
class RecommendStatus:
    """What recommendations can use in this workspace right now."""

    customers_with_history: int
    products_with_history: int
    products_never_chosen: int  # recommendable on content alone
    embeddings: str  # "ready" or what to run
    review_keywords: str
    weights: str
    collaborative: str  # which item-item signal the collaborative component scores with
    item_vectors: str = ""  # what an item's vector describes: catalog text, and its reviews' text or not
    new_products: str = ""  # how products nobody has chosen get a collaborative estimate, and the new-arrivals rule


def recommend_status(workspace: Workspace) -> RecommendStatus:
    """Counts and readiness of the inputs of the hybrid recommender."""
    store = workspace.store
    customers = int(store.scalar(
        "SELECT count(DISTINCT user_id) FROM (SELECT user_id FROM interactions UNION ALL "
        "SELECT user_id FROM reviews WHERE user_id IS NOT NULL)"
    ) or 0)
    chosen = int(store.scalar(
        "SELECT count(DISTINCT item_id) FROM (SELECT item_id FROM interactions UNION ALL "
        "SELECT item_id FROM reviews WHERE user_id IS NOT NULL)"
    ) or 0)
    items = int(store.scalar("SELECT count(*) FROM items") or 0)
    folder = workspace.root / "embeddings"
    embedded = folder.is_dir() and any(path.is_file() for path in folder.rglob("*"))
    keywords = store.table_exists("item_keywords")
    settings = workspace.settings.recommend
    weights = ", ".join(
        f"{name} {getattr(settings, f'weight_{name}'):.2f}"
        for name in ("semantic", "collaborative", "popularity", "quality", "recency")
    )
    return RecommendStatus(
        customers_with_history=customers,
        products_with_history=chosen,
        products_never_chosen=max(items - chosen, 0),
        embeddings="ready" if embedded else "missing: run `recengine embed` (semantic part is off until then)",
        review_keywords="ready" if keywords else "missing: run `recengine analyze` (explanations without keywords)",
        weights=weights,
        collaborative=collaborative_description(settings, chosen),
        item_vectors=(
            f"catalog text + reviews' text (review_vector_weight {settings.review_vector_weight:g}; reviews count "
            "once `recengine analyze` has encoded them)"
            if settings.review_vector_weight > 0 else "catalog text only (review_vector_weight 0)"
        ),
        new_products=new_products_description(settings),
    )


def new_products_description(settings: RecommendSettings) -> str:
    """How products nobody has chosen compete, and whether the new-arrivals rule applies to every list."""
    if settings.new_product_neighbours > 0:
        text = (
            f"borrow the collaborative signal and popularity of their {settings.new_product_neighbours} closest "
            f"products by text (cosine {settings.new_product_min_cosine:g} or more)"
        )
    else:
        text = "no collaborative estimate (new_product_neighbours 0): they compete on content alone"
    if settings.new_arrivals_days > 0:
        room = (
            f"positions {', '.join(map(str, settings.new_arrivals_positions))}" if settings.new_arrivals_positions
            else f"at least {settings.new_arrivals_share:.0%} of each list"
        )
        text += f"; new arrivals (first seen within {settings.new_arrivals_days:g} days) get {room}"
    return text


def collaborative_description(settings: RecommendSettings, products_with_history: int) -> str:
    """The collaborative signal in words, saying so when EASE is set but the catalog is over its limit."""
    co_occurrence = f"co-occurrence (alpha {settings.collaborative_alpha:g}, shrink {settings.collaborative_shrink:g})"
    if settings.collaborative_ease_l2 <= 0:
        return co_occurrence
    if products_with_history > settings.collaborative_ease_max_items:
        return (
            f"{co_occurrence}: EASE is set, but {products_with_history:,} products have history, over its "
            f"limit of {settings.collaborative_ease_max_items:,} (collaborative_ease_max_items)"
        )
    return f"EASE (L2 {settings.collaborative_ease_l2:g})"


register_status_section("recommendations", recommend_status)
