"""Recommendation records: they survive the JSON shape of DESIGN.md (batch workers send them as JSON), and
the fast constructors and per-list rounding the recommender uses give what the plain ones do."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from recengine.recommend.results import BecauseItem, Explanation, Recommendation

names = st.text(min_size=1, max_size=12)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(
    item_id=names,
    rank=st.integers(min_value=1, max_value=1000),
    components=st.dictionaries(names, finite, max_size=5),
    because=st.lists(st.tuples(names, finite), max_size=3),
    phrases=st.lists(names, max_size=3),
    rules=st.lists(names, max_size=3),
    reason=st.text(max_size=80),
)
def test_from_dict_inverts_to_dict_through_json(
    item_id: str, rank: int, components: dict[str, float], because: list[tuple[str, float]],
    phrases: list[str], rules: list[str], reason: str,
) -> None:
    recommendation = Recommendation(
        item_id, rank, sum(components.values()),
        Explanation(components, [BecauseItem(*entry) for entry in because], phrases, rules, reason),
    )
    assert Recommendation.from_dict(json.loads(json.dumps(recommendation.to_dict()))) == recommendation


def test_a_copy_of_a_fitted_model_recommends_exactly_as_the_original(recommender) -> None:  # type: ignore[no-untyped-def]
    # Ray's object store ships the driver's model to the export workers as such a copy.
    import pickle

    users = ["j0", "j3", "g5", "g9", "nobody"]  # checkerboard customers, and one without history
    before = {user: recommender.recommend(user, 5) for user in users}
    copy = pickle.loads(pickle.dumps(recommender))
    assert copy.encode_query is None
    assert {user: copy.recommend(user, 5) for user in users} == before
    assert {user: copy.recommend(user, 5) for user in users} == before  # a second call, from its profile cache


@given(components=st.lists(st.floats(min_value=0, max_value=1, width=32), min_size=5, max_size=5),
       delta=st.sampled_from([0.0, 0.25, -0.1, 1e-9]))
def test_fast_constructors_and_list_rounding_match_the_plain_ones(components: list[float], delta: float) -> None:
    from recengine.recommend.explain import components_dict, components_dicts
    from recengine.recommend.scoring import COMPONENTS

    named = components_dict(np.array(components), delta)
    assert list(named)[: len(COMPONENTS)] == list(COMPONENTS)
    assert [named[name] for name in COMPONENTS] == [round(value, 6) for value in components]
    assert ("rules" in named) == (delta != 0) and named.get("rules", 0.0) == round(delta, 6)
    assert components_dicts(np.array([components, components]), [delta, 0.0]) == [named, components_dict(np.array(components), 0.0)]
    explanation = Explanation.of(named, [BecauseItem("A", 0.5)], ["kw"], ["rule"], "why", [], [])
    assert explanation == Explanation(named, [BecauseItem("A", 0.5)], ["kw"], ["rule"], "why", [], [])
    assert Recommendation.of("X", 1, 0.5, explanation) == Recommendation("X", 1, 0.5, explanation)
