"""Who is using the workspace: single-user mode on loopback, otherwise a login (password or
OIDC through st.login); the role in the chosen workspace decides pages and actions."""

from __future__ import annotations

from typing import Any

import streamlit as st

from apps import ui
from pipelines.accounts import UserRepository, login_required


def server_address() -> str:
    """Where Streamlit listens; unset means every interface (and so: login required)."""
    return str(st.get_option("server.address") or "0.0.0.0")


def single_user_mode() -> bool:
    return not login_required(server_address())


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, AttributeError):
        return False


def current_user() -> dict[str, Any] | None:
    """The signed-in user as {id, username, display_name, workspaces: {slug: role}}."""
    user = st.session_state.get("user")
    if user is None and oidc_configured() and getattr(st.user, "is_logged_in", False):
        user = _remember_oidc_user()
    return user if isinstance(user, dict) else None


def _remember_oidc_user() -> dict[str, Any] | None:
    with ui.engine().session() as session:
        repo = UserRepository(session)
        user = repo.oidc_user(_claim("sub") or "", _claim("email"), _claim("name"))
        if not user.is_active:
            return None
        return _remember(repo, user)


def _claim(name: str) -> str | None:
    """A text claim of the ID token; st.user holds all of them (plus Streamlit's own keys), and
    a provider may send other JSON types or leave a claim out."""
    value = st.user.get(name)
    return value if isinstance(value, str) else None


def _remember(repo: UserRepository, user: Any) -> dict[str, Any]:
    record = {"id": user.id, "username": user.username,
              "display_name": user.display_name or user.username,
              "workspaces": repo.workspaces_of(user)}
    st.session_state["user"] = record
    return record


def sign_in(username: str, password: str) -> bool:
    with ui.engine().session() as session:
        repo = UserRepository(session)
        user = repo.authenticate(username, password)
        if user is None:
            return False
        _remember(repo, user)
        return True


def sign_out() -> None:
    """Forget the user in this session; after single sign-on also end Streamlit's identity
    cookie (and the provider's session) and stop here.

    st.logout() only queues a redirect to /auth/logout, which deletes the cookie. A st.rerun()
    after it empties the outgoing queue and, depending on timing, drops that redirect: the
    login page would show while the cookie signs the user in again on the next visit.
    """
    for key in ("user", "role", "workspace"):
        st.session_state.pop(key, None)
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()
        st.stop()


def refresh_role(user: dict[str, Any]) -> None:
    """The role in the chosen workspace, read from the store on every run (a revoked right
    holds at once)."""
    with ui.engine().session() as session:
        repo = UserRepository(session)
        record = repo.get(user["username"])
        user["workspaces"] = repo.workspaces_of(record) if record and record.is_active else {}
    st.session_state["role"] = user["workspaces"].get(ui.workspace())


def login_page() -> None:
    st.title(ui.t("login.title"))
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        # The provider vouched for this person (Streamlit's identity cookie lasts 30 days), but
        # current_user() refused the local account: it is deactivated. Without saying so, the
        # sign-on button below would only bring them back to this page.
        st.error(ui.t("login.oidc_refused"), icon=":material/block:")
    st.write(ui.t("login.intro"))
    with st.form("login"):
        username = st.text_input(ui.t("login.username"), autocomplete="username")
        password = st.text_input(ui.t("login.password"), type="password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button(ui.t("login.submit"), type="primary")
    if submitted:
        if sign_in(username, password):
            st.rerun()
        st.error(ui.t("login.failed"))
    if oidc_configured():
        st.divider()
        if st.button(ui.t("login.oidc"), icon=":material/badge:", key="oidc"):
            st.login()
