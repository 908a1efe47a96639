"""Home: what is in the workspace, how fresh the computed parts are, and where to go next."""

from __future__ import annotations

import streamlit as st

from ui.common import data_version, demo_notice, escape_markdown, get_workspace, guarded, show_text
from ui.home import (
    SECTION_ERROR,
    format_value,
    label_for,
    render_sentiment_split,
    render_values,
    sentiment_split,
    status_sections,
    workspace_summary,
)
from ui.preparation import preparation_panel

st.title("Overview")
st.caption(
    "Explainable product recommendations from your catalog, reviews and events: see what customers say, "
    "what each customer is recommended and why."
)

workspace = None
with guarded("Reading the workspace"):
    workspace = get_workspace()
    demo_notice(workspace, sidebar=False)
    version = data_version(workspace)
    summary = workspace_summary(str(workspace.root.resolve()), version)
    preparation_panel(workspace)

    st.subheader("Data", anchor=False)
    first, second, third, fourth, fifth = st.columns(5)
    first.metric("Products", f"{summary.items:,}", help="Placeholders (reviewed but not in the catalog) "
                 f"included: {summary.placeholder_items:,}.")
    second.metric("Customers", f"{summary.users:,}")
    third.metric("Reviews", f"{summary.reviews:,}", help=f"{summary.rated_reviews:,} of them with a rating.")
    fourth.metric(
        "Average rating",
        f"{summary.average_rating:.2f} ★" if summary.average_rating is not None else "—",
    )
    fifth.metric("Events", f"{summary.interactions:,}", help="Views, clicks, cart adds and purchases.")
    st.caption(
        f"Last ingest: {format_value(summary.last_ingest)} · {summary.ingest_batches:,} ingest batches · "
        f"{summary.rejected_rows:,} rejected rows kept for review"
    )

    if summary.items == 0:
        st.info(
            "This workspace is empty. Upload a product catalog and reviews on the Data page to begin.",
            icon=":material/upload_file:",
        )

    split = sentiment_split(str(workspace.root.resolve()), version)
    if split:
        st.subheader("What customers feel", anchor=False)
        render_sentiment_split(split)

st.subheader("Next steps", anchor=False)
left, middle, right = st.columns(3)
with left:
    st.page_link("pages/data.py", label="Upload catalog, reviews or events", icon=":material/upload_file:")
    st.page_link("pages/insights.py", label="What reviews say", icon=":material/insights:")
with middle:
    st.page_link("pages/recommendations.py", label="Recommendations for a customer", icon=":material/recommend:")
    st.page_link("pages/similar.py", label="Similar products", icon=":material/join_inner:")
with right:
    st.page_link("pages/search.py", label="Search and bundles", icon=":material/search:")
    st.page_link("pages/evaluation.py", label="How good are the recommendations?", icon=":material/monitoring:")
    st.page_link("pages/fine_tuning.py", label="Fine-tune the encoder", icon=":material/model_training:")

# -- behind the scenes: every capability's status, for analysts ----------------------------------------
with guarded("Reading the status of the computed parts"):
    sections = status_sections(str(workspace.root.resolve()), version) if workspace is not None else {}
    if sections:
        st.subheader("Behind the scenes", anchor=False)
        st.caption("How fresh the computed parts are: review analysis, embeddings, index, models, evaluations.")
        columns = st.columns(2)
        for position, (name, values) in enumerate(sections.items()):
            with columns[position % 2].container(border=True):
                st.markdown(f"**{label_for(name)}**")
                if isinstance(values, dict) and SECTION_ERROR in values:
                    st.warning(escape_markdown(values[SECTION_ERROR]), icon=":material/warning:")
                elif isinstance(values, dict):
                    render_values(values, per_row=2)
                else:
                    show_text(format_value(values) if not isinstance(values, list) else ", ".join(map(str, values)))
