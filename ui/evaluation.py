"""Streamlit glue of the Evaluation page: running an evaluation, its charts, saved experiments.

An evaluation is run on request (a button), not cached across sessions: it is the analyst's explicit
action and its result lives in the session. Saved experiments are read through `st.cache_data` keyed
by the workspace and its data version plus a counter bumped on every save.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from recengine.evaluate import (
    METHOD_NAMES,
    EvaluationResult,
    compare_experiments,
    list_experiments,
    load_experiment,
    run_evaluation,
    save_experiment,
)
from recengine.evaluate.cold_start import ColdStartResult
from recengine.evaluate.cold_start_run import ColdStartEvaluation, evaluate_new_products
from recengine.evaluate.metrics import Estimate
from recengine.evaluate.runner import METRIC_LABELS
from recengine.evaluate.versions import MAX_VERSIONS, registry_versions
from recengine.evaluate.weights import (
    COLLABORATIVE_GRID,
    WEIGHT_GRID,
    WeightSuggestion,
    overridden_by_environment,
    save_weights,
    suggest_weights,
)
from ui.common import SCOPED_PREFIX, progress_bar, workspace_at

RESULT_KEY = f"{SCOPED_PREFIX}evaluation_result"
SAVES_KEY = "evaluation_saves"
SUGGESTION_KEY = f"{SCOPED_PREFIX}weight_suggestion"
METHOD_COLORS = {
    "MostPopular": "#9c9c9c",
    "ItemKNN": "#f28e2b",
    "ALS": "#e15759",
    "TF-IDF": "#76b7b2",
    "Embedding": "#59a14f",
    "Hybrid": "#4e79a7",
}
METRIC_HELP = {
    "recall": "Share of the held-out products found in the top K.",
    "ndcg": "Like recall, but a hit at rank 1 counts more than a hit at rank K.",
    "hit_rate": "Share of customers whose next product is in their top K.",
    "mrr": "1 / position of the next product in the whole ranking, averaged over customers.",
    "precision": "Share of the K recommended products that were bought next.",
    "map": "Mean average precision at K.",
}


def metric_label(metric: str, k: int | None = None) -> str:
    label = METRIC_LABELS.get(metric, metric)
    return label if metric == "mrr" or k is None else f"{label}@{k}"


def run(
    root: str,
    *,
    k: int,
    methods: list[str] | None,
    strategy: str,
    resamples: int,
    model_versions: list[str] | None = None,
) -> EvaluationResult:
    """Run an evaluation with a progress bar and keep the result in the session.

    `model_versions`: registry encoder versions evaluated next to the active one ([] = none, None =
    the default choice of `run_evaluation`).
    """
    result = run_evaluation(
        workspace_at(root),
        k=k,
        methods=methods or None,
        strategy=strategy,  # type: ignore[arg-type]
        n_resamples=resamples,
        progress=progress_bar("Evaluating"),
        model_versions=model_versions,
    )
    st.session_state[RESULT_KEY] = (root, result)
    return result


NEW_PRODUCTS_CAPTION = (
    "A share of the products with interactions is made new: all their interactions are hidden, their "
    "catalog text stays. Customers who liked one of them and another product are tested: how well does "
    "each method rank the new products they liked among the new ones, and how many of them does the hybrid "
    "show in its top 20 of the whole catalog?"
)
NEW_PRODUCTS_KEY = "evaluation_new_products"


def run_new_products(root: str, *, share: float, resamples: int) -> ColdStartEvaluation:
    """Run the cold-start product evaluation with a progress bar and keep it in the session."""
    evaluation = evaluate_new_products(
        workspace_at(root), share=share, n_resamples=resamples, progress=progress_bar("Evaluating new products")
    )
    st.session_state[NEW_PRODUCTS_KEY] = (root, evaluation)
    return evaluation


def current_new_products(root: str) -> ColdStartEvaluation | None:
    """The last cold-start evaluation run in this session on this workspace."""
    return _stored_for(NEW_PRODUCTS_KEY, root)


def new_products_chart(result: ColdStartResult, metric: str) -> go.Figure:
    """One bar per method with its bootstrap interval."""
    names = list(result.methods)
    estimates = [result.methods[name].estimates[metric] for name in names]
    return interval_bars(names, estimates, metric.replace("recall", "Recall").replace("ndcg", "NDCG"))


def current_result(root: str, version: str | None = None) -> EvaluationResult | None:
    """The last evaluation run in this session on this workspace, else (given the data `version`) the
    newest saved experiment, so the page opens with results (the workspace preparation saves one)."""
    result = _stored_for(RESULT_KEY, root)
    if result is None and version is not None:
        result = _newest_saved(root, version, saves_counter())
    return result


@st.cache_data(show_spinner=False, max_entries=8)
def _newest_saved(root: str, version: str, saves: int) -> EvaluationResult | None:
    saved = list_experiments(workspace_at(root))
    if saved.empty:
        return None
    return load_experiment(workspace_at(root), str(saved["experiment_id"].iloc[0])).result


def _stored_for(key: str, root: str) -> Any:
    """What this session stored under `key` as (root, value), when it was for this workspace."""
    stored = st.session_state.get(key)
    if stored and stored[0] == root:
        return stored[1]
    return None


def save(root: str, result: EvaluationResult, name: str) -> str:
    experiment = save_experiment(workspace_at(root), result, name=name)
    st.session_state[SAVES_KEY] = st.session_state.get(SAVES_KEY, 0) + 1
    return experiment.experiment_id


@st.cache_data(show_spinner=False)
def experiments(root: str, version: str, saves: int) -> pd.DataFrame:
    return list_experiments(workspace_at(root))


def saves_counter() -> int:
    return int(st.session_state.get(SAVES_KEY, 0))


@st.cache_data(show_spinner=False)
def comparison(
    root: str, before: str, after: str, saves: int
) -> tuple[pd.DataFrame, dict[str, Any], str, str, str]:
    """Two saved experiments: metric changes, setup differences, both verdicts and a one-line summary."""
    compared = compare_experiments(workspace_at(root), before, after)
    differences = {key: {"before": str(old), "after": str(new)} for key, (old, new) in compared.config_differences.items()}
    return (
        compared.frame(),
        differences,
        compared.before.result.verdict,
        compared.after.result.verdict,
        compared.summary(),
    )


def method_names() -> list[str]:
    return list(METHOD_NAMES)


def encoder_versions(root: str) -> tuple[str, list[str], list[str]]:
    """(active version, the other registry versions newest first, those selected by default).

    Not cached: reading the registry manifest is cheap, and registering a version (which changes no
    data version) must show up on the next rerun.
    """
    active, others = registry_versions(workspace_at(root))
    return active, others, others[:MAX_VERSIONS]


def versions_caption(result: EvaluationResult) -> str:
    """Which encoder the plain rows use and which other versions the result holds."""
    active = result.config.get("active_model_version")
    others = list(result.config.get("model_versions") or {})
    if active is None:
        return ""
    text = f"Embedding and Hybrid use the active encoder ({active})."
    if others:
        text += " Also evaluated on the same split: " + ", ".join(others) + " (rows named after the version)."
    return text


def beyond_frame(result: EvaluationResult) -> pd.DataFrame:
    rows = []
    for method in result.methods:
        diversity = method.beyond.get("diversity")
        rows.append(
            {
                "method": method.name,
                f"coverage@{result.k}": method.beyond["coverage"],
                f"diversity@{result.k}": diversity if diversity is not None else float("nan"),
                f"novelty@{result.k}": method.beyond["novelty"],
                f"Gini of exposure@{result.k}": method.beyond["gini"],
                "fit s": round(method.fit_seconds, 2),
                "score s": round(method.score_seconds, 2),
            }
        )
    return pd.DataFrame(rows)


def comparisons_frame(result: EvaluationResult) -> pd.DataFrame:
    """One row per paired test: the reference (the hybrid, or the active encoder's embedding row when
    an encoder version is compared), the other method, the difference with its interval and p."""
    return pd.DataFrame(
        [
            {
                "method": c.reference,
                "compared with": c.other,
                "metric": metric_label(c.metric, result.k),
                "difference (method minus other)": c.mean_difference,
                "95% low": c.low,
                "95% high": c.high,
                "p": c.p_value,
                "significant": "yes" if c.significant else "no",
            }
            for c in result.comparisons
        ]
    )


def _color(name: str) -> str:
    base = METHOD_COLORS.get(name.split(" (")[0], "#bab0ac")
    if " (" in name:
        # Another encoder version (or variant) of a method: the method's colour, lighter.
        red, green, blue = (int(base[index : index + 2], 16) for index in (1, 3, 5))
        return "#" + "".join(f"{value + (255 - value) // 2:02x}" for value in (red, green, blue))
    return base


def metric_by_method_chart(result: EvaluationResult, metric: str) -> go.Figure:
    """Bars with 95% intervals, one per method."""
    names = [method.name for method in result.methods]
    return interval_bars(names, [method.metrics[metric] for method in result.methods], metric_label(metric, result.k))


def interval_bars(names: list[str], estimates: list[Estimate], title: str) -> go.Figure:
    """One bar per method at its mean, with its 95% interval (`Estimate`s), in the methods' colours."""
    figure = go.Figure(
        go.Bar(
            x=names,
            y=[estimate.mean for estimate in estimates],
            marker_color=[_color(name) for name in names],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [estimate.high - estimate.mean for estimate in estimates],
                "arrayminus": [estimate.mean - estimate.low for estimate in estimates],
            },
            hovertemplate="%{x}: %{y:.4f}<extra></extra>",
        )
    )
    figure.update_layout(yaxis_title=title, height=360, margin={"t": 20, "b": 40}, showlegend=False)
    return figure


def metric_by_k_chart(result: EvaluationResult, metric: str) -> go.Figure:
    """One line per method: the metric at every cutoff evaluated."""
    figure = go.Figure()
    for method in result.methods:
        ks = sorted(method.by_k)
        figure.add_trace(
            go.Scatter(
                x=ks,
                y=[method.by_k[k][metric] for k in ks],
                mode="lines+markers",
                name=method.name,
                line={"color": _color(method.name)},
            )
        )
    figure.update_layout(
        xaxis_title="K", yaxis_title=metric_label(metric), height=360, margin={"t": 20, "b": 40}
    )
    return figure


def slices_chart(result: EvaluationResult, metric: str) -> go.Figure:
    """Grouped bars: the metric on all customers and on each slice, per method."""
    figure = go.Figure()
    groups = ["all customers", *next(iter(result.methods)).slices] if result.methods else []
    for method in result.methods:
        values = [method.metrics[metric].mean]
        labels = [f"all customers ({result.users:,})"]
        for name in groups[1:]:
            part = method.slices[name]
            values.append(part.metrics[metric].mean if part.users else None)
            labels.append(f"{name} ({part.users:,})")
        figure.add_trace(go.Bar(x=labels, y=values, name=method.name, marker_color=_color(method.name)))
    figure.update_layout(
        barmode="group", yaxis_title=metric_label(metric, result.k), height=360, margin={"t": 20, "b": 40}
    )
    return figure


def comparison_chart(frame: pd.DataFrame, metric: str) -> go.Figure:
    """Before/after bars per method for one metric of two saved experiments."""
    part = frame[frame["metric"] == metric]
    figure = go.Figure(
        [
            go.Bar(x=part["method"], y=part["before"], name="before", marker_color="#bab0ac"),
            go.Bar(x=part["method"], y=part["after"], name="after", marker_color="#4e79a7"),
        ]
    )
    figure.update_layout(barmode="group", yaxis_title=metric_label(metric), height=320, margin={"t": 20, "b": 40})
    return figure


# -- score weights from the shop's data ---------------------------------------------------------------


SEARCH_CAPTION = (
    f"Tries the current settings and {len(WEIGHT_GRID)} other weight settings, each with "
    f"{len(COLLABORATIVE_GRID)} collaborative settings (co-occurrence, and EASE where the catalog allows), "
    "on each customer's second-to-last product (never the products the evaluation "
    "above tests), picks the best on half of the customers and checks on the other half whether it is "
    "really better than the current settings."
)


def suggest(root: str) -> WeightSuggestion:
    """Search score weights on the validation split with a progress bar; kept in the session."""
    suggestion = suggest_weights(workspace_at(root), progress=progress_bar("Trying weight settings"))
    st.session_state[SUGGESTION_KEY] = (root, suggestion)
    return suggestion


def current_suggestion(root: str) -> WeightSuggestion | None:
    """The last weight suggestion made in this session for this workspace."""
    return _stored_for(SUGGESTION_KEY, root)


def suggestion_frame(suggestion: WeightSuggestion) -> pd.DataFrame:
    """Current and suggested value of each setting, with what the setting means (from its definition)."""
    from recengine.config import RecommendSettings

    fields = RecommendSettings.model_fields
    rows = [
        (name, current, suggested,
         fields[name].description or f"weight of the {name.removeprefix('weight_')} score component")
        for name, current, suggested in suggestion.rows()
    ]
    return pd.DataFrame(rows, columns=["setting", "current", "suggested", "meaning"])


def apply_suggestion(root: str, suggestion: WeightSuggestion) -> str:
    """Save the suggested weights in the workspace's config.toml; the session's result is cleared."""
    path = save_weights(workspace_at(root), suggestion.suggested, suggestion.suggested_collaborative)
    st.session_state.pop(SUGGESTION_KEY, None)
    return str(path)


def environment_overrides() -> list[str]:
    return overridden_by_environment()
