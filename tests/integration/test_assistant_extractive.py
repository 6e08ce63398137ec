"""Assistant without a language model: verbatim sentences, exact citations, logged turns.

The default `engine` fixture points Ollama at a closed port, so every turn here runs the real
retrieval (LanceDB + local embedder) and answers extractively.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from pipelines.assistant import MODE_LABELS, NO_ANSWER_TEXT, Assistant, TurnResult, ensure_bot
from pipelines.bots import BotConfig, BotRepository
from pipelines.documents.ingest import Ingestor
from pipelines.engine import Engine
from pipelines.german import stem
from pipelines.retrieval import term_statistics
from pipelines.store.models import Bot, Conversation
from pipelines.store.models import Message as MessageRow
from tests.support.corpus import bot_on_corpus

DOCS = {
    "hundesteuer.md": (
        "# Hundesteuer\n\n"
        "## Steuersätze\n\n"
        "Die Hundesteuer beträgt 96 Euro im Jahr für den ersten Hund. "
        "Für jeden weiteren Hund werden 144 Euro im Jahr erhoben. "
        "Die Steuer wird jährlich am 1. Juli fällig.\n\n"
        "## Anmeldung\n\n"
        "Einen neuen Hund melden Sie innerhalb von zwei Wochen beim Steueramt an.\n"
    ),
    "reisepass.md": (
        "# Reisepass beantragen\n\n"
        "## Gebühren\n\n"
        "Ein Reisepass kostet 70,00 Euro. "
        "Für Antragstellende unter 24 Jahren kostet der Reisepass 37,50 Euro. "
        "Die Bearbeitung dauert etwa drei bis vier Wochen.\n\n"
        "## Unterlagen\n\n"
        "Bringen Sie ein aktuelles biometrisches Passfoto und Ihren bisherigen Ausweis mit.\n"
    ),
    "sperrmuell.txt": (
        "Sperrmüll anmelden\n\n"
        "Sperrmüll melden Sie online über das Abfallportal oder telefonisch beim "
        "Entsorgungsbetrieb an. Die Abholung ist zweimal im Jahr kostenlos. Stellen Sie die "
        "Gegenstände am Abholtag bis 6 Uhr an den Straßenrand.\n"
    ),
}
# Own bot (and so LanceDB table) name per module: caches keyed by table name stay apart.
BOT = "auskunft-bot"
LINE_RE = re.compile(r"^(?P<sentence>.+) \[(?P<number>\d+)\]$")
REQUIRED_TIMINGS = {"sprache", "suche", "bewertung", "antwort", "protokoll", "gesamt"}


def make_bot(engine: Engine, corpus: Path, **changes: Any) -> Assistant:
    return bot_on_corpus(engine, corpus, BOT, **changes)


@pytest.fixture
def assistant(engine: Engine, corpus: Path) -> Assistant:
    return make_bot(engine, corpus)


def answer_lines(result: TurnResult) -> list[tuple[str, int]]:
    lines = []
    for line in result.answer.splitlines():
        match = LINE_RE.match(line)
        assert match, f"answer line without [n] marker: {line!r}"
        lines.append((match["sentence"], int(match["number"])))
    return lines


def test_answer_is_verbatim_sentences_with_citations(assistant: Assistant) -> None:
    result = assistant.ask("Was kostet ein Reisepass für Antragstellende unter 24 Jahren?")

    assert result.mode == "extractive"
    assert not result.no_answer
    assert "37,50 Euro" in result.answer
    lines = answer_lines(result)
    assert 1 <= len(lines) <= 3
    by_number = {c.number: c for c in result.citations}
    for sentence, number in lines:
        # Every sentence occurs literally in the document its citation names.
        assert any(sentence in text for text in DOCS.values()), sentence
        assert number in by_number, f"[{number}] has no citation"
        assert sentence in DOCS[by_number[number].source]
    assert {c.source for c in result.citations} == {"reisepass.md"}
    assert all("Gebühren" in c.section for c in result.citations)
    assert result.model is None


def test_citation_names_file_and_section(assistant: Assistant) -> None:
    result = assistant.ask("Wie viel Hundesteuer zahlt man für jeden weiteren Hund?")

    assert result.mode == "extractive"
    assert "144 Euro" in result.answer
    cited = {n for _, n in answer_lines(result)}
    citations = [c for c in result.citations if c.number in cited]
    assert [c.source for c in citations] == ["hundesteuer.md"]
    assert "Steuersätze" in citations[0].section
    # The citation points at the passage the sentence was taken from.
    assert "144 Euro" in citations[0].snippet
    assert citations[0].chunk_id == result.retrieved[citations[0].number - 1]["chunk_id"]


def test_mode_label_and_notice_say_no_language_model(assistant: Assistant) -> None:
    result = assistant.ask("Wie melde ich Sperrmüll an?")

    assert result.mode == "extractive"
    assert result.mode_label == MODE_LABELS["extractive"]
    assert "Extraktiv" in result.mode_label and "ohne Sprachmodell" in result.mode_label
    assert "Kein Sprachmodell erreichbar" in result.notice
    assert answer_lines(result)[0][0] in DOCS["sperrmuell.txt"]


def test_stream_yields_answer_once_then_final(assistant: Assistant) -> None:
    events = list(assistant.stream("Wie melde ich Sperrmüll an?"))

    kinds = [e.kind for e in events]
    assert kinds[-1] == "final" and "reset" not in kinds
    final = events[-1].result
    assert final is not None
    assert "".join(e.text for e in events if e.kind == "delta").strip() == final.answer


def test_question_without_answer_in_corpus(assistant: Assistant, engine: Engine) -> None:
    result = assistant.ask("Wie beantrage ich einen Waffenschein?")

    assert result.no_answer is True
    assert result.mode == "keine_antwort"
    assert result.mode_label == MODE_LABELS["keine_antwort"]
    assert result.answer == NO_ANSWER_TEXT
    assert result.citations == []
    with engine.session() as session:
        row = session.get(MessageRow, result.message_id)
        assert row is not None and row.no_answer and row.mode == "keine_antwort"
        assert row.citations == []


def test_bot_configured_extractive_has_no_notice(engine: Engine, corpus: Path) -> None:
    assistant = make_bot(engine, corpus, llm={"provider": "extractive"})
    assert assistant.provider is None

    result = assistant.ask("Was kostet ein Reisepass?")

    assert result.mode == "extractive"
    assert "70,00 Euro" in result.answer
    assert result.notice == ""
    assert result.model is None


def test_english_question_is_detected(assistant: Assistant, engine: Engine) -> None:
    result = assistant.ask("How much does a passport cost in this town?")

    assert result.language == "en"
    with engine.session() as session:
        row = session.get(MessageRow, result.message_id)
        assert row is not None and row.language == "en"


def test_german_question_is_detected(assistant: Assistant) -> None:
    assert assistant.ask("Wie melde ich Sperrmüll an?").language == "de"


def test_timings_cover_every_step(assistant: Assistant) -> None:
    result = assistant.ask("Was kostet ein Reisepass?")

    assert result.mode == "extractive"
    assert REQUIRED_TIMINGS <= set(result.timings_ms)
    for name, value in result.timings_ms.items():
        assert isinstance(value, float) and value >= 0, (name, value)
    # The steps run one after another inside the measured total (rounding tolerance only).
    steps = ("sprache", "llm_verfuegbar", "suche", "bewertung", "antwort")
    assert sum(result.timings_ms.get(s, 0.0) for s in steps) <= result.timings_ms["gesamt"] + 0.1


def test_turn_is_logged_with_conversation(engine: Engine, corpus: Path) -> None:
    make_bot(engine, corpus)
    assistant = Assistant(engine, BOT, channel="public")

    result = assistant.ask("  Was kostet   ein Reisepass?  ")

    assert result.message_id is not None
    with engine.session() as session:
        row = session.get(MessageRow, result.message_id)
        assert row is not None
        assert row.question == "Was kostet ein Reisepass?"
        assert row.answer == result.answer and row.answer
        assert row.mode == "extractive"
        assert row.confidence == pytest.approx(result.confidence)
        assert row.no_answer is False
        assert row.language == "de"
        assert [c["number"] for c in row.citations] == [c.number for c in result.citations]
        assert [c["source"] for c in row.citations] == [c.source for c in result.citations]
        assert {"sprache", "suche", "bewertung", "antwort", "gesamt"} <= set(row.timings_ms)
        assert row.error == result.notice
        conversation = session.get(Conversation, result.conversation_id)
        assert conversation is not None
        assert conversation.channel == "public"
        assert conversation.synthetic is False
        assert row.handoff is False
        assert conversation.bot_version == result.bot_version == 1
        bot = session.scalar(select(Bot).where(Bot.slug == BOT))
        assert bot is not None and conversation.bot_id == bot.id
        assert [m.id for m in conversation.messages] == [result.message_id]


@pytest.mark.parametrize("channel", ["workspace", "public", "voice", "api", "cli"])
def test_every_channel_is_logged_as_such(engine: Engine, corpus: Path, channel: str) -> None:
    make_bot(engine, corpus)
    result = Assistant(engine, BOT, channel=channel).ask("Was kostet ein Reisepass?")
    with engine.session() as session:
        conversation = session.get(Conversation, result.conversation_id)
        assert conversation is not None and conversation.channel == channel


def test_an_unknown_channel_is_refused(engine: Engine, corpus: Path) -> None:
    make_bot(engine, corpus)
    with pytest.raises(ValueError, match="Unbekannter Kanal „fax“"):
        Assistant(engine, BOT, channel="fax")


def test_follow_up_uses_history_offline(assistant: Assistant, engine: Engine) -> None:
    first = assistant.ask("Was kostet ein Reisepass?")
    follow_up = assistant.ask("Und für Antragstellende unter 24 Jahren?",
                              conversation_id=first.conversation_id)

    assert first.search_query == "Was kostet ein Reisepass?"
    assert "Was kostet ein Reisepass?" in follow_up.search_query
    assert "unter 24 Jahren" in follow_up.search_query
    assert follow_up.conversation_id == first.conversation_id
    assert follow_up.mode == "extractive"
    assert "37,50 Euro" in follow_up.answer
    with engine.session() as session:
        count = session.scalar(
            select(func.count()).select_from(MessageRow)
            .where(MessageRow.conversation_id == first.conversation_id)
        )
        assert count == 2
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1


def test_new_conversation_has_no_history(assistant: Assistant) -> None:
    assistant.ask("Was kostet ein Reisepass?")
    other = assistant.ask("Wie melde ich Sperrmüll an?")

    assert other.search_query == "Wie melde ich Sperrmüll an?"


def test_second_follow_up_keeps_topic_offline(assistant: Assistant) -> None:
    first = assistant.ask("Was kostet ein Reisepass?")
    second = assistant.ask("Und für Antragstellende unter 24 Jahren?",
                           conversation_id=first.conversation_id)
    third = assistant.ask("Und wie lange dauert die Bearbeitung?",
                          conversation_id=second.conversation_id)

    assert "Reisepass" in third.search_query


def test_pinned_bot_version_is_used(engine: Engine, corpus: Path) -> None:
    make_bot(engine, corpus)  # version 1: server's LLM (down here)
    with engine.session() as session:
        repo = BotRepository(session, "standard")
        config, _ = repo.get(BOT)
        data = config.model_dump()
        data["llm"]["provider"] = "extractive"
        assert repo.save(BotConfig.model_validate(data)) == 2

    current = Assistant(engine, BOT).ask("Was kostet ein Reisepass?")
    pinned = Assistant(engine, BOT, version=1).ask("Was kostet ein Reisepass?")

    assert (current.bot_version, pinned.bot_version) == (2, 1)
    assert current.notice == ""
    assert "Kein Sprachmodell erreichbar" in pinned.notice


def test_term_statistics_belong_to_their_own_store(make_settings: Any, tmp_path: Path) -> None:
    slug = "statistik-bot"
    texts = {"a": "Die Hundesteuer beträgt 96 Euro im Jahr.",
             "b": "Sperrmüll wird zweimal im Jahr kostenlos abgeholt."}
    statistics = {}
    for name, text in texts.items():
        folder = tmp_path / f"unterlagen-{name}"
        folder.mkdir()
        (folder / "info.txt").write_text(text, encoding="utf-8")
        engine = Engine(make_settings(data_dir=tmp_path / f"data-{name}"))
        ensure_bot(engine, slug)
        Ingestor(engine, "standard", slug).ingest([folder])
        statistics[name] = term_statistics(engine, "standard", [slug])

    assert statistics["a"].frequency != statistics["b"].frequency
    assert stem("sperrmüll") in statistics["b"].frequency
