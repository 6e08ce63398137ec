"""Posteingang: the conversations citizens handed to a person. Filter by office and status,
open a ticket with its redacted transcript, take it over, reply (shown in the citizen's chat,
e-mailed when they left an address), close or reopen it, turn a reply into a curated answer;
every step is in the ticket's audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from apps import ui
from pipelines.curated import CuratedError, from_ticket, list_curated
from pipelines.handoff import (
    STATUS_LABELS,
    TicketError,
    TicketInfo,
    claim,
    close,
    get_ticket,
    list_tickets,
    office_choices,
    reopen,
    reply,
)

OPEN_STATUSES = ["offen", "in_bearbeitung"]
COUNTED_STATUSES = ["offen", "in_bearbeitung", "beantwortet"]

engine = ui.engine()
workspace = ui.workspace()
zone = ZoneInfo(engine.settings.timezone)
st.title(ui.t("inbox.title"))
st.caption(ui.t("inbox.intro"))
if not ui.allowed("inbox.handle"):
    st.warning(ui.t("inbox.not_allowed"))
    st.stop()
actor = ui.actor()


def when(moment: datetime | str | None) -> str:
    """A moment in the administration's time zone, German style."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return ui.german_datetime(moment.astimezone(zone) if moment else None)


def status_label(status: str) -> str:
    return ui.t(f"inbox.status.{status}")


def reason_label(reason: str) -> str:
    return ui.t(f"inbox.reason.{reason}")


def pick_from_table() -> None:
    """A click on a table row opens that ticket below (the select box shows the same)."""
    event: Any = st.session_state.get("inbox-table") or {}
    rows = event.get("selection", {}).get("rows", [])
    shown: list[int] = st.session_state.get("inbox-shown", [])
    if rows and rows[0] < len(shown):
        st.session_state["inbox-ticket"] = shown[rows[0]]


def done(message: str, kind: str = "success") -> None:
    ui.flash(message, kind)
    st.rerun()


# -- counters and filters ---------------------------------------------------------------------
offices = office_choices(engine, workspace)
counters = st.container()
left, right = st.columns(2)
chosen_offices = left.multiselect(ui.t("inbox.offices"), list(offices),
                                  format_func=lambda key: offices.get(key, key),
                                  placeholder=ui.t("inbox.all_offices"), key="inbox-offices")
chosen_statuses = right.multiselect(ui.t("inbox.statuses"), list(STATUS_LABELS),
                                    default=OPEN_STATUSES, format_func=status_label,
                                    placeholder=ui.t("inbox.all_statuses"),
                                    key="inbox-statuses")
everything = list_tickets(engine, workspace, offices=chosen_offices or None)
shown = [t for t in everything if not chosen_statuses or t.status in chosen_statuses]
for column, status in zip(counters.columns(len(COUNTED_STATUSES)), COUNTED_STATUSES,
                          strict=True):
    column.metric(status_label(status), sum(t.status == status for t in everything))

# -- the list ---------------------------------------------------------------------------------
if shown:
    st.session_state["inbox-shown"] = [t.id for t in shown]
    table = pd.DataFrame([{
        ui.t("inbox.col_id"): t.id,
        ui.t("inbox.col_created"): when(t.created_at),
        ui.t("inbox.col_office"): t.office_name,
        ui.t("inbox.col_topic"): t.topic or "–",
        ui.t("inbox.col_reason"): reason_label(t.reason),
        ui.t("inbox.col_language"): t.language,
        ui.t("inbox.col_status"): status_label(t.status),
        ui.t("inbox.col_assigned"): t.assigned_to or "–",
        ui.t("inbox.col_contact"): ui.t("inbox.yes") if t.has_contact else ui.t("inbox.no"),
    } for t in shown])
    st.dataframe(table, hide_index=True, width="stretch", on_select=pick_from_table,
                 selection_mode="single-row", key="inbox-table")
else:
    st.info(ui.t("inbox.empty"))

# The ticket just worked on stays open when an action moved it out of the filter (a reply
# makes it "beantwortet", which the default filter hides).
choices = {t.id: t for t in shown}
current = st.session_state.get("inbox-ticket")
kept = next((t for t in everything if t.id == current), None)
if kept is not None and current not in choices:
    choices[kept.id] = kept
elif kept is None:
    st.session_state.pop("inbox-ticket", None)
if not choices:
    st.stop()
chosen = st.selectbox(
    ui.t("inbox.pick"), list(choices), key="inbox-ticket",
    format_func=lambda number: ui.t("inbox.pick_label", id=number,
                                    office=choices[number].office_name,
                                    status=status_label(choices[number].status),
                                    question=choices[number].question[:80]))
ticket: TicketInfo = get_ticket(engine, workspace, chosen)
closed = ticket.status == "geschlossen"

# -- the ticket -------------------------------------------------------------------------------
st.subheader(ui.t("inbox.heading", id=ticket.id, office=ticket.office_name))
st.caption(ui.t("inbox.facts", status=status_label(ticket.status),
                reason=reason_label(ticket.reason), topic=ticket.topic or ui.t("inbox.no_topic"),
                language=ticket.language, created=when(ticket.created_at),
                assigned=ticket.assigned_to or ui.t("inbox.nobody")))
st.caption(ui.t("inbox.contact_yes") if ticket.has_contact else ui.t("inbox.contact_no"))
st.markdown(f"**{ui.t('inbox.question')}**")
st.write(ticket.question)
with st.expander(ui.t("inbox.transcript"), icon=":material/forum:", expanded=True):
    for entry in ticket.transcript:
        with st.chat_message("user"):
            st.write(entry.get("question", ""))
        with st.chat_message("assistant"):
            st.markdown(entry.get("answer", ""))
            mode = str(entry.get("mode", ""))
            st.caption(f"{ui.t(f'chat.mode.{mode}')} · {when(entry.get('at'))}")

# -- actions ----------------------------------------------------------------------------------
if st.button(ui.t("inbox.claim"), icon=":material/assignment_ind:", key="inbox-claim",
             disabled=closed or (ticket.assigned_to == actor
                                 and ticket.status != "offen")):
    try:
        claim(engine, workspace, ticket.id, actor)
    except TicketError as exc:
        st.error(str(exc))
    else:
        done(ui.t("inbox.claimed", id=ticket.id))

if ticket.reply:
    replied_by = next((e.actor for e in reversed(ticket.events) if e.action == "beantwortet"),
                      ticket.assigned_to or "–")
    with st.container(border=True):
        st.caption(ui.t("inbox.sent_reply", at=when(ticket.replied_at), name=replied_by))
        st.markdown(ticket.reply)

reply_key = f"inbox-reply-{ticket.id}"
text = st.text_area(ui.t("inbox.reply"), key=reply_key, disabled=closed,
                    help=ui.t("inbox.reply_help"), height=160)
if st.button(ui.t("inbox.send"), type="primary", icon=":material/send:", key="inbox-send",
             disabled=closed):
    try:
        outcome = reply(engine, workspace, ticket.id, text, actor)
    except TicketError as exc:
        st.error(str(exc))
    else:
        del st.session_state[reply_key]
        if outcome.mailed:
            done(ui.t("inbox.sent_mail", id=ticket.id))
        elif outcome.mail_problem:
            done(ui.t("inbox.sent_mail_failed", id=ticket.id, problem=outcome.mail_problem),
                 "warning")
        else:
            done(ui.t("inbox.sent_chat", id=ticket.id))

if closed:
    if st.button(ui.t("inbox.reopen"), icon=":material/undo:", key="inbox-reopen"):
        try:
            reopen(engine, workspace, ticket.id, actor)
        except TicketError as exc:
            st.error(str(exc))
        else:
            done(ui.t("inbox.reopened", id=ticket.id))
else:
    with st.expander(ui.t("inbox.close_section"), icon=":material/task_alt:"):
        note = st.text_input(ui.t("inbox.close_note"), key=f"inbox-close-note-{ticket.id}")
        if st.button(ui.t("inbox.close"), icon=":material/check_circle:", key="inbox-close"):
            try:
                close(engine, workspace, ticket.id, actor, note)
            except TicketError as exc:
                st.error(str(exc))
            else:
                done(ui.t("inbox.closed", id=ticket.id)
                     + (" " + ui.t("inbox.contact_erased") if ticket.has_contact else ""))

if ticket.reply and ui.allowed("answers.edit"):
    with st.expander(ui.t("inbox.curate"), icon=":material/verified:"):
        earlier = [c.id for c in list_curated(engine, workspace) if c.ticket_id == ticket.id]
        if earlier:
            st.info(ui.t("inbox.already_curated", numbers=", ".join(map(str, earlier))))
        st.caption(ui.t("inbox.curate_intro"))
        extra = st.text_area(ui.t("inbox.curate_questions"), key=f"inbox-curate-{ticket.id}",
                             help=ui.t("inbox.curate_questions_help"))
        if st.button(ui.t("inbox.curate"), icon=":material/verified:", key="inbox-curate"):
            try:
                number = from_ticket(engine, workspace, ticket.id, actor,
                                     extra_questions=[q for q in extra.splitlines()
                                                      if q.strip()])
            except CuratedError as exc:
                st.error(str(exc))
            else:
                done(ui.t("inbox.curated", number=number, id=ticket.id))

# -- audit trail ------------------------------------------------------------------------------
st.markdown(f"**{ui.t('inbox.events')}**")
st.dataframe(pd.DataFrame([{
    ui.t("inbox.col_when"): when(e.at), ui.t("inbox.col_who"): e.actor,
    ui.t("inbox.col_what"): e.action, ui.t("inbox.col_details"): e.detail,
} for e in ticket.events], columns=[ui.t("inbox.col_when"), ui.t("inbox.col_who"),
                                     ui.t("inbox.col_what"), ui.t("inbox.col_details")]),
             hide_index=True, width="stretch")
