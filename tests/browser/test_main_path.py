"""The main path in a real browser against a real server, as a member of staff walks it:
sign in, create a bot from a template, upload a PDF into its knowledge base, ask a question
whose answer is in the PDF and see the answer with its source.

The server listens on 0.0.0.0 (so it requires a login) and has no language model (an Ollama
address where nothing listens), so answers come in extractive mode. Screenshots of every step
and the browser console go to test-artifacts/browser/<test>/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from evaluation.browser import WorkspaceServer, engine_env, run_cli, wait_until_idle
from pipelines.settings import REPO_ROOT
from tests.browser.conftest import ARTIFACTS, WatchedPage

pytestmark = [pytest.mark.slow, pytest.mark.browser]

USERNAME = "tester"
PASSWORD = "Tester-im-Buergerbuero-1"
PDF = REPO_ROOT / "data" / "sample" / "musterstadt" / "merkblatt-reisepass.pdf"
BOT_NAME = "Reisepass-Lotse"
BOT_SLUG = "reisepass-lotse"  # what the page derives from the name when no short name is given
QUESTION = "Was kostet ein Reisepass für Personen ab 24 Jahren?"
# Slow steps on two cores: the first page builds the engine, the first upload loads the
# embedding model and the PDF reader, the first question loads the search index.
SLOW_STEP_MS = 180_000

PAGE_NAMES = ("Start", "Bots", "Dokumente", "Chat testen", "Geprüfte Antworten", "Protokoll",
              "Einstellungen")


@dataclass
class Server:
    url: str
    data_dir: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The workspace as `streamlit run` on every interface (login required) with one editor."""
    root = tmp_path_factory.mktemp("browser-main-path")
    data_dir = root / "data"
    cwd = root / "cwd"  # no .env or .streamlit/ of the developer's checkout
    cwd.mkdir()
    env = engine_env(data_dir)
    run_cli(["users", "add", USERNAME, "--workspace", "standard", "--role", "editor",
             "--name", "Test Redaktion", "--password-stdin"], env, stdin=PASSWORD + "\n",
            cwd=cwd)
    with WorkspaceServer(data_dir, ARTIFACTS / "server-main-path.log", address="0.0.0.0",
                         env=env, cwd=cwd) as running:
        yield Server(running.url, data_dir)


def main_area(page: Page) -> Locator:
    # The <main> element; its test id changes on pages with a chat input.
    return page.get_by_role("main")


def sidebar_nav(page: Page) -> Locator:
    return page.get_by_test_id("stSidebarNav")


def heading(page: Page, title: str) -> Locator:
    return main_area(page).get_by_role("heading", name=title, exact=True)


def sign_in(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Benutzername").fill(USERNAME)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(heading(page, "Start")).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)


def open_page(page: Page, title: str) -> None:
    """Through the sidebar, as a user does (a new address would start a new session)."""
    sidebar_nav(page).get_by_role("link", name=title, exact=True).click()
    expect(heading(page, title)).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)


def combobox(scope: Page | Locator, label: str) -> Locator:
    """A select box by its label; its input's value is the shown choice."""
    return scope.get_by_role("combobox", name=label, exact=True)


def choose(page: Page, selectbox: Locator, option: str) -> None:
    selectbox.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_until_idle(page)


def create_bot_from_template(watched: WatchedPage) -> None:
    page = watched.page
    open_page(page, "Bots")
    new_bot = main_area(page).get_by_test_id("stExpander").filter(
        has_text="Neuen Bot aus einer Vorlage anlegen")
    if new_bot.locator("details").get_attribute("open") is None:
        new_bot.locator("summary").click()
    choose(page, combobox(new_bot, "Vorlage"), "Bürgerservice")
    name = new_bot.get_by_role("textbox", name="Name des Bots", exact=True)
    expect(name).to_have_value("Digitaler Bürgerservice")  # the template's suggestion
    name.fill(BOT_NAME)
    watched.shot("bot-vorlage-gewaehlt")
    new_bot.get_by_role("button", name="Bot anlegen").click()

    expect(combobox(main_area(page), "Bot")).to_have_value(BOT_NAME, timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    expect(main_area(page).get_by_text(f"„{BOT_NAME}“ ist angelegt.")).to_be_visible()
    slug = main_area(page).get_by_role("textbox", name="Kurzname", exact=True)
    expect(slug).to_have_value(BOT_SLUG)
    watched.shot("bot-angelegt")


def upload_pdf_into_the_bots_knowledge_base(watched: WatchedPage) -> None:
    page = watched.page
    open_page(page, "Dokumente")
    main = main_area(page)
    kb_select = combobox(main, "Wissensbasis")
    # The bot was created without choosing a knowledge base: its own one is there already.
    expect(kb_select).to_have_value(f"{BOT_NAME} (0 Dok.)")
    watched.shot("wissensbasis")

    main.locator("input[type=file]").set_input_files(PDF)
    # The list of uploaded files shortens long names; the remove button has the whole one.
    expect(main.get_by_role("button", name=f"Remove {PDF.name}")).to_be_visible(
        timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    ingest = main.get_by_role("button", name="Einlesen")
    expect(ingest).to_be_enabled()
    watched.shot("pdf-hochgeladen")
    ingest.click()

    summary = main.get_by_test_id("stAlertContentSuccess")
    expect(summary).to_contain_text("1 neu, 0 aktualisiert, 0 unverändert, 0 fehlgeschlagen",
                                    timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    expect(kb_select).to_have_value(f"{BOT_NAME} (1 Dok.)")  # the count follows at once
    results = main.get_by_test_id("stDataFrame").first
    expect(results).to_contain_text(PDF.name)
    expect(results).to_contain_text("neu eingelesen")
    expect(main.get_by_role("heading", name="Dokumente in dieser Wissensbasis (1)")).to_be_visible()
    watched.shot("pdf-eingelesen")


def ask_and_see_the_answer_with_its_source(watched: WatchedPage) -> None:
    page = watched.page
    open_page(page, "Chat testen")
    main = main_area(page)
    expect(combobox(main, "Bot")).to_have_value(BOT_NAME)
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(QUESTION)
    watched.shot("frage")
    box.press("Enter")

    messages = main.get_by_test_id("stChatMessage")
    answer = messages.filter(has=page.get_by_text("Extraktiver Modus"))
    expect(answer).to_have_count(1, timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    expect(messages.filter(has_text=QUESTION)).to_have_count(1)
    expect(answer).to_contain_text("70,00 Euro")
    source = answer.get_by_test_id("stExpander").filter(
        has=page.locator("summary", has_text=re.compile(r"\[1\] ")))
    source.locator("summary").click()
    expect(source).to_contain_text(PDF.name)
    expect(source).to_contain_text("Reisepass")
    watched.shot("antwort-mit-quelle")


def test_sign_in_create_bot_upload_pdf_and_ask(server: Server, watched: WatchedPage) -> None:
    page = watched.page
    page.goto(server.url)
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible(timeout=SLOW_STEP_MS)
    watched.shot("anmelden")
    sign_in(page, server.url)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Angemeldet: Test Redaktion")
    watched.shot("start")

    create_bot_from_template(watched)
    upload_pdf_into_the_bots_knowledge_base(watched)
    ask_and_see_the_answer_with_its_source(watched)

    assert not watched.errors, "\n".join(watched.errors)


def test_without_login_only_the_login_page_is_shown(server: Server,
                                                    watched: WatchedPage) -> None:
    page = watched.page
    for path in ("", "bots", "dokumente", "chat", "einstellungen"):
        page.goto(f"{server.url}/{path}")
        expect(heading(page, "Anmelden")).to_be_visible(timeout=SLOW_STEP_MS)
        wait_until_idle(page)
        main = main_area(page)
        expect(main.get_by_label("Benutzername")).to_be_visible()
        expect(main.get_by_label("Passwort")).to_be_visible()
        for title in PAGE_NAMES:
            expect(page.get_by_role("link", name=title, exact=True)).to_have_count(0)
            expect(page.get_by_role("heading", name=title, exact=True)).to_have_count(0)
        expect(page.get_by_test_id("stSidebar")).to_have_count(0)
        expect(page.get_by_role("dialog")).to_have_count(0)  # no "Page not found"
        watched.shot(f"ohne-anmeldung-{path or 'start'}")

    page.get_by_label("Benutzername").fill(USERNAME)
    page.get_by_label("Passwort").fill("falsches-Passwort-123")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text(
        "Benutzername oder Passwort stimmen nicht")
    wait_until_idle(page)
    expect(heading(page, "Anmelden")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    watched.shot("falsches-passwort")

    assert not watched.errors, "\n".join(watched.errors)


def test_signing_in_at_a_page_address_opens_that_page(server: Server,
                                                      watched: WatchedPage) -> None:
    page = watched.page
    page.goto(f"{server.url}/einstellungen")
    expect(heading(page, "Anmelden")).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    page.get_by_label("Benutzername").fill(USERNAME)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()

    expect(heading(page, "Einstellungen")).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    expect(page).to_have_url(f"{server.url}/einstellungen")
    expect(heading(page, "Anmelden")).to_have_count(0)
    expect(sidebar_nav(page).get_by_role("link")).to_have_count(len(PAGE_NAMES))
    watched.shot("einstellungen-nach-anmeldung")

    assert not watched.errors, "\n".join(watched.errors)
