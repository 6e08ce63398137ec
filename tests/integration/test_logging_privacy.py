"""Privacy by default in the log: a real extractive turn (LanceDB + local embedder, no LLM)
with personal data in the question is stored redacted; the asker still sees the raw answer;
feedback comments are redacted; nothing in the schema can hold an IP address."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from pipelines.assistant import REDACTIONS_KEY
from pipelines.engine import Engine
from pipelines.feedback import feedback_for_message, record_feedback
from pipelines.settings import REPO_ROOT
from pipelines.store.db import get_engine
from pipelines.store.models import Base, Feedback
from pipelines.store.models import Message as MessageRow
from tests.support.corpus import bot_on_corpus

BOT = "datenschutz-bot"
TOWN_PHONE = "01234 567-1100"
DOCS = {
    "reisepass.md": (
        "# Reisepass beantragen\n\n"
        "## Gebühren\n\n"
        "Ein Reisepass kostet 70,00 Euro. "
        "Für Antragstellende unter 24 Jahren kostet der Reisepass 37,50 Euro.\n\n"
        "## Termin\n\n"
        f"Einen Termin für den Reisepass vereinbaren Sie telefonisch unter {TOWN_PHONE}.\n"
    ),
    "sperrmuell.txt": (
        "Sperrmüll anmelden\n\n"
        "Sperrmüll melden Sie online über das Abfallportal an. Die Abholung ist zweimal im Jahr "
        "kostenlos.\n"
    ),
}
EMAIL = "erika.mustermann@example.org"
PHONE = "0171 2345678"
IBAN = "DE89 3704 0044 0532 0130 00"
QUESTION = (f"Was kostet ein Reisepass? Ich bin unter {EMAIL} oder {PHONE} erreichbar, "
            f"die Erstattung bitte auf {IBAN}.")
CITIZEN_DATA = (EMAIL, PHONE, IBAN, "0532 0130", "2345678")
# The words around the personal data ("erreichbar", "Erstattung") dilute the term coverage of
# this question to ~0.26, below the default threshold of 0.35; these tests are about the log,
# so the bot answers from 0.2 on.
LENIENT = {"retrieval": {"confidence_threshold": 0.2}}


def stored_message(engine: Engine, message_id: int) -> MessageRow:
    with engine.session() as session:
        row = session.scalars(select(MessageRow).where(MessageRow.id == message_id)).one()
        session.expunge(row)
        return row


def test_question_answer_and_query_are_stored_redacted(engine: Engine, corpus: Path) -> None:
    result = bot_on_corpus(engine, corpus, BOT, **LENIENT).ask(QUESTION)

    assert result.mode == "extractive" and "70,00 Euro" in result.answer
    assert result.message_id is not None
    row = stored_message(engine, result.message_id)
    for value in CITIZEN_DATA:
        assert value not in row.question
        assert value not in (row.search_query or "")
        assert value not in row.answer
    assert row.question == (
        "Was kostet ein Reisepass? Ich bin unter [E-MAIL] oder [TELEFON] erreichbar, "
        "die Erstattung bitte auf [IBAN].")
    assert row.search_query == row.question
    assert row.timings_ms[REDACTIONS_KEY] == 3
    # The caller's result is untouched: the search ran on the raw question.
    assert result.search_query == QUESTION
    assert REDACTIONS_KEY not in result.timings_ms


def test_the_asker_sees_the_raw_answer_the_log_keeps_it_redacted(engine: Engine,
                                                                  corpus: Path) -> None:
    result = bot_on_corpus(engine, corpus, BOT).ask(
        "Wie vereinbare ich einen Termin für den Reisepass?")

    assert TOWN_PHONE in result.answer
    assert result.message_id is not None
    row = stored_message(engine, result.message_id)
    # The town's own number is redacted too (documented in pipelines/privacy.py): harmless.
    assert TOWN_PHONE not in row.answer
    assert "[TELEFON]" in row.answer
    assert row.answer == result.answer.replace(TOWN_PHONE, "[TELEFON]")
    assert row.timings_ms[REDACTIONS_KEY] == 1


def test_no_raw_personal_data_anywhere_in_the_database_file(engine: Engine,
                                                            corpus: Path) -> None:
    assistant = bot_on_corpus(engine, corpus, BOT, **LENIENT)
    first = assistant.ask(QUESTION)
    # A follow-up: its search query joins the earlier question (from the redacted log).
    follow_up = assistant.ask("Und für Antragstellende unter 24 Jahren?",
                              conversation_id=first.conversation_id)
    assert follow_up.message_id is not None
    record_feedback(engine, "standard", follow_up.message_id, -1,
                    comment=f"Bitte rufen Sie mich an: {PHONE}, Frau Schneider")
    row = stored_message(engine, follow_up.message_id)
    assert row.search_query is not None and "[E-MAIL]" in row.search_query
    get_engine(engine.settings.resolved_database_url).dispose()

    files = [p for p in engine.settings.data_dir.rglob("*") if p.is_file()
             and p.name.startswith("chatwerkstatt.db")]
    assert files, "no SQLite file found"
    for path in files:
        content = path.read_bytes()
        for value in (*CITIZEN_DATA, "Schneider"):
            assert value.encode() not in content, (path.name, value)


def test_feedback_comment_is_redacted(engine: Engine, corpus: Path) -> None:
    result = bot_on_corpus(engine, corpus, BOT).ask("Was kostet ein Reisepass?")
    assert result.message_id is not None

    record_feedback(engine, "standard", result.message_id, -1,
                    comment=f"Falsch! Mein Name ist Erika Mustermann, Tel. {PHONE}, "
                            f"Mail {EMAIL}. Az. 32-1234/2027")

    [stored] = feedback_for_message(engine, result.message_id)
    assert stored.comment == ("Falsch! Mein Name ist [NAME], Tel. [TELEFON], Mail [E-MAIL]. "
                              "Az. 32-1234/2027")
    with engine.session() as session:
        raw = session.scalars(select(Feedback.comment)).all()
    assert raw == [stored.comment]


def test_no_column_can_hold_an_ip_address() -> None:
    suspicious = re.compile(r"(^|_)(ip|ip_?addr(ess)?|remote_?addr|client_?(ip|addr)|"
                            r"x_forwarded_for|user_agent)($|_)")
    columns = [f"{table.name}.{column.name}" for table in Base.metadata.tables.values()
               for column in table.columns]
    assert [c for c in columns if suspicious.search(c.split(".", 1)[1])] == []


def test_bench_privacy_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "evaluation", "bench", "privacy", "--json", "--quiet"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )

    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["all"]["examples"] >= 150
    assert payload["all"]["negatives"] >= 50
    assert payload["all"]["recall"] >= 0.95
    assert set(payload["all"]["per_kind"]) >= {"E-MAIL", "TELEFON", "IBAN", "NAME"}
    assert payload["speed_corpus"]["texts_per_second"] > 0


def test_bench_privacy_refuses_a_missing_corpus(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "evaluation", "bench", "privacy", "--quiet",
         "--pii-corpus", str(tmp_path / "fehlt.jsonl")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )

    assert done.returncode == 2
    assert done.stderr.startswith("Korpus nicht lesbar:")
