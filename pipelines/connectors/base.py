"""What every connector shares: the per-item result, the source report, the small Connector
protocol and the context a connector runs in (previous state, writing documents, progress).

A connector turns a source (website, CKAN portal, FAQ list) into documents of one bot's
knowledge base, the same registry rows and LanceDB chunks a file upload makes, with the
page's or dataset's URL as source. Writing follows the ingest rule: embed and add the new
chunks first, delete the old ones only then, so a failure keeps the previous version.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

from sqlalchemy import delete, select

from pipelines.documents.chunking import chunk_blocks
from pipelines.documents.ingest import Ingestor, document_key
from pipelines.documents.readers import Block
from pipelines.engine import Engine
from pipelines.index import ChunkRecord
from pipelines.language import detect_language
from pipelines.store.models import ConnectorItem, Document

ItemStatus = Literal["neu", "aktualisiert", "unverändert", "entfernt", "übersprungen",
                     "fehlgeschlagen"]
SourceKind = Literal["website", "ckan", "faq"]
KIND_LABELS: dict[str, str] = {"website": "Website", "ckan": "Open-Data-Portal (CKAN)",
                               "faq": "FAQ-Liste"}
STATUS_ORDER: tuple[ItemStatus, ...] = ("neu", "aktualisiert", "unverändert", "entfernt",
                                        "übersprungen", "fehlgeschlagen")


class ConnectorError(Exception):
    """The source as a whole cannot be read (start URL unreachable, portal not CKAN, bad
    settings); `de` is a complete German sentence naming the source and the reason."""

    def __init__(self, code: str, de: str) -> None:
        super().__init__(de)
        self.code = code
        self.de = de


@dataclass
class ItemResult:
    """What happened to one page, linked file, dataset, resource or FAQ row.

    `kind`: "seite", "datei", "datensatz", "ressource", "zeile". `code` is a stable machine
    word for the reason ("http_404", "timeout", "too_large", "redirect_loop", "unreachable",
    "invalid_content", "robots", "outside", "depth", "limit", "not_html", "empty",
    "duplicate", ...); `reason` the German sentence for people."""

    key: str
    status: ItemStatus
    title: str = ""
    url: str = ""
    kind: str = "seite"
    chunks: int = 0
    code: str = ""
    reason: str = ""
    http_status: int | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "fehlgeschlagen"

    @property
    def label(self) -> str:
        return self.title or self.url or self.key


@dataclass
class SourceReport:
    """The report of one run of one source (a crawl, a portal refresh, an FAQ import)."""

    kind: str
    source: str
    bot: str
    knowledge_base: str = ""
    source_id: int | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    results: list[ItemResult] = field(default_factory=list)
    # HTTP responses received for pages/datasets/resources (200 and 304 alike).
    fetched: int = 0
    # Set when the whole source could not be read; nothing stored was changed then.
    error: str = ""
    error_code: str = ""
    # Set when the run was stopped by the caller (should_stop) before it was done.
    stopped: bool = False
    seconds: float = 0.0

    def count(self, status: ItemStatus) -> int:
        return sum(1 for r in self.results if r.status == status)

    def counts(self) -> dict[str, int]:
        return {status: self.count(status) for status in STATUS_ORDER}

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.results if r.failed]

    @property
    def ok(self) -> bool:
        return not self.error and not self.failed

    @property
    def exit_code(self) -> int:
        """CLI convention: 2 the source could not be read at all, 1 items failed, else 0."""
        return 2 if self.error else 1 if self.failed else 0

    def summary(self) -> str:
        """One German sentence with the counts."""
        if self.error:
            return f"Quelle nicht gelesen: {self.error}"
        c = self.counts()
        return (f"{self.fetched} abgerufen: {c['neu']} neu, {c['aktualisiert']} geändert, "
                f"{c['unverändert']} unverändert, {c['entfernt']} entfernt, "
                f"{c['übersprungen']} übersprungen, {c['fehlgeschlagen']} fehlgeschlagen "
                f"({german_seconds(self.seconds)} s).")

    def lines(self) -> list[str]:
        """The report as readable German lines (one per item, then the summary)."""
        head = f"{KIND_LABELS.get(self.kind, self.kind)} {self.source} → Bot „{self.bot}“"
        lines = [head]
        for r in self.results:
            detail = r.reason if r.reason else (f"{r.chunks} Abschnitte" if r.chunks else "")
            where = r.url or r.key
            title = f" „{r.title}“" if r.title and r.title != where else ""
            lines.append(f"{r.status:>14}  {where}{title}" + (f" – {detail}" if detail else ""))
        lines.append("")
        lines.append(self.summary())
        if self.stopped:
            lines.append("Abgebrochen: nicht alle Einträge wurden geprüft.")
        return lines

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = self.counts()
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SourceReport:
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        values["results"] = [ItemResult(**r) for r in data.get("results", [])]
        for moment in ("started_at", "finished_at"):
            if values.get(moment):
                values[moment] = datetime.fromisoformat(values[moment])
        return cls(**values)


def german_seconds(seconds: float) -> str:
    return f"{seconds:.1f}".replace(".", ",")


ProgressCallback = Callable[[int, int, ItemResult], None]
"""Called after each item with (items done, items known so far, that item's result); a
crawl learns of new pages as it goes, so the second number grows."""
StopCallback = Callable[[], bool]
"""Asked between items; True ends the run early (what was done so far is kept)."""


@dataclass
class ItemState:
    """What is stored about one page or dataset between runs (a ConnectorItem row)."""

    key: str
    url: str = ""
    title: str = ""
    document_path: str = ""
    etag: str = ""
    last_modified: str = ""
    content_hash: str = ""
    modified: str = ""
    links: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    status: str = ""
    error: str = ""
    fetched_at: datetime | None = None


@dataclass
class DocumentPart:
    """Blocks of a document that share one URL (an FAQ file's rows may each name their own)."""

    blocks: list[Block]
    url: str = ""


class Connector(Protocol):
    """A source kind: reads its source and writes documents through the context."""

    kind: ClassVar[str]

    def run(self, context: SourceContext) -> None:
        """Fill `context.report`; raise ConnectorError when the source cannot be read at all
        (then nothing stored is changed)."""


class SourceContext:
    """Everything a connector run needs: previous item states, the knowledge base to write
    into, the report, progress and stop callbacks."""

    def __init__(self, engine: Engine, workspace: str, source_id: int, report: SourceReport,
                 progress: ProgressCallback | None = None,
                 should_stop: StopCallback | None = None, force: bool = False) -> None:
        self.engine = engine
        self.workspace = workspace
        self.source_id = source_id
        self.report = report
        self.progress = progress
        self.should_stop = should_stop
        self.force = force
        self.ingestor = Ingestor(engine, workspace, report.knowledge_base)
        self.expected_total = 0
        self.changed = False
        self.previous: dict[str, ItemState] = {}
        with engine.session() as session:
            for row in session.scalars(select(ConnectorItem)
                                       .where(ConnectorItem.source_id == source_id)):
                self.previous[row.key] = state_from_row(row)

    @property
    def data_dir(self) -> Path:
        """Folder for this source's files (e.g. CKAN tables as parquet)."""
        return self.engine.settings.data_dir / "connectors" / str(self.source_id)

    def stop_requested(self) -> bool:
        if self.should_stop is not None and self.should_stop():
            self.report.stopped = True
            return True
        return False

    def record(self, result: ItemResult) -> ItemResult:
        self.report.results.append(result)
        if self.progress is not None:
            done = len(self.report.results)
            self.progress(done, max(done, self.expected_total), result)
        return result

    # -- item state ------------------------------------------------------------------
    def save(self, state: ItemState) -> None:
        with self.engine.session() as session:
            row = session.scalar(select(ConnectorItem).where(
                ConnectorItem.source_id == self.source_id, ConnectorItem.key == state.key))
            if row is None:
                row = ConnectorItem(source_id=self.source_id, key=state.key)
                session.add(row)
            row.url = state.url[:2000]
            row.title = state.title[:500]
            row.document_path = state.document_path[:1000]
            row.etag = state.etag[:300]
            row.last_modified = state.last_modified[:100]
            row.content_hash = state.content_hash
            row.modified = state.modified[:60]
            row.links = list(state.links)
            row.extra = dict(state.extra)
            row.status = state.status
            row.error = state.error
            row.fetched_at = state.fetched_at
            row.checked_at = datetime.now(UTC)
        self.previous[state.key] = state

    def forget(self, key: str) -> None:
        """Remove an item: its document (chunks and registry row) and its stored state."""
        state = self.previous.pop(key, None)
        if state is not None and state.document_path:
            self.delete_document(state.document_path)
        with self.engine.session() as session:
            session.execute(delete(ConnectorItem).where(
                ConnectorItem.source_id == self.source_id, ConnectorItem.key == key))

    # -- documents -------------------------------------------------------------------
    def document_current(self, source_path: str, content_hash: str) -> bool:
        """The document exists with this content, read by the current pipeline."""
        if self.force:
            return False
        with self.engine.session() as session:
            row = self._document(session, source_path)
            return bool(row and row.content_hash == content_hash
                        and row.pipeline == self.ingestor.pipeline)

    def write_document(self, source_path: str, *, name: str, file_type: str, title: str,
                       source_label: str, parts: list[DocumentPart], content_hash: str,
                       size_bytes: int, pages: int | None = None
                       ) -> tuple[ItemStatus, int]:
        """Index a document (replacing its previous chunks) and register it; returns
        ("neu" | "aktualisiert" | "unverändert", chunks). Raises ValueError (German) when the
        parts hold no text."""
        with self.engine.session() as session:
            existing = self._document(session, source_path)
            if (existing and not self.force and existing.content_hash == content_hash
                    and existing.pipeline == self.ingestor.pipeline):
                return "unverändert", existing.chunks
        settings = self.engine.settings
        table = self.ingestor.table_name
        doc_key = document_key(table, source_path)
        revision = uuid.uuid4().hex[:12]
        chunks = [(chunk, part.url) for part in parts
                  for chunk in chunk_blocks(part.blocks, settings.chunk_size_words,
                                            settings.chunk_overlap_words)]
        if not chunks:
            raise ValueError("Es wurde kein Text gefunden, der sich einlesen ließe.")
        language = detect_language(" ".join(c.text for c, _ in chunks[:5]))
        records = [
            ChunkRecord(
                chunk_id=f"{doc_key}-{revision}-{i:05d}", doc_key=doc_key,
                content_hash=content_hash, revision=revision, source=source_label,
                source_path=source_path, title=title, page=chunk.page, section=chunk.section,
                url=url, kind=chunk.kind, language=language, text=chunk.text)
            for i, (chunk, url) in enumerate(chunks)
        ]
        vectors = self.engine.embedder.embed([r.embedding_text() for r in records])
        index = self.ingestor.index
        try:
            index.add(records, vectors)
        except Exception:
            index.delete_document(doc_key, only_revision=revision)
            raise
        index.delete_document(doc_key, keep_revision=revision)
        self.changed = True
        with self.engine.session() as session:
            row = self._document(session, source_path)
            status: ItemStatus = "aktualisiert" if row else "neu"
            if row is None:
                row = Document(knowledge_base_id=self.ingestor.kb_id, source_path=source_path)
                session.add(row)
            row.doc_key = doc_key
            row.name = name[:300]
            row.file_type = file_type[:20]
            row.content_hash = content_hash
            row.pipeline = self.ingestor.pipeline
            row.size_bytes = size_bytes
            row.pages = pages
            row.chunks = len(records)
            row.language = language
            row.ingested_at = datetime.now(UTC)
        return status, len(records)

    def delete_document(self, source_path: str) -> bool:
        removed = self.ingestor.delete(source_path)
        self.changed |= removed
        return removed

    def finish(self) -> None:
        """Rebuild the full-text index once if anything was written or removed."""
        if self.changed:
            self.ingestor.index.refresh_indexes()

    def _document(self, session: Any, source_path: str) -> Document | None:
        return session.scalar(select(Document).where(
            Document.knowledge_base_id == self.ingestor.kb_id,
            Document.source_path == source_path))


def state_from_row(row: ConnectorItem) -> ItemState:
    return ItemState(key=row.key, url=row.url, title=row.title, document_path=row.document_path,
                     etag=row.etag, last_modified=row.last_modified,
                     content_hash=row.content_hash, modified=row.modified,
                     links=list(row.links or []), extra=dict(row.extra or {}),
                     status=row.status, error=row.error, fetched_at=row.fetched_at)


def timer() -> Callable[[], float]:
    started = time.perf_counter()
    return lambda: time.perf_counter() - started
