"""FAQ lists (CSV/XLSX with question and answer columns) into a bot: as curated answers
(pipelines.curated, served before the documents) or as documents of its knowledge base, the
user's choice.

Columns: given by header name (or 1-based number), else found by their header: Frage/Fragen/
question, Antwort/answer, optional Quelle/source/URL/Link. A row without question or answer
and a question already asked in an earlier row are named in the report; the rest goes on.

As documents the whole file is one document (title: the file name), each question/answer pair
its own section, so a chunk cites the file and the question, and the row's URL if it has one.
Importing the file again replaces that document. As curated answers a pair already stored the
same way is not stored twice; answers of rows later deleted from the file stay (they are
managed on the Antworten page).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from pipelines.connectors.base import (
    ConnectorError,
    DocumentPart,
    ItemResult,
    ItemState,
    ProgressCallback,
    SourceContext,
    SourceReport,
)
from pipelines.curated import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    CuratedError,
    _clean_questions,
    _csv_rows,
    _split_variants,
    _xlsx_rows,
    list_curated,
    save_curated,
)
from pipelines.documents.readers import Block
from pipelines.engine import Engine
from pipelines.public import safe_url

FaqMode = Literal["curated", "documents"]
QUESTION_NAMES = ("frage", "fragen", "question", "questions", "faq-frage", "f")
ANSWER_NAMES = ("antwort", "antworten", "answer", "answers", "faq-antwort", "a")
SOURCE_NAMES = ("quelle", "source", "url", "link", "fundstelle", "quelle/url")


class FaqSettings(BaseModel):
    file_name: str = Field(description="Name der hochgeladenen Datei (CSV oder XLSX)")
    mode: FaqMode = Field("curated", description="curated = geprüfte Antworten, documents = "
                          "Dokument der Wissensbasis")
    question_column: str = Field("", description="Spalte der Fragen (Name oder Nummer); leer "
                                 "= erkennen")
    answer_column: str = Field("", description="Spalte der Antworten; leer = erkennen")
    source_column: str = Field("", description="Spalte mit Quelle/URL (optional)")


def read_faq_table(file_name: str, data: bytes) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """(header, rows with their spreadsheet row numbers); ConnectorError names the problem."""
    if not data:
        raise ConnectorError("empty", f"{file_name}: Die Datei ist leer.")
    if len(data) > MAX_IMPORT_BYTES:
        raise ConnectorError("too_large", f"{file_name}: Die Datei ist mit "
                             f"{len(data) / 1024 / 1024:.1f} MB zu groß; erlaubt sind "
                             f"{MAX_IMPORT_BYTES // 1024 // 1024} MB.")
    suffix = PurePath(file_name).suffix.lower()
    try:
        if suffix == ".csv":
            table = _csv_rows(data)
        elif suffix == ".xlsx":
            table = _xlsx_rows(data)
        else:
            raise CuratedError(f"Das Format „{suffix or 'ohne Endung'}“ wird nicht unterstützt; "
                               "möglich sind CSV und XLSX.")
    except CuratedError as exc:
        raise ConnectorError("unreadable", f"{file_name}: {exc}") from exc
    if len(table) < 2:
        raise ConnectorError("empty", f"{file_name}: Die Tabelle enthält keine Zeilen unter "
                             "der Kopfzeile.")
    if len(table) - 1 > MAX_IMPORT_ROWS:
        raise ConnectorError("too_large", f"{file_name}: Die Tabelle hat {len(table) - 1} "
                             f"Zeilen; erlaubt sind {MAX_IMPORT_ROWS}.")
    header = [" ".join(str(cell or "").split()) for cell in table[0][1]]
    return header, table[1:]


def find_column(header: list[str], wanted: str, names: tuple[str, ...], what: str,
                required: bool) -> int | None:
    """Index of the column `wanted` (a header name, case-insensitive, or a 1-based number),
    else of the first header among `names`."""
    lowered = [h.lower() for h in header]
    shown = ", ".join(f"„{h}“" for h in header if h) or "keine"
    if wanted.strip():
        key = wanted.strip().lower()
        if key in lowered:
            return lowered.index(key)
        if key.isdigit() and 1 <= int(key) <= len(header):
            return int(key) - 1
        raise ConnectorError("column", f"Eine Spalte „{wanted}“ für die {what} gibt es nicht; "
                             f"vorhanden: {shown}.")
    found = next((i for i, h in enumerate(lowered) if h in names), None)
    if found is None and required:
        raise ConnectorError("column", f"Keine Spalte für die {what} gefunden (erwartet z. B. "
                             f"„{names[0].capitalize()}“ oder „{names[2]}“); vorhanden: "
                             f"{shown}. Bitte die Spalte angeben.")
    return found


class FaqConnector:
    kind: ClassVar[str] = "faq"

    def __init__(self, settings: FaqSettings, data: bytes, actor: str = "") -> None:
        self.settings = settings
        self.data = data
        self.actor = actor

    def run(self, context: SourceContext) -> None:
        s = self.settings
        header, rows = read_faq_table(s.file_name, self.data)
        question_at = find_column(header, s.question_column, QUESTION_NAMES, "Fragen", True)
        answer_at = find_column(header, s.answer_column, ANSWER_NAMES, "Antworten", True)
        source_at = find_column(header, s.source_column, SOURCE_NAMES, "Quelle", False)
        assert question_at is not None and answer_at is not None
        context.report.fetched = len(rows)
        context.expected_total = len(rows)
        pairs: list[tuple[int, str, str, str]] = []
        first_row: dict[str, int] = {}
        for number, cells in rows:
            question = _cell(cells, question_at)
            answer = _cell(cells, answer_at)
            source = _cell(cells, source_at) if source_at is not None else ""
            key = f"Zeile {number}"
            if not question.strip() and not answer.strip():
                continue
            problem = ""
            if not question.strip():
                problem, code = "Die Frage fehlt.", "empty"
            elif not answer.strip():
                problem, code = "Die Antwort fehlt.", "empty"
            else:
                norm = " ".join(question.casefold().split())
                if norm in first_row:
                    problem, code = (f"Dieselbe Frage steht schon in Zeile {first_row[norm]}.",
                                     "duplicate")
                else:
                    first_row[norm] = number
            if problem:
                context.record(ItemResult(key, "fehlgeschlagen", title=question[:200],
                                          kind="zeile", code=code,
                                          reason=f"{s.file_name}, {key}: {problem}"))
                continue
            pairs.append((number, question.strip(), answer.strip(), source.strip()))
        if s.mode == "documents":
            self._as_document(context, pairs)
        else:
            self._as_curated(context, pairs)

    def _as_curated(self, context: SourceContext, pairs: list[tuple[int, str, str, str]]
                    ) -> None:
        report = context.report
        # A file imported before as a document: its document goes, the answers come.
        previous = context.previous.get(self.settings.file_name)
        if previous is not None:
            context.forget(previous.key)
        existing = {(c.bot_slug, tuple(c.questions), c.answer)
                    for c in list_curated(context.engine, context.workspace)}
        for number, question, answer, source in pairs:
            key = f"Zeile {number}"
            try:
                variants = _split_variants(question)
                identity = (report.bot, tuple(_clean_questions(variants)), answer)
                if identity in existing:
                    context.record(ItemResult(key, "unverändert", title=question, kind="zeile",
                                              reason="schon als geprüfte Antwort vorhanden"))
                    continue
                save_curated(context.engine, context.workspace, variants, answer,
                             source or self.settings.file_name, bot_slug=report.bot,
                             actor=self.actor)
            except CuratedError as exc:
                context.record(ItemResult(key, "fehlgeschlagen", title=question[:200],
                                          kind="zeile", code="invalid",
                                          reason=f"{self.settings.file_name}, {key}: {exc}"))
                continue
            existing.add(identity)
            context.record(ItemResult(key, "neu", title=question, kind="zeile",
                                      url=safe_url(source)))

    def _as_document(self, context: SourceContext, pairs: list[tuple[int, str, str, str]]
                     ) -> None:
        name = self.settings.file_name
        if not pairs:
            return
        path = f"faq:{name}"
        parts = [DocumentPart([Block(f"Frage: {q}\nAntwort: {a}", None, (q,))], safe_url(src))
                 for _, q, a, src in pairs]
        text = "\n".join(f"{q}\n{a}\n{src}" for _, q, a, src in pairs)
        content_hash = hashlib.sha256(text.encode()).hexdigest()
        status, chunks = context.write_document(
            path, name=name, file_type="faq", title=PurePath(name).stem, source_label=name,
            parts=parts, content_hash=content_hash, size_bytes=len(self.data))
        context.save(ItemState(key=name, url="", title=name, document_path=path,
                               content_hash=content_hash, status=status,
                               fetched_at=datetime.now(UTC)))
        for number, question, _, source in pairs:
            context.record(ItemResult(f"Zeile {number}", status, title=question, kind="zeile",
                                      url=safe_url(source)))
        context.report.results[-1].chunks = chunks


def import_faq(engine: Engine, workspace: str, bot_slug: str, file_name: str, data: bytes,
               mode: FaqMode = "curated", question_column: str = "", answer_column: str = "",
               source_column: str = "", actor: str = "", create_bot: bool = False,
               progress: ProgressCallback | None = None) -> SourceReport:
    """Import an FAQ table for `bot_slug` as curated answers or as a document; the report
    has one item per row. Raises SourceError (German) for bad settings or a missing bot;
    an unreadable file or missing column is the report's `error`."""
    from pipelines.connectors.sources import add_source, run_source

    settings = FaqSettings(file_name=PurePath(file_name).name, mode=mode,
                           question_column=question_column, answer_column=answer_column,
                           source_column=source_column)
    source = add_source(engine, workspace, bot_slug, "faq", settings, create_bot=create_bot)
    return run_source(engine, workspace, source.id, progress=progress,
                      connector=FaqConnector(settings, data, actor))


def _cell(cells: list[Any], index: int | None) -> str:
    if index is None or index >= len(cells) or cells[index] is None:
        return ""
    return str(cells[index])
