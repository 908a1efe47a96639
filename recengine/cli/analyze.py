"""`recengine analyze`: keywords, aspects and sentiment for new or changed reviews."""

from __future__ import annotations

import argparse

from recengine.cli.common import (
    add_format_argument,
    add_workspace_argument,
    open_workspace,
    print_json,
    print_table,
)
from recengine.config import ENCODER_TUNING_CHOICES
from recengine.distributed import add_engine_arguments, check_engine_arguments
from recengine.progress import StderrProgress


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="Keywords, aspects and sentiment of new or changed reviews.",
        description="Analyse reviews that are new or changed since the last run (all with --force), "
        "train the sentiment model when enough rated reviews exist, and refresh the per-product, "
        "brand and category summaries. Progress goes to stderr, the report to stdout.",
    )
    add_workspace_argument(parser)
    add_format_argument(parser)
    parser.add_argument("--force", action="store_true", help="Re-analyse every review and retrain the model.")
    parser.add_argument(
        "--tune-encoder", choices=ENCODER_TUNING_CHOICES, default=None,
        help="First save text.sentiment_encoder_tuning in the workspace's config.toml: tune a copy of the "
        "encoder for sentiment on the rated reviews before training the sentiment model (experimental, a "
        "few minutes on a CPU; auto: only when the plain model's held-out polarity F1 is under 0.85). "
        "The model retrains when the choice changes.",
    )
    parser.add_argument(
        "--sentiment-prior", metavar="WORKSPACE", default=None,
        help="First save text.sentiment_prior: borrow the sentiment model of another shop's workspace (same "
        "encoder); its verdict on each review becomes one more input of this shop's model. \"none\" borrows "
        "nothing. The model retrains when the choice changes.",
    )
    add_engine_arguments(parser)
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    from recengine.text.analysis import analyze_reviews
    from recengine.text.sentiment_prior import save_sentiment_prior
    from recengine.text.sentiment_stage import save_encoder_tuning

    use_ray = check_engine_arguments(arguments)
    workspace = open_workspace(arguments)
    if arguments.tune_encoder is not None:
        save_encoder_tuning(workspace, arguments.tune_encoder)
    if arguments.sentiment_prior is not None:
        save_sentiment_prior(workspace, None if arguments.sentiment_prior.lower() in ("", "none") else arguments.sentiment_prior)
    if use_ray:
        from recengine.distributed.analyze import analyze_with_ray

        report = analyze_with_ray(workspace, force=arguments.force, address=arguments.address,
                                  workers=arguments.workers, shards=arguments.shards, progress=StderrProgress()).report
    else:
        report = analyze_reviews(workspace, progress=StderrProgress(), force=arguments.force)
    if arguments.format == "json":
        print_json(report)
        return 0
    rows: list[tuple[str, object]] = [
        ("reviews", report.reviews),
        ("analysed now", report.analyzed),
        ("unchanged", report.unchanged),
        ("removed", report.removed),
        ("re-scored", report.rescored),
        ("sentiment method", report.sentiment_method),
        ("why", report.method_reason),
        ("aspects", report.aspects),
        ("items with keywords", report.items_with_keywords),
        ("seconds", report.seconds),
    ]
    if report.quality is not None:
        learned, lexicon = report.quality.learned, report.quality.lexicon
        rows += [
            ("held-out reviews", report.quality.held_out_reviews),
            ("learned accuracy / macro-F1 / polarity F1",
             f"{learned.accuracy:.3f} / {learned.macro_f1:.3f} / {learned.polarity_macro_f1:.3f}"),
            ("lexicon accuracy / macro-F1 / polarity F1",
             f"{lexicon.accuracy:.3f} / {lexicon.macro_f1:.3f} / {lexicon.polarity_macro_f1:.3f}"),
        ]
        borrowed = report.quality.borrowed
        if borrowed is not None:
            rows.append(("borrowed model alone: accuracy / macro-F1 / polarity F1",
                         f"{borrowed.accuracy:.3f} / {borrowed.macro_f1:.3f} / {borrowed.polarity_macro_f1:.3f}"))
    elif report.lexicon_quality is not None:
        lexicon = report.lexicon_quality
        rows.append(("lexicon accuracy / macro-F1 / polarity F1 (all rated)",
                     f"{lexicon.accuracy:.3f} / {lexicon.macro_f1:.3f} / {lexicon.polarity_macro_f1:.3f}"))
    print_table(rows, ["", "value"])
    return 0
