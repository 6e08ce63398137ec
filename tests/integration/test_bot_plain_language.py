"""The bot setting "Antwort in Einfacher Sprache": every German answer goes through
pipelines.plain.simplify – offline rule-based (and labelled so), the sources still listed."""

from __future__ import annotations

from pathlib import Path

from pipelines.engine import Engine
from pipelines.plain import check
from tests.support.corpus import bot_on_corpus

DOCS = {
    "hundesteuer.md": (
        "# Hundesteuer\n\nDie Hundesteuer von zweiundneunzig Euro ist jährlich bis zum "
        "15. Februar zu entrichten.\n"
    ),
}
BOT = "einfach-bot"
QUESTION = "Bis wann muss ich die Hundesteuer bezahlen?"


def test_the_bot_setting_simplifies_every_german_answer_offline(engine: Engine,
                                                                 corpus: Path) -> None:
    plain = bot_on_corpus(engine, corpus, BOT, plain_language=True)

    result = plain.ask(QUESTION)

    assert result.mode == "extractive" and result.plain_language
    assert "ohne Sprachmodell (regelbasiert" in result.notice
    # Officialese replaced, the number word as digits; the source is still cited.
    assert "entrichten" not in result.answer and "bezahlen" in result.answer
    assert "92 Euro" in result.answer
    assert [c.source for c in result.citations] == ["hundesteuer.md"]
    before = check("Die Hundesteuer von zweiundneunzig Euro ist jährlich bis zum 15. Februar "
                   "zu entrichten.", "einfach")
    after = check(result.answer, "einfach")
    assert sum(after.counts.values()) < sum(before.counts.values())


def test_without_the_setting_the_answer_is_left_as_the_sources_say_it(
        engine: Engine, corpus: Path) -> None:
    result = bot_on_corpus(engine, corpus, BOT).ask(QUESTION)

    assert not result.plain_language and "entrichten" in result.answer
