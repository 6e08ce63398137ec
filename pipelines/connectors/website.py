"""The town's website: crawl from a start page or a sitemap into a bot's knowledge base.

Scope: the start URL's host, and when path prefixes are given only pages below one of them
(linked files such as PDFs on the same host are allowed outside the prefixes: towns keep
downloads in folders like /fileadmin/). robots.txt is obeyed for our user agent, including a
Crawl-delay; between two requests to one host we wait `delay_seconds`.

What becomes a document: HTML pages, main content only (trafilatura: navigation, footers,
cookie banners gone), title kept, each chunk citing the page URL and title. Linked files the
document readers know (PDF, DOCX, XLSX, CSV, TXT, Markdown) are read like uploads when they are
at most `max_file_bytes`; bigger ones and every other type (images, archives, media) are
skipped with the reason, images/archives without even being requested.

Re-crawl: a page answered 304 to If-None-Match/If-Modified-Since, or whose extracted text has
the same hash, is unchanged; only new and changed pages are indexed again. A page is removed
(chunks and registry row) when the server answers 404/410 for it, or when a complete crawl no
longer reaches it (no longer linked, now excluded by robots.txt or the prefixes). A crawl is
complete when it was not stopped, did not hit the page limit and no page failed for a
temporary reason (timeout, 5xx, 429, network); otherwise nothing unreached is removed. A page
that fails keeps what was ingested of it before.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import ClassVar
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from pydantic import BaseModel, Field

from pipelines.connectors.base import (
    ConnectorError,
    DocumentPart,
    ItemResult,
    ItemState,
    SourceContext,
    timer,
)
from pipelines.connectors.http import Fetcher, FetchError, FetchLimits, Response, size_text
from pipelines.documents import errors as document_errors
from pipelines.documents.readers import Block, decode_text, read_document, render_table

HTML_TYPES = ("text/html", "application/xhtml+xml")
FILE_TYPES = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "text/csv": ".csv",
    "text/plain": ".txt",
    "text/markdown": ".md",
}
FILE_EXTENSIONS = set(FILE_TYPES.values()) | {".markdown"}
# Links with these endings are skipped without a request.
SKIPPED_EXTENSIONS = {
    ".png": "Bild", ".jpg": "Bild", ".jpeg": "Bild", ".gif": "Bild", ".svg": "Bild",
    ".webp": "Bild", ".ico": "Bild", ".bmp": "Bild", ".tif": "Bild", ".tiff": "Bild",
    ".zip": "ZIP-Archiv", ".gz": "Archiv", ".tgz": "Archiv", ".rar": "Archiv", ".7z": "Archiv",
    ".mp3": "Audio", ".wav": "Audio", ".ogg": "Audio", ".mp4": "Video", ".webm": "Video",
    ".avi": "Video", ".mov": "Video", ".exe": "Programm", ".msi": "Programm",
    ".doc": "altes Word-Format", ".xls": "altes Excel-Format", ".ppt": "PowerPoint",
    ".pptx": "PowerPoint", ".odt": "OpenDocument", ".ods": "OpenDocument", ".ics": "Kalender",
    ".css": "Stylesheet", ".js": "Skript", ".json": "JSON", ".xml": "XML",
}
MAX_SITEMAPS = 50
MAX_SITEMAP_BYTES = 20 * 1024 * 1024
MAX_ROBOTS_BYTES = 512 * 1024
MAX_CRAWL_DELAY = 60.0
# The server says the page is gone: its chunks are removed.
GONE_CODES = {"http_404", "http_410"}


def is_temporary(code: str) -> bool:
    """A failure that may pass (timeout, 5xx, network): unreached pages are then kept."""
    return code in ("timeout", "unreachable", "network", "http_429") or code.startswith("http_5")


class WebsiteSettings(BaseModel):
    """What the Dokumente page lets staff set for a website source."""

    start_url: str = Field(description="Startseite oder Sitemap (…/sitemap.xml)")
    prefixes: list[str] = Field(default_factory=list, description="nur Seiten unter diesen "
                                "Pfaden (z. B. /buergerservice/); leer = die ganze Domain")
    max_pages: int = Field(200, ge=1, le=100_000, description="höchstens so viele Abrufe")
    max_depth: int = Field(3, ge=0, le=50, description="Klicks von der Startseite aus")
    sitemap: bool | None = Field(None, description="Start-URL ist eine Sitemap (None: an der "
                                 "Endung .xml erkennen)")
    delay_seconds: float = Field(1.0, ge=0, le=120, description="Pause zwischen zwei Abrufen "
                                 "beim selben Server")
    timeout_seconds: float = Field(10.0, gt=0, le=300)
    max_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="größte Seite in Byte")
    max_file_bytes: int = Field(10 * 1024 * 1024, ge=0, description="größte verlinkte Datei "
                                "(PDF, DOCX …) in Byte; 0 = keine Dateien einlesen")
    max_redirects: int = Field(5, ge=0, le=30)
    user_agent: str = Field("", description="leer = Chatwerkstatt/<Version> (+Kontakt aus den "
                            "Einstellungen)")

    def is_sitemap(self) -> bool:
        if self.sitemap is not None:
            return self.sitemap
        return urlsplit(self.start_url).path.lower().endswith((".xml", ".xml.gz"))


def normalize_url(url: str, base: str | None = None) -> str:
    """Absolute, without fragment, scheme and host lower case, empty path as "/"."""
    absolute = urljoin(base, url.strip()) if base else url.strip()
    parts = urlsplit(absolute)
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def normalize_prefix(prefix: str) -> str:
    prefix = prefix.strip()
    if "://" in prefix:
        prefix = urlsplit(prefix).path or "/"
    return prefix if prefix.startswith("/") else "/" + prefix


@dataclass
class ExtractedPage:
    title: str
    blocks: list[Block]
    links: list[str]

    def text(self) -> str:
        return self.title + "\n" + "\n".join(f"{b.section}|{b.text}" for b in self.blocks)


def extract_page(html: str, url: str) -> ExtractedPage:
    """Main content as blocks (headings kept as the section path), the title, and the page's
    links (absolute, de-duplicated, without mailto:/javascript:)."""
    import lxml.html
    import trafilatura
    from lxml import etree

    links: list[str] = []
    title_tag = ""
    try:
        tree = lxml.html.document_fromstring(html)
        base = tree.xpath("string(//base/@href)") or url
        title_tag = " ".join(str(tree.xpath("string(//title)")).split())
        for href in tree.xpath("//a/@href"):
            href = str(href).strip()
            if not href or href.startswith(("mailto:", "tel:", "javascript:", "#", "data:")):
                continue
            links.append(normalize_url(href, urljoin(url, str(base))))
    except (etree.ParserError, ValueError):
        pass
    xml = trafilatura.extract(html, url=url, output_format="xml", include_tables=True,
                              include_comments=False, include_links=False,
                              include_images=False)
    metadata = trafilatura.extract_metadata(html)
    title = (metadata.title if metadata and metadata.title else "") or title_tag
    blocks = _xml_blocks(xml) if xml else []
    return ExtractedPage(title or url, blocks, list(dict.fromkeys(links)))


def _xml_blocks(xml: str) -> list[Block]:
    from lxml import etree

    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    if main is None:
        return []
    headings: list[str] = []
    blocks: list[Block] = []
    for element in main:
        text = " ".join("".join(element.itertext()).split())
        tag = element.tag
        if tag == "head":
            rend = element.get("rend", "h2")
            level = int(rend[1]) if len(rend) == 2 and rend[1].isdigit() else 2
            if text:
                del headings[level - 1:]
                headings.append(text)
            continue
        if tag == "list":
            for item in element.iter("item"):
                item_text = " ".join("".join(item.itertext()).split())
                if item_text:
                    blocks.append(Block(f"- {item_text}", None, tuple(headings)))
            continue
        if tag == "table":
            table = _table_text(element)
            if table:
                blocks.append(Block(table, None, tuple(headings), "table"))
            continue
        if text:
            blocks.append(Block(text, None, tuple(headings)))
    return blocks


def _table_text(element: object) -> str:
    import pandas as pd

    rows = []
    header: list[str] | None = None
    for row in element.iter("row"):  # type: ignore[attr-defined]
        cells = [" ".join("".join(c.itertext()).split()) for c in row.iter("cell")]
        if header is None and all(c.get("role") == "head" for c in row.iter("cell")):
            header = cells
            continue
        rows.append(cells)
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    columns = (header or [])[:width] + [str(i) for i in range(len(header or []), width)]
    frame = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], columns=columns)
    return render_table(frame)


def decode_html(response: Response) -> str:
    charset = response.charset
    if charset:
        try:
            return response.content.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_text(response.content)


class WebsiteConnector:
    kind: ClassVar[str] = "website"

    def __init__(self, settings: WebsiteSettings, user_agent: str) -> None:
        self.settings = settings
        self.start = normalize_url(settings.start_url)
        self.host = urlsplit(self.start).netloc
        self.prefixes = [normalize_prefix(p) for p in settings.prefixes if p.strip()]
        self.user_agent = settings.user_agent or user_agent
        self._robots: dict[str, RobotFileParser] = {}

    # -- scope -----------------------------------------------------------------------
    def _extension(self, url: str) -> str:
        return PurePosixPath(urlsplit(url).path).suffix.lower()

    def scope_problem(self, url: str) -> tuple[str, str] | None:
        """(code, German reason) when `url` is not to be fetched; None when it is."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc != self.host:
            return "outside", "Andere Domain; nicht abgerufen."
        extension = self._extension(url)
        if extension in SKIPPED_EXTENSIONS:
            return "not_html", (f"Kein HTML ({SKIPPED_EXTENSIONS[extension]}, {extension}); "
                                "nicht abgerufen.")
        is_file = extension in FILE_EXTENSIONS
        if is_file and self.settings.max_file_bytes == 0:
            return "not_html", f"Verlinkte Datei ({extension}); Dateien einlesen ist aus."
        if self.prefixes and not is_file and not any(
                (parts.path or "/").startswith(p) for p in self.prefixes):
            return "outside", ("Außerhalb der gewählten Bereiche ("
                               + ", ".join(self.prefixes) + ").")
        return None

    def _robots_for(self, fetcher: Fetcher, url: str) -> RobotFileParser:
        parts = urlsplit(url)
        host = parts.netloc
        if host in self._robots:
            return self._robots[host]
        parser = RobotFileParser()
        robots_url = urlunsplit((parts.scheme, host, "/robots.txt", "", ""))
        parser.set_url(robots_url)
        try:
            answer = fetcher.get(robots_url, max_bytes=MAX_ROBOTS_BYTES, error_status=False)
        except FetchError as exc:
            if exc.code in ("unreachable", "invalid_url"):
                raise
            answer = None
        # As urllib.robotparser.read(): 401/403 forbid everything, other errors allow it.
        if answer is not None and answer.status in (401, 403):
            parser.parse(["User-agent: *", "Disallow: /"])
        elif answer is None or answer.status >= 400:
            parser.parse([])
        else:
            parser.parse(decode_text(answer.content).splitlines() if answer.content else [])
            delay = parser.crawl_delay(self.user_agent)
            if delay:
                fetcher.set_host_delay(host, min(float(delay), MAX_CRAWL_DELAY))
        self._robots[host] = parser
        return parser

    # -- run -------------------------------------------------------------------------
    def run(self, context: SourceContext) -> None:
        s = self.settings
        limits = FetchLimits(timeout=s.timeout_seconds, max_bytes=s.max_bytes,
                             max_redirects=s.max_redirects, delay_seconds=s.delay_seconds,
                             user_agent=self.user_agent)
        with Fetcher(limits) as fetcher:
            try:
                self._robots_for(fetcher, self.start)
                seeds = self._sitemap_urls(fetcher, context) if s.is_sitemap() else [self.start]
            except FetchError as exc:
                raise ConnectorError(exc.code, f"Die Adresse {self.start} ist nicht "
                                     f"erreichbar: {exc.de}") from exc
            self._crawl(fetcher, context, seeds)

    def _crawl(self, fetcher: Fetcher, context: SourceContext, seeds: list[str]) -> None:
        report = context.report
        queue: deque[tuple[str, int]] = deque((url, 0) for url in seeds)
        seen: set[str] = set(seeds)
        reached: set[str] = set()
        fetches = 0
        temporary_failure = limit_hit = False
        first = True
        while queue:
            if context.stop_requested():
                break
            url, depth = queue.popleft()
            context.expected_total = len(report.results) + len(queue) + 1
            if fetches >= self.settings.max_pages:
                limit_hit = True
                context.record(ItemResult(url, "übersprungen", url=url, code="limit",
                                          reason=f"Seitenlimit ({self.settings.max_pages}) "
                                                 "erreicht."))
                for rest, _ in queue:
                    context.record(ItemResult(rest, "übersprungen", url=rest, code="limit",
                                              reason=f"Seitenlimit ({self.settings.max_pages}) "
                                                     "erreicht."))
                queue.clear()
                break
            problem = self.scope_problem(url)
            if problem is None and not self._robots_for(fetcher, url).can_fetch(
                    self.user_agent, url):
                problem = ("robots", "Durch robots.txt ausgeschlossen.")
            if problem is not None:
                context.record(ItemResult(url, "übersprungen", url=url, code=problem[0],
                                          reason=problem[1]))
                continue
            fetches += 1
            result, key, links = self._fetch_item(fetcher, context, url, first)
            first = False
            if result.failed and is_temporary(result.code):
                temporary_failure = True
            if key:
                reached.add(key)
                seen.add(key)
            context.record(result)
            for link in links:
                if link in seen:
                    continue
                seen.add(link)
                if urlsplit(link).netloc != self.host:
                    continue  # other sites are not listed: every page links to some
                if depth + 1 > self.settings.max_depth:
                    context.record(ItemResult(link, "übersprungen", url=link, code="depth",
                                              reason=f"Tiefer als {self.settings.max_depth} "
                                                     "Klicks von der Startseite."))
                    continue
                queue.append((link, depth + 1))
        complete = not (report.stopped or limit_hit or temporary_failure)
        if complete:
            for key, state in list(context.previous.items()):
                if key in reached:
                    continue
                context.forget(key)
                context.record(ItemResult(key, "entfernt", title=state.title, url=state.url,
                                          code="unreached",
                                          reason="Nicht mehr verlinkt oder ausgeschlossen; "
                                                 "aus der Wissensbasis entfernt."))

    def _fetch_item(self, fetcher: Fetcher, context: SourceContext, url: str, first: bool
                    ) -> tuple[ItemResult, str, list[str]]:
        """Fetch and index one URL: (result, key of the page it turned out to be, links)."""
        elapsed = timer()
        previous = context.previous.get(url)
        headers: dict[str, str] = {}
        if previous and previous.document_path and not context.force:
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        max_file = self.settings.max_file_bytes
        extension = self._extension(url)

        def accept(content_type: str) -> str | None:
            if content_type in HTML_TYPES or content_type in FILE_TYPES or not content_type:
                return None
            return f"Kein HTML (Typ {content_type}); übersprungen."

        def redirect_check(target: str) -> FetchError | None:
            target = normalize_url(target)
            problem = self.scope_problem(target)
            if problem is not None:
                return FetchError(problem[0], f"Leitet weiter nach {target}: {problem[1]}")
            return None

        is_file = extension in FILE_EXTENSIONS
        try:
            response = fetcher.get(url, headers, accept=accept, redirect_check=redirect_check,
                                   max_bytes=max_file if is_file else None)
        except FetchError as exc:
            return self._failure(context, url, previous, exc, elapsed(), first), "", []
        context.report.fetched += 1
        key = normalize_url(response.url)
        if key != url:
            previous = context.previous.get(key)
            if key in {r.key for r in context.report.results}:
                return (ItemResult(url, "übersprungen", url=url, code="duplicate",
                                   reason=f"Leitet weiter auf die schon erfasste Seite {key}."),
                        "", [])
        if response.status == 304 and previous:
            previous.fetched_at = datetime.now(UTC)
            previous.status = "unverändert"
            previous.error = ""
            context.save(previous)
            return (ItemResult(key, "unverändert", title=previous.title, url=key,
                               http_status=304, reason="", seconds=elapsed()),
                    key, list(previous.links))
        content_type = response.content_type
        try:
            if content_type in FILE_TYPES or (is_file and content_type not in HTML_TYPES):
                return self._index_file(context, key, previous, response, elapsed), key, []
            return self._index_page(context, key, previous, response, elapsed)
        except FetchError as exc:
            return self._failure(context, key, previous, exc, elapsed(), first), "", []

    def _index_page(self, context: SourceContext, key: str, previous: ItemState | None,
                    response: Response, elapsed: Callable[[], float]
                    ) -> tuple[ItemResult, str, list[str]]:
        try:
            page = extract_page(decode_html(response), key)
        except document_errors.DocumentError as exc:
            raise FetchError("invalid_content", f"Ungültiger Inhalt: {exc.de}") from exc
        if not page.blocks:
            # Links still count: a pure navigation page leads to the content pages.
            return (ItemResult(key, "übersprungen", title=page.title, url=key, code="no_content",
                               reason="Kein Hauptinhalt erkannt (nur Navigation?); nicht "
                                      "eingelesen."), key, page.links)
        content_hash = hashlib.sha256(page.text().encode("utf-8")).hexdigest()
        state = previous or ItemState(key=key)
        state.url = key
        state.links = page.links
        result = self._write(context, key, state, response, content_hash, page.title,
                             [DocumentPart(page.blocks, key)], "web", len(response.content))
        result.seconds = elapsed()
        return result, key, page.links

    def _index_file(self, context: SourceContext, key: str, previous: ItemState | None,
                    response: Response, elapsed: Callable[[], float]) -> ItemResult:
        name = PurePosixPath(urlsplit(key).path).name or "datei"
        extension = FILE_TYPES.get(response.content_type) or self._extension(key)
        path = Path(name if name.lower().endswith(extension) else name + extension)
        try:
            parsed = read_document(path, response.content, context.engine.settings.max_unpacked_mb)
        except document_errors.DocumentError as exc:
            raise FetchError("invalid_content", exc.de) from exc
        content_hash = hashlib.sha256(response.content).hexdigest()
        state = previous or ItemState(key=key)
        state.url = key
        state.links = []
        title = parsed.title if parsed.title and parsed.title != path.stem else name
        result = self._write(context, key, state, response, content_hash, title,
                             [DocumentPart(parsed.blocks, key)], extension.lstrip("."),
                             len(response.content), parsed.pages)
        result.kind = "datei"
        result.seconds = elapsed()
        return result

    def _write(self, context: SourceContext, key: str, state: ItemState, response: Response,
               content_hash: str, title: str, parts: list[DocumentPart], file_type: str,
               size: int, pages: int | None = None) -> ItemResult:
        try:
            status, chunks = context.write_document(
                key, name=title, file_type=file_type, title=title, source_label=key,
                parts=parts, content_hash=content_hash, size_bytes=size, pages=pages)
        except ValueError as exc:
            raise FetchError("invalid_content", str(exc)) from exc
        state.title = title
        state.document_path = key
        state.etag = response.headers.get("etag", "")
        state.last_modified = response.headers.get("last-modified", "")
        state.content_hash = content_hash
        state.status = status
        state.error = ""
        state.fetched_at = datetime.now(UTC)
        context.save(state)
        return ItemResult(key, status, title=title, url=key, chunks=chunks,
                          http_status=response.status)

    def _failure(self, context: SourceContext, url: str, previous: ItemState | None,
                 exc: FetchError, seconds: float, first: bool) -> ItemResult:
        if first and exc.code in ("unreachable", "invalid_url"):
            raise ConnectorError(exc.code, f"Die Startadresse {url} ist nicht erreichbar: "
                                 f"{exc.de}") from exc
        if exc.code in ("not_html", "outside") or (
                exc.code == "too_large" and self._extension(url) in FILE_EXTENSIONS):
            return ItemResult(url, "übersprungen", url=url, code=exc.code, reason=exc.de,
                              http_status=exc.http_status, seconds=seconds,
                              kind="datei" if exc.code != "outside" else "seite")
        if exc.code in GONE_CODES and previous is not None:
            context.forget(url)
            return ItemResult(url, "entfernt", title=previous.title, url=url, code=exc.code,
                              reason=f"{exc.de} Aus der Wissensbasis entfernt.",
                              http_status=exc.http_status, seconds=seconds)
        reason = exc.de
        if previous is not None and previous.document_path:
            reason += " Der bisherige Stand bleibt erhalten."
            previous.error = exc.de
            previous.status = "fehlgeschlagen"
            context.save(previous)
        return ItemResult(url, "fehlgeschlagen", title=previous.title if previous else "",
                          url=url, code=exc.code, reason=reason, http_status=exc.http_status,
                          seconds=seconds)

    # -- sitemaps --------------------------------------------------------------------
    def _sitemap_urls(self, fetcher: Fetcher, context: SourceContext) -> list[str]:
        """Page URLs of a sitemap or sitemap index (nested indexes followed, at most
        MAX_SITEMAPS files); the first sitemap failing is fatal, later ones are items."""
        from lxml import etree

        pending = [self.start]
        done: set[str] = set()
        pages: list[str] = []
        while pending and len(done) < MAX_SITEMAPS:
            sitemap = pending.pop(0)
            if sitemap in done:
                continue
            done.add(sitemap)
            try:
                response = fetcher.get(sitemap, max_bytes=MAX_SITEMAP_BYTES)
                data = response.content
                if data[:2] == b"\x1f\x8b":
                    data = _gunzip(data, MAX_SITEMAP_BYTES)
                root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False,
                                                                     no_network=True))
            except FetchError:
                if sitemap == self.start:
                    raise
                context.record(ItemResult(sitemap, "fehlgeschlagen", url=sitemap,
                                          kind="sitemap", code="sitemap",
                                          reason="Sitemap nicht lesbar."))
                continue
            except etree.XMLSyntaxError as exc:
                if sitemap == self.start:
                    raise FetchError("invalid_content",
                                     f"Die Sitemap ist kein gültiges XML ({exc}).") from exc
                context.record(ItemResult(sitemap, "fehlgeschlagen", url=sitemap,
                                          kind="sitemap", code="invalid_content",
                                          reason=f"Die Sitemap ist kein gültiges XML ({exc})."))
                continue
            context.report.fetched += 1
            local = etree.QName(root).localname
            locations = [" ".join((loc.text or "").split())
                         for loc in root.iter("{*}loc")]
            if local == "sitemapindex":
                pending.extend(normalize_url(loc) for loc in locations if loc)
            else:
                pages.extend(normalize_url(loc) for loc in locations if loc)
        return list(dict.fromkeys(pages))


def _gunzip(data: bytes, limit: int) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as archive:
        unpacked = archive.read(limit + 1)
    if len(unpacked) > limit:
        raise FetchError("too_large", f"Die entpackte Sitemap ist größer als {size_text(limit)}.")
    return unpacked
