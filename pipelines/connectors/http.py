"""HTTP for connectors: our own user agent, a polite delay per host, timeouts, a byte limit
enforced while streaming, and redirects followed by hand so a loop or a hop off the site is
named instead of ending in a generic error. Every failure is a FetchError with a German
sentence; a 304 answer is a normal response."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from pipelines import __version__
from pipelines.german import german_number

REDIRECT_CODES = (301, 302, 303, 307, 308)
# The whole body must arrive within this many times the timeout (a server trickling bytes
# slower than the read timeout would otherwise hold a crawl for ever).
TOTAL_TIME_FACTOR = 5
HTTP_REASONS = {
    400: "ungültige Anfrage", 401: "Anmeldung nötig", 403: "Zugriff verweigert",
    404: "nicht gefunden", 405: "Methode nicht erlaubt", 408: "Zeitüberschreitung beim Server",
    410: "dauerhaft entfernt", 429: "zu viele Anfragen", 500: "interner Serverfehler",
    502: "fehlerhaftes Gateway", 503: "Dienst nicht verfügbar", 504: "Gateway-Zeitüberschreitung",
}


def default_user_agent(contact: str = "") -> str:
    """"Chatwerkstatt/<version> (+contact)": site operators see who crawls and whom to ask."""
    return f"Chatwerkstatt/{__version__} (+{contact or 'https://github.com/chatwerkstatt'})"


class FetchError(Exception):
    """One URL could not be fetched; `code` a stable word, `de` the German sentence."""

    def __init__(self, code: str, de: str, http_status: int | None = None) -> None:
        super().__init__(de)
        self.code = code
        self.de = de
        self.http_status = http_status


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]
    content: bytes = b""
    redirects: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return None


@dataclass
class FetchLimits:
    timeout: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    delay_seconds: float = 1.0
    user_agent: str = field(default_factory=default_user_agent)


def size_text(size: float) -> str:
    if size >= 1024 * 1024:
        return f"{german_number(size / 1024 / 1024, 1)} MB"
    return f"{german_number(size / 1024, 0)} KB"


def too_large(size: float | None, limit: int) -> FetchError:
    shown = f"{size_text(size)}, " if size else "mehr als "
    return FetchError("too_large", f"Die Antwort ist zu groß ({shown}erlaubt sind "
                                   f"{size_text(limit)}); sie wurde nicht geladen.")


def http_error(status: int) -> FetchError:
    reason = HTTP_REASONS.get(status, "Fehler des Servers" if status >= 500 else "Fehler")
    return FetchError(f"http_{status}", f"Der Server antwortet mit HTTP {status} ({reason}).",
                      http_status=status)


class Fetcher:
    """One httpx client for one run; not thread-safe (a run fetches one URL at a time)."""

    def __init__(self, limits: FetchLimits) -> None:
        self.limits = limits
        self.client = httpx.Client(
            timeout=httpx.Timeout(limits.timeout),
            follow_redirects=False,
            headers={"User-Agent": limits.user_agent},
        )
        self._last_request: dict[str, float] = {}
        self._host_delay: dict[str, float] = {}

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def set_host_delay(self, host: str, seconds: float) -> None:
        """A longer delay for one host (robots.txt Crawl-delay)."""
        self._host_delay[host] = seconds

    def _wait_for(self, host: str) -> None:
        delay = max(self.limits.delay_seconds, self._host_delay.get(host, 0.0))
        last = self._last_request.get(host)
        if last is not None and delay > 0:
            pause = last + delay - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        self._last_request[host] = time.monotonic()

    def get(self, url: str, headers: dict[str, str] | None = None,
            accept: Callable[[str], str | None] | None = None,
            redirect_check: Callable[[str], FetchError | None] | None = None,
            max_bytes: int | None = None, error_status: bool = True) -> Response:
        """GET `url`, following up to max_redirects redirects by hand.

        `accept(content_type)` may return a FetchError's reason code "not_html" message to
        refuse a body before it is read; `redirect_check(target)` may refuse a redirect
        target. Status 400 and above raise (unless `error_status` is False); 304 returns."""
        limit = max_bytes or self.limits.max_bytes
        seen = [url]
        current = url
        while True:
            response = self._get_once(current, headers or {}, accept, limit, error_status)
            if response.status not in REDIRECT_CODES:
                response.redirects = seen[:-1]
                return response
            location = response.headers.get("location", "")
            if not location:
                raise FetchError("invalid_content", f"Weiterleitung (HTTP {response.status}) "
                                                    "ohne Ziel.", response.status)
            target = urljoin(current, location.strip())
            if target in seen:
                chain = " → ".join([*seen[seen.index(target):], target])
                raise FetchError("redirect_loop",
                                 f"Endlose Weiterleitung: die Adressen leiten im Kreis "
                                 f"weiter ({chain}).", response.status)
            if len(seen) > self.limits.max_redirects:
                raise FetchError("redirect_limit",
                                 f"Zu viele Weiterleitungen (mehr als "
                                 f"{self.limits.max_redirects}).", response.status)
            if redirect_check is not None:
                refused = redirect_check(target)
                if refused is not None:
                    raise refused
            seen.append(target)
            current = target

    def _get_once(self, url: str, headers: dict[str, str],
                  accept: Callable[[str], str | None] | None, limit: int,
                  error_status: bool) -> Response:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("invalid_url", f"„{url}“ ist keine gültige http(s)-Adresse.")
        self._wait_for(parts.netloc)
        deadline = time.monotonic() + self.limits.timeout * TOTAL_TIME_FACTOR
        try:
            with self.client.stream("GET", url, headers=headers) as answer:
                response = Response(str(answer.url), answer.status_code,
                                    {k.lower(): v for k, v in answer.headers.items()})
                if answer.status_code in REDIRECT_CODES or answer.status_code == 304:
                    return response
                if answer.status_code >= 400 and error_status:
                    raise http_error(answer.status_code)
                if accept is not None and answer.status_code < 400:
                    refused = accept(response.content_type)
                    if refused is not None:
                        raise FetchError("not_html", refused, answer.status_code)
                declared = answer.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise too_large(int(declared), limit)
                body = bytearray()
                for piece in answer.iter_bytes():
                    body.extend(piece)
                    if len(body) > limit:
                        raise too_large(None, limit)
                    if time.monotonic() > deadline:
                        raise FetchError("timeout", "Die Antwort kam zu langsam (mehr als "
                                         f"{german_number(self.limits.timeout * TOTAL_TIME_FACTOR)}"
                                         " s für die ganze Seite).")
                response.content = bytes(body)
                return response
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", "Keine Antwort innerhalb von "
                             f"{german_number(self.limits.timeout, 1)} s "
                             "(Zeitüberschreitung).") from exc
        except httpx.ConnectError as exc:
            raise FetchError("unreachable", f"Der Server {parts.netloc} ist nicht erreichbar "
                             "(Verbindung abgelehnt oder Name unbekannt).") from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise FetchError("invalid_url", f"„{url}“ ist keine gültige Adresse.") from exc
        except httpx.HTTPError as exc:
            raise FetchError("network", f"Übertragungsfehler: {type(exc).__name__} "
                             f"({str(exc)[:120]}).") from exc
