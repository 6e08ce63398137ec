"""Chatwerkstatt workspace (Streamlit): sign-in, navigation over pages/ by role, sidebar."""

from __future__ import annotations

import streamlit as st

import pipelines  # noqa: F401  (offline defaults before any model library loads)
from apps import ui
from apps.ui import auth
from pipelines.accounts import role_label, visible_pages
from pipelines.settings import REPO_ROOT

st.set_page_config(page_title="Chatwerkstatt", page_icon="💬", layout="wide")

PAGE_FILES = {
    "start": ("start.py", "nav.start", ":material/home:"),
    "bots": ("bots.py", "nav.bots", ":material/smart_toy:"),
    "dokumente": ("dokumente.py", "nav.documents", ":material/description:"),
    "chat": ("chat.py", "nav.chat", ":material/chat:"),
    "posteingang": ("posteingang.py", "nav.inbox", ":material/inbox:"),
    "antworten": ("antworten.py", "nav.curated", ":material/verified:"),
    "analyse": ("analyse.py", "nav.analytics", ":material/monitoring:"),
    "bewertung": ("bewertung.py", "nav.evaluation", ":material/fact_check:"),
    "protokoll": ("protokoll.py", "nav.minutes", ":material/summarize:"),
    "einstellungen": ("einstellungen.py", "nav.settings", ":material/settings:"),
}

if auth.single_user_mode():
    st.session_state["role"] = "admin"
    ui.sidebar()
    st.sidebar.info(ui.t("login.single_user", address=auth.server_address()),
                    icon=":material/person:")
else:
    user = auth.current_user()
    if user is None:
        # The sign-in form also answers every page's address: a bookmarked /bots is no
        # "page not found" dialog, and as a page is known by its url_path, signing in there
        # continues on the Bots page.
        sign_in = [st.Page(auth.login_page, title=ui.t("login.title"), icon=":material/login:",
                           url_path=path) for path in ("anmelden", *PAGE_FILES)]
        st.navigation(sign_in, position="hidden").run()
        st.stop()
    ui.sidebar(user["workspaces"])
    auth.refresh_role(user)
    role = st.session_state.get("role")
    st.sidebar.caption(ui.t("login.signed_in", name=user["display_name"],
                            role=role_label(role) if role else "–"))
    if st.sidebar.button(ui.t("login.sign_out"), icon=":material/logout:", key="sign-out"):
        auth.sign_out()
        st.rerun()
    if role is None:
        st.warning(ui.t("login.no_workspace"))
        st.stop()

ui.PAGES.clear()
for key in visible_pages(st.session_state.get("role")):
    if key in PAGE_FILES:
        filename, title, icon = PAGE_FILES[key]
        ui.PAGES[key] = st.Page(REPO_ROOT / "pages" / filename, title=ui.t(title), icon=icon,
                                url_path=key, default=key == "start")
page = st.navigation(list(ui.PAGES.values()))
ui.show_flash()
page.run()
