"""The chat widget on a town's website, in a real browser: the Musterstadt demo page embeds
apps/public/widget.js with one script tag, as a town would.

Only the static files are served (a stdlib HTTP server in a thread, a stub for the chat page),
so this checks the widget and the host page, not the public chat server: nothing is requested
from the chat before the click, the button works by keyboard alone, the panel fills a phone's
screen, and axe-core finds no serious or critical WCAG 2.1 AA violation at either size, with
the panel closed or open. Screenshots go to test-artifacts/browser/<test>/.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, Request, ViewportSize, expect

from pipelines.settings import REPO_ROOT
from tests.browser.conftest import WatchedPage
from tests.support.axe import axe_missing_reason, describe, run_axe, serious_violations

pytestmark = [pytest.mark.browser]

PUBLIC = REPO_ROOT / "apps" / "public"
HOST_PAGE = "/demo/musterstadt"
CHAT_PATH = "/w/standard/musterstadt-buergerservice/"
TITLE = "Digitaler Bürgerservice"
CHAT_STUB = ('<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Chat</title>'
             "</head><body><main><h1>Chat</h1></main></body></html>")
PHONE = ViewportSize(width=375, height=667)
DESKTOP = ViewportSize(width=1280, height=900)
MAX_TABS = 60


class _StaticSite(BaseHTTPRequestHandler):
    """The three addresses of apps/public_chat.py that the widget needs, from files."""

    def do_GET(self) -> None:  # noqa: N802 - name given by BaseHTTPRequestHandler
        path = urlsplit(self.path).path
        if path == HOST_PAGE:
            self._send((PUBLIC / "musterstadt.html").read_bytes(), "text/html; charset=utf-8")
        elif path == "/widget.js":
            self._send((PUBLIC / "widget.js").read_bytes(), "text/javascript; charset=utf-8")
        elif path == CHAT_PATH:
            self._send(CHAT_STUB.encode(), "text/html; charset=utf-8")
        else:
            self._send(b"nicht gefunden", "text/plain; charset=utf-8", HTTPStatus.NOT_FOUND)

    def _send(self, body: bytes, content_type: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        pass


def test_widget_script_keeps_its_promises() -> None:
    """What the browser cannot show: no storage, no requests of its own, no HTML from strings,
    and ASCII only, so that a host page in another encoding gets the umlauts right."""
    source = (PUBLIC / "widget.js").read_bytes()
    assert source.isascii(), "widget.js enthält Zeichen außerhalb von ASCII"
    code = re.sub(r"/\*.*?\*/|^\s*//.*$", "", source.decode(), flags=re.S | re.M)
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                      "localStorage", "sessionStorage", "indexedDB", "cookie", "fetch(",
                      "XMLHttpRequest", "sendBeacon", "import("):
        assert forbidden not in code, f"widget.js benutzt {forbidden}"


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """Base URL of the static stand-in for the public chat server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StaticSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def requested(watched: WatchedPage) -> list[str]:
    """Every http(s) URL the tab requests, in order (frames included)."""
    urls: list[str] = []

    def record(request: Request) -> None:
        if request.url.startswith(("http://", "https://")):
            urls.append(request.url)

    watched.page.on("request", record)
    return urls


def paths(urls: list[str]) -> list[str]:
    return [urlsplit(url).path for url in urls]


def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name=re.compile(r"^Fragen Sie uns"))


def panel(page: Page) -> Locator:
    return page.get_by_role("dialog", name=TITLE)


def focused_name(page: Page) -> str:
    """Text and labels of the focused element, enough to tell the focus stops apart."""
    return str(page.evaluate("""() => {
        const el = document.activeElement;
        return el ? (el.getAttribute('aria-label') || el.textContent || el.tagName).trim() : '';
    }"""))


def tab_to(page: Page, target: Locator) -> int:
    """Presses Tab until `target` has the focus; returns how many presses it took."""
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return presses
    raise AssertionError(f"nach {MAX_TABS}× Tab hat der Knopf den Fokus nicht; zuletzt "
                         f"fokussiert: {focused_name(page)!r}")


def focus_outline_px(page: Page) -> float:
    style = page.evaluate("""() => {
        const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, s.outlineWidth];
    }""")
    return 0.0 if style[0] == "none" else float(str(style[1]).removesuffix("px"))


def screen_shot(watched: WatchedPage, name: str) -> Path:
    """What the visitor sees on the screen: a full-page shot moves the fixed panel about."""
    watched.shots += 1
    path = watched.folder / f"{watched.shots:02d}-{name}.png"
    watched.page.screenshot(path=path)
    return path


def open_host_page(page: Page, site: str) -> None:
    response = page.goto(site + HOST_PAGE)
    assert response is not None and response.ok, f"Demo-Seite lädt nicht: {response}"
    expect(page).to_have_title(re.compile("Musterstadt"))
    expect(page.get_by_role("heading", level=1, name="Willkommen in Musterstadt")).to_be_visible()
    expect(page.get_by_text("Demo-Seite – keine echte Stadt")).to_be_visible()
    expect(launcher(page)).to_be_visible()


def test_widget_by_keyboard_on_desktop(site: str, watched: WatchedPage,
                                       requested: list[str]) -> None:
    page = watched.page
    page.set_viewport_size(DESKTOP)
    open_host_page(page, site)
    page.wait_for_load_state("networkidle")

    # Nothing goes to the chat server before the click, and no third party is asked at all.
    assert sorted(set(paths(requested))) == sorted({HOST_PAGE, "/widget.js"}), requested
    assert all(url.startswith(site) for url in requested), requested
    expect(page.locator("iframe")).to_have_count(0)

    button = launcher(page)
    expect(button).to_have_count(1)
    expect(button).to_have_attribute("aria-expanded", "false")
    controls = button.get_attribute("aria-controls")
    assert controls, "Der Knopf nennt kein aria-controls"
    expect(page.locator(f"#{controls}")).to_have_attribute("role", "dialog")
    expect(panel(page)).to_be_hidden()
    label = page.get_by_text("Fragen Sie uns", exact=True)
    expect(label).to_be_visible()
    label_box = label.bounding_box()
    assert label_box and label_box["width"] > 50, f"Beschriftung nicht lesbar: {label_box}"

    # Keyboard only: the skip link comes first, the chat button is reached by Tab.
    page.keyboard.press("Tab")
    assert focused_name(page) == "Zum Inhalt springen"
    presses = tab_to(page, button)
    assert presses > 1
    assert focus_outline_px(page) >= 3, "Kein sichtbarer Fokusrahmen am Chat-Knopf"
    watched.shot("desktop-knopf-fokussiert")

    with page.expect_request(lambda r: urlsplit(r.url).path == CHAT_PATH):
        page.keyboard.press("Enter")
    dialog = panel(page)
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-modal", "false")
    expect(button).to_have_attribute("aria-expanded", "true")
    frame = dialog.locator("iframe")
    expect(frame).to_have_count(1)
    expect(frame).to_have_attribute("src", site + CHAT_PATH)
    expect(frame).to_have_attribute("title", f"Chat: {TITLE}")
    expect(page.frame_locator(".cw-frame").get_by_role("heading", name="Chat")).to_be_visible()
    expect(dialog.get_by_text(TITLE, exact=True)).to_be_visible()
    close = dialog.get_by_role("button", name="Chat schließen")
    expect(close).to_be_focused()
    assert focus_outline_px(page) >= 3, "Kein sichtbarer Fokusrahmen am Schließen-Knopf"
    box = dialog.bounding_box()
    assert box is not None
    assert (round(box["width"]), round(box["height"])) == (400, 640), box
    assert round(box["x"] + box["width"]) == DESKTOP["width"] - 20, box
    watched.shot("desktop-chat-offen")
    screen_shot(watched, "desktop-chat-offen-bildschirm")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()

    # Open again: the same iframe, no second load; the close button closes it as well.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(close).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()

    # Escape inside the chat never reaches the host page; the chat page asks to be closed.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    chat = next(f for f in page.frames if urlsplit(f.url).path == CHAT_PATH)
    chat.evaluate("() => window.parent.postMessage('chatwerkstatt:close', '*')")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()
    assert paths(requested).count(CHAT_PATH) == 1, requested
    expect(page.locator("iframe")).to_have_count(1)

    # A page that includes the snippet twice still gets one button.
    page.evaluate("""() => new Promise((resolve, reject) => {
        const again = document.createElement('script');
        again.src = '/widget.js?zweites-mal';
        again.dataset.chat = '/w/standard/musterstadt-buergerservice/';
        again.onload = resolve;
        again.onerror = reject;
        document.body.appendChild(again);
    })""")
    assert paths(requested).count("/widget.js") == 2, requested
    expect(page.locator(".cw-launcher")).to_have_count(1)
    expect(page.locator("style.cw-style")).to_have_count(1)
    assert watched.errors == [], "\n".join(watched.errors)


def test_widget_fills_a_phone_screen(site: str, watched: WatchedPage,
                                     requested: list[str]) -> None:
    page = watched.page
    page.set_viewport_size(PHONE)
    open_host_page(page, site)
    page.wait_for_load_state("networkidle")
    assert CHAT_PATH not in paths(requested), requested

    # No sideways scrolling on a phone (WCAG 1.4.10 reflow).
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"Seite ist {width}px breit"

    # Icon only, but still named and big enough to hit.
    button = launcher(page)
    box = button.bounding_box()
    assert box is not None
    assert 44 <= box["width"] <= 60 and 44 <= box["height"] <= 60, box
    assert box["x"] + box["width"] <= PHONE["width"] and box["y"] + box["height"] <= PHONE[
        "height"], box
    label_box = page.get_by_text("Fragen Sie uns", exact=True).bounding_box()
    assert label_box is None or label_box["width"] <= 1, f"Beschriftung sichtbar: {label_box}"
    watched.shot("telefon-geschlossen")

    tab_to(page, button)
    page.keyboard.press("Enter")
    dialog = panel(page)
    expect(dialog).to_be_visible()
    # Under the full-screen panel the button is out of sight and out of the tab order.
    expect(button).to_be_hidden()
    expect(page.locator(".cw-launcher")).to_have_attribute("aria-expanded", "true")
    expect(dialog.locator("iframe")).to_have_attribute("src", site + CHAT_PATH)
    expect(page.frame_locator(".cw-frame").get_by_role("heading", name="Chat")).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == (
        0, 0, PHONE["width"], PHONE["height"]), box
    # The panel is the top layer over the whole screen: what lies at its corners is the panel.
    on_top = page.evaluate("""([w, h]) => [[1, 1], [w - 2, h - 2], [w / 2, h / 2]].map(
        ([x, y]) => !!document.elementFromPoint(x, y)?.closest('.cw-panel'))""",
                           [PHONE["width"], PHONE["height"]])
    assert on_top == [True, True, True], on_top
    expect(dialog.get_by_role("button", name="Chat schließen")).to_be_focused()
    watched.shot("telefon-chat-offen")
    screen_shot(watched, "telefon-chat-offen-bildschirm")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_visible()
    expect(button).to_be_focused()
    assert watched.errors == [], "\n".join(watched.errors)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["telefon", "desktop"])
def test_no_serious_accessibility_violations(site: str, watched: WatchedPage,
                                             viewport: ViewportSize) -> None:
    """axe-core (WCAG 2.1 A/AA) on the host page with the widget, closed and open. A test of its
    own, so that a missing axe-core skips only this and never the checks above."""
    reason = axe_missing_reason()
    if reason:
        pytest.skip(reason)
    page = watched.page
    page.set_viewport_size(viewport)
    open_host_page(page, site)

    blocking = serious_violations(run_axe(page))
    assert not blocking, f"axe-core, Chat geschlossen:\n{describe(blocking)}"

    launcher(page).click()
    expect(page.frame_locator(".cw-frame").get_by_role("heading", name="Chat")).to_be_visible()
    blocking = serious_violations(run_axe(page))
    assert not blocking, f"axe-core, Chat offen:\n{describe(blocking)}"
    assert watched.errors == [], "\n".join(watched.errors)
