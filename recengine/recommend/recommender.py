"""The Recommender: fitted once on frames (or a workspace), then answers per-user requests quickly.

`fit` does all the heavy work (history aggregation, item-item similarity, item statistics, vector
alignment, the clustered vector scan) so that one user's top-10 with explanations is a few sparse
gathers and small matrix products.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy import sparse

from recengine.config import RecommendSettings
from recengine.errors import NotReadyError
from recengine.progress import Progress, no_progress
from recengine.recommend.attribution import ListToExplain
from recengine.recommend.candidates import merge_candidates
from recengine.recommend.catalog import Catalog
from recengine.recommend.collaborative import ease_similarity, item_similarity
from recengine.recommend.explain import (
    ExplainContext,
    ListLinks,
    components_dicts,
    explain,
    lists_links,
)
from recengine.recommend.interactions import build_history
from recengine.recommend.new_products import (
    BorrowedSignal,
    borrow_from_text,
    with_borrowed_columns,
    with_borrowed_values,
)
from recengine.recommend.profile import (
    UserHistory,
    UserProfile,
    build_profile,
    profile_from_vector,
    summarise_profile,
)
from recengine.recommend.protocols import CandidateSource, UserContext
from recengine.recommend.results import ProfileSummary, Recommendation, WhyNot
from recengine.recommend.review_content import review_means, usable, with_review_text
from recengine.recommend.rules import (
    BoostRule,
    Diversity,
    NewArrivals,
    RuledList,
    RuleSet,
    apply_rules,
    new_arrivals_from_settings,
)
from recengine.recommend.scoring import (
    COMPONENTS,
    CollaborativeScorer,
    HybridScorer,
    SemanticScorer,
    StaticScorer,
    popularity_values,
    quality_values,
    recency_values,
    weights_from_settings,
)
from recengine.recommend.threads import single_blas_thread
from recengine.recommend.vector_search import ItemIndexLike, VectorSearch
from recengine.recommend.why_not import explain_why_not

_PROFILE_CACHE_SIZE = 4096
_Rendered = TypeVar("_Rendered")


@dataclass(frozen=True)
class _RankedList:
    """One customer's final top-k (after rules), before its explanations."""

    profile: UserProfile
    ruled: RuledList


class Recommender:
    """Hybrid, explainable recommender. Build with `fit` or `from_workspace`."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        settings: RecommendSettings,
        history: Any,
        statistics: Any,
        similarity: sparse.csr_matrix,
        vectors: np.ndarray | None,
        collaborative: sparse.csr_matrix | None = None,
        search: VectorSearch | None,
        keywords: Mapping[str, Sequence[str]],
        encode_query: Callable[[str], np.ndarray] | None = None,
        fingerprint: str = "",
        review_text_items: int = 0,
        collaborative_method: str = "co-occurrence",
        borrowed: BorrowedSignal | None = None,
    ) -> None:
        self.catalog = catalog
        self.settings = settings
        self.history = history
        self.statistics = statistics
        self.similarity = similarity  # co-occurrence: explanations, similar items and bundles read it
        self.borrowed = borrowed if borrowed is not None else BorrowedSignal.none(catalog.size)
        # What the collaborative component scores with: EASE weights when configured, else co-occurrence;
        # the scorer adds new products' scores from their sources' (new_products.py). The same signal
        # with the new products' columns borrowed is the matrix the attribution reads entries from.
        signal = similarity if collaborative is None else collaborative
        self.collaborative = with_borrowed_columns(signal, self.borrowed)
        # Sorted column indices let the attribution find matrix entries by binary search (every reader of
        # this matrix scatters its rows, so their order changes no score); sorted here, before an export
        # forks its workers, so they share the arrays instead of each sorting a copy.
        if not self.collaborative.has_sorted_indices:
            self.collaborative.sort_indices()
        self.collaborative_method = collaborative_method
        self.vectors = vectors
        self.search = search
        self.keywords = dict(keywords)
        self.encode_query = encode_query
        self.fingerprint = fingerprint
        self.review_text_items = review_text_items  # items whose vector includes their reviews' text
        quality, stars = quality_values(statistics, settings.quality_prior_reviews)
        self.stars = stars
        self.scorers: dict[str, Any] = {
            "semantic": SemanticScorer(vectors, search),
            "collaborative": CollaborativeScorer(signal, self.borrowed),
            "popularity": StaticScorer("popularity", with_borrowed_values(popularity_values(statistics), self.borrowed)),
            "quality": StaticScorer("quality", quality),
            "recency": StaticScorer("recency", recency_values(statistics)),
        }
        self.sources: list[CandidateSource] = [
            self.scorers["collaborative"],
            self.scorers["semantic"],
            self.scorers["popularity"],
            self.scorers["recency"],
        ]
        self.hybrid = HybridScorer(self.scorers)
        self.explain_context = ExplainContext(
            catalog=catalog,
            vectors=vectors,
            similarity=similarity,
            collaborative=self.collaborative,
            collaborative_method=self.collaborative_method,
            keywords=self.keywords,
            customers=statistics.customers,
            stars=stars,
            rating_count=statistics.rating_count,
            has_vector=(np.linalg.norm(vectors, axis=1) > 0) if vectors is not None else np.zeros(catalog.size, dtype=bool),
            borrowed=self.borrowed,
        )
        # The dashboard shares one fitted model between sessions (threads): guard the profile cache.
        self._profiles: OrderedDict[str, UserProfile] = OrderedDict()
        self._profiles_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """What a copy in another process gets (Ray's object store ships one fitted model to workers).

        Not the lock, the profile cache (rebuilt on demand) or `encode_query` (it holds the workspace and
        an encoder): a copy recommends for customers exactly as the original; typed interests and
        search need a model fitted where the encoder is.
        """
        state = self.__dict__.copy()
        del state["_profiles_lock"]
        state["_profiles"] = OrderedDict()
        state["encode_query"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._profiles_lock = threading.Lock()

    # -- construction ----------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        items: pd.DataFrame,
        interactions: pd.DataFrame,
        item_vectors: Any | None = None,
        settings: RecommendSettings | None = None,
        keywords: Mapping[str, Sequence[str]] | None = None,
        sentiment: pd.DataFrame | None = None,
        *,
        anonymous_ratings: pd.DataFrame | None = None,
        item_index: ItemIndexLike | None = None,
        encode_query: Callable[[str], np.ndarray] | None = None,
        review_vectors: Any | None = None,
        progress: Progress | None = None,
    ) -> Recommender:
        """Fit on frames.

        Args:
            items: catalog with item_id and optionally title, brand, category, price, in_stock.
            interactions: user_id, item_id, and optionally event (view|click|cart|purchase|review),
                rating, timestamp, weight, review_id.
            item_vectors: ItemVectors-like (item_ids, vectors) or None (no semantic component).
            settings: weights, half-lives, candidate counts (defaults when None).
            keywords: item_id -> key phrases of its reviews (recengine.text.item_keywords).
            sentiment: (review_id, sentiment_score) to weigh reviews by what they say.
            anonymous_ratings: (item_id, rating) of reviews without a user, for item quality.
            item_index: recengine.index.ItemIndex for semantic candidates (optional).
            encode_query: text -> vector, for typed interests and search.
            review_vectors: ReviewVectors-like (review_ids, vectors) of the same encoder: each item's
                vector then also holds the mean of its reviews' vectors (`review_vector_weight`; only
                reviews among `interactions` and `anonymous_ratings` count).
            progress: callback.
        """
        settings = settings or RecommendSettings()
        report = progress or no_progress
        report(0.0, "reading catalog")
        interaction_items = interactions["item_id"].dropna().astype(str).unique() if len(interactions) else []
        catalog = Catalog.from_frame(items, interaction_items)
        report(0.15, "aggregating history")
        history, statistics = build_history(
            interactions, catalog.positions, settings, sentiment, anonymous_ratings
        )
        catalog = catalog.with_first_seen(items, interactions, statistics.newest_day)
        report(0.4, "item-to-item similarity")
        similarity = item_similarity(
            history.presence,
            alpha=settings.collaborative_alpha,
            shrink=settings.collaborative_shrink,
            neighbours=settings.collaborative_neighbours,
        )
        collaborative = None
        collaborative_method = "co-occurrence"
        if settings.collaborative_ease_l2 > 0:
            report(0.55, "EASE item weights")
            collaborative = ease_similarity(
                history.presence,
                l2=settings.collaborative_ease_l2,
                neighbours=settings.collaborative_neighbours,
                max_items=settings.collaborative_ease_max_items,
            )
            if collaborative is not None:  # None: too many products for EASE, co-occurrence it is
                collaborative_method = "EASE"
        report(0.7, "aligning item vectors")
        vectors, fingerprint = _align_vectors(item_vectors, catalog)
        # A new product has catalog text only: it is compared with the others' catalog text (like with like).
        report(0.8, "new products borrow from their text neighbours")
        borrowed = borrow_from_text(
            vectors,
            np.asarray(history.presence.getnnz(axis=0)) > 0,
            neighbours=settings.new_product_neighbours,
            min_cosine=settings.new_product_min_cosine,
        )
        review_text_items = 0
        if vectors is not None and settings.review_vector_weight > 0 and usable(review_vectors, fingerprint, vectors.shape[1]):
            reviewed = interactions
            if anonymous_ratings is not None and "review_id" in anonymous_ratings.columns and len(anonymous_ratings):
                reviewed = pd.concat([interactions, anonymous_ratings], ignore_index=True)
            means, counts = review_means(reviewed, review_vectors, catalog.positions, catalog.size)
            review_text_items = int(np.count_nonzero(counts))
            if review_text_items:
                vectors = with_review_text(vectors, means, settings.review_vector_weight)
                item_index = None  # the workspace's FAISS index holds the catalog-text vectors
        search = None
        if vectors is not None:
            search = VectorSearch(
                vectors, catalog.item_ids, coarse_above=settings.coarse_search_above, item_index=item_index
            )
        report(1.0, "recommender ready")
        return cls(
            catalog=catalog,
            settings=settings,
            history=history,
            statistics=statistics,
            similarity=similarity,
            collaborative=collaborative,
            vectors=vectors,
            search=search,
            keywords=keywords or {},
            encode_query=encode_query,
            fingerprint=fingerprint,
            review_text_items=review_text_items,
            collaborative_method=collaborative_method,
            borrowed=borrowed,
        )

    @classmethod
    def from_workspace(
        cls, workspace: Any, *, settings: RecommendSettings | None = None, progress: Progress | None = None
    ) -> Recommender:
        """Fit on everything in a workspace (cached per data version; see workspace_model)."""
        from recengine.recommend.workspace_model import recommender_for

        return recommender_for(workspace, settings=settings, progress=progress)

    # -- users -----------------------------------------------------------------------------------

    @property
    def item_ids(self) -> list[str]:
        """Item ids in the order of `score_items`."""
        return self.catalog.item_ids

    @property
    def user_ids(self) -> list[str]:
        return self.history.user_ids

    def has_user(self, user_id: str) -> bool:
        return str(user_id) in self.history.user_positions

    def user_history(self, user_id: str) -> UserHistory:
        """The user's history, strongest affinity first (empty for unknown users)."""
        row = self.history.user_positions.get(str(user_id))
        if row is None:
            return UserHistory.empty(str(user_id))
        history = self.history
        start, stop = int(history.offsets[row]), int(history.offsets[row + 1])
        affinity = history.pair_affinity[start:stop]
        order = np.argsort(-np.abs(affinity), kind="stable")
        return UserHistory(
            user_id=str(user_id),
            positions=history.pair_items[start:stop][order],
            affinity=affinity[order],
            confidence=history.pair_confidence[start:stop][order],
            ratings=history.pair_ratings[start:stop][order],
            events=history.pair_events[start:stop][order],
        )

    def profile(self, user_id: str) -> UserProfile:
        """Interest vectors of a user from their history (cached)."""
        key = str(user_id)
        with self._profiles_lock:
            cached = self._profiles.get(key)
            if cached is not None:
                self._profiles.move_to_end(key)
                return cached
        profile = self.profile_from_history(self.user_history(key))
        with self._profiles_lock:
            self._profiles[key] = profile
            if len(self._profiles) > _PROFILE_CACHE_SIZE:
                self._profiles.popitem(last=False)
        return profile

    def profile_from_history(self, history: UserHistory) -> UserProfile:
        """Interest vectors of any history (not cached): counterfactual histories of the faithfulness
        evaluation are profiled exactly as customers are."""
        return build_profile(
            history,
            self.vectors,
            max_interests=self.settings.max_interests,
            dislike_push=self.settings.dislike_push,
            merge_cosine=self.settings.interest_merge_cosine,
        )

    def profile_summary(self, user_id: str, *, aspects: list[str] | None = None) -> ProfileSummary:
        """Top categories, brands, price band of a user's history."""
        return summarise_profile(self.profile(user_id), self.catalog, aspects=aspects)

    def text_profile(self, text: str, user_id: str = "") -> UserProfile:
        """A profile from staff-typed interests ("likes jazz on vinyl"), via the query encoder."""
        if self.encode_query is None or self.vectors is None:
            raise NotReadyError(
                "Typed interests need item embeddings and a query encoder.",
                hint="Run `recengine embed` first (or fit with item_vectors and encode_query).",
            )
        return profile_from_vector(self.encode_query(text), user_id)

    # -- recommending ----------------------------------------------------------------------------

    def _context(self, profile: UserProfile, segment: str | None) -> UserContext:
        mask = self.catalog.category_mask(segment) if segment else None
        return UserContext(profile=profile, item_count=self.catalog.size, segment_mask=mask)

    def recommend(
        self,
        user_id: str,
        k: int = 10,
        *,
        rules: RuleSet | None = None,
        exclude_seen: bool = True,
        weights: Mapping[str, float] | None = None,
        segment: str | None = None,
        profile: UserProfile | None = None,
    ) -> list[Recommendation]:
        """Top-k items for a user, each with its explanation.

        Unknown users (or users with no usable history) get the cold-start list: popular and
        trending items, of `segment` (a category) when given.

        Args:
            user_id: the customer.
            k: list length.
            rules: business rules (None = no rules apart from settings.diversity_lambda).
            exclude_seen: leave out items the user already interacted with.
            weights: per-call component weights overriding the settings.
            segment: category whose popular items serve cold-start users.
            profile: use this profile instead of the user's (typed interests).
        """
        with single_blas_thread():
            ranked = self._ranked(user_id, k, rules=rules, exclude_seen=exclude_seen, weights=weights,
                                  segment=segment, profile=profile)
            return self._explained([ranked])[0]

    def top_items(self, user_id: str, k: int = 10, *, rules: RuleSet | None = None) -> list[str]:
        """The item ids `recommend(user_id, k, rules=rules)` lists, in its order, without explaining them
        (what an evaluation reads; the explanations are a large part of a list's cost)."""
        with single_blas_thread():
            ranked = self._ranked(user_id, k, rules=rules, exclude_seen=True, weights=None, segment=None,
                                  profile=None)
        return [] if ranked is None else [self.catalog.item_ids[position] for position in ranked.ruled.positions]

    def recommend_chunk(
        self,
        user_ids: Sequence[str],
        k: int = 10,
        *,
        rules: RuleSet | None = None,
        weights: Mapping[str, float] | None = None,
    ) -> list[list[Recommendation]]:
        """`recommend(user_id, k, rules=rules, weights=weights)` for each of `user_ids`, the same lists,
        with the attributions of all the lists split together (the batch export's path: per-list numpy
        calls would cost more than their arithmetic)."""
        with single_blas_thread():
            ranked = [
                self._ranked(str(user_id), k, rules=rules, exclude_seen=True, weights=weights, segment=None,
                             profile=None)
                for user_id in user_ids
            ]
            return self._explained(ranked)

    def _ranked(
        self,
        user_id: str,
        k: int,
        *,
        rules: RuleSet | None,
        exclude_seen: bool,
        weights: Mapping[str, float] | None,
        segment: str | None,
        profile: UserProfile | None,
    ) -> _RankedList | None:
        """The final top-k of one customer before its explanations (None when nothing can be listed)."""
        if k <= 0:
            return None
        profile = profile or self.profile(user_id)
        weights_used = weights_from_settings(self.settings, weights)
        context = self._context(profile, segment)
        candidates = merge_candidates(self.sources, context, self.settings.candidates_per_source)
        if not exclude_seen and context.history_positions.size:
            candidates = np.unique(np.concatenate([candidates, context.history_positions]))
        if candidates.size < k:
            # Tiny catalogs: rank everything that is left rather than return a short list.
            pool = np.arange(self.catalog.size)
            if exclude_seen:
                pool = pool[~context.history_mask()]
            candidates = np.unique(np.concatenate([candidates, pool]))
        if context.segment_mask is not None:
            # A segment (cold start) limits the list to its category, whatever the sources proposed.
            candidates = candidates[context.segment_mask[candidates]]
        if candidates.size == 0:
            return None
        rule_set = self._effective_rules(rules)
        boosted = self._boosted_candidates(rule_set, context, weights_used, k, exclude_seen)
        if boosted.size:
            candidates = np.unique(np.concatenate([candidates, boosted]))
        totals, components = self.hybrid.score(context, candidates, weights_used)
        order = np.lexsort((candidates, -totals))
        ruled = apply_rules(
            rule_set,
            positions=candidates[order],
            totals=totals[order],
            components=components[order],
            k=k,
            catalog=self.catalog,
            vectors=self.vectors,
            score_positions=lambda positions: self.hybrid.score(context, positions, weights_used),
            pool_of=lambda mask, count: self._mask_pool(context, weights_used, mask, count, exclude_seen),
        )
        return _RankedList(profile, ruled)

    def _explained(self, ranked: Sequence[_RankedList | None]) -> list[list[Recommendation]]:
        """The recommendations of ranked lists, explained; the attributions of all of them split at once."""
        listed = [entry for entry in ranked if entry is not None]
        components = [np.array([entry.ruled.components[position] for position in entry.ruled.positions]) for entry in listed]
        links = lists_links(
            [ListToExplain(entry.ruled.positions, block, entry.profile) for entry, block in zip(listed, components, strict=True)],
            self.explain_context,
        )
        made = iter(
            self._recommendations(entry, found, block)
            for entry, found, block in zip(listed, links, components, strict=True)
        )
        return [[] if entry is None else next(made) for entry in ranked]

    def _recommendations(self, ranked: _RankedList, links: ListLinks, components: np.ndarray) -> list[Recommendation]:
        """One ranked list's recommendations, each explained from the list's links; `components` holds
        the listed products' weighted components, a row each (named and rounded for the whole list)."""
        ruled, profile = ranked.ruled, ranked.profile
        deltas = [ruled.rule_delta.get(position, 0.0) for position in ruled.positions]
        named = components_dicts(components, deltas)
        recommendations = []
        for rank, position in enumerate(ruled.positions, start=1):
            explanation = explain(
                position,
                components=components[rank - 1],
                rule_delta=deltas[rank - 1],
                rule_notes=ruled.notes.get(position, []),
                profile=profile,
                context=self.explain_context,
                links=links,
                column=rank - 1,
                named=named[rank - 1],
            )
            score = round(sum(explanation.components.values()), 6)
            recommendations.append(
                Recommendation.of(self.catalog.item_ids[position], rank, score, explanation)
            )
        return recommendations

    def recommend_for_text(
        self,
        text: str,
        k: int = 10,
        *,
        rules: RuleSet | None = None,
        weights: Mapping[str, float] | None = None,
        apply_budget: bool = True,
    ) -> list[Recommendation]:
        """Cold start from staff-typed interests, reading their price limits, rating, exclusions and the
        categories and brands they name (`intent_match.recommend_for_intent`, which also returns the
        intent and what had to be relaxed); `apply_budget=False` reads the text as plain words."""
        from recengine.recommend.intent import QueryIntent
        from recengine.recommend.intent_match import recommend_for_intent

        intent = None if apply_budget else QueryIntent.literal(text)
        return recommend_for_intent(self, text, k, intent=intent, rules=rules, weights=weights).recommendations

    def recommend_many(
        self, user_ids: Iterable[str], k: int = 10, *, rules: RuleSet | None = None,
        weights: Mapping[str, float] | None = None, progress: Progress | None = None,
        workers: int | None = 1,
    ) -> Iterable[tuple[str, list[Recommendation]]]:
        """Recommendations for many users, in order (a generator, so exports stream).

        Args:
            workers: processes to spread the users over (None = one per core; see batch.py).
        """
        from recengine.recommend.batch import user_and_list

        return self.render_many(user_ids, user_and_list, k, rules=rules, weights=weights, progress=progress,
                                workers=workers)

    def render_many(
        self, user_ids: Iterable[str], render: Callable[[str, list[Recommendation]], _Rendered], k: int = 10, *,
        rules: RuleSet | None = None, weights: Mapping[str, float] | None = None, progress: Progress | None = None,
        workers: int | None = 1,
    ) -> Iterable[_Rendered]:
        """`render(user_id, recommendations)` for many users, in order, rendered where they are computed
        (in the worker processes): what exports write (`cli.recommend.jsonl_line`), without pickling the
        explained records back to this process.

        Args:
            workers: processes to spread the users over (None = one per core; see batch.py).
        """
        from recengine.recommend.batch import recommend_batch

        return recommend_batch(
            self, list(user_ids), k, rules=rules, weights=weights, workers=workers, progress=progress, render=render
        )

    def score_items(
        self, user_id: str, *, weights: Mapping[str, float] | None = None, exclude_seen: bool = True
    ) -> np.ndarray:
        """Hybrid score of every item (order of `item_ids`) for full-ranking evaluation.

        Items the user has already interacted with get -inf when `exclude_seen` (the default, like
        `recommend`). Rules are not applied.
        """
        profile = self.profile(user_id)
        context = self._context(profile, None)
        totals, _ = self.hybrid.score(context, None, weights_from_settings(self.settings, weights))
        if exclude_seen and context.history_positions.size:
            totals = totals.copy()
            totals[context.history_positions] = -np.inf
        return totals

    def score_users(
        self, user_ids: Sequence[str], *, weights: Mapping[str, float] | None = None, batch_size: int = 128
    ) -> np.ndarray:
        """`score_items` for many users at once, (users, items) float32, vectorised in batches.

        Unlike `score_items`, seen items keep their score: the evaluation removes them itself.
        """
        weights_used = weights_from_settings(self.settings, weights)
        ids = [str(user_id) for user_id in user_ids]
        result = np.zeros((len(ids), self.catalog.size), dtype=np.float32)
        static = np.zeros(self.catalog.size, dtype=np.float32)
        for name in ("popularity", "quality", "recency"):
            static += weights_used[name] * self.scorers[name].values
        for start in range(0, len(ids), batch_size):
            batch = ids[start : start + batch_size]
            rows = [self.history.user_positions.get(user_id, -1) for user_id in batch]
            known = np.array([row >= 0 for row in rows])
            block = np.zeros((len(batch), self.catalog.size), dtype=np.float32)
            seen = sparse.csr_matrix((len(batch), self.catalog.size), dtype=np.float32)
            if known.any():
                picked = np.array([row for row in rows if row >= 0], dtype=np.int64)
                confidence = self.history.confidence[picked].astype(np.float32)
                seen_known = confidence.copy()
                seen_known.data[:] = 1.0
                seen = sparse.vstack(
                    [seen_known[int(known[:index].sum())] if known[index] else sparse.csr_matrix((1, self.catalog.size))
                     for index in range(len(batch))]
                ).tocsr()
                if weights_used["collaborative"]:
                    collaborative = np.asarray((confidence @ self.collaborative).todense(), dtype=np.float32)
                    masked = np.where(np.asarray(seen_known.todense()) > 0, 0.0, collaborative)
                    norm = np.maximum(masked.max(axis=1, keepdims=True), 1e-9)
                    block[known] += weights_used["collaborative"] * np.clip(collaborative / norm, 0, 1)
            seen_dense = np.asarray(seen.todense()) > 0
            if weights_used["semantic"] and self.vectors is not None:
                profiles = [self.profile(user_id) for user_id in batch]
                stacked = [profile.interests for profile in profiles if profile.has_interests]
                if stacked:
                    similarity = self.vectors @ np.vstack(stacked).T  # (items, all interests)
                    column = 0
                    for index, profile in enumerate(profiles):
                        if not profile.has_interests:
                            continue
                        width = profile.interests.shape[0]
                        raw = similarity[:, column : column + width].max(axis=1)
                        column += width
                        unseen = raw[~seen_dense[index]]
                        norm = max(float(unseen.max()) if unseen.size else 0.0, 1e-9)
                        block[index] += weights_used["semantic"] * np.clip(raw / norm, 0, 1)
            result[start : start + len(batch)] = block + static
        return result

    def component_scores(self, user_id: str, weights: Mapping[str, float] | None = None) -> pd.DataFrame:
        """Every item's weighted components and total for a user (analysis and the dashboard)."""
        profile = self.profile(user_id)
        context = self._context(profile, None)
        totals, components = self.hybrid.score(context, None, weights_from_settings(self.settings, weights))
        frame = pd.DataFrame(components, columns=list(COMPONENTS))
        frame.insert(0, "item_id", self.catalog.item_ids)
        frame["score"] = totals
        frame["seen"] = context.history_mask()
        return frame

    def why_not(
        self,
        user_id: str,
        item_id: str,
        k: int = 10,
        *,
        rules: RuleSet | None = None,
        weights: Mapping[str, float] | None = None,
        exclude_seen: bool = True,
    ) -> WhyNot:
        """Where `item_id` ranks for the user and which component or rule held it back."""
        with single_blas_thread():
            return explain_why_not(self, user_id, item_id, k, rules=rules, weights=weights, exclude_seen=exclude_seen)

    # -- helpers ---------------------------------------------------------------------------------

    def _effective_rules(self, rules: RuleSet | None) -> RuleSet:
        rule_set = rules or RuleSet()
        has_diversity = any(isinstance(rule, Diversity) for rule in rule_set.rules)
        if rule_set.enabled and not has_diversity and self.settings.diversity_lambda < 1:
            rule_set = rule_set.with_rule(Diversity(self.settings.diversity_lambda))
        has_new_arrivals = any(isinstance(rule, NewArrivals) for rule in rule_set.rules)
        if rule_set.enabled and not has_new_arrivals and self.settings.new_arrivals_days > 0:
            rule_set = rule_set.with_rule(new_arrivals_from_settings(self.settings))
        return rule_set

    def _boosted_candidates(
        self, rule_set: RuleSet, context: UserContext, weights: Mapping[str, float], k: int, exclude_seen: bool
    ) -> np.ndarray:
        """The best items matching each positive boost, so a boost can lift items beyond the candidates."""
        found = []
        for rule in rule_set.active():
            if isinstance(rule, BoostRule) and rule.amount > 0:
                mask = rule.matches(self.catalog)
                if exclude_seen:
                    mask = mask & ~context.history_mask()
                positions = np.flatnonzero(mask)
                if positions.size > 20 * k:
                    # Rank a large matching set by the user-independent signals first (cheap).
                    static = self.scorers["popularity"].values[positions] + self.scorers["recency"].values[positions]
                    positions = positions[np.argpartition(-static, 20 * k - 1)[: 20 * k]]
                if positions.size:
                    totals, _ = self.hybrid.score(context, positions, weights)
                    found.append(positions[np.argsort(-totals, kind="stable")[:k]])
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def _mask_pool(
        self, context: UserContext, weights: Mapping[str, float], mask: np.ndarray, count: int, exclude_seen: bool
    ) -> np.ndarray:
        """The `count` best-scoring items of `mask` for this user (rules that promote a group read it)."""
        mask = mask.copy()
        if exclude_seen:
            mask &= ~context.history_mask()
        positions = np.flatnonzero(mask)
        if positions.size == 0:
            return positions
        totals, _ = self.hybrid.score(context, positions, weights)
        return positions[np.argsort(-totals, kind="stable")[:count]]


def parse_budget(text: str) -> float | None:
    """'budget under $20' -> 20.0: the lowest upper price limit the text states (None when it states none)."""
    from recengine.recommend.intent import parse_query

    limits = [limit.high for limit in parse_query(text or "").of_kind("price") if limit.high is not None]
    return min(limits) if limits else None


def _align_vectors(item_vectors: Any | None, catalog: Catalog) -> tuple[np.ndarray | None, str]:
    """Item vectors in catalog order, unit rows; zeros for items without a vector."""
    if item_vectors is None:
        return None, ""
    ids = [str(item_id) for item_id in item_vectors.item_ids]
    source = np.asarray(item_vectors.vectors, dtype=np.float32)
    if source.ndim != 2 or len(ids) != len(source):
        raise NotReadyError("Item vectors do not match their item ids.", hint="Re-run `recengine embed`.")
    vectors = np.zeros((catalog.size, source.shape[1]), dtype=np.float32)
    rows = np.array([catalog.positions.get(item_id, -1) for item_id in ids], dtype=np.int64)
    known = rows >= 0
    vectors[rows[known]] = source[known]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    if not known.any():
        return None, ""
    return np.ascontiguousarray(vectors), str(getattr(item_vectors, "fingerprint", ""))
