"""`recengine evaluate`: offline metrics of the recommender against baselines on the workspace's data."""

from __future__ import annotations

import argparse

from recengine.cli.common import (
    add_format_argument,
    add_workspace_argument,
    open_workspace,
    print_json,
    print_table,
)
from recengine.progress import StderrProgress


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="Compare the recommender with baselines (leave-last-out by time, full ranking).",
        description=(
            "Hold out each customer's latest product, rank the whole catalog with every method and "
            "report Recall, NDCG, HitRate and MRR with 95%% bootstrap intervals over customers."
        ),
    )
    add_workspace_argument(parser)
    parser.add_argument("-k", "--k", type=int, default=10, help="Cutoff K of the top-K metrics (default 10).")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        metavar="METHOD",
        help="Methods to run: MostPopular ItemKNN ALS TF-IDF Embedding Hybrid (default: all the data allows).",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=None,
        metavar="VERSION",
        help=(
            "Encoder versions of the model registry to evaluate next to the active one, as "
            "'Embedding (VERSION)' and 'Hybrid (VERSION)' rows: version ids, 'all' or 'none' "
            "(default: the 3 newest versions other than the active one)."
        ),
    )
    parser.add_argument(
        "--split",
        choices=["leave_last_out", "global_time", "new_products"],
        default="leave_last_out",
        help=(
            "How to hold data out (default: each customer's last product by time). new_products makes a "
            "share of the products new (all their interactions left out) and measures how well each "
            "method ranks them, among new products and in the hybrid's whole-catalog lists."
        ),
    )
    parser.add_argument(
        "--new-share",
        type=float,
        default=0.2,
        help="With --split new_products: share of the products with interactions made new (default 0.2).",
    )
    parser.add_argument("--resamples", type=int, default=1000, help="Bootstrap resamples (default 1000).")
    parser.add_argument("--save", action="store_true", help="Save the result as an experiment in the workspace.")
    parser.add_argument(
        "--faithfulness", action="store_true",
        help="Instead: check that explanations match the score. For a sample of customers, remove the history "
        "product with the largest attributed part, score again and compare (see docs/EVALUATION.md).",
    )
    parser.add_argument("--customers", type=int, default=300, metavar="N",
                        help="With --faithfulness: customers sampled (default 300).")
    add_format_argument(parser)
    parser.set_defaults(handler=run)


def versions_line(result: object) -> str:
    """Which encoder the plain Embedding/Hybrid rows use, and which other versions were compared."""
    config = getattr(result, "config", {}) or {}
    active = config.get("active_model_version") or "-"
    others = list(config.get("model_versions") or {})
    compared = ", ".join(others) if others else "none compared"
    return f"Encoder versions: active {active} (the plain Embedding and Hybrid rows); others: {compared}."


def run(arguments: argparse.Namespace) -> int:
    from recengine.errors import ConfigError
    from recengine.evaluate import run_evaluation, save_experiment

    if arguments.k < 1:
        raise ConfigError(f"-k must be at least 1, got {arguments.k}.")
    if arguments.resamples < 10:
        raise ConfigError(f"--resamples must be at least 10, got {arguments.resamples}.")
    workspace = open_workspace(arguments)
    if arguments.faithfulness:
        return _faithfulness(workspace, arguments)
    if arguments.split == "new_products":
        return _run_new_products(workspace, arguments)
    result = run_evaluation(
        workspace,
        k=arguments.k,
        methods=arguments.methods,
        strategy=arguments.split,
        n_resamples=arguments.resamples,
        progress=StderrProgress(),
        model_versions=arguments.models,
    )
    experiment_id = save_experiment(workspace, result).experiment_id if arguments.save else None
    if arguments.format == "json":
        payload = result.to_dict()
        if experiment_id:
            payload["experiment_id"] = experiment_id
        print_json(payload)
        return 0
    table = result.table()
    print(f"{result.dataset}: {result.users:,} customers tested, {result.items:,} products ranked")
    print(f"Split: {result.split}.")
    print(versions_line(result))
    print()
    print_table(table.values.tolist(), list(table.columns))
    print()
    print(result.verdict)
    if experiment_id:
        print(f"Saved as experiment {experiment_id}.")
    return 0


def _faithfulness(workspace: object, arguments: argparse.Namespace) -> int:
    """`--faithfulness`: the attribution's counterfactual check on the workspace's own customers."""
    from recengine.errors import ConfigError
    from recengine.evaluate.faithfulness import evaluate_faithfulness, figures, sample_customers
    from recengine.recommend.workspace_model import recommender_for

    if arguments.customers < 1:
        raise ConfigError(f"--customers must be at least 1, got {arguments.customers}.")
    recommender = recommender_for(workspace, progress=StderrProgress())  # type: ignore[arg-type]
    report = evaluate_faithfulness(recommender, sample_customers(recommender, arguments.customers), arguments.k)
    rows = figures(report)
    if arguments.format == "json":
        print_json({"figures": dict(rows), "summary": report.summary(), "named": report.named,
                    "covered": report.covered, "covered_all": report.covered_all})
        return 0
    print_table([list(row) for row in rows], ["measure", "value"])
    return 0


def _run_new_products(workspace: object, arguments: argparse.Namespace) -> int:
    from recengine.evaluate.cold_start_run import evaluate_new_products

    evaluation = evaluate_new_products(
        workspace,  # type: ignore[arg-type]
        share=arguments.new_share,
        n_resamples=arguments.resamples,
        progress=StderrProgress(),
    )
    if arguments.format == "json":
        print_json(evaluation.to_dict())
        return 0
    print(f"{evaluation.dataset}: {evaluation.users:,} customers tested, {evaluation.new_products:,} new products")
    print(f"Split: {evaluation.description}.")
    for title, result in (("Among new products only", evaluation.among_new), ("Whole catalog", evaluation.whole_catalog)):
        table = result.table()
        print()
        print(f"{title} (paired tests against {result.reference}):")
        print_table(table.values.tolist(), list(table.columns))
    print()
    print(evaluation.verdict())
    return 0
