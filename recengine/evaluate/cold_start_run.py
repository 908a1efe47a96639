"""The cold-start product evaluation of a workspace or data set: every method, both measurements.

Among new products: random, TF-IDF, the active encoder (and other registry versions), TF-IDF fused with
the encoder, a linear map from text vectors onto the collaborative signal, and the hybrid itself. On the
whole catalog: ItemKNN, the hybrid as it was before new products borrowed a collaborative estimate, the
hybrid as it is, the hybrid under the new-arrivals rule at a few shares of the list, and the hybrid with
its new-product slots filled by the best content ranking (`cold_start_lists`), each tested against the
hybrid. See `cold_start` for the split and the metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recengine.evaluate.baselines import (
    EmbeddingProfile,
    FusedProfile,
    HybridRanker,
    InteractionMatrix,
    ItemKNN,
    RandomRanker,
    Ranker,
    TfidfProfile,
    _dense,
    _normalise_rows,
    align_vectors,
)
from recengine.evaluate.cold_start import (
    RECALL_K,
    ColdStartResult,
    ColdStartSplit,
    new_products_split,
    rank_new_products,
    whole_catalog,
)
from recengine.evaluate.cold_start_lists import ContentChoiceHybrid, RuledHybrid, new_arrivals_rules
from recengine.evaluate.data import EvaluationData, from_workspace
from recengine.progress import Progress, no_progress

if TYPE_CHECKING:
    from recengine.workspace import Workspace

FUSION_TFIDF_SHARE = 0.5  # tuned on Magazine (all ratings) seed 0; the same share on Gift Cards (EVALUATION.md)
RIDGE_L2 = 1.0
# Minimum shares of each list the new-arrivals rule is measured at (the merchandiser's curve, issue #21).
NEW_ARRIVAL_SHARES = (0.1, 0.25, 0.5)


class TextToCollaborative:
    """A linear map from item text vectors onto the item-item collaborative signal (content -> CF).

    Fitted by ridge regression on the products with interactions: W = argmin ||X W - S||² + l2 ||W||²
    with X their text vectors and S their rows of the ItemKNN cosine matrix. A new product's estimated
    similarity to every product is then its text vector times W, and a customer's score sums that over
    their history, as ItemKNN does for products with interactions.
    """

    name = "Text -> collaborative map"

    def __init__(self, item_ids: Sequence[str], vectors: np.ndarray, *, l2: float = RIDGE_L2) -> None:
        self.vector_ids = [str(item_id) for item_id in item_ids]
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.l2 = l2

    def fit(self, train: pd.DataFrame, items: pd.DataFrame) -> TextToCollaborative:
        self.data = InteractionMatrix(train, items)
        similarity = ItemKNN(None).fit(train, items).similarity.toarray()
        text = _normalise_rows(align_vectors(self.vector_ids, self.vectors, self.data.item_ids))
        warm = self.data.item_user_counts() > 0
        known = text[warm]
        gram = known.T @ known + self.l2 * np.eye(known.shape[1], dtype=np.float32)
        mapping = np.linalg.solve(gram, known.T @ similarity[warm])  # (dim, items)
        self.estimated = (text @ mapping).astype(np.float32)  # row j: item j's estimated similarities
        return self

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        return _dense(self.data.rows_for(user_ids)) @ self.estimated.T


@dataclass(frozen=True)
class ColdStartEvaluation:
    """Both measurements on one new-products split."""

    dataset: str
    among_new: ColdStartResult
    whole_catalog: ColdStartResult
    new_products: int
    users: int
    # Products the new-arrivals rule promotes in the split's training data, and how many of the split's new
    # products are among them (None when no rule row was measured).
    new_arrivals: tuple[int, int] | None = None

    @property
    def description(self) -> str:
        return self.among_new.description

    def verdict(self) -> str:
        """One paragraph: the best content method among new products and what the hybrid shows of them."""
        table = self.among_new.table().set_index("method")
        best = str(table["recall@20"].idxmax())
        whole = self.whole_catalog.table().set_index("method")
        hybrid = whole.loc["Hybrid"] if "Hybrid" in whole.index else None
        text = (
            f"Among new products, {best} ranks best (Recall@20 {table.loc[best, 'recall@20']:.3f}; "
            f"TF-IDF {table.loc['TF-IDF', 'recall@20']:.3f}, random {table.loc['Random', 'recall@20']:.3f})."
        )
        if hybrid is not None:
            text += (
                f" On the whole catalog the hybrid finds {hybrid['recall@20']:.3f} of the liked new products in its "
                f"top 20, and {hybrid['new share']:.1%} of its list slots go to new products."
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "split": self.description,
            "new_products": self.new_products,
            "users": self.users,
            "among_new_products": self.among_new.table().to_dict(orient="records"),
            "whole_catalog": self.whole_catalog.table().to_dict(orient="records"),
            "verdict": self.verdict(),
        }


def content_rankers(data: EvaluationData) -> list[Ranker]:
    """The methods ranked among new products, by what the data allows."""
    rankers: list[Ranker] = [RandomRanker(), TfidfProfile()]
    if data.item_vectors is not None:
        ids, vectors = list(data.item_vectors.item_ids), np.asarray(data.item_vectors.vectors)
        rankers.append(EmbeddingProfile(ids, vectors))
        rankers.append(
            FusedProfile(
                [(TfidfProfile(), FUSION_TFIDF_SHARE), (EmbeddingProfile(ids, vectors), 1 - FUSION_TFIDF_SHARE)],
                name="TF-IDF + Embedding",
            )
        )
        rankers.append(TextToCollaborative(ids, vectors))
    for version, version_vectors in (data.version_vectors or {}).items():
        version_ranker = EmbeddingProfile(list(version_vectors.item_ids), np.asarray(version_vectors.vectors))
        version_ranker.name = f"Embedding ({version})"
        rankers.append(version_ranker)
    if data.item_vectors is not None:
        rankers.append(HybridRanker(data.item_vectors, name="Hybrid"))
    return rankers


def best_content_method(among_new: ColdStartResult) -> str:
    """The content method with the highest Recall@20 among new products (the hybrid and random aside)."""
    candidates = {
        name: method.estimates["recall@20"].mean
        for name, method in among_new.methods.items()
        if name not in ("Hybrid", "Random")
    }
    return max(candidates, key=lambda name: candidates[name])


def hybrid_settings(
    data: EvaluationData, settings: Any, among_new: ColdStartResult, new_items: Sequence[str],
    new_arrival_shares: Sequence[float],
) -> list[Ranker]:
    """The whole-catalog hybrids: without borrowing, as configured, under the new-arrivals rule at each
    share, and with its new-product slots filled by the best content method among new products."""
    rankers: list[Ranker] = [
        HybridRanker(data.item_vectors, settings.model_copy(update={"new_product_neighbours": 0}),
                     name="Hybrid without borrowing"),
        HybridRanker(data.item_vectors, settings, name="Hybrid"),
    ]
    for share in new_arrival_shares:
        rankers.append(RuledHybrid(data.item_vectors, settings, new_arrivals_rules(share), k=RECALL_K,
                                   name=f"Hybrid + new arrivals {share:.0%}"))
    best = best_content_method(among_new)
    content = next(ranker for ranker in content_rankers(data) if ranker.name == best)
    rankers.append(ContentChoiceHybrid(
        HybridRanker(data.item_vectors, settings), content, new_items, k=RECALL_K,
        name=f"Hybrid, new products chosen by {best}", content_reads_likes=not _learns_from_everything(content),
    ))
    return rankers


def _learns_from_everything(ranker: Ranker) -> bool:
    # Content profiles read what the customer liked; collaborative methods learn from every interaction.
    return isinstance(ranker, HybridRanker | TextToCollaborative)


def _fit_on(ranker: Ranker, split: ColdStartSplit) -> pd.DataFrame:
    return split.train if _learns_from_everything(ranker) else split.liked_train


def evaluate_new_products(
    source: Workspace | EvaluationData,
    *,
    share: float = 0.2,
    seed: int = 0,
    n_resamples: int = 1000,
    settings: Any = None,
    new_arrival_shares: Sequence[float] = NEW_ARRIVAL_SHARES,
    progress: Progress | None = None,
) -> ColdStartEvaluation:
    """The cold-start product evaluation (see the module docstring) of a workspace or prepared data.

    Args:
        source: a workspace (its interactions, catalog and item vectors) or an `EvaluationData`.
        share: share of the products with interactions made new.
        seed: the split's, ties' and bootstrap's seed.
        n_resamples: bootstrap resamples.
        settings: `RecommendSettings` of the hybrid (the workspace's when None).
        new_arrival_shares: shares of each list the new-arrivals rule gives new products, one whole-catalog
            row each (empty = no rule rows).
        progress: callback (fraction, message).
    """
    from recengine.config import RecommendSettings

    report = progress or no_progress
    if isinstance(source, EvaluationData):
        data = source
    else:
        report(0.0, "reading the workspace")
        data = from_workspace(source, progress=None)
        settings = settings or source.settings.recommend
    settings = settings or RecommendSettings()
    split = new_products_split(data.interactions, share=share, seed=seed)
    rankers = content_rankers(data)
    for ranker in rankers:
        if isinstance(ranker, HybridRanker):
            ranker.settings = settings
    done = [0]
    total = len(rankers) + 4 + len(new_arrival_shares)

    def step(message: str) -> None:
        report(done[0] / total, message)
        done[0] += 1

    among_new = rank_new_products(
        split, data.items, rankers, reference="TF-IDF", fit_on=_fit_on, resamples=n_resamples, seed=seed, progress=step
    )
    whole_rankers: list[Ranker] = [ItemKNN()]
    if data.item_vectors is not None:
        whole_rankers += hybrid_settings(data, settings, among_new, split.new_items, new_arrival_shares)
    whole = whole_catalog(
        split, data.items, whole_rankers, reference="Hybrid" if data.item_vectors is not None else "ItemKNN",
        resamples=n_resamples, seed=seed, progress=step,
    )
    report(1.0, "cold-start evaluation done")
    return ColdStartEvaluation(
        data.name, among_new, whole, len(split.new_items), len(split.targets),
        rule_new_arrivals(whole_rankers, split.new_items),
    )


def rule_new_arrivals(rankers: Sequence[Ranker], new_items: Sequence[str]) -> tuple[int, int] | None:
    """(products the first fitted new-arrivals rule promotes, the split's new products among them)."""
    ruled = next((ranker for ranker in rankers if isinstance(ranker, RuledHybrid)), None)
    if ruled is None:
        return None
    mask = ruled.arrivals()
    catalog = ruled.recommender.catalog
    new_positions = [catalog.positions[item_id] for item_id in new_items if item_id in catalog.positions]
    return int(mask.sum()), int(mask[new_positions].sum())
