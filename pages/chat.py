"""Chat testen: talk to any version of a bot, see sources, mode, why, timings; give feedback;
compare two versions on the same question; hand a conversation to a person and see the clerk's
reply arrive."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.express as px
import streamlit as st

from apps import ui
from pipelines.assistant import Assistant, TurnResult
from pipelines.bots import BotRepository
from pipelines.feedback import record_feedback
from pipelines.handoff import TicketError, create_ticket, replies_for, tickets_for
from pipelines.mail import mail_enabled

# How often an open chat with a handed-over request looks for the clerk's reply.
REPLY_POLL_SECONDS = 10

engine = ui.engine()
workspace = ui.workspace()
st.title(ui.t("chat.title"))

with engine.session() as session:
    repo = BotRepository(session, workspace)
    bots = {b.slug: b.name for b in repo.list()}
    versions = {slug: [v.version for v in repo.versions(slug)] for slug in bots}
if not bots:
    st.info(ui.t("chat.no_bots"))
    st.stop()

top = st.columns([2, 1, 1])
slug = top[0].selectbox(ui.t("chat.bot"), list(bots), format_func=bots.__getitem__)
version = top[1].selectbox(ui.t("chat.version"), list(reversed(versions[slug])),
                           format_func=lambda v: ui.t("chat.version_label", version=v))
compare = top[2].toggle(ui.t("chat.compare"), help=ui.t("chat.compare_help"))
other = None
if compare:
    choices = [v for v in reversed(versions[slug]) if v != version] or [version]
    other = top[2].selectbox(ui.t("chat.compare_with"), choices,
                             format_func=lambda v: ui.t("chat.version_label", version=v))


@st.cache_resource(show_spinner=False, max_entries=32)
def _assistant(data_dir: str, workspace: str, slug: str, version: int) -> Assistant:
    return Assistant(ui.engine(), slug, workspace=workspace, version=version, channel="workspace")


def assistant_for(number: int) -> Assistant:
    return _assistant(str(engine.settings.data_dir), workspace, slug, number)


key = f"chat:{workspace}:{slug}:{version}:{other}"
state: dict[str, Any] = st.session_state.setdefault(key, {"conversations": {}, "turns": []})
if st.button(ui.t("chat.new"), icon=":material/add_comment:", key="new-conversation"):
    state.update(conversations={}, turns=[], handoffs={})


def show_details(turn: dict[str, Any], prefix: str) -> None:
    mode_key = f"chat.mode.{turn['mode']}"
    mode = ui.t(mode_key)
    st.caption(ui.t("chat.mode_line", mode=turn["mode_label"] if mode == mode_key else mode,
                    confidence=turn["confidence"], language=turn["language"]))
    if turn["notice"]:
        st.info(turn["notice"])
    if turn["mode"] == "keine_antwort":
        st.warning(ui.t("chat.no_good_answer"))
    for citation in turn["citations"]:
        where = ", ".join(p for p in (citation["section"], ui.t("chat.page", page=citation["page"])
                                      if citation["page"] else "") if p)
        label = f"[{citation['number']}] {citation['title'] or citation['source']}"
        with st.expander(label + (f" – {where}" if where else "")):
            st.write(citation["snippet"])
            st.caption(citation["source"] + (f" · {citation['url']}" if citation["url"] else ""))
    with st.expander(ui.t("chat.why"), icon=":material/manage_search:"):
        retrieved = pd.DataFrame(turn["retrieved"])
        if retrieved.empty:
            st.write(ui.t("chat.nothing_found"))
        else:
            st.dataframe(
                retrieved[["source", "page", "section", "score", "text_score",
                           "vector_similarity", "text"]].rename(columns={
                    "source": ui.t("col.document"), "page": ui.t("col.page"),
                    "section": ui.t("col.section"), "score": ui.t("col.score"),
                    "text_score": ui.t("col.text_score"),
                    "vector_similarity": ui.t("col.similarity"), "text": ui.t("col.snippet"),
                }),
                hide_index=True, width="stretch",
            )
        if turn["search_query"] != turn["question"]:
            st.caption(ui.t("chat.searched_as", query=turn["search_query"]))
        if turn.get("scope_note"):
            st.caption(ui.t("chat.scope_note", note=turn["scope_note"]))
        timings = pd.DataFrame({"Schritt": list(turn["timings_ms"]),
                                "ms": list(turn["timings_ms"].values())})
        figure = px.bar(timings, x="ms", y="Schritt", orientation="h",
                        title=ui.t("chat.timings"), height=260)
        st.plotly_chart(figure, key=f"{prefix}-timings")


def feedback(turn: dict[str, Any], prefix: str) -> None:
    if not turn.get("message_id"):
        return
    rating = st.feedback("thumbs", key=f"{prefix}-rating")
    comment = st.text_input(ui.t("chat.feedback_comment"), key=f"{prefix}-comment",
                            placeholder=ui.t("chat.feedback_placeholder"))
    if st.button(ui.t("chat.feedback_save"), key=f"{prefix}-save", disabled=rating is None):
        try:
            record_feedback(engine, workspace, turn["message_id"], 1 if rating == 1 else -1,
                            comment)
        except ValueError as exc:
            st.error(str(exc))
        else:
            st.toast(ui.t("chat.feedback_saved"), icon=":material/thumb_up:")


def handoff_offer(answer: dict[str, Any], index: int) -> None:
    """Under the latest answer that offers it: hand the conversation to a person, with an
    optional e-mail address for the reply; afterwards where the request is."""
    conversation = answer["conversation_id"]
    handoffs: dict[str, dict[str, Any]] = state.setdefault("handoffs", {})
    done = handoffs.get(conversation)
    if done is not None and done["turn"] >= index:
        if done["turn"] == index:
            st.success(done["note"], icon=":material/support_agent:")
        return
    if not answer.get("handoff") or index != len(state["turns"]) - 1:
        return
    with st.container(border=True):
        if answer["handoff_offer"] != answer["answer"]:
            st.markdown(answer["handoff_offer"])
        email = ""
        if mail_enabled(engine.settings):
            email = st.text_input(ui.t("handoff.email"), key=f"handoff-email-{conversation}",
                                  help=ui.t("handoff.email_help"), autocomplete="email")
        else:  # no address is asked for that nothing would ever be sent to
            st.caption(ui.t("handoff.no_mail"))
        if st.button(ui.t("handoff.button"), key=f"handoff-send-{conversation}",
                     icon=":material/support_agent:", type="primary"):
            try:
                created = create_ticket(engine, workspace, conversation, email)
            except TicketError as exc:
                st.error(str(exc))
                return
            note = ui.t("handoff.created", id=created.ticket.id, message=created.message)
            if created.mail_problem:
                note += " " + ui.t("handoff.office_mail_failed", problem=created.mail_problem)
            handoffs[conversation] = {"turn": index, "note": note}
            st.rerun()


@st.fragment(run_every=REPLY_POLL_SECONDS)
def clerk_replies(conversations: list[str]) -> None:
    """The handed-over requests' status and the clerks' replies, looked up again every few
    seconds so a reply appears while the chat is open."""
    zone = ZoneInfo(engine.settings.timezone)
    for conversation in conversations:
        for ticket in tickets_for(engine, conversation):
            st.caption(ui.t("handoff.status", id=ticket.id, office=ticket.office_name,
                            status=ui.t(f"inbox.status.{ticket.status}")))
        for answer in replies_for(engine, conversation):
            with st.chat_message("assistant", avatar=":material/support_agent:"):
                st.markdown(f"**{ui.t('handoff.reply', office=answer.office_name)}**")
                st.markdown(answer.text)
                st.caption(ui.t("handoff.reply_at",
                                at=ui.german_datetime(answer.at.astimezone(zone))))


def ask(number: int, question: str, conversation: str | None) -> dict[str, Any]:
    placeholder = st.empty()
    shown = ""
    result: TurnResult | None = None
    for event in assistant_for(number).stream(question, conversation):
        if event.kind == "delta":
            shown += event.text
            placeholder.markdown(shown + " ▌")
        elif event.kind == "reset":
            shown = ""
            placeholder.empty()
        elif event.result is not None:
            result = event.result
    assert result is not None
    placeholder.markdown(result.answer)
    return {"question": question, **result.to_dict()}


greeting = assistant_for(version).bot.greeting
with st.chat_message("assistant"):
    st.write(greeting)

for index, turn in enumerate(state["turns"]):
    with st.chat_message("user"):
        st.write(turn["question"])
    shown = turn["answers"]
    columns = st.columns(len(shown)) if len(shown) > 1 else [st.container()]
    for column, (number, answer) in zip(columns, shown.items(), strict=True):
        with column, st.chat_message("assistant"):
            if len(shown) > 1:
                st.markdown(f"**{ui.t('chat.version_label', version=number)}**")
            st.markdown(answer["answer"])
            show_details(answer, f"{key}-{index}-{number}")
            feedback(answer, f"{key}-{index}-{number}")
            handoff_offer(answer, index)

if state.get("handoffs"):
    clerk_replies(list(state["handoffs"]))

question = st.chat_input(ui.t("chat.input"))
if question:
    with st.chat_message("user"):
        st.write(question)
    numbers = [version] + ([other] if other is not None and other != version else [])
    columns = st.columns(len(numbers)) if len(numbers) > 1 else [st.container()]
    answers: dict[int, dict[str, Any]] = {}
    conversations = state["conversations"]
    for column, number in zip(columns, numbers, strict=True):
        with column, st.chat_message("assistant"):
            answers[number] = ask(number, question, conversations.get(number))
            conversations[number] = answers[number]["conversation_id"]
    state["turns"].append({"question": question, "answers": answers})
    st.rerun()
