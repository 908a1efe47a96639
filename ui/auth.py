"""Sign-in for the dashboard and the server-side role checks of every write path.

Off by default (the server binds to localhost). Configure password hashes (see `recengine.access`) or
OpenID Connect through Streamlit's built-in `st.login` (an `[auth]` section with `redirect_uri`,
`cookie_secret` and the provider's settings in `.streamlit/secrets.toml`; editors are listed by e-mail in
`[recengine] editor_emails = [...]`, everyone else who signs in is a viewer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from recengine.access import AccessPolicy, Role, require_role

ROLE_KEY = "recengine_role"


def _secrets_section(name: str) -> Mapping[str, Any]:
    try:
        section = st.secrets.get(name, {})
    except Exception:  # noqa: BLE001 - no secrets file at all is the normal local case
        return {}
    return section if isinstance(section, Mapping) else {}


def _oidc_configured() -> bool:
    return "redirect_uri" in _secrets_section("auth")


def current_role() -> Role | None:
    """The role of this browser session; None while signed out."""
    if _oidc_configured():
        if not st.user.is_logged_in:
            return None
        editors = {str(email).lower() for email in _secrets_section("recengine").get("editor_emails", [])}
        return Role.EDITOR if str(st.user.get("email", "")).lower() in editors else Role.VIEWER
    policy = AccessPolicy.from_sources(_secrets_section("recengine"))
    if not policy.enabled:
        return Role.EDITOR
    return st.session_state.get(ROLE_KEY)


def sign_in_gate() -> Role:
    """Show the sign-in form and stop the page until the session is signed in; return its role."""
    role = current_role()
    if role is not None:
        return role
    st.title("Sign in to recengine")
    if _oidc_configured():
        st.button("Sign in", on_click=st.login, type="primary")
        st.stop()
    with st.form("sign_in"):
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        signed_in = AccessPolicy.from_sources(_secrets_section("recengine")).role_for_password(password)
        if signed_in is None:
            st.error("That password is not valid.")
        else:
            st.session_state[ROLE_KEY] = signed_in
            st.rerun()
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def require_editor(action: str) -> None:
    """Check on the server that this session may write; raises `PermissionDeniedError` otherwise."""
    require_role(current_role(), Role.EDITOR, action)


def is_editor() -> bool:
    role = current_role()
    return role is not None and role >= Role.EDITOR
