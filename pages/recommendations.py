"""Recommendations for a customer: history, profile, the list with its reasons, rules and weights."""

from __future__ import annotations

import numpy as np
import streamlit as st

from recengine.recommend import COMPONENTS
from ui import recommend as ui
from ui.common import data_version, escape_markdown, get_workspace, guarded, require_items, show_text
from ui.preparation import preparation_banner

st.title("Recommendations for a customer")
st.caption(
    "What each customer is recommended and why: every score is the sum of its parts, every reason is "
    "built from the customer's own history. Weights and business rules in the sidebar re-rank the list live."
)

with guarded("Preparing recommendations"):
    workspace = get_workspace()
    root = str(workspace.root.resolve())
    version = data_version(workspace)
    require_items(workspace)
    preparation_banner(workspace, "embeddings", "recommendations come from what customers bought together, "
                       "popularity and ratings, without the semantic score.")
    controls = ui.sidebar_controls(root, version)
    model = controls.model
    history_ids: list[str] = []
    table = ui.customers(root, version)

    # -- find a customer -----------------------------------------------------------------------------
    search_column, pick_column = st.columns([1, 2])
    typed = search_column.text_input("Find a customer", key="rec_user_query", placeholder="customer id")
    matches = ui.find_customers(table, typed)
    interests = ""
    if not matches:
        pick_column.info("No customer matches. Describe a new customer's interests instead.")
        user_id = ""
    else:
        user_id = pick_column.selectbox(
            "Customer" if typed else "Customer (most active first)", matches, key="rec_user",
            format_func=lambda value: escape_markdown(value),
        )
    with st.expander("New customer? Describe their interests or pick a segment", expanded=not matches):
        interests = st.text_input("Interests", key="rec_interests", placeholder="likes jazz on vinyl, budget under $20")
        segments = sorted({str(value) for value in model.catalog.top_categories if value})
        segment = st.selectbox("Or show what is popular and trending in", ["(none)", *segments], key="rec_segment")

    if segment != "(none)" and not interests.strip():
        recommendations = model.recommend("", controls.k, rules=controls.rules, weights=controls.weights, segment=segment)
        history_ids = []
        user_id = ""
        st.subheader(f"Popular and trending in {escape_markdown(segment)}")
    elif interests.strip():
        recommendations = model.recommend_for_text(interests, controls.k, rules=controls.rules, weights=controls.weights)
        history_ids = []
        st.subheader("Recommended for the interests typed")
    elif user_id:
        recommendations = model.recommend(user_id, controls.k, rules=controls.rules, weights=controls.weights)
        profile = model.profile_summary(user_id, aspects=ui.favourite_aspects(root, version, user_id))
        history = ui.history_frame(root, version, user_id)
        history_ids = history["item_id"].astype(str).unique().tolist()

        # -- profile and history ---------------------------------------------------------------------
        st.subheader("Customer")
        first, second, third, fourth = st.columns(4)
        first.metric("Products in history", profile.history_items)
        second.metric("Reviews", profile.reviews)
        third.metric("Average rating", f"{profile.average_rating:.1f} ★" if profile.average_rating else "—")
        fourth.metric("Interests", profile.interests, help="Distinct tastes found by clustering the history.")
        summary_left, summary_right = st.columns(2)
        with summary_left:
            st.caption("Top categories")
            st.dataframe({"category": [name for name, _ in profile.top_categories],
                          "share": [share for _, share in profile.top_categories]}, hide_index=True)
        with summary_right:
            st.caption("Top brands")
            st.dataframe({"brand": [name for name, _ in profile.top_brands],
                          "share": [share for _, share in profile.top_brands]}, hide_index=True)
            if profile.price_band:
                low, median, high = profile.price_band
                st.caption(f"Price band: {low:.2f} – {high:.2f} (median {median:.2f})")
            if profile.favourite_aspects:
                st.caption("Praises in reviews")
                show_text(", ".join(profile.favourite_aspects))
            if profile.disliked_items:
                st.caption(f"{profile.disliked_items} disliked product(s) push the profile away.")
        with st.expander(f"History ({len(history)} entries)", expanded=False):
            st.dataframe(history, hide_index=True, width="stretch")
            reviews = history[history["what"] == "review"].head(5)
            for row in reviews.itertuples(index=False):
                st.caption(f"{'★' * int(row.rating) if row.rating == row.rating and row.rating else ''} on {row.item_id}")
                show_text(str(row.review)[:400])
        st.subheader("Recommended")
    else:
        st.stop()

    if not recommendations:
        st.info("Nothing left to recommend: the customer already has every product, or rules removed the rest.")
        st.stop()

    frame = ui.recommendations_frame(model, recommendations)
    st.plotly_chart(ui.score_bar(frame), key="rec_score_bar")
    st.download_button(
        "Download as CSV", frame.to_csv(index=False).encode("utf-8"),
        file_name=f"recommendations-{user_id or 'interests'}.csv", mime="text/csv", icon=":material/download:",
    )

    def cards(items: list, prefix: str) -> None:
        for item in items:
            position = model.catalog.positions[item.item_id]
            with st.container(border=True):
                head, score = st.columns([4, 1])
                head.markdown(f"**{item.rank}.** {escape_markdown(model.catalog.titles[position])}")
                head.caption(
                    f"{escape_markdown(item.item_id)} · {escape_markdown(model.catalog.categories[position] or 'no category')}"
                    + (f" · {model.catalog.prices[position]:.2f}" if not np.isnan(model.catalog.prices[position]) else "")
                )
                score.metric("Score", f"{item.score:.3f}", label_visibility="collapsed")
                parts = [f"{name} {item.explanation.components.get(name, 0):.2f}" for name in (*COMPONENTS, "rules")
                         if item.explanation.components.get(name)]
                st.caption(" + ".join(parts))
                with st.expander("Why this product?"):
                    show_text(item.explanation.reason)
                    contributions = ui.contributions_frame(model, item.explanation.attribution)
                    if not contributions.empty:
                        st.caption("What each product of the customer's history adds to the score "
                                   "(the parts of a component add up to it)")
                        st.plotly_chart(ui.contributions_chart(contributions), key=f"{prefix}_parts_{item.rank}")
                    if item.explanation.because:
                        st.caption("Closest products in the customer's history")
                        st.dataframe(
                            {"product": [ui.item_label(model, entry.item_id) for entry in item.explanation.because],
                             "cosine": [entry.similarity for entry in item.explanation.because]},
                            hide_index=True, key=f"{prefix}_because_{item.rank}",
                        )
                    if item.explanation.shared_keywords:
                        st.caption("Shared review keywords")
                        show_text(", ".join(item.explanation.shared_keywords))
                    if item.explanation.rules:
                        st.caption("Rules that moved it")
                        show_text("\n".join(item.explanation.rules))

    if controls.compare:
        model_b = controls.model_b
        if interests.strip():
            other = model_b.recommend_for_text(interests, controls.k, rules=controls.rules_b, weights=controls.weights_b)
        else:
            other = model_b.recommend(user_id, controls.k, rules=controls.rules_b, weights=controls.weights_b)
        left, right = st.columns(2)
        with left:
            st.caption(f"Configuration A (sidebar weights and rules) · {ui.collaborative_label(model.settings.collaborative_ease_l2)}")
            cards(recommendations, "a")
        with right:
            overlap = len({item.item_id for item in recommendations} & {item.item_id for item in other})
            st.caption(f"Configuration B · {ui.collaborative_label(model_b.settings.collaborative_ease_l2)} · "
                       f"{overlap} of {len(other)} products in common")
            cards(other, "b")
    else:
        cards(recommendations, "a")

    # -- why not this product? -------------------------------------------------------------------------
    if user_id and not interests.strip():
        st.subheader("Why not this product?")
        product = st.text_input("Product id", key="rec_why_not", placeholder="a product id from the catalog")
        if product.strip():
            answer = model.why_not(user_id, product.strip(), controls.k, rules=controls.rules, weights=controls.weights)
            show_text(answer.reason)
            st.dataframe(
                {"component": list(answer.gaps), "this product": [answer.components.get(name, 0.0) for name in answer.gaps],
                 "gap to the last listed": list(answer.gaps.values())},
                hide_index=True, key="rec_why_not_table",
            )
            contributions = ui.contributions_frame(model, answer.attribution)
            if not contributions.empty:
                st.caption("What the customer's history gives this product")
                st.dataframe(contributions, hide_index=True, key="rec_why_not_parts")

    # -- catalog map ------------------------------------------------------------------------------------
    with st.expander("Catalog map (2-D projection of the product embeddings)"):
        points = ui.catalog_map(root, version)
        if points.empty:
            st.info("Embed the catalog to see the map (`recengine embed`).")
        else:
            st.plotly_chart(
                ui.map_figure(points, history_ids, [item.item_id for item in recommendations]), key="rec_map"
            )
