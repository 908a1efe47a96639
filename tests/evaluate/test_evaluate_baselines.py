"""Every baseline on the checkerboard, where the right answer is obvious (one shared check per ranker)."""

from __future__ import annotations

import numpy as np
import pytest
from evaluate_fixtures import GROUP_SIZE, checkerboard_frames, checkerboard_vectors

from recengine.evaluate.baselines import (
    ALS,
    EmbeddingProfile,
    ItemKNN,
    MostPopular,
    Ranker,
    TfidfProfile,
    item_texts,
)
from recengine.evaluate.runner import EvaluationContext
from recengine.evaluate.splits import leave_last_out


def personal_rankers() -> list[Ranker]:
    ids, vectors = checkerboard_vectors()
    return [
        ItemKNN(),
        ItemKNN(neighbours=2),
        # Two factors for two tastes: more would let ALS memorise the tiny matrix.
        ALS(factors=2, regularization=0.01, alpha=1.0, iterations=10, random_state=1),
        TfidfProfile(),
        EmbeddingProfile(ids, vectors),
    ]


@pytest.mark.parametrize("ranker", personal_rankers(), ids=lambda ranker: f"{ranker.name}")
def test_personal_rankers_recommend_the_users_own_group(ranker: Ranker) -> None:
    items, interactions = checkerboard_frames()
    split = leave_last_out(interactions)
    assert isinstance(ranker, Ranker)
    ranker.fit(split.train, items)
    users = split.test_users
    scores = ranker.score(users)
    assert scores.shape == (len(users), len(items))
    item_groups = np.array([item[0] for item in items["item_id"]])
    for row, user in enumerate(users):
        own = item_groups == user[0].upper()
        # Every item of the user's own group scores above every item of the other group.
        assert scores[row, own].min() > scores[row, ~own].max(), f"{ranker.name} mixed the groups for {user}"


@pytest.mark.parametrize("ranker", personal_rankers(), ids=lambda ranker: f"{ranker.name}")
def test_full_ranking_finds_every_held_out_item_in_the_top_two(ranker: Ranker) -> None:
    items, interactions = checkerboard_frames()
    context = EvaluationContext(leave_last_out(interactions), items)
    run = context.run(ranker, k_max=5)
    # 4 own-group items are seen and excluded: 2 unseen ones remain and must fill positions 0 and 1.
    assert np.all(run.ranks[:, 0] <= 1)
    for row, user in enumerate(context.user_ids):
        assert {context.item_ids[index][0] for index in run.top[row, :2]} == {user[0].upper()}
        assert not set(run.top[row].tolist()) & set(context.exclude[row].tolist())


def test_most_popular_gives_everyone_the_same_list_by_popularity() -> None:
    items, interactions = checkerboard_frames()
    split = leave_last_out(interactions)
    ranker = MostPopular().fit(split.train, items)
    scores = ranker.score(["a0", "b0", "nobody"])
    assert np.array_equal(scores[0], scores[1]) and np.array_equal(scores[0], scores[2])
    counts = split.train.groupby("item_id")["user_id"].nunique()
    expected = counts.reindex(items["item_id"]).fillna(0).to_numpy()
    assert np.array_equal(scores[0], expected)
    # A items are bought by more users than B items (10 vs 8 users per group).
    assert scores[0, :GROUP_SIZE].sum() > scores[0, GROUP_SIZE:].sum()


def test_unknown_users_get_neutral_scores() -> None:
    items, interactions = checkerboard_frames()
    for ranker in personal_rankers():
        ranker.fit(interactions, items)
        scores = ranker.score(["never-seen"])
        assert scores.shape == (1, len(items))
        assert np.allclose(scores, scores[0, 0]), ranker.name


def test_als_is_deterministic_for_a_seed() -> None:
    items, interactions = checkerboard_frames()
    first = ALS(factors=4, iterations=5, random_state=3).fit(interactions, items).score(["a1"])
    second = ALS(factors=4, iterations=5, random_state=3).fit(interactions, items).score(["a1"])
    assert np.allclose(first, second)


def test_item_texts_join_non_empty_fields() -> None:
    items, _ = checkerboard_frames()
    texts = item_texts(items)
    assert texts[0] == "alpha item 0. Alphaco. Alpha > Things"
