"""Rankers evaluated side by side: simple baselines and an adapter for the hybrid recommender.

Every ranker implements one small contract (`Ranker`): `fit(train, items)` on the training
interactions and the catalog, then `score(user_ids)` returning a dense (users, catalog) matrix whose
column j is the item in row j of `items`. The evaluation ranks the *whole* catalog from these scores
(no sampled negatives) after removing the items each user already has in training.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from scipy import sparse

TEXT_COLUMNS = ("title", "brand", "category", "description")


@runtime_checkable
class Ranker(Protocol):
    """What the evaluation needs from a recommendation method."""

    name: str

    def fit(self, train: pd.DataFrame, items: pd.DataFrame) -> Ranker:
        """Learn from training interactions (user_id, item_id, ...) and the catalog (item_id, ...)."""
        ...

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        """(len(user_ids), len(items)) float scores, higher = recommend first."""
        ...


# -- shared helpers -----------------------------------------------------------------------------------


class InteractionMatrix:
    """A binary user x item CSR matrix over the catalog order of `items`, with the id maps."""

    def __init__(self, train: pd.DataFrame, items: pd.DataFrame) -> None:
        self.item_ids: list[str] = items["item_id"].astype(str).tolist()
        self.item_index = {item_id: index for index, item_id in enumerate(self.item_ids)}
        self.user_ids: list[str] = sorted(train["user_id"].astype(str).unique().tolist())
        self.user_index = {user_id: index for index, user_id in enumerate(self.user_ids)}
        rows = train["user_id"].astype(str).map(self.user_index).to_numpy()
        columns = train["item_id"].astype(str).map(self.item_index)
        known = columns.notna().to_numpy()
        matrix = sparse.csr_matrix(
            (
                np.ones(int(known.sum()), dtype=np.float32),
                (rows[known].astype(np.int64), columns[known].to_numpy().astype(np.int64)),
            ),
            shape=(len(self.user_ids), len(self.item_ids)),
        )
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        self.matrix: sparse.csr_matrix = matrix

    def rows_for(self, user_ids: Sequence[str]) -> sparse.csr_matrix:
        """Rows of the given users (an empty row for users without training history)."""
        indices = np.array([self.user_index.get(str(user_id), -1) for user_id in user_ids], dtype=np.int64)
        known = indices >= 0
        selector = sparse.csr_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), (np.flatnonzero(known), indices[known])),
            shape=(len(user_ids), len(self.user_ids)),
        )
        return (selector @ self.matrix).tocsr()

    def item_user_counts(self) -> np.ndarray:
        """Distinct training users per catalog item."""
        return np.asarray(self.matrix.sum(axis=0)).ravel()


def item_texts(items: pd.DataFrame, columns: Sequence[str] = TEXT_COLUMNS) -> list[str]:
    """One text per catalog row: the non-empty text columns joined with '. '."""
    parts = []
    for column in columns:
        if column in items.columns:
            parts.append(items[column].astype("string").fillna("").astype(str).str.strip())
    if not parts:
        return [""] * len(items)
    texts = []
    for values in zip(*parts, strict=True):
        texts.append(". ".join(value for value in values if value and value.lower() not in ("nan", "none")))
    return texts


def _dense(matrix: Any) -> np.ndarray:
    if sparse.issparse(matrix):
        return np.asarray(matrix.toarray(), dtype=np.float32)
    return np.asarray(matrix, dtype=np.float32)


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


# -- baselines ----------------------------------------------------------------------------------------


class MostPopular:
    """Items ranked by how many training users had them; the same list for everyone."""

    name = "MostPopular"

    def fit(self, train: pd.DataFrame, items: pd.DataFrame) -> MostPopular:
        self.data = InteractionMatrix(train, items)
        self.popularity = self.data.item_user_counts().astype(np.float32)
        return self

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        return np.tile(self.popularity, (len(user_ids), 1))


class ItemKNN:
    """Item-to-item collaborative filtering: cosine between item columns of the user-item matrix.

    A user's score for an item is the sum of its similarities to the items in their history, keeping
    for each history item only its `neighbours` most similar items (None = keep all).
    """

    name = "ItemKNN"

    def __init__(self, neighbours: int | None = 100) -> None:
        self.neighbours = neighbours

    def fit(self, train: pd.DataFrame, items: pd.DataFrame) -> ItemKNN:
        self.data = InteractionMatrix(train, items)
        matrix = self.data.matrix.tocsc().astype(np.float32)
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
        scaled = matrix @ sparse.diags(1.0 / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        similarity = (scaled.T @ scaled).tocsr()
        similarity.setdiag(0.0)
        similarity.eliminate_zeros()
        if self.neighbours is not None:
            similarity = _keep_top_per_row(similarity, self.neighbours)
        self.similarity = similarity
        return self

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        return _dense(self.data.rows_for(user_ids) @ self.similarity)


class EASE:
    """EASE (Steck, WWW 2019): each item predicted from all others by one ridge regression; dense
    item-item weights, negative ones kept. A strong collaborative baseline on small catalogs."""

    name = "EASE"

    def __init__(self, l2: float = 100.0) -> None:
        self.l2 = l2

    def fit(self, train: pd.DataFrame, items: pd.DataFrame) -> EASE:
        from recengine.recommend.collaborative import ease_weights

        self.data = InteractionMatrix(train, items)
        self.weights = ease_weights(self.data.matrix, l2=self.l2)
        return self

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        return np.asarray(self.data.rows_for(user_ids) @ self.weights, dtype=np.float32)


def _keep_top_per_row(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    """Zero all but the `keep` largest entries of each row."""
    matrix = matrix.tocsr()
    data, indices, indptr = matrix.data, matrix.indices, matrix.indptr
    new_data, new_indices, new_indptr = [], [], [0]
    for row in range(matrix.shape[0]):
        start, end = indptr[row], indptr[row + 1]
        values = data[start:end]
        if end - start > keep:
            chosen = np.argpartition(-values, keep - 1)[:keep]
            new_data.append(values[chosen])
            new_indices.append(indices[start:end][chosen])
        else:
            new_data.append(values)
            new_indices.append(indices[start:end])
        new_indptr.append(new_indptr[-1] + len(new_data[-1]))
    return sparse.csr_matrix(
        (np.concatenate(new_data) if new_data else np.array([], dtype=np.float32),
         np.concatenate(new_indices) if new_indices else np.array([], dtype=np.int32),
         np.array(new_indptr)),
        shape=matrix.shape,
    )


class ALS:
    """Implicit-feedback matrix factorisation (Hu, Koren, Volinsky) from the `implicit` library, on CPU.

    Deterministic for a given `random_state`; BLAS is limited to one thread because implicit's own
    threads already use the cores (implicit warns about the slowdown otherwise).
    """

    name = "ALS"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 10.0,
        iterations: int = 15,
        random_state: int = 42,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state

    def fit(self, train: pd.DataFrame, items: pd.DataFrame) -> ALS:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        from implicit.cpu.als import AlternatingLeastSquares

        from recengine.recommend.threads import single_blas_thread

        self.data = InteractionMatrix(train, items)
        # The requests' counted limit, not a limit of its own: an evaluation run from the dashboard may
        # overlap requests in other sessions' threads, and a second, uncounted save-and-restore of the
        # same process-wide count could leave it at one (see recommend/threads.py).
        with single_blas_thread():
            # Constructed inside the limit too: implicit checks the BLAS thread count on construction.
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.random_state,
                num_threads=min(os.cpu_count() or 1, 4),
            )
            model.fit(self.data.matrix.astype(np.float32), show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)
        return self

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        indices = np.array([self.data.user_index.get(str(user), -1) for user in user_ids], dtype=np.int64)
        factors = np.where((indices >= 0)[:, None], self.user_factors[np.maximum(indices, 0)], 0.0)
        return factors.astype(np.float32) @ self.item_factors.T


class TfidfProfile:
    """Text-only baseline: cosine between TF-IDF of item text and the sum of the user's history items."""

    name = "TF-IDF"

    def __init__(self, text_columns: Sequence[str] = TEXT_COLUMNS) -> None:
        self.text_columns = tuple(text_columns)

    def fit(self, train: pd.DataFrame, items: pd.DataFrame) -> TfidfProfile:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.data = InteractionMatrix(train, items)
        texts = item_texts(items, self.text_columns)
        if not any(text.strip() for text in texts):
            self.item_matrix = sparse.csr_matrix((len(texts), 1), dtype=np.float32)
            return self
        vectorizer = TfidfVectorizer(
            sublinear_tf=True, stop_words="english", max_features=50_000, token_pattern=r"(?u)\b\w+\b",
            dtype=np.float32,
        )
        self.item_matrix = vectorizer.fit_transform(texts).tocsr()
        return self

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        profiles = _dense(self.data.rows_for(user_ids) @ self.item_matrix)
        profiles = _normalise_rows(profiles)
        return _dense(self.item_matrix @ profiles.T).T


class EmbeddingProfile:
    """Embedding-only baseline: cosine between item vectors and the mean vector of the user's history.

    Args:
        item_ids: ids of the rows of `vectors` (any order; aligned to the catalog at fit).
        vectors: (n, dim) L2-normalised item vectors, e.g. `recengine.embed.item_vectors(...)`.
        review_vectors: ReviewVectors-like of the same encoder: each item's vector then also holds the
            mean of its training reviews' vectors (`review_weight`), as the hybrid's do.
    """

    name = "Embedding"
    WITH_REVIEWS = "Embedding (with reviews)"  # its name when item vectors include the reviews' text

    def __init__(
        self, item_ids: Sequence[str], vectors: np.ndarray, *, review_vectors: Any = None, review_weight: float = 1.0
    ) -> None:
        self.vector_ids = [str(item_id) for item_id in item_ids]
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.review_vectors = review_vectors
        self.review_weight = review_weight
        if review_vectors is not None:
            self.name = self.WITH_REVIEWS

    def fit(self, train: pd.DataFrame, items: pd.DataFrame) -> EmbeddingProfile:
        from recengine.recommend.review_content import review_means, with_review_text

        self.data = InteractionMatrix(train, items)
        self.item_vectors = _normalise_rows(align_vectors(self.vector_ids, self.vectors, self.data.item_ids))
        if self.review_vectors is not None:
            means, _counts = review_means(train, self.review_vectors, self.data.item_index, len(self.data.item_ids))
            self.item_vectors = with_review_text(self.item_vectors, means, self.review_weight)
        return self

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        profiles = _normalise_rows(_dense(self.data.rows_for(user_ids) @ self.item_vectors))
        return profiles @ self.item_vectors.T


class RandomRanker:
    """Random scores (seeded): the floor every method must clear."""

    name = "Random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, train: pd.DataFrame, items: pd.DataFrame) -> RandomRanker:
        self.item_count = len(items)
        return self

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        return np.random.default_rng(self.seed).random((len(user_ids), self.item_count)).astype(np.float32)


class FusedProfile:
    """Weighted sum of other rankers' scores, e.g. TF-IDF (exact names, brands) with an encoder (meaning).

    Both profile rankers score cosines in [-1, 1], so a plain weighted sum keeps their scales comparable.
    """

    def __init__(self, parts: Sequence[tuple[Ranker, float]], name: str = "") -> None:
        self.parts = list(parts)
        self.name = name or " + ".join(f"{weight:g} x {ranker.name}" for ranker, weight in self.parts)

    def fit(self, train: pd.DataFrame, items: pd.DataFrame) -> FusedProfile:
        for ranker, _weight in self.parts:
            ranker.fit(train, items)
        return self

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        total = None
        for ranker, weight in self.parts:
            scores = weight * np.asarray(ranker.score(user_ids), dtype=np.float32)
            total = scores if total is None else total + scores
        assert total is not None
        return total


def align_vectors(vector_ids: Sequence[str], vectors: np.ndarray, item_ids: Sequence[str]) -> np.ndarray:
    """Rows of `vectors` re-ordered to `item_ids`; zero rows for items without a vector."""
    position = {item_id: index for index, item_id in enumerate(vector_ids)}
    aligned = np.zeros((len(item_ids), vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32)
    for row, item_id in enumerate(item_ids):
        index = position.get(item_id)
        if index is not None:
            aligned[row] = vectors[index]
    return aligned


class HybridRanker:
    """The product's own hybrid recommender (`recengine.recommend.Recommender`) as a `Ranker`.

    Args:
        item_vectors: object with `item_ids` and `vectors` (or None when the workspace has none).
        settings: `RecommendSettings` (weights and candidate sizes); defaults when None.
        keywords, sentiment: passed through to `Recommender.fit`.
        weights: per-component weight overrides used when scoring (e.g. tuned on a validation split).
        review_vectors: ReviewVectors-like of the same encoder as `item_vectors`, passed to
            `Recommender.fit` (only the reviews among the training interactions describe items).
        name: label in reports.
    """

    def __init__(
        self,
        item_vectors: Any = None,
        settings: Any = None,
        *,
        keywords: dict[str, list[str]] | None = None,
        sentiment: pd.DataFrame | None = None,
        weights: dict[str, float] | None = None,
        review_vectors: Any = None,
        name: str = "Hybrid",
    ) -> None:
        self.item_vectors = item_vectors
        self.review_vectors = review_vectors
        self.settings = settings
        self.keywords = keywords
        self.sentiment = sentiment
        self.weights = dict(weights) if weights else None
        self.name = name

    def fit(self, train: pd.DataFrame, items: pd.DataFrame) -> HybridRanker:
        from recengine.config import RecommendSettings
        from recengine.recommend import Recommender

        settings = self.settings if self.settings is not None else RecommendSettings()
        self.item_ids = items["item_id"].astype(str).tolist()
        self.recommender = Recommender.fit(
            items, train, self.item_vectors, settings, keywords=self.keywords, sentiment=self.sentiment,
            review_vectors=self.review_vectors,
        )
        return self

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        from recengine.recommend.threads import single_blas_thread

        recommender = self.recommender
        # One user's products are tiny (a few interest vectors against the catalog): on one BLAS thread, as
        # a request is. On two, waking the second thread per product cost up to 40x the product while the
        # other core was busy (the demo's saved evaluation: 10.3 s instead of 5.3 s at load 2-3).
        with single_blas_thread():
            if self.weights:
                rows = [recommender.score_items(user, weights=self.weights) for user in user_ids]
            else:
                rows = [recommender.score_items(user) for user in user_ids]
        scores = np.vstack([np.asarray(row, dtype=np.float32) for row in rows])
        return _align_columns(scores, getattr(recommender, "item_ids", None), self.item_ids)

    def components(self, user_ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Unweighted component scores, (users, catalog, components), for tuning weights.

        The hybrid score is linear in its weights, so one pass over the users gives the ranking of any
        weight setting by a matrix product.
        """
        from recengine.recommend.scoring import COMPONENTS
        from recengine.recommend.threads import single_blas_thread

        ones = {name: 1.0 for name in COMPONENTS}
        blocks = []
        with single_blas_thread():  # per-user products, as in `score`
            for user in user_ids:
                frame = self.recommender.component_scores(user, weights=ones)
                blocks.append(frame[list(COMPONENTS)].to_numpy(dtype=np.float32))
        stacked = np.stack(blocks) if blocks else np.zeros((0, len(self.item_ids), len(COMPONENTS)), np.float32)
        source = getattr(self.recommender, "item_ids", None)
        if source is not None and list(source) != self.item_ids:
            position = {str(item_id): index for index, item_id in enumerate(source)}
            columns = np.array([position[item_id] for item_id in self.item_ids], dtype=np.int64)
            stacked = stacked[:, columns, :]
        return list(COMPONENTS), stacked


def _align_columns(scores: np.ndarray, source_ids: Sequence[str] | None, target_ids: Sequence[str]) -> np.ndarray:
    """Re-order score columns from the recommender's item order to the evaluation catalog's order."""
    if source_ids is None or list(source_ids) == list(target_ids):
        return scores
    position = {str(item_id): index for index, item_id in enumerate(source_ids)}
    columns = np.array([position.get(item_id, -1) for item_id in target_ids], dtype=np.int64)
    aligned = np.full((scores.shape[0], len(target_ids)), -np.inf, dtype=np.float32)
    known = columns >= 0
    aligned[:, known] = scores[:, columns[known]]
    return aligned
