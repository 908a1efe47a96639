"""Similar products page (stub; the full view is built in ui/similar.py)."""

from __future__ import annotations

import streamlit as st

st.title("Similar products")
st.info("This view is being built.")
