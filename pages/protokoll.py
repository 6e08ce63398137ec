"""Protokoll: a meeting recording to a transcript with timestamps and minutes in the municipal
template, downloadable as DOCX and Markdown (the same engine functions as apps/minutes_demo)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from apps import ui
from pipelines.llm.providers import get_provider
from pipelines.minutes import (
    minutes_docx,
    minutes_filename,
    minutes_from_recording,
    minutes_markdown,
    timestamp,
)
from pipelines.speech import SpeechError, model_status

engine = ui.engine()
st.title(ui.t("pr-title"))
st.caption(ui.t("pr-intro"))
ready, status = model_status(engine.settings)
if ready:
    st.caption(status)
else:
    st.warning(status, icon=":material/mic_off:")

with st.form("pr-form"):
    upload = st.file_uploader(ui.t("pr-upload"), type=["wav", "mp3", "ogg", "m4a", "webm"])
    left, right = st.columns(2)
    title = left.text_input(ui.t("pr-meeting"), ui.t("pr-meeting-default"))
    when = right.date_input(ui.t("pr-date"), date.today(), format="DD.MM.YYYY")
    use_llm = st.toggle(ui.t("pr-use-llm"), value=True)
    if st.form_submit_button(ui.t("pr-go"), type="primary", disabled=not ready):
        if upload is None:
            st.error(ui.t("pr-no-file"))
        else:
            provider = get_provider(engine.settings) if use_llm else None
            with st.spinner(ui.t("pr-running")):
                try:
                    st.session_state["pr-minutes"] = minutes_from_recording(
                        upload.getvalue(), upload.name, title, engine.settings, provider,
                        when if isinstance(when, date) else None)
                except SpeechError as exc:
                    st.error(str(exc))

minutes = st.session_state.get("pr-minutes")
if minutes is not None:
    st.success(minutes.mode_label, icon=":material/description:")
    for note in minutes.notes:
        st.caption(note)
    columns = st.columns(2)
    columns[0].download_button(ui.t("pr-docx"), minutes_docx(minutes),
                               file_name=minutes_filename(minutes, "docx"), key="pr-docx",
                               mime="application/vnd.openxmlformats-officedocument."
                                    "wordprocessingml.document")
    columns[1].download_button(ui.t("pr-md"), minutes_markdown(minutes),
                               file_name=minutes_filename(minutes, "md"), key="pr-md",
                               mime="text/markdown")
    st.markdown(minutes_markdown(minutes).split("\n## Anhang")[0])
    with st.expander(ui.t("pr-transcript"), icon=":material/subtitles:"):
        st.dataframe(pd.DataFrame([{"Nr.": t.number, "Beginn": timestamp(t.start),
                                    "Ende": timestamp(t.end), "Beitrag": t.text}
                                   for t in minutes.turns]), hide_index=True, width="stretch")
