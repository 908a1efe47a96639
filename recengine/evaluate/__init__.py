"""Offline evaluation: splits, metrics, baselines side by side, saved experiments.

Entry point: `run_evaluation(workspace_or_data, k=10, methods=None, progress=None) -> EvaluationResult`.
"""

from __future__ import annotations

from recengine.evaluate.baselines import (
    ALS,
    EmbeddingProfile,
    HybridRanker,
    ItemKNN,
    MostPopular,
    Ranker,
    TfidfProfile,
)
from recengine.evaluate.data import EvaluationData, from_workspace
from recengine.evaluate.experiments import (
    Experiment,
    ExperimentComparison,
    compare_experiments,
    list_experiments,
    load_experiment,
    save_experiment,
)
from recengine.evaluate.metrics import Estimate, PairedTest, bootstrap_ci, paired_test
from recengine.evaluate.runner import (
    METHOD_NAMES,
    EvaluationResult,
    MethodResult,
    evaluate_data,
    run_evaluation,
)
from recengine.evaluate.splits import Split, Splits, global_time_split, leave_last_out, make_splits

__all__ = [
    "ALS",
    "METHOD_NAMES",
    "EmbeddingProfile",
    "Estimate",
    "EvaluationData",
    "EvaluationResult",
    "Experiment",
    "ExperimentComparison",
    "HybridRanker",
    "ItemKNN",
    "MethodResult",
    "MostPopular",
    "PairedTest",
    "Ranker",
    "Split",
    "Splits",
    "TfidfProfile",
    "bootstrap_ci",
    "compare_experiments",
    "evaluate_data",
    "from_workspace",
    "global_time_split",
    "leave_last_out",
    "list_experiments",
    "load_experiment",
    "make_splits",
    "paired_test",
    "run_evaluation",
    "save_experiment",
]
