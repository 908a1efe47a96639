"""Tuning on the validation split: grids, the best setting, fold averaging, user sampling."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from evaluate_fixtures import checkerboard_frames

from recengine.errors import ConfigError
from recengine.evaluate.baselines import ItemKNN, MostPopular
from recengine.evaluate.runner import EvaluationContext
from recengine.evaluate.splits import make_splits
from recengine.evaluate.tuning import TuningResult, average_folds, parameter_grid, tune_ranker


def validation_context() -> EvaluationContext:
    items, interactions = checkerboard_frames()
    return EvaluationContext(make_splits(interactions).validation, items)


def test_parameter_grid_is_the_cartesian_product() -> None:
    grid = parameter_grid(a=[1, 2], b=["x", "y", "z"])
    assert len(grid) == 6 and {"a": 2, "b": "z"} in grid


def test_tune_ranker_picks_the_setting_that_ranks_best() -> None:
    context = validation_context()
    # Only MostPopular when the flag is off: ItemKNN must win on the checkerboard.
    result = tune_ranker(
        "switch",
        lambda p: ItemKNN() if p["personal"] else MostPopular(),
        parameter_grid(personal=[False, True]),
        context,
        k=2,
    )
    assert result.best == {"personal": True}
    assert result.best_value == pytest.approx(result.trials["ndcg"].max())
    assert result.users == len(context.user_ids)
    with pytest.raises(ConfigError):
        tune_ranker("none", lambda p: MostPopular(), [], context)


def test_subset_scores_fewer_users_but_fits_on_all_training() -> None:
    context = validation_context()
    sample = context.subset(5, seed=1)
    assert len(sample.user_ids) == 5 and set(sample.user_ids) <= set(context.user_ids)
    assert sample.split is context.split
    assert context.subset(None) is context
    result = tune_ranker("knn", lambda p: ItemKNN(**p), [{"neighbours": 10}], context, k=2, max_users=5)
    assert result.users == 5


def test_average_folds_picks_the_best_mean() -> None:
    def fold(values: list[float]) -> TuningResult:
        trials = pd.DataFrame({"w": [0, 1, 2], "ndcg": values})
        return TuningResult("x", "ndcg", 10, {}, max(values), trials, 10)

    # Fold 1 alone would pick w=0; on average w=1 is best.
    combined = average_folds([fold([0.30, 0.29, 0.10]), fold([0.20, 0.27, 0.25])])
    assert combined.best == {"w": 1}
    assert combined.best_value == pytest.approx(0.28)
    assert list(combined.trials.columns) == ["w", "ndcg", "ndcg fold 1", "ndcg fold 2"]
    assert combined.users == 20


def test_average_folds_returns_the_candidates_as_given() -> None:
    context = validation_context()
    grid = [{"neighbours": 5}, {"neighbours": None}]
    folds = [tune_ranker("knn", lambda p: ItemKNN(**p), grid, context, k=2) for _ in range(2)]
    best = average_folds(folds).best
    assert best in grid and (best["neighbours"] is None or isinstance(best["neighbours"], int))


def test_hybrid_on_the_checkerboard_and_its_weight_tuning() -> None:
    from evaluate_fixtures import checkerboard_vectors

    from recengine.evaluate.baselines import HybridRanker
    from recengine.evaluate.tuning import tune_hybrid_weights

    class Vectors:
        item_ids, vectors = checkerboard_vectors()
        fingerprint = "test"

    context = validation_context()
    run = context.run(HybridRanker(Vectors()), k_max=4)
    # At validation time each user has 3 unseen items of their own group: they must fill the top 3.
    assert (run.ranks[:, 0] <= 2).all()
    for row, user in enumerate(context.user_ids):
        assert {context.item_ids[index][0] for index in run.top[row, :3]} == {user[0].upper()}
    candidates = [{"popularity": 1.0}, {"collaborative": 1.0, "semantic": 0.5}]
    result = tune_hybrid_weights(HybridRanker(Vectors()), candidates, context, k=2)
    assert result.best["collaborative"] == 1.0 and result.best["popularity"] == 0.0
    assert result.trials["ndcg"].iloc[1] > result.trials["ndcg"].iloc[0]


def test_bundles_scored_against_also_bought_lists(checkerboard) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from recengine.errors import NotReadyError
    from recengine.evaluate.bundles import evaluate_bundles

    # The shop says: buyers of an A item also buy the other A items (and likewise for B).
    ids = checkerboard.items["item_id"].tolist()
    complements = {item: [other for other in ids if other[0] == item[0] and other != item] for item in ids}
    result = evaluate_bundles(replace(checkerboard, complements=complements), size=2, n_resamples=100)
    assert result.anchors == len(ids)
    co = result.methods["Co-occurrence (ItemKNN)"]
    assert co["precision"].mean == pytest.approx(1.0)
    assert result.methods["Bundle (recommender)"]["hit_rate"].mean > 0.5
    # Best-sellers are all A items: right for A anchors, wrong for B anchors.
    assert result.methods["MostPopular"]["precision"].mean < 1.0
    with pytest.raises(NotReadyError):
        evaluate_bundles(replace(checkerboard, complements=None))


def test_similar_products_scored_against_also_viewed_lists(checkerboard) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from recengine.errors import NotReadyError
    from recengine.evaluate.similar import REFERENCE, evaluate_similar

    # The shop says: shoppers of an A item also look at A items 0-2, and likewise for B.
    ids = checkerboard.items["item_id"].tolist()
    substitutes = {item: [f"{item[0]}{index}" for index in range(3) if f"{item[0]}{index}" != item] for item in ids}
    data = replace(checkerboard, substitutes=substitutes)
    result = evaluate_similar(data, size=2, n_resamples=100)
    assert result.anchors == len(ids)
    # Content and co-occurrence both keep to the anchor's group; best-sellers are all A items.
    assert result.methods[REFERENCE]["hit_rate"].mean > 0.5
    assert result.methods["MostPopular"]["precision"].mean < result.methods[REFERENCE]["precision"].mean
    assert "Similar (catalog text only)" not in result.methods  # no review vectors: no such row
    # With review vectors, items whose reviews all talk alike (one direction) are scored both ways.
    reviews = data.interactions.assign(review_id=[f"R{row}" for row in range(len(data.interactions))])
    vectors = np.zeros((len(reviews), 8), dtype=np.float32)
    vectors[:, 5] = 1.0
    review_vectors = SimpleNamespace(review_ids=reviews["review_id"].tolist(), vectors=vectors, fingerprint="")
    with_reviews = evaluate_similar(replace(data, interactions=reviews, review_vectors=review_vectors), size=2, n_resamples=100)
    assert {"Similar (catalog text only)", "Content only (catalog text)"} <= set(with_reviews.methods)
    assert ("Content only", "Content only (catalog text)") in with_reviews.pair_p_values
    with pytest.raises(NotReadyError, match="also-viewed"):
        evaluate_similar(replace(checkerboard, substitutes=None))
