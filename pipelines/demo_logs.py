"""Synthetic chat logs for demos and benchmarks: `python -m pipelines demo-logs --days 60`.

Every conversation written here is marked `synthetic` (the analytics page can leave them out).
The questions are the Musterstadt test set's, the content gaps, other languages and requests
for a person of data/sample/demo_logs.yaml. With `answer_with_bot` each distinct question is
answered once by the real bot (not logged), and its answer, mode, confidence, sources and step
timings are reused with some noise; without it (benchmarks on an empty bot) the answers are
made up from the test set's expected answers. Volume follows weekdays and office hours and
grows over the period; topics marked `rising` are asked more and more.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import insert, select, update

from pipelines.assistant import NO_ANSWER_TEXT
from pipelines.bots import BotRepository
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT
from pipelines.store.models import Conversation, CuratedAnswer, Feedback, Message, Workspace

QUESTIONS_FILE = REPO_ROOT / "data" / "sample" / "demo_logs.yaml"
TESTSET_FILE = REPO_ROOT / "data" / "sample" / "musterstadt_testset.jsonl"
CHANNEL_WEIGHTS = {"public": 0.68, "voice": 0.12, "workspace": 0.12, "api": 0.08}
LANGUAGE_WEIGHTS = {"de": 0.86, "en": 0.04, "tr": 0.03, "uk": 0.03, "ar": 0.02, "ru": 0.01,
                    "pl": 0.01}
# Share of all questions by hour of the day (local time): office hours, a lunch dip, evenings.
HOUR_WEIGHTS = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 1.5, 3.0, 4.2, 4.5, 4.0, 3.0, 3.2, 3.8, 3.5,
                3.0, 2.6, 2.2, 2.0, 1.8, 1.4, 0.9, 0.5]
WEEKDAY_FACTORS = [1.0, 1.05, 0.95, 1.1, 0.9, 0.45, 0.3]
HANDOFF_ANSWER = ("Ich gebe Ihre Frage an eine Mitarbeiterin oder einen Mitarbeiter des "
                  "Bürgerbüros weiter. Sie erhalten eine Antwort zu den Öffnungszeiten.")
COMMENTS_GOOD = ["Danke, genau das habe ich gesucht.", "Sehr hilfreich!", "Schnell und klar."]
COMMENTS_BAD = ["Das beantwortet meine Frage nicht.", "Zu ungenau.",
                "Ich hätte gern eine Telefonnummer gehabt."]


@dataclass(frozen=True)
class Template:
    """One question and the answer the bot gives to it."""

    question: str
    language: str
    weight: float
    mode: str = "extractive"
    answer: str = ""
    confidence: float = 0.0
    no_answer: bool = False
    # A request for a person (asked as such, not answered by the bot).
    handoff: bool = False
    # What the bot's answer did besides: offered a person (and why), served a curated answer.
    offered: bool = False
    handoff_reason: str | None = None
    curated_answer_id: int | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    rising: bool = False


@dataclass(frozen=True)
class DemoSummary:
    workspace: str
    bot: str
    start: date
    end: date
    conversations: int
    messages: int
    feedback: int

    def describe(self) -> str:
        return (f"{self.conversations} Gespräche mit {self.messages} Nachrichten und "
                f"{self.feedback} Bewertungen vom {self.start:%d.%m.%Y} bis {self.end:%d.%m.%Y} "
                f"für „{self.bot}“ im Arbeitsbereich „{self.workspace}“ erzeugt "
                "(als synthetisch markiert).")


def question_templates(path: Path = QUESTIONS_FILE,
                       testset: Path = TESTSET_FILE) -> list[Template]:
    """The questions with their weights and made-up answers (see `answered_by_bot`)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    templates = []
    for line in testset.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if item.get("history"):
            continue
        answerable = item["kind"] == "answerable"
        templates.append(Template(
            question=item["question"], language="de", weight=1.0 if answerable else 0.3,
            answer=item.get("expected_answer", "") if answerable else NO_ANSWER_TEXT,
            no_answer=not answerable, mode="extractive" if answerable else "keine_antwort",
            confidence=0.75 if answerable else 0.2,
            citations=[{"number": 1, "source": item["expected_source"],
                        "title": item["expected_source"]}] if answerable else [],
        ))
    for gap in data["gaps"]:
        per_question = 4.0 * float(gap.get("weight", 1)) / len(gap["questions"])
        templates += [Template(question=q, language="de", weight=per_question, mode="keine_antwort",
                               answer=NO_ANSWER_TEXT, no_answer=True, confidence=0.2,
                               rising=bool(gap.get("rising")))
                      for q in gap["questions"]]
    for language, questions in data["languages"].items():
        templates += [Template(question=q, language=language, weight=1.0, confidence=0.5,
                               answer="…") for q in questions]
    templates += [Template(question=q, language="de" if not q.startswith("I ") else "en",
                           weight=0.4, mode="mensch", answer=HANDOFF_ANSWER,
                           no_answer=True, handoff=True, confidence=0.0)
                  for q in data["handoff"]]
    return templates


def answered_by_bot(engine: Engine, workspace: str, bot: str, templates: list[Template],
                    progress: Callable[[int, int], None] | None = None) -> list[Template]:
    """Each distinct question answered once by the real bot (nothing logged)."""
    from pipelines.assistant import Assistant

    assistant = Assistant(engine, bot, workspace=workspace, channel="api", log_turns=False)
    answered = []
    for number, template in enumerate(templates, start=1):
        if progress:
            progress(number, len(templates))
        if template.handoff:
            answered.append(template)
            continue
        result = assistant.ask(template.question)
        answered.append(replace(
            template, mode=result.mode, answer=result.answer, confidence=result.confidence,
            no_answer=result.no_answer, offered=result.handoff,
            handoff_reason=result.handoff_reason or None,
            curated_answer_id=result.curated_answer_id,
            citations=[{"number": c.number, "source": c.source, "title": c.title,
                        "page": c.page, "section": c.section} for c in result.citations],
            timings={k: v for k, v in result.timings_ms.items() if k != "protokoll"},
        ))
    return answered


def generate(engine: Engine, workspace: str, bot: str, days: int = 60,
             conversations_per_day: float = 40.0, seed: int = 7, end: date | None = None,
             answer_with_bot: bool = True, max_messages: int | None = None,
             progress: Callable[[str, int, int], None] | None = None) -> DemoSummary:
    """Write `days` days of synthetic conversations ending `end` (default today)."""
    if days < 1:
        raise ValueError("Es muss mindestens ein Tag erzeugt werden (--days 1 oder mehr).")
    with engine.session() as session:
        repo = BotRepository(session, workspace)
        if not repo.exists(bot):
            raise ValueError(f"Einen Bot „{bot}“ gibt es im Arbeitsbereich „{workspace}“ nicht.")
        bot_row = repo.get_row(bot)
        bot_id, version, workspace_id = bot_row.id, bot_row.current_version, repo.workspace.id
    templates = question_templates()
    if answer_with_bot:
        templates = answered_by_bot(
            engine, workspace, bot, templates,
            (lambda done, total: progress("Antworten", done, total)) if progress else None)
    rng = random.Random(seed)
    tz = ZoneInfo(engine.settings.timezone)
    end = end or datetime.now(tz).date()
    first = end - timedelta(days=days - 1)
    by_language: dict[str, list[Template]] = {}
    for template in templates:
        if not template.handoff:
            by_language.setdefault(template.language, []).append(template)
    handoffs = [t for t in templates if t.handoff]
    writer = _Writer(engine)
    conversations = messages = 0
    for offset in range(days):
        day = first + timedelta(days=offset)
        share = offset / max(days - 1, 1)
        expected = conversations_per_day * WEEKDAY_FACTORS[day.weekday()] * (0.8 + 0.4 * share)
        weights = {lang: [t.weight * (0.3 + 1.4 * share if t.rising else 1.0) for t in pool]
                   for lang, pool in by_language.items()}
        for _ in range(_poisson(rng, expected)):
            if max_messages is not None and messages >= max_messages:
                break
            language = rng.choices(list(LANGUAGE_WEIGHTS), list(LANGUAGE_WEIGHTS.values()))[0]
            language = language if language in by_language else "de"
            pool = by_language[language]
            hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
            moment = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)),
                                      tz).astimezone(UTC)
            # Random ids (not from the seed): running the generator twice must not collide.
            conversation_id = str(uuid.uuid4())
            writer.conversation(conversation_id, workspace_id, bot_id, version,
                                rng.choices(list(CHANNEL_WEIGHTS),
                                            list(CHANNEL_WEIGHTS.values()))[0], moment)
            conversations += 1
            turns = 1 + min(3, int(rng.expovariate(1.6)))
            for _turn in range(turns):
                template = rng.choices(pool, weights[language])[0]
                if rng.random() < 0.02:
                    template = rng.choice(handoffs)
                writer.message(conversation_id, moment, template, rng)
                messages += 1
                if template.no_answer and not template.handoff and rng.random() < 0.25:
                    moment += timedelta(seconds=rng.randint(10, 90))
                    writer.message(conversation_id, moment, rng.choice(handoffs), rng)
                    messages += 1
                    break
                moment += timedelta(seconds=rng.randint(15, 240))
        writer.flush()
        if progress:
            progress("Tage", offset + 1, days)
    writer.flush()
    return DemoSummary(workspace, bot, first, end, conversations, messages, writer.feedback_rows)


def has_synthetic_logs(engine: Engine, workspace: str) -> bool:
    with engine.session() as session:
        return session.scalar(
            select(Conversation.id).join(Workspace, Workspace.id == Conversation.workspace_id)
            .where(Workspace.slug == workspace, Conversation.synthetic).limit(1)) is not None


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means, a rounded normal for large ones."""
    if mean > 50:
        return max(0, round(rng.gauss(mean, mean ** 0.5)))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


class _Writer:
    """Batched inserts (conversations first, then messages returning their ids, then feedback)."""

    BATCH = 20_000

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conversations: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.ratings: list[tuple[int, int, str] | None] = []
        self.feedback_rows = 0

    def conversation(self, conversation_id: str, workspace_id: int, bot_id: int, version: int,
                     channel: str, started: datetime) -> None:
        self.conversations.append({"id": conversation_id, "workspace_id": workspace_id,
                                   "bot_id": bot_id, "bot_version": version, "channel": channel,
                                   "started_at": started, "synthetic": True})

    def message(self, conversation_id: str, moment: datetime, template: Template,
                rng: random.Random) -> None:
        noise = rng.lognormvariate(0.0, 0.25)
        timings = {step: round(ms * noise, 2) for step, ms in template.timings.items()}
        if not timings:
            timings = {"sprache": round(2.0 * noise, 2), "suche": round(25.0 * noise, 2),
                       "bewertung": round(3.0 * noise, 2), "antwort": round(6.0 * noise, 2)}
        timings["protokoll"] = round(4.0 * rng.lognormvariate(0.0, 0.3), 2)
        timings["gesamt"] = round(sum(timings.values()), 2)
        confidence = min(1.0, max(0.0, template.confidence + rng.gauss(0.0, 0.05)))
        self.messages.append({
            "conversation_id": conversation_id, "created_at": moment,
            "question": template.question, "search_query": template.question,
            "answer": template.answer, "language": template.language, "mode": template.mode,
            "confidence": round(confidence, 4), "no_answer": template.no_answer,
            "handoff": template.handoff or template.offered,
            "handoff_reason": "mensch" if template.handoff else template.handoff_reason,
            "curated_answer_id": template.curated_answer_id,
            "citations": template.citations, "timings_ms": timings, "error": None,
        })
        rating = None
        if rng.random() < 0.12:
            good = rng.random() < (0.82 if not template.no_answer else 0.25)
            comment = rng.choice(COMMENTS_GOOD if good else COMMENTS_BAD) \
                if rng.random() < 0.3 else ""
            rating = (1 if good else -1, 0, comment)
        self.ratings.append(rating)
        if len(self.messages) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.messages and not self.conversations:
            return
        with self.engine.session() as session:
            if self.conversations:
                session.execute(insert(Conversation), self.conversations)
            ids = list(session.scalars(
                insert(Message).returning(Message.id, sort_by_parameter_order=True),
                self.messages,
            )) if self.messages else []
            feedback = [
                {"message_id": message_id, "rating": rating[0], "comment": rating[2],
                 "user_id": None, "created_at": row["created_at"] + timedelta(minutes=1)}
                for message_id, row, rating in zip(ids, self.messages, self.ratings, strict=True)
                if rating is not None
            ]
            if feedback:
                session.execute(insert(Feedback), feedback)
            # Served curated answers count their hits, as the assistant counts real ones.
            served = Counter(row["curated_answer_id"] for row in self.messages
                             if row["curated_answer_id"] is not None)
            for curated_id, hits in served.items():
                session.execute(update(CuratedAnswer).where(CuratedAnswer.id == curated_id)
                                .values(hits=CuratedAnswer.hits + hits))
            self.feedback_rows += len(feedback)
        self.conversations, self.messages, self.ratings = [], [], []
