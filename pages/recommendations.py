"""Recommendations page (stub, being built by the recommend helper)."""

from __future__ import annotations

import streamlit as st

st.title("Recommendations")
st.info("Recommendations are being built.")
