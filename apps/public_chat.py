"""The public chat that towns embed on their website: `python -m apps.public_chat`.

One ASGI server (FastAPI + uvicorn) serves, for every published bot of every workspace:
- the chat page at /w/<workspace>/<bot>/ (one Gradio app, mounted under a path with the
  workspace and the bot as parameters, so a bot published a minute ago is reachable at once),
- a small JSON API for the same turns at /api/w/<workspace>/<bot>/… (chat, optionally
  streamed as NDJSON; feedback; handoff; clerks' replies),
- the embed script /widget.js, a demo host page /demo/musterstadt and /datenschutz.

`PublicGate` stands in front of all of it: unknown or unpublished bots get a 404 before any
Gradio code runs, every bot response carries the bot's Content-Security-Policy
frame-ancestors, and the chat page is served with lang="de" and the town's colour.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import re
import sys
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

# Imported at module level: Gradio and FastAPI read the handlers' type hints (gr.Request,
# Request) by name from this module.
import gradio as gr  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import (  # noqa: E402
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.concurrency import run_in_threadpool  # noqa: E402

import pipelines  # noqa: E402,F401  (offline defaults before any model library loads)
from pipelines import handoff  # noqa: E402
from pipelines.assistant import Assistant, TurnResult  # noqa: E402
from pipelines.engine import Engine  # noqa: E402
from pipelines.feedback import record_feedback  # noqa: E402
from pipelines.mail import mail_enabled  # noqa: E402
from pipelines.public import (  # noqa: E402
    AI_NOTICE,
    PRIVACY_NOTICE,
    PublicBot,
    PublicChatError,
    PublishedBots,
    TurnGate,
    answer_markdown,
    cited_passage,
    foreign_conversation,
    list_published,
    logo_path,
    md_escape,
    message_of_conversation,
    not_published,
    source_label,
    turn_payload,
)
from pipelines.settings import REPO_ROOT, Settings  # noqa: E402

log = logging.getLogger(__name__)
STATIC = REPO_ROOT / "apps" / "public"
BOT_PATH = re.compile(r"^/(api/)?w/([^/]+)/([^/]+)(/.*)?$")
MAX_BODY_BYTES = 64_000
AUTO_LANGUAGE = "auto"
REPLY_POLL_SECONDS = 10
SUGGESTION_SLOTS = 6
# Gradio paths a citizen's page never needs: uploads (the chat takes no files).
BLOCKED_SUFFIXES = ("/gradio_api/upload",)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), geolocation=(), microphone=()"),
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

CSS = """
.gradio-container { --cw-text: #1b1b1b; max-width: 760px !important; margin: 0 auto !important;
  --button-primary-background-fill: var(--cw-colour, #005a9c);
  --button-primary-background-fill-hover: var(--cw-colour, #005a9c);
  --button-primary-text-color: #ffffff; --button-primary-text-color-hover: #ffffff;
  --color-accent: var(--cw-colour, #005a9c); --body-text-color-subdued: #4a4a4a;
  --input-placeholder-color: #595959; --block-info-text-color: #4a4a4a; }
.cw-header { display: flex; align-items: center; gap: 12px; padding: 10px 14px;
  background: var(--cw-colour, #005a9c); color: #fff; border-radius: 8px; }
.cw-header h1 { margin: 0; font-size: 1.25rem; color: #fff; }
.cw-header img { height: 40px; width: auto; background: #fff; border-radius: 4px; padding: 2px; }
.cw-notice { font-size: 0.95rem; border-left: 4px solid var(--cw-colour, #005a9c);
  padding: 6px 10px; background: #f4f6f8; color: #1b1b1b; }
.cw-notice a, .cw-chat a { color: #004b85; text-decoration: underline; }
.cw-sr-only { position: absolute !important; width: 1px !important; height: 1px !important;
  overflow: hidden !important; clip: rect(0 0 0 0) !important; white-space: nowrap !important; }
.cw-alert { color: #8a1c1c; font-weight: 600; }
*:focus-visible { outline: 3px solid #1b1b1b !important; outline-offset: 2px !important;
  box-shadow: 0 0 0 5px #ffffff !important; }
footer { display: none !important; }
@media (max-width: 480px) { .gradio-container { padding: 4px !important; } }
"""

# Runs once the page is built: live regions for screen readers, a language for the page.
PAGE_JS = """
() => {
  const live = document.getElementById('cw-live');
  if (live) { live.setAttribute('aria-live', 'polite'); live.setAttribute('role', 'status'); }
  const status = document.getElementById('cw-status');
  if (status) { status.setAttribute('aria-live', 'polite'); status.setAttribute('role', 'status'); }
  const alert = document.getElementById('cw-alert');
  if (alert) { alert.setAttribute('role', 'alert'); }
  document.documentElement.lang = document.documentElement.lang || 'de';
  // Inside the widget's frame: Escape closes the widget (apps/public/widget.js listens),
  // unless it closes an open list of this page first.
  if (window.parent !== window) {
    document.addEventListener('keydown', (event) => {
      const open = document.activeElement
        && document.activeElement.getAttribute('aria-expanded') === 'true';
      if (event.key === 'Escape' && !open) {
        window.parent.postMessage('chatwerkstatt:close', '*');
      }
    });
  }
}
"""


class PublicContext:
    """What every request of the public server shares: engine, bots, limits, assistants."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.bots = PublishedBots(engine)
        self.gate = TurnGate(engine.settings)
        self._assistants: dict[tuple[str, str, int, str], Assistant] = {}

    def bot(self, workspace: str, slug: str) -> PublicBot:
        bot = self.bots.get(workspace, slug)
        if bot is None:
            raise PublicChatError(not_published(workspace, slug), status=404)
        return bot

    def assistant(self, bot: PublicBot, channel: str) -> Assistant:
        key = (bot.workspace, bot.slug, bot.version, channel)
        if key not in self._assistants:
            if len(self._assistants) > 500:
                self._assistants.clear()
            self._assistants[key] = Assistant(self.engine, bot.slug, bot.workspace,
                                              version=bot.version, channel=channel)
        return self._assistants[key]

    def turn(self, bot: PublicBot, channel: str, question: str, conversation_id: str,
             language: str | None, plain_language: bool) -> Iterator[Any]:
        """Admit the question (limits), then stream the assistant's events."""
        if foreign_conversation(self.engine, bot, conversation_id):
            raise PublicChatError("Dieses Gespräch gehört zu einem anderen Assistenten; bitte "
                                  "ohne „conversation_id“ ein neues beginnen.")
        text = self.gate.admit(bot, conversation_id, question)
        answer_language = language if language in bot.languages() else None
        return self.assistant(bot, channel).stream(text, conversation_id, answer_language,
                                                     plain_language)


# --------------------------------------------------------------------------- the gate


class PublicGate:
    """ASGI middleware: only published bots, security headers, and the page's language and
    colour (written into Gradio's HTML before it leaves the server)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]],
                 context: PublicContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        match = BOT_PATH.match(path)
        headers = list(SECURITY_HEADERS)
        if match is None:
            headers.append((b"content-security-policy", b"frame-ancestors 'self'"))
            await self.app(scope, receive, _with_headers(send, headers))
            return
        is_api, workspace, slug, rest = match.group(1), match.group(2), match.group(3), \
            match.group(4) or ""
        bot = await run_in_threadpool(self.context.bots.get, workspace, slug)
        if bot is None or rest.endswith(BLOCKED_SUFFIXES):
            message = not_published(workspace, slug) if bot is None else "Nicht erlaubt."
            status = 404 if bot is None else 403
            if is_api or "gradio_api" in rest:
                await _send_body(send, status, json.dumps({"error": message}).encode(),
                                 b"application/json", headers)
            else:
                await _send_body(send, status, _page("Nicht gefunden", f"<p>{html.escape(message)}"
                                                     "</p>").encode(), b"text/html; charset=utf-8",
                                 headers)
            return
        from pipelines.public import frame_ancestors

        headers.append((b"content-security-policy", frame_ancestors(bot).encode()))
        if scope["method"] == "GET" and rest in ("", "/") and not is_api:
            await self._page(scope, receive, send, bot, headers)
            return
        await self.app(scope, receive, _with_headers(send, headers))

    async def _page(self, scope: Scope, receive: Receive, send: Send, bot: PublicBot,
                    headers: list[tuple[bytes, bytes]]) -> None:
        """Gradio's HTML page with lang="de", the bot's title and the town colour."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def collect(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, collect)
        raw_headers = [(k, v) for k, v in start.get("headers", [])
                       if k.lower() not in (b"content-length", b"content-security-policy")]
        body = b"".join(chunks)
        encoded = any(k.lower() == b"content-encoding" for k, _ in raw_headers)
        if start.get("status") == 200 and not encoded:
            body = _rewrite_page(body.decode("utf-8"), bot).encode("utf-8")
        await send({"type": "http.response.start", "status": start.get("status", 500),
                    "headers": raw_headers + headers
                    + [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _rewrite_page(text: str, bot: PublicBot) -> str:
    title = html.escape(f"{bot.config.name} – Chat", quote=False)
    text = re.sub(r'<html(\s+)lang="[^"]*"', r'<html\1lang="de"', text, count=1)
    text = re.sub(r"<title>.*?</title>", f"<title>{title}</title>", text, count=1, flags=re.S)
    style = f"<style>:root {{ --cw-colour: {bot.public.colour}; }}</style>"
    return text.replace("</head>", style + "</head>", 1)


def _with_headers(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    names = {name for name, _ in headers}

    async def wrapped(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
            message = {**message, "headers": kept + headers}
        await send(message)

    return wrapped


async def _send_body(send: Send, status: int, body: bytes, content_type: bytes,
                     headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def _page(title: str, body: str) -> str:
    """A small accessible German HTML page around `body` (already escaped HTML)."""
    return (
        '<!doctype html><html lang="de"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>body{{font-family:system-ui,sans-serif;"
        "max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}"
        "a{color:#004b85}blockquote{border-left:4px solid #005a9c;margin:0;padding:.5rem 1rem;"
        "background:#f4f6f8;white-space:pre-wrap}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )


# --------------------------------------------------------------------------- the chat page


def build_chat(context: PublicContext) -> Any:
    """The Gradio app every bot's page uses; which bot comes from the request's path."""

    def bot_of(request: gr.Request) -> PublicBot:
        params = getattr(request, "path_params", None) or {}
        return context.bot(str(params.get("workspace", "")), str(params.get("bot", "")))

    def on_load(request: gr.Request) -> list[Any]:
        bot = bot_of(request)
        public = bot.public
        languages = [("Automatisch (Sprache der Frage)", AUTO_LANGUAGE)] + [
            (name, code) for code, name in bot.languages().items()]
        suggestions = [gr.update(value=q, visible=True) for q in public.suggested_questions]
        suggestions += [gr.update(visible=False)] * (SUGGESTION_SLOTS - len(suggestions))
        privacy = public.privacy_url or "/datenschutz"
        notice = (f"**Hinweis:** {md_escape(AI_NOTICE)} {md_escape(PRIVACY_NOTICE)} "
                  f"[Datenschutzhinweise]({privacy})")
        greeting = [{"role": "assistant", "content": md_escape(bot.config.greeting)}]
        return [
            _header_html(bot, context.engine.settings),
            notice,
            greeting,
            gr.update(choices=languages, value=AUTO_LANGUAGE,
                      visible=len(languages) > 2),
            str(uuid.uuid4()),
            gr.update(visible=mail_enabled(context.engine.settings)),
            *suggestions,
        ]

    def respond(question: str, history: list[dict[str, Any]], conversation: str,
                language: str, plain: bool, ids: dict[str, int], request: gr.Request
                ) -> Iterator[tuple[Any, ...]]:
        bot = bot_of(request)
        conversation = conversation or str(uuid.uuid4())
        history = list(history or [])
        try:
            events = context.turn(bot, "public", question or "", conversation,
                                  None if language == AUTO_LANGUAGE else language, bool(plain))
            first = next(events)
        except PublicChatError as exc:
            yield (history, question, conversation, ids, gr.update(), "", str(exc))
            return
        history.append({"role": "user", "content": md_escape(" ".join(question.split()))})
        history.append({"role": "assistant", "content": "…"})
        streamed = ""
        result: TurnResult | None = None
        for event in _chain(first, events):
            if event.kind == "delta":
                streamed += event.text
                history[-1] = {"role": "assistant", "content": md_escape(streamed)}
                yield (history, "", conversation, ids, gr.update(), "", "")
            elif event.kind == "reset":
                streamed = ""
            else:
                result = event.result
        assert result is not None
        history[-1] = {"role": "assistant", "content": answer_markdown(bot, result)}
        if result.message_id is not None:
            ids = {**ids, str(len(history) - 1): result.message_id}
        offer = gr.update(visible=result.handoff)
        yield (history, "", conversation, ids, offer, _announce(result), "")

    def on_like(conversation: str, ids: dict[str, int], data: gr.LikeData,
                request: gr.Request) -> str:
        bot = bot_of(request)
        index = data.index if isinstance(data.index, int) else data.index[0]
        message_id = ids.get(str(index))
        if message_id is None or not message_of_conversation(context.engine, bot, conversation,
                                                             message_id):
            return "Diese Nachricht lässt sich nicht bewerten."
        liked = data.liked is True or data.liked == "Like"
        record_feedback(context.engine, bot.workspace, message_id, 1 if liked else -1)
        return "Danke für Ihre Bewertung."

    def accept_handoff(conversation: str, email: str, request: gr.Request
                       ) -> tuple[Any, ...]:
        bot = bot_of(request)
        try:
            created = handoff.create_ticket(context.engine, bot.workspace, conversation,
                                            email or None)
        except handoff.TicketError as exc:
            return (gr.update(), str(exc), gr.update(), "")
        ticket = created.ticket
        text = (f"Anfrage Nr. {ticket.id}: {created.message} Die Antwort erscheint hier im "
                "Chat"
                + (" und kommt per E-Mail." if email else "."))
        return (gr.update(visible=False), "", gr.Timer(active=True), md_escape(text))

    def decline_handoff() -> tuple[Any, ...]:
        return (gr.update(visible=False), "Gut, dann fragen Sie gern weiter.")

    def new_conversation() -> tuple[Any, ...]:
        return (str(uuid.uuid4()), {}, [], gr.Timer(active=False), gr.update(visible=False),
                "Neues Gespräch begonnen. Frühere Fragen fließen nicht mehr ein.")

    def poll_replies(conversation: str, history: list[dict[str, Any]], shown: list[int],
                     request: gr.Request) -> tuple[Any, ...]:
        bot_of(request)
        replies = [r for r in handoff.replies_for(context.engine, conversation)
                   if r.ticket_id not in shown] if conversation else []
        if not replies:
            return (gr.update(), shown, "")
        history = list(history or [])
        for reply in replies:
            history.append({"role": "assistant", "content": (
                f"**Antwort von {md_escape(reply.office_name)}** (ein Mensch aus der Verwaltung):"
                f"\n\n{md_escape(reply.text)}")})
        announcement = " ".join(f"Neue Antwort von {r.office_name}: {r.text}" for r in replies)
        return (history, [*shown, *(r.ticket_id for r in replies)], md_escape(announcement))

    with gr.Blocks(title="Digitaler Assistent", analytics_enabled=False,
                   fill_height=False) as demo:
        conversation = gr.State("")
        message_ids = gr.State({})
        shown_replies = gr.State([])
        header = gr.HTML()
        notice = gr.Markdown(elem_classes=["cw-notice"])
        with gr.Row(equal_height=True):
            language = gr.Dropdown(label="Sprache der Antworten", choices=[], scale=3,
                                   interactive=True, min_width=180)
            plain = gr.Checkbox(label="Einfache Sprache", value=False, scale=2, min_width=160,
                                info="Antworten in kurzen, einfachen Sätzen")
        chat = gr.Chatbot(label="Gespräch mit dem Assistenten", height=440,
                          elem_classes=["cw-chat"], feedback_options=("Like", "Dislike"),
                          buttons=[], group_consecutive_messages=False,
                          allow_file_downloads=False, autoscroll=True)
        with gr.Group(visible=False, elem_classes=["cw-offer"]) as offer_box:
            gr.Markdown("**Übergabe an einen Menschen:** Sie können hier im Chat auf die "
                        "Antwort warten oder, falls angeboten, eine E-Mail-Adresse angeben.")
            email = gr.Textbox(label="E-Mail-Adresse für die Antwort (freiwillig)",
                               type="email", visible=False)
            with gr.Row():
                accept = gr.Button("Ja, an einen Menschen übergeben", variant="primary")
                decline = gr.Button("Nein, danke", variant="secondary")
        with gr.Row(elem_classes=["cw-suggestions"]):
            suggestions = [gr.Button(visible=False, size="sm", variant="secondary",
                                     min_width=120) for _ in range(SUGGESTION_SLOTS)]
        with gr.Row(equal_height=True):
            box = gr.Textbox(label="Ihre Frage", placeholder="Frage eingeben, Eingabetaste "
                             "sendet", lines=1, max_lines=4, scale=5, submit_btn=False)
            send = gr.Button("Senden", variant="primary", scale=1, min_width=90)
        alert = gr.Markdown(elem_id="cw-alert", elem_classes=["cw-alert"])
        status = gr.Markdown(elem_id="cw-status")
        live = gr.Markdown(elem_id="cw-live", elem_classes=["cw-sr-only"])
        timer = gr.Timer(REPLY_POLL_SECONDS, active=False)

        demo.load(on_load, None, [header, notice, chat, language, conversation, email,
                                  *suggestions], js=PAGE_JS)
        turn_outputs = [chat, box, conversation, message_ids, offer_box, live, alert]
        turn_inputs = [box, chat, conversation, language, plain, message_ids]
        box.submit(respond, turn_inputs, turn_outputs, concurrency_limit=None)
        send.click(respond, turn_inputs, turn_outputs, concurrency_limit=None)
        for button in suggestions:
            button.click(respond, [button, chat, conversation, language, plain, message_ids],
                         turn_outputs, concurrency_limit=None)
        chat.like(on_like, [conversation, message_ids], status)
        accept.click(accept_handoff, [conversation, email], [offer_box, alert, timer, status])
        decline.click(decline_handoff, None, [offer_box, status])
        timer.tick(poll_replies, [conversation, chat, shown_replies],
                   [chat, shown_replies, live])
        # "Chat leeren" starts a new conversation: no history carried into the next answer.
        chat.clear(new_conversation, None, [conversation, message_ids, shown_replies, timer,
                                            offer_box, status])
    return demo


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def _header_html(bot: PublicBot, settings: Settings) -> str:
    logo = ""
    if logo_path(settings, bot.workspace, bot.slug).exists():
        alt = html.escape(bot.public.logo_alt or f"Logo: {bot.config.name}", quote=True)
        logo = f'<img src="{bot.path}logo" alt="{alt}">'
    return (f'<div class="cw-header">{logo}<h1>{html.escape(bot.config.name)}</h1></div>')


def _announce(result: TurnResult) -> str:
    text = " ".join(result.answer.split())
    return md_escape(f"Neue Antwort des Assistenten: {text[:400]}")


# --------------------------------------------------------------------------- the server


def create_app(engine: Engine | None = None) -> Any:
    """The whole public server as an ASGI app (FastAPI with the Gradio chat mounted)."""
    engine = engine or Engine()
    context = PublicContext(engine)
    # Models and indexes load in the background; /health answers 200 once they are loaded,
    # so the first citizen does not wait for them.
    ready = threading.Event()
    threading.Thread(target=_warm_up, args=(engine, ready), name="warm-up", daemon=True).start()
    app = FastAPI(title="Chatwerkstatt – öffentlicher Chat", docs_url=None, redoc_url=None,
                  openapi_url=None)

    def error(exc: PublicChatError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=headers)

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise PublicChatError("Die Anfrage ist zu groß.", status=413)
        try:
            data = json.loads(raw or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PublicChatError(f"Die Anfrage ist kein gültiges JSON ({exc}).") from exc
        if not isinstance(data, dict):
            raise PublicChatError("Die Anfrage muss ein JSON-Objekt sein.")
        return data

    async def opened(workspace: str, slug: str, request: Request,
                     conversation_required: bool = True) -> tuple[PublicBot, dict[str, Any], str]:
        """The published bot, the JSON body and its conversation id (a new one when the body
        may start a conversation); raises PublicChatError."""
        bot = context.bot(workspace, slug)
        data = await body_of(request)
        conversation = text_field(data, "conversation_id", required=conversation_required)
        if not conversation and not conversation_required:
            conversation = str(uuid.uuid4())
        _check_uuid(conversation)
        return bot, data, conversation

    def text_field(data: dict[str, Any], name: str, required: bool = False) -> str:
        value = data.get(name)
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise PublicChatError(f"Das Feld „{name}“ muss ein Text sein.")
        return value

    @app.get("/health", response_class=PlainTextResponse)
    def health() -> Response:
        if not ready.is_set():
            return PlainTextResponse("startet", status_code=503, headers={"Retry-After": "2"})
        return PlainTextResponse("ok")

    @app.get("/", response_class=HTMLResponse)
    def start() -> str:
        bots = list_published(engine)
        items = "".join(
            f'<li><a href="{html.escape(b.path)}">{html.escape(b.config.name)}</a> '
            f"<small>({html.escape(b.workspace)})</small></li>" for b in bots)
        return _page("Öffentliche Assistenten", (
            f"<ul>{items}</ul>" if items else "<p>Noch kein Assistent ist veröffentlicht.</p>")
            + '<p><a href="/demo/musterstadt">Demo: Website der Stadt Musterstadt mit '
              "eingebettetem Chat</a></p>")

    @app.get("/datenschutz", response_class=HTMLResponse)
    def privacy() -> str:
        return _page("Datenschutzhinweise zum Chat", (
            f"<p>{html.escape(AI_NOTICE)}</p><p>{html.escape(PRIVACY_NOTICE)}</p>"
            "<p>Gespeichert werden Ihre Fragen und die Antworten, nachdem Namen, "
            "Anschriften, Telefonnummern, E-Mail-Adressen, Kontonummern und ähnliche Angaben "
            "entfernt wurden, sowie Ihre Bewertung. Ihre IP-Adresse wird nicht gespeichert. Die "
            "Verwaltung löscht oder anonymisiert die Gespräche nach der von ihr festgelegten "
            "Frist. Geben Sie für eine Übergabe an einen Menschen freiwillig eine "
            "E-Mail-Adresse an, wird sie nur für die Antwort verwendet und beim Abschluss "
            "Ihrer Anfrage gelöscht.</p><p>Der Chat setzt keine Cookies zur Verfolgung und "
            "bindet keine Dienste Dritter ein.</p>"))

    @app.get("/widget.js")
    def widget() -> Response:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/demo/musterstadt")
    def demo_page() -> Response:
        return FileResponse(STATIC / "musterstadt.html", media_type="text/html")

    @app.get("/w/{workspace}/{slug}/logo")
    def logo(workspace: str, slug: str) -> Response:
        path = logo_path(engine.settings, workspace, slug)
        if not path.exists():
            return PlainTextResponse("Kein Logo.", status_code=404)
        return FileResponse(path, media_type="image/png")

    @app.get("/w/{workspace}/{slug}/quelle/{message_id}/{number}", response_class=HTMLResponse)
    def source(workspace: str, slug: str, message_id: int, number: int) -> Response:
        bot = context.bots.get(workspace, slug)
        citation = cited_passage(engine, bot, message_id, number) if bot else None
        if bot is None or citation is None:
            return HTMLResponse(_page("Quelle nicht gefunden", "<p>Diese Quelle gibt es "
                                      "nicht (mehr).</p>"), status_code=404)
        return HTMLResponse(_page(f"Quelle [{number}]: {source_label(citation)}", (
            f"<p>Aus: <strong>{html.escape(citation.source)}</strong>"
            + (f", Seite {citation.page}" if citation.page else "")
            + (f", Abschnitt „{html.escape(citation.section)}“" if citation.section else "")
            + f"</p><blockquote>{html.escape(citation.snippet)}</blockquote>"
            f'<p><a href="{html.escape(bot.path)}">Zurück zum Chat</a></p>')))

    @app.post("/api/w/{workspace}/{slug}/chat")
    async def api_chat(workspace: str, slug: str, request: Request) -> Response:
        try:
            bot, data, conversation = await opened(workspace, slug, request,
                                                   conversation_required=False)
            question = text_field(data, "question", required=True)
            language = text_field(data, "language") or None
            plain = bool(data.get("plain_language", False))
            events = await run_in_threadpool(context.turn, bot, "api", question, conversation,
                                             language, plain)
        except PublicChatError as exc:
            return error(exc)
        if not data.get("stream"):
            result = await run_in_threadpool(_final, events)
            return JSONResponse(turn_payload(bot, result))

        def lines() -> Iterator[bytes]:
            for event in events:
                if event.kind == "final":
                    payload = {"type": "final", **turn_payload(bot, event.result)}
                else:
                    payload = {"type": event.kind, "text": event.text}
                yield (json.dumps(payload, ensure_ascii=False) + "\n").encode("utf-8")

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @app.post("/api/w/{workspace}/{slug}/feedback")
    async def api_feedback(workspace: str, slug: str, request: Request) -> Response:
        try:
            bot, data, conversation = await opened(workspace, slug, request)
            message_id, rating = data.get("message_id"), data.get("rating")
            if not isinstance(message_id, int) or not message_of_conversation(
                    engine, bot, conversation, message_id):
                raise PublicChatError("Diese Antwort gehört nicht zu Ihrem Gespräch.",
                                      status=404)
            try:
                record_feedback(engine, bot.workspace, message_id, rating,  # type: ignore[arg-type]
                                text_field(data, "comment"))
            except ValueError as exc:
                raise PublicChatError(str(exc)) from exc
        except PublicChatError as exc:
            return error(exc)
        return JSONResponse({"ok": True})

    @app.post("/api/w/{workspace}/{slug}/handoff")
    async def api_handoff(workspace: str, slug: str, request: Request) -> Response:
        try:
            bot, data, conversation = await opened(workspace, slug, request)
            try:
                created = handoff.create_ticket(engine, bot.workspace, conversation,
                                                text_field(data, "email") or None)
            except handoff.TicketError as exc:
                raise PublicChatError(str(exc)) from exc
        except PublicChatError as exc:
            return error(exc)
        return JSONResponse({"ticket": created.ticket.id, "office": created.ticket.office_name,
                             "message": created.message})

    @app.get("/api/w/{workspace}/{slug}/replies")
    def api_replies(workspace: str, slug: str, conversation_id: str = "") -> Response:
        try:
            context.bot(workspace, slug)
            _check_uuid(conversation_id)
        except PublicChatError as exc:
            return error(exc)
        replies = handoff.replies_for(engine, conversation_id)
        return JSONResponse({"replies": [
            {"ticket": r.ticket_id, "office": r.office_name, "text": r.text,
             "at": r.at.isoformat()} for r in replies]})

    demo = build_chat(context)
    demo.queue(default_concurrency_limit=None)
    app = gr.mount_gradio_app(
        app, demo, path="/w/{workspace}/{bot}", footer_links=[], run_history=False,
        theme=gr.themes.Default(primary_hue="blue", font=("system-ui", "Arial", "sans-serif"),
                                font_mono=("ui-monospace", "monospace")),
        css=CSS, show_error=False, ssr_mode=False, pwa=False, mcp_server=False)
    app.add_middleware(PublicGate, context=context)
    return app


def _warm_up(engine: Engine, ready: threading.Event) -> None:
    """Load the embedding model, the language detector and every published bot's indexes by
    answering one question per bot without logging it."""
    try:
        engine.warm_up()
        for bot in list_published(engine):
            Assistant(engine, bot.slug, bot.workspace, version=bot.version, channel="public",
                      log_turns=False).ask("Öffnungszeiten und Gebühren")
    except Exception:  # a broken bot must not keep the server from starting
        log.exception("Aufwärmen des öffentlichen Chats fehlgeschlagen")
    finally:
        ready.set()


def _final(events: Iterator[Any]) -> TurnResult:
    result = None
    for event in events:
        if event.kind == "final":
            result = event.result
    assert result is not None
    return result


def _check_uuid(value: str) -> None:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError) as exc:
        raise PublicChatError("„conversation_id“ muss eine UUID sein, wie sie die erste "
                              "Antwort zurückgibt.") from exc


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m apps.public_chat",
                                     description="Öffentlicher Chat für die Website der Stadt")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8502)
    args = parser.parse_args(argv)
    print(f"Öffentlicher Chat: http://{args.host}:{args.port}/ "
          f"(Demo-Seite: http://{args.host}:{args.port}/demo/musterstadt)", flush=True)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning",
                proxy_headers=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

