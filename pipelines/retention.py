"""How long chat logs are kept: per workspace, then deleted or anonymised.

`python -m pipelines retention` applies it, and the workspace applies it whenever its server
starts. "delete" removes old turns, their feedback and conversations left empty; "anonymise"
keeps the numbers analytics counts (time, bot, channel, language, outcome, confidence, timings,
ratings) and removes every text: question, search query, answer, sources, error, feedback
comments. Both are idempotent. The analytics copy is dropped afterwards and rebuilt on its next
use, so nothing removed here survives there.

Closed handoff tickets last changed before the cutoff go the same way: deleted with their
audit trail, or stripped of question, transcript, reply and audit details (office, topic,
reason, language and the times stay). Open tickets are kept until they are closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from pipelines.bots import get_or_create_workspace
from pipelines.engine import Engine
from pipelines.store.models import (
    Conversation,
    Feedback,
    Message,
    Ticket,
    TicketEvent,
    Workspace,
)

RetentionMode = Literal["delete", "anonymise"]
MODES: tuple[RetentionMode, ...] = ("delete", "anonymise")
MODE_LABELS = {"delete": "löschen", "anonymise": "anonymisieren"}


@dataclass(frozen=True)
class RetentionPolicy:
    days: int
    mode: RetentionMode
    own: bool  # set for the workspace (else the installation's default)


@dataclass(frozen=True)
class RetentionResult:
    workspace: str
    policy: RetentionPolicy
    cutoff: datetime
    messages: int  # deleted or anonymised now
    conversations: int  # deleted (empty after deleting their turns)
    dry_run: bool = False
    tickets: int = 0  # closed handoff tickets deleted or anonymised now

    def describe(self) -> str:
        verb = MODE_LABELS[self.policy.mode]
        if self.dry_run:
            verb = f"würde {verb}"
        tickets = f" und {self.tickets} geschlossene Anfragen" if self.tickets else ""
        return (f"{self.workspace}: {self.messages} Nachrichten{tickets} vor dem "
                f"{self.cutoff:%d.%m.%Y} {verb} (Frist {self.policy.days} Tage)")


def policy_for(engine: Engine, workspace: str) -> RetentionPolicy:
    with engine.session() as session:
        ws = get_or_create_workspace(session, workspace)
        return _policy(engine, ws)


def _policy(engine: Engine, ws: Workspace) -> RetentionPolicy:
    settings = engine.settings
    mode = ws.retention_mode if ws.retention_mode in MODES else settings.log_retention_mode
    return RetentionPolicy(days=ws.retention_days or settings.log_retention_days,
                           mode=cast(RetentionMode, mode),
                           own=ws.retention_days is not None or ws.retention_mode is not None)


def set_policy(engine: Engine, workspace: str, days: int | None,
               mode: str | None = None) -> RetentionPolicy:
    """Set the workspace's own retention; None for both returns it to the default."""
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
        raise ValueError(f"Die Aufbewahrungsfrist muss eine ganze Zahl von Tagen ab 1 sein, "
                         f"nicht {days!r}.")
    if mode is not None and mode not in MODES:
        raise ValueError(f"Unbekannte Art „{mode}“; möglich: delete (löschen) oder anonymise "
                         "(anonymisieren).")
    with engine.session() as session:
        ws = get_or_create_workspace(session, workspace)
        ws.retention_days = days
        ws.retention_mode = mode
        session.flush()
        return _policy(engine, ws)


def apply_retention(engine: Engine, workspace: str | None = None, now: datetime | None = None,
                    dry_run: bool = False) -> list[RetentionResult]:
    """Apply every workspace's retention (or only `workspace`'s); returns what was done."""
    now = now or datetime.now(UTC)
    results = []
    with engine.session() as session:
        query = select(Workspace).order_by(Workspace.slug)
        if workspace is not None:
            query = query.where(Workspace.slug == workspace)
        workspaces = list(session.scalars(query))
        for ws in workspaces:
            policy = _policy(engine, ws)
            cutoff = now - timedelta(days=policy.days)
            old = (select(Message.id).join(Conversation)
                   .where(Conversation.workspace_id == ws.id, Message.created_at < cutoff))
            if policy.mode == "anonymise":
                old = old.where((Message.question != "") | (Message.answer != ""))
            ids = list(session.scalars(old))
            old_tickets = (select(Ticket.id).where(Ticket.workspace_id == ws.id,
                                                   Ticket.status == "geschlossen",
                                                   Ticket.updated_at < cutoff))
            if policy.mode == "anonymise":
                old_tickets = old_tickets.where(Ticket.question != "")
            ticket_ids = list(session.scalars(old_tickets))
            conversations = 0
            if not dry_run:
                _apply_tickets(session, ticket_ids, policy.mode)
                if ids:
                    conversations = _apply(session, ws.id, ids, policy.mode)
            results.append(RetentionResult(ws.slug, policy, cutoff, len(ids), conversations,
                                           dry_run, len(ticket_ids)))
    if any(r.messages for r in results) and not dry_run:
        from pipelines.analytics import ChatLogMirror

        ChatLogMirror(engine).drop()
    return results


def _remove(session: Session, ids: list[int], mode: RetentionMode, table: Any,
            blank: dict[str, Any], children: Any, child_key: Any,
            child_blank: dict[str, Any]) -> None:
    """Delete rows `ids` of `table` with their `children` (rows whose `child_key` points at
    them), or set their texts to `blank` and the children's to `child_blank`; in batches."""
    for start in range(0, len(ids), 500):
        batch = ids[start:start + 500]
        if mode == "delete":
            session.execute(delete(children).where(child_key.in_(batch)))
            session.execute(delete(table).where(table.id.in_(batch)))
        else:
            session.execute(update(children).where(child_key.in_(batch)).values(**child_blank))
            session.execute(update(table).where(table.id.in_(batch)).values(**blank))


def _apply_tickets(session: Session, ids: list[int], mode: RetentionMode) -> None:
    _remove(session, ids, mode, Ticket,
            {"question": "", "transcript": [], "reply": None, "contact_email": None},
            TicketEvent, TicketEvent.ticket_id, {"detail": ""})


def _apply(session: Session, workspace_id: int, ids: list[int], mode: RetentionMode) -> int:
    conversations = 0
    _remove(session, ids, mode, Message,
            {"question": "", "search_query": None, "answer": "", "citations": [], "error": None},
            Feedback, Feedback.message_id, {"comment": ""})
    if mode == "delete":
        empty = (select(Conversation.id)
                 .where(Conversation.workspace_id == workspace_id,
                        ~exists().where(Message.conversation_id == Conversation.id)))
        empty_ids = list(session.scalars(empty))
        for start in range(0, len(empty_ids), 500):
            session.execute(delete(Conversation)
                            .where(Conversation.id.in_(empty_ids[start:start + 500])))
        conversations = len(empty_ids)
    session.flush()
    return conversations
