"""Streamlit glue between the pages and `recengine`. Only this package and `pages/` import streamlit."""
