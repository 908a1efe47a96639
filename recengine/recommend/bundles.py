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

CO_WEIGHT, COMPLEMENT_WEIGHT, POPULARITY_WEIGHT = 0.6, 0.3, 0.1
SUBSTITUTE_COSINE = 0.92


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
    """A varied set of complements for the anchor positions, within `budget` when given."""
    catalog = recommender.catalog
    co = np.zeros(catalog.size, dtype=np.float32)
    for anchor in anchors:
        row = recommender.similarity.getrow(anchor)
        co[row.indices] += row.data
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
    score = CO_WEIGHT * co + COMPLEMENT_WEIGHT * complement + POPULARITY_WEIGHT * popularity
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
    candidates = candidates[np.lexsort((candidates, -score[candidates]))][:500]
    chosen: list[BundleItem] = []
    taken: set[int] = set()
    remaining = budget
    presence = recommender.history.presence.tocsc()
    anchor_titles = [str(catalog.titles[anchor]) for anchor in anchors]
    # First pass: one item per category (varied); second pass: fill what is left with the best.
    for varied in (True, False):
        used_categories = {int(codes[p]) for p in taken} | (anchor_codes if varied else set())
        for p in candidates:
            if len(chosen) >= size:
                break
            code = int(codes[p])
            if int(p) in taken or (varied and code in used_categories):
                continue
            price = catalog.prices[p]
            if remaining is not None:
                if np.isnan(price) or price > remaining:
                    continue
                remaining -= float(price)
            used_categories.add(code)
            taken.add(int(p))
            chosen.append(
                BundleItem(
                    item_id=catalog.item_ids[int(p)],
                    score=round(float(score[p]), 6),
                    co_occurrence=round(float(CO_WEIGHT * co[p]), 6),
                    complementary=round(float(COMPLEMENT_WEIGHT * complement[p]), 6),
                    price=None if np.isnan(price) else float(price),
                    reason=_bundle_reason(int(p), anchors, anchor_titles, co, presence, catalog),
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
