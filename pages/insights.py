"""Insights page: review sentiment, aspects and keywords (stub, filled in by the text helper)."""

from __future__ import annotations

import streamlit as st

st.title("Insights")
st.info("Review analysis is being built.")
