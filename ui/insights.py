"""Streamlit glue of the Insights page: cached reads of review analysis, charts, the analysis run.

Cached functions take the workspace folder and its `data_version`, so they recompute after an ingest
or an analysis run, and never hand out a mutable object shared between sessions (st.cache_data copies).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from recengine.privacy import mask_columns
from recengine.text import insights
from recengine.text.analysis import AnalysisReport, analyze_reviews
from recengine.text.mismatches import find_mismatches
from recengine.text.sentiment_lexicon import sentence_sentiment
from recengine.workspace import Workspace
from ui.common import progress_bar, workspace_at

SCOPE_LABELS = {"all": "Whole catalog", "category": "Category", "brand": "Brand", "item": "Product"}
SENTIMENT_COLORS = {"negative": "#d62728", "neutral": "#9e9e9e", "positive": "#2ca02c"}
EXPLORER_ROWS = 2_000


@st.cache_data(show_spinner=False, max_entries=32)
def analysis_status(root: str, version: str) -> dict[str, Any]:
    from recengine.text.status import analysis_status as compute

    return asdict(compute(workspace_at(root)))


@st.cache_data(show_spinner=False, max_entries=32)
def scope_choices(root: str, version: str, scope: str) -> list[insights.ScopeChoice]:
    return insights.scope_choices(workspace_at(root), scope)  # type: ignore[arg-type]


def _masked(root: str, frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    # Review text is stored verbatim; what the dashboard shows has e-mail addresses, phone and card
    # numbers masked unless the workspace's privacy.mask_personal_data setting is off.
    if not workspace_at(root).settings.privacy.mask_personal_data:
        return frame
    return mask_columns(frame, columns)


@st.cache_data(show_spinner=False, max_entries=16)
def scope_reviews(root: str, version: str, scope: str, scope_id: str) -> pd.DataFrame:
    reviews = insights.scope_reviews(workspace_at(root), scope, scope_id)  # type: ignore[arg-type]
    return _masked(root, reviews, ("title", "text"))


@st.cache_data(show_spinner=False, max_entries=32)
def scope_aspects(root: str, version: str, scope: str, scope_id: str) -> pd.DataFrame:
    aspects = insights.scope_aspects(workspace_at(root), scope, scope_id)  # type: ignore[arg-type]
    return _masked(root, aspects, ("quotes",))


@st.cache_data(show_spinner=False, max_entries=32)
def scope_keywords(root: str, version: str, scope: str, scope_id: str) -> pd.DataFrame:
    return insights.scope_keywords(workspace_at(root), scope, scope_id)  # type: ignore[arg-type]


@st.cache_data(show_spinner=False, max_entries=16)
def mismatches(root: str, version: str, scope: str, scope_id: str, limit: int = 200) -> pd.DataFrame:
    """Reviews of the scope whose stars and text disagree, most severe first."""
    found = find_mismatches(insights.scope_reviews(workspace_at(root), scope, scope_id), limit)  # type: ignore[arg-type]
    return _masked(root, found, ("title", "text"))


def run_analysis(workspace: Workspace) -> AnalysisReport:
    """Run the analysis with a progress bar; caches refresh through the bumped data_version."""
    report = analyze_reviews(workspace, progress=progress_bar("Analysing reviews"))
    st.cache_data.clear()  # the status and scope lists of this workspace are stale now
    return report


def choice_label(choice: insights.ScopeChoice) -> str:
    return f"{choice.label} · {choice.reviews:,} reviews"


def explorer_frame(reviews: pd.DataFrame) -> pd.DataFrame:
    """The review explorer's table: readable columns, aspects as a short list, newest first."""
    frame = reviews.head(EXPLORER_ROWS).copy()
    frame["aspects"] = frame["aspects"].map(lambda raw: ", ".join(insights.review_aspect_names(raw)))
    frame["sentiment_score"] = frame["sentiment_score"].astype(float).round(2)
    return frame[["review_id", "timestamp", "product", "rating", "sentiment_label", "sentiment_score",
                  "aspects", "title", "text"]]


def sentences_frame(text: str) -> pd.DataFrame:
    return pd.DataFrame(
        [(item.sentence, item.label, item.score) for item in sentence_sentiment(text)],
        columns=["sentence", "sentiment", "score"],
    )


def distribution_figure(reviews: pd.DataFrame) -> go.Figure:
    """Sentiment labels per star rating (stacked bars; unrated reviews in their own bar)."""
    frame = reviews.dropna(subset=["sentiment_label"]).copy()
    frame["stars"] = frame["rating"].map(lambda value: "unrated" if pd.isna(value) else f"{value:.0f}★")
    table = pd.crosstab(frame["stars"], frame["sentiment_label"])
    order = [label for label in ("1★", "2★", "3★", "4★", "5★", "unrated") if label in table.index]
    figure = go.Figure()
    for label in ("negative", "neutral", "positive"):
        if label in table:
            figure.add_bar(x=order, y=table.loc[order, label].tolist(), name=label,
                           marker_color=SENTIMENT_COLORS[label])
    figure.update_layout(barmode="stack", title="Text sentiment by star rating", xaxis_title="Stars",
                         yaxis_title="Reviews", height=340, margin={"t": 50, "b": 40, "l": 40, "r": 10})
    return figure


def trend_figure(reviews: pd.DataFrame) -> go.Figure:
    """Monthly reviews per sentiment (bars) and mean sentiment score (line, right axis)."""
    monthly = insights.sentiment_by_month(reviews)
    figure = go.Figure()
    for label in ("negative", "neutral", "positive"):
        figure.add_bar(x=monthly["month"], y=monthly[label], name=label, marker_color=SENTIMENT_COLORS[label])
    figure.add_scatter(x=monthly["month"], y=monthly["mean_score"], name="mean score", yaxis="y2",
                       mode="lines+markers", line={"color": "#1f77b4"})
    figure.update_layout(
        barmode="stack", title="Sentiment over time", height=340,
        yaxis={"title": "Reviews"}, yaxis2={"title": "Mean score", "overlaying": "y", "side": "right", "range": [-1, 1]},
        margin={"t": 50, "b": 40, "l": 40, "r": 40}, legend={"orientation": "h", "y": -0.2},
    )
    return figure


def quality_frame(status: dict[str, Any]) -> pd.DataFrame:
    """Learned vs lexicon on the same held-out reviews (and, when the encoder was tuned for sentiment,
    the learned model on the plain encoder, polarity only)."""
    inputs = ["encoder"]
    if status.get("tuned_encoder"):
        inputs.append("its copy tuned for sentiment")
    if status.get("borrowed_from"):
        inputs.append("a borrowed model")
    learned = f"learned ({' + '.join(inputs)} + logistic regression)"
    rows = []
    for method, prefix in ((learned, "learned"), ("lexicon (VADER)", "lexicon")):
        rows.append({
            "method": method,
            "accuracy (3 classes)": status.get(f"{prefix}_accuracy"),
            "macro-F1 (3 classes)": status.get(f"{prefix}_macro_f1"),
            "polarity macro-F1 (no 3★)": status.get(f"{prefix}_polarity_macro_f1"),
        })
    if status.get("borrowed_polarity_macro_f1") is not None:
        rows.append({"method": "the borrowed model alone (no training here)",
                     "accuracy (3 classes)": status.get("borrowed_accuracy"), "macro-F1 (3 classes)": None,
                     "polarity macro-F1 (no 3★)": status["borrowed_polarity_macro_f1"]})
    if status.get("tuned_encoder") and status.get("plain_polarity_macro_f1") is not None:
        rows.append({"method": "learned on the plain encoder (before tuning)", "accuracy (3 classes)": None,
                     "macro-F1 (3 classes)": None, "polarity macro-F1 (no 3★)": status["plain_polarity_macro_f1"]})
    return pd.DataFrame(rows)
