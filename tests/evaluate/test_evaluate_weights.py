"""Suggesting score weights from a shop's own data, and saving them: only a real gain is worth saving."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from recengine.cli import tune_weights as tune_weights_command
from recengine.config import RecommendSettings
from recengine.errors import ConfigError
from recengine.evaluate.data import EvaluationData
from recengine.evaluate.metrics import PairedTest
from recengine.evaluate.tuning import TuningResult
from recengine.evaluate.weights import (
    COLLABORATIVE_FIELDS,
    WeightSuggestion,
    choose_and_confirm,
    save_weights,
    suggest_weights,
)
from recengine.workspace import CONFIG_FILE, Workspace

POPULARITY_ONLY = {"weight_semantic": 0.0, "weight_collaborative": 0.0, "weight_popularity": 1.0,
                   "weight_quality": 0.0, "weight_recency": 0.0}


def test_a_clearly_better_setting_is_suggested(checkerboard: EvaluationData) -> None:
    # Best-sellers rank group A first for everyone: any setting with co-occurrence is far better.
    current = RecommendSettings(**POPULARITY_ONLY)
    suggestion = suggest_weights(checkerboard, settings=current, collaborative_grid=[], k=2, n_resamples=200)
    assert suggestion.current["popularity"] == 1.0
    assert suggestion.suggested["collaborative"] > 0
    assert sum(suggestion.suggested.values()) == pytest.approx(1.0)  # same total as the current weights
    assert suggestion.suggested_value > suggestion.current_value
    assert suggestion.difference.significant and suggestion.worth_applying
    assert suggestion.folds == 2 and suggestion.customers > 18  # two validation folds of the 18 customers
    assert "significantly better" in suggestion.verdict
    assert suggestion.to_dict()["worth_applying"] is True


def test_with_nothing_else_to_try_the_current_weights_stay(checkerboard: EvaluationData) -> None:
    current = RecommendSettings(**POPULARITY_ONLY)
    suggestion = suggest_weights(
        checkerboard, settings=current, grid=[{"popularity": 3.0}], collaborative_grid=[], k=2, n_resamples=200
    )
    # The same ranking at another scale is no change: the current setting (tried first) is kept.
    assert suggestion.suggested == suggestion.current
    assert not suggestion.worth_applying
    assert "already the best" in suggestion.verdict


def test_a_gain_within_the_noise_is_not_worth_applying() -> None:
    noisy = PairedTest(mean_difference=0.01, low=-0.005, high=0.025, p_value=0.2, method="bootstrap", significant=False)
    suggestion = WeightSuggestion(
        current={"semantic": 0.5, "collaborative": 0.5}, suggested={"semantic": 0.2, "collaborative": 0.8},
        current_collaborative={"collaborative_alpha": 0.5}, suggested_collaborative={"collaborative_alpha": 0.5},
        metric="ndcg", k=10, current_value=0.20, suggested_value=0.21, difference=noisy, customers=400, folds=2,
        trials=pd.DataFrame(),
    )
    assert not suggestion.worth_applying
    assert "within the noise" in suggestion.verdict and "NDCG@10 0.2000 -> 0.2100" in suggestion.verdict
    better = WeightSuggestion(**{**suggestion.__dict__, "difference": PairedTest(0.03, 0.01, 0.05, 0.002, "bootstrap", True)})
    assert better.worth_applying


def test_co_occurrence_settings_are_tried_with_every_weight_setting(checkerboard: EvaluationData) -> None:
    current = RecommendSettings(**POPULARITY_ONLY)
    variants = [{"collaborative_alpha": 0.7}, {"collaborative_alpha": 0.5}]  # the second is the current one
    suggestion = suggest_weights(
        checkerboard, settings=current, grid=[{"collaborative": 1.0}], collaborative_grid=variants, k=2, n_resamples=200
    )
    assert len(suggestion.trials) == 4  # (current, alpha 0.7) x (current weights, the grid's one)
    assert sorted(suggestion.trials["collaborative_alpha"].unique().tolist()) == [0.5, 0.7]
    assert suggestion.current_collaborative == {
        "collaborative_alpha": 0.5, "collaborative_shrink": 5.0, "collaborative_ease_l2": 0.0
    }
    assert suggestion.suggested_collaborative["collaborative_alpha"] in (0.5, 0.7)
    assert [row[0] for row in suggestion.rows()][-3:] == list(COLLABORATIVE_FIELDS)


def test_the_default_grid_tries_ease_against_co_occurrence(checkerboard: EvaluationData) -> None:
    suggestion = suggest_weights(checkerboard, grid=[{"collaborative": 1.0}], k=2, n_resamples=200)
    methods = set(suggestion.trials["collaborative_ease_l2"].tolist())
    assert 0.0 in methods and any(value > 0 for value in methods)  # co-occurrence and EASE side by side


def test_save_weights_keeps_other_settings_and_takes_effect(workspace: Workspace) -> None:
    path = workspace.root / CONFIG_FILE
    path.write_text("[text]\nkeywords_per_review = 7\n\n[recommend]\nmax_interests = 2\n", encoding="utf-8")
    workspace.settings = workspace.settings.load(path)
    written = save_weights(
        workspace, {"semantic": 0.1, "collaborative": 0.9, "popularity": 0.0}, {"collaborative_alpha": 0.7}
    )
    assert written == path
    assert workspace.settings.recommend.weight_collaborative == 0.9
    reopened = Workspace.open(workspace.root)
    assert reopened.settings.recommend.weight_semantic == 0.1
    assert reopened.settings.recommend.weight_popularity == 0.0
    assert reopened.settings.recommend.weight_quality == RecommendSettings().weight_quality  # untouched
    assert reopened.settings.recommend.max_interests == 2
    assert reopened.settings.recommend.collaborative_alpha == 0.7
    assert reopened.settings.text.keywords_per_review == 7


@pytest.mark.parametrize(
    "weights", [{"semantic": -1.0}, {"novelty": 1.0}, dict.fromkeys(("semantic", "collaborative", "popularity", "quality", "recency"), 0.0)]
)
def test_bad_weights_are_refused_and_the_file_is_untouched(workspace: Workspace, weights: dict[str, float]) -> None:
    path = workspace.root / CONFIG_FILE
    path.write_text("[recommend]\nweight_semantic = 0.5\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        save_weights(workspace, weights)
    assert path.read_text(encoding="utf-8") == "[recommend]\nweight_semantic = 0.5\n"


@pytest.mark.parametrize("collaborative", [{"collaborative_alpha": 2.0}, {"collaborative_neighbours": 10}])
def test_bad_co_occurrence_settings_are_refused(workspace: Workspace, collaborative: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        save_weights(workspace, {"collaborative": 1.0}, collaborative)
    assert not (workspace.root / CONFIG_FILE).exists()


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="recengine")
    tune_weights_command.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["tune-weights", *argv])


def test_cli_applies_a_significant_suggestion(filled_workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    config = filled_workspace.root / CONFIG_FILE
    config.write_text("[recommend]\n" + "".join(f"{key} = {value}\n" for key, value in POPULARITY_ONLY.items()))
    arguments = parse("--workspace", str(filled_workspace.root), "-k", "2", "--resamples", "200", "--apply", "--format", "json")
    assert arguments.handler(arguments) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["worth_applying"] is True and payload["saved_to"] == str(config)
    assert Workspace.open(filled_workspace.root).settings.recommend.weight_collaborative > 0


def test_cli_does_not_save_without_a_real_gain(filled_workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    config = filled_workspace.root / CONFIG_FILE
    best = {**POPULARITY_ONLY, "weight_popularity": 0.0, "weight_collaborative": 1.0}
    config.write_text("[recommend]\n" + "".join(f"{key} = {value}\n" for key, value in best.items()))
    before = config.read_text()
    arguments = parse("--workspace", str(filled_workspace.root), "-k", "2", "--resamples", "200", "--apply")
    assert arguments.handler(arguments) == 0
    out = capsys.readouterr().out
    assert "weight_collaborative" in out and "collaborative_alpha" in out and "Not saved" in out
    assert config.read_text() == before


def test_force_needs_apply(filled_workspace: Workspace) -> None:
    arguments = parse("--workspace", str(filled_workspace.root), "--force")
    with pytest.raises(ConfigError):
        arguments.handler(arguments)


def _tuning(per_user: np.ndarray, customer_ids: list[str]) -> TuningResult:
    trials = pd.DataFrame({"ndcg": per_user.mean(axis=0)})
    return TuningResult("t", "ndcg", 10, {}, float("nan"), trials, len(per_user), (), per_user, tuple(customer_ids))


def test_the_choice_is_confirmed_on_customers_that_did_not_make_it() -> None:
    rng = np.random.default_rng(3)
    customers = [f"c{index}" for index in range(40) for _ in range(2)]  # two folds per customer
    current = np.full(len(customers), 0.3)
    lucky = [current + rng.normal(0, 0.1, len(customers)) for _ in range(30)]  # pure noise around current
    choice = choose_and_confirm(_tuning(np.column_stack([current, *lucky]), customers), n_resamples=300)
    assert choice.confirmation_customers == 40  # 20 customers, both of their rows on the same side
    assert choice.row > 0 and choice.selection_value > 0.3  # the best of 30 noisy settings looks better...
    assert not choice.confirmation.significant  # ...but not on the other half


def test_a_real_gain_is_confirmed() -> None:
    customers = [f"c{index}" for index in range(40)]
    current = np.linspace(0.1, 0.5, 40)
    choice = choose_and_confirm(_tuning(np.column_stack([current, current + 0.2]), customers), n_resamples=300)
    assert choice.row == 1 and choice.confirmation.significant
    assert choice.confirmation.mean_difference == pytest.approx(0.2)
