"""Human handoff through the workspace (AppTest on the real engine: SQLite, LanceDB, the local
embedder, a real SMTP server on loopback): the chat offers the handoff, the citizen hands the
conversation over, the clerk answers in the Posteingang, the reply shows in the open chat and
goes by e-mail, and becomes a curated answer the bot then gives itself. Also: the audit trail,
closing erases the address, workspaces and roles keep tickets apart, bad input is refused."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.accounts import UserRepository
from pipelines.assistant import Assistant
from pipelines.bots import BotRepository
from pipelines.curated import list_curated
from pipelines.documents.ingest import Ingestor
from pipelines.engine import Engine
from pipelines.handoff import create_ticket, get_ticket, list_tickets
from pipelines.settings import REPO_ROOT, Settings, get_settings
from pipelines.store.db import get_engine
from tests.conftest import SAMPLE_BOT, SAMPLE_CORPUS, closed_port_url
from tests.support.chatlog import conversation, turn
from tests.support.smtp import SMTPTestServer
from tests.ui.conftest import sign_in, texts

APP = str(REPO_ROOT / "apps" / "workspace.py")
CHAT = str(REPO_ROOT / "pages" / "chat.py")
POSTEINGANG = str(REPO_ROOT / "pages" / "posteingang.py")
BOT = "musterstadt-buergerservice"
# Part of the Musterstadt sample: enough for the abfall questions, quick to ingest.
DOCS = ("abfall-sperrmuell.html", "abfall-biotonne.html", "hundesteuer-anmeldung.html",
        "faq-buergerbuero.md")
# About Sperrmüll (routes to the Abfallberatung), but the documents do not say it.
UNANSWERED = "Wie viele Säcke Sperrmüll darf ich an die Straße stellen, wenn ich umziehe?"
REWORDED = "Wie viele Sperrmüllsäcke darf ich beim Umzug an die Straße stellen?"
REPLY = ("Beim Umzug dürfen Sie bis zu fünf Säcke Sperrmüll zusätzlich an die Straße stellen; "
         "melden Sie sie bitte mit an.")
CITIZEN_MAIL = "erika.mustermann@example.org"
PASSWORD = "sehr-geheim-123"


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample bot (with its offices) on part of the Musterstadt corpus, ingested once."""
    root = tmp_path_factory.mktemp("musterstadt")
    settings = Settings(_env_file=None, data_dir=root / "data",  # type: ignore[call-arg]
                        ollama_host=closed_port_url())
    engine = Engine(settings)
    with engine.session() as session:
        config, _ = BotRepository(session, "standard").import_yaml(
            SAMPLE_BOT.read_text(encoding="utf-8"), note="Beispieldaten")
    folder = root / "unterlagen"
    folder.mkdir()
    for name in DOCS:
        shutil.copy(SAMPLE_CORPUS / name, folder / name)
    report = Ingestor(engine, "standard", config.effective_knowledge_bases()[0]).ingest([folder])
    assert report.count("neu") == len(DOCS), [r.reason for r in report.results]
    get_engine(settings.resolved_database_url).dispose()
    return root / "data"


@pytest.fixture
def engine(sample_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           smtp_server: SMTPTestServer) -> Iterator[Engine]:
    """The workspace's engine on a copy of the sample data, e-mail going to `smtp_server`."""
    data = tmp_path / "data"
    shutil.copytree(sample_data, data)
    monkeypatch.setenv("CHATWERKSTATT_DATA_DIR", str(data))
    monkeypatch.setenv("CHATWERKSTATT_OLLAMA_HOST", closed_port_url())
    monkeypatch.setenv("CHATWERKSTATT_LLM_PROBE_TIMEOUT", "0.5")
    monkeypatch.setenv("CHATWERKSTATT_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("CHATWERKSTATT_SMTP_PORT", str(smtp_server.port))
    get_settings.cache_clear()
    yield Engine(get_settings())
    get_settings.cache_clear()


def run(path: str, app: AppTest | None = None) -> AppTest:
    app = app or AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception, app.exception
    app.switch_page(path).run()
    assert not app.exception, app.exception
    return app


def click(app: AppTest, key: str) -> AppTest:
    app.button(key=key).click().run()
    assert not app.exception, app.exception
    return app


def ask(app: AppTest, question: str) -> AppTest:
    app.chat_input[0].set_value(question).run()
    assert not app.exception, app.exception
    return app


def hand_over(app: AppTest, email: str) -> AppTest:
    [field] = [t for t in app.text_input if str(t.key).startswith("handoff-email-")]
    field.set_value(email)
    [button] = [b for b in app.button if b.label == "An einen Menschen übergeben"]
    button.click().run()
    assert not app.exception, app.exception
    return app


def handed_over(engine: Engine, question: str = UNANSWERED, email: str | None = CITIZEN_MAIL
                ) -> int:
    """A conversation of the test chat handed to a person (what the chat page does)."""
    result = Assistant(engine, BOT, channel="workspace").ask(question)
    assert result.handoff, result
    return create_ticket(engine, "standard", result.conversation_id, email).ticket.id


def events(app: AppTest) -> list[tuple[str, str, str]]:
    trail = app.dataframe[-1].value  # the audit trail is the page's last table
    return list(zip(trail["Wer"], trail["Was"], trail["Details"], strict=True))


def test_handoff_from_the_chat_to_the_clerk_and_back(engine: Engine,
                                                     smtp_server: SMTPTestServer) -> None:
    # The citizen asks what the documents do not answer: the chat offers a person.
    chat = run(CHAT)
    ask(chat, UNANSWERED)
    assert "Möchten Sie, dass eine Mitarbeiterin oder ein Mitarbeiter" in texts(chat)
    assert "Keine verlässliche Antwort in den Unterlagen gefunden" in texts(chat)
    hand_over(chat, CITIZEN_MAIL)
    confirmation = " ".join(s.value for s in chat.success)
    assert "Übergeben als Anfrage Nr. 1." in confirmation
    assert "Abfallberatung" in confirmation and "Servicezeiten" in confirmation
    assert "Ihre Anfrage Nr. 1 an Abfallberatung: offen" in texts(chat)
    assert not [b for b in chat.button if b.label == "An einen Menschen übergeben"]

    [ticket] = list_tickets(engine, "standard")
    assert (ticket.office_key, ticket.reason, ticket.topic) == ("abfallberatung",
                                                                "keine_antwort", "Sperrmüll")
    assert ticket.has_contact and ticket.question == UNANSWERED
    [notice] = smtp_server.wait_for(1)
    assert notice["To"] == "abfall@musterstadt.example"
    assert "Neue Anfrage Nr. 1" in str(notice["Subject"])

    # The clerk sees it in the Posteingang, takes it over and replies.
    inbox = run(POSTEINGANG)
    assert inbox.title[0].value == "Posteingang"
    counts = {m.label: m.value for m in inbox.metric}
    assert counts == {"offen": "1", "in Bearbeitung": "0", "beantwortet": "0"}
    row = inbox.dataframe(key="inbox-table").value.iloc[0]
    assert (row["Nr."], row["Amt"], row["Thema"], row["Grund"], row["Status"],
            row["E-Mail hinterlegt"]) == (1, "Abfallberatung", "Sperrmüll", "keine gute Antwort",
                                          "offen", "ja")
    assert UNANSWERED in [m.value for m in inbox.markdown]  # question and transcript
    click(inbox, "inbox-claim")
    assert "Anfrage Nr. 1 übernommen." in texts(inbox)
    assert {m.label: m.value for m in inbox.metric}["in Bearbeitung"] == "1"
    inbox.text_area(key="inbox-reply-1").set_value(REPLY)
    click(inbox, "inbox-send")
    assert "ging per E-Mail an die hinterlegte Adresse" in " ".join(s.value for s in inbox.success)
    assert inbox.text_area(key="inbox-reply-1").value == ""
    # Answered tickets leave the default filter, but the one just answered stays open.
    assert inbox.selectbox(key="inbox-ticket").value == 1

    # The open chat shows the reply (the poll, or any rerun) ...
    chat.run()
    assert not chat.exception, chat.exception
    shown = texts(chat)
    assert "**Antwort der Verwaltung (Abfallberatung)**" in shown and REPLY in shown
    assert "Ihre Anfrage Nr. 1 an Abfallberatung: beantwortet" in shown
    # ... and the e-mail went to the citizen.
    mails = smtp_server.wait_for(2)
    [answer] = [m for m in mails if m["To"] == CITIZEN_MAIL]
    assert "Antwort auf Ihre Anfrage Nr. 1" in str(answer["Subject"])
    assert REPLY in answer.get_content()

    # The reply becomes a curated answer, with a second wording of the question ...
    inbox.text_area(key="inbox-curate-1").set_value(REWORDED + "\n\n")
    click(inbox, "inbox-curate")
    assert "Geprüfte Antwort Nr. 1 aus Anfrage Nr. 1 angelegt." in texts(inbox)
    assert "entstand schon die geprüfte Antwort Nr. 1" in texts(inbox)
    [curated] = list_curated(engine, "standard")
    assert (curated.questions, curated.answer, curated.ticket_id, curated.bot_slug) == (
        [UNANSWERED, REWORDED], REPLY, 1, BOT)

    # ... and the bot gives it itself when someone asks that way.
    fresh = run(CHAT)
    ask(fresh, REWORDED)
    shown = texts(fresh)
    assert "Geprüfte Antwort der Verwaltung" in shown
    assert REPLY in [m.value for m in fresh.markdown]
    assert not [b for b in fresh.button if b.label == "An einen Menschen übergeben"]


def test_the_audit_trail_names_who_did_what_and_closing_erases_the_address(
        engine: Engine) -> None:
    number = handed_over(engine)
    inbox = run(POSTEINGANG)
    click(inbox, "inbox-claim")
    inbox.text_area(key=f"inbox-reply-{number}").set_value("Bis zu fünf Säcke.")
    click(inbox, "inbox-send")
    inbox.text_input(key=f"inbox-close-note-{number}").set_value("erledigt")
    click(inbox, "inbox-close")
    assert "Anfrage Nr. 1 geschlossen. Die E-Mail-Adresse ist gelöscht." in texts(inbox)
    assert not get_ticket(engine, "standard", number).has_contact
    trail = events(inbox)
    assert trail[0][:2] == ("Bürger/in", "angelegt")
    assert ("Einzelplatz", "übernommen") in [t[:2] for t in trail]
    assert ("Einzelplatz", "beantwortet", "Bis zu fünf Säcke.") in trail
    assert ("System", "e-mail", "Antwort per E-Mail gesendet") in trail
    assert ("Einzelplatz", "geschlossen", "erledigt – E-Mail-Adresse gelöscht") in trail
    # Closed tickets leave the default filter; the one just closed stays open below.
    assert "Keine Anfragen mit diesen Filtern." in texts(inbox)
    assert inbox.selectbox(key="inbox-ticket").value == number
    assert "Keine E-Mail-Adresse hinterlegt" in texts(inbox)

    # Closed: no reply until reopened.
    assert inbox.button(key="inbox-send").disabled
    click(inbox, "inbox-reopen")
    assert "Anfrage Nr. 1 wieder geöffnet." in texts(inbox)
    assert get_ticket(engine, "standard", number).status == "in_bearbeitung"
    assert ("Einzelplatz", "wieder geöffnet") in [t[:2] for t in events(inbox)]


def test_filters_by_office_and_status(engine: Engine) -> None:
    handed_over(engine)  # Abfallberatung
    handed_over(engine, "Ich möchte bitte mit einem Menschen über meinen Reisepass sprechen",
                email=None)  # Bürgerbüro
    inbox = run(POSTEINGANG)
    assert list(inbox.dataframe(key="inbox-table").value["Amt"]) == ["Bürgerbüro",
                                                                    "Abfallberatung"]
    offices = inbox.multiselect(key="inbox-offices")
    assert set(offices.options) >= {"Bürgerbüro", "Abfallberatung", "Steueramt", "Standesamt"}
    offices.set_value(["buergerbuero"]).run()
    table = inbox.dataframe(key="inbox-table").value
    assert list(table["Amt"]) == ["Bürgerbüro"]
    assert list(table["Grund"]) == ["Wunsch nach einem Menschen"]
    assert list(table["E-Mail hinterlegt"]) == ["nein"]
    inbox.multiselect(key="inbox-statuses").set_value(["beantwortet"]).run()
    assert not inbox.exception, inbox.exception
    assert "Keine Anfragen mit diesen Filtern." in texts(inbox)


def test_an_empty_reply_is_refused(engine: Engine) -> None:
    number = handed_over(engine)
    inbox = run(POSTEINGANG)
    inbox.text_area(key=f"inbox-reply-{number}").set_value("   ")
    click(inbox, "inbox-send")
    assert [e.value for e in inbox.error] == ["Die Antwort ist leer."]
    assert get_ticket(engine, "standard", number).status == "offen"


def test_an_invalid_address_in_the_chat_creates_no_ticket(engine: Engine) -> None:
    chat = run(CHAT)
    ask(chat, UNANSWERED)
    hand_over(chat, "erika at example")
    [error] = [e.value for e in chat.error]
    assert "„erika at example“ ist keine gültige E-Mail-Adresse" in error
    assert list_tickets(engine, "standard") == []
    assert [b for b in chat.button if b.label == "An einen Menschen übergeben"]


def test_clerks_see_their_workspace_only_analysts_no_posteingang(
        engine: Engine, server_address: Callable[[str], None]) -> None:
    standard = handed_over(engine)
    conversation(engine, "jena", "jena-bot", "public", "jena-1")
    turn(engine, "jena-1", datetime.now(UTC), "Wann kommt die Biotonne?", "keine_antwort", 50,
         handoff=True, confidence=0.1)
    jena = create_ticket(engine, "jena", "jena-1").ticket.id
    server_address("0.0.0.0")
    with engine.session() as session:
        users = UserRepository(session)
        users.create_user("clara", PASSWORD, display_name="Clara Klee")
        users.grant("clara", "standard", "clerk")
        users.create_user("bernd", PASSWORD)
        users.grant("bernd", "jena", "clerk")
        users.create_user("anna", PASSWORD)
        users.grant("anna", "standard", "analyst")

    clara = run(POSTEINGANG, sign_in("clara", PASSWORD))
    assert list(clara.dataframe(key="inbox-table").value["Nr."]) == [standard]
    click(clara, "inbox-claim")
    assert ("Clara Klee (clara)", "übernommen") in [t[:2] for t in events(clara)]

    bernd = run(POSTEINGANG, sign_in("bernd", PASSWORD))
    assert list(bernd.dataframe(key="inbox-table").value["Nr."]) == [jena]
    assert {m.label: m.value for m in bernd.metric}["in Bearbeitung"] == "0"

    analyst = sign_in("anna", PASSWORD)
    # The analyst's navigation has no Posteingang page at all.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        analyst.switch_page(POSTEINGANG)
