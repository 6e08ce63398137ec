"""Dokumente: knowledge bases, upload with progress and a result per file, the documents with
their chunks, delete, re-index; and sources beyond files (website, open data, FAQ lists:
apps/ui/sources.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from apps import ui
from apps.ui import sources
from pipelines.bots import BotRepository
from pipelines.documents.ingest import FileResult, Ingestor
from pipelines.documents.readers import SUPPORTED_EXTENSIONS
from pipelines.workspace import create_knowledge_base, knowledge_bases, store_upload

engine = ui.engine()
workspace = ui.workspace()
settings = engine.settings
can_edit = ui.allowed("documents.edit")
st.title(ui.t("docs.title"))
if not can_edit:
    st.info(ui.t("docs.read_only"))
part = st.radio(ui.t("docs.part"), ["files", "sources"], horizontal=True, key="docs-part",
                format_func=lambda k: ui.t(f"docs.part_{k}"), label_visibility="collapsed")
if part == "sources":
    with engine.session() as session:
        bot_names = {b.slug: b.name for b in BotRepository(session, workspace).list()}
    sources.show(engine, workspace, bot_names, can_edit)
    st.stop()

bases = {kb.slug: kb for kb in knowledge_bases(engine, workspace)}
with st.expander(ui.t("docs.new_kb"), icon=":material/create_new_folder:",
                 expanded=not bases and can_edit):
    with st.form("new-kb", clear_on_submit=True):
        name = st.text_input(ui.t("docs.kb_name"), help=ui.t("docs.kb_name_help"))
        if st.form_submit_button(ui.t("docs.create"), disabled=not can_edit):
            try:
                created = create_knowledge_base(engine, workspace, name)
            except ValueError as exc:
                st.error(str(exc))
            else:
                st.session_state["kb"] = created
                st.rerun()
if not bases:
    st.info(ui.t("docs.no_kb"))
    st.stop()

kb = ui.remembered_choice(ui.t("docs.kb"), list(bases), "kb",
                         format_func=lambda s: f"{bases[s].name} ({bases[s].documents} "
                                               f"{ui.t('docs.documents_short')})")
ingestor = Ingestor(engine, workspace, kb)

STATUS_LABELS = {"neu": "docs.status_new", "aktualisiert": "docs.status_updated",
                 "unverändert": "docs.status_unchanged", "fehlgeschlagen": "docs.status_failed",
                 "entfernt": "docs.status_removed"}


def results_table(results: list[FileResult]) -> None:
    frame = pd.DataFrame([
        {
            ui.t("col.file"): r.name,
            ui.t("col.result"): ui.t(STATUS_LABELS[r.status]),
            ui.t("col.chunks"): r.chunks,
            ui.t("col.pages"): r.pages,
            ui.t("col.reason"): r.reason if ui.language() == "de" else (r.reason_en or r.reason),
        }
        for r in results
    ])
    st.dataframe(frame, hide_index=True, width="stretch")


def run_ingest(paths: list[Path], force: bool = False) -> None:
    bar = st.progress(0.0, text=ui.t("docs.progress_start"))

    def progress(done: int, total: int, result: FileResult) -> None:
        bar.progress(done / max(total, 1),
                     text=ui.t("docs.progress", done=done, total=total, name=result.name))

    report = ingestor.ingest(paths, progress=progress, force=force)
    bar.empty()
    summary = ui.t("docs.summary", new=report.count("neu"), updated=report.count("aktualisiert"),
                   unchanged=report.count("unverändert"), failed=len(report.failed))
    st.session_state["last_report"] = (summary, bool(report.failed), report.results)


st.subheader(ui.t("docs.upload"))
uploads = st.file_uploader(
    ui.t("docs.upload_label"), accept_multiple_files=True,
    type=[ext.lstrip(".") for ext in SUPPORTED_EXTENSIONS],
    help=ui.t("docs.upload_help", limit=settings.max_file_mb),
    key=f"upload-{kb}-{st.session_state.get('upload_round', 0)}",
    disabled=not can_edit,
)
if st.button(ui.t("docs.ingest"), type="primary", disabled=not uploads or not can_edit,
             icon=":material/upload_file:", key="ingest"):
    paths = [store_upload(engine, workspace, kb, f.name, f.getvalue()) for f in uploads or []]
    run_ingest(paths)
    # A new uploader (the files are in) and fresh counts in the knowledge-base picker.
    st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
    st.rerun()
if st.session_state.get("last_report"):
    summary, any_failed, results = st.session_state["last_report"]
    (st.warning if any_failed else st.success)(summary)
    results_table(results)

documents = ingestor.documents()
st.subheader(ui.t("docs.list", count=len(documents)))
if not documents:
    st.info(ui.t("docs.empty"))
    st.stop()
st.dataframe(pd.DataFrame([
    {
        ui.t("col.document"): d.name,
        ui.t("col.type"): d.file_type.upper(),
        ui.t("col.pages"): d.pages,
        ui.t("col.chunks"): d.chunks,
        ui.t("col.language"): d.language or "",
        ui.t("col.ingested"): ui.german_datetime(d.ingested_at),
    }
    for d in documents
]), hide_index=True, width="stretch")

by_name = {d.source_path: d for d in documents}
picked = st.selectbox(ui.t("docs.pick"), list(by_name), format_func=lambda p: by_name[p].name)
document = by_name[picked]
with st.expander(ui.t("docs.chunks", count=document.chunks), icon=":material/segment:"):
    for chunk in ingestor.index.chunks_of(document.doc_key):
        where = " · ".join(p for p in (chunk["section"], ui.t("chat.page", page=chunk["page"])
                                       if chunk["page"] else "") if p)
        st.markdown(f"**{where or ui.t('docs.no_section')}**")
        st.text(chunk["text"])
actions = st.columns(2)
confirm = actions[0].checkbox(ui.t("docs.confirm_delete", name=document.name),
                              disabled=not can_edit)
if actions[0].button(ui.t("docs.delete"), disabled=not confirm, icon=":material/delete:",
                     key="delete-document"):
    ingestor.delete(document.source_path)
    ui.flash(ui.t("docs.deleted", name=document.name))
    st.rerun()
if actions[1].button(ui.t("docs.reindex"), help=ui.t("docs.reindex_help"),
                     icon=":material/refresh:", key="reindex", disabled=not can_edit):
    existing = [Path(d.source_path) for d in documents if Path(d.source_path).exists()]
    run_ingest(existing, force=True)
    st.rerun()
