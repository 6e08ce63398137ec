"""Chat logs written as the assistant writes them (conversations and messages in the real
store), for the analytics and retention tests."""

from __future__ import annotations

from datetime import datetime

from pipelines.assistant import ensure_bot
from pipelines.bots import BotRepository
from pipelines.engine import Engine
from pipelines.store.models import Conversation, Message


def conversation(engine: Engine, workspace: str, bot: str, channel: str, key: str,
                 synthetic: bool = False) -> str:
    ensure_bot(engine, bot, workspace)
    with engine.session() as session:
        repo = BotRepository(session, workspace)
        row = Conversation(id=key, workspace_id=repo.workspace.id, bot_id=repo.get_row(bot).id,
                           bot_version=1, channel=channel, synthetic=synthetic)
        session.add(row)
    return key


def turn(engine: Engine, conversation_id: str, when: datetime, question: str, mode: str,
         total_ms: float, language: str = "de", handoff: bool = False,
         confidence: float = 0.8, curated_answer_id: int | None = None) -> int:
    with engine.session() as session:
        row = Message(conversation_id=conversation_id, created_at=when, question=question,
                      search_query=question, answer=f"Antwort auf: {question}", language=language,
                      mode=mode, confidence=confidence, no_answer=mode == "keine_antwort",
                      handoff=handoff, curated_answer_id=curated_answer_id,
                      citations=[{"number": 1, "source": "/d/merkblatt-reisepass.pdf",
                                  "title": "Merkblatt Reisepass"}] if mode != "keine_antwort"
                      else [],
                      timings_ms={"suche": total_ms / 2, "gesamt": total_ms})
        session.add(row)
        session.flush()
        return int(row.id)
