"""The public chat's engine side: which bots the public may reach, limits, safe rendering.

Used by apps/public_chat.py (the Gradio page and the JSON API) and the Bots page (embed
snippets); nothing here imports a UI library. Everything a citizen or a document typed is
escaped before it becomes Markdown, so the chat never runs it as HTML or script.
"""

from __future__ import annotations

import html
import io
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pipelines.assistant import Citation, TurnResult
from pipelines.bots import BotConfig, BotNotFoundError, BotRepository, PublicSettings
from pipelines.engine import Engine
from pipelines.settings import Settings
from pipelines.store.models import Conversation, Message, Workspace

# Names of the answer languages in their own language, for the language switch.
LANGUAGE_OPTIONS = {
    "de": "Deutsch", "en": "English", "tr": "Türkçe", "ar": "العربية", "ru": "Русский",
    "uk": "Українська", "pl": "Polski", "ro": "Română", "fr": "Français", "es": "Español",
    "it": "Italiano", "fa": "فارسی", "nl": "Nederlands", "hr": "Hrvatski", "vi": "Tiếng Việt",
}
PUBLISHED_CACHE_SECONDS = 5.0
LOGO_MAX_BYTES = 1_000_000
LOGO_MAX_SIDE = 256
# Characters Markdown (and the HTML inside it) would give a meaning to.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")

AI_NOTICE = (
    "Sie schreiben mit einem KI-Assistenten, nicht mit einem Menschen. Er antwortet "
    "automatisch aus den Unterlagen der Verwaltung und kann sich irren – wichtige Angaben "
    "prüfen Sie bitte in der genannten Quelle. Auf Wunsch übernimmt ein Mensch."
)
PRIVACY_NOTICE = (
    "Bitte geben Sie keine persönlichen Daten ein. Ihre Fragen werden ohne Namen, Adressen "
    "und Nummern gespeichert, um den Dienst zu verbessern; keine Cookies zur Verfolgung, kein "
    "Tracking."
)


class PublicChatError(ValueError):
    """A request the public chat refuses; the message is German and says what to do."""

    def __init__(self, message: str, status: int = 422, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class PublicBot:
    workspace: str
    slug: str
    config: BotConfig
    version: int

    @property
    def path(self) -> str:
        return f"/w/{self.workspace}/{self.slug}/"

    @property
    def public(self) -> PublicSettings:
        return self.config.public

    def languages(self) -> dict[str, str]:
        """The bot's answer languages with their own names, German first."""
        codes = ["de", *[c for c in self.config.languages if c != "de"]]
        return {code: LANGUAGE_OPTIONS.get(code, code) for code in codes}


def not_published(workspace: str, slug: str) -> str:
    # The same words for "no such bot" and "not published": the public must not learn which
    # bots exist in a workspace.
    return (f"Unter /w/{workspace[:80]}/{slug[:80]}/ gibt es keinen öffentlichen Assistenten. "
            "Bitte prüfen Sie die Adresse.")


def find_published(engine: Engine, workspace: str, slug: str) -> PublicBot | None:
    """The published version of bot `slug` of `workspace`, or None (also for unknown names)."""
    with engine.session() as session:
        if session.scalar(select(Workspace.id).where(Workspace.slug == workspace)) is None:
            return None
        repo = BotRepository(session, workspace)
        try:
            found = repo.published(slug)
        except BotNotFoundError:
            return None
    if found is None:
        return None
    config, version = found
    return PublicBot(workspace, slug, config, version)


def list_published(engine: Engine) -> list[PublicBot]:
    """Every published bot of every workspace, for the server's start page."""
    with engine.session() as session:
        workspaces = session.scalars(select(Workspace.slug).order_by(Workspace.slug)).all()
        slugs = {ws: [b.slug for b in BotRepository(session, ws).list() if b.published_version]
                 for ws in workspaces}
    bots = [find_published(engine, ws, slug) for ws, names in slugs.items() for slug in names]
    return [bot for bot in bots if bot is not None]


class PublishedBots:
    """`find_published` with a short memory: a page load asks for dozens of assets, and a
    bot taken offline must disappear within seconds, not at the next restart."""

    def __init__(self, engine: Engine, seconds: float = PUBLISHED_CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.seconds = seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], tuple[float, PublicBot | None]] = {}

    def get(self, workspace: str, slug: str) -> PublicBot | None:
        key = (workspace, slug)
        now = self.clock()
        with self._lock:
            cached = self._seen.get(key)
        if cached is not None and now - cached[0] < self.seconds:
            return cached[1]
        bot = find_published(self.engine, workspace, slug)
        with self._lock:
            if len(self._seen) > 10_000:  # addresses probed at random must not fill memory
                self._seen.clear()
            self._seen[key] = (now, bot)
        return bot


class RateLimiter:
    """At most `limit` events per key within a sliding window of `window` seconds."""

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._events: dict[str, deque[float]] = defaultdict(deque)

    def wait_seconds(self, key: str, limit: int) -> int:
        """0 and the event counted, or how many seconds until the next one is allowed."""
        return self.admit([(key, limit)])[0]

    def admit(self, limits: list[tuple[str, int]]) -> list[int]:
        """Count one event under every (key, limit) when all of them allow it (all waits 0);
        otherwise count nothing and return each limit's seconds to wait."""
        now = self.clock()
        with self._lock:
            waits = [self._wait(key, limit, now) for key, limit in limits]
            if any(waits):
                return waits
            for key, _ in limits:
                self._events[key].append(now)
            if len(self._events) > 100_000:
                self._forget_idle(now)
            return waits

    def _wait(self, key: str, limit: int, now: float) -> int:
        events = self._events[key]
        while events and now - events[0] >= self.window:
            events.popleft()
        if len(events) < limit:
            return 0
        return max(1, int(self.window - (now - events[0]) + 0.999))

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, e in self._events.items() if not e or now - e[-1] >= self.window]:
            del self._events[key]


class TurnGate:
    """The limits of the public chat: message length, turns per conversation, turns per bot."""

    def __init__(self, settings: Settings, limiter: RateLimiter | None = None) -> None:
        self.settings = settings
        self.limiter = limiter or RateLimiter()

    def admit(self, bot: PublicBot, conversation_key: str, question: str) -> str:
        """The question, tidied; raises PublicChatError when it may not be asked now."""
        text = " ".join((question or "").split())
        if not text:
            raise PublicChatError("Bitte geben Sie eine Frage ein.")
        limit = self.settings.public_max_question_chars
        if len(text) > limit:
            raise PublicChatError(
                f"Ihre Nachricht ist mit {len(text)} Zeichen zu lang; erlaubt sind höchstens "
                f"{limit} Zeichen. Bitte fassen Sie die Frage kürzer.", status=413)
        session = (f"session:{conversation_key}", self.settings.public_session_turns_per_minute)
        every = (f"bot:{bot.workspace}/{bot.slug}", self.settings.public_bot_turns_per_minute)
        # A refused question counts against neither limit.
        session_wait, bot_wait = self.limiter.admit([session, every])
        if session_wait:
            raise PublicChatError(
                "Sie haben in kurzer Zeit sehr viele Fragen gestellt. Bitte warten Sie "
                f"{session_wait} Sekunden, dann geht es weiter.", status=429,
                retry_after=session_wait)
        if bot_wait:
            wait = bot_wait
            raise PublicChatError(
                "Der Assistent ist gerade sehr gefragt. Bitte versuchen Sie es in "
                f"{wait} Sekunden noch einmal.", status=429, retry_after=wait)
        return text


# --------------------------------------------------------------------------- rendering


def md_escape(text: str) -> str:
    """Text shown literally in Markdown: no tag, link, image or emphasis survives."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=True))


def safe_url(url: str) -> str:
    """`url` when it is a plain http(s) address, else "" (never javascript:, data: …)."""
    url = (url or "").strip()
    return url if re.match(r"^https?://[^\s<>\"'()\[\]]+$", url) else ""


def source_label(citation: Citation) -> str:
    parts = [citation.title or citation.source]
    if citation.page:
        parts.append(f"Seite {citation.page}")
    return ", ".join(p for p in parts if p)


def source_link(bot: PublicBot, message_id: int | None, citation: Citation) -> str:
    """Where the citizen can read a source: the web page it came from, else our page showing
    the cited passage."""
    url = safe_url(citation.url)
    if url:
        return url
    if message_id is None:
        return ""
    return f"{bot.path}quelle/{message_id}/{citation.number}"


def answer_markdown(bot: PublicBot, result: TurnResult) -> str:
    """The answer with its notes and sources as Markdown in which only our own parts (labels,
    links we built) have a meaning."""
    lines = [md_escape(result.answer)]
    notes = []
    if result.mode == "extractive":
        notes.append("Extraktiver Modus: wörtliche Sätze aus den Quellen, ohne Sprachmodell.")
    elif result.mode == "kuratiert":
        notes.append("Geprüfte Antwort der Verwaltung.")
    if result.translated:
        first = result.citations[0] if result.citations else None
        notes.append("Maschinell übersetzt" + (f" – die Quelle ist deutsch: „{source_label(first)}“"
                                                if first else "") + ".")
    if result.plain_language:
        notes.append("In Einfacher Sprache.")
    if result.notice:
        notes.append(result.notice)
    if notes:
        lines.append("_" + md_escape(" ".join(notes)) + "_")
    sources = citation_lines(bot, result.message_id, result.citations)
    if sources:
        lines.append("**Quellen:**\n" + "\n".join(sources))
    return "\n\n".join(lines)


def citation_lines(bot: PublicBot, message_id: int | None, citations: list[Citation]
                   ) -> list[str]:
    lines = []
    for citation in citations:
        label = md_escape(f"[{citation.number}] {source_label(citation)}")
        link = source_link(bot, message_id, citation)
        lines.append(f"- [{label}]({link})" if link else f"- {label}")
    return lines


def turn_payload(bot: PublicBot, result: TurnResult) -> dict[str, Any]:
    """A turn as the JSON API returns it (no retrieval internals, no timings of steps)."""
    return {
        "conversation_id": result.conversation_id,
        "message_id": result.message_id,
        "answer": result.answer,
        "mode": result.mode,
        "mode_label": result.mode_label,
        "notice": result.notice,
        "language": result.language,
        "translated": result.translated,
        "plain_language": result.plain_language,
        "no_answer": result.no_answer,
        "handoff": result.handoff,
        "handoff_offer": result.handoff_offer,
        "sources": [
            {"number": c.number, "title": source_label(c),
             "link": source_link(bot, result.message_id, c)}
            for c in result.citations
        ],
        "milliseconds": result.timings_ms.get("gesamt"),
    }


# --------------------------------------------------------------------------- embedding


def embed_snippets(base_url: str, bot: PublicBot) -> dict[str, str]:
    """Copy-ready HTML for the town's website: an iframe, and the floating chat button."""
    base = base_url.rstrip("/")
    url = base + bot.path
    title = html.escape(bot.config.name, quote=True)
    colour = bot.public.colour
    return {
        "iframe": (f'<iframe src="{url}" title="Chat: {title}" '
                   'style="width:100%;max-width:480px;height:640px;border:0" '
                   'loading="lazy"></iframe>'),
        "script": (f'<script src="{base}/widget.js" data-chat="{url}" data-title="{title}" '
                   f'data-color="{colour}" defer></script>'),
    }


def frame_ancestors(bot: PublicBot) -> str:
    """Content-Security-Policy value: who may show the chat in a frame."""
    return " ".join(["frame-ancestors", "'self'", *bot.public.allowed_origins])


# --------------------------------------------------------------------------- logo


def logo_path(settings: Settings, workspace: str, slug: str) -> Path:
    return settings.data_dir / "logos" / workspace / f"{slug}.png"


def save_logo(settings: Settings, workspace: str, slug: str, name: str, data: bytes) -> Path:
    """Store an uploaded logo as a PNG of at most 256 px; SVG is refused (it can carry script).
    Raises PublicChatError naming the file and the reason."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise PublicChatError(f"„{name}“ ist leer.")
    if len(data) > LOGO_MAX_BYTES:
        raise PublicChatError(f"„{name}“ ist mit {len(data) / 1e6:.1f} MB zu groß; erlaubt ist "
                              "1 MB.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG", "WEBP", "GIF"):
                raise PublicChatError(f"„{name}“ ist kein PNG-, JPEG-, WebP- oder GIF-Bild.")
            image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
            picture = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise PublicChatError(f"„{name}“ ist kein lesbares Bild ({type(exc).__name__}).") from exc
    target = logo_path(settings, workspace, slug)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    picture.save(temporary, format="PNG")
    temporary.replace(target)
    return target


# --------------------------------------------------------------------------- ownership


def message_of_conversation(engine: Engine, bot: PublicBot, conversation_id: str,
                            message_id: int) -> bool:
    """Whether answer `message_id` belongs to `conversation_id` of this bot: a citizen may
    rate and open only the answers of their own conversation."""
    with engine.session() as session:
        row = session.execute(
            select(Message.id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(Workspace, Workspace.id == Conversation.workspace_id)
            .where(Message.id == message_id, Conversation.id == conversation_id,
                   Workspace.slug == bot.workspace)
        ).first()
        return row is not None


def foreign_conversation(engine: Engine, bot: PublicBot, conversation_id: str) -> bool:
    """Whether `conversation_id` exists already for another bot or workspace: then a question
    must not continue it (nor read its history)."""
    from pipelines.store.models import Bot

    with engine.session() as session:
        row = session.execute(
            select(Bot.slug, Workspace.slug)
            .join(Conversation, Conversation.bot_id == Bot.id)
            .join(Workspace, Workspace.id == Conversation.workspace_id)
            .where(Conversation.id == conversation_id)).first()
    return row is not None and (row[0], row[1]) != (bot.slug, bot.workspace)


def cited_passage(engine: Engine, bot: PublicBot, message_id: int, number: int
                  ) -> Citation | None:
    """Source `number` of answer `message_id`, when that answer was given by this bot."""
    from pipelines.store.models import Bot

    with engine.session() as session:
        row = session.execute(
            select(Message.citations)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(Bot, Bot.id == Conversation.bot_id)
            .join(Workspace, Workspace.id == Conversation.workspace_id)
            .where(Message.id == message_id, Bot.slug == bot.slug,
                   Workspace.slug == bot.workspace)
        ).first()
    if row is None:
        return None
    for entry in row[0] or []:
        if entry.get("number") == number:
            fields = {k: entry.get(k) for k in Citation.__dataclass_fields__}
            return Citation(**fields)
    return None
