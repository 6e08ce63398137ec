"""Thumbs up or down on an answer, with an optional comment: one rating per answer and person.

Feedback refers to a logged turn (`messages` row) and is only accepted inside the workspace the
conversation belongs to. Without a user id the rating counts as the anonymous asker's: a
public-chat answer belongs to one conversation, so a second click is the same person changing
their mind and updates the first. Comments are stored with personal data redacted
(`pipelines.privacy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, select

from pipelines.engine import Engine
from pipelines.privacy import redact_text
from pipelines.store.models import Conversation, Feedback, Message, User, Workspace, aware

HELPFUL = 1
NOT_HELPFUL = -1
MAX_COMMENT_CHARS = 2000


@dataclass(frozen=True)
class FeedbackInfo:
    id: int
    message_id: int
    rating: int
    comment: str
    user_id: int | None
    created_at: datetime


def record_feedback(engine: Engine, workspace: str, message_id: int, rating: int,
                    comment: str = "", user_id: int | None = None) -> int:
    """Store (or update) the rating of `user_id` for answer `message_id`; returns its id.

    Raises ValueError in German when the rating is not +1/-1, the comment is too long, the
    answer is not one of `workspace`, or the user does not exist.
    """
    # bool is an int in Python: True must not pass as +1; neither may 1.0 or "1".
    valid_type = isinstance(rating, int) and not isinstance(rating, bool)
    if not valid_type or rating not in (HELPFUL, NOT_HELPFUL):
        raise ValueError(
            f"Die Bewertung muss +1 (hilfreich) oder -1 (nicht hilfreich) sein, nicht {rating!r}."
        )
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise ValueError(
            f"Der Kommentar ist mit {len(text)} Zeichen zu lang; erlaubt sind höchstens "
            f"{MAX_COMMENT_CHARS} Zeichen."
        )
    with engine.session() as session:
        owner = session.scalar(
            select(Workspace.slug)
            .join(Conversation, Conversation.workspace_id == Workspace.id)
            .join(Message, Message.conversation_id == Conversation.id)
            .where(Message.id == message_id)
        )
        # The same answer for "no such message" and "another workspace's message": a workspace
        # must not learn what exists elsewhere.
        if owner != workspace:
            raise ValueError(
                f"Eine Antwort mit der Nummer {message_id} gibt es im Arbeitsbereich "
                f"„{workspace}“ nicht; Feedback ist nur zu gespeicherten Antworten möglich."
            )
        if user_id is not None and session.get(User, user_id) is None:
            raise ValueError(f"Einen Benutzer mit der Nummer {user_id} gibt es nicht.")
        row = session.scalar(
            select(Feedback)
            .where(Feedback.message_id == message_id, _same_user(user_id))
            .order_by(Feedback.id)
            .limit(1)
        )
        if row is None:
            row = Feedback(message_id=message_id, user_id=user_id)
            session.add(row)
        row.rating = rating
        # The limit above counts what the person typed; placeholders may change the length.
        row.comment = redact_text(text)
        # No separate column for changes: the time is when the current rating was given.
        row.created_at = datetime.now(UTC)
        session.flush()
        return int(row.id)


def feedback_for_message(engine: Engine, message_id: int,
                         workspace: str | None = None) -> list[FeedbackInfo]:
    """Every rating of answer `message_id`, oldest first; only within `workspace` if given."""
    with engine.session() as session:
        query = select(Feedback).where(Feedback.message_id == message_id)
        if workspace is not None:
            query = (
                query.join(Message, Message.id == Feedback.message_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .join(Workspace, Workspace.id == Conversation.workspace_id)
                .where(Workspace.slug == workspace)
            )
        rows = session.scalars(query.order_by(Feedback.id)).all()
        return [
            FeedbackInfo(
                id=row.id,
                message_id=row.message_id,
                rating=row.rating,
                comment=row.comment,
                user_id=row.user_id,
                created_at=aware(row.created_at),
            )
            for row in rows
        ]


def _same_user(user_id: int | None) -> ColumnElement[bool]:
    return Feedback.user_id.is_(None) if user_id is None else Feedback.user_id == user_id

