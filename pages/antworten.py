"""Geprüfte Antworten: answers written or approved by staff, served before the documents.

A list per bot with a search, a form to create or change an answer (several phrasings of the
question), switch off, delete, import from a CSV/XLSX table, and a test box that shows which
answer a question would get and how close it came to the bot's threshold."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from apps import ui
from pipelines import curated
from pipelines.bots import BotRepository, CuratedSettings
from pipelines.curated import CuratedError, CuratedInfo

engine = ui.engine()
workspace = ui.workspace()
st.title(ui.t("curated-title"))
st.caption(ui.t("curated-intro"))
if not ui.allowed("answers.edit"):
    st.warning(ui.t("curated-not-allowed"))
    st.stop()

ALL_BOTS = ""  # choice value for "alle Bots" (stored as bot_slug None)
PREVIEW_CHARS = 120

with engine.session() as session:
    repo = BotRepository(session, workspace)
    bot_names = {b.slug: b.name for b in repo.list()}
    thresholds = {slug: repo.get(slug)[0].curated for slug in bot_names}


def bot_label(slug: str | None) -> str:
    if not slug:
        return ui.t("curated-all-bots")
    return bot_names.get(slug, slug)


def decimal(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


bot_choices = [ALL_BOTS, *bot_names]
# Keyed select boxes: a select box without a key becomes a new widget whenever its preset
# changes, and then drops the choice made in it.
bot = st.selectbox(ui.t("curated-bot"), bot_choices, format_func=bot_label,
                   help=ui.t("curated-bot-help"), key="curated-bot") or None
answers = curated.list_curated(engine, workspace, bot)

# -- the list ----------------------------------------------------------------------------------
query = st.text_input(ui.t("curated-search"), key="curated-search",
                      placeholder=ui.t("curated-search-help"))
needle = query.strip().casefold()
shown = [a for a in answers
         if not needle or needle in " ".join([*a.questions, a.answer, a.source]).casefold()]
st.subheader(ui.t("curated-list", count=len(shown)))
if not answers:
    st.info(ui.t("curated-empty"))
elif not shown:
    st.info(ui.t("curated-none-found", query=query.strip()))
else:
    st.dataframe(pd.DataFrame([
        {
            ui.t("curated-col-nr"): a.id,
            ui.t("curated-col-question"): a.questions[0],
            ui.t("curated-col-variants"): len(a.questions),
            ui.t("curated-col-answer"): a.answer if len(a.answer) <= PREVIEW_CHARS
            else a.answer[:PREVIEW_CHARS].rstrip() + " …",
            ui.t("curated-col-source"): a.source,
            ui.t("curated-col-bot"): bot_label(a.bot_slug),
            ui.t("curated-col-enabled"): "✓" if a.enabled else "–",
            ui.t("curated-col-hits"): a.hits,
            ui.t("curated-col-ticket"): str(a.ticket_id) if a.ticket_id else "",
            ui.t("curated-col-changed"): ui.german_datetime(a.updated_at),
        }
        for a in shown
    ]), hide_index=True, width="stretch")


def answer_form(form_key: str, existing: CuratedInfo | None) -> None:
    """The fields of one answer; new (empty, for the chosen bot) or prefilled to change."""
    with st.form(form_key):
        questions = st.text_area(ui.t("curated-questions"), help=ui.t("curated-questions-help"),
                                 value="\n".join(existing.questions) if existing else "",
                                 key=f"{form_key}-questions", height=110)
        answer = st.text_area(ui.t("curated-answer"), help=ui.t("curated-answer-help"),
                              value=existing.answer if existing else "",
                              key=f"{form_key}-answer", height=140)
        source = st.text_input(ui.t("curated-source"), help=ui.t("curated-source-help"),
                               value=existing.source if existing else "",
                               key=f"{form_key}-source")
        target = (existing.bot_slug or ALL_BOTS) if existing else (bot or ALL_BOTS)
        options = bot_choices if target in bot_choices else [*bot_choices, target]
        for_bot = st.selectbox(ui.t("curated-for-bot"), options, index=options.index(target),
                               format_func=bot_label, key=f"{form_key}-bot")
        submitted = st.form_submit_button(
            ui.t("curated-save") if existing else ui.t("curated-create"), type="primary")
    if not submitted:
        return
    try:
        number = curated.save_curated(
            engine, workspace, questions.splitlines(), answer, source, bot_slug=for_bot or None,
            enabled=existing.enabled if existing else True,
            curated_id=existing.id if existing else None, actor=ui.actor())
    except CuratedError as exc:
        st.error(str(exc))
        return
    if existing:
        ui.flash(ui.t("curated-saved", id=number))
    else:
        # A fresh, empty form for the next answer; the new one is opened for editing.
        st.session_state["curated_new_round"] = st.session_state.get("curated_new_round", 0) + 1
        st.session_state["curated-pick"] = number  # the pick box comes later in the page
        ui.flash(ui.t("curated-created", id=number))
    st.rerun()


with st.expander(ui.t("curated-new"), icon=":material/add_circle:", expanded=not answers):
    answer_form(f"curated-new-{st.session_state.get('curated_new_round', 0)}", None)

# -- change, switch off, delete ------------------------------------------------------------
if shown:
    st.subheader(ui.t("curated-edit"))
    by_id = {a.id: a for a in shown}
    picked = st.selectbox(
        ui.t("curated-pick"), list(by_id), key="curated-pick",
        format_func=lambda i: ui.t("curated-pick-label", id=i, question=by_id[i].questions[0]))
    info = by_id[picked] if picked in by_id else shown[0]
    # The widgets belong to this state of the answer: after a change they start from it anew.
    stamp = f"{info.id}-{info.updated_at.timestamp():.6f}".replace(".", "_")
    meta = ui.t("curated-meta", who=info.created_by or "–",
                created=ui.german_datetime(info.created_at),
                changed=ui.german_datetime(info.updated_at), hits=info.hits)
    if info.ticket_id:
        meta += ui.t("curated-from-ticket", ticket=info.ticket_id)
    st.caption(meta)
    enabled = st.toggle(ui.t("curated-enabled"), value=info.enabled, key=f"curated-on-{stamp}",
                        help=ui.t("curated-enabled-help"))
    if enabled != info.enabled:
        curated.set_enabled(engine, workspace, info.id, enabled)
        ui.flash(ui.t("curated-enabled-on" if enabled else "curated-enabled-off", id=info.id))
        st.rerun()
    answer_form(f"curated-edit-{stamp}", info)
    confirm = st.checkbox(ui.t("curated-confirm-delete", id=info.id),
                          key=f"curated-confirm-{info.id}")
    if st.button(ui.t("curated-delete"), disabled=not confirm, icon=":material/delete:",
                 key="curated-delete"):
        curated.delete_curated(engine, workspace, info.id)
        ui.flash(ui.t("curated-deleted", id=info.id))
        st.rerun()

# -- import ------------------------------------------------------------------------------------
st.subheader(ui.t("curated-import"))
st.caption(ui.t("curated-import-help"))
# No `type=` filter: the browser would refuse other files with an English message; the import
# names the supported formats in German instead.
upload = st.file_uploader(ui.t("curated-import-file"),
                          key=f"curated-upload-{st.session_state.get('curated_upload_round', 0)}")
import_bot = st.selectbox(ui.t("curated-import-bot"), bot_choices,
                          index=bot_choices.index(bot or ALL_BOTS), format_func=bot_label,
                          key="curated-import-bot")
if st.button(ui.t("curated-import-run"), disabled=upload is None, icon=":material/upload_file:",
             key="curated-import-run") and upload is not None:
    report = curated.import_curated(engine, workspace, upload.name, upload.getvalue(),
                                    bot_slug=import_bot or None, actor=ui.actor())
    summary = ui.t("curated-import-done", name=upload.name, created=report.created,
                   skipped=report.skipped, problems=len(report.problems))
    # The refused rows stay listed under the import until the next one.
    st.session_state["curated_import_problems"] = report.problems
    st.session_state["curated_upload_round"] = st.session_state.get("curated_upload_round",
                                                                    0) + 1
    ui.flash(summary, "warning" if report.problems else "success")
    st.rerun()
if problems := st.session_state.get("curated_import_problems"):
    st.error(ui.t("curated-import-problems") + "\n\n"
             + "\n".join(f"- {line}" for line in problems))

# -- test ----------------------------------------------------------------------------------
st.subheader(ui.t("curated-test"))
st.caption(ui.t("curated-test-help"))
left, right = st.columns([3, 1])
question = left.text_input(ui.t("curated-test-question"), key="curated-test-question")
# The bot chosen above; with "alle Bots" the test asks which bot's threshold counts.
test_bot = bot if bot in bot_names else None
if test_bot:
    right.text_input(ui.t("curated-test-bot"), bot_label(test_bot), disabled=True)
elif bot_names:
    test_bot = right.selectbox(ui.t("curated-test-bot"), list(bot_names), format_func=bot_label,
                               key="curated-test-bot")
settings = thresholds[test_bot] if test_bot else CuratedSettings()
if test_bot is None:
    st.caption(ui.t("curated-test-no-bot", threshold=decimal(settings.threshold)))
elif not settings.enabled:
    st.warning(ui.t("curated-test-disabled"))
if question.strip():
    candidates = curated.list_curated(engine, workspace, test_bot, enabled_only=True)
    best = curated.best_match(engine.embedder, question, candidates) if candidates else None
    if best is None:
        st.info(ui.t("curated-test-none"))
    else:
        values = {"id": best.id, "question": best.matched_question, "score": decimal(best.score),
                  "threshold": decimal(settings.threshold)}
        if best.score >= settings.threshold:
            st.success(ui.t("curated-test-hit", **values))
        else:
            st.warning(ui.t("curated-test-miss", **values))
        st.caption(ui.t("curated-test-scores", lexical=decimal(best.lexical),
                        semantic=decimal(best.semantic), **values))
        st.markdown(best.answer)
