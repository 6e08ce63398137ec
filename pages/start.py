"""Start: the workspace's bots at a glance and whether a language model answers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from apps import ui
from pipelines.handoff import list_tickets
from pipelines.workspace import bot_statuses, llm_status

st.title(ui.t("start.title"))

engine = ui.engine()


@st.cache_data(ttl=10, show_spinner=False)
def _llm(settings_json: str) -> dict[str, object]:
    return llm_status(engine.settings).__dict__


status = _llm(engine.settings.model_dump_json())
if status["reachable"] and status["model_available"]:
    st.success(ui.t("start.llm_ok", message=status["message"]), icon=":material/check_circle:")
elif status["reachable"]:
    st.warning(str(status["message"]), icon=":material/warning:")
else:
    st.info(ui.t("start.llm_missing", message=status["message"]), icon=":material/info:")

if ui.allowed("inbox.handle"):
    waiting = list_tickets(engine, ui.workspace(), statuses=["offen"])
    if waiting:
        st.warning(ui.t("start.inbox_waiting", count=len(waiting)), icon=":material/inbox:")
        if "posteingang" in ui.PAGES:
            st.page_link(ui.PAGES["posteingang"])

bots = bot_statuses(engine, ui.workspace())
st.subheader(ui.t("start.bots"))
if not bots:
    st.info(ui.t("start.no_bots"))
else:
    frame = pd.DataFrame(
        [
            {
                ui.t("col.name"): b.name,
                ui.t("col.slug"): b.slug,
                ui.t("col.version"): b.version,
                ui.t("col.published"): (ui.t("start.published_version", version=b.published_version)
                                        if b.published_version else ui.t("start.not_published")),
                ui.t("col.documents"): b.documents,
                ui.t("col.chunks"): b.chunks,
                ui.t("col.changed"): ui.german_datetime(b.updated_at),
                ui.t("col.answer_mode"): (f"{b.llm_provider} · {b.llm_model or status['model']}"
                                          if status["reachable"] else ui.t("mode.extractive")),
            }
            for b in bots
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch")

st.subheader(ui.t("start.next"))
columns = st.columns(3)
for column, key in zip(columns, ("chat", "dokumente", "einstellungen"), strict=True):
    if key in ui.PAGES:
        column.page_link(ui.PAGES[key])

st.subheader(ui.t("start.demos"))
st.caption(ui.t("start.demos_help"))
settings = engine.settings
for label, url in ((ui.t("start.demo_plain"), settings.plain_demo_url),
                   (ui.t("start.demo_voice"), settings.voice_demo_url),
                   (ui.t("start.demo_minutes"), settings.minutes_demo_url)):
    st.markdown(f"- [{label}]({url})")
if "protokoll" in ui.PAGES:
    st.page_link(ui.PAGES["protokoll"])

