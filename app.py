"""The recengine dashboard: `streamlit run app.py` (settings in .streamlit/config.toml).

Pages are listed explicitly (Streamlit does not discover pages/ when `st.navigation` is used) and
grouped by what a merchandiser or analyst wants to do. Every page reads the session's workspace through
`ui.common.get_workspace()`; the sidebar switches it.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.auth import is_editor, sign_in_gate
from ui.common import demo_notice, get_workspace, guarded, workspace_switcher
from ui.home import create_first_start_demo, needs_first_start_demo

ASSETS = Path(__file__).resolve().parent / "assets"

st.set_page_config(
    page_title="recengine",
    page_icon=str(ASSETS / "icon.png"),
    layout="wide",
    initial_sidebar_state="expanded",
)
st.logo(str(ASSETS / "logo.svg"), icon_image=str(ASSETS / "icon.svg"), size="large")

# Stops here with a sign-in form when access control is configured (off by default on localhost).
sign_in_gate()

PAGES = {
    "Overview": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Data": [st.Page("pages/data.py", title="Data", icon=":material/upload_file:")],
    "Insights": [st.Page("pages/insights.py", title="Review insights", icon=":material/insights:")],
    "Recommendations": [
        st.Page("pages/recommendations.py", title="For a customer", icon=":material/recommend:"),
        st.Page("pages/similar.py", title="Similar products", icon=":material/join_inner:"),
    ],
    "Search & Bundles": [
        st.Page("pages/search.py", title="Search & bundles", icon=":material/search:"),
    ],
    "Evaluation": [
        st.Page("pages/evaluation.py", title="Evaluation", icon=":material/monitoring:"),
    ],
    "Fine-tuning": [
        st.Page("pages/fine_tuning.py", title="Fine-tuning", icon=":material/model_training:"),
    ],
}
page = st.navigation(PAGES)

# Typing a folder creates a workspace there: editors only.
workspace_switcher(allow_other_folders=is_editor())

# First start on the default workspace: generate the demo before any page opens (and would otherwise
# create an empty workspace in its place), whichever page the browser asked for.
if needs_first_start_demo():
    with guarded("Creating the demo workspace"):
        create_first_start_demo()

with guarded("Opening the workspace"):
    demo_notice(get_workspace())

page.run()
