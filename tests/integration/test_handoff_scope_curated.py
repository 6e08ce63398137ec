"""Issue 5 in the engine: the scope gate redirects, the bot offers a person in every promised
case, tickets are routed, answered, mailed and audited per workspace, and curated answers come
first. Real retrieval (LanceDB + local embedder), real SQLite, a real local SMTP server and the
stand-in Ollama server; no mocks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pipelines import curated, handoff
from pipelines.assistant import Assistant
from pipelines.bots import get_or_create_workspace
from pipelines.engine import Engine
from pipelines.settings import Settings
from pipelines.store.models import Message as MessageRow
from pipelines.store.models import Ticket
from tests.support.corpus import bot_on_corpus
from tests.support.fake_llm_server import FakeLLMServer

DOCS = {
    "sperrmuell.md": (
        "# Sperrmüll\n\n"
        "Sperrmüll melden Sie online über das Abfallportal an. Die Abholung ist zweimal im Jahr "
        "kostenlos. Stellen Sie die Gegenstände am Abholtag bis 6 Uhr an den Straßenrand.\n"
    ),
    "reisepass.md": (
        "# Reisepass\n\n"
        "Ein Reisepass kostet 70,00 Euro. Für Antragstellende unter 24 Jahren kostet er "
        "37,50 Euro. Die Bearbeitung dauert etwa drei bis vier Wochen.\n"
    ),
    "bauantrag.md": (
        "# Bauantrag\n\n"
        "Über Bauanträge entscheidet die Bauaufsicht des Landkreises. Die Bauberatung der Stadt "
        "hilft beim Ausfüllen. Der Antrag wird in dreifacher Ausfertigung eingereicht.\n"
    ),
}
BOT = "rathaus-uebergabe"
SCOPE = {
    "topics": ["Sperrmüll und Abfall", "Reisepass und Personalausweis", "Bauberatung"],
    "redirects": [
        {"name": "Jobcenter", "keywords": ["Bürgergeld", "Jobcenter"], "examples": [],
         "message": "Für das Bürgergeld ist das Jobcenter zuständig."},
        {"name": "Landkreis – Bauaufsicht", "keywords": ["Bauaufsicht", "Bearbeitungsstand"],
         "examples": ["Wie weit ist die Genehmigung meines Bauvorhabens?"],
         "message": "Dafür ist die Bauaufsicht des Landkreises zuständig."},
    ],
}
OFFICES = {"offices": [
    {"key": "buergerbuero", "name": "Bürgerbüro", "email": "buergerbuero@stadt.example",
     "hours": "Mo–Fr 8:00–16:00", "topics": ["Reisepass", "Ausweis"]},
    {"key": "abfallberatung", "name": "Abfallberatung", "email": "",
     "hours": "Mo–Do 8:00–16:00; Fr 8:00–12:00", "topics": ["Sperrmüll", "Abfall", "Tonne"]},
]}
LOW_CONFIDENCE = "Darf ich mein altes Sofa beim Sperrmüll neben die Mülltonne im Hof stellen?"


@pytest.fixture
def bot(engine: Engine, corpus: Path) -> Assistant:
    return bot_on_corpus(engine, corpus, BOT, scope=SCOPE, handoff=OFFICES)


def mail_engine(make_settings: Callable[..., Settings], smtp: Any, **extra: Any) -> Engine:
    return Engine(make_settings(smtp_host=smtp.host, smtp_port=smtp.port, **extra))


# --------------------------------------------------------------------------- scope gate


def test_out_of_scope_question_gets_the_redirect_not_a_guess(bot: Assistant) -> None:
    result = bot.ask("Wo beantrage ich Bürgergeld?")

    assert result.mode == "verweis"
    assert result.answer == "Für das Bürgergeld ist das Jobcenter zuständig."
    assert result.citations == [] and not result.handoff
    assert "Bürgergeld" in result.scope_note


def test_redirect_keywords_match_compound_parts(bot: Assistant) -> None:
    result = bot.ask("Wie ist der Bearbeitungsstand bei der Kreisbauaufsicht?")
    assert result.mode == "verweis" and "Bauaufsicht" in result.answer


def test_in_scope_question_is_answered_from_the_documents(bot: Assistant) -> None:
    result = bot.ask("Was kostet ein Reisepass?")
    assert result.mode == "extractive" and "70,00 Euro" in result.answer
    # "Bauantrag" alone is the city's matter (advice): no redirect keyword, answered.
    advice = bot.ask("Wer hilft beim Bauantrag?")
    assert advice.mode == "extractive" and "Bauberatung" in advice.answer


def test_question_outside_every_topic_gets_the_outside_message_and_the_offer(
        bot: Assistant) -> None:
    result = bot.ask("Hast du ein gutes Rezept für Apfelstrudel?")

    assert result.mode == "keine_antwort" and result.handoff
    assert result.handoff_reason == "zustaendigkeit"
    assert result.answer == bot.bot.scope.outside_message
    assert "Mitarbeiter" in result.handoff_offer


def test_example_question_catches_a_rewording_without_keyword(bot: Assistant) -> None:
    result = bot.ask("Wie weit ist die Genehmigung meines Bauvorhabens?")
    assert result.mode == "verweis" and "ähnlich" in result.scope_note


# --------------------------------------------------------------------------- offer


def test_no_good_answer_offers_a_person(bot: Assistant, engine: Engine) -> None:
    result = bot.ask(LOW_CONFIDENCE)

    assert result.no_answer and result.handoff and result.handoff_reason == "keine_antwort"
    with engine.session() as session:
        row = session.get(MessageRow, result.message_id)
        assert row is not None and row.handoff and row.handoff_reason == "keine_antwort"


@pytest.mark.parametrize(("question", "language"), [
    ("Ich möchte mit einem Menschen sprechen", "de"),
    ("Kann ich bitte mit einem Mitarbeiter sprechen?", "de"),
    ("I want to talk to a real person, please", "en"),
    ("Can I speak to a human?", "en"),
    ("Я хочу поговорити з людиною", "uk"),
    ("Можна поговорити з оператором?", "uk"),
])
def test_asking_for_a_person_in_several_languages(bot: Assistant, question: str,
                                                 language: str) -> None:
    result = bot.ask(question)

    assert result.mode == "mensch" and result.handoff and result.handoff_reason == "mensch"
    assert result.handoff_offer == handoff.offer_text(language)
    assert result.retrieved == []  # no search for a request for a person


def test_handoff_can_be_switched_off(engine: Engine, corpus: Path) -> None:
    assistant = bot_on_corpus(engine, corpus, BOT, scope=SCOPE,
                              handoff={**OFFICES, "enabled": False})
    assert not assistant.ask(LOW_CONFIDENCE).handoff
    assert assistant.ask("Ich möchte mit einem Menschen sprechen").mode != "mensch"


def test_llm_failure_offers_a_person(make_settings: Callable[..., Settings], corpus: Path,
                                     fake_llm: FakeLLMServer) -> None:
    engine = Engine(make_settings(ollama_host=fake_llm.url, ollama_model=fake_llm.models[0]))
    assistant = bot_on_corpus(engine, corpus, BOT, scope=SCOPE, handoff=OFFICES)
    fake_llm.set_faults(fail_status=500)

    result = assistant.ask("Was kostet ein Reisepass?")

    assert result.mode == "extractive" and "70,00 Euro" in result.answer
    assert result.handoff and result.handoff_reason == "llm_fehler"


# --------------------------------------------------------------------------- tickets


def test_ticket_is_routed_by_topic_with_the_redacted_transcript(
        make_settings: Callable[..., Settings], corpus: Path, smtp_server: Any) -> None:
    engine = mail_engine(make_settings, smtp_server)
    assistant = bot_on_corpus(engine, corpus, BOT, scope=SCOPE, handoff=OFFICES)
    first = assistant.ask("Was kostet ein Reisepass? Ich bin Max, max.muster@example.org")
    offer = assistant.ask("Ich möchte mit einem Menschen sprechen", first.conversation_id)

    created = handoff.create_ticket(engine, "standard", offer.conversation_id,
                                    contact_email="buerger@example.org")

    ticket = created.ticket
    assert (ticket.office_key, ticket.topic, ticket.reason) == ("buergerbuero", "Reisepass",
                                                                 "mensch")
    assert ticket.status == "offen" and ticket.has_contact and ticket.language == "de"
    assert len(ticket.transcript) == 2
    assert "max.muster@example.org" not in str(ticket.transcript)  # redacted copy of the log
    assert "Bürgerbüro" in created.message
    # The office heard of it by e-mail (its address is in the routing rules).
    [notice] = smtp_server.wait_for(1)
    assert notice["To"] == "buergerbuero@stadt.example" and str(ticket.id) in notice["Subject"]
    # A second click does not open a second ticket.
    again = handoff.create_ticket(engine, "standard", offer.conversation_id)
    assert again.ticket.id == ticket.id


def test_ticket_without_matching_topic_goes_to_the_first_office(bot: Assistant,
                                                                engine: Engine) -> None:
    result = bot.ask("Ich möchte mit einem Menschen sprechen")
    ticket = handoff.create_ticket(engine, "standard", result.conversation_id).ticket
    assert ticket.office_key == "buergerbuero" and ticket.topic == ""


@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), "noch während der Servicezeiten"),
    (datetime(2026, 11, 27, 13, 30, tzinfo=UTC), "ab Montag, 30.11., 8:00 Uhr"),
])
def test_citizen_is_told_when_to_expect_the_reply(bot: Assistant, engine: Engine,
                                                  now: datetime, expected: str) -> None:
    result = bot.ask(LOW_CONFIDENCE)  # routed to Abfallberatung: Fr only until 12:00
    created = handoff.create_ticket(engine, "standard", result.conversation_id, now=now)
    assert created.ticket.office_key == "abfallberatung"
    assert expected in created.message


def test_clerk_claims_replies_closes_with_audit_trail_and_mail(
        make_settings: Callable[..., Settings], corpus: Path, smtp_server: Any) -> None:
    engine = mail_engine(make_settings, smtp_server)
    assistant = bot_on_corpus(engine, corpus, BOT, scope=SCOPE, handoff=OFFICES)
    result = assistant.ask(LOW_CONFIDENCE)
    ticket = handoff.create_ticket(engine, "standard", result.conversation_id,
                                   contact_email="buerger@example.org").ticket

    handoff.claim(engine, "standard", ticket.id, "a.schmidt")
    outcome = handoff.reply(engine, "standard", ticket.id,
                            "Ja, neben der Tonne ist es erlaubt, aber nicht vor 18 Uhr.",
                            "a.schmidt")

    assert outcome.mailed and outcome.ticket.status == "beantwortet"
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "buerger@example.org"
    assert "nicht vor 18 Uhr" in mail.get_content() and "Abfallberatung" in mail["Subject"]
    # The reply reaches the still-open chat.
    [shown] = handoff.replies_for(engine, result.conversation_id)
    assert shown.text.startswith("Ja, neben der Tonne") and shown.office_name == "Abfallberatung"

    closed = handoff.close(engine, "standard", ticket.id, "b.meyer", "erledigt")
    assert closed.status == "geschlossen" and not closed.has_contact
    with engine.session() as session:
        assert session.get(Ticket, ticket.id).contact_email is None  # type: ignore[union-attr]
    trail = [(e.actor, e.action) for e in handoff.get_ticket(engine, "standard", ticket.id).events]
    assert trail == [("Bürger/in", "angelegt"), ("a.schmidt", "übernommen"),
                     ("a.schmidt", "beantwortet"), ("System", "e-mail"),
                     ("b.meyer", "geschlossen")]
    with pytest.raises(handoff.TicketError, match="geschlossen"):
        handoff.reply(engine, "standard", ticket.id, "Nachtrag", "a.schmidt")


def test_failed_mail_is_reported_and_the_reply_still_shows_in_the_chat(
        make_settings: Callable[..., Settings], corpus: Path) -> None:
    from tests.conftest import closed_port_url

    port = int(closed_port_url().rsplit(":", 1)[1])
    engine = Engine(make_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=2))
    assistant = bot_on_corpus(engine, corpus, BOT, scope=SCOPE, handoff=OFFICES)
    result = assistant.ask(LOW_CONFIDENCE)
    ticket = handoff.create_ticket(engine, "standard", result.conversation_id,
                                   contact_email="buerger@example.org").ticket

    outcome = handoff.reply(engine, "standard", ticket.id, "Antwort", "a.schmidt")

    assert not outcome.mailed and "buerger@example.org" in outcome.mail_problem
    assert outcome.ticket.events[-1].action == "e-mail-fehler"
    assert handoff.replies_for(engine, result.conversation_id)[0].text == "Antwort"


@pytest.mark.parametrize("bad", ["keine-adresse", "a@b.de\nBcc: x@y.de", "a b@c.de"])
def test_invalid_contact_is_refused_and_no_ticket_created(bot: Assistant, engine: Engine,
                                                          bad: str) -> None:
    result = bot.ask(LOW_CONFIDENCE)
    with pytest.raises(handoff.TicketError, match="keine gültige E-Mail-Adresse"):
        handoff.create_ticket(engine, "standard", result.conversation_id, contact_email=bad)
    assert handoff.list_tickets(engine, "standard") == []


def test_empty_or_huge_reply_is_refused(bot: Assistant, engine: Engine) -> None:
    result = bot.ask(LOW_CONFIDENCE)
    ticket = handoff.create_ticket(engine, "standard", result.conversation_id).ticket
    with pytest.raises(handoff.TicketError, match="leer"):
        handoff.reply(engine, "standard", ticket.id, "   ", "a")
    with pytest.raises(handoff.TicketError, match="zu lang"):
        handoff.reply(engine, "standard", ticket.id, "x" * 10_001, "a")
    assert handoff.get_ticket(engine, "standard", ticket.id).status == "offen"


def test_ticket_of_workspace_a_is_invisible_in_workspace_b(engine: Engine, corpus: Path
                                                           ) -> None:
    assistant = bot_on_corpus(engine, corpus, BOT, scope=SCOPE, handoff=OFFICES)
    result = assistant.ask(LOW_CONFIDENCE)
    ticket = handoff.create_ticket(engine, "standard", result.conversation_id).ticket
    with engine.session() as session:  # workspace "jena" exists too, with nothing in it
        get_or_create_workspace(session, "jena")

    assert [t.id for t in handoff.list_tickets(engine, "standard")] == [ticket.id]
    assert handoff.list_tickets(engine, "jena") == []
    for action in (lambda: handoff.get_ticket(engine, "jena", ticket.id),
                   lambda: handoff.claim(engine, "jena", ticket.id, "x"),
                   lambda: handoff.reply(engine, "jena", ticket.id, "x", "x"),
                   lambda: handoff.close(engine, "jena", ticket.id, "x"),
                   lambda: handoff.create_ticket(engine, "jena", result.conversation_id)):
        with pytest.raises(handoff.TicketError, match="jena"):
            action()
    assert handoff.get_ticket(engine, "standard", ticket.id).status == "offen"


# --------------------------------------------------------------------------- curated answers


def test_reply_becomes_a_curated_answer_that_serves_a_reworded_question(
        bot: Assistant, engine: Engine) -> None:
    result = bot.ask("Nimmt der Wertstoffhof an Feiertagen Sperrmüll an?")
    ticket = handoff.create_ticket(engine, "standard", result.conversation_id).ticket
    handoff.reply(engine, "standard", ticket.id,
                  "An gesetzlichen Feiertagen ist der Wertstoffhof geschlossen.", "a.schmidt")
    curated_id = curated.from_ticket(engine, "standard", ticket.id, "a.schmidt")

    again = bot.ask("Hat der Wertstoffhof an Feiertagen für Sperrmüll geöffnet?")

    assert again.mode == "kuratiert" and again.curated_answer_id == curated_id
    assert again.answer == "An gesetzlichen Feiertagen ist der Wertstoffhof geschlossen."
    assert not again.handoff and again.retrieved == []
    assert curated.get_curated(engine, "standard", curated_id).hits == 1
    with engine.session() as session:
        row = session.scalar(select(MessageRow).where(MessageRow.id == again.message_id))
        assert row is not None and row.curated_answer_id == curated_id
    # An unrelated question is not hijacked by it.
    assert bot.ask("Was kostet ein Reisepass?").mode == "extractive"


def test_disabled_curated_answer_is_not_served(bot: Assistant, engine: Engine) -> None:
    answer_id = curated.save_curated(engine, "standard", ["Wann ist der Wertstoffhof offen?"],
                                     "Di–Fr 10–18 Uhr, Sa 8–14 Uhr.", source="wertstoffhof.html")
    served = bot.ask("Wann hat der Wertstoffhof offen?")
    assert served.mode == "kuratiert"
    assert [c.source for c in served.citations] == ["wertstoffhof.html"]

    curated.set_enabled(engine, "standard", answer_id, False)

    assert bot.ask("Wann hat der Wertstoffhof offen?").mode != "kuratiert"


def test_curated_answer_for_another_bot_or_workspace_is_not_served(bot: Assistant,
                                                                  engine: Engine) -> None:
    curated.save_curated(engine, "jena", ["Wann ist der Wertstoffhof offen?"], "Jena: 9–17 Uhr.")
    assert bot.ask("Wann ist der Wertstoffhof offen?").mode != "kuratiert"
    with pytest.raises(curated.CuratedError, match="Bot „anderer-bot“"):
        curated.save_curated(engine, "standard", ["x?"], "y", bot_slug="anderer-bot")


def test_curated_threshold_separates_rewordings_from_other_questions(engine: Engine) -> None:
    """The default threshold on hand-made pairs: rewordings above, different questions on the
    same words below."""
    from pipelines.bots import CuratedSettings

    threshold = CuratedSettings().threshold
    pairs = [
        ("Hat der Wertstoffhof an Feiertagen geöffnet?",
         "Ist der Wertstoffhof an Feiertagen offen?", True),
        ("Kann ich am Samstag Sperrmüll zum Wertstoffhof bringen?",
         "Nimmt der Wertstoffhof samstags Sperrmüll an?", True),
        ("Gibt es einen Parkausweis für Handwerker?", "Bekommen Handwerker einen Parkausweis?",
         True),
        ("Wann ist das Bürgerbüro am Samstag geöffnet?", "Hat das Bürgerbüro samstags auf?", True),
        ("Hat der Wertstoffhof an Feiertagen geöffnet?", "Was kostet ein Personalausweis?", False),
        ("Hat der Wertstoffhof an Feiertagen geöffnet?",
         "Was kostet die Entsorgung von Bauschutt am Wertstoffhof?", False),
        ("Gibt es einen Parkausweis für Handwerker?", "Was kostet der Bewohnerparkausweis?",
         False),
        ("Wann ist das Bürgerbüro am Samstag geöffnet?",
         "Wann ist der Wertstoffhof am Samstag geöffnet?", False),
        ("Der Sperrmüll wurde nicht abgeholt, was nun?",
         "Mein Sperrmüll wurde heute nicht abgeholt", True),
        ("Wie lege ich Widerspruch gegen den Grundsteuerbescheid ein?",
         "Widerspruch Grundsteuerbescheid wie?", True),
        ("Der Sperrmüll wurde nicht abgeholt, was nun?",
         "Bis wann muss der Sperrmüll draußen stehen?", False),
        ("Der Sperrmüll wurde nicht abgeholt, was nun?", "Wie melde ich Sperrmüll an?", False),
        ("Wie lege ich Widerspruch gegen den Grundsteuerbescheid ein?",
         "Warum ist mein Grundsteuerbescheid so hoch?", False),
        ("Wo darf ich E-Scooter abstellen?", "Wo darf ich parken?", False),
        # Synonyms (pipelines/resources/synonyms_de.yaml) carry rewordings with other words.
        ("Was kostet ein Personalausweis?", "Wie teuer ist der Personalausweis?", True),
        ("Was kostet ein Personalausweis?", "Was muss ich für einen Personalausweis bezahlen?",
         True),
        ("Was kostet ein Personalausweis?", "Was kostet ein Reisepass?", False),
        ("Was kostet ein Personalausweis?", "Wie lange dauert ein Personalausweis?", False),
    ]
    now = datetime.now(UTC)
    for stored, asked, same in pairs:
        candidate = curated.CuratedInfo(1, None, [stored], "A", "", True, 0, None, "", now, now)
        found = curated.best_match(engine.embedder, asked, [candidate])
        assert found is not None
        assert (found.score >= threshold) is same, (stored, asked, found)


# --------------------------------------------------------------------------- with a language model


def judge_replying(verdict: str) -> Any:
    """A stand-in model that answers the curated-answer check with `verdict` and every other
    request as the usual echo of the sources."""
    from tests.support.fake_llm_server import message_text, rag_echo_responder

    def respond(messages: list[dict[str, Any]], model: str) -> str:
        if "Gespeicherte Frage:" in message_text(messages[-1]):
            return verdict
        return rag_echo_responder(messages, model)

    return respond


@pytest.mark.parametrize(("asked", "verdict", "served"), [
    # Above the threshold, but the model sees a different question: not served.
    ("Wann hat der Wertstoffhof offen?", "Nein.", False),
    ("Wann hat der Wertstoffhof offen?", "Ja", True),
    # Below the threshold, above the candidate floor: served only because the model confirms.
    ("Wertstoffhof Zeiten", "ja", True),
    ("Wertstoffhof Zeiten", "nein", False),
])
def test_language_model_confirms_or_vetoes_a_curated_answer(
        make_settings: Callable[..., Settings], corpus: Path, fake_llm: FakeLLMServer,
        asked: str, verdict: str, served: bool) -> None:
    engine = Engine(make_settings(ollama_host=fake_llm.url, ollama_model=fake_llm.models[0]))
    assistant = bot_on_corpus(engine, corpus, BOT, scope=SCOPE, handoff=OFFICES)
    curated.save_curated(engine, "standard", ["Wann ist der Wertstoffhof offen?"],
                         "Di–Fr 10–18 Uhr, Sa 8–14 Uhr.")
    candidate = curated.best_match(engine.embedder, asked,
                                   curated.list_curated(engine, "standard"))
    assert candidate is not None and candidate.score >= curated.LLM_CANDIDATE_FLOOR
    fake_llm.responder = judge_replying(verdict)

    result = assistant.ask(asked)

    assert (result.mode == "kuratiert") is served
    checks = [r for r in fake_llm.requests_to("/api/chat", "POST")
              if "Gespeicherte Frage: Wann ist der Wertstoffhof offen?" in str(r.body)]
    assert len(checks) == 1 and asked in str(checks[0].body)
    if served:
        assert result.notice == "Geprüfte Antwort zur Frage „Wann ist der Wertstoffhof offen?“."


def test_failing_model_leaves_the_decision_to_the_threshold(
        make_settings: Callable[..., Settings], corpus: Path, fake_llm: FakeLLMServer) -> None:
    engine = Engine(make_settings(ollama_host=fake_llm.url, ollama_model=fake_llm.models[0]))
    assistant = bot_on_corpus(engine, corpus, BOT, scope=SCOPE, handoff=OFFICES)
    curated.save_curated(engine, "standard", ["Wann ist der Wertstoffhof offen?"], "Di–Fr.")
    fake_llm.responder = judge_replying("vielleicht")  # neither yes nor no

    assert assistant.ask("Wann hat der Wertstoffhof offen?").mode == "kuratiert"
    assert assistant.ask("Wertstoffhof Zeiten").mode != "kuratiert"


def test_redirect_keyword_in_a_question_about_an_own_topic_is_answered_from_the_documents(
        bot: Assistant) -> None:
    """"Jobcenter" names another office, "Reisepass" one of the bot's topics, and the documents
    answer it: no redirect. Without a good answer the redirect stands."""
    answered = bot.ask("Das Jobcenter will meinen Reisepass sehen, was kostet ein Reisepass?")
    assert answered.mode == "extractive" and "70,00 Euro" in answered.answer
    assert "Jobcenter" in answered.scope_note and "Reisepass" in answered.scope_note

    unanswered = bot.ask("Zahlt das Jobcenter die Gebühr für den Reisepass?")
    assert unanswered.mode == "verweis" and "Jobcenter" in unanswered.answer
    assert not unanswered.handoff
