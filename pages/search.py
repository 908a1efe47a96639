"""Search and bundles page (stub, being built by the recommend helper)."""

from __future__ import annotations

import streamlit as st

st.title("Search")
st.info("Search is being built.")
