"""The evaluation runner end to end on frames and on a workspace, and saved experiments."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from recengine.errors import ConfigError, NotFoundError, NotReadyError
from recengine.evaluate import (
    EvaluationResult,
    compare_experiments,
    evaluate_data,
    list_experiments,
    load_experiment,
    run_evaluation,
    save_experiment,
)
from recengine.evaluate.baselines import ItemKNN
from recengine.evaluate.data import EvaluationData
from recengine.evaluate.experiments import MetricChange

FAST = ["MostPopular", "ItemKNN", "TF-IDF", "Embedding"]


def test_evaluation_ranks_good_methods_above_popularity(checkerboard: EvaluationData) -> None:
    result = evaluate_data(checkerboard, k=2, ks=(1, 2, 5), methods=FAST, n_resamples=200)
    assert [method.name for method in result.methods] == ["MostPopular", "ItemKNN", "TF-IDF", "Embedding"]
    assert result.users == 18 and result.items == 12
    knn = result.method("ItemKNN")
    assert knn.metrics["hit_rate"].mean == pytest.approx(1.0)
    assert knn.metrics["recall"].mean == pytest.approx(1.0)
    assert result.method("MostPopular").metrics["hit_rate"].mean < 1.0
    assert set(knn.by_k) == {1, 2, 5}
    assert knn.by_k[5]["recall"] >= knn.by_k[1]["recall"]
    assert knn.beyond["diversity"] is not None and 0 <= knn.beyond["coverage"] <= 1
    assert set(knn.slices) == {"cold users", "long-tail items"}
    # No hybrid was asked for: the best method by NDCG is the reference of the comparisons.
    assert result.reference in {"ItemKNN", "TF-IDF", "Embedding"}
    assert {comparison.other for comparison in result.comparisons} == set(FAST) - {result.reference}
    assert "top 2" in result.verdict and "%" in result.verdict
    frame = result.metrics_frame()
    assert set(frame.columns) == {"method", "metric", "k", "mean", "low", "high"}
    assert len(result.table()) == 4


def test_result_round_trips_through_a_dict(checkerboard: EvaluationData) -> None:
    result = evaluate_data(checkerboard, k=2, methods=["MostPopular", "ItemKNN"], n_resamples=50)
    assert same_result(EvaluationResult.from_dict(result.to_dict()), result)


def same_result(first: EvaluationResult, second: EvaluationResult) -> bool:
    """Equality that treats NaN (an empty slice's metrics) as equal to NaN."""
    return json.dumps(first.to_dict(), sort_keys=True) == json.dumps(second.to_dict(), sort_keys=True)


def test_verdict_says_when_the_difference_is_significant(checkerboard: EvaluationData) -> None:
    result = evaluate_data(
        checkerboard, k=1, methods=[ItemKNN(), _Named("Hybrid", ItemKNN())], n_resamples=200
    )
    assert result.reference == "Hybrid"
    assert "not significant" in result.verdict
    assert result.verdict.startswith("The hybrid finds")


class _Named:
    """Any ranker under another name (a stand-in for the hybrid)."""

    def __init__(self, name: str, inner: ItemKNN) -> None:
        self.name = name
        self.inner = inner

    def fit(self, train, items):  # type: ignore[no-untyped-def]
        self.inner.fit(train, items)
        return self

    def score(self, user_ids):  # type: ignore[no-untyped-def]
        return self.inner.score(user_ids)


def test_bad_requests_are_config_errors(checkerboard: EvaluationData) -> None:
    with pytest.raises(ConfigError, match="Unknown method"):
        evaluate_data(checkerboard, methods=["Magic"])
    with pytest.raises(ConfigError):
        evaluate_data(checkerboard, k=0)
    with pytest.raises(NotReadyError):
        evaluate_data(checkerboard, min_history=50, methods=["MostPopular"])


def test_run_evaluation_on_a_workspace_and_experiments(filled_workspace) -> None:  # type: ignore[no-untyped-def]
    result = run_evaluation(filled_workspace, k=2, methods=["MostPopular", "ItemKNN"], n_resamples=100)
    assert result.users == 18
    assert result.config["data"]["data_version"] == "1"
    first = save_experiment(filled_workspace, result, name="baseline run")
    assert same_result(load_experiment(filled_workspace, first.experiment_id).result, result)
    second_result = run_evaluation(filled_workspace, k=2, methods=["MostPopular", "ItemKNN", "TF-IDF"], n_resamples=100)
    second = save_experiment(filled_workspace, second_result)
    listed = list_experiments(filled_workspace)
    assert listed["experiment_id"].tolist() == [second.experiment_id, first.experiment_id]
    assert listed.iloc[1]["name"] == "baseline run"
    comparison = compare_experiments(filled_workspace, first.experiment_id, second.experiment_id)
    frame = comparison.frame()
    assert set(frame["method"]) == {"MostPopular", "ItemKNN"}
    assert (frame["change"].abs() < 1e-12).all()  # same data, same seed: same numbers
    assert "methods" in comparison.config_differences
    reference = result.reference  # the second run's reference (TF-IDF) is not in the first
    assert comparison.summary().startswith(f"{reference} found the next product in the top 2 for")
    assert comparison.summary().endswith(": unchanged.")
    moved = replace(comparison, changes=(MetricChange(reference, "hit_rate", 0.2, 0.3),))
    assert "20% of customers in 'baseline run' and 30% of customers" in moved.summary()
    assert moved.summary().endswith("up (+50%).")
    with pytest.raises(NotFoundError):
        load_experiment(filled_workspace, "nope")


def test_empty_workspace_says_what_is_missing(workspace) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotReadyError, match="no customer interactions"):
        run_evaluation(workspace, methods=["MostPopular"])


def test_status_section_reports_the_latest_experiment(filled_workspace) -> None:  # type: ignore[no-untyped-def]
    from recengine.evaluate.status import evaluation_status
    from recengine.status import status_sections

    assert "evaluation" in status_sections()
    assert evaluation_status(filled_workspace).saved_experiments == 0
    result = run_evaluation(filled_workspace, k=2, methods=["ItemKNN"], n_resamples=50)
    save_experiment(filled_workspace, result, name="nightly")
    status = evaluation_status(filled_workspace)
    assert status.saved_experiments == 1
    assert status.latest.startswith("nightly (") and status.latest_verdict == result.verdict
