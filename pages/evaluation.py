"""Evaluation page: offline metrics against baselines (stub, filled in by the evaluation helper)."""

from __future__ import annotations

import streamlit as st

st.title("Evaluation")
st.info("Offline evaluation is being built.")
