"""Human handoff: when the bot offers it, where the conversation goes, and the ticket's life.

A turn offers the handoff (pipelines.assistant) when there is no good answer, the question is
outside the bot's responsibility without a redirect, the citizen asks for a person, or the
language model failed. Accepting the offer creates a ticket with the redacted transcript, routed
by the bot's rules (topic keywords -> office) and answered by a clerk on the Posteingang page.
The reply shows in the still-open chat (`replies_for`) and goes by e-mail when the citizen left
an address, which is erased when the ticket is closed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select

from pipelines.bots import BotConfig, BotRepository, HandoffSettings, Office
from pipelines.engine import Engine
from pipelines.german import content_terms
from pipelines.mail import MailError, mail_enabled, send_mail, valid_address
from pipelines.office_hours import describe_moment, is_open, next_opening, parse_hours
from pipelines.scope import matches_keyword
from pipelines.store.models import (
    Bot,
    Conversation,
    Message,
    Ticket,
    TicketEvent,
    Workspace,
    aware,
    row_in_workspace,
)

log = logging.getLogger(__name__)

PHRASES_FILE = Path(__file__).parent / "resources" / "person_requests.yaml"
Reason = Literal["keine_antwort", "zustaendigkeit", "mensch", "llm_fehler"]
REASON_LABELS: dict[str, str] = {
    "keine_antwort": "keine gute Antwort",
    "zustaendigkeit": "außerhalb der Zuständigkeit",
    "mensch": "Wunsch nach einem Menschen",
    "llm_fehler": "Sprachmodell ausgefallen",
}
Status = Literal["offen", "in_bearbeitung", "beantwortet", "geschlossen"]
STATUS_LABELS: dict[str, str] = {
    "offen": "offen",
    "in_bearbeitung": "in Bearbeitung",
    "beantwortet": "beantwortet",
    "geschlossen": "geschlossen",
}
# Where a ticket goes when the bot names no office.
GENERAL_OFFICE = Office(key="allgemein", name="Allgemeiner Posteingang", hours="Mo–Fr 8:00–16:00")
CITIZEN = "Bürger/in"
MAX_REPLY_CHARS = 10_000


class TicketError(ValueError):
    """A ticket action that cannot be done; the message says why, in German."""


# --------------------------------------------------------------------------- offer


@lru_cache(maxsize=1)
def _phrases() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8"))
    return {lang: {"patterns": [re.compile(p, re.IGNORECASE) for p in entry["patterns"]],
                   "offer": " ".join(entry["offer"].split())}
            for lang, entry in data.items()}


def wants_person(question: str) -> bool:
    """Does the citizen ask to speak to a person (in any language of the phrase file)?"""
    text = " ".join(question.split())
    return any(p.search(text) for entry in _phrases().values() for p in entry["patterns"])


def offer_text(language: str) -> str:
    """The handoff offer in the citizen's language (German when there is none)."""
    phrases = _phrases()
    return str(phrases.get(language, phrases["de"])["offer"])


# --------------------------------------------------------------------------- routing


def route(settings: HandoffSettings, text: str) -> tuple[Office, str]:
    """The office for a conversation and the topic keyword that chose it: the office with
    most matching topic keywords; the first office (or the general inbox) otherwise."""
    terms = content_terms(text)
    best: tuple[int, Office, str] | None = None
    for office in settings.offices:
        # The most specific keyword names the topic ("Sperrmüll" rather than "Müll").
        matched = sorted((k for k in office.topics if matches_keyword(k, terms)),
                         key=len, reverse=True)
        if matched and (best is None or len(matched) > best[0]):
            best = (len(matched), office, matched[0])
    if best is not None:
        return best[1], best[2]
    return (settings.offices[0] if settings.offices else GENERAL_OFFICE), ""


def expectation(office: Office, timezone: str, now: datetime | None = None) -> str:
    """What the citizen is told about when to expect a reply."""
    zone = ZoneInfo(timezone)
    moment = (now or datetime.now(UTC)).astimezone(zone)
    spans = parse_hours(office.hours)
    if is_open(spans, moment):
        return (f"Ihre Anfrage ist an „{office.name}“ übergeben. Sie bekommen die Antwort in "
                f"der Regel noch während der Servicezeiten ({office.hours}).")
    opening = next_opening(spans, moment)
    when = (f" Mit einer Antwort können Sie ab {describe_moment(opening)} rechnen."
            if opening else "")
    return (f"Ihre Anfrage ist an „{office.name}“ übergeben. Dort ist gerade niemand "
            f"erreichbar (Servicezeiten: {office.hours}).{when}")


# --------------------------------------------------------------------------- tickets


@dataclass(frozen=True)
class TicketEventInfo:
    at: datetime
    actor: str
    action: str
    detail: str


@dataclass(frozen=True)
class TicketInfo:
    id: int
    status: str
    reason: str
    office_key: str
    office_name: str
    topic: str
    language: str
    question: str
    transcript: list[dict[str, Any]]
    has_contact: bool
    assigned_to: str | None
    reply: str | None
    replied_at: datetime | None
    created_at: datetime
    updated_at: datetime
    conversation_id: str | None
    bot_slug: str
    events: list[TicketEventInfo] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def reason_label(self) -> str:
        return REASON_LABELS.get(self.reason, self.reason)


@dataclass(frozen=True)
class TicketCreated:
    ticket: TicketInfo
    # For the citizen: where the request is and when to expect the reply.
    message: str
    # Notice of the new ticket to the office's address; "" when sent or not configured.
    mail_problem: str = ""


@dataclass(frozen=True)
class ChatReply:
    ticket_id: int
    office_name: str
    text: str
    at: datetime


def create_ticket(engine: Engine, workspace: str, conversation_id: str,
                  contact_email: str | None = None, now: datetime | None = None
                  ) -> TicketCreated:
    """Hand conversation `conversation_id` of `workspace` to a person.

    The ticket copies the redacted transcript, the last question, its language and the reason
    of the offer; it goes to the office the bot's routing rules name. An open ticket of the
    same conversation is returned instead of a second one (a double click, a second offer).
    """
    contact = (contact_email or "").strip() or None
    if contact is not None and not valid_address(contact):
        raise TicketError(f"„{contact[:80]}“ ist keine gültige E-Mail-Adresse. Bitte prüfen "
                          "Sie die Eingabe oder lassen Sie das Feld leer.")
    with engine.session() as session:
        conversation = _conversation(session, workspace, conversation_id)
        existing = session.scalar(
            select(Ticket).where(Ticket.conversation_id == conversation_id,
                                 Ticket.status.in_(("offen", "in_bearbeitung"))))
        bot = session.get(Bot, conversation.bot_id)
        config = _bot_config(session, workspace, bot, conversation.bot_version)
        settings = config.handoff if config else HandoffSettings()
        messages = list(conversation.messages)
        if existing is not None:
            if contact and not existing.contact_email:
                existing.contact_email = contact
                _event(existing, CITIZEN, "kontakt", "E-Mail-Adresse für die Antwort angegeben")
            office = _office_of(settings, existing.office_key)
            return TicketCreated(_info(existing, bot.slug if bot else ""),
                                 expectation(office, engine.settings.timezone, now))
        if not messages:
            raise TicketError("Das Gespräch enthält noch keine Frage; eine Übergabe ist erst "
                              "nach einer Frage möglich.")
        last = next((m for m in reversed(messages) if m.handoff), messages[-1])
        reason = _reason(last)
        office, topic = route(settings, " ".join(m.question for m in messages))
        if not topic:
            topic = _first_source(last) or ""
        ticket = Ticket(
            workspace_id=conversation.workspace_id,
            bot_id=conversation.bot_id,
            bot_version=conversation.bot_version,
            conversation_id=conversation.id,
            message_id=last.id,
            status="offen",
            reason=reason,
            office_key=office.key,
            office_name=office.name,
            office_email=office.email,
            topic=topic[:200],
            language=last.language or "de",
            question=last.question,
            transcript=[{"question": m.question, "answer": m.answer, "mode": m.mode,
                         "at": aware(m.created_at).isoformat()} for m in messages],
            contact_email=contact,
        )
        session.add(ticket)
        _event(ticket, CITIZEN, "angelegt",
               f"Übergabe ({REASON_LABELS.get(reason, reason)}) an {office.name}"
               + (", mit E-Mail-Adresse" if contact else ", Antwort im Chat"))
        session.flush()
        info = _info(ticket, bot.slug if bot else "")
    problem = _notify_office(engine, info, office)
    return TicketCreated(info, expectation(office, engine.settings.timezone, now), problem)


def list_tickets(engine: Engine, workspace: str, offices: list[str] | None = None,
                 statuses: list[str] | None = None) -> list[TicketInfo]:
    """Tickets of `workspace`, newest first, optionally only of some offices/statuses."""
    with engine.session() as session:
        query = (select(Ticket, Bot.slug).join(Workspace, Workspace.id == Ticket.workspace_id)
                 .outerjoin(Bot, Bot.id == Ticket.bot_id).where(Workspace.slug == workspace))
        if offices:
            query = query.where(Ticket.office_key.in_(offices))
        if statuses:
            query = query.where(Ticket.status.in_(statuses))
        rows = session.execute(query.order_by(Ticket.id.desc())).all()
        return [_info(ticket, slug or "", with_events=False) for ticket, slug in rows]


def get_ticket(engine: Engine, workspace: str, ticket_id: int) -> TicketInfo:
    with engine.session() as session:
        ticket = _ticket(session, workspace, ticket_id)
        return _info(ticket, _bot_slug(session, ticket))


def office_choices(engine: Engine, workspace: str) -> dict[str, str]:
    """key -> name of every office of the workspace's bots and of its tickets."""
    choices: dict[str, str] = {}
    with engine.session() as session:
        repo = BotRepository(session, workspace)
        for summary in repo.list():
            for office in repo.get(summary.slug)[0].handoff.offices:
                choices.setdefault(office.key, office.name)
        rows = session.execute(
            select(Ticket.office_key, Ticket.office_name).distinct()
            .where(Ticket.workspace_id == repo.workspace.id)).all()
    for key, name in rows:
        choices.setdefault(key, name)
    return choices


def claim(engine: Engine, workspace: str, ticket_id: int, actor: str) -> TicketInfo:
    """`actor` takes the ticket over: status "in Bearbeitung", assigned to them."""
    with engine.session() as session:
        ticket = _ticket(session, workspace, ticket_id)
        if ticket.status == "geschlossen":
            raise TicketError(f"Anfrage {ticket_id} ist geschlossen; bitte erst wieder öffnen.")
        previous = ticket.assigned_to
        ticket.assigned_to = actor
        if ticket.status == "offen":
            ticket.status = "in_bearbeitung"
        _event(ticket, actor, "übernommen",
               f"von {previous} übernommen" if previous and previous != actor else "")
        session.flush()
        return _info(ticket, _bot_slug(session, ticket))


@dataclass(frozen=True)
class ReplyOutcome:
    ticket: TicketInfo
    mailed: bool
    # Why no e-mail went out although the citizen left an address ("" otherwise).
    mail_problem: str = ""


def reply(engine: Engine, workspace: str, ticket_id: int, text: str, actor: str
          ) -> ReplyOutcome:
    """Answer the citizen: shown in their chat, e-mailed when they left an address."""
    body = text.strip()
    if not body:
        raise TicketError("Die Antwort ist leer.")
    if len(body) > MAX_REPLY_CHARS:
        raise TicketError(f"Die Antwort ist mit {len(body)} Zeichen zu lang; erlaubt sind "
                          f"{MAX_REPLY_CHARS}.")
    with engine.session() as session:
        ticket = _ticket(session, workspace, ticket_id)
        if ticket.status == "geschlossen":
            raise TicketError(f"Anfrage {ticket_id} ist geschlossen; bitte erst wieder öffnen.")
        ticket.reply = body
        ticket.replied_at = datetime.now(UTC)
        ticket.assigned_to = actor  # whoever answered is the one to ask about it
        ticket.status = "beantwortet"
        _event(ticket, actor, "beantwortet", body[:200])
        session.flush()
        contact, info = ticket.contact_email, _info(ticket, _bot_slug(session, ticket))
    if not contact:
        return ReplyOutcome(info, mailed=False)
    problem = ""
    try:
        send_mail(engine.settings, contact,
                  f"Antwort auf Ihre Anfrage Nr. {info.id} an {info.office_name}",
                  _citizen_mail(info, body))
    except MailError as exc:
        problem = str(exc)
    with engine.session() as session:
        ticket = _ticket(session, workspace, ticket_id)
        _event(ticket, "System", "e-mail" if not problem else "e-mail-fehler",
               "Antwort per E-Mail gesendet" if not problem else problem)
        info = _info(ticket, _bot_slug(session, ticket))
    return ReplyOutcome(info, mailed=not problem, mail_problem=problem)


def close(engine: Engine, workspace: str, ticket_id: int, actor: str, note: str = ""
          ) -> TicketInfo:
    """Close the ticket; the citizen's e-mail address is erased."""
    with engine.session() as session:
        ticket = _ticket(session, workspace, ticket_id)
        if ticket.status == "geschlossen":
            raise TicketError(f"Anfrage {ticket_id} ist bereits geschlossen.")
        ticket.status = "geschlossen"
        erased = ticket.contact_email is not None
        ticket.contact_email = None
        detail = note.strip()[:500]
        if erased:
            detail = (detail + " – " if detail else "") + "E-Mail-Adresse gelöscht"
        _event(ticket, actor, "geschlossen", detail)
        session.flush()
        return _info(ticket, _bot_slug(session, ticket))


def reopen(engine: Engine, workspace: str, ticket_id: int, actor: str) -> TicketInfo:
    with engine.session() as session:
        ticket = _ticket(session, workspace, ticket_id)
        if ticket.status != "geschlossen":
            raise TicketError(f"Anfrage {ticket_id} ist nicht geschlossen.")
        ticket.status = "in_bearbeitung" if ticket.assigned_to else "offen"
        _event(ticket, actor, "wieder geöffnet", "")
        session.flush()
        return _info(ticket, _bot_slug(session, ticket))


def replies_for(engine: Engine, conversation_id: str) -> list[ChatReply]:
    """Replies of clerks to this conversation, oldest first (for the open chat)."""
    with engine.session() as session:
        rows = session.scalars(
            select(Ticket).where(Ticket.conversation_id == conversation_id,
                                 Ticket.reply.is_not(None)).order_by(Ticket.replied_at)).all()
        return [ChatReply(t.id, t.office_name, t.reply or "", aware(t.replied_at))
                for t in rows if t.replied_at is not None]


def tickets_for(engine: Engine, conversation_id: str) -> list[TicketInfo]:
    """The conversation's tickets (the chat shows "Ihre Anfrage Nr. … ist …")."""
    with engine.session() as session:
        rows = session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id)
                               .order_by(Ticket.id)).all()
        return [_info(t, _bot_slug(session, t), with_events=False) for t in rows]


# --------------------------------------------------------------------------- helpers


def _conversation(session: Any, workspace: str, conversation_id: str) -> Conversation:
    return row_in_workspace(
        session, Conversation, conversation_id, workspace,
        TicketError(f"Das Gespräch {conversation_id[:36]} gibt es im Arbeitsbereich "
                    f"„{workspace}“ nicht."))


def _ticket(session: Any, workspace: str, ticket_id: int) -> Ticket:
    # The same message for "no such ticket" and "another workspace's ticket".
    return row_in_workspace(
        session, Ticket, ticket_id, workspace, TicketError(ticket_missing(ticket_id, workspace)))


def ticket_missing(ticket_id: int, workspace: str) -> str:
    return f"Eine Anfrage Nr. {ticket_id} gibt es im Arbeitsbereich „{workspace}“ nicht."


def _bot_config(session: Any, workspace: str, bot: Bot | None, version: int
                ) -> BotConfig | None:
    if bot is None:
        return None
    try:
        return BotRepository(session, workspace).get(bot.slug, version)[0]
    except LookupError:
        return BotRepository(session, workspace).get(bot.slug)[0]


def _bot_slug(session: Any, ticket: Ticket) -> str:
    bot = session.get(Bot, ticket.bot_id) if ticket.bot_id else None
    return bot.slug if bot else ""


def _office_of(settings: HandoffSettings, key: str) -> Office:
    return next((o for o in settings.offices if o.key == key), GENERAL_OFFICE)


def _reason(message: Message) -> str:
    """Why the turn offered the handoff (a handoff without an offer: the citizen's wish)."""
    if message.handoff_reason in REASON_LABELS:
        return str(message.handoff_reason)
    return "keine_antwort" if message.no_answer else "mensch"


def _first_source(message: Message) -> str:
    for citation in message.citations or []:
        if isinstance(citation, dict) and (citation.get("title") or citation.get("source")):
            return str(citation.get("title") or Path(str(citation["source"])).name)
    return ""


def _event(ticket: Ticket, actor: str, action: str, detail: str) -> None:
    ticket.events.append(TicketEvent(actor=actor[:120], action=action, detail=detail))
    ticket.updated_at = datetime.now(UTC)


def _info(ticket: Ticket, bot_slug: str, with_events: bool = True) -> TicketInfo:
    return TicketInfo(
        id=ticket.id, status=ticket.status, reason=ticket.reason, office_key=ticket.office_key,
        office_name=ticket.office_name, topic=ticket.topic, language=ticket.language,
        question=ticket.question, transcript=list(ticket.transcript or []),
        has_contact=bool(ticket.contact_email), assigned_to=ticket.assigned_to,
        reply=ticket.reply, replied_at=aware(ticket.replied_at) if ticket.replied_at else None,
        created_at=aware(ticket.created_at), updated_at=aware(ticket.updated_at),
        conversation_id=ticket.conversation_id, bot_slug=bot_slug,
        events=[TicketEventInfo(aware(e.at), e.actor, e.action, e.detail)
                for e in ticket.events] if with_events else [],
    )


def _notify_office(engine: Engine, ticket: TicketInfo, office: Office) -> str:
    if not office.email or not mail_enabled(engine.settings):
        return ""
    try:
        send_mail(engine.settings, office.email,
                  f"Neue Anfrage Nr. {ticket.id} im Chat-Posteingang "
                  f"({ticket.topic or 'ohne Thema'})",
                  f"Eine neue Anfrage wartet im Posteingang von Chatwerkstatt.\n\n"
                  f"Grund: {ticket.reason_label}\nFrage: {ticket.question}\n")
    except MailError as exc:
        log.warning("Hinweis an %s nicht gesendet: %s", office.email, exc)
        return str(exc)
    return ""


def _citizen_mail(ticket: TicketInfo, body: str) -> str:
    return (f"Guten Tag,\n\nauf Ihre Anfrage an {ticket.office_name} antworten wir Ihnen:\n\n"
            f"{body}\n\nIhre Frage war: {ticket.question}\n\nMit freundlichen Grüßen\n"
            f"{ticket.office_name}\n\n(Anfrage Nr. {ticket.id}. Bitte antworten Sie nicht auf "
            "diese automatisch versandte E-Mail.)")
