"""Fine-tuning page (stub until the full page lands)."""

from __future__ import annotations

import streamlit as st

st.title("Fine-tuning")
st.caption("Train the encoder on this workspace's data and switch to it when it recommends better.")
