"""Curated answers: answers written or approved by staff, served before the documents.

A new question is compared with every phrasing of every enabled curated answer of the bot (or of
the whole workspace): word overlap (`lexical_overlap`: the share of content words of both
questions found in the other, a word also matching a compound that contains it) and meaning
(cosine of sentence embeddings), averaged. At or above the bot's threshold
the best answer is served, marked as curated, and its hit counter goes up.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import yaml
from sqlalchemy import or_, select, update

from pipelines.bots import get_or_create_workspace
from pipelines.documents.errors import DocumentError
from pipelines.documents.readers import decode_text
from pipelines.embeddings import Embedder, embed_query
from pipelines.engine import Engine
from pipelines.german import STOPWORDS, compound_parts, stem, words
from pipelines.handoff import ticket_missing
from pipelines.llm.providers import LLMError, LLMProvider, Message
from pipelines.prompts import render_prompt
from pipelines.store.models import (
    Bot,
    CuratedAnswer,
    Ticket,
    Workspace,
    aware,
    row_in_workspace,
)

LEXICAL_WEIGHT = 0.6
# With a language model answering, candidates from this score on are shown to it and it decides
# (it also vetoes candidates above the bot's threshold): the scores alone cannot tell "first
# dog" from "second dog" (evaluation/bench_curated.py).
LLM_CANDIDATE_FLOOR = 0.55
SYNONYMS_FILE = Path(__file__).parent / "resources" / "synonyms_de.yaml"
MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 10_000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
QUESTION_COLUMNS = ("frage", "question", "fragen", "questions")
ANSWER_COLUMNS = ("antwort", "answer")
SOURCE_COLUMNS = ("quelle", "source")
# Several phrasings in one cell: one per line or separated by "|".
VARIANT_SEPARATORS = ("\n", "|")


class CuratedError(ValueError):
    """A curated answer that cannot be stored; the message names the reason in German."""


@dataclass(frozen=True)
class CuratedInfo:
    id: int
    bot_slug: str | None
    questions: list[str]
    answer: str
    source: str
    enabled: bool
    hits: int
    ticket_id: int | None
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CuratedMatch:
    id: int
    answer: str
    source: str
    matched_question: str
    score: float
    lexical: float
    semantic: float
    # A language model confirmed that both questions ask the same (None: not asked).
    confirmed: bool | None = None


@dataclass
class ImportReport:
    created: int = 0
    skipped: int = 0
    # One German line per refused row or file, naming it and the reason.
    problems: list[str] = field(default_factory=list)


def save_curated(engine: Engine, workspace: str, questions: Iterable[str], answer: str,
                 source: str = "", bot_slug: str | None = None, enabled: bool = True,
                 curated_id: int | None = None, actor: str = "", ticket_id: int | None = None
                 ) -> int:
    """Create (or, with `curated_id`, change) a curated answer; returns its id."""
    phrasings = _clean_questions(questions)
    text = answer.strip()
    if not text:
        raise CuratedError("Die Antwort ist leer.")
    if len(text) > MAX_ANSWER_CHARS:
        raise CuratedError(f"Die Antwort ist mit {len(text)} Zeichen zu lang; erlaubt sind "
                           f"{MAX_ANSWER_CHARS}.")
    with engine.session() as session:
        ws = get_or_create_workspace(session, workspace)
        if bot_slug and session.scalar(select(Bot.id).where(
                Bot.workspace_id == ws.id, Bot.slug == bot_slug)) is None:
            raise CuratedError(f"Einen Bot „{bot_slug}“ gibt es im Arbeitsbereich nicht.")
        if curated_id is None:
            row = CuratedAnswer(workspace_id=ws.id, created_by=actor[:120], ticket_id=ticket_id)
            session.add(row)
        else:
            row = _row(session, workspace, curated_id)
        row.questions = phrasings
        row.answer = text
        row.source = source.strip()[:1000]
        row.bot_slug = bot_slug or None
        row.enabled = enabled
        row.updated_at = datetime.now(UTC)
        session.flush()
        return int(row.id)


def list_curated(engine: Engine, workspace: str, bot_slug: str | None = None,
                 enabled_only: bool = False) -> list[CuratedInfo]:
    """The workspace's curated answers (for `bot_slug`: its own and those for every bot)."""
    with engine.session() as session:
        query = (select(CuratedAnswer).join(Workspace, Workspace.id == CuratedAnswer.workspace_id)
                 .where(Workspace.slug == workspace))
        if bot_slug is not None:
            query = query.where(or_(CuratedAnswer.bot_slug.is_(None),
                                    CuratedAnswer.bot_slug == bot_slug))
        if enabled_only:
            query = query.where(CuratedAnswer.enabled.is_(True))
        return [_info(row) for row in session.scalars(query.order_by(CuratedAnswer.id))]


def get_curated(engine: Engine, workspace: str, curated_id: int) -> CuratedInfo:
    with engine.session() as session:
        return _info(_row(session, workspace, curated_id))


def set_enabled(engine: Engine, workspace: str, curated_id: int, enabled: bool) -> None:
    with engine.session() as session:
        row = _row(session, workspace, curated_id)
        row.enabled = enabled
        row.updated_at = datetime.now(UTC)


def delete_curated(engine: Engine, workspace: str, curated_id: int) -> None:
    with engine.session() as session:
        session.delete(_row(session, workspace, curated_id))


def from_ticket(engine: Engine, workspace: str, ticket_id: int, actor: str,
                extra_questions: Iterable[str] = (), answer: str | None = None,
                source: str = "") -> int:
    """A clerk's reply becomes a curated answer for the ticket's bot: the ticket's question
    (redacted) plus `extra_questions`, the reply (or an edited `answer`)."""
    with engine.session() as session:
        ticket: Ticket = row_in_workspace(session, Ticket, ticket_id, workspace,
                                          CuratedError(ticket_missing(ticket_id, workspace)))
        if not (answer or ticket.reply):
            raise CuratedError(f"Anfrage Nr. {ticket_id} ist noch nicht beantwortet.")
        bot = session.get(Bot, ticket.bot_id) if ticket.bot_id else None
        question, reply_text = ticket.question, answer or ticket.reply or ""
    return save_curated(engine, workspace, [question, *extra_questions], reply_text,
                        source=source, bot_slug=bot.slug if bot else None, actor=actor,
                        ticket_id=ticket_id)


def match(engine: Engine, workspace: str, bot_slug: str, question: str, threshold: float,
          judge: LLMProvider | None = None) -> CuratedMatch | None:
    """The best enabled curated answer for `question` at or above `threshold`, or None.

    With a `judge` (a language model that answers), the best candidate from
    LLM_CANDIDATE_FLOOR on is served only if the model confirms both questions ask the same;
    if the model fails, the threshold alone decides."""
    candidates = list_curated(engine, workspace, bot_slug, enabled_only=True)
    if not candidates or not question.strip():
        return None
    best = best_match(engine.embedder, question, candidates)
    if best is None:
        return None
    if judge is not None and best.score >= min(threshold, LLM_CANDIDATE_FLOOR):
        verdict = same_question(judge, best.matched_question, question)
        if verdict is not None:
            return replace(best, confirmed=verdict) if verdict else None
    return best if best.score >= threshold else None


def same_question(judge: LLMProvider, stored: str, asked: str) -> bool | None:
    """The language model's verdict whether `asked` asks exactly what `stored` asks; None when
    it fails or answers neither yes nor no."""
    prompt = render_prompt("curated_check", stored=stored, asked=asked)
    try:
        reply = "".join(judge.stream_chat([Message("user", prompt)])).strip().lower()
    except LLMError:
        return None
    word = re.sub(r"[^a-zäöü]", " ", reply).split()[:1]
    if word and word[0] in ("ja", "yes"):
        return True
    if word and word[0] in ("nein", "no"):
        return False
    return None


def best_match(embedder: Embedder, question: str, candidates: list[CuratedInfo]
               ) -> CuratedMatch | None:
    vector = embed_query(embedder, question)
    best: CuratedMatch | None = None
    for candidate in candidates:
        vectors = _question_vectors(embedder, tuple(candidate.questions))
        semantic = vectors @ vector
        for index, phrasing in enumerate(candidate.questions):
            lexical = lexical_overlap(question, phrasing)
            sem = max(0.0, float(semantic[index]))
            score = LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * sem
            if best is None or score > best.score:
                best = CuratedMatch(candidate.id, candidate.answer, candidate.source, phrasing,
                                    round(score, 4), round(lexical, 4), round(sem, 4))
    return best


def record_hit(engine: Engine, curated_id: int) -> None:
    with engine.session() as session:
        session.execute(update(CuratedAnswer).where(CuratedAnswer.id == curated_id)
                        .values(hits=CuratedAnswer.hits + 1))


def lexical_overlap(left: str, right: str) -> float:
    """Share of the content words of both texts found in the other (stems; "Sperrmüll" is
    found in "Sperrmüllabholung" and back). Each word counts once: compound parts only help a
    word to be found, they are not words of their own (that made short questions about the same
    noun look alike)."""
    left_words, right_words = _stems(left), _stems(right)
    if not left_words and not right_words:
        return 0.0
    left_all, right_all = _with_parts(left) | left_words, _with_parts(right) | right_words
    found = sum(1 for w in left_words if w in right_all) + sum(
        1 for w in right_words if w in left_all)
    return found / (len(left_words) + len(right_words))


def _stems(text: str) -> set[str]:
    synonyms = _synonyms()
    return {synonyms.get(s, s) for s in (stem(w.lower()) for w in words(text)
                                         if w.lower() not in STOPWORDS and len(w) > 1)}


def _with_parts(text: str) -> set[str]:
    synonyms = _synonyms()
    return {synonyms.get(s, s) for s in (stem(part) for w in words(text)
                                         for part in compound_parts(w))}


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, str]:
    """Stem -> the stem that stands for its synonym group (resources/synonyms_de.yaml)."""
    groups = yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8")) or []
    mapping: dict[str, str] = {}
    for group in groups:
        stems = [stem(str(word).lower()) for word in group]
        for member in stems:
            mapping.setdefault(member, stems[0])
    return mapping


# --------------------------------------------------------------------------- import


def import_curated(engine: Engine, workspace: str, filename: str, data: bytes,
                   bot_slug: str | None = None, actor: str = "") -> ImportReport:
    """Curated answers from a CSV or XLSX table with the columns Frage/question and
    Antwort/answer (optional Quelle/source). Bad rows are named and skipped, the rest is
    stored; a phrasing already answered the same way is not stored twice."""
    report = ImportReport()
    name = PurePath(filename).name
    try:
        rows = _table_rows(name, data)
    except CuratedError as exc:
        report.problems.append(f"{name}: {exc}")
        return report
    existing = {(c.bot_slug, tuple(c.questions), c.answer)
                for c in list_curated(engine, workspace)}
    for number, row in rows:
        where = f"{name}, Zeile {number}"
        questions = _split_variants(row.get("question", ""))
        answer = row.get("answer", "").strip()
        if not questions and not answer:
            continue
        try:
            key = (bot_slug or None, tuple(_clean_questions(questions)), answer)
            if key in existing:
                report.skipped += 1
                continue
            save_curated(engine, workspace, questions, answer, row.get("source", ""),
                         bot_slug=bot_slug, actor=actor)
        except CuratedError as exc:
            report.problems.append(f"{where}: {exc}")
        else:
            existing.add(key)
            report.created += 1
    return report


def _table_rows(name: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    if not data:
        raise CuratedError("Die Datei ist leer.")
    if len(data) > MAX_IMPORT_BYTES:
        raise CuratedError(f"Die Datei ist mit {len(data) / 1024 / 1024:.1f} MB zu groß; "
                           f"erlaubt sind {MAX_IMPORT_BYTES // 1024 // 1024} MB.")
    suffix = PurePath(name).suffix.lower()
    if suffix == ".csv":
        table = _csv_rows(data)
    elif suffix == ".xlsx":
        table = _xlsx_rows(data)
    else:
        raise CuratedError(f"Das Format „{suffix or 'ohne Endung'}“ wird nicht unterstützt; "
                           "möglich sind CSV und XLSX.")
    if not table:
        raise CuratedError("Die Tabelle enthält keine Zeilen.")
    header = [str(cell or "").strip().lower() for cell in table[0][1]]
    columns = {
        "question": _column(header, QUESTION_COLUMNS),
        "answer": _column(header, ANSWER_COLUMNS),
        "source": _column(header, SOURCE_COLUMNS),
    }
    if columns["question"] is None or columns["answer"] is None:
        raise CuratedError("Die erste Zeile braucht die Spalten „Frage“ und „Antwort“ (oder "
                           "„question“ und „answer“); gefunden: "
                           + (", ".join(f"„{h}“" for h in header if h) or "keine") + ".")
    if len(table) - 1 > MAX_IMPORT_ROWS:
        raise CuratedError(f"Die Tabelle hat {len(table) - 1} Zeilen; erlaubt sind "
                           f"{MAX_IMPORT_ROWS}.")
    rows = []
    for number, cells in table[1:]:
        values = {key: _cell(cells, index) for key, index in columns.items()
                  if index is not None}
        rows.append((number, values))
    return rows


# The readers skip empty rows but keep each row's number as a spreadsheet shows it, so that
# "Zeile N" in a problem names the row people see.
def _csv_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    try:
        text = decode_text(data)
    except DocumentError as exc:
        raise CuratedError(str(exc)) from exc
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [(number, row) for number, row
                in enumerate(csv.reader(io.StringIO(text), dialect), start=1) if any(row)]
    except csv.Error as exc:
        raise CuratedError(f"Die CSV-Datei ist fehlerhaft: {exc}.") from exc


def _xlsx_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise CuratedError("Die Datei ist keine lesbare Excel-Arbeitsmappe (XLSX).") from exc
    try:
        sheet = workbook.worksheets[0]
        rows: list[tuple[int, list[Any]]] = []
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if len(rows) > MAX_IMPORT_ROWS + 1:
                break
            if any(cell not in (None, "") for cell in row):
                rows.append((number, list(row)))
        return rows
    finally:
        workbook.close()


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((i for i, h in enumerate(header) if h in names), None)


def _cell(cells: list[Any], index: int) -> str:
    value = cells[index] if index < len(cells) else None
    return "" if value is None else str(value)


def _split_variants(cell: str) -> list[str]:
    parts = [cell]
    for separator in VARIANT_SEPARATORS:
        parts = [piece for part in parts for piece in part.split(separator)]
    return [p.strip() for p in parts if p.strip()]


def _clean_questions(questions: Iterable[str]) -> list[str]:
    cleaned = list(dict.fromkeys(" ".join(q.split()) for q in questions if q and q.strip()))
    if not cleaned:
        raise CuratedError("Es fehlt eine Frage.")
    too_long = next((q for q in cleaned if len(q) > MAX_QUESTION_CHARS), None)
    if too_long:
        raise CuratedError(f"Die Frage „{too_long[:40]}…“ ist zu lang; erlaubt sind "
                           f"{MAX_QUESTION_CHARS} Zeichen.")
    return cleaned


def _row(session: Any, workspace: str, curated_id: int) -> CuratedAnswer:
    return row_in_workspace(
        session, CuratedAnswer, curated_id, workspace,
        CuratedError(f"Eine geprüfte Antwort Nr. {curated_id} gibt es im Arbeitsbereich "
                     f"„{workspace}“ nicht."))


def _info(row: CuratedAnswer) -> CuratedInfo:
    return CuratedInfo(row.id, row.bot_slug, list(row.questions or []), row.answer, row.source,
                       row.enabled, row.hits, row.ticket_id, row.created_by,
                       aware(row.created_at), aware(row.updated_at))


@lru_cache(maxsize=4096)
def _question_vectors(embedder: Embedder, questions: tuple[str, ...]) -> np.ndarray:
    vectors = embedder.embed(list(questions))
    vectors.setflags(write=False)
    return vectors
