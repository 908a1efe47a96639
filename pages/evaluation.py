"""Evaluation: how well the recommender predicts what customers buy next, against simple baselines."""

from __future__ import annotations

import streamlit as st

from ui import evaluation as ev
from ui.auth import is_editor, require_editor
from ui.common import data_version, get_workspace, guarded
from ui.preparation import preparation_banner

st.title("Evaluation")
st.caption(
    "Each customer's latest product is hidden; every method ranks the whole catalog from the rest of the "
    "history. Intervals are 95% bootstrap intervals over customers."
)

with guarded("Reading the workspace"):
    workspace = get_workspace()
    root = str(workspace.root.resolve())
    version = data_version(workspace)
    preparation_banner(workspace, "evaluation", "you can run an evaluation yourself with the form below.")

    with st.form("evaluation_settings"):
        left, middle, right = st.columns(3)
        k = left.number_input("K (length of the list)", min_value=1, max_value=100, value=10, step=1)
        strategy = middle.selectbox(
            "Hold out",
            ["leave_last_out", "global_time"],
            format_func=lambda value: {
                "leave_last_out": "each customer's latest product",
                "global_time": "everything after a date (last 20%)",
            }[value],
        )
        resamples = right.select_slider("Bootstrap resamples", options=[200, 500, 1000, 2000], value=1000)
        methods = st.multiselect(
            "Methods",
            ev.method_names(),
            default=[],
            placeholder="All methods the data allows",
            help="MostPopular = best-sellers; ItemKNN = bought together; ALS = matrix factorisation; "
            "TF-IDF = text match; Embedding = meaning of product text; Hybrid = the recommender.",
        )
        active, other_versions, default_versions = ev.encoder_versions(root)
        chosen_versions: list[str] = []
        if other_versions:
            chosen_versions = st.multiselect(
                f"Also evaluate these encoder versions (active: {active})",
                other_versions,
                default=default_versions,
                help="Each version embeds the catalog (once: vectors are cached per model) and adds "
                "'Embedding (version)' and 'Hybrid (version)' rows, tested against the active encoder.",
            )
        submitted = st.form_submit_button("Run evaluation", type="primary", icon=":material/play_arrow:")

    if submitted:
        ev.run(
            root, k=int(k), methods=methods, strategy=strategy, resamples=int(resamples),
            model_versions=chosen_versions,
        )

    result = ev.current_result(root, version)
    if result is None:
        st.info("Run an evaluation to see how each method does.", icon=":material/monitoring:")
    else:
        st.success(result.verdict, icon=":material/verified:")
        st.caption(
            f"{result.dataset}: {result.users:,} customers tested, {result.items:,} products ranked, "
            f"{result.train_interactions:,} training interactions. Split: {result.split}. "
            + ev.versions_caption(result)
        )
        st.subheader("Metrics", anchor=False)
        st.dataframe(result.table(), hide_index=True, width="stretch")
        with st.expander("Beyond accuracy: coverage, diversity, novelty, popularity bias"):
            st.dataframe(ev.beyond_frame(result), hide_index=True, width="stretch")
        if result.comparisons:
            with st.expander(f"Is {result.reference} really better? Paired tests"):
                st.dataframe(ev.comparisons_frame(result), hide_index=True, width="stretch")

        metric = st.radio(
            "Metric",
            ["ndcg", "hit_rate", "recall", "mrr", "precision", "map"],
            format_func=ev.metric_label,
            horizontal=True,
            help="\n\n".join(f"**{ev.metric_label(name)}**: {text}" for name, text in ev.METRIC_HELP.items()),
        )
        by_method, by_k, slices = st.tabs(["By method", "By K", "Slices"])
        with by_method:
            st.plotly_chart(ev.metric_by_method_chart(result, metric), width="stretch")
        with by_k:
            st.plotly_chart(ev.metric_by_k_chart(result, metric), width="stretch")
        with slices:
            if metric in ("ndcg", "hit_rate", "recall"):
                st.plotly_chart(ev.slices_chart(result, metric), width="stretch")
                st.caption(
                    "Cold users have only 1-2 products in their history; long-tail items are outside the "
                    "best-sellers that make up half of all purchases."
                )
            else:
                st.info("Slices are shown for NDCG, HitRate and Recall.")

        if is_editor():
            with st.form("save_experiment"):
                name = st.text_input("Experiment name", placeholder="e.g. after adding June reviews")
                if st.form_submit_button("Save as experiment", icon=":material/save:"):
                    with guarded("Saving the experiment"):
                        require_editor("Saving an experiment")
                        experiment_id = ev.save(root, result, name)
                        st.toast(f"Saved experiment {experiment_id}.")

    st.subheader("New products (cold start)", anchor=False)
    st.caption(ev.NEW_PRODUCTS_CAPTION)
    with st.form("new_products_settings"):
        left, right = st.columns(2)
        new_share = left.select_slider("Share of products made new", options=[0.1, 0.2, 0.3], value=0.2)
        new_resamples = right.select_slider("Bootstrap resamples ", options=[200, 500, 1000], value=500)
        run_new = st.form_submit_button("Evaluate new products", icon=":material/fiber_new:")
    if run_new:
        ev.run_new_products(root, share=float(new_share), resamples=int(new_resamples))
    new_products = ev.current_new_products(root)
    if new_products is not None:
        st.success(new_products.verdict(), icon=":material/fiber_new:")
        st.caption(f"{new_products.dataset}: {new_products.description}.")
        among_tab, whole_tab = st.tabs(["Among new products only", "Whole catalog (what customers see)"])
        with among_tab:
            st.plotly_chart(ev.new_products_chart(new_products.among_new, "recall@20"), width="stretch")
            st.dataframe(new_products.among_new.table(), hide_index=True, width="stretch")
        with whole_tab:
            st.dataframe(new_products.whole_catalog.table(), hide_index=True, width="stretch")

    st.subheader("Score weights from this shop's data", anchor=False)
    st.caption(ev.SEARCH_CAPTION)
    if st.button("Suggest weights", icon=":material/tune:"):
        ev.suggest(root)
    suggestion = ev.current_suggestion(root)
    if suggestion is not None:
        if suggestion.worth_applying:
            st.success(suggestion.verdict, icon=":material/trending_up:")
        else:
            st.info(suggestion.verdict, icon=":material/balance:")
        st.dataframe(ev.suggestion_frame(suggestion), hide_index=True, width="stretch")
        if is_editor() and suggestion.changed:
            force = False
            if not suggestion.worth_applying:
                force = st.checkbox("Save anyway (the gain is within the noise)")
            if st.button(
                "Save as this shop's weights", type="primary", icon=":material/save:",
                disabled=not (suggestion.worth_applying or force),
            ):
                with guarded("Saving the weights"):
                    require_editor("Saving score weights")
                    path = ev.apply_suggestion(root, suggestion)
                    st.toast(f"Saved to {path}; recommendations use the new weights now.")
        for name in ev.environment_overrides():
            st.warning(f"{name} is set in the environment and overrides the saved weight.", icon=":material/warning:")

    st.subheader("Saved experiments", anchor=False)
    saved = ev.experiments(root, version, ev.saves_counter())
    if saved.empty:
        st.caption("No experiments saved yet.")
    else:
        st.dataframe(saved, hide_index=True, width="stretch")
        if len(saved) >= 2:
            ids = saved["experiment_id"].tolist()
            labels = dict(zip(ids, saved["name"], strict=True))
            left, right = st.columns(2)
            before = left.selectbox("Before", ids, index=1, format_func=lambda i: f"{labels[i]} ({i})")
            after = right.selectbox("After", ids, index=0, format_func=lambda i: f"{labels[i]} ({i})")
            changes, differences, before_verdict, after_verdict, summary = ev.comparison(
                root, before, after, ev.saves_counter()
            )
            st.info(summary, icon=":material/compare_arrows:")
            if changes.empty:
                st.info("These experiments share no method to compare.")
            else:
                compare_metric = st.selectbox(
                    "Compare on", ["ndcg", "hit_rate", "recall", "mrr"], format_func=ev.metric_label
                )
                st.plotly_chart(ev.comparison_chart(changes, compare_metric), width="stretch")
                st.dataframe(changes, hide_index=True, width="stretch")
            st.caption("What changed between them:")
            if differences:
                st.json(differences, expanded=False)
            else:
                st.caption("Same configuration and data.")
            st.text(f"Before: {before_verdict}\nAfter: {after_verdict}")
