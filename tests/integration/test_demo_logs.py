"""`python -m pipelines demo-logs`: synthetic conversations, marked as such, answered by the
real bot once per question (nothing of that answering is logged), spread over the days."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from pipelines.assistant import ensure_bot
from pipelines.demo_logs import answered_by_bot, generate, question_templates
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT
from pipelines.store.models import Conversation, Feedback, Message
from tests.support.corpus import bot_on_corpus

BOT = "demo-bot"
DOCS = {
    "reisepass.md": "# Reisepass\n\nEin Reisepass kostet 70,00 Euro. Für Antragstellende unter "
                    "24 Jahren kostet er 37,50 Euro.\n",
    "sperrmuell.md": "# Sperrmüll\n\nSperrmüll holen wir zweimal im Jahr kostenlos ab.\n",
}


def counts(engine: Engine) -> tuple[int, int, int, int]:
    with engine.session() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Conversation)) or 0),
            int(session.scalar(select(func.count()).select_from(Conversation)
                               .where(Conversation.synthetic)) or 0),
            int(session.scalar(select(func.count()).select_from(Message)) or 0),
            int(session.scalar(select(func.count()).select_from(Feedback)) or 0),
        )


def test_logs_answered_by_the_real_bot(engine: Engine, corpus: Path) -> None:
    bot_on_corpus(engine, corpus, BOT)
    end = date(2026, 11, 22)
    summary = generate(engine, "standard", BOT, days=14, conversations_per_day=20, seed=5,
                       end=end)
    conversations, synthetic, messages, feedback = counts(engine)
    assert (summary.conversations, summary.messages, summary.feedback) == \
        (conversations, messages, feedback)
    assert synthetic == conversations > 150  # every one marked; weekdays ~20, weekends fewer
    assert messages > conversations  # some follow-ups and handoffs
    assert (summary.start, summary.end) == (end - timedelta(days=13), end)
    with engine.session() as session:
        answers = dict(session.execute(
            select(Message.question, Message.answer).where(Message.mode == "extractive")).all())
        modes = set(session.scalars(select(Message.mode)))
        channels = set(session.scalars(select(Conversation.channel)))
        handoffs = int(session.scalar(select(func.count()).select_from(Message)
                                      .where(Message.handoff)) or 0)
    # Every answer came from the real bot: sentences of the corpus.
    corpus_text = " ".join(DOCS.values())
    assert answers and all(
        sentence.strip(" .") in corpus_text
        for answer in answers.values()
        for sentence in re.sub(r"\s*\[\d+\]", "", answer).split(". "))
    assert modes == {"extractive", "keine_antwort", "mensch"}  # "mensch": asked for a person
    assert channels == {"public", "voice", "workspace", "api"}
    assert handoffs > 0


def test_each_question_is_answered_once_by_the_bot_and_not_logged(engine: Engine,
                                                                   corpus: Path) -> None:
    bot_on_corpus(engine, corpus, BOT)
    passport = [t for t in question_templates() if t.question == "Was kostet ein Reisepass?"]
    person = [t for t in question_templates() if t.handoff][:1]
    steps: list[tuple[int, int]] = []
    answered, handoff = answered_by_bot(engine, "standard", BOT, passport + person,
                                        lambda done, total: steps.append((done, total)))
    assert steps == [(1, 2), (2, 2)]  # the progress bar reaches its end
    assert handoff == person[0]  # requests for a person are not asked
    assert "70,00 Euro" in answered.answer and answered.mode == "extractive"
    assert answered.citations[0]["title"] and answered.timings["suche"] > 0
    assert counts(engine)[2] == 0


def test_same_seed_same_log(engine: Engine, tmp_path: Path) -> None:
    ensure_bot(engine, BOT)
    first = generate(engine, "standard", BOT, days=5, seed=9, end=date(2026, 11, 1),
                     answer_with_bot=False)
    # The same seed again (a second demo run) adds the same amount; nothing collides.
    second = generate(engine, "standard", BOT, days=5, seed=9, end=date(2026, 11, 1),
                      answer_with_bot=False)
    assert (first.conversations, first.messages) == (second.conversations, second.messages)
    assert counts(engine)[2] == first.messages + second.messages


def test_every_question_kind_is_in_the_templates() -> None:
    templates = question_templates()
    assert {t.language for t in templates} >= {"de", "en", "tr", "uk", "ar"}
    assert any(t.handoff for t in templates) and any(t.rising for t in templates)
    assert sum(1 for t in templates if not t.no_answer) >= 80  # the answerable test set


def test_cli(engine: Engine) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATWERKSTATT_")}
    env.update(CHATWERKSTATT_DATA_DIR=str(engine.settings.data_dir), PYTHONPATH=str(REPO_ROOT))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipelines", "demo-logs", *args], env=env,
                              capture_output=True, text=True, timeout=300, check=False)

    missing = run("--bot", "gibt-es-nicht", "--days", "2")
    assert missing.returncode == 1
    assert "Einen Bot „gibt-es-nicht“ gibt es im Arbeitsbereich „standard“ nicht" \
        in missing.stderr
    assert run("--bot", "x", "--days", "0").returncode == 1
    ensure_bot(engine, BOT)
    done = run("--bot", BOT, "--days", "3", "--per-day", "10", "--no-answers", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["messages"] == counts(engine)[2] > 0
    assert summary["bot"] == BOT
    again = run("--bot", BOT, "--days", "3", "--no-answers", "--if-empty")  # as `make run`
    assert again.returncode == 0 and "schon synthetische Gespräche" in again.stdout
    assert counts(engine)[2] == summary["messages"]


def test_curated_answers_served_in_demo_logs_count_their_hits(engine: Engine, corpus: Path
                                                              ) -> None:
    from pipelines.curated import list_curated, save_curated

    bot_on_corpus(engine, corpus, BOT)
    save_curated(engine, "standard", ["Wie lange ist die Wartezeit für einen Kitaplatz?"],
                 "Derzeit etwa sechs Monate.", bot_slug=BOT)
    generate(engine, "standard", BOT, days=7, conversations_per_day=20, seed=3,
             end=date(2026, 11, 22))
    with engine.session() as session:
        served = int(session.scalar(select(func.count()).select_from(Message)
                                    .where(Message.curated_answer_id.is_not(None))) or 0)
    [answer] = list_curated(engine, "standard")
    assert served > 0 and answer.hits == served
