"""Fine-tuning: train the encoder on this workspace's customers, watch it, compare, switch or roll back."""

from __future__ import annotations

import streamlit as st

from recengine.train import registry
from recengine.train.arguments import FineTuneArguments
from ui import fine_tuning as ft
from ui.auth import is_editor, require_editor
from ui.common import data_version, get_workspace, guarded, progress_bar

st.title("Fine-tuning")
st.caption(
    "Teach the encoder what belongs together in this shop: products customers engage with one after "
    "another, positive reviews and the products they praise, products bought together. Training runs "
    "in the background; you can leave or reload this page. Each customer's latest product and half of "
    "the evaluated customers are kept out of training, so before/after figures are honest."
)

with guarded("Loading the fine-tuning page"):
    workspace = get_workspace()
    root = str(workspace.root.resolve())
    runner = ft.runner_for(workspace)
    editor = is_editor()
    active = runner.active()
    problem = ft.base_model_problem(workspace)
    helps = FineTuneArguments.help_texts()
    defaults = FineTuneArguments()
    summary = ft.data_summary(root, data_version(workspace))

    # -- the one action --------------------------------------------------------------------------------
    st.subheader("Improve the model on this shop's data")
    if problem:
        st.info(problem, icon=":material/info:")
    st.caption(
        f"Trains a new encoder version with the recommended settings "
        f"({ft.expected_duration(runner, summary['items'], ft.encoder_device(workspace))}). "
        "It is measured on products held out as new and on customers held out of training, then waits for you "
        "to activate it under Encoder versions."
    )
    if st.button("Improve the model", type="primary", icon=":material/auto_awesome:", key="ft_improve",
                 disabled=bool(problem) or active is not None or not editor):
        require_editor("start fine-tuning")
        record = ft.start_finetune(runner, {}, activate=False)
        st.toast(f"Started job {record.job_id}")
        st.rerun()

    # -- training data -----------------------------------------------------------------------------
    st.subheader("Training data")
    counts = st.columns(4)
    counts[0].metric("Products", f"{summary['items']:,}")
    counts[1].metric("Customers", f"{summary['customers']:,}")
    counts[2].metric("Reviews", f"{summary['reviews']:,}")
    counts[3].metric("Events", f"{summary['interactions']:,}")
    st.dataframe(ft.pairs_frame(summary), hide_index=True, width="stretch")
    st.caption(f"Held out: {summary['holdout']}.")

    # -- the running or latest job ---------------------------------------------------------------
    st.subheader("Training job")

    @st.fragment(run_every=ft.POLL_S if active is not None else None)
    def job_panel() -> None:
        record = ft.latest_job(runner)
        if record is None:
            st.info("No training has run in this workspace yet.", icon=":material/model_training:")
            return
        label = {"finetune_encoder": "Encoder fine-tune", "train_sentiment": "Sentiment model"}.get(record.kind, record.kind)
        st.markdown(f"**{label}** · job `{record.job_id}` · {record.status}")
        if record.is_active:
            st.progress(min(max(record.progress, 0.0), 1.0), text=f"{record.message} — {ft.eta_text(record)}")
            if st.button("Cancel", key="ft_cancel", icon=":material/stop_circle:", disabled=not editor):
                require_editor("cancel a training job")
                runner.cancel(record.job_id, block=False)
                st.rerun()
        elif record.status == "failed":
            st.error(record.error or "The job failed.", icon=":material/error:")
        elif record.status == "cancelled":
            st.warning("The job was cancelled; nothing was changed.", icon=":material/cancel:")
        elif record.result and record.kind == "finetune_encoder":
            result = record.result
            state = "and activated" if result.get("activated") else "(not active yet)"
            st.success(f"Version {result.get('version_id')} registered {state}.", icon=":material/check_circle:")
        elif record.kind == "train_sentiment":
            st.success("Sentiment model retrained.", icon=":material/check_circle:")
        events = runner.events(record.job_id)
        charts = st.columns(2)
        loss = ft.loss_figure(events)
        validation = ft.validation_figure(events)
        if loss is not None:
            charts[0].plotly_chart(loss, width="stretch", key="ft_loss")
        if validation is not None:
            charts[1].plotly_chart(validation, width="stretch", key="ft_validation")
        with st.expander("Log"):
            st.code(ft.log_lines(runner, record) or "(no log lines yet)", language=None)
        if active is not None and not record.is_active:
            st.rerun()  # the job just ended: refresh the versions below and stop polling

    job_panel()

    # -- start ---------------------------------------------------------------------------------------
    st.subheader("Choose what it learns from and how")
    with st.form("ft_settings"):
        objectives = list(ft.OBJECTIVE_LABELS)
        objective = st.selectbox(
            "What the encoder learns from", objectives, index=objectives.index(defaults.objective),
            format_func=ft.objective_label,
            help=helps["objective"] + " Both hold out a share of the products as new and report how the tuned "
            "encoder ranks them (docs/EVALUATION.md, Magazine: customers' choices +7.7% to +30% Recall@20 "
            "among new products over the base encoder; text pairs +5.4% on a 320-pair sample, so customers' choices are the default).",
        )
        advanced = st.expander("Advanced settings")
        left, middle, right = advanced.columns(3)
        epochs = left.number_input("Epochs", 1, 20, defaults.epochs, help=helps["epochs"])
        batch_size = left.number_input("Batch size", 2, 1024, defaults.batch_size, help=helps["batch_size"])
        max_pairs = middle.number_input("Max pairs", 10, 1_000_000, defaults.max_pairs, step=500, help=helps["max_pairs"])
        learning_rate = middle.number_input(
            "Learning rate", 1e-6, 1e-3, defaults.learning_rate, format="%.6f", help=helps["learning_rate"]
        )
        hard_negatives = right.number_input("Hard negatives", 0, 5, defaults.hard_negatives, help=helps["hard_negatives"])
        lora_rank = right.number_input("LoRA rank (0 = full)", 0, 64, defaults.lora_rank, help=helps["lora_rank"])
        cached = left.checkbox("Cached loss (large batches)", defaults.use_cached_mnrl, help=helps["use_cached_mnrl"])
        trainable_layers = middle.number_input("Layers trained (customers' choices)", -1, 48, defaults.trainable_layers,
                                               help=helps["trainable_layers"])
        users_per_batch = right.number_input("Customers per step (customers' choices)", 2, 100_000,
                                             defaults.users_per_batch, help=helps["users_per_batch"])
        activate = st.checkbox("Activate when done", False,
                                   help="Switch to the new encoder right after training (re-embeds the catalog).")
        submitted = st.form_submit_button(
            "Start fine-tuning", type="primary", icon=":material/play_arrow:",
            disabled=bool(problem) or active is not None or not editor,
        )
    if submitted:
        require_editor("start fine-tuning")
        record = ft.start_finetune(
            runner,
            {"objective": objective, "epochs": int(epochs), "batch_size": int(batch_size), "max_pairs": int(max_pairs),
             "trainable_layers": int(trainable_layers), "users_per_batch": int(users_per_batch),
             "learning_rate": float(learning_rate), "hard_negatives": int(hard_negatives),
             "lora_rank": int(lora_rank), "use_cached_mnrl": bool(cached)},
            activate=activate,
        )
        st.toast(f"Started job {record.job_id}")
        st.rerun()
    tuning_choices = list(ft.ENCODER_TUNING_CHOICES)
    encoder_tuning = st.selectbox(
        "Tune a copy of the encoder for sentiment first", tuning_choices, key="ft_sentiment_tuning",
        index=tuning_choices.index(workspace.configured_settings.text.sentiment_encoder_tuning),
        format_func=ft.encoder_tuning_label,
        help="SetFit-style, a few minutes on a CPU, every review encoded a second time; not done for a model that "
        "borrows another shop's. Saved as text.sentiment_encoder_tuning. The held-out scores below show whether "
        "it helped this shop.",
    )
    borrow_choices, borrowed = ft.borrow_choices(workspace)
    sentiment_prior = st.selectbox(
        "Borrow the sentiment model of another shop", borrow_choices, index=borrowed,
        format_func=ft.borrow_label, key="ft_sentiment_prior_choice",
        help="Listed: the analysed workspaces next to this one. The shop must use the same encoder. Its model's "
        "verdict on each review becomes one more input of this shop's model, which still learns from this shop's "
        "star ratings: it helps shops with few negative reviews. Saved as text.sentiment_prior.",
    )
    if sentiment_prior == ft.ANOTHER_FOLDER:
        sentiment_prior = st.text_input("Its workspace folder", key="ft_sentiment_prior",
                                        placeholder="/path/to/another/workspace")
    if st.button("Retrain the sentiment model", icon=":material/sentiment_satisfied:",
                 disabled=active is not None or not editor, key="ft_sentiment",
                 help="Re-fit the learned sentiment classifier on the star ratings (held-out scores below)."):
        require_editor("retrain the sentiment model")
        with guarded("Retraining the sentiment model"):
            record = ft.start_sentiment_training(runner, workspace, encoder_tuning, sentiment_prior)
            st.toast(f"Started job {record.job_id}")
            st.rerun()

    # -- versions -----------------------------------------------------------------------------------
    st.subheader("Encoder versions")
    versions = ft.versions_frame(workspace)
    st.dataframe(
        versions, hide_index=True, width="stretch",
        column_config={
            "active": st.column_config.TextColumn("Active", width="small"),
            "ndcg@10 before": st.column_config.NumberColumn(format="%.4f"),
            "ndcg@10 after": st.column_config.NumberColumn(format="%.4f"),
            "recall@10 after": st.column_config.NumberColumn(format="%.4f"),
        },
    )
    comparison = ft.comparison_frame(workspace)
    figure = ft.comparison_figure(comparison)
    if figure is not None:
        st.plotly_chart(figure, width="stretch", key="ft_comparison")
        st.dataframe(comparison, hide_index=True, width="stretch",
                     column_config={"change": st.column_config.NumberColumn(format="percent")})
    sentiment = ft.sentiment_frame(runner)
    if not sentiment.empty:
        st.markdown("**Sentiment model on held-out reviews**")
        st.dataframe(sentiment, hide_index=True, width="stretch")

    version_ids = versions["version"].tolist()
    active_id = registry.active_version(workspace).version_id
    choice_column, activate_column, rollback_column = st.columns([3, 1, 1])
    tuned = [version for version in version_ids if version != registry.BASE_VERSION]
    newest = tuned[-1] if tuned else active_id  # the registry lists versions in the order they were made
    chosen = choice_column.selectbox("Version", version_ids, index=version_ids.index(newest), key="ft_version")
    if chosen != registry.BASE_VERSION:
        st.info(ft.advice(workspace, chosen), icon=":material/lightbulb:")
    if activate_column.button("Activate", key="ft_activate", disabled=chosen == active_id or not editor,
                              icon=":material/published_with_changes:"):
        require_editor("switch the encoder")
        registry.activate(workspace, chosen, progress=progress_bar("Switching the encoder"))
        st.rerun()
    if rollback_column.button("Roll back", key="ft_rollback", disabled=active_id == registry.BASE_VERSION or not editor,
                              icon=":material/undo:"):
        require_editor("roll back the encoder")
        registry.rollback(workspace, progress=progress_bar("Rolling back the encoder"))
        st.rerun()
