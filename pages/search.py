"""Search & bundles: natural-language product search, personalised for a customer, and bundles."""

from __future__ import annotations

import streamlit as st

from recengine.recommend.bundles import bundle_for_item_id, bundle_for_user_id
from recengine.recommend.intent_match import intent_for
from recengine.recommend.search import search_with_intent
from ui import recommend as ui
from ui import search as search_ui
from ui.common import data_version, escape_markdown, get_workspace, guarded, require_items, show_text
from ui.preparation import preparation_banner

st.title("Search & bundles")
st.caption("Find products by describing them (price limits, ratings, exclusions, categories and brands are read from "
           "the words), ranked for a customer's taste when one is chosen, and build bundles.")

with guarded("Searching"):
    workspace = get_workspace()
    root = str(workspace.root.resolve())
    version = data_version(workspace)
    require_items(workspace)
    preparation_banner(workspace, "embeddings", "search matches the words of product texts, not yet their meaning.")
    model = ui.recommender(root, version)
    customers = ui.find_customers(ui.customers(root, version), "")

    search_tab, bundle_tab = st.tabs(["Search", "Bundles"])
    with search_tab:
        query = st.text_input("Describe the product", key="search_query", placeholder="warm jacket for hiking under $150, 4 stars and up")
        left, right = st.columns(2)
        user = left.selectbox("Personalise for", ["(nobody)", *customers], key="search_user",
                              format_func=escape_markdown)
        k = right.slider("Results", 5, 50, 10, key="search_k")
        if query.strip():
            read = intent_for(model, query)
            intent = search_ui.constraint_chips(read, key=f"search_chips:{query.strip()}")
            response = search_with_intent(model, query, intent=intent, user_id=None if user == "(nobody)" else user, k=k)
            if response.note:
                st.warning(response.note, icon=":material/tune:")
            if not response.results:
                st.info("No product matches these words.")
            st.dataframe(
                search_ui.results_table(model, response, ui.item_label),
                hide_index=True, width="stretch", key="search_results",
            )

    with bundle_tab:
        mode = st.radio("Bundle for", ["a product", "a customer"], horizontal=True, key="bundle_mode")
        budget_on = st.checkbox("Limit the total price", key="bundle_budget_on")
        budget = st.number_input("Budget", min_value=1.0, value=50.0, key="bundle_budget") if budget_on else None
        size = st.slider("Products in the bundle", 1, 8, 4, key="bundle_size")
        if mode == "a product":
            product = st.text_input("Product id", key="bundle_item", placeholder="a product id from the catalog")
            bundle = bundle_for_item_id(model, product.strip(), size=size, budget=budget) if product.strip() else None
        else:
            customer = st.selectbox("Customer", customers, key="bundle_user", format_func=escape_markdown)
            bundle = bundle_for_user_id(model, customer, size=size, budget=budget) if customer else None
        if bundle is not None:
            st.caption("Completing: " + ", ".join(escape_markdown(ui.item_label(model, item)) for item in bundle.anchor_item_ids))
            if not bundle.items:
                st.info("No product is bought together with these often enough (or within the budget).")
            for item in bundle.items:
                with st.container(border=True):
                    st.markdown(escape_markdown(ui.item_label(model, item.item_id)))
                    show_text(item.reason)
            if bundle.total_price is not None:
                st.metric("Total price", f"{bundle.total_price:.2f}")
