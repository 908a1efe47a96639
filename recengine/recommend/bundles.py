"""Bundles: "frequently bought together" and "complete the set" for a product or a customer.

Two signals: item co-occurrence with the anchor items (customers who bought the anchor also bought
this) and complementary categories (customers of the anchor's category often also buy from that
category: lift over chance). Near-duplicates of an anchor (same category, almost identical content)
are substitutes, not complements, and are left out unless customers do buy them together. At most one item per category keeps the bundle
varied; an optional budget caps the total price.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from recengine.errors import NotFoundError
from recengine.recommend.results import Bundle, BundleItem

if TYPE_CHECKING:
    from recengine.recommend.recommender import Recommender
    from recengine.workspace import Workspace

# Co-occurrence leads: on the shops' own also-bought lists (Amazon Gift Cards, Magazine, Grocery) every
# point of weight moved from co-occurrence to categories or popularity cost precision; complementary
# categories and popularity order close co-purchases and fill bundles co-occurrence cannot.
CO_WEIGHT, COMPLEMENT_WEIGHT, POPULARITY_WEIGHT = 0.9, 0.05, 0.05
# A complementary category counts this much for an item nobody bought with the anchors.
UNPROVEN_COMPLEMENT = 0.25
# MMR-style: relevance lost per anchor or chosen item of the same category (soft, not a filter; a
# hard one-per-category rule cut Grocery's precision@4 from 0.17 to 0.03).
DIVERSITY_PENALTY = 0.02
SUBSTITUTE_COSINE = 0.92
CANDIDATES = 500


def category_lift(recommender: Recommender) -> tuple[sparse.csr_matrix, np.ndarray]:
    """(categories x categories lift, category code per item), cached on the recommender."""
    cached = getattr(recommender, "_category_lift", None)
    if cached is not None:
        return cached
    categories = recommender.catalog.categories.astype(str)
    names, codes = np.unique(categories, return_inverse=True)
    presence = recommender.history.presence
    onehot = sparse.csr_matrix(
        (np.ones(len(codes), dtype=np.float32), (np.arange(len(codes)), codes)),
        shape=(len(codes), len(names)),
    )
    users_categories = (presence @ onehot).tocsr()
    users_categories.data[:] = 1.0
    together = (users_categories.T @ users_categories).tocsr()
    counts = np.asarray(users_categories.sum(axis=0)).ravel()
    users = max(presence.shape[0], 1)
    rows = np.repeat(np.arange(together.shape[0]), np.diff(together.indptr))
    together.data = together.data * users / np.maximum(counts[rows] * counts[together.indices], 1e-9)
    # Only categories bought together more often than by chance, and by at least two customers.
    raw = (users_categories.T @ users_categories).tocsr()
    together.data[(together.data <= 1.0) | (raw.data < 2)] = 0.0
    together.setdiag(0)
    together.eliminate_zeros()
    # Empty category names are not a category.
    if "" in names:
        empty = int(np.flatnonzero(names == "")[0])
        keep = np.ones(together.shape[0], dtype=np.float32)
        keep[empty] = 0
        diagonal = sparse.diags(keep)
        together = (diagonal @ together @ diagonal).tocsr()
    recommender._category_lift = (together, codes)  # type: ignore[attr-defined]
    return together, codes


def build_bundle(
    recommender: Recommender,
    anchors: list[int],
    *,
    size: int = 4,
    budget: float | None = None,
    exclude: np.ndarray | None = None,
) -> Bundle:
    """A varied set of complements for the anchor positions, within `budget` when given.

    Relevance = co-occurrence with the anchors + complementary category (lift) + popularity. Items are
    picked greedily, MMR-style: each pick's relevance is lowered by `DIVERSITY_PENALTY` for every
    anchor or already chosen item of its category, so a strong same-category co-purchase (a refill
    with its pen) still makes the bundle while weak ones give way to other categories.
    """
    catalog = recommender.catalog
    similarity = recommender.similarity
    co = np.zeros(catalog.size, dtype=np.float32)
    for anchor in anchors:
        start, stop = similarity.indptr[anchor], similarity.indptr[anchor + 1]
        co[similarity.indices[start:stop]] += similarity.data[start:stop]
    co /= max(float(co.max(initial=0.0)), 1e-9)
    lift, codes = category_lift(recommender)
    complement = np.zeros(catalog.size, dtype=np.float32)
    anchor_codes = {int(codes[anchor]) for anchor in anchors}
    for code in anchor_codes:
        row = lift.getrow(code)
        if row.nnz:
            by_category = np.zeros(lift.shape[1], dtype=np.float32)
            by_category[row.indices] = np.log1p(row.data)
            complement = np.maximum(complement, by_category[codes])
    complement /= max(float(complement.max(initial=0.0)), 1e-9)
    popularity = recommender.scorers["popularity"].values
    parts = {
        "co_occurrence": CO_WEIGHT * co,
        # Complementary categories lift items customers demonstrably buy together most: an item of a
        # complementary category nobody bought with the anchor only fills what co-occurrence leaves.
        "complementary": COMPLEMENT_WEIGHT * complement * np.where(co > 0, 1.0, UNPROVEN_COMPLEMENT),
        "popularity": POPULARITY_WEIGHT * popularity,
    }
    relevance = parts["co_occurrence"] + parts["complementary"] + parts["popularity"]
    eligible = (co > 0) | (complement > 0)
    eligible[anchors] = False
    if exclude is not None and exclude.size:
        eligible[exclude] = False
    vectors = recommender.vectors
    if vectors is not None:
        closeness = (vectors @ vectors[anchors].T).max(axis=1)
        same_category = np.isin(codes, list(anchor_codes))
        # A near-duplicate nobody bought together with the anchor is a substitute, not a complement.
        eligible &= ~(same_category & (closeness >= SUBSTITUTE_COSINE) & (co <= 0))
    candidates = np.flatnonzero(eligible)
    candidates = candidates[np.lexsort((candidates, -relevance[candidates]))][:CANDIDATES]
    if budget is not None:
        prices = catalog.prices[candidates]
        candidates = candidates[~np.isnan(prices) & (prices <= budget)]
    candidate_codes = codes[candidates]
    # How many anchors or chosen items already share each candidate's category.
    repeats = np.isin(candidate_codes, list(anchor_codes)).astype(np.float32)
    open_ = np.ones(candidates.size, dtype=bool)
    chosen: list[BundleItem] = []
    remaining = budget
    presence = recommender.history.presence.tocsc()
    anchor_titles = [str(catalog.titles[anchor]) for anchor in anchors]
    while len(chosen) < size and open_.any():
        adjusted = np.where(open_, relevance[candidates] - DIVERSITY_PENALTY * repeats, -np.inf)
        # argmax takes the first of equal values: candidates are in relevance order, then position.
        best = int(np.argmax(adjusted))
        open_[best] = False
        p = int(candidates[best])
        price = catalog.prices[p]
        if remaining is not None:
            if price > remaining:
                continue
            remaining -= float(price)
        repeats[candidate_codes == candidate_codes[best]] += 1.0
        penalty = float(adjusted[best] - relevance[p])
        chosen.append(
            BundleItem(
                item_id=catalog.item_ids[p],
                score=round(float(adjusted[best]), 6),
                co_occurrence=round(float(parts["co_occurrence"][p]), 6),
                complementary=round(float(parts["complementary"][p]), 6),
                price=None if np.isnan(price) else float(price),
                reason=_bundle_reason(p, anchors, anchor_titles, co, presence, catalog),
                popularity=round(float(parts["popularity"][p]), 6),
                diversity=round(penalty, 6),
            )
        )
    prices = [item.price for item in chosen if item.price is not None]
    return Bundle(
        anchor_item_ids=[catalog.item_ids[anchor] for anchor in anchors],
        items=chosen,
        total_price=round(float(sum(prices)), 2) if prices else None,
        budget=budget,
    )


def _bundle_reason(
    position: int, anchors: list[int], anchor_titles: list[str], co: np.ndarray,
    presence: sparse.csc_matrix, catalog: object,
) -> str:
    if co[position] > 0:
        both = [
            int(presence.getcol(anchor).multiply(presence.getcol(position)).nnz) for anchor in anchors
        ]
        best = int(np.argmax(both))
        if both[best] > 0:
            who = "1 customer" if both[best] == 1 else f"{both[best]} customers"
            return f"{who} who chose '{anchor_titles[best][:50]}' also chose it."
        return f"Often chosen with '{anchor_titles[best][:50]}'."
    category = str(catalog.categories[position])  # type: ignore[attr-defined]
    return f"Completes the set: customers of this category often buy from '{category}'."


def bundle_for_item_id(
    recommender: Recommender, item_id: str, *, size: int = 4, budget: float | None = None
) -> Bundle:
    position = recommender.catalog.positions.get(str(item_id))
    if position is None:
        raise NotFoundError(f"No product with id {item_id!r} in this workspace.")
    return build_bundle(recommender, [position], size=size, budget=budget)


def bundle_for_user_id(
    recommender: Recommender, user_id: str, *, size: int = 4, budget: float | None = None, anchors: int = 3
) -> Bundle:
    """Complements of the user's strongest recent purchases; items they have are left out."""
    history = recommender.user_history(user_id)
    if history.size == 0:
        raise NotFoundError(
            f"Customer {user_id!r} has no history to build a bundle from.",
            hint="Pick a customer with purchases or reviews, or build a bundle for a product.",
        )
    liked = history.positions[history.affinity > 0]
    chosen = [int(p) for p in liked[:anchors]] or [int(history.positions[0])]
    return build_bundle(recommender, chosen, size=size, budget=budget, exclude=history.positions)


def bundle_for_item(workspace: Workspace, item_id: str, *, size: int = 4, budget: float | None = None) -> Bundle:
    """Frequently bought together / complete the set for a product of a workspace."""
    from recengine.recommend.workspace_model import recommender_for

    return bundle_for_item_id(recommender_for(workspace), item_id, size=size, budget=budget)


def bundle_for_user(workspace: Workspace, user_id: str, *, size: int = 4, budget: float | None = None) -> Bundle:
    """A bundle completing a customer's recent purchases."""
    from recengine.recommend.workspace_model import recommender_for

    return bundle_for_user_id(recommender_for(workspace), user_id, size=size, budget=budget)
