"""The public chat (`python -m apps.public_chat`) in a real browser, as a citizen meets it.

One server for the module, started as an operator starts it, on a data folder built once with
`python -m pipelines sample` (the published bot `musterstadt-buergerservice` in workspace
`standard`) plus one hostile HTML document; answers come in extractive mode (no language
model). A second server on a copy of that folder has tight limits (3 questions per conversation
and minute, 200 characters per question) and an SMTP server, for the rate limit, the length
limit and the handoff with an e-mail address.

Covered: the widget on the demo host page answering with sources that open; ratings of answers
(and none of the greeting); the handoff to a person with the clerk's reply arriving in the open
chat; axe-core at phone and desktop size; keyboard only; script in questions, documents and
clerks' replies staying text; unpublished bots unreachable; the limits. The test process reads
and writes the server's database like the workspace does (a clerk answering a ticket, an editor
taking a bot offline). Screenshots go to test-artifacts/browser/<test>/.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Dialog, Frame, FrameLocator, Locator, Page, ViewportSize, expect
from sqlalchemy import select

from evaluation.bench_public_chat import PublicChatServer
from evaluation.browser import engine_env, run_cli
from pipelines import handoff
from pipelines.bots import BotRepository, parse_bot_yaml
from pipelines.engine import Engine
from pipelines.public import PUBLISHED_CACHE_SECONDS
from pipelines.settings import REPO_ROOT, Settings
from pipelines.store.db import get_engine
from pipelines.store.models import Conversation, Feedback, Message
from tests.browser.conftest import ARTIFACTS, WatchedPage
from tests.support.axe import axe_missing_reason, describe, run_axe, serious_violations
from tests.support.smtp import SMTPTestServer, running_smtp_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

WORKSPACE = "standard"
BOT = "musterstadt-buergerservice"
CHAT_PATH = f"/w/{WORKSPACE}/{BOT}/"
HOST_PAGE = "/demo/musterstadt"
WIDGET_TITLE = "Digitaler Bürgerservice"
SAMPLE_BOT_FILE = REPO_ROOT / "data" / "sample" / "bots" / f"{BOT}.yaml"
PHONE = ViewportSize(width=375, height=667)
DESKTOP = ViewportSize(width=1280, height=900)
# The first question of a server loads the embedding model and the search index (two cores).
SLOW_STEP_MS = 180_000
# The open chat looks for clerks' replies every 10 s (apps/public_chat.py REPLY_POLL_SECONDS).
REPLY_SHOWS_WITHIN_MS = 15_000
MAX_TABS = 40

GREETING = "Guten Tag! Ich bin der digitale Bürgerservice der Stadt Musterstadt."
PASSPORT = "Was kostet ein Reisepass?"
HANDOFF_QUESTION = "Ich möchte mit einem Menschen sprechen"
HANDOFF_BUTTON = "Ja, an einen Menschen übergeben"
EMAIL_LABEL = "E-Mail-Adresse für die Antwort (freiwillig)"
CLERK = "Sachbearbeitung Bürgerbüro (Browsertest)"
RATE_LIMITED = re.compile(r"Sie haben in kurzer Zeit sehr viele Fragen gestellt\. Bitte warten "
                          r"Sie \d+ Sekunden, dann geht es weiter\.")
# Gradio labels the rating buttons in the browser's language; after a click "Liked"/"Disliked".
LIKE = re.compile(r"^(Gefällt mir|Like|Liked)$")
DISLIKE = re.compile(r"^(Gefällt mir nicht|Dislike|Disliked)$")
SOURCE_LINK = re.compile(rf"^{re.escape(CHAT_PATH)}quelle/(\d+)/(\d+)$")
NOT_PUBLISHED = "gibt es keinen öffentlichen Assistenten"

# Script in what a citizen types: each would set window.__xss if the chat ran it.
HOSTILE_QUESTIONS = (
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=2</script>",
    "[klick](javascript:window.__xss=3)",
    '"><svg onload=window.__xss=4>',
)
# A web page of the town that quotes markup as text (as a page about HTML would): the text of
# the document, as the reader extracts it, holds tags and a javascript: link.
HOSTILE_FILE = "schwimmbad-nordbad.html"
HOSTILE_HTML = """<!doctype html>
<html lang="de"><head><meta charset="utf-8">
<title>Schwimmbad Nordbad &lt;img src=x onerror="window.__xss=7"&gt;</title></head>
<body><main>
<h1>Öffnungszeiten Schwimmbad Nordbad</h1>
<p>Öffnungszeiten Schwimmbad: &lt;img src=x onerror="window.__xss=5"&gt;
[mehr](javascript:window.__xss=6)
Das Schwimmbad Nordbad hat montags bis freitags von 7 bis 20 Uhr geöffnet.</p>
<p>Die Öffnungszeiten im Schwimmbad Nordbad gelten auch in den Ferien:
&lt;script&gt;window.__xss=8&lt;/script&gt; Samstags ist das Schwimmbad Nordbad von 9 bis 14 Uhr
geöffnet.</p>
</main></body></html>
"""
HOSTILE_DOC_QUESTION = "Öffnungszeiten Schwimmbad"
HOSTILE_DOC_TEXT = ('<img src=x onerror="window.__xss=5">', "[mehr](javascript:window.__xss=6)",
                    "<script>window.__xss=8</script>")
HOSTILE_TITLE = 'Schwimmbad Nordbad <img src=x onerror="window.__xss=7">'

# Records every text the newest assistant message shows, to see the answer arrive in steps.
RECORD_ANSWER_STATES_JS = """() => {
    window.__cwStates = [];
    const chat = document.querySelector('.cw-chat');
    const record = () => {
        const bots = chat.querySelectorAll('[data-testid="bot"]');
        const text = bots.length ? bots[bots.length - 1].innerText : '';
        const states = window.__cwStates;
        if (states[states.length - 1] !== text) { states.push(text); }
    };
    new MutationObserver(record).observe(chat, {subtree: true, childList: true,
                                                characterData: true});
}"""
# What would show that the chat turned text into markup: elements a message must not contain
# and attributes or links no element of the page may have.
INJECTED_MARKUP_JS = """() => {
    const found = [];
    for (const el of document.querySelectorAll('[onerror], [onload], [onclick]')) {
        found.push(el.outerHTML.slice(0, 120));
    }
    for (const el of document.querySelectorAll('a[href]')) {
        if (/^\\s*(javascript|data|vbscript):/i.test(el.getAttribute('href'))) {
            found.push(el.outerHTML.slice(0, 120));
        }
    }
    for (const el of document.querySelectorAll(
            '.message-content img, .message-content svg, .message-content script, '
            + '.message-content iframe, #cw-live img, #cw-live a, #cw-live script')) {
        found.push(el.outerHTML.slice(0, 120));
    }
    return found;
}"""


@dataclass(frozen=True)
class SampleData:
    cwd: Path  # where the processes run: no .env of the developer's checkout
    main: Path  # data folder of the main server
    limits: Path  # a copy, for the server with tight limits


@dataclass(frozen=True)
class Running:
    url: str
    data_dir: Path
    # The server's database as the workspace sees it (clerks, editors), from this process.
    store: Engine
    smtp: SMTPTestServer | None = None


def server_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    return engine_env(data_dir, {"CHATWERKSTATT_LLM_PROVIDER": "extractive", "NO_PROXY":
                                 "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
                                 **(extra or {})})


def warm_up(url: str) -> None:
    """One question through the API (its own conversation, channel "api"), so that the model
    and the index are loaded before the first test measures or counts anything."""
    response = httpx.post(f"{url}/api/w/{WORKSPACE}/{BOT}/chat", json={"question": PASSPORT},
                          timeout=SLOW_STEP_MS / 1000, trust_env=False)
    assert response.status_code == 200, response.text


def store_engine(data_dir: Path, smtp: SMTPTestServer | None = None) -> Engine:
    settings = Settings(_env_file=None, data_dir=data_dir,  # type: ignore[call-arg]
                        database_url=None, lancedb_uri=None, llm_provider="extractive",
                        smtp_host=smtp.host if smtp else None,
                        smtp_port=smtp.port if smtp else 25)
    return Engine(settings)


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory: pytest.TempPathFactory) -> SampleData:
    """The sample data plus the hostile document, built once; a copy for the second server."""
    root = tmp_path_factory.mktemp("public-chat")
    cwd = root / "cwd"
    cwd.mkdir()
    main = root / "data"
    env = server_env(main)
    run_cli(["sample"], env, cwd=cwd)
    hostile = root / "dokumente" / HOSTILE_FILE
    hostile.parent.mkdir()
    hostile.write_text(HOSTILE_HTML, encoding="utf-8")
    run_cli(["ingest", "--bot", BOT, str(hostile)], env, cwd=cwd)
    limits = root / "data-limits"
    shutil.copytree(main, limits)
    return SampleData(cwd, main, limits)


@pytest.fixture(scope="module")
def server(sample_data: SampleData) -> Iterator[Running]:
    """The public chat with the default limits, no SMTP server, no language model."""
    store = store_engine(sample_data.main)
    with PublicChatServer(ARTIFACTS / "server-public-chat.log", server_env(sample_data.main),
                          cwd=sample_data.cwd) as running:
        warm_up(running.url)
        yield Running(running.url, sample_data.main, store)
    get_engine(store.settings.resolved_database_url).dispose()


@pytest.fixture(scope="module")
def limits_server(sample_data: SampleData) -> Iterator[Running]:
    """The public chat with 3 questions per conversation and minute, questions of at most 200
    characters, and e-mail through a local SMTP server."""
    with running_smtp_server() as smtp:
        env = server_env(sample_data.limits, {
            "CHATWERKSTATT_PUBLIC_SESSION_TURNS_PER_MINUTE": "3",
            "CHATWERKSTATT_PUBLIC_MAX_QUESTION_CHARS": "200",
            "CHATWERKSTATT_SMTP_HOST": smtp.host,
            "CHATWERKSTATT_SMTP_PORT": str(smtp.port),
            "CHATWERKSTATT_SMTP_SENDER": "chat@musterstadt.example",
        })
        store = store_engine(sample_data.limits, smtp)
        with PublicChatServer(ARTIFACTS / "server-public-chat-limits.log", env,
                              cwd=sample_data.cwd) as running:
            warm_up(running.url)
            yield Running(running.url, sample_data.limits, store, smtp)
        get_engine(store.settings.resolved_database_url).dispose()


# --------------------------------------------------------------------------- helpers


Scope = Page | FrameLocator


def question_box(scope: Scope) -> Locator:
    return scope.get_by_role("textbox", name="Ihre Frage", exact=True)


def bot_messages(scope: Scope) -> Locator:
    return scope.locator('[data-testid="bot"]')


def user_messages(scope: Scope) -> Locator:
    return scope.locator('[data-testid="user"]')


def live_region(scope: Scope) -> Locator:
    return scope.locator("#cw-live")


def alert_region(scope: Scope) -> Locator:
    return scope.locator("#cw-alert")


def open_chat(page: Page, base_url: str) -> None:
    """The bot's chat page, ready: greeting shown, question box editable."""
    response = page.goto(base_url + CHAT_PATH)
    assert response is not None and response.status == 200, response
    expect(question_box(page)).to_be_editable(timeout=SLOW_STEP_MS)
    expect(bot_messages(page).first).to_contain_text(GREETING)


def open_widget(page: Page, base_url: str) -> FrameLocator:
    """The demo host page with the chat widget opened; the chat inside is ready."""
    response = page.goto(base_url + HOST_PAGE)
    assert response is not None and response.ok, response
    page.get_by_role("button", name=re.compile(r"^Fragen Sie uns")).click()
    expect(page.get_by_role("dialog", name=WIDGET_TITLE)).to_be_visible()
    chat = page.frame_locator(".cw-frame")
    expect(question_box(chat)).to_be_editable(timeout=SLOW_STEP_MS)
    expect(bot_messages(chat).first).to_contain_text(GREETING)
    return chat


def chat_frame(page: Page) -> Frame:
    return next(f for f in page.frames if urlsplit(f.url).path == CHAT_PATH)


def ask(scope: Scope, question: str) -> Locator:
    """Send `question` by Enter and wait for the whole turn; returns the new answer.

    Every step of an answer clears the live region, the last one (with the sources) announces
    the answer there, so the announcement marks the end of the turn."""
    answers = bot_messages(scope)
    before = answers.count()
    question_box(scope).fill(question)
    question_box(scope).press("Enter")
    expect(answers).to_have_count(before + 1, timeout=SLOW_STEP_MS)
    expect(live_region(scope)).to_contain_text("Neue Antwort des Assistenten",
                                               timeout=SLOW_STEP_MS)
    return answers.nth(before)


def ticket_number(status: Locator) -> int:
    """The number in "Anfrage Nr. 12: …" once the status shows it."""
    expect(status).to_contain_text(re.compile(r"Anfrage Nr\. \d+"), timeout=30_000)
    shown = re.search(r"Anfrage Nr\. (\d+)", status.inner_text())
    assert shown, status.inner_text()
    return int(shown.group(1))


def record_dialogs(page: Page) -> list[str]:
    """Every alert/confirm/prompt any frame of `page` opens (dismissed at once)."""
    opened: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        opened.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return opened


def screen_shot(watched: WatchedPage, name: str) -> Path:
    """What is on the screen (a full-page shot moves the widget's fixed panel about)."""
    watched.shots += 1
    path = watched.folder / f"{watched.shots:02d}-{name}.png"
    watched.page.screenshot(path=path)
    return path


def newest_message(store: Engine, question: str, channel: str = "public") -> Message:
    """The newest logged turn with this question in `channel`."""
    with store.session() as session:
        message = session.scalar(
            select(Message).join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.question == question, Conversation.channel == channel)
            .order_by(Message.id.desc()).limit(1))
        assert message is not None, f"keine Frage „{question}“ im Kanal {channel} protokolliert"
        session.expunge(message)
        return message


def questions_of(store: Engine, conversation_id: str) -> list[str]:
    with store.session() as session:
        return list(session.scalars(select(Message.question).where(
            Message.conversation_id == conversation_id).order_by(Message.id)))


def ratings(store: Engine, message_id: int) -> list[int]:
    with store.session() as session:
        return list(session.scalars(select(Feedback.rating).where(
            Feedback.message_id == message_id).order_by(Feedback.id)))


def all_feedback(store: Engine) -> list[tuple[int, int]]:
    with store.session() as session:
        return [(row.message_id, row.rating) for row in session.scalars(
            select(Feedback).order_by(Feedback.id))]


def wait_for(condition: Any, timeout: float = 10.0) -> Any:
    """`condition()` once it is truthy, else its last value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def cited_sentences(answer_text: str) -> dict[int, list[str]]:
    """Sentences of an extractive answer by the source number they cite ("… [2]")."""
    cited: dict[int, list[str]] = {}
    for line in answer_text.splitlines():
        match = re.match(r"^(.+?)\s*\[(\d+)\]\s*$", line.strip())
        if match:
            cited.setdefault(int(match.group(2)), []).append(match.group(1))
    return cited


def focus_outline_px(page: Page) -> tuple[str, float]:
    """(description, outline width in px) of the focused element, 0 without an outline."""
    tag, label, style, width = page.evaluate("""() => {
        const el = document.activeElement;
        const s = getComputedStyle(el);
        return [el.tagName, (el.getAttribute('aria-label') || el.textContent
                             || el.getAttribute('placeholder') || '').trim().slice(0, 40),
                s.outlineStyle, s.outlineWidth];
    }""")
    px = 0.0 if style == "none" else float(str(width).removesuffix("px") or 0)
    return f"<{tag.lower()}> {label!r}", px


def assert_inert(frame: Frame | Page, dialogs: list[str], what: str) -> None:
    """Nothing of `what` ran as script or became markup in `frame`."""
    assert frame.evaluate("() => typeof window.__xss") == "undefined", (
        f"{what}: window.__xss = {frame.evaluate('() => window.__xss')!r}")
    assert not dialogs, f"{what}: Dialoge geöffnet: {dialogs}"
    injected = frame.evaluate(INJECTED_MARKUP_JS)
    assert not injected, f"{what}: als HTML eingefügt: {injected}"


# --------------------------------------------------------------------------- the tests


def test_widget_answers_with_sources_that_open(server: Running, watched: WatchedPage) -> None:
    """Host page → chat button → a question in the iframe: the answer streams in, ends with
    its sources, and a source link shows the passage the answer quotes."""
    page = watched.page
    page.set_viewport_size(DESKTOP)
    chat = open_widget(page, server.url)
    frame = chat_frame(page)
    frame.evaluate(RECORD_ANSWER_STATES_JS)

    answer = ask(chat, PASSPORT)
    expect(answer).to_contain_text("Quellen:")
    expect(answer).to_contain_text("Extraktiver Modus")
    expect(user_messages(chat)).to_have_text([PASSPORT])
    final = answer.inner_text()
    states: list[str] = frame.evaluate("() => window.__cwStates")
    # The text came before the sources: a step with the answer but no list of sources yet.
    head = final.split("\n")[0].strip()[:60]
    assert any(s.strip().startswith(head) and "Quellen:" not in s for s in states), states
    assert "Quellen:" in states[-1], states
    # It ends with the list of sources: nothing but "[n] title" after "Quellen:".
    listed = final.split("Quellen:")[-1].strip().splitlines()
    assert listed and all(re.match(r"^\[\d+\] \S", line) for line in listed), final
    watched.shot("desktop-antwort")
    screen_shot(watched, "desktop-antwort-bildschirm")

    links = answer.locator("a")
    hrefs = [str(links.nth(i).get_attribute("href")) for i in range(links.count())]
    assert hrefs, f"keine Links in der Antwort:\n{final}"
    for href in hrefs:
        assert SOURCE_LINK.match(href) or re.match(r"^https?://", href), href
    own = [href for href in hrefs if SOURCE_LINK.match(href)]
    assert own, f"kein Link auf eine Quellenseite: {hrefs}"

    logged = newest_message(server.store, PASSPORT)
    stored = {c["number"]: c for c in logged.citations}
    quoted = cited_sentences(final.split("Extraktiver Modus")[0])
    assert quoted, final
    followed = None
    for href in own:
        match = SOURCE_LINK.match(href)
        assert match is not None
        message_id, number = int(match.group(1)), int(match.group(2))
        assert message_id == logged.id, (href, logged.id)
        response = httpx.get(server.url + href, timeout=30, trust_env=False)
        assert response.status_code == 200, (href, response.status_code)
        assert " ".join(stored[number]["snippet"].split())[:80] in " ".join(
            response.text.split()), (href, response.text[:500])
        if any(sentence[:40] in response.text for sentence in quoted.get(number, [])):
            followed = answer.get_by_role("link").filter(has_text=f"[{number}]").first
    assert followed is not None, (f"keine Quellenseite enthält einen Satz der Antwort:\n{final}\n"
                                  f"{hrefs}")

    # Followed in the browser: the source opens in a new tab with the cited passage.
    with page.context.expect_page() as opened:
        followed.click()
    source = opened.value
    source.wait_for_load_state()
    expect(source.get_by_role("heading", level=1)).to_contain_text(re.compile(r"^Quelle \[\d+\]"))
    expect(source.locator("blockquote")).to_contain_text(re.compile(r"Reisepass"))
    expect(source.get_by_role("link", name="Zurück zum Chat")).to_have_attribute("href",
                                                                                  CHAT_PATH)
    assert source.evaluate("() => document.documentElement.lang") == "de"
    source.close()

    # The same chat on a phone: the panel fills the screen.
    page.set_viewport_size(PHONE)
    dialog = page.get_by_role("dialog", name=WIDGET_TITLE)
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 375, 667), box
    expect(answer).to_contain_text("Quellen:")
    answer.scroll_into_view_if_needed()
    screen_shot(watched, "telefon-antwort-bildschirm")
    watched.shot("telefon-antwort")
    assert not watched.errors, "\n".join(watched.errors)


def test_ratings_are_stored_for_answers_only(server: Running, watched: WatchedPage) -> None:
    page = watched.page
    page.set_viewport_size(DESKTOP)
    open_chat(page, server.url)
    before = all_feedback(server.store)
    likes = page.get_by_role("button", name=LIKE)
    dislikes = page.get_by_role("button", name=DISLIKE)
    status = page.locator("#cw-status")

    # The greeting is no logged answer: a click on its thumb stores nothing.
    expect(dislikes).to_have_count(1)
    dislikes.first.click()
    expect(status).to_have_text("Diese Nachricht lässt sich nicht bewerten.")
    assert all_feedback(server.store) == before

    question = "Wie melde ich meinen Hund an?"
    answer = ask(page, question)
    expect(answer).to_contain_text("Quellen:")
    logged = newest_message(server.store, question)
    expect(dislikes).to_have_count(2)
    expect(likes).to_have_count(2)

    dislikes.nth(1).click()
    expect(status).to_have_text("Danke für Ihre Bewertung.")
    assert ratings(server.store, logged.id) == [-1]
    watched.shot("nicht-hilfreich")

    # Changing one's mind updates the rating instead of adding a second one.
    likes.nth(1).click()
    assert wait_for(lambda: ratings(server.store, logged.id) == [1]), ratings(server.store,
                                                                              logged.id)
    assert all_feedback(server.store) == [*before, (logged.id, 1)]
    watched.shot("hilfreich")

    # Another conversation cannot rate this answer through the API.
    response = httpx.post(f"{server.url}/api/w/{WORKSPACE}/{BOT}/feedback", json={
        "conversation_id": "00000000-0000-4000-8000-000000000000", "message_id": logged.id,
        "rating": -1}, timeout=30, trust_env=False)
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "Diese Antwort gehört nicht zu Ihrem Gespräch."
    assert ratings(server.store, logged.id) == [1]
    assert not watched.errors, "\n".join(watched.errors)


def test_handoff_and_the_clerks_reply_in_the_open_chat(server: Running,
                                                         watched: WatchedPage) -> None:
    page = watched.page
    page.set_viewport_size(DESKTOP)
    open_chat(page, server.url)
    offer = page.get_by_role("button", name=HANDOFF_BUTTON)
    expect(offer).to_be_hidden()

    answer = ask(page, HANDOFF_QUESTION)
    expect(answer).to_contain_text("Mitarbeiterin oder ein Mitarbeiter")
    expect(offer).to_be_visible()
    expect(page.get_by_role("button", name="Nein, danke")).to_be_visible()
    # No SMTP server configured: no address is asked for.
    expect(page.get_by_role("textbox", name=EMAIL_LABEL)).to_have_count(0)
    watched.shot("angebot")

    offer.click()
    status = page.locator("#cw-status")
    number = ticket_number(status)
    expect(offer).to_be_hidden()
    expect(alert_region(page)).to_have_text("")

    conversation = newest_message(server.store, HANDOFF_QUESTION).conversation_id
    tickets = handoff.tickets_for(server.store, conversation)
    assert [(t.id, t.status, t.question, t.has_contact) for t in tickets] == [
        (number, "offen", HANDOFF_QUESTION, False)]
    office = tickets[0].office_name
    expect(status).to_contain_text(f"„{office}“")
    expect(status).to_contain_text("Die Antwort erscheint hier im Chat.")
    watched.shot("uebergeben")

    # A mark in this document: still there afterwards, so the page was not loaded again.
    page.evaluate("() => { window.handoffTestMark = 'vor der Antwort'; }")
    reply = ("Guten Tag, den Reisepass beantragen Sie persönlich im Bürgerbüro; bringen Sie "
             "bitte ein biometrisches Passfoto mit.")
    handoff.claim(server.store, WORKSPACE, number, CLERK)
    outcome = handoff.reply(server.store, WORKSPACE, number, reply, CLERK)
    assert outcome.ticket.status == "beantwortet"
    replied = time.monotonic()

    shown_reply = bot_messages(page).filter(has_text=reply)
    expect(shown_reply).to_have_count(1, timeout=REPLY_SHOWS_WITHIN_MS)
    waited = time.monotonic() - replied
    expect(shown_reply).to_contain_text(f"Antwort von {office}")
    expect(live_region(page)).to_have_text(f"Neue Antwort von {office}: {reply}")
    assert page.evaluate("() => window.handoffTestMark") == "vor der Antwort"
    print(f"Antwort der Verwaltung im Chat nach {waited:.1f} s")
    watched.shot("antwort-der-verwaltung")

    # The next look-up does not add it a second time.
    page.wait_for_timeout(11_000)
    expect(shown_reply).to_have_count(1)
    assert not watched.errors, "\n".join(watched.errors)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["telefon", "desktop"])
def test_chat_pages_pass_axe(server: Running, watched: WatchedPage,
                             viewport: ViewportSize) -> None:
    """axe-core (WCAG 2.1 A/AA, iframes included): the chat page before and after a turn and
    with the handoff offer open, a source page, and the host page with the widget open."""
    reason = axe_missing_reason()
    if reason:
        pytest.skip(reason)
    page = watched.page
    page.set_viewport_size(viewport)
    name = "telefon" if viewport == PHONE else "desktop"

    def check(where: str) -> None:
        blocking = serious_violations(run_axe(page))
        assert not blocking, f"axe-core, {where} ({name}):\n{describe(blocking)}"

    open_chat(page, server.url)
    # Reflow (WCAG 1.4.10): nothing wider than the screen, no control cut off at its edge.
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"Seite ist {width}px breit"
    outside = page.evaluate("""(w) => [...document.querySelectorAll(
            'label, button, input, textarea, h1, a')].filter(el => {
        const r = el.getBoundingClientRect();
        return r.width > 1 && r.height > 1 && (r.left < -1 || r.right > w + 1);
    }).map(el => el.outerHTML.slice(0, 100))""", viewport["width"])
    assert not outside, f"ragt über den Bildschirmrand: {outside}"
    check("Chat vor der ersten Frage")
    watched.shot(f"{name}-leer")

    answer = ask(page, "Was kostet ein Personalausweis?")
    expect(answer).to_contain_text("Quellen:")
    check("Chat nach einer Antwort")
    watched.shot(f"{name}-antwort")

    ask(page, HANDOFF_QUESTION)
    expect(page.get_by_role("button", name=HANDOFF_BUTTON)).to_be_visible()
    check("Chat mit dem Angebot der Übergabe")
    watched.shot(f"{name}-angebot")

    link = answer.get_by_role("link").first
    href = link.get_attribute("href")
    assert href, "kein Quellenlink"
    page.goto(server.url + href if href.startswith("/") else href)
    check("Quellenseite")

    open_widget(page, server.url)
    check("Demo-Seite mit offenem Chat")
    screen_shot(watched, f"{name}-widget-offen")
    assert not watched.errors, "\n".join(watched.errors)


def test_keyboard_only(server: Running, watched: WatchedPage) -> None:
    """Tab reaches the question box, every stop on the way shows its focus, Enter sends."""
    page = watched.page
    page.set_viewport_size(DESKTOP)
    open_chat(page, server.url)
    box = question_box(page)
    stops: list[tuple[str, float]] = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        stops.append(focus_outline_px(page))
        if box.evaluate("el => el === document.activeElement"):
            break
    else:
        raise AssertionError(f"nach {MAX_TABS}× Tab hat das Fragefeld keinen Fokus: {stops}")
    invisible = [stop for stop in stops if stop[1] < 2]
    assert not invisible, f"ohne sichtbaren Fokusrahmen (< 2px): {invisible}\nalle: {stops}"
    watched.shot("fragefeld-fokussiert")

    page.keyboard.type(PASSPORT)
    page.keyboard.press("Enter")
    expect(user_messages(page)).to_have_text([PASSPORT], timeout=SLOW_STEP_MS)
    expect(bot_messages(page)).to_have_count(2, timeout=SLOW_STEP_MS)
    expect(bot_messages(page).nth(1)).to_contain_text("Quellen:", timeout=SLOW_STEP_MS)
    expect(box).to_have_value("")

    # The send button works by keyboard as well.
    box.focus()
    page.keyboard.type("Wie lange ist der Reisepass gültig?")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Senden", exact=True)).to_be_focused()
    described, px = focus_outline_px(page)
    assert px >= 2, f"kein sichtbarer Fokus auf {described}"
    page.keyboard.press("Enter")
    expect(bot_messages(page)).to_have_count(3, timeout=SLOW_STEP_MS)
    expect(user_messages(page)).to_have_count(2)
    watched.shot("per-tastatur-gefragt")
    assert not watched.errors, "\n".join(watched.errors)


def test_script_in_questions_stays_text(server: Running, watched: WatchedPage) -> None:
    page = watched.page
    page.set_viewport_size(DESKTOP)
    dialogs = record_dialogs(page)
    chat = open_widget(page, server.url)
    frame = chat_frame(page)
    for number, question in enumerate(HOSTILE_QUESTIONS, start=1):
        ask(chat, question)
        page.wait_for_timeout(500)  # an onerror/onload would have fired by now
        assert_inert(frame, dialogs, f"Frage {question!r}")
        assert_inert(page, dialogs, f"Frage {question!r} (Seite um den Chat)")
        expect(user_messages(chat).nth(number - 1)).to_have_text(question)
    watched.shot("fragen-mit-markup")
    screen_shot(watched, "fragen-mit-markup-bildschirm")
    assert not watched.errors, "\n".join(watched.errors)


def test_script_in_documents_stays_text(server: Running, watched: WatchedPage) -> None:
    page = watched.page
    page.set_viewport_size(DESKTOP)
    dialogs = record_dialogs(page)
    open_chat(page, server.url)
    answer = ask(page, HOSTILE_DOC_QUESTION)
    page.wait_for_timeout(500)
    assert_inert(page, dialogs, "Dokument mit Markup in der Antwort")
    text = answer.inner_text()
    for piece in HOSTILE_DOC_TEXT[:2]:
        assert piece in text, f"{piece!r} nicht wörtlich in der Antwort:\n{text}"
    expect(answer.get_by_role("link")).to_have_count(1)
    link = answer.get_by_role("link").first
    expect(link).to_have_text(f"[1] {HOSTILE_TITLE}")
    watched.shot("antwort-aus-dokument-mit-markup")

    href = link.get_attribute("href")
    assert href and SOURCE_LINK.match(href), href
    raw = httpx.get(server.url + href, timeout=30, trust_env=False)
    assert raw.status_code == 200
    assert "&lt;img src=x onerror=" in raw.text and "<img" not in raw.text, raw.text
    assert "&lt;script&gt;" in raw.text and "<script" not in raw.text, raw.text

    page.goto(server.url + href)
    assert_inert(page, dialogs, "Quellenseite")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Quelle [1]: {HOSTILE_TITLE}")
    expect(page).to_have_title(f"Quelle [1]: {HOSTILE_TITLE}")
    quote = page.locator("blockquote")
    for piece in HOSTILE_DOC_TEXT:
        expect(quote).to_contain_text(piece)
    watched.shot("quellenseite-mit-markup")
    assert not watched.errors, "\n".join(watched.errors)


def test_unpublished_bots_are_unreachable(server: Running, watched: WatchedPage) -> None:
    sample = parse_bot_yaml(SAMPLE_BOT_FILE.read_text(encoding="utf-8"))
    draft = sample.model_copy(update={"slug": "entwurf", "name": "Entwurf"})
    offline = sample.model_copy(update={"slug": "bald-offline", "name": "Bald offline"})
    with server.store.session() as session:
        repo = BotRepository(session, WORKSPACE)
        repo.save(draft, note="nie veröffentlicht")
        repo.publish(offline.slug, repo.save(offline, note="veröffentlicht, dann offline"))

    def get(path: str) -> httpx.Response:
        return httpx.get(server.url + path, timeout=30, trust_env=False)

    def post_chat(slug: str, workspace: str = WORKSPACE) -> httpx.Response:
        return httpx.post(f"{server.url}/api/w/{workspace}/{slug}/chat",
                          json={"question": PASSPORT}, timeout=120, trust_env=False)

    def assert_gone(workspace: str, slug: str) -> None:
        page_response = get(f"/w/{workspace}/{slug}/")
        assert page_response.status_code == 404, (slug, page_response.status_code)
        assert page_response.headers["content-type"].startswith("text/html")
        assert NOT_PUBLISHED in page_response.text
        assert '<html lang="de">' in page_response.text
        info = get(f"/w/{workspace}/{slug}/gradio_api/info")
        assert info.status_code == 404, (slug, info.status_code, info.text[:200])
        assert NOT_PUBLISHED in info.json()["error"]
        api = post_chat(slug, workspace)
        assert api.status_code == 404, (slug, api.status_code, api.text[:200])
        assert NOT_PUBLISHED in api.json()["error"]

    # Published: reachable (and now remembered by the gate for a few seconds).
    assert get(f"/w/{WORKSPACE}/{offline.slug}/").status_code == 200
    assert get(f"/w/{WORKSPACE}/{offline.slug}/gradio_api/info").status_code == 200
    assert post_chat(offline.slug).status_code == 200
    assert_gone(WORKSPACE, draft.slug)
    assert_gone("unbekannt", BOT)
    assert_gone(WORKSPACE, "gibt-es-nicht")

    with server.store.session() as session:
        BotRepository(session, WORKSPACE).unpublish(offline.slug)
    taken_offline = time.monotonic()
    gone = wait_for(lambda: get(f"/w/{WORKSPACE}/{offline.slug}/").status_code == 404,
                    timeout=PUBLISHED_CACHE_SECONDS + 5)
    assert gone, "nach dem Zurückziehen weiter erreichbar"
    assert time.monotonic() - taken_offline <= PUBLISHED_CACHE_SECONDS + 3
    assert_gone(WORKSPACE, offline.slug)
    # Citizens see a German page saying so.
    response = watched.page.goto(f"{server.url}/w/{WORKSPACE}/{offline.slug}/")
    assert response is not None and response.status == 404
    expect(watched.page.get_by_role("heading", level=1)).to_have_text("Nicht gefunden")
    expect(watched.page.get_by_text(NOT_PUBLISHED)).to_be_visible()
    watched.shot("nicht-veroeffentlicht")
    # The published sample bot is unaffected.
    assert get(CHAT_PATH).status_code == 200
    expected_404 = f"{server.url}/w/{WORKSPACE}/{offline.slug}/"
    others = [e for e in watched.errors if f"({expected_404})" not in e]
    assert not others, "\n".join(others)


def test_rate_limit_and_length_limit(limits_server: Running, watched: WatchedPage) -> None:
    page = watched.page
    page.set_viewport_size(DESKTOP)
    open_chat(page, limits_server.url)
    alert = alert_region(page)
    expect(alert).to_have_attribute("role", "alert")
    questions = [PASSPORT, "Wie lange ist der Reisepass gültig?", "Wo beantrage ich ihn?"]
    for question in questions:
        ask(page, question)
        expect(alert).to_have_text("")
    conversation = newest_message(limits_server.store, questions[0]).conversation_id

    fourth = "Und was kostet ein Kinderreisepass?"
    question_box(page).fill(fourth)
    question_box(page).press("Enter")
    expect(alert).to_have_text(RATE_LIMITED, timeout=30_000)
    expect(user_messages(page)).to_have_text(questions)
    expect(bot_messages(page)).to_have_count(4)  # greeting + three answers
    expect(question_box(page)).to_have_value(fourth)  # kept, to send again later
    assert questions_of(limits_server.store, conversation) == questions
    watched.shot("zu-viele-fragen")

    # A question over the length limit, in a new conversation: refused, not logged.
    open_chat(page, limits_server.url)
    too_long = "Ich habe eine Frage zum Reisepass: " + "bitte " * 40
    assert len(" ".join(too_long.split())) > 200
    question_box(page).fill(too_long)
    question_box(page).press("Enter")
    expect(alert).to_contain_text("zu lang", timeout=30_000)
    expect(alert).to_contain_text("höchstens 200 Zeichen")
    expect(user_messages(page)).to_have_count(0)
    with limits_server.store.session() as session:
        assert session.scalar(select(Message.id).where(
            Message.question.like("Ich habe eine Frage zum Reisepass%"))) is None
    watched.shot("zu-lang")

    # The same limits in the JSON API.
    url = f"{limits_server.url}/api/w/{WORKSPACE}/{BOT}/chat"
    with httpx.Client(timeout=120, trust_env=False) as client:
        first = client.post(url, json={"question": PASSPORT})
        assert first.status_code == 200, first.text
        conversation = first.json()["conversation_id"]
        for question in questions[1:]:
            assert client.post(url, json={"question": question, "conversation_id":
                                          conversation}).status_code == 200
        refused = client.post(url, json={"question": fourth, "conversation_id": conversation})
        assert refused.status_code == 429, refused.text
        assert RATE_LIMITED.fullmatch(refused.json()["error"]), refused.json()
        assert int(refused.headers["retry-after"]) > 0
        long = client.post(url, json={"question": too_long})
        assert long.status_code == 413, long.text
        assert "zu lang" in long.json()["error"]
    assert questions_of(limits_server.store, conversation) == questions
    assert not watched.errors, "\n".join(watched.errors)


def test_handoff_with_an_email_address(limits_server: Running, watched: WatchedPage) -> None:
    """With SMTP configured the offer asks for an optional address: the office gets a notice,
    the citizen the clerk's reply by e-mail."""
    assert limits_server.smtp is not None
    page = watched.page
    page.set_viewport_size(PHONE)
    open_chat(page, limits_server.url)
    ask(page, HANDOFF_QUESTION)
    email = page.get_by_role("textbox", name=EMAIL_LABEL)
    expect(email).to_be_visible()
    watched.shot("angebot-mit-e-mail")

    email.fill("kein-mail")
    page.get_by_role("button", name=HANDOFF_BUTTON).click()
    expect(alert_region(page)).to_contain_text("keine gültige E-Mail-Adresse", timeout=30_000)
    expect(email).to_be_visible()

    mails_before = len(limits_server.smtp.messages)
    email.fill("buergerin@example.org")
    page.get_by_role("button", name=HANDOFF_BUTTON).click()
    status = page.locator("#cw-status")
    expect(status).to_contain_text("und kommt per E-Mail.", timeout=30_000)
    expect(alert_region(page)).to_have_text("")
    number = ticket_number(status)
    watched.shot("uebergeben-mit-e-mail")
    [notice] = limits_server.smtp.wait_for(mails_before + 1)[mails_before:]
    assert "buergerbuero@musterstadt.example" in str(notice["To"]), notice["To"]

    [ticket] = handoff.tickets_for(limits_server.store,
                                   newest_message(limits_server.store,
                                                  HANDOFF_QUESTION).conversation_id)
    assert (ticket.id, ticket.has_contact) == (number, True)
    outcome = handoff.reply(limits_server.store, WORKSPACE, number,
                            "Ihr Termin ist am Montag um 9 Uhr.", CLERK)
    assert (outcome.mailed, outcome.mail_problem) == (True, "")
    answer_mail = limits_server.smtp.wait_for(mails_before + 2)[-1]
    assert answer_mail["To"] == "buergerin@example.org"
    assert str(answer_mail["Subject"]) == f"Antwort auf Ihre Anfrage Nr. {number} an Bürgerbüro"
    body = answer_mail.get_body(("plain",))
    assert body is not None and "Ihr Termin ist am Montag um 9 Uhr." in body.get_content()
    assert not watched.errors, "\n".join(watched.errors)


def test_clerks_reply_with_markup_stays_text(server: Running, watched: WatchedPage) -> None:
    """A clerk's reply is text, in the chat and in the announcement for screen readers: a reply
    that quotes markup (say, from the citizen's own message) must not become HTML."""
    page = watched.page
    page.set_viewport_size(DESKTOP)
    dialogs = record_dialogs(page)
    open_chat(page, server.url)
    ask(page, HANDOFF_QUESTION)
    page.get_by_role("button", name=HANDOFF_BUTTON).click()
    number = ticket_number(page.locator("#cw-status"))
    office = handoff.get_ticket(server.store, WORKSPACE, number).office_name
    reply = ('Sie schrieben <img src=x onerror="window.__xss=9"> und '
             "[hier](javascript:window.__xss=10) – bitte *ohne* Markup.")
    handoff.reply(server.store, WORKSPACE, number, reply, CLERK)

    shown = bot_messages(page).filter(has_text="Antwort von")
    expect(shown).to_have_count(1, timeout=REPLY_SHOWS_WITHIN_MS)
    page.wait_for_timeout(500)
    expect(shown).to_contain_text(reply)
    watched.shot("antwort-mit-markup")
    expect(live_region(page)).to_have_text(f"Neue Antwort von {office}: {reply}")
    assert_inert(page, dialogs, "Antwort der Verwaltung mit Markup")
    assert not watched.errors, "\n".join(watched.errors)


def test_clearing_the_chat_starts_a_new_conversation(server: Running,
                                                     watched: WatchedPage) -> None:
    page = watched.page
    open_chat(page, server.url)
    ask(page, "Wie melde ich Sperrmüll an?")
    first = newest_message(server.store, "Wie melde ich Sperrmüll an?")

    # Gradio names the button in the browser's language (de-DE in these tests).
    page.get_by_role("button", name="Chat leeren").click()
    expect(page.locator("#cw-status")).to_contain_text("Neues Gespräch begonnen")
    expect(user_messages(page)).to_have_count(0)
    ask(page, "Was kostet ein Personalausweis?")

    second = newest_message(server.store, "Was kostet ein Personalausweis?")
    assert second.conversation_id != first.conversation_id
    # The new conversation starts from scratch: its search query is the question alone.
    assert second.search_query == "Was kostet ein Personalausweis?"
    watched.shot("neues-gespraech")
