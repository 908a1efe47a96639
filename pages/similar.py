"""Similar products: pick a product, see its details and the products closest to it in meaning."""

from __future__ import annotations

import streamlit as st

from ui import similar
from ui.common import data_version, get_workspace, guarded, show_text
from ui.preparation import preparation_banner

st.title("Similar products")
st.caption(
    "Products whose titles, brands, categories and descriptions mean similar things, by the cosine of "
    "their embeddings. Product text is shown exactly as uploaded."
)

with guarded("Finding similar products"):
    workspace = get_workspace()
    root = str(workspace.root.resolve())
    version = data_version(workspace)
    preparation_banner(workspace, "embeddings", "similar products cannot be shown: they are found by the embeddings.")
    status = similar.embedding_status_box(workspace, key="similar_embeddings")
    if status["problem"]:
        st.stop()
    if status["items"] == 0:
        st.info("No products yet: upload a catalog on the Data page.", icon=":material/inventory_2:")
        st.stop()
    if similar.cached_index(root, version) is None:
        st.info("Update the embeddings above to find similar products.", icon=":material/pending:")
        st.stop()

    search_column, options_column = st.columns([3, 1])
    query = search_column.text_input("Find a product", placeholder="Name, brand or product id",
                                      key="similar_query")
    matches = similar.product_matches(root, version, query)
    if matches.empty:
        st.warning("No product matches that search.", icon=":material/search_off:")
        st.stop()
    labels = {row["item_id"]: similar.product_label(row) for _, row in matches.iterrows()}
    item_id = search_column.selectbox(
        f"Product ({len(matches):,} shown)" if len(matches) == similar.MATCH_LIMIT else "Product",
        list(labels), format_func=labels.get, key="similar_item",
    )
    k = options_column.slider("How many", 5, 50, 10, step=5, key="similar_k")
    same_category = options_column.toggle("Same category only", key="similar_same_category")

    details = similar.item_details(root, version, item_id)
    with st.container(border=True):
        show_text(details.get("title") or "(untitled)")
        facts = st.columns(4)
        facts[0].caption("Product id")
        with facts[0]:
            show_text(details.get("item_id"))
        facts[1].caption("Brand")
        with facts[1]:
            show_text(details.get("brand") or "-")
        facts[2].caption("Category")
        with facts[2]:
            show_text(details.get("category") or "-")
        price = details.get("price")
        facts[3].metric("Price", "-" if price is None or price != price else f"{float(price):,.2f}")
        if details.get("description"):
            with st.expander("Description"):
                show_text(details["description"])

    frame = similar.similar_frame(root, version, item_id, k, same_category)
    if frame.empty:
        st.info("No other product qualifies (try without 'Same category only').")
    else:
        st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            column_config={
                "cosine": st.column_config.ProgressColumn("Cosine", min_value=0.0, max_value=1.0, format="%.3f"),
                "price": st.column_config.NumberColumn("Price", format="%.2f"),
            },
        )
