"""Einstellungen: language-model server and models with a connection test, embedding model,
limits and the data folder in use, how long this workspace keeps its chat logs."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from apps import ui
from pipelines.mail import MailError, mail_enabled, send_mail
from pipelines.retention import apply_retention, policy_for, set_policy
from pipelines.workspace import llm_status

engine = ui.engine()
settings = engine.settings
st.title(ui.t("settings.title"))
st.caption(ui.t("settings.how_to_change"))


def masked(url: str) -> str:
    """A database URL without its password."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:•••@", url)


def settings_table(rows: list[tuple[str, str, str]]) -> None:
    """(text key of the setting, value, environment variable) as one table."""
    st.dataframe(pd.DataFrame([
        {ui.t("col.setting"): ui.t(key), ui.t("col.value"): value, ui.t("col.variable"): var}
        for key, value, var in rows
    ]), hide_index=True, width="stretch")


st.subheader(ui.t("settings.llm"))
settings_table([
    ("settings.provider", settings.llm_provider, "CHATWERKSTATT_LLM_PROVIDER"),
    ("settings.ollama_host", settings.ollama_host, "CHATWERKSTATT_OLLAMA_HOST"),
    ("settings.ollama_model", settings.ollama_model, "CHATWERKSTATT_OLLAMA_MODEL"),
    ("settings.openai", settings.openai_base_url or "–", "CHATWERKSTATT_OPENAI_BASE_URL"),
    ("settings.timeout", f"{settings.llm_request_timeout:g} s",
     "CHATWERKSTATT_LLM_REQUEST_TIMEOUT"),
    ("settings.context", str(settings.llm_context_window), "CHATWERKSTATT_LLM_CONTEXT_WINDOW"),
])
if st.button(ui.t("settings.test"), icon=":material/network_check:", key="llm-test"):
    with st.spinner(ui.t("settings.testing")):
        status = llm_status(settings)
    if status.reachable and status.model_available:
        st.success(status.message)
    elif status.reachable:
        st.warning(status.message)
    else:
        st.error(status.message)
    if status.models:
        st.write(ui.t("settings.models", count=len(status.models)))
        st.dataframe(pd.DataFrame({ui.t("col.model"): status.models}), hide_index=True,
                     key="llm-models")

st.subheader(ui.t("settings.search"))
settings_table([
    ("settings.embedding", f"{settings.embedding_model} ({engine.embedder.name}, "
     f"{engine.embedder.dimension} {ui.t('settings.dimensions')})",
     "CHATWERKSTATT_EMBEDDING_MODEL"),
    ("settings.weight", f"{settings.fusion_text_weight:g}", "CHATWERKSTATT_FUSION_TEXT_WEIGHT"),
    ("settings.threshold", f"{settings.confidence_threshold:g}",
     "CHATWERKSTATT_CONFIDENCE_THRESHOLD"),
])

st.subheader(ui.t("settings.limits"))
settings_table([
    ("settings.max_file", f"{settings.max_file_mb:g} MB", "CHATWERKSTATT_MAX_FILE_MB"),
    ("settings.max_unpacked", f"{settings.max_unpacked_mb:g} MB",
     "CHATWERKSTATT_MAX_UNPACKED_MB"),
    ("settings.data_dir", str(settings.data_dir), "CHATWERKSTATT_DATA_DIR"),
    ("settings.database", masked(settings.resolved_database_url), "CHATWERKSTATT_DATABASE_URL"),
    ("settings.lancedb", settings.resolved_lancedb_uri, "CHATWERKSTATT_LANCEDB_URI"),
])

# -- e-mail: replies to citizens and notices to offices --------------------------------------
st.subheader(ui.t("settings.mail"))
st.caption(ui.t("settings.mail_help"))
settings_table([
    ("settings.smtp_host", settings.smtp_host or ui.t("settings.mail_off"),
     "CHATWERKSTATT_SMTP_HOST"),
    ("settings.smtp_port", str(settings.smtp_port), "CHATWERKSTATT_SMTP_PORT"),
    ("settings.smtp_security", settings.smtp_security, "CHATWERKSTATT_SMTP_SECURITY"),
    ("settings.smtp_sender", settings.smtp_sender, "CHATWERKSTATT_SMTP_SENDER"),
    ("settings.smtp_username", settings.smtp_username or "–", "CHATWERKSTATT_SMTP_USERNAME"),
])
if mail_enabled(settings):
    with st.form("mail-test"):
        address = st.text_input(ui.t("settings.mail_test_to"), key="mail-test-to",
                                disabled=not ui.allowed("settings.edit"))
        if st.form_submit_button(ui.t("settings.mail_test"),
                                 disabled=not ui.allowed("settings.edit")):
            try:
                send_mail(settings, address.strip(), ui.t("settings.mail_test_subject"),
                          ui.t("settings.mail_test_body"))
            except MailError as exc:
                st.error(str(exc))
            else:
                st.success(ui.t("settings.mail_test_sent", address=address.strip()))

# -- chat logs: retention of this workspace ------------------------------------------------
st.subheader(ui.t("settings.retention"))
workspace = ui.workspace()
policy = policy_for(engine, workspace)
can_edit = ui.allowed("settings.edit")
st.caption(ui.t("settings.retention_help", days=settings.log_retention_days,
                mode=ui.t(f"settings.retention_{settings.log_retention_mode}")))
with st.form("retention"):
    own = st.checkbox(ui.t("settings.retention_own"), value=policy.own, disabled=not can_edit)
    days = st.number_input(ui.t("settings.retention_days"), min_value=1, max_value=3650,
                           value=policy.days, step=1, disabled=not can_edit)
    mode = st.radio(ui.t("settings.retention_mode"), ["anonymise", "delete"],
                    index=["anonymise", "delete"].index(policy.mode), horizontal=True,
                    format_func=lambda m: ui.t(f"settings.retention_{m}"),
                    disabled=not can_edit)
    if st.form_submit_button(ui.t("settings.retention_save"), disabled=not can_edit):
        policy = set_policy(engine, workspace, int(days) if own else None,
                            mode if own else None)
        ui.flash(ui.t("settings.retention_saved", days=policy.days,
                      mode=ui.t(f"settings.retention_{policy.mode}")))
        st.rerun()
[pending] = apply_retention(engine, workspace, dry_run=True)
st.write(ui.t("settings.retention_pending", count=pending.messages,
              date=f"{pending.cutoff:%d.%m.%Y}"))
if st.button(ui.t("settings.retention_apply"), disabled=not can_edit or not pending.messages,
             key="retention-apply", icon=":material/auto_delete:"):
    [done] = apply_retention(engine, workspace)
    ui.flash(ui.t("settings.retention_done", count=done.messages,
                  mode=ui.t(f"settings.retention_{done.policy.mode}")))
    st.rerun()
