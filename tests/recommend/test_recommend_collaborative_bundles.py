"""The collaborative component against plain item-kNN, candidate coverage, bundles and fast paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from recommend_fixtures import FakeItemVectors
from scipy import sparse

from recengine.config import RecommendSettings
from recengine.evaluate.baselines import EASE, ItemKNN
from recengine.recommend import Recommender
from recengine.recommend.attribution import matrix_entries
from recengine.recommend.bundles import bundle_for_item_id
from recengine.recommend.collaborative import ease_weights
from recengine.recommend.vector_search import VectorSearch

COLLABORATIVE_ONLY = {"semantic": 0.0, "collaborative": 1.0, "popularity": 0.0, "quality": 0.0, "recency": 0.0}


def test_collaborative_component_equals_item_knn_without_shrink_or_recency(
    items: pd.DataFrame, interactions: pd.DataFrame
) -> None:
    # Shrink 0, alpha 0.5 (cosine) and no recency decay: the component is ItemKNN, up to a per-user scale.
    settings = RecommendSettings(collaborative_shrink=0.0, history_recency_weight=0.0, collaborative_neighbours=100)
    model = Recommender.fit(items, interactions, None, settings)
    knn = ItemKNN(neighbours=100).fit(interactions, items)
    users = sorted(interactions["user_id"].unique())
    expected = knn.score(users)
    assert model.item_ids == items["item_id"].tolist()
    for row, user in enumerate(users):
        ours = model.score_items(user, weights=COLLABORATIVE_ONLY)
        unseen = np.isfinite(ours)
        reference = expected[row][unseen]
        assert reference.max() > 0
        np.testing.assert_allclose(ours[unseen], reference / reference[np.argmax(reference)], rtol=1e-5, atol=1e-6)


def test_default_collaborative_component_ranks_the_same_top_items_as_item_knn(recommender: Recommender,
                                                                                interactions: pd.DataFrame,
                                                                                items: pd.DataFrame) -> None:
    knn = ItemKNN().fit(interactions, items)
    for user in ("j0", "j4", "g3"):
        ours = recommender.score_items(user, weights=COLLABORATIVE_ONLY)
        theirs = knn.score([user])[0]
        theirs[~np.isfinite(ours)] = -np.inf
        # Same taste, same best item: shrink and recency re-weigh, they do not change the neighbourhood.
        assert recommender.item_ids[int(np.argmax(ours))][0] == recommender.item_ids[int(np.argmax(theirs))][0]
        # Products nobody bought (J7, G7) borrow an estimate from their text neighbours; ItemKNN has none.
        borrowed = set(recommender.borrowed.new_products.tolist())
        assert borrowed == {recommender.catalog.positions["J7"], recommender.catalog.positions["G7"]}
        assert set(np.flatnonzero(ours > 0)) - borrowed == set(np.flatnonzero(theirs > 0))


def test_candidates_never_miss_what_the_full_ranking_puts_first(recommender: Recommender) -> None:
    for user in [f"j{index}" for index in range(10)] + [f"g{index}" for index in range(10)]:
        for weights in (COLLABORATIVE_ONLY, None):
            listed = [rec.item_id for rec in recommender.recommend(user, k=3, weights=weights)]
            scores = recommender.score_items(user, weights=weights)
            order = np.lexsort((np.arange(len(scores)), -scores))[:3]
            assert listed == [recommender.item_ids[int(p)] for p in order]


def _bundle_model(items: pd.DataFrame, vectors: FakeItemVectors) -> Recommender:
    # J0's buyers nearly always buy J1 too (same category, a strong co-purchase); a few also buy G0.
    rows = []
    for user in range(12):
        rows += [(f"u{user}", "J0", "purchase"), (f"u{user}", "J1", "purchase")]
        if user < 3:
            rows.append((f"u{user}", "G0", "purchase"))
    for user in range(12, 20):
        rows += [(f"u{user}", "G0", "purchase"), (f"u{user}", "G1", "purchase"), (f"u{user}", "J5", "purchase")]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "event"])
    return Recommender.fit(items, frame, vectors, RecommendSettings())


def test_bundle_keeps_a_strong_same_category_co_purchase(items: pd.DataFrame, vectors: FakeItemVectors) -> None:
    model = _bundle_model(items, vectors)
    bundle = bundle_for_item_id(model, "J0", size=2)
    ids = [item.item_id for item in bundle.items]
    # A one-per-category rule would have put G0 first and dropped J1 from a bundle of one.
    assert ids[0] == "J1"
    assert "G0" in ids
    assert bundle_for_item_id(model, "J0", size=1).items[0].item_id == "J1"


def test_bundle_parts_add_up_and_repeats_of_a_category_pay_a_soft_penalty(
    items: pd.DataFrame, vectors: FakeItemVectors
) -> None:
    model = _bundle_model(items, vectors)
    bundle = bundle_for_item_id(model, "J0", size=3)
    for item in bundle.items:
        total = item.co_occurrence + item.complementary + item.popularity + item.diversity
        assert total == pytest.approx(item.score, abs=1e-5)
        assert item.diversity <= 0
    first = bundle.items[0]
    assert first.item_id == "J1" and first.diversity < 0  # same category as the anchor: penalised, still first
    budgeted = bundle_for_item_id(model, "J0", size=3, budget=float(items.set_index("item_id").loc["J1", "price"]))
    assert [item.item_id for item in budgeted.items][:1] == ["J1"]
    assert budgeted.total_price is not None and budgeted.total_price <= budgeted.budget


def test_matrix_entries_read_the_same_entries_as_scipy_indexing(recommender: Recommender) -> None:
    # The attribution's binary search against scipy's own (slow) indexing, on both matrices and on an
    # unsorted one (which it sorts in place first), absent entries and empty rows included.
    rng = np.random.default_rng(4)
    shuffled = sparse.random(40, 30, 0.2, "csr", rng=rng, dtype=np.float32)
    for row in range(shuffled.shape[0]):
        start, stop = shuffled.indptr[row], shuffled.indptr[row + 1]
        order = start + rng.permutation(stop - start)
        shuffled.indices[start:stop], shuffled.data[start:stop] = shuffled.indices[order], shuffled.data[order]
    shuffled.has_sorted_indices = False
    for matrix in (recommender.similarity, recommender.collaborative, shuffled):
        rows = rng.integers(0, matrix.shape[0], 300)  # repeated pairs are allowed
        columns = rng.integers(0, matrix.shape[1], 300)
        expected = np.asarray(matrix[rows, columns]).ravel()
        found = matrix_entries(matrix, rows, columns)
        assert found.dtype == np.float64 and np.count_nonzero(expected) > 0
        np.testing.assert_array_equal(found, expected.astype(np.float64))
    assert shuffled.has_sorted_indices
    assert matrix_entries(recommender.similarity, np.zeros(0, dtype=np.int64), np.zeros(0)).shape == (0,)


def test_coarse_scan_probing_every_list_equals_the_exact_scan() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(600, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [str(index) for index in range(600)]
    coarse = VectorSearch(vectors, ids, coarse_above=100)
    exact = VectorSearch(vectors, ids, coarse_above=10_000)
    assert coarse.mode == "coarse" and exact.mode == "exact"
    coarse.probes = len(coarse.lists)
    queries = vectors[[5, 77]]
    excluded = np.array([5, 77, 300], dtype=np.int64)
    got, got_scores = coarse.search(queries, 20, exclude=excluded)
    want, want_scores = exact.search(queries, 20, exclude=excluded)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(got_scores, want_scores, rtol=1e-5)
    assert not set(got.tolist()) & set(excluded.tolist())


def test_ease_weights_solve_each_items_ridge_regression() -> None:
    rng = np.random.default_rng(3)
    presence = (rng.random((40, 6)) < 0.4).astype(np.float64)
    presence[:, 5] = 0.0  # an item nobody bought: no weights either way
    l2 = 2.0
    weights = ease_weights(sparse.csr_matrix(presence), l2=l2)
    assert np.all(np.diag(weights) == 0) and not weights[5].any() and not weights[:, 5].any()
    for item in range(5):
        others = [j for j in range(5) if j != item]
        block = presence[:, others]
        expected = np.linalg.solve(block.T @ block + l2 * np.eye(len(others)), block.T @ presence[:, item])
        np.testing.assert_allclose(weights[others, item], expected, rtol=1e-4, atol=1e-5)


def test_collaborative_component_with_ease_scores_by_its_positive_weights(
    items: pd.DataFrame, interactions: pd.DataFrame
) -> None:
    settings = RecommendSettings(collaborative_ease_l2=5.0, history_recency_weight=0.0, collaborative_neighbours=100)
    model = Recommender.fit(items, interactions, None, settings)
    assert model.collaborative_method == "EASE"
    knn = ItemKNN().fit(interactions, items)  # only for its binary user x item matrix in catalog order
    positive = np.clip(ease_weights(knn.data.matrix, l2=5.0), 0.0, None)
    for user in sorted(interactions["user_id"].unique()):
        ours = model.score_items(user, weights=COLLABORATIVE_ONLY)
        unseen = np.isfinite(ours)
        reference = np.asarray(knn.data.rows_for([user]) @ positive).ravel()[unseen]
        if reference.max() > 0:
            np.testing.assert_allclose(ours[unseen], reference / reference.max(), rtol=1e-4, atol=1e-5)
    # Explanations and bundles still read co-occurrence: facts about what was bought together.
    assert model.similarity is not model.collaborative


def test_ease_falls_back_to_co_occurrence_on_a_catalog_too_large_for_it(
    items: pd.DataFrame, interactions: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    settings = RecommendSettings(collaborative_ease_l2=5.0, collaborative_ease_max_items=2)
    with caplog.at_level("WARNING"):
        model = Recommender.fit(items, interactions, None, settings)
    assert model.collaborative_method == "co-occurrence"
    assert model.collaborative is model.similarity
    assert "using co-occurrence instead" in caplog.text


def test_ease_baseline_ranks_with_its_full_weights(items: pd.DataFrame, interactions: pd.DataFrame) -> None:
    baseline = EASE(l2=5.0).fit(interactions, items)
    users = sorted(interactions["user_id"].unique())[:3]
    expected = np.asarray(baseline.data.rows_for(users) @ ease_weights(baseline.data.matrix, l2=5.0))
    np.testing.assert_allclose(baseline.score(users), expected, rtol=1e-5)
