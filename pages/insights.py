"""Review insights: what customers say about a product, brand or category, and how happily they say it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recengine.text import insights as queries
from ui import insights
from ui.auth import is_editor, require_editor
from ui.common import data_version, get_workspace, guarded, show_text
from ui.preparation import preparation_banner

st.title("Review insights")
st.caption(
    "Sentiment, product aspects and distinctive keywords from your customers' reviews. Quotes and "
    "reviews are shown exactly as written."
)

with guarded("Reading the review analysis"):
    workspace = get_workspace()
    root = str(workspace.root.resolve())
    version = data_version(workspace)
    status = insights.analysis_status(root, version)
    preparation = preparation_banner(workspace, "analysis", "the reviews themselves are on the Data page.")
    if preparation.is_ready("analysis"):
        preparation_banner(workspace, "sentiment", "sentiment comes from the lexicon (VADER), which misreads sarcasm.")
    elif preparation.running:
        st.stop()  # the analysis runs in the background: no second one from here

    # -- analysis state and the run button -------------------------------------------------------------
    if "insights_last_run" in st.session_state:
        st.success(st.session_state.pop("insights_last_run"), icon=":material/check_circle:")
    not_analysed = status["sentiment_method"] == "not analysed"
    if not_analysed or status["pending_reviews"]:
        message = (
            "The reviews have not been analysed yet."
            if not_analysed
            else f"{status['pending_reviews']:,} reviews are new since the last analysis."
        )
        if is_editor():
            info, action = st.columns([3, 1], vertical_alignment="center")
            info.info(message, icon=":material/pending:")
            if action.button("Run analysis", type="primary", key="run_analysis", icon=":material/play_arrow:"):
                require_editor("analyse reviews")  # checked on the server, whatever the browser shows
                with guarded("Analysing reviews"):
                    report = insights.run_analysis(workspace)
                    st.session_state["insights_last_run"] = (
                        f"Analysed {report.analyzed:,} reviews in {report.seconds:.1f} s "
                        f"(sentiment: {report.sentiment_method})."
                    )
                    st.rerun()
        else:
            st.info(message + " An editor can run the analysis.", icon=":material/pending:")
    if not_analysed:
        st.stop()

    # -- scope picker ----------------------------------------------------------------------------------
    left, right = st.columns([1, 3])
    scope = left.radio(
        "Look at", list(insights.SCOPE_LABELS), format_func=insights.SCOPE_LABELS.get, key="insights_scope"
    )
    choices = insights.scope_choices(root, version, scope)
    if not choices:
        right.info(f"No {insights.SCOPE_LABELS[scope].lower()} with reviews in this workspace.")
        st.stop()
    if scope == "all":
        choice = choices[0]
        right.metric("Reviews", f"{choice.reviews:,}")
    else:
        choice = right.selectbox(
            insights.SCOPE_LABELS[scope], choices, format_func=insights.choice_label, key=f"insights_pick_{scope}"
        )
    reviews = insights.scope_reviews(root, version, choice.scope, choice.scope_id)
    aspects = insights.scope_aspects(root, version, choice.scope, choice.scope_id)
    keywords = insights.scope_keywords(root, version, choice.scope, choice.scope_id)

    analysed = reviews.dropna(subset=["sentiment_label"])
    first, second, third, fourth = st.columns(4)
    first.metric("Reviews", f"{len(reviews):,}", help=f"{len(analysed):,} analysed.")
    average = reviews["rating"].mean()
    second.metric("Average rating", f"{average:.2f} ★" if pd.notna(average) else "—")
    share = (analysed["sentiment_label"] == "positive").mean() if len(analysed) else None
    third.metric("Positive text", f"{share:.0%}" if share is not None else "—")
    mean_score = analysed["sentiment_score"].mean() if len(analysed) else None
    fourth.metric("Mean sentiment", f"{mean_score:+.2f}" if mean_score is not None else "—",
                  help="From -1 (negative) to +1 (positive).")

    overview, aspect_tab, keyword_tab, explorer, mismatch_tab, quality_tab = st.tabs(
        ["Sentiment", "Aspects", "Keywords", "Review explorer", "Stars vs text", "Model quality"]
    )

    with overview:
        chart_left, chart_right = st.columns(2)
        chart_left.plotly_chart(insights.distribution_figure(reviews), key="sentiment_distribution")
        chart_right.plotly_chart(insights.trend_figure(reviews), key="sentiment_trend")

    with aspect_tab:
        if aspects.empty:
            st.info("No product aspects were found in these reviews.")
        else:
            praised, criticised = st.columns(2)
            for column, positive, heading in (
                (praised, True, "Most praised"),
                (criticised, False, "Most criticised"),
            ):
                with column:
                    st.subheader(heading, anchor=False)
                    top = queries.top_aspects(aspects, positive=positive)
                    if top.empty:
                        st.caption("None.")
                    for row in top.itertuples():
                        with st.container(border=True):
                            # Aspect names can come from review text: st.text keeps them inert.
                            st.text(f"{row.aspect}: {row.avg_sentiment:+.2f} over {row.mentions:,} mentions "
                                    f"({row.positive:,} positive, {row.negative:,} negative)")
                            for quote in row.quotes:
                                show_text(f"“{quote['text']}” ({quote['sentiment']:+.2f}, review {quote['review_id']})")
            st.dataframe(
                aspects.drop(columns=["quotes"]),
                hide_index=True,
                key="aspect_table",
                column_config={"avg_sentiment": st.column_config.NumberColumn("avg sentiment", format="%+.2f")},
            )

    with keyword_tab:
        if keywords.empty:
            st.info("No distinctive keywords yet: a scope needs a few reviews that share phrases.")
        else:
            st.caption(
                "Phrases these reviews use more than the rest of the catalog (log-odds z-score)"
                if choice.scope != "all"
                else "The catalog's most mentioned phrases"
            )
            st.dataframe(keywords, hide_index=True, key="keyword_table")

    with explorer:
        filters = st.columns(4)
        ratings = filters[0].multiselect("Stars", [1, 2, 3, 4, 5], key="filter_ratings")
        sentiments = filters[1].multiselect("Text sentiment", ["negative", "neutral", "positive"],
                                            key="filter_sentiments")
        aspect_names = sorted(aspects["aspect"].tolist()) if not aspects.empty else []
        aspect = filters[2].selectbox("Aspect", [""] + aspect_names, format_func=lambda name: name or "any",
                                      key="filter_aspect")
        search = filters[3].text_input("Text contains", key="filter_search")
        dates = pd.to_datetime(reviews["timestamp"]).dropna()
        start = end = None
        if not dates.empty and dates.min().date() < dates.max().date():
            picked = st.date_input("Dates", (dates.min().date(), dates.max().date()), key="filter_dates")
            if isinstance(picked, tuple) and len(picked) == 2:
                start, end = pd.Timestamp(picked[0]), pd.Timestamp(picked[1])
        shown = queries.filter_reviews(
            reviews, ratings=ratings, include_unrated=not ratings, sentiments=sentiments,
            aspect=aspect or None, start=start, end=end, search=search,
        )
        st.caption(f"{len(shown):,} of {len(reviews):,} reviews"
                   + (f" (first {insights.EXPLORER_ROWS:,} shown)" if len(shown) > insights.EXPLORER_ROWS else ""))
        st.dataframe(
            insights.explorer_frame(shown),
            hide_index=True,
            key="review_explorer",
            column_config={"text": st.column_config.TextColumn("text", width="large")},
        )
        if len(shown):
            picked_id = st.selectbox("Read one review sentence by sentence", shown["review_id"].head(insights.EXPLORER_ROWS),
                                     key="explorer_review")
            review = shown[shown["review_id"] == picked_id].iloc[0]
            show_text(review["title"] or "")
            show_text(review["text"] or "")
            st.dataframe(insights.sentences_frame(str(review["text"] or "")), hide_index=True, key="sentence_table")

    with mismatch_tab:
        found = insights.mismatches(root, version, choice.scope, choice.scope_id)
        st.caption("Reviews whose stars and text disagree: rating slips, sarcasm, or happy customers with a complaint.")
        if found.empty:
            st.info("No disagreements between stars and text here.")
        else:
            st.dataframe(found.drop(columns=["item_id"]), hide_index=True, key="mismatch_table")

    with quality_tab:
        st.caption(f"Sentiment method in use: {status['sentiment_method']}.")
        show_text(status["method_reason"])
        st.dataframe(insights.quality_frame(status), hide_index=True, key="quality_table")
        if status.get("advice"):
            st.info(status["advice"], icon=":material/lightbulb:")
        held_out = status.get("held_out_reviews")
        if held_out:
            st.caption(
                f"Scored against the star ratings of {held_out:,} reviews the model did not train on "
                "(1-2★ negative, 3★ neutral, 4-5★ positive)."
                if status["sentiment_method"] == "learned"
                else f"Lexicon scored against the star ratings of {held_out:,} rated reviews."
            )
