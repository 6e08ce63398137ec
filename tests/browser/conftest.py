"""Fixtures for tests in a real browser: the system Chromium through playwright, a page that
records the browser console, and screenshots under test-artifacts/browser/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from evaluation.browser import chromium_missing_reason, launch_chromium
from pipelines.settings import REPO_ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Error, Page

ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"


@dataclass(frozen=True)
class HarmlessConsoleError:
    """A console error that says nothing about the workspace; `why` says why it is harmless."""

    text: re.Pattern[str]
    url: re.Pattern[str]
    why: str

    def matches(self, message: ConsoleMessage) -> bool:
        return bool(self.text.search(message.text)
                    and self.url.search(message.location.get("url", "")))


HARMLESS_CONSOLE_ERRORS = (
    HarmlessConsoleError(
        re.compile(r"^Failed to load resource: the server responded with a status of 404"),
        re.compile(r"/[a-z-]+/_stcore/(health|host-config)$"),
        "Opened at a page's address (/bots), Streamlit's frontend looks for its server under "
        "that path and under its parent, in parallel; the probe under the page's path is a "
        "404 by design, the one under the parent connects.",
    ),
    HarmlessConsoleError(
        re.compile(r"^Failed to load resource: the server responded with a status of 404"),
        re.compile(r"^http://127\.0\.0\.1:\d+/favicon\.ico$"),
        "Chromium asks the server of every page opened directly (not in a frame) for "
        "/favicon.ico; the public chat serves no icon, so the tab shows the default one.",
    ),
)


@dataclass
class WatchedPage:
    """A browser tab plus everything its console and scripts complained about."""

    page: Page
    folder: Path
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    shots: int = 0

    def on_console(self, message: ConsoleMessage) -> None:
        line = f"[{message.type}] {message.text} ({message.location.get('url', '')})"
        self.console.append(line)
        if message.type == "error" and not any(h.matches(message)
                                               for h in HARMLESS_CONSOLE_ERRORS):
            self.errors.append(line)

    def on_page_error(self, error: Error) -> None:
        line = f"[pageerror] {error.message}\n{error.stack or ''}"
        self.console.append(line)
        self.errors.append(line)

    def shot(self, name: str) -> Path:
        """A full-page screenshot, numbered in the order of the steps."""
        self.shots += 1
        path = self.folder / f"{self.shots:02d}-{name}.png"
        self.page.screenshot(path=path, full_page=True)
        return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session: the sync Playwright API keeps an asyncio loop running in this
    # thread until it stops, which would break every later test that calls asyncio.run().
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(f"kein echter Browser: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def watched(browser: Browser, request: pytest.FixtureRequest) -> Iterator[WatchedPage]:
    """A fresh browser context (no cookies, no session) with one tab whose console is kept;
    the console goes to test-artifacts/browser/<test>/console.log."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    context.set_default_timeout(30_000)
    page = context.new_page()
    watched = WatchedPage(page, folder)
    page.on("console", watched.on_console)
    page.on("pageerror", watched.on_page_error)
    yield watched
    try:
        watched.shot("zuletzt")  # the state a failure left behind
    except Exception as exc:  # noqa: BLE001 - a screenshot must not hide the real failure
        watched.console.append(f"[test] no last screenshot: {exc}")
    (folder / "console.log").write_text("\n".join(watched.console) + "\n", encoding="utf-8")
    context.close()
