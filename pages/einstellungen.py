"""Einstellungen: language-model server and models with a connection test, embedding model,
limits and the data folder in use."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from apps import ui
from pipelines.workspace import llm_status

engine = ui.engine()
settings = engine.settings
st.title(ui.t("settings.title"))
st.caption(ui.t("settings.how_to_change"))


def masked(url: str) -> str:
    """A database URL without its password."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:•••@", url)


st.subheader(ui.t("settings.llm"))
st.dataframe(pd.DataFrame([
    {ui.t("col.setting"): ui.t("settings.provider"), ui.t("col.value"): settings.llm_provider,
     ui.t("col.variable"): "CHATWERKSTATT_LLM_PROVIDER"},
    {ui.t("col.setting"): ui.t("settings.ollama_host"), ui.t("col.value"): settings.ollama_host,
     ui.t("col.variable"): "CHATWERKSTATT_OLLAMA_HOST"},
    {ui.t("col.setting"): ui.t("settings.ollama_model"), ui.t("col.value"): settings.ollama_model,
     ui.t("col.variable"): "CHATWERKSTATT_OLLAMA_MODEL"},
    {ui.t("col.setting"): ui.t("settings.openai"),
     ui.t("col.value"): settings.openai_base_url or "–",
     ui.t("col.variable"): "CHATWERKSTATT_OPENAI_BASE_URL"},
    {ui.t("col.setting"): ui.t("settings.timeout"),
     ui.t("col.value"): f"{settings.llm_request_timeout:g} s",
     ui.t("col.variable"): "CHATWERKSTATT_LLM_REQUEST_TIMEOUT"},
    {ui.t("col.setting"): ui.t("settings.context"),
     ui.t("col.value"): str(settings.llm_context_window),
     ui.t("col.variable"): "CHATWERKSTATT_LLM_CONTEXT_WINDOW"},
]), hide_index=True, width="stretch")
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
st.dataframe(pd.DataFrame([
    {ui.t("col.setting"): ui.t("settings.embedding"), ui.t("col.value"):
        f"{settings.embedding_model} ({engine.embedder.name}, {engine.embedder.dimension} "
        f"{ui.t('settings.dimensions')})",
     ui.t("col.variable"): "CHATWERKSTATT_EMBEDDING_MODEL"},
    {ui.t("col.setting"): ui.t("settings.weight"),
     ui.t("col.value"): f"{settings.fusion_text_weight:g}",
     ui.t("col.variable"): "CHATWERKSTATT_FUSION_TEXT_WEIGHT"},
    {ui.t("col.setting"): ui.t("settings.threshold"),
     ui.t("col.value"): f"{settings.confidence_threshold:g}",
     ui.t("col.variable"): "CHATWERKSTATT_CONFIDENCE_THRESHOLD"},
]), hide_index=True, width="stretch")

st.subheader(ui.t("settings.limits"))
st.dataframe(pd.DataFrame([
    {ui.t("col.setting"): ui.t("settings.max_file"),
     ui.t("col.value"): f"{settings.max_file_mb:g} MB",
     ui.t("col.variable"): "CHATWERKSTATT_MAX_FILE_MB"},
    {ui.t("col.setting"): ui.t("settings.max_unpacked"),
     ui.t("col.value"): f"{settings.max_unpacked_mb:g} MB",
     ui.t("col.variable"): "CHATWERKSTATT_MAX_UNPACKED_MB"},
    {ui.t("col.setting"): ui.t("settings.data_dir"), ui.t("col.value"): str(settings.data_dir),
     ui.t("col.variable"): "CHATWERKSTATT_DATA_DIR"},
    {ui.t("col.setting"): ui.t("settings.database"),
     ui.t("col.value"): masked(settings.resolved_database_url),
     ui.t("col.variable"): "CHATWERKSTATT_DATABASE_URL"},
    {ui.t("col.setting"): ui.t("settings.lancedb"),
     ui.t("col.value"): settings.resolved_lancedb_uri,
     ui.t("col.variable"): "CHATWERKSTATT_LANCEDB_URI"},
]), hide_index=True, width="stretch")
