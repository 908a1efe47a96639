"""`recengine recommend`: one customer's list (table or json) or a batch export (jsonl or csv)."""

from __future__ import annotations

import argparse
import csv
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recengine.cli.common import add_workspace_argument, open_workspace, print_json, print_table
from recengine.distributed import add_engine_arguments, check_engine_arguments
from recengine.errors import ConfigError, NotFoundError, RecEngineError
from recengine.progress import StderrProgress
from recengine.recommend import COMPONENTS, NewArrivals, Recommendation, RuleSet
from recengine.recommend.attribution import attribution_text
from recengine.recommend.json_lines import recommendation_json_line, recommendation_record

if TYPE_CHECKING:
    from recengine.workspace import Workspace

CSV_COLUMNS = ("user_id", "rank", "item_id", "score", *COMPONENTS, "rules_delta", "because", "shared_keywords", "rules", "reason",
               "attribution")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recommend",
        help="Recommend products for a customer (or export for many) with explanations.",
        description="One customer: --user ID prints a table (--explain adds the reasons) or json "
        "(always with explanations). Many customers: --users-file F (one id per line) with "
        "--format jsonl|csv and --out F. Typed interests for a new customer: --interests TEXT.",
    )
    add_workspace_argument(parser)
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="Customer id.")
    who.add_argument("--users-file", type=Path, help="File with one customer id per line (batch export).")
    who.add_argument("--interests", help="Typed interests of a new customer, e.g. 'jazz on vinyl under $20' "
                     "(price limits, ratings, exclusions and named categories/brands are read as in `search`).")
    parser.add_argument("-k", type=int, default=10, help="Products per customer (default 10).")
    parser.add_argument("--explain", action="store_true",
                        help="Table: add the closest history items, the attribution (each history product's part "
                        "of the collaborative and semantic scores) and the reason.")
    parser.add_argument("--format", choices=["table", "json", "jsonl", "csv"], default=None,
                        help="table|json for --user, jsonl|csv for --users-file.")
    parser.add_argument("--out", type=Path, help="Output file of a batch export.")
    parser.add_argument("--rules", type=Path, help="JSON file with business rules (RuleSet.to_json()).")
    parser.add_argument("--no-rules", action="store_true", help="Switch all rules off (clean comparison).")
    parser.add_argument("--workers", type=int, default=None,
                        help="Processes for a batch export (default: one per idle core); "
                        "with --engine ray, recommender actors (default: one per CPU of the cluster).")
    parser.add_argument("--include-seen", action="store_true", help="Allow products the customer already has.")
    parser.add_argument("--weight", action="append", default=[], metavar="COMPONENT=W",
                        help=f"Override a score weight ({', '.join(COMPONENTS)}); repeatable.")
    parser.add_argument("--ease-l2", type=float, default=None, metavar="L2",
                        help="Collaborative signal for this run: 0 = co-occurrence, above 0 = EASE with this L2 "
                        "penalty (default: the collaborative_ease_l2 setting; the dashboard's 'Collaborative signal').")
    parser.add_argument("--review-weight", type=float, default=None, metavar="W",
                        help="How much each product's reviews' text counts in its vector for this run: 0 = catalog "
                        "text only (default: the review_vector_weight setting; the dashboard's 'Describe products "
                        "by their reviews too').")
    parser.add_argument("--new-arrivals", type=float, default=None, metavar="DAYS",
                        help="New-arrivals rule: products first seen within DAYS of the newest data (or nobody has "
                        "bought yet) get room in every list (default: the new_arrivals_days setting, 0 = off).")
    parser.add_argument("--new-arrivals-share", type=float, default=0.2, metavar="S",
                        help="With --new-arrivals: their minimum share of each list (default 0.2).")
    parser.add_argument("--new-arrivals-positions", default="", metavar="P,P",
                        help="With --new-arrivals: fixed 1-based positions instead of a share, e.g. 3,7.")
    add_engine_arguments(parser, workers=False)
    parser.set_defaults(handler=run)


def with_new_arrivals(rules: RuleSet | None, arguments: argparse.Namespace) -> RuleSet | None:
    """The rules plus the --new-arrivals rule when asked for."""
    if arguments.new_arrivals is None:
        return rules
    try:
        positions = tuple(int(part) for part in arguments.new_arrivals_positions.split(",") if part.strip())
    except ValueError:
        raise ConfigError(
            f"--new-arrivals-positions {arguments.new_arrivals_positions!r} is not a list of positions.",
            hint="E.g. --new-arrivals-positions 3,7.",
        ) from None
    rule = NewArrivals(days=arguments.new_arrivals, share=arguments.new_arrivals_share, positions=positions)
    return (rules or RuleSet()).with_rule(rule)


def use_run_settings(workspace: Workspace, ease_l2: float | None, review_weight: float | None = None) -> None:
    """Override the workspace's collaborative signal and reviews' text weight for this process only
    (config.toml is not touched)."""
    from recengine.recommend.workspace_model import with_collaborative_signal, with_review_text

    recommend = with_review_text(with_collaborative_signal(workspace.settings.recommend, ease_l2), review_weight)
    workspace.settings = workspace.settings.model_copy(update={"recommend": recommend})


def parse_weights(pairs: list[str]) -> dict[str, float]:
    weights: dict[str, float] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--weight {pair!r} is not COMPONENT=NUMBER.", hint="E.g. --weight semantic=0.5.") from None
    return weights


def load_rules(path: Path | None, off: bool) -> RuleSet | None:
    rules = None
    if path is not None:
        try:
            rules = RuleSet.from_json(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"Cannot read the rules file {path}: {error.strerror}.") from error
    if off:
        rules = RuleSet((rules.rules if rules else ()), enabled=False)
    return rules


def read_user_ids(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as error:
        raise ConfigError(f"Cannot read the users file {path}: {error.strerror}.") from error
    ids = [line.split(",")[0].strip().strip('"') for line in lines if line.strip()]
    if ids and ids[0].lower() in ("user_id", "user", "customer_id"):
        ids = ids[1:]
    if not ids:
        raise ConfigError(f"The users file {path} lists no customer ids.", hint="Put one id per line.")
    return ids


def recommendation_line(user_id: str, recommendations: list[Recommendation]) -> dict[str, object]:
    """The jsonl line of DESIGN.md: user_id and recommendations with explanation on every item."""
    return recommendation_record(user_id, recommendations)


def jsonl_line(user_id: str, recommendations: list[Recommendation]) -> str:
    """One line of the jsonl export (`recommendation_line` as JSON, newline included; see json_lines.py)."""
    return recommendation_json_line(user_id, recommendations)


def csv_rows(user_id: str, recommendations: list[Recommendation]) -> list[list[object]]:
    rows = []
    for item in recommendations:
        explanation = item.explanation
        rows.append([
            user_id, item.rank, item.item_id, item.score,
            *[explanation.components.get(name, 0.0) for name in COMPONENTS],
            explanation.components.get("rules", 0.0),
            ";".join(f"{entry.item_id}:{entry.similarity:.4f}" for entry in explanation.because),
            ";".join(explanation.shared_keywords),
            ";".join(explanation.rules),
            explanation.reason,
            attribution_text(explanation.attribution),
        ])
    return rows


def run(arguments: argparse.Namespace) -> int:
    if arguments.k <= 0:
        raise ConfigError(f"-k {arguments.k} must be at least 1.")
    use_ray = check_engine_arguments(arguments)
    if use_ray and arguments.users_file is None:
        raise ConfigError("--engine ray is for batch exports.", hint="Use --users-file F --format jsonl|csv --out F.")
    workspace = open_workspace(arguments)
    use_run_settings(workspace, arguments.ease_l2, arguments.review_weight)
    rules = with_new_arrivals(load_rules(arguments.rules, arguments.no_rules), arguments)
    weights = parse_weights(arguments.weight)
    from recengine.recommend.workspace_model import recommender_for

    if arguments.users_file is not None:
        return _export(arguments, workspace, rules, weights, use_ray=use_ray)
    output = arguments.format or "table"
    if output not in ("table", "json"):
        raise ConfigError(f"--format {output} is for batch exports.", hint="Use --users-file with jsonl or csv, or --format table|json.")
    if workspace.store.count("items") == 0:
        raise NotFoundError("The workspace has no products.", hint="Ingest a catalog first (`recengine ingest`).")
    recommender = recommender_for(workspace, progress=StderrProgress())
    typed = None
    if arguments.interests is not None:
        from recengine.recommend.intent_match import recommend_for_intent

        user_id = ""
        typed = recommend_for_intent(recommender, arguments.interests, arguments.k, rules=rules, weights=weights)
        recommendations = typed.recommendations
    else:
        user_id = str(arguments.user)
        if not recommender.has_user(user_id):
            known = workspace.store.scalar("SELECT count(*) FROM users WHERE user_id = ?", [user_id])
            if not known:
                raise NotFoundError(
                    f"No customer with id {user_id!r} in this workspace.",
                    hint="Check the id (`recengine export --table users`), or use --interests for a new customer.",
                )
        recommendations = recommender.recommend(
            user_id, arguments.k, rules=rules, exclude_seen=not arguments.include_seen, weights=weights
        )
    if output == "json":
        line = recommendation_line(user_id, recommendations)
        if typed is not None:
            line |= {"intent": typed.intent.to_dict(), "note": typed.note}
        print_json(line)
        return 0
    if typed is not None:
        from recengine.cli.search import print_intent

        print_intent(typed.intent, typed.note)
    titles = recommender.catalog.titles
    positions = recommender.catalog.positions
    headers = ["rank", "item_id", "score", *COMPONENTS, "title"]
    rows: list[list[object]] = []
    for item in recommendations:
        components = item.explanation.components
        row: list[object] = [item.rank, item.item_id, item.score, *[components.get(name, 0.0) for name in COMPONENTS],
                             str(titles[positions[item.item_id]])[:40]]
        if arguments.explain:
            row += [", ".join(f"{entry.item_id} ({entry.similarity:.2f})" for entry in item.explanation.because),
                    attribution_text(item.explanation.attribution, limit=3, digits=3), item.explanation.reason]
        rows.append(row)
    if arguments.explain:
        headers += ["because", "attribution", "reason"]
    print_table(rows, headers)
    return 0


def _export(
    arguments: argparse.Namespace, workspace: object, rules: RuleSet | None, weights: dict[str, float],
    *, use_ray: bool = False,
) -> int:
    from recengine.recommend.workspace_model import recommender_for

    output = arguments.format
    if output not in ("jsonl", "csv"):
        raise ConfigError("A batch export needs --format jsonl or --format csv.", hint="Add --format jsonl --out FILE.")
    if arguments.out is None:
        raise ConfigError("A batch export needs --out FILE.")
    user_ids = read_user_ids(arguments.users_file)
    progress = StderrProgress()
    render: Callable[[str, list[Recommendation]], Any] = csv_rows if output == "csv" else jsonl_line
    results: Iterable[Any]
    if use_ray:
        from recengine.distributed.recommend import recommend_with_ray

        pairs = recommend_with_ray(
            workspace, user_ids, arguments.k, rules=rules, weights=weights,  # type: ignore[arg-type]
            address=arguments.address, workers=arguments.workers, shards=arguments.shards, progress=progress,
        )
        results = (render(user_id, recommendations) for user_id, recommendations in pairs)
    else:
        recommender = recommender_for(workspace, progress=StderrProgress())  # type: ignore[arg-type]
        # Rendered where they are computed: worker processes send back lines, not explained records.
        results = recommender.render_many(
            user_ids, render, arguments.k, rules=rules, weights=weights, progress=progress, workers=arguments.workers
        )
    out: Path = arguments.out
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    try:
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle) if output == "csv" else None
            if writer is not None:
                writer.writerow(CSV_COLUMNS)
            for rendered in results:
                if writer is not None:
                    writer.writerows(rendered)
                else:
                    handle.write(rendered)
        os.replace(temporary, out)
    except (OSError, RecEngineError):
        temporary.unlink(missing_ok=True)
        raise
    print(f"wrote recommendations for {len(user_ids):,} customers to {out}")
    return 0
