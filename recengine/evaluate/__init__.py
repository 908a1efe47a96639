"""Offline evaluation: splits, metrics, baselines side by side, saved experiments.

Entry point: `run_evaluation(workspace_or_data, k=10, methods=None, progress=None, model_versions=None)
-> EvaluationResult`. On a workspace, every encoder version of its model registry other than the active
one (the newest 3 unless `model_versions` chooses) is evaluated as "Embedding (<version>)" and
"Hybrid (<version>)" on the same split. `with_review_analysis` analyses a loaded data set's reviews
with `recengine.text` so the hybrid sees review sentiment as in the product. `evaluate_faithfulness`
checks that explanations match the score (remove the top attributed history product, score again).
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
from recengine.evaluate.faithfulness import FaithfulnessReport, evaluate_faithfulness
from recengine.evaluate.metrics import Estimate, PairedTest, bootstrap_ci, paired_test
from recengine.evaluate.review_analysis import ReviewAnalysisRun, with_review_analysis
from recengine.evaluate.runner import (
    METHOD_NAMES,
    EvaluationResult,
    MethodResult,
    evaluate_data,
    run_evaluation,
)
from recengine.evaluate.splits import Split, Splits, global_time_split, leave_last_out, make_splits
from recengine.evaluate.versions import (
    VersionVectors,
    registry_versions,
    select_versions,
    version_item_vectors,
)

__all__ = [
    "ALS",
    "METHOD_NAMES",
    "EmbeddingProfile",
    "Estimate",
    "EvaluationData",
    "EvaluationResult",
    "Experiment",
    "ExperimentComparison",
    "FaithfulnessReport",
    "HybridRanker",
    "ItemKNN",
    "MethodResult",
    "MostPopular",
    "PairedTest",
    "Ranker",
    "ReviewAnalysisRun",
    "Split",
    "Splits",
    "TfidfProfile",
    "VersionVectors",
    "bootstrap_ci",
    "compare_experiments",
    "evaluate_data",
    "evaluate_faithfulness",
    "from_workspace",
    "global_time_split",
    "leave_last_out",
    "list_experiments",
    "load_experiment",
    "make_splits",
    "paired_test",
    "registry_versions",
    "run_evaluation",
    "save_experiment",
    "select_versions",
    "version_item_vectors",
    "with_review_analysis",
]
