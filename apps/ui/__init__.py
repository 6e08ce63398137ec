"""Shared pieces of the workspace pages: the cached engine, the chosen workspace, texts."""

from __future__ import annotations

import logging
import threading
import zlib
from typing import Any

import streamlit as st

from apps.ui.texts import TEXTS
from pipelines.accounts import Action
from pipelines.accounts import allowed as role_allows
from pipelines.engine import Engine
from pipelines.settings import get_settings
from pipelines.workspace import list_workspaces

LANGUAGES = {"de": "Deutsch", "en": "English"}
# The pages of this run, by key (set by apps/workspace.py), for st.page_link.
PAGES: dict[str, Any] = {}


log = logging.getLogger(__name__)


def warm_up(engine: Engine) -> None:
    """Once per process, in the background: apply the chat-log retention of every workspace,
    import what the pages need and load the embedding model, so the first page opens without
    waiting for the model and the first question finds it loaded."""
    try:
        from pipelines.retention import apply_retention

        for done in apply_retention(engine):
            if done.messages:
                log.info("Aufbewahrungsfrist angewandt: %s", done.describe())
    except Exception:
        log.exception("Aufbewahrungsfrist konnte nicht angewandt werden")
    try:
        import plotly.express  # noqa: F401

        import pipelines.assistant  # noqa: F401
        import pipelines.documents.ingest  # noqa: F401

        engine.warm_up()
    except Exception:  # the pages show the reason when they need the model
        log.exception("Aufwärmen fehlgeschlagen")


@st.cache_resource(show_spinner=False)
def _engine(data_dir: str, database_url: str) -> Engine:
    """One engine (embedding model, LanceDB, database) per data folder and process."""
    engine = Engine(get_settings())
    threading.Thread(target=warm_up, args=(engine,), name="warm-up", daemon=True).start()
    return engine


def engine() -> Engine:
    settings = get_settings()
    return _engine(str(settings.data_dir), settings.resolved_database_url)


def language() -> str:
    return str(st.session_state.get("language", "de"))


def t(key: str, **values: Any) -> str:
    """The text `key` in the chosen language (German when a translation is missing)."""
    text = TEXTS.get(language(), {}).get(key) or TEXTS["de"].get(key, key)
    return text.format(**values) if values else text


def role() -> str:
    """The signed-in user's role in the chosen workspace; single-user mode is admin."""
    return str(st.session_state.get("role") or "admin")


def allowed(action: Action) -> bool:
    return role_allows(role(), action)


def workspaces_allowing(action: Action) -> dict[str, str]:
    """slug -> name of the workspaces in which this person's role allows `action`."""
    roles: dict[str, str] = st.session_state.get("workspace_roles", {})
    names: dict[str, str] = st.session_state.get("workspace_names", {})
    return {slug: names.get(slug, slug) for slug, role in roles.items()
            if role_allows(role, action)}


def workspace() -> str:
    return str(st.session_state.get("workspace") or get_settings().default_workspace)


def sidebar(allowed_workspaces: dict[str, str] | None = None) -> None:
    """Workspace and language choice, on every page; `allowed_workspaces` (slug -> role)
    limits the choice to the signed-in user's workspaces."""
    workspaces = dict(list_workspaces(engine()))
    if allowed_workspaces is not None:
        workspaces = {s: n for s, n in workspaces.items() if s in allowed_workspaces}
    # slug -> role of every workspace this person may open (single-user mode: all, as admin)
    st.session_state["workspace_roles"] = {
        slug: (allowed_workspaces or {}).get(slug, "admin") if allowed_workspaces is not None
        else "admin" for slug in workspaces}
    st.session_state["workspace_names"] = workspaces
    if not workspaces:
        return
    current = workspace() if workspace() in workspaces else next(iter(workspaces))
    st.session_state["workspace"] = st.sidebar.selectbox(
        t("sidebar.workspace"), list(workspaces), index=list(workspaces).index(current),
        format_func=lambda slug: workspaces[slug], help=t("sidebar.workspace_help"),
    )
    st.session_state["language"] = st.sidebar.selectbox(
        t("sidebar.language"), list(LANGUAGES), index=list(LANGUAGES).index(language()),
        format_func=LANGUAGES.__getitem__,
    )


def remembered_choice(label: str, options: list[str], state_key: str,
                      format_func: Any = str, **kwargs: Any) -> str:
    """A select box that keeps its choice in `state_key` across pages and reruns (another
    page may preset it, e.g. to the bot or knowledge base just created).

    The box has a key of its own: without one, a changed `index` made Streamlit treat it as a
    new widget starting from the old choice, so every second pick was lost. The key changes
    with the labels, though: a keyed box keeps showing its old label ("0 Dok." after an
    upload) when only `format_func`'s text changes."""
    labels = "\x1f".join(str(format_func(option)) for option in options)
    widget_key = f"{state_key}-box-{zlib.crc32(labels.encode()):08x}"
    current = st.session_state.get(state_key)
    if current in options and st.session_state.get(widget_key) != current:
        st.session_state[widget_key] = current
    elif st.session_state.get(widget_key) not in options:
        st.session_state[widget_key] = options[0] if options else None

    def remember() -> None:
        st.session_state[state_key] = st.session_state[widget_key]

    chosen = st.selectbox(label, options, format_func=format_func, key=widget_key,
                          on_change=remember, **kwargs)
    st.session_state[state_key] = chosen
    return str(chosen)


def german_datetime(value: Any) -> str:
    return value.strftime("%d.%m.%Y %H:%M") if value else "–"


def flash(message: str, kind: str = "success") -> None:
    """A message for the next run of the page: what a button did stays readable after the
    st.rerun that shows its effect."""
    st.session_state["flash"] = (kind, message)


def show_flash() -> None:
    if entry := st.session_state.pop("flash", None):
        kind, message = entry
        {"success": st.success, "info": st.info, "warning": st.warning}.get(kind, st.info)(message)


SINGLE_USER_ACTOR = "Einzelplatz"


def actor() -> str:
    """Who does an action, as audit trails name them: the signed-in user ("Anna Sommer (anna)"),
    in single-user mode on loopback "Einzelplatz"."""
    user = st.session_state.get("user")
    if not isinstance(user, dict) or not user.get("username"):
        return SINGLE_USER_ACTOR
    username, name = str(user["username"]), str(user.get("display_name") or "")
    return f"{name} ({username})" if name and name != username else username
