"""The human handoff in a real browser: in the test chat a question the sample bot cannot answer
well, the offer of a person, an e-mail address, the handover with its ticket number; then a
clerk answers the ticket (here: through the engine from the test process, the browser left
alone) and the reply shows up in the open chat by itself, through the chat's periodic look-up
(`st.fragment(run_every=...)`), without a click or a reload. The chat stays usable afterwards.

Single-user workspace on loopback (no login) on the sample data (`python -m pipelines sample`:
the Musterstadt bot with its offices and corpus), no language model (answers come in extractive
mode) and no SMTP server (the ticket is created all the same; no e-mail goes out).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from evaluation.browser import (
    WorkspaceServer,
    closed_port_url,
    engine_env,
    run_cli,
    wait_until_idle,
)
from pipelines import handoff
from pipelines.engine import Engine
from pipelines.settings import Settings
from pipelines.store.db import get_engine
from tests.browser.conftest import ARTIFACTS, WatchedPage

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# The first page builds the engine, the first question loads the search index (two cores).
SLOW_STEP_MS = 180_000
# The chat looks for replies every 10 s (pages/chat.py, REPLY_POLL_SECONDS); one look-up may
# have just passed when the reply is saved, plus the time the look-up itself takes.
REPLY_SHOWS_WITHIN_MS = 25_000
WORKSPACE = "standard"
# About Sperrmüll (the bot routes it to the Abfallberatung), but the documents do not say it
# (the same question as tests/ui/test_posteingang_page.py).
UNANSWERED = "Wie viele Säcke Sperrmüll darf ich an die Straße stellen, wenn ich umziehe?"
OFFICE = "Abfallberatung"
REPLY = ("Beim Umzug dürfen Sie bis zu fünf Säcke Sperrmüll zusätzlich an die Straße stellen; "
         "melden Sie sie bitte mit an.")
CLERK = "Sachbearbeitung Abfallberatung (Browsertest)"
# Without a language model a follow-up is searched together with the question before it, so the
# follow-up stays on the topic (a question about something else finds nothing good then).
FOLLOW_UP = "Wie melde ich Sperrmüll an?"
FOLLOW_UP_ANSWER = "Sperrmüll wird nur nach vorheriger Anmeldung abgeholt."
EMAIL_LABEL = "Ihre E-Mail-Adresse für die Antwort (freiwillig)"
HANDOFF_BUTTON = "An einen Menschen übergeben"


@dataclass
class Server:
    url: str
    data_dir: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Single-user workspace (loopback) on the sample bot and the Musterstadt corpus."""
    root = tmp_path_factory.mktemp("browser-handoff")
    data_dir = root / "data"
    cwd = root / "cwd"  # no .env or .streamlit/ of the developer's checkout
    cwd.mkdir()
    env = engine_env(data_dir)
    run_cli(["sample"], env, cwd=cwd)
    with WorkspaceServer(data_dir, ARTIFACTS / "server-handoff.log", env=env,
                         cwd=cwd) as running:
        yield Server(running.url, data_dir)


@pytest.fixture
def clerk_engine(server: Server) -> Iterator[Engine]:
    """The engine a clerk's Posteingang would use, from this process: the server's data folder
    and database (whatever CHATWERKSTATT_ settings this process has), no language model, no
    SMTP server, as for the server."""
    settings = Settings(_env_file=None, data_dir=server.data_dir,  # type: ignore[call-arg]
                        database_url=None, lancedb_uri=None, ollama_host=closed_port_url(),
                        llm_probe_timeout=0.5, smtp_host=None)
    yield Engine(settings)
    get_engine(settings.resolved_database_url).dispose()


def chat_box(page: Page) -> Locator:
    return page.get_by_test_id("stChatInputTextArea")


def test_clerk_reply_appears_in_the_open_chat_without_a_click(
        server: Server, clerk_engine: Engine, watched: WatchedPage) -> None:
    page = watched.page
    page.goto(f"{server.url}/chat")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="Chat testen", exact=True)).to_be_visible(
        timeout=SLOW_STEP_MS)
    expect(chat_box(page)).to_be_editable(timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    watched.shot("chat-leer")

    # A question the documents do not answer: the bot says so and offers a person.
    chat_box(page).fill(UNANSWERED)
    chat_box(page).press("Enter")
    messages = main.get_by_test_id("stChatMessage")
    questions = main.get_by_role("group", name="Chat message from user")
    offer = main.get_by_role("button", name=HANDOFF_BUTTON)
    expect(offer).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    expect(questions).to_have_text([UNANSWERED])
    # `has` is looked up inside each message, so from the page, not from <main>.
    answer = messages.filter(has=page.get_by_role("button", name=HANDOFF_BUTTON))
    expect(answer).to_contain_text("keine verlässliche Auskunft")
    expect(answer).to_contain_text("Möchten Sie, dass eine Mitarbeiterin oder ein Mitarbeiter")
    watched.shot("angebot")

    # No SMTP server is set up: no address is asked for, the reply comes into the chat.
    expect(answer.get_by_role("textbox", name=EMAIL_LABEL, exact=True)).to_have_count(0)
    expect(answer).to_contain_text("Die Antwort erscheint hier im Chat")
    offer.click()

    confirmation = main.get_by_test_id("stAlertContentSuccess").filter(
        has_text="Übergeben als Anfrage Nr.")
    expect(confirmation).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    shown = re.search(r"Übergeben als Anfrage Nr\. (\d+)\.", confirmation.inner_text())
    assert shown, confirmation.inner_text()
    number = int(shown.group(1))
    expect(confirmation).to_contain_text(f"Ihre Anfrage ist an „{OFFICE}“ übergeben.")
    expect(main.get_by_role("button", name=HANDOFF_BUTTON)).to_have_count(0)
    expect(main.get_by_role("textbox", name=EMAIL_LABEL, exact=True)).to_have_count(0)
    expect(main.get_by_test_id("stAlertContentError")).to_have_count(0)
    status = main.get_by_test_id("stCaptionContainer").filter(
        has_text=f"Ihre Anfrage Nr. {number} an {OFFICE}:")
    expect(status).to_have_text(f"Ihre Anfrage Nr. {number} an {OFFICE}: offen")
    watched.shot("uebergeben")

    tickets = handoff.list_tickets(clerk_engine, WORKSPACE)
    assert [(t.id, t.office_name, t.status, t.question, t.has_contact) for t in tickets] == [
        (number, OFFICE, "offen", UNANSWERED, False)]

    clerk_reply = messages.filter(has_text=f"Antwort der Verwaltung ({OFFICE})")
    expect(clerk_reply).to_have_count(0)
    # A mark in this document: still there afterwards, so the page was not loaded again.
    page.evaluate("() => { window.handoffTestMark = 'vor der Antwort'; }")

    # The clerk answers; the browser is left alone from here until the reply shows.
    outcome = handoff.reply(clerk_engine, WORKSPACE, number, REPLY, CLERK)
    replied = time.monotonic()
    assert outcome.ticket.status == "beantwortet"
    assert (outcome.mailed, outcome.mail_problem) == (False, "")  # no address, no mail tried

    expect(clerk_reply).to_be_visible(timeout=REPLY_SHOWS_WITHIN_MS)
    expect(clerk_reply).to_contain_text(REPLY)
    expect(clerk_reply).to_contain_text("beantwortet am")
    expect(status).to_have_text(f"Ihre Anfrage Nr. {number} an {OFFICE}: beantwortet",
                                timeout=REPLY_SHOWS_WITHIN_MS)
    waited = time.monotonic() - replied
    wait_until_idle(page)
    print(f"Antwort im Chat nach {waited:.1f} s")
    assert page.evaluate("() => window.handoffTestMark") == "vor der Antwort"
    expect(clerk_reply).to_have_count(1)
    expect(confirmation).to_be_visible()  # the rest of the chat stays as it was
    watched.shot("antwort-der-verwaltung")

    # The chat goes on: a follow-up gets its answer, the reply and the status stay.
    chat_box(page).fill(FOLLOW_UP)
    chat_box(page).press("Enter")
    follow_up = messages.filter(has_text=FOLLOW_UP_ANSWER)
    expect(follow_up).to_have_count(1, timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    expect(questions).to_have_text([UNANSWERED, FOLLOW_UP])
    expect(follow_up).to_contain_text("Extraktiver Modus")
    expect(clerk_reply).to_have_count(1)
    expect(clerk_reply).to_contain_text(REPLY)
    expect(status).to_have_text(f"Ihre Anfrage Nr. {number} an {OFFICE}: beantwortet")
    expect(confirmation).to_be_visible()
    expect(main.get_by_role("button", name=HANDOFF_BUTTON)).to_have_count(0)
    watched.shot("folgefrage")

    assert not watched.errors, "\n".join(watched.errors)
