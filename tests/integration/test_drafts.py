"""Draft test items from documents: rules offline (FAQ questions, definitions, headings), the
language model through the stand-in server, drafts not run until accepted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluation.drafts import Passage, generate_drafts, rule_drafts
from evaluation.testset import create_testset, stored_items, update_item
from evaluation.testset import testset_items as active_items  # not collected as a test
from pipelines.engine import Engine
from pipelines.llm.providers import get_provider
from tests.support.corpus import bot_on_corpus
from tests.support.fake_llm_server import FakeLLMServer

DOCS = {
    "faq-buergerbuero.md": (
        "# Häufige Fragen\n\n## Termine\n\nBrauche ich einen Termin im Bürgerbüro? Ja, für "
        "Ausweise und Pässe vergeben wir Termine online. Kann ich ohne Termin kommen? Nur "
        "donnerstags von 14 bis 18 Uhr.\n"
    ),
    "wohngeld.md": (
        "# Wohngeld\n\n## Begriffe\n\nDas Wohngeld ist ein Zuschuss zur Miete für Haushalte mit "
        "geringem Einkommen. Als Haushaltsmitglied gilt, wer mit Ihnen dauerhaft zusammen "
        "wohnt.\n"
    ),
    "biotonne.md": "# Abfall\n\n## 3. Biotonne im Winter\n\nLegen Sie Zeitungspapier unten "
                   "in die Tonne, damit nichts festfriert.\n",
}
BOT = "entwurf-bot"
WS = "standard"


def test_rules_find_faq_questions_definitions_and_headings() -> None:
    faq = rule_drafts(Passage("faq.md", "Häufige Fragen › Termine", DOCS[
        "faq-buergerbuero.md"].split("\n\n", 2)[2]))
    definitions = rule_drafts(Passage("wohngeld.md", "Wohngeld › Begriffe",
                                      DOCS["wohngeld.md"].split("\n\n", 2)[2]))
    heading = rule_drafts(Passage("biotonne.md", "Abfall › 3. Biotonne im Winter",
                                  DOCS["biotonne.md"].split("\n\n", 2)[2]))

    assert [(d.question, d.expected_answer) for d in faq] == [
        ("Brauche ich einen Termin im Bürgerbüro?",
         "Ja, für Ausweise und Pässe vergeben wir Termine online."),
        ("Kann ich ohne Termin kommen?", "Nur donnerstags von 14 bis 18 Uhr.")]
    assert [d.question for d in definitions] == ["Was bedeutet „Wohngeld“?",
                                                 "Was bedeutet „Haushaltsmitglied“?"]
    assert [(d.question, d.expected_source) for d in heading] == [
        ("Was gilt für „Biotonne im Winter“?", "biotonne.md")]
    assert all(d.kind == "answerable" for d in faq + definitions + heading)


def test_drafts_from_documents_wait_for_acceptance(engine: Engine, corpus: Path) -> None:
    bot_on_corpus(engine, corpus, BOT)
    create_testset(engine, WS, "entwuerfe", bot_slug=BOT)

    report = generate_drafts(engine, WS, "entwuerfe", BOT, limit=10)

    drafts = stored_items(engine, WS, "entwuerfe")
    assert report.created == len(drafts) >= 5
    assert {d["status"] for d in drafts} == {"entwurf"}
    assert {d["origin"] for d in drafts} == {"entwurf_regeln"}
    assert {d["expected_source"] for d in drafts} == set(DOCS)
    assert active_items(engine, WS, "entwuerfe") == []
    update_item(engine, WS, "entwuerfe", drafts[0]["item_id"], status="aktiv")
    update_item(engine, WS, "entwuerfe", drafts[1]["item_id"], status="abgelehnt")
    assert [i.question for i in active_items(engine, WS, "entwuerfe")] == \
        [drafts[0]["question"]]
    # Asked again, the same questions are not drafted twice.
    again = generate_drafts(engine, WS, "entwuerfe", BOT, limit=10)
    assert again.created == 0 and again.duplicates == report.created


def test_the_language_model_writes_drafts_and_an_unreadable_reply_falls_back(
        llm_engine: Engine, corpus: Path, fake_llm: FakeLLMServer) -> None:
    bot_on_corpus(llm_engine, corpus, BOT)
    create_testset(llm_engine, WS, "llm")
    replies = iter(["F: Wie viel Miete zahlt das Amt dazu?\nA: Zuschuss zur Miete\n"
                    "F: Wer zählt zum Haushalt?\nA: wer dauerhaft mit Ihnen zusammen wohnt",
                    "Das weiß ich leider nicht."])

    def responder(messages: list[dict[str, Any]], model: str) -> str:
        return next(replies, "Keine Fragen.")

    fake_llm.responder = responder
    settings = llm_engine.settings
    provider = get_provider(settings, None, None, settings.llm_temperature)

    generate_drafts(llm_engine, WS, "llm", BOT, limit=4, provider=provider)

    drafts = stored_items(llm_engine, WS, "llm")
    by_llm = [d for d in drafts if d["origin"] == "entwurf_llm"]
    assert [d["question"] for d in by_llm] == ["Wie viel Miete zahlt das Amt dazu?",
                                               "Wer zählt zum Haushalt?"]
    assert any(d["origin"] == "entwurf_regeln" for d in drafts)  # the unreadable reply
    prompts = [r.body["messages"][0]["content"] for r in fake_llm.requests_to("/api/chat")]
    assert "Antworte genau in diesem Format" in prompts[0]
