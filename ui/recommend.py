"""Streamlit glue of the Recommendations and Search pages: the cached model, frames, charts, controls.

The fitted Recommender is a cached resource per (workspace, data_version): shared by every session and
never mutated by a page (rules and weights are per-call arguments). Frames are cached data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from recengine.config import RecommendSettings
from recengine.evaluate.weights import COLLABORATIVE_GRID, save_weights
from recengine.recommend import (
    COMPONENTS,
    BoostRule,
    Diversity,
    ExcludeItems,
    HideOutOfStock,
    MinimumShare,
    NewArrivals,
    PinItem,
    Recommendation,
    Recommender,
    RuleSet,
)
from recengine.recommend.attribution import attribution_text
from recengine.recommend.results import ComponentAttribution
from recengine.recommend.scoring import weights_from_settings
from recengine.recommend.workspace_model import recommender_for, with_collaborative_signal, with_review_text
from ui.auth import is_editor, require_editor
from ui.common import guarded, workspace_at

COMPONENT_COLORS = {
    "semantic": "#4e79a7",
    "collaborative": "#f28e2b",
    "popularity": "#76b7b2",
    "quality": "#59a14f",
    "recency": "#edc948",
    "rules": "#b07aa1",
}
COMPONENT_HELP = {
    "semantic": "How close the product's text is to the customer's interests (embedding cosine).",
    "collaborative": "How often customers with the same purchases chose it (item-to-item co-occurrence).",
    "popularity": "How many customers chose it overall.",
    "quality": "Ratings and review sentiment, shrunk towards the catalog average.",
    "recency": "How much it is chosen lately (trending).",
}
EASE_HELP = "How strongly the customer's purchases predict it (EASE item weights learned from all purchases)."
_EVENT_NAMES = {1: "view", 2: "click", 3: "cart", 4: "purchase", 5: "review"}


def component_help(model: Recommender, name: str) -> str:
    """What a score component measures, for the signal this model actually uses."""
    if name == "collaborative" and model.collaborative_method == "EASE":
        return EASE_HELP
    return COMPONENT_HELP[name]


def collaborative_options(settings: RecommendSettings) -> list[float]:
    """The collaborative signals the page offers, as `collaborative_ease_l2` values: 0 (co-occurrence),
    the EASE settings that tune-weights tries, and the shop's saved one."""
    offered = {0.0, float(settings.collaborative_ease_l2)}
    offered |= {float(variant["collaborative_ease_l2"]) for variant in COLLABORATIVE_GRID if variant.get("collaborative_ease_l2")}
    return sorted(offered)


def collaborative_label(ease_l2: float) -> str:
    return "Co-occurrence" if ease_l2 == 0 else f"EASE (L2 {ease_l2:g})"


def collaborative_picker(settings: RecommendSettings, default: float, key: str, container: Any) -> float:
    """A select box of the collaborative signal; returns the chosen `collaborative_ease_l2`."""
    options = collaborative_options(settings)
    return float(container.selectbox(
        "Collaborative signal", options, index=options.index(default) if default in options else 0,
        format_func=collaborative_label, key=key,
        help="Co-occurrence: shrunk cosine of who bought what together. EASE: item weights learned from all "
        "purchases (one ridge regression; slower to prepare on large catalogs). The recommender is "
        "prepared again for a signal not used before.",
    ))


# A spinner rather than a progress bar: elements drawn inside a cached function are replayed on every
# cache hit, so a bar would stay on the page after the model is ready.
def recommender(
    root: str, version: str, ease_l2: float | None = None, review_weight: float | None = None
) -> Recommender:
    """The workspace's fitted recommender (refitted when the data version or its settings change, e.g.
    after score weights are saved from the Evaluation page); `ease_l2` overrides the saved
    collaborative signal for this page only (0 = co-occurrence), `review_weight` how much the reviews'
    text counts in item vectors (0 = catalog text only)."""
    settings = with_collaborative_signal(workspace_at(root).settings.recommend, ease_l2)
    settings = with_review_text(settings, review_weight)
    return _fitted_recommender(root, version, settings.model_dump_json())


@st.cache_resource(show_spinner="Preparing recommendations (embeddings, collaborative signal)…", max_entries=4)
def _fitted_recommender(root: str, version: str, settings: str) -> Recommender:
    return recommender_for(workspace_at(root), settings=RecommendSettings.model_validate_json(settings))


def save_weights_button(root: str, model: Recommender, weights: dict[str, float]) -> None:
    """In the weights expander: save the sliders (and the collaborative signal picked) as the shop's
    defaults (editors, when changed)."""
    saved = workspace_at(root).settings.recommend
    current = weights_from_settings(saved)
    signal = {"collaborative_ease_l2": model.settings.collaborative_ease_l2}
    signal_changed = model.settings.collaborative_ease_l2 != saved.collaborative_ease_l2
    if not is_editor() or (not signal_changed and all(abs(weights[name] - current[name]) < 1e-9 for name in COMPONENTS)):
        return
    if st.button("Save as this shop's default weights", key="rec_save_weights", icon=":material/save:",
                 help="Writes the weights" + (" and the collaborative signal" if signal_changed else "") + " to config.toml."):
        with guarded("Saving the weights"):
            require_editor("Saving score weights")
            path = save_weights(workspace_at(root), weights, signal if signal_changed else None)
            st.toast(f"Saved to {path}.")


@st.cache_data(show_spinner=False, max_entries=16)
def customers(root: str, version: str) -> pd.DataFrame:
    """Every customer with history, most active first: user_id, events, reviews, last_seen."""
    workspace = workspace_at(root)
    return workspace.store.query_df(
        """
        SELECT user_id, sum(events) AS events, sum(reviews) AS reviews, max(last_seen) AS last_seen
        FROM (
            SELECT user_id, count(*) AS events, 0 AS reviews, max(timestamp) AS last_seen
            FROM interactions GROUP BY user_id
            UNION ALL
            SELECT user_id, 0, count(*), max(timestamp) FROM reviews WHERE user_id IS NOT NULL GROUP BY user_id
        ) GROUP BY user_id ORDER BY sum(events) + sum(reviews) DESC, user_id
        """
    )


@st.cache_data(show_spinner=False, max_entries=64)
def favourite_aspects(root: str, version: str, user_id: str) -> list[str]:
    """Aspects the customer praises in their reviews (after review analysis)."""
    from recengine.recommend.workspace_model import favourite_aspects as compute

    return compute(workspace_at(root), user_id)


def find_customers(table: pd.DataFrame, text: str, limit: int = 200) -> list[str]:
    """Customer ids containing `text` (case-insensitive), or the most active ones when `text` is empty."""
    ids = table["user_id"].astype(str)
    if text.strip():
        ids = ids[ids.str.contains(text.strip(), case=False, regex=False)]
    return ids.head(limit).tolist()


@st.cache_data(show_spinner=False, max_entries=64)
def history_frame(root: str, version: str, user_id: str) -> pd.DataFrame:
    """A customer's reviews and events, newest first, with product titles."""
    workspace = workspace_at(root)
    return workspace.store.query_df(
        """
        SELECT h.timestamp, h.item_id, i.title AS product, i.category, h.what, h.rating, h.review
        FROM (
            SELECT timestamp, item_id, 'review' AS what, rating,
                   trim(coalesce(title, '') || ' ' || coalesce(text, '')) AS review
            FROM reviews WHERE user_id = ?
            UNION ALL
            SELECT timestamp, item_id, event, NULL, NULL FROM interactions WHERE user_id = ?
        ) h LEFT JOIN items i USING (item_id)
        ORDER BY h.timestamp DESC NULLS LAST
        """,
        [user_id, user_id],
    )


def item_label(model: Recommender, item_id: str) -> str:
    position = model.catalog.positions.get(item_id)
    title = str(model.catalog.titles[position]) if position is not None else item_id
    return f"{title[:70]}  ({item_id})"


def recommendations_frame(model: Recommender, recommendations: list[Recommendation]) -> pd.DataFrame:
    """One row per recommendation: rank, product, score, each component, rules, reason (CSV download)."""
    rows = []
    for item in recommendations:
        position = model.catalog.positions[item.item_id]
        row: dict[str, Any] = {
            "rank": item.rank,
            "item_id": item.item_id,
            "title": str(model.catalog.titles[position]),
            "category": str(model.catalog.categories[position]),
            "price": None if np.isnan(model.catalog.prices[position]) else float(model.catalog.prices[position]),
            "score": item.score,
        }
        for name in (*COMPONENTS, "rules"):
            row[name] = item.explanation.components.get(name, 0.0)
        row["because"] = "; ".join(f"{entry.item_id} ({entry.similarity:.2f})" for entry in item.explanation.because)
        row["shared_keywords"] = "; ".join(item.explanation.shared_keywords)
        row["rules_applied"] = "; ".join(item.explanation.rules)
        row["reason"] = item.explanation.reason
        row["attribution"] = attribution_text(item.explanation.attribution)
        rows.append(row)
    return pd.DataFrame(rows)


def contributions_frame(model: Recommender, attribution: list[ComponentAttribution]) -> pd.DataFrame:
    """One row per (component, history product): its part of the score and what the customer did with it;
    a last row per component holds the parts too small to list."""
    rows = []
    for entry in attribution:
        for part in entry.contributions:
            rows.append({
                "component": entry.component, "product": item_label(model, part.item_id), "part": part.amount,
                "customer": part.action + (", disliked" if part.disliked else ""), "link": part.link,
            })
        if abs(entry.unlisted) >= 5e-4:
            rows.append({"component": entry.component, "product": "other products of the history",
                         "part": entry.unlisted, "customer": "", "link": float("nan")})
    return pd.DataFrame(rows, columns=["component", "product", "part", "customer", "link"])


def contributions_chart(frame: pd.DataFrame) -> go.Figure:
    """Small horizontal bars: each history product's part of the score, stacked by component."""
    figure = go.Figure()
    labels = [f"{str(product)[:45]}{' (disliked)' if 'disliked' in customer else ''}"
              for product, customer in zip(frame["product"], frame["customer"], strict=True)]
    frame = frame.assign(label=labels)
    order = frame.groupby("label", sort=False)["part"].sum().sort_values(ascending=False).index.tolist()
    for component, rows in frame.groupby("component", sort=False):
        figure.add_bar(
            y=rows["label"], x=rows["part"], name=str(component), orientation="h",
            marker_color=COMPONENT_COLORS[str(component)], customdata=rows[["customer"]],
            hovertemplate=f"{component}: %{{x:.3f}}<br>%{{customdata[0]}}<extra></extra>",
        )
    figure.update_layout(
        barmode="relative", height=max(160, 28 * len(order) + 70), margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"categoryorder": "array", "categoryarray": order[::-1]}, xaxis_title="part of the score",
        legend={"orientation": "h", "y": -0.35},
    )
    return figure


def score_bar(frame: pd.DataFrame) -> go.Figure:
    """Horizontal stacked bars: each recommendation's score split by component (they add up)."""
    labels = [f"{rank}. {str(title)[:40]}" for rank, title in zip(frame["rank"], frame["title"], strict=True)]
    figure = go.Figure()
    for name in (*COMPONENTS, "rules"):
        if name not in frame or not frame[name].abs().sum():
            continue
        figure.add_bar(
            y=labels, x=frame[name], name=name, orientation="h", marker_color=COMPONENT_COLORS[name],
            hovertemplate=f"{name}: %{{x:.3f}}<extra></extra>",
        )
    figure.update_layout(
        barmode="relative", height=max(220, 34 * len(frame) + 80), margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis={"autorange": "reversed"}, legend={"orientation": "h", "y": 1.08}, xaxis_title="score",
    )
    return figure


@st.cache_data(show_spinner=False, max_entries=4)
def catalog_map(root: str, version: str, max_points: int = 5_000) -> pd.DataFrame:
    """2-D PCA projection of the item vectors: item_id, x, y, title, category (a sample when large)."""
    model = recommender(root, version)
    if model.vectors is None:
        return pd.DataFrame(columns=["item_id", "x", "y", "title", "category"])
    vectors = model.vectors
    rng = np.random.default_rng(0)
    rows = np.arange(len(vectors)) if len(vectors) <= max_points else np.sort(rng.choice(len(vectors), max_points, replace=False))
    centred = vectors - vectors.mean(axis=0)
    # PCA by SVD of a sample: enough for a picture, cheap at 100k items.
    _, _, components = np.linalg.svd(centred[rows[: min(len(rows), 2_000)]], full_matrices=False)
    projected = centred @ components[:2].T
    return pd.DataFrame(
        {
            "item_id": [model.catalog.item_ids[row] for row in range(len(vectors))],
            "x": projected[:, 0],
            "y": projected[:, 1],
            "title": [str(title)[:60] for title in model.catalog.titles],
            "category": model.catalog.top_categories.astype(str),
            "sampled": np.isin(np.arange(len(vectors)), rows),
        }
    )


def map_figure(points: pd.DataFrame, history: list[str], recommended: list[str]) -> go.Figure:
    """The catalog map with the customer's history and recommendations highlighted."""
    figure = go.Figure()
    background = points[points["sampled"]]
    figure.add_scattergl(
        x=background["x"], y=background["y"], mode="markers", name="catalog",
        marker={"size": 4, "color": "#c8c8c8"}, text=background["title"], hovertemplate="%{text}<extra></extra>",
    )
    for ids, name, color, symbol in ((history, "history", "#4e79a7", "circle"), (recommended, "recommended", "#e15759", "star")):
        chosen = points[points["item_id"].isin(ids)]
        figure.add_scattergl(
            x=chosen["x"], y=chosen["y"], mode="markers", name=name, text=chosen["title"],
            marker={"size": 11, "color": color, "symbol": symbol, "line": {"width": 1, "color": "white"}},
            hovertemplate="%{text}<extra>" + name + "</extra>",
        )
    figure.update_layout(height=460, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h"},
                         xaxis={"showticklabels": False}, yaxis={"showticklabels": False})
    return figure


@dataclass(frozen=True)
class Controls:
    """What the sidebar sets: the model (its collaborative signal), list length, weights, rules, and an
    optional second configuration with its own model."""

    model: Recommender
    k: int
    weights: dict[str, float]
    rules: RuleSet
    compare: bool
    model_b: Recommender
    weights_b: dict[str, float]
    rules_b: RuleSet


def _weight_sliders(model: Recommender, prefix: str, container: Any) -> dict[str, float]:
    weights = {}
    for name, default in weights_from_settings(model.settings).items():
        weights[name] = container.slider(
            name.capitalize(), 0.0, 1.0, default, 0.05, key=f"{prefix}_w_{name}", help=component_help(model, name)
        )
    return weights


def review_text_toggle(saved: RecommendSettings, key: str, container: Any) -> float:
    """A toggle: item vectors with the reviews' text (the saved weight, or 1) or catalog text only (0)."""
    weight = saved.review_vector_weight or 1.0
    on = container.toggle(
        "Describe products by their reviews too", value=saved.review_vector_weight > 0, key=key,
        help="Each product's vector also holds the mean vector of its reviews (what customers say it is for), "
        f"at weight {weight:g} next to its catalog text. It feeds the semantic score, similar products, "
        "search and bundles. Off: catalog text only. Reviews count once review analysis has encoded them.",
    )
    return weight if on else 0.0


def _signal_model(root: str, version: str, default: float, key: str, container: Any) -> Recommender:
    """The collaborative-signal picker, the reviews' text toggle and the recommender fitted with them."""
    saved = workspace_at(root).settings.recommend
    signal = collaborative_picker(saved, default, key, container)
    review_weight = review_text_toggle(saved, f"{key}_reviews", container)
    model = recommender(root, version, signal, review_weight)
    if review_weight:
        container.caption(
            f"{model.review_text_items:,} products described by their reviews too"
            if model.review_text_items else "No product has encoded reviews yet (run the review analysis)."
        )
    if signal and model.collaborative_method != "EASE":
        container.caption(
            f"More than {saved.collaborative_ease_max_items:,} products have history, above EASE's limit "
            "(collaborative_ease_max_items): co-occurrence is used."
        )
    return model


def sidebar_controls(root: str, version: str) -> Controls:
    """The collaborative signal, weights and business rules in the sidebar; the list re-ranks live as
    they change (a signal not used before prepares the recommender again)."""
    sidebar = st.sidebar
    sidebar.subheader("Recommendation settings")
    model = _signal_model(root, version, workspace_at(root).settings.recommend.collaborative_ease_l2, "rec_signal", sidebar)
    k = sidebar.slider("Products to show", 3, 30, 10, key="rec_k")
    with sidebar.expander("Score weights", expanded=False):
        weights = _weight_sliders(model, "rec", st)
        save_weights_button(root, model, weights)
    with sidebar.expander("Business rules", expanded=False):
        enabled = st.toggle("Apply rules", value=True, key="rec_rules_on", help="Off: the clean model ranking.")
        rules: list[Any] = []
        if st.checkbox("Hide out-of-stock products", value=True, key="rec_hide_oos"):
            rules.append(HideOutOfStock())
        categories = sorted({str(value) for value in model.catalog.top_categories if value})
        brands = sorted({str(value) for value in model.catalog.brands if value})[:2_000]
        boost_category = st.selectbox("Boost a category", ["(none)", *categories], key="rec_boost_cat")
        boost_amount = st.slider("Boost amount (negative buries)", -0.5, 0.5, 0.1, 0.05, key="rec_boost_amount")
        if boost_category != "(none)":
            rules.append(BoostRule("category", boost_category, boost_amount))
        bury_brand = st.selectbox("Bury a brand", ["(none)", *brands], key="rec_bury_brand")
        if bury_brand != "(none)":
            rules.append(BoostRule("brand", bury_brand, -0.3))
        prices = model.catalog.prices[~np.isnan(model.catalog.prices)]
        if prices.size:
            top_price = float(np.ceil(prices.max()))
            low, high = st.slider("Boost price range", 0.0, top_price, (0.0, top_price), key="rec_price_range")
            if (low, high) != (0.0, top_price):
                rules.append(BoostRule("price", amount=0.1, price_min=low, price_max=high))
        promoted = st.selectbox("Promote a category (minimum share)", ["(none)", *categories], key="rec_promote")
        if promoted != "(none)":
            share = st.slider("Minimum share", 0.1, 1.0, 0.3, 0.1, key="rec_promote_share")
            rules.append(MinimumShare(promoted, share))
        new_days = st.number_input(
            "New arrivals: first seen within days (0 = off)", min_value=0, max_value=3650,
            value=int(model.settings.new_arrivals_days), step=7, key="rec_new_days",
            help="Products first seen within this many days of the newest data (or that nobody has bought yet) "
            "get room in the list: a minimum share, or fixed positions.",
        )
        if new_days > 0:
            new_share = st.slider("New arrivals' minimum share", 0.1, 1.0, float(model.settings.new_arrivals_share), 0.1,
                                  key="rec_new_share")
            new_positions = st.text_input("…or fixed positions (e.g. 3,7)", key="rec_new_positions")
            positions = tuple(int(part) for part in new_positions.split(",") if part.strip().isdigit())
            rules.append(NewArrivals(days=float(new_days), share=new_share, positions=positions))
        pin = st.text_input("Pin product id at position 1", key="rec_pin").strip()
        if pin:
            rules.append(PinItem(pin, 1))
        excluded = st.text_input("Exclude product ids (comma-separated)", key="rec_exclude")
        if excluded.strip():
            rules.append(ExcludeItems(tuple(part.strip() for part in excluded.split(",") if part.strip())))
        diversity = st.slider("Diversity (MMR lambda, 1 = off)", 0.0, 1.0, float(model.settings.diversity_lambda), 0.05,
                              key="rec_mmr")
        if diversity < 1:
            rules.append(Diversity(diversity))
    compare = sidebar.toggle("Compare with a second configuration", key="rec_compare")
    model_b = model
    weights_b = dict(weights)
    rules_b = RuleSet(enabled=False)
    if compare:
        with sidebar.expander("Configuration B", expanded=True):
            model_b = _signal_model(root, version, model.settings.collaborative_ease_l2, "recb_signal", st)
            weights_b = _weight_sliders(model_b, "recb", st)
            rules_b = RuleSet(tuple(rules), enabled=st.toggle("Apply the same rules", value=False, key="recb_rules_on"))
    return Controls(model, k, weights, RuleSet(tuple(rules), enabled=enabled), compare, model_b, weights_b, rules_b)
