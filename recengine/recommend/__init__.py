"""Explainable hybrid recommendations: profiles, candidates, scoring, rules, explanations.

Public API:
    Recommender.fit(items, interactions, item_vectors, settings, keywords=None, sentiment=None)
    Recommender.from_workspace(workspace)
    recommender.recommend(user_id, k=10, rules=None, exclude_seen=True) -> list[Recommendation]
    recommender.score_items(user_id) -> np.ndarray over recommender.item_ids
    similar_items(workspace, item_id, k),
    search_items(workspace, query, user_id=None, k) -> SearchResponse (intent read, hits, what was relaxed),
    parse_query(text, vocabulary) -> QueryIntent (see intent.py), recommend_for_intent(recommender, text, k),
    bundle_for_item(workspace, item_id, budget=None), bundle_for_user(workspace, user_id, budget=None)
"""

from __future__ import annotations

from recengine.recommend.intent import (
    ENGLISH,
    CatalogVocabulary,
    Constraint,
    IntentRules,
    QueryIntent,
    parse_query,
)
from recengine.recommend.intent_match import TextRecommendations, intent_for, recommend_for_intent
from recengine.recommend.recommender import Recommender, parse_budget
from recengine.recommend.results import (
    BecauseItem,
    BorrowedItem,
    Bundle,
    BundleItem,
    Explanation,
    ProfileSummary,
    Recommendation,
    SearchResult,
    SimilarItem,
    WhyNot,
)
from recengine.recommend.rules import (
    BoostRule,
    Diversity,
    ExcludeItems,
    HideOutOfStock,
    MinimumShare,
    NewArrivals,
    PinItem,
    RuleSet,
)
from recengine.recommend.scoring import COMPONENTS

__all__ = [
    "COMPONENTS",
    "ENGLISH",
    "CatalogVocabulary",
    "Constraint",
    "IntentRules",
    "QueryIntent",
    "TextRecommendations",
    "intent_for",
    "parse_query",
    "recommend_for_intent",
    "BecauseItem",
    "BorrowedItem",
    "BoostRule",
    "Bundle",
    "BundleItem",
    "Diversity",
    "ExcludeItems",
    "Explanation",
    "HideOutOfStock",
    "MinimumShare",
    "NewArrivals",
    "PinItem",
    "ProfileSummary",
    "Recommendation",
    "Recommender",
    "RuleSet",
    "SearchResult",
    "SimilarItem",
    "WhyNot",
    "bundle_for_item",
    "bundle_for_user",
    "parse_budget",
    "search_items",
    "similar_items",
]


def __getattr__(name: str) -> object:
    # Workspace-level helpers live in their own modules; import them on first use.
    if name == "similar_items":
        from recengine.recommend.similar import similar_items

        return similar_items
    if name == "search_items":
        from recengine.recommend.search import search_items

        return search_items
    if name in ("bundle_for_item", "bundle_for_user"):
        from recengine.recommend import bundles

        return getattr(bundles, name)
    raise AttributeError(name)
