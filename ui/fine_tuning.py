"""Streamlit glue of the Fine-tuning page: the job runner, cached data summary, charts and tables.

The page never trains in the Streamlit script thread: it submits a job to `recengine.jobs` (a separate
process) and polls the job's record and event log, so a reload or a closed browser only detaches.
Tests put a fake runner into `st.session_state[RUNNER_KEY]`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from recengine import config
from recengine.embed import encoder_runtime
from recengine.errors import RecEngineError
from recengine.jobs import JobEvent, JobRecord, JobRunnerProtocol, job_runner
from recengine.text.sentiment_labels import GOOD_POLARITY_F1
from recengine.text.sentiment_prior import (
    MODEL_FOLDER,
    checked_prior_folder,
    nearby_workspaces_with_models,
    setting_folder,
)
from recengine.train import registry
from recengine.train.advice import activation_advice, expected_cpu_finetune_seconds
from recengine.train.arguments import FineTuneArguments
from recengine.workspace import Workspace

RUNNER_KEY = "fine_tuning_runner"
POLL_S = 2.0
METRICS = ("ndcg@10", "recall@10")  # validation pairs: retrieving the right product
RECOMMENDER_METRICS = ("embedding ndcg@10", "embedding recall@10", "hybrid ndcg@10", "hybrid recall@10")
# Products held out as new (never trained on), ranked for the customers who liked one.
NEW_PRODUCT_METRICS = ("new products recall@20", "new products ndcg@100")


def runner_for(workspace: Workspace) -> JobRunnerProtocol:
    """The session's job runner (a fake one in tests)."""
    override = st.session_state.get(RUNNER_KEY)
    if override is not None:
        return override  # type: ignore[no-any-return]
    return job_runner(workspace)


@st.cache_data(show_spinner="Counting training pairs...", max_entries=8)
def data_summary(root: str, version: str) -> dict[str, Any]:
    """Counts of the workspace's data and of the training pairs each source would give."""
    from recengine.train.pairs import build_pairs

    workspace = Workspace(root)
    items, reviews, interactions = workspace.items(), workspace.reviews(), workspace.interactions()
    defaults = FineTuneArguments()
    pairs = build_pairs(items, reviews, interactions, defaults, template=workspace.settings.embed.item_template)
    return {
        "items": len(items),
        "reviews": len(reviews),
        "interactions": len(interactions),
        "customers": int(pd.concat([reviews["user_id"].dropna(), interactions["user_id"]]).nunique()),
        "pairs_found": dict(pairs.found_per_source),
        "held_out_users": pairs.held_out_users,
        "held_out_interactions": pairs.held_out_interactions,
        "holdout": pairs.holdout_description,
    }


def pairs_frame(summary: dict[str, Any]) -> pd.DataFrame:
    labels = {
        "sequence": "Next product a customer engaged with",
        "review": "Positive review -> reviewed product",
        "co_bought": "Products bought together",
    }
    return pd.DataFrame(
        [{"source": labels.get(source, source), "pairs": count} for source, count in summary["pairs_found"].items()]
    )


def base_model_problem(workspace: Workspace) -> str | None:
    """Why the configured base encoder cannot be fine-tuned here, or None."""
    model = registry.configured_model(workspace)
    if model.startswith("fake"):
        return (
            "This workspace is set to the fake test encoder, which has no weights to train. "
            "Set embed.model to 'bundled:all-MiniLM-L6-v2' (or a model folder) in the workspace's config.toml."
        )
    return None


def encoder_device(workspace: Workspace) -> str:
    """Where the workspace's encoder would run (cpu, cuda, mps), without importing torch."""
    try:
        return encoder_runtime(workspace.settings.embed, load_torch=False).device
    except RecEngineError:  # no usable model: base_model_problem says why
        return "cpu"


# -- job display -------------------------------------------------------------------------------------


def latest_job(runner: JobRunnerProtocol, kinds: tuple[str, ...] = ("finetune_encoder", "train_sentiment")) -> JobRecord | None:
    """The active job, else the most recent one of these kinds."""
    active = runner.active()
    if active is not None:
        return active
    for record in runner.list(limit=20):
        if record.kind in kinds:
            return record
    return None


def eta_text(record: JobRecord) -> str:
    if record.status != "running":
        return record.status
    if record.eta_s is None:
        return "estimating time left..."
    minutes, seconds = divmod(int(record.eta_s), 60)
    return f"about {minutes} min {seconds:02d} s left" if minutes else f"about {seconds} s left"


def expected_duration(runner: JobRunnerProtocol, products: int, device: str) -> str:
    """How long "Improve the model" will take: as long as the last fine-tune here, else an estimate from
    the catalog's size (measured on a 2-core CPU)."""
    finished = [record for record in runner.list(50)
                if record.kind == "finetune_encoder" and record.status == "succeeded" and record.duration_s]
    if finished:
        return f"about {_minutes(finished[0].duration_s or 0.0)}, as long as the last run here"
    if device != "cpu":
        return "a few minutes on the GPU (not measured here: the project's machine has none)"
    return f"about {_minutes(expected_cpu_finetune_seconds(products))} for {products:,} products on a 2-core CPU"


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def advice(workspace: Workspace, version_id: str) -> str:
    """Whether to activate a version, from its new-products and held-out-customer measurements."""
    version = next((entry for entry in registry.list_versions(workspace) if entry.version_id == version_id), None)
    return activation_advice(version) if version is not None else ""


def loss_figure(events: list[JobEvent]) -> go.Figure | None:
    points = [(event.values.get("step"), event.values.get("loss")) for event in events if event.kind == "loss"]
    points = [(step, loss) for step, loss in points if step is not None and loss is not None]
    if not points:
        return None
    figure = go.Figure(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers", name="loss"))
    figure.update_layout(title="Training loss", xaxis_title="step", yaxis_title="loss", height=280,
                         margin={"l": 40, "r": 10, "t": 40, "b": 40})
    return figure


def validation_figure(events: list[JobEvent]) -> go.Figure | None:
    evals = [event.values for event in events if event.kind == "eval" and "ndcg@10" in event.values]
    if not evals:
        return None
    figure = go.Figure()
    for metric in METRICS:
        figure.add_trace(go.Scatter(
            x=[values.get("step", 0) for values in evals], y=[values.get(metric) for values in evals],
            mode="lines+markers", name=metric.upper().replace("@", "@"),
        ))
    figure.update_layout(title="Validation (held-out pairs)", xaxis_title="step", yaxis_title="score", height=280,
                         margin={"l": 40, "r": 10, "t": 40, "b": 40})
    return figure


def log_lines(runner: JobRunnerProtocol, record: JobRecord) -> str:
    return "\n".join(runner.log_tail(record.job_id, 30))


# -- versions ----------------------------------------------------------------------------------------


def versions_frame(workspace: Workspace) -> pd.DataFrame:
    return pd.DataFrame(registry.describe(workspace))


def comparison_frame(workspace: Workspace) -> pd.DataFrame:
    """Before/after metrics of every fine-tuned version, long format for the chart and table."""
    rows = []
    for version in registry.list_versions(workspace):
        if version.is_base:
            continue
        for metric in METRICS + RECOMMENDER_METRICS + NEW_PRODUCT_METRICS:
            before, after = version.metrics_before.get(metric), version.metrics_after.get(metric)
            if before is None or after is None:
                continue
            rows.append({
                "version": version.version_id, "metric": metric, "before": before, "after": after,
                "change": (after - before) / before if before else None,
            })
    return pd.DataFrame(rows, columns=["version", "metric", "before", "after", "change"])


def comparison_figure(frame: pd.DataFrame) -> go.Figure | None:
    if frame.empty:
        return None
    figure = go.Figure()
    labels = [f"{row.version}<br>{row.metric}" for row in frame.itertuples()]
    figure.add_trace(go.Bar(name="before (base encoder)", x=labels, y=frame["before"]))
    figure.add_trace(go.Bar(name="after (fine-tuned)", x=labels, y=frame["after"]))
    figure.update_layout(barmode="group", title="Before / after (validation; recommender on held-out customers; held-out new products)", height=340,
                         margin={"l": 40, "r": 10, "t": 40, "b": 60})
    return figure


def sentiment_frame(runner: JobRunnerProtocol) -> pd.DataFrame:
    """Held-out sentiment scores (learned model vs lexicon, and a borrowed model alone) of the latest
    successful sentiment job."""
    for record in runner.list(limit=50):
        if record.kind != "train_sentiment" or record.status != "succeeded" or not record.result:
            continue
        quality = record.result.get("quality") or {}
        rows = []
        for method, label in (("learned", "learned"), ("lexicon", "lexicon"), ("borrowed", "borrowed model alone")):
            scores = quality.get(method) or {}
            if scores:
                rows.append({"method": label, "accuracy": scores.get("accuracy"), "macro F1": scores.get("macro_f1"),
                             "polarity macro F1": scores.get("polarity_macro_f1"), "held-out reviews": scores.get("reviews")})
        return pd.DataFrame(rows)
    return pd.DataFrame()


ENCODER_TUNING_CHOICES = config.ENCODER_TUNING_CHOICES  # never, auto, always: the values saved


def encoder_tuning_label(choice: str) -> str:
    """How the page words a `text.sentiment_encoder_tuning` choice."""
    labels = {
        "never": "No",
        "auto": f"Only when the held-out polarity F1 is under {GOOD_POLARITY_F1:.2f} (the default)",
        "always": "Yes",
    }
    return labels.get(choice, choice)


ANOTHER_FOLDER = "\x00another folder"  # the choice that opens a text field for any other path


def borrow_choices(workspace: Workspace) -> tuple[list[str], int]:
    """The page's choices of a shop to borrow a sentiment model from, and the index of the saved one.

    Choices: "" (none), the analysed workspaces next to this one, the saved setting when it names
    another folder, and ANOTHER_FOLDER.
    """
    nearby = [str(path) for path in nearby_workspaces_with_models(workspace)]
    choices = ["", *nearby]
    saved = workspace.configured_settings.text.sentiment_prior
    if not saved:
        return [*choices, ANOTHER_FOLDER], 0
    folder = setting_folder(workspace.root, saved).resolve()
    for index, path in enumerate(nearby, start=1):
        if folder in (Path(path).resolve(), (Path(path) / MODEL_FOLDER).resolve()):
            return [*choices, ANOTHER_FOLDER], index
    return [*choices, str(folder), ANOTHER_FOLDER], len(choices)


def borrow_label(choice: str) -> str:
    """How the page words a choice of `borrow_choices` (a plain string: the selectbox shows it as text)."""
    if not choice:
        return "No (this shop's reviews only)"
    if choice == ANOTHER_FOLDER:
        return "Another folder..."
    path = Path(choice)
    return f"{path.name}  ({path.parent})"


def start_sentiment_training(
    runner: JobRunnerProtocol, workspace: Workspace, encoder_tuning: str, sentiment_prior: str
) -> JobRecord:
    """Submit the sentiment retraining job; it saves `encoder_tuning` (text.sentiment_encoder_tuning) and
    `sentiment_prior` (text.sentiment_prior, "" = none) first.

    Raises:
        ConfigError: `sentiment_prior` names no usable model (checked now, not when the job runs).
    """
    if encoder_tuning not in ENCODER_TUNING_CHOICES:
        raise ValueError(f"Unknown encoder tuning {encoder_tuning!r}.")
    prior = str(checked_prior_folder(workspace, sentiment_prior.strip())) if sentiment_prior.strip() else ""
    return runner.submit("train_sentiment", {"encoder_tuning": encoder_tuning, "sentiment_prior": prior})


OBJECTIVE_LABELS = {
    "pairs": "Text pairs (next product, reviews, bought together)",
    "interactions": "Customers' choices (what is chosen together; helps new products)",
}


def objective_label(objective: str) -> str:
    return OBJECTIVE_LABELS.get(objective, objective)


def start_finetune(runner: JobRunnerProtocol, settings: dict[str, Any], *, activate: bool) -> JobRecord:
    arguments = FineTuneArguments.from_dict(settings)  # validates before a process starts
    return runner.submit("finetune_encoder", {"arguments": arguments.to_dict(), "activate": activate})
