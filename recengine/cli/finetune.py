"""`recengine finetune`: fine-tune the encoder on the workspace's data and print before/after metrics."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from recengine.cli.common import (
    add_format_argument,
    add_workspace_argument,
    open_workspace,
    print_json,
    print_table,
)
from recengine.progress import StderrProgress
from recengine.train.advice import activation_advice


def register(subparsers: argparse._SubParsersAction) -> None:
    from recengine.train.arguments import OBJECTIVES, FineTuneArguments

    helps = FineTuneArguments.help_texts()
    defaults = FineTuneArguments.defaults()
    parser = subparsers.add_parser(
        "finetune",
        help="Fine-tune the encoder on this workspace's customers and reviews; print before/after metrics.",
        description=(
            "Holds out the evaluation's test data, trains with the chosen objective and registers the new "
            "version. --objective pairs builds positive pairs (next item a customer engaged with, positive "
            "review -> product, co-bought products) and trains with MultipleNegativesRankingLoss; metrics "
            "are NDCG@10 and Recall@10 of finding the right product for held-out validation pairs. "
            "--objective interactions (beeFormer) trains the similarity of product texts to reconstruct "
            "which products each customer chose together; metrics are NDCG@10 and Recall@10 of finding "
            "validation customers' latest product from their others. Both also report the recommender "
            "before and after on held-out customers."
        ),
    )
    add_workspace_argument(parser)
    parser.add_argument(
        "--objective", choices=OBJECTIVES, default=defaults["objective"], help=helps["objective"]
    )
    parser.add_argument("--epochs", type=int, default=defaults["epochs"], help=helps["epochs"])
    parser.add_argument("--batch-size", type=int, default=defaults["batch_size"], help=helps["batch_size"])
    parser.add_argument("--max-pairs", type=int, default=defaults["max_pairs"], help=helps["max_pairs"])
    parser.add_argument("--learning-rate", type=float, default=defaults["learning_rate"], help=helps["learning_rate"])
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="Any other fine-tuning setting, e.g. --set hard_negatives=1 --set use_cached_mnrl=true "
        "--set trainable_layers=-1 (a --set wins over the flags above). "
        f"Settings: {', '.join(sorted(helps))}.",
    )
    parser.add_argument("--activate", action="store_true", help="Switch to the new version when training succeeds.")
    parser.add_argument(
        "--background",
        action="store_true",
        help="Run as a background job (follow it with `recengine jobs show ID`) instead of in this process.",
    )
    add_format_argument(parser)
    parser.set_defaults(handler=run)


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """NAME=VALUE strings to typed values (bool, int, float, comma lists, else text)."""
    from recengine.errors import ConfigError

    values: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--set {pair!r} is not NAME=VALUE.", hint="For example --set hard_negatives=1.")
        name, raw = (part.strip() for part in pair.split("=", 1))
        values[name] = _typed(raw)
    return values


def _typed(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    if "," in raw:
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def run(arguments: argparse.Namespace) -> int:
    from recengine.train.arguments import FineTuneArguments

    values = {
        "objective": arguments.objective,
        "epochs": arguments.epochs,
        "batch_size": arguments.batch_size,
        "max_pairs": arguments.max_pairs,
        "learning_rate": arguments.learning_rate,
        **parse_settings(arguments.set),
    }
    settings = FineTuneArguments.from_dict(values)  # validates before anything starts
    workspace = open_workspace(arguments)
    if arguments.background:
        from recengine.jobs import job_runner

        record = job_runner(workspace).submit(
            "finetune_encoder", {"arguments": settings.to_dict(), "activate": arguments.activate}
        )
        if arguments.format == "json":
            print_json({"job_id": record.job_id, "status": record.status})
        else:
            print(f"started job {record.job_id}; follow it with `recengine jobs show {record.job_id}`")
        return 0

    from recengine.train.finetune import train_and_register

    def log_event(kind: str, values: dict[str, Any]) -> None:
        if kind == "log":
            print(f"\n{values.get('message', '')}", file=sys.stderr)

    outcome = train_and_register(
        workspace, settings, activate=arguments.activate, progress=StderrProgress(), on_event=log_event
    )
    version = outcome.version
    if arguments.format == "json":
        print_json(
            {
                "version_id": version.version_id,
                "activated": outcome.activated,
                "metrics_before": version.metrics_before,
                "metrics_after": version.metrics_after,
                "pairs_per_source": version.pairs_per_source,
                "duration_s": version.duration_s,
                "hyperparameters": version.hyperparameters,
                "advice": activation_advice(version),
            }
        )
        return 0
    print(f"version {version.version_id}" + (" (active)" if outcome.activated else " (registered, not active)"))
    print(f"objective: {version.hyperparameters.get('objective', 'pairs')}")
    print(f"training data: {', '.join(f'{source} {count}' for source, count in version.pairs_per_source.items())}")
    print(f"training took {version.duration_s:.0f} s")
    print_table(metric_rows(version.metrics_before, version.metrics_after), ["metric", "before", "after", "change"])
    print(activation_advice(version))
    return 0


def metric_rows(before: dict[str, float], after: dict[str, float]) -> list[list[Any]]:
    rows = []
    for metric in sorted(set(before) | set(after)):
        if "@" not in metric:
            continue
        old, new = before.get(metric), after.get(metric)
        change = f"{(new - old) / old:+.1%}" if old and new is not None else ""
        rows.append([metric, old, new, change])
    return rows
