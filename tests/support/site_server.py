"""A generated town website ("Musterstadt") served on 127.0.0.1 for the crawler tests.

Routes live in a dict the test may change between two crawls (a page edited, removed, the
whole server answering 500). Every page carries navigation, a cookie banner and a footer
with marker words that must never reach the chunks. Answers ETag / Last-Modified and 304.

    with SiteServer() as site:
        site.url                      # http://127.0.0.1:PORT
        site.set_page("/neu.html", html_page("Neu", "<p>…</p>"))
        site.fail_status = 500        # every request from now on
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NAV_MARKER = "Navigationsleiste"
COOKIE_MARKER = "Cookie-Einwilligung"
FOOTER_MARKER = "Fußzeilenimpressum"
MARKERS = (NAV_MARKER, COOKIE_MARKER, FOOTER_MARKER)
LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str = ""
    etag: bool = True
    last_modified: bool = True
    sleep: float = 0.0
    # Send without Content-Length, in pieces (the crawler must stop reading at its limit).
    stream: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def html_page(title: str, content: str, links: tuple[str, ...] = ()) -> str:
    """A page with the usual clutter around `content` (HTML inside <main>)."""
    nav = " ".join(f'<a href="{href}">{href}</a>' for href in links)
    return f"""<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>{title} – Stadt Musterstadt</title></head>
<body>
<header><nav class="main-nav"><ul><li><a href="/">Startseite</a></li>
<li><a href="/buergerservice/">Bürgerservice</a></li><li>{NAV_MARKER} Rathaus Politik Kultur</li>
</ul></nav></header>
<div id="cookie-banner" class="cookie-consent"><p>{COOKIE_MARKER}: Diese Website verwendet
Cookies. <button>Alle akzeptieren</button></p></div>
<main><article><h1>{title}</h1>
{content}
</article></main>
<aside class="links">{nav}</aside>
<footer><p>{FOOTER_MARKER} · Datenschutz · Barrierefreiheit · © Stadt Musterstadt</p></footer>
</body></html>"""


def paragraphs(*texts: str) -> str:
    return "\n".join(f"<p>{t}</p>" for t in texts)


class SiteServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.fail_status: int | None = None
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- configuring -------------------------------------------------------------------
    def set_page(self, path: str, html: str, **options: Any) -> None:
        self.routes[path] = Route(body=html.encode("utf-8"), **options)

    def set_file(self, path: str, body: bytes, content_type: str, **options: Any) -> None:
        self.routes[path] = Route(body=body, content_type=content_type, **options)

    def redirect(self, path: str, target: str, status: int = 301) -> None:
        self.routes[path] = Route(status=status, location=target)

    def remove(self, path: str) -> None:
        self.routes.pop(path, None)

    def hits(self, path: str) -> list[dict[str, str]]:
        """Headers of every request for `path` so far."""
        with self._lock:
            return [headers for p, headers in self.requests if p == path]

    # -- serving -----------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.requests.append((path, headers))
        if self.fail_status is not None:
            self._send(handler, self.fail_status, b"Serverfehler", "text/plain")
            return
        route = self.routes.get(path)
        if route is None:
            self._send(handler, 404, b"<h1>Nicht gefunden</h1>", "text/html")
            return
        if route.sleep:
            time.sleep(route.sleep)
        if route.location:
            handler.send_response(route.status)
            handler.send_header("Location", route.location)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        extra = dict(route.headers)
        etag = f'"{hashlib.sha1(route.body).hexdigest()[:16]}"'
        if route.etag:
            extra["ETag"] = etag
            if headers.get("if-none-match") == etag:
                self._send(handler, 304, b"", route.content_type, extra)
                return
        if route.last_modified:
            extra["Last-Modified"] = LAST_MODIFIED
            since = headers.get("if-modified-since")
            if not route.etag and since and parsedate_to_datetime(since) >= \
                    parsedate_to_datetime(LAST_MODIFIED):
                self._send(handler, 304, b"", route.content_type, extra)
                return
        if route.stream:
            handler.send_response(route.status)
            handler.send_header("Content-Type", route.content_type)
            handler.end_headers()
            try:
                for start in range(0, len(route.body), 64 * 1024):
                    handler.wfile.write(route.body[start:start + 64 * 1024])
            except (BrokenPipeError, ConnectionResetError):
                pass  # the crawler stopped reading at its limit
            return
        self._send(handler, route.status, route.body, route.content_type, extra)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        if status != 304:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if status != 304:
            try:
                handler.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
