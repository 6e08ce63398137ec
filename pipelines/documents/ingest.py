"""Ingest files and folders into a knowledge base: idempotent, one bad file never stops a batch.

Order of work for a changed file: parse, chunk, embed, add the new chunks, and only then delete
the old ones. Whatever fails on the way leaves the previous version of the document intact.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.documents import errors
from pipelines.documents.chunking import chunk_blocks
from pipelines.documents.readers import read_document
from pipelines.engine import Engine
from pipelines.index import ChunkRecord, KnowledgeBaseIndex
from pipelines.language import detect_language
from pipelines.store.models import Document, KnowledgeBase

FileStatus = Literal["neu", "aktualisiert", "unverändert", "fehlgeschlagen", "entfernt"]

# Raise when reading, chunking or the text analysis changes (e.g. compound splitting): every
# file is then indexed again on the next ingest, even if its bytes are unchanged.
INGEST_VERSION = 2


@dataclass
class FileResult:
    path: str
    status: FileStatus
    chunks: int = 0
    pages: int | None = None
    code: str = ""
    reason: str = ""
    reason_en: str = ""
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def failed(self) -> bool:
        return self.status == "fehlgeschlagen"


@dataclass
class IngestReport:
    knowledge_base: str
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0
    embedding_seconds: float = 0.0
    pages: int = 0

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.failed]

    def count(self, status: FileStatus) -> int:
        return sum(1 for r in self.results if r.status == status)


ProgressCallback = Callable[[int, int, FileResult], None]
"""Called after each file with (files done, files total, that file's result)."""


def collect_files(paths: Iterable[Path]) -> tuple[list[Path], list[FileResult]]:
    """Expand folders (recursively, hidden files skipped); name paths that do not exist."""
    files: list[Path] = []
    missing: list[FileResult] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p for p in path.rglob("*")
                    if p.is_file() and not any(part.startswith(".") for part in
                                               p.relative_to(path).parts)
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            missing.append(
                FileResult(str(path), "fehlgeschlagen", code="missing",
                           reason="Datei oder Ordner nicht gefunden.",
                           reason_en="File or folder not found.")
            )
    return list(dict.fromkeys(p.resolve() for p in files)), missing


def document_key(kb_table: str, source_path: str) -> str:
    return hashlib.sha1(f"{kb_table}\n{source_path}".encode()).hexdigest()[:16]


class Ingestor:
    """Ingests into one knowledge base of one workspace."""

    def __init__(self, engine: Engine, workspace: str, kb_slug: str) -> None:
        self.engine = engine
        self.workspace = workspace
        self.kb_slug = kb_slug
        with engine.session() as session:
            kb = engine.knowledge_base(session, workspace, kb_slug)
            self.kb_id = kb.id
            self.table_name = kb.table_name
        self.index: KnowledgeBaseIndex = engine.index(self.table_name)
        settings = engine.settings
        self.pipeline = (
            f"v{INGEST_VERSION};chunks={settings.chunk_size_words}/{settings.chunk_overlap_words};"
            f"embedding={settings.embedding_model}"
        )

    def ingest(
        self,
        paths: Iterable[Path],
        progress: ProgressCallback | None = None,
        force: bool = False,
        prune: bool = False,
    ) -> IngestReport:
        started = time.perf_counter()
        paths = [Path(p) for p in paths]
        files, missing = collect_files(paths)
        report = IngestReport(self.kb_slug, results=list(missing))
        total = len(files) + len(missing)
        if progress:
            for done, result in enumerate(missing, start=1):
                progress(done, total, result)
        changed = False
        for done, path in enumerate(files, start=len(missing) + 1):
            result = self._ingest_file(path, report, force)
            changed |= result.status in ("neu", "aktualisiert")
            report.results.append(result)
            if progress:
                progress(done, total, result)
        if prune:
            removed = self.prune_missing([p.resolve() for p in paths if p.is_dir()])
            report.results.extend(removed)
            changed |= bool(removed)
        if changed:
            self.index.refresh_indexes()
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_file(self, path: Path, report: IngestReport, force: bool) -> FileResult:
        started = time.perf_counter()
        source_path = str(path)
        settings = self.engine.settings
        try:
            size = path.stat().st_size
            if size > settings.max_file_mb * 1024 * 1024:
                raise errors.too_large(size / 1024 / 1024, settings.max_file_mb)
            if size == 0:
                raise errors.empty_file()
            data = path.read_bytes()
            content_hash = hashlib.sha256(data).hexdigest()
            with self.engine.session() as session:
                existing = self._document(session, source_path)
                current = (existing and existing.content_hash == content_hash
                           and existing.pipeline == self.pipeline)
                if current and existing and not force:
                    return FileResult(source_path, "unverändert", chunks=existing.chunks,
                                      pages=existing.pages,
                                      seconds=time.perf_counter() - started)
            parsed = read_document(path, data, settings.max_unpacked_mb)
            chunks = chunk_blocks(
                parsed.blocks, settings.chunk_size_words, settings.chunk_overlap_words
            )
            language = detect_language(" ".join(c.text for c in chunks[:5]))
            doc_key = document_key(self.table_name, source_path)
            revision = uuid.uuid4().hex[:12]
            records = [
                ChunkRecord(
                    chunk_id=f"{doc_key}-{revision}-{i:05d}",
                    doc_key=doc_key,
                    content_hash=content_hash,
                    revision=revision,
                    source=path.name,
                    source_path=source_path,
                    title=parsed.title,
                    page=chunk.page,
                    section=chunk.section,
                    url=parsed.metadata.get("url", ""),
                    kind=chunk.kind,
                    language=language,
                    text=chunk.text,
                )
                for i, chunk in enumerate(chunks)
            ]
            embed_started = time.perf_counter()
            vectors = self.engine.embedder.embed([r.embedding_text() for r in records])
            report.embedding_seconds += time.perf_counter() - embed_started
            report.pages += parsed.pages or 1
            try:
                self.index.add(records, vectors)
            except Exception:
                self.index.delete_document(doc_key, only_revision=revision)
                raise
            self.index.delete_document(doc_key, keep_revision=revision)
            with self.engine.session() as session:
                row = self._document(session, source_path)
                status: FileStatus = "aktualisiert" if row else "neu"
                if row is None:
                    row = Document(knowledge_base_id=self.kb_id, source_path=source_path)
                    session.add(row)
                row.doc_key = doc_key
                row.name = path.name
                row.file_type = path.suffix.lower().lstrip(".")
                row.content_hash = content_hash
                row.pipeline = self.pipeline
                row.size_bytes = size
                row.pages = parsed.pages
                row.chunks = len(records)
                row.language = language
                row.ingested_at = datetime.now(UTC)
            return FileResult(source_path, status, chunks=len(records), pages=parsed.pages,
                              seconds=time.perf_counter() - started)
        except errors.DocumentError as exc:
            return FileResult(source_path, "fehlgeschlagen", code=exc.code, reason=exc.de,
                              reason_en=exc.en, seconds=time.perf_counter() - started)
        except OSError as exc:
            return FileResult(source_path, "fehlgeschlagen", code="os_error",
                              reason=f"Die Datei konnte nicht gelesen werden: {exc.strerror}",
                              reason_en=f"The file could not be read: {exc.strerror}",
                              seconds=time.perf_counter() - started)

    def _document(self, session: Session, source_path: str) -> Document | None:
        return session.scalar(
            select(Document).where(
                Document.knowledge_base_id == self.kb_id, Document.source_path == source_path
            )
        )

    def documents(self) -> list[Document]:
        with self.engine.session() as session:
            return list(
                session.scalars(
                    select(Document)
                    .where(Document.knowledge_base_id == self.kb_id)
                    .order_by(Document.name)
                )
            )

    def delete(self, source_path: str) -> bool:
        """Remove one document (its chunks first, then its registry row)."""
        with self.engine.session() as session:
            row = self._document(session, source_path)
            if row is None:
                return False
            self.index.delete_document(row.doc_key)
            session.delete(row)
        return True

    def prune_missing(self, folders: list[Path]) -> list[FileResult]:
        """Delete documents that were ingested from `folders` but no longer exist there."""
        removed: list[FileResult] = []
        for document in self.documents():
            path = Path(document.source_path)
            inside = any(path.is_relative_to(folder) for folder in folders)
            if inside and not path.exists() and self.delete(document.source_path):
                removed.append(FileResult(document.source_path, "entfernt"))
        return removed


def knowledge_base_row(engine: Engine, workspace: str, slug: str) -> KnowledgeBase:
    with engine.session() as session:
        return engine.knowledge_base(session, workspace, slug)
