"""The bot test sets (JSONL: question, expected answer, expected source, kind)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, select

from pipelines.engine import Engine

ItemKind = Literal["answerable", "no_answer", "out_of_scope", "handoff"]


@dataclass(frozen=True)
class TestItem:
    __test__ = False  # a test-set item, not a pytest test class

    id: str
    question: str
    expected_answer: str
    expected_source: str
    kind: ItemKind
    also_sources: tuple[str, ...] = ()
    history: tuple[str, ...] = field(default=())

    @property
    def sources(self) -> set[str]:
        return {s for s in (self.expected_source, *self.also_sources) if s}


def load_testset(path: Path) -> list[TestItem]:
    items: list[TestItem] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            items.append(
                TestItem(
                    id=str(raw["id"]),
                    question=str(raw["question"]),
                    expected_answer=str(raw.get("expected_answer", "")),
                    expected_source=str(raw.get("expected_source", "")),
                    kind=raw.get("kind", "answerable"),
                    also_sources=tuple(raw.get("also_sources", [])),
                    history=tuple(raw.get("history", [])),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, Zeile {number}: ungültiger Eintrag ({exc})") from exc
    return items


# --------------------------------------------------------------------------- stored test sets
# Test sets live in the workspace's database (tables testsets, testset_items); the JSONL files
# above are one of the formats they come from and go to.

KINDS: tuple[ItemKind, ...] = ("answerable", "no_answer", "out_of_scope", "handoff")
KIND_LABELS = {
    "answerable": "beantwortbar",
    "no_answer": "keine Antwort in den Unterlagen",
    "out_of_scope": "außerhalb der Zuständigkeit",
    "handoff": "Übergabe an einen Menschen gewünscht",
}
# What people write in the "kind" column of a file, mapped to the kinds above.
KIND_ALIASES = {
    **{k: k for k in KINDS}, **{v.lower(): k for k, v in KIND_LABELS.items()},
    "beantwortbar": "answerable", "keine_antwort": "no_answer", "keine antwort": "no_answer",
    "unbeantwortbar": "no_answer", "ausserhalb": "out_of_scope", "außerhalb": "out_of_scope",
    "zustaendigkeit": "out_of_scope", "zuständigkeit": "out_of_scope",
    "uebergabe": "handoff", "übergabe": "handoff", "mensch": "handoff",
}
STATUSES = ("aktiv", "entwurf", "abgelehnt")
COLUMN_ALIASES = {
    "question": ("question", "frage"),
    "expected_answer": ("expected_answer", "erwartete_antwort", "erwartete antwort", "antwort",
                        "answer"),
    "expected_source": ("expected_source", "erwartete_quelle", "erwartete quelle", "quelle",
                        "source"),
    "kind": ("kind", "art", "typ"),
    "id": ("id", "nr", "nummer", "key"),
}
MAX_IMPORT_BYTES = 20_000_000
MAX_QUESTION_CHARS = 2000


class TestSetError(ValueError):
    """A test set operation that cannot be done; the message is German and names the item."""

    __test__ = False


@dataclass(frozen=True)
class TestSetInfo:
    __test__ = False

    id: int
    name: str
    bot_slug: str | None
    description: str
    counts: dict[str, int]


@dataclass
class ImportReport:
    created: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)


def create_testset(engine: Engine, workspace: str, name: str, bot_slug: str | None = None,
                   description: str = "") -> int:
    from pipelines.bots import get_or_create_workspace
    from pipelines.store.models import TestSet

    name = " ".join(name.split())
    if not name or len(name) > 120:
        raise TestSetError("Der Name eines Testsatzes braucht 1 bis 120 Zeichen.")
    with engine.session() as session:
        ws = get_or_create_workspace(session, workspace)
        if session.scalar(select(TestSet.id).where(TestSet.workspace_id == ws.id,
                                                   TestSet.name == name)) is not None:
            raise TestSetError(f"Einen Testsatz „{name}“ gibt es in diesem Arbeitsbereich schon.")
        row = TestSet(workspace_id=ws.id, name=name, bot_slug=bot_slug or None,
                      description=description.strip())
        session.add(row)
        session.flush()
        return int(row.id)


def list_testsets(engine: Engine, workspace: str) -> list[TestSetInfo]:
    from pipelines.store.models import TestSet, TestSetItem, Workspace

    with engine.session() as session:
        rows = session.scalars(select(TestSet).join(Workspace).where(
            Workspace.slug == workspace).order_by(TestSet.name)).all()
        counts = {(t, s): n for t, s, n in session.execute(
            select(TestSetItem.testset_id, TestSetItem.status, func.count())
            .group_by(TestSetItem.testset_id, TestSetItem.status))}
        return [TestSetInfo(r.id, r.name, r.bot_slug, r.description,
                            {s: counts.get((r.id, s), 0) for s in STATUSES}) for r in rows]


def _testset(session: Any, workspace: str, name: str) -> Any:
    from pipelines.store.models import TestSet, Workspace

    row = session.scalar(select(TestSet).join(Workspace).where(
        Workspace.slug == workspace, TestSet.name == name))
    if row is None:
        raise TestSetError(f"Einen Testsatz „{name}“ gibt es im Arbeitsbereich „{workspace}“ "
                           "nicht.")
    return row


def testset_items(engine: Engine, workspace: str, name: str,
                  statuses: tuple[str, ...] = ("aktiv",)) -> list[TestItem]:
    """The items of test set `name` with one of `statuses`, in their order."""
    with engine.session() as session:
        testset = _testset(session, workspace, name)
        return [_item(row) for row in testset.items if row.status in statuses]


def stored_items(engine: Engine, workspace: str, name: str) -> list[dict[str, Any]]:
    """Every item with its database id, status and origin, for the page's editor."""
    with engine.session() as session:
        testset = _testset(session, workspace, name)
        return [{"item_id": r.id, "key": r.key, "question": r.question,
                 "expected_answer": r.expected_answer, "expected_source": r.expected_source,
                 "kind": r.kind, "status": r.status, "origin": r.origin}
                for r in testset.items]


def add_items(engine: Engine, workspace: str, name: str, items: list[TestItem],
              status: str = "aktiv", origin: str = "manuell") -> ImportReport:
    """Append `items`; a question already in the set (same wording) is counted, not added."""
    from pipelines.store.models import TestSetItem

    if status not in STATUSES:
        raise TestSetError(f"Unbekannter Status „{status}“; möglich: {', '.join(STATUSES)}.")
    report = ImportReport()
    with engine.session() as session:
        testset = _testset(session, workspace, name)
        seen = {_same(r.question) for r in testset.items}
        keys = {r.key for r in testset.items}
        position = max((r.position for r in testset.items), default=0)
        for item in items:
            problem = _item_problem(item)
            if problem:
                report.problems.append(f"{item.id or 'Eintrag'}: {problem}")
                continue
            if _same(item.question) in seen:
                report.duplicates += 1
                continue
            position += 1
            key = item.id if item.id and item.id not in keys else f"f{position:04d}"
            keys.add(key)
            seen.add(_same(item.question))
            session.add(TestSetItem(
                testset_id=testset.id, position=position, key=key, question=item.question,
                expected_answer=item.expected_answer, expected_source=item.expected_source,
                also_sources=list(item.also_sources), history=list(item.history),
                kind=item.kind, status=status, origin=origin))
            report.created += 1
        testset.updated_at = datetime.now(UTC)
    return report


def update_item(engine: Engine, workspace: str, name: str, item_id: int,
                **changes: Any) -> None:
    """Change fields of one item (question, expected_answer, expected_source, kind, status)."""
    allowed = {"question", "expected_answer", "expected_source", "kind", "status"}
    unknown = set(changes) - allowed
    if unknown:
        raise TestSetError(f"Diese Felder lassen sich nicht ändern: {', '.join(sorted(unknown))}.")
    with engine.session() as session:
        testset = _testset(session, workspace, name)
        row = next((r for r in testset.items if r.id == item_id), None)
        if row is None:
            raise TestSetError(f"Eintrag {item_id} gehört nicht zum Testsatz „{name}“.")
        merged = _item(row)
        merged = TestItem(id=row.key, question=changes.get("question", merged.question),
                          expected_answer=changes.get("expected_answer", merged.expected_answer),
                          expected_source=changes.get("expected_source", merged.expected_source),
                          kind=changes.get("kind", merged.kind))
        problem = _item_problem(merged)
        if problem:
            raise TestSetError(f"Eintrag {row.key}: {problem}")
        if changes.get("status", row.status) not in STATUSES:
            raise TestSetError(f"Unbekannter Status „{changes['status']}“; möglich: "
                               f"{', '.join(STATUSES)}.")
        for key, value in changes.items():
            setattr(row, key, value)
        testset.updated_at = datetime.now(UTC)


def delete_items(engine: Engine, workspace: str, name: str, item_ids: list[int]) -> int:
    with engine.session() as session:
        testset = _testset(session, workspace, name)
        doomed = [r for r in testset.items if r.id in set(item_ids)]
        for row in doomed:
            session.delete(row)
        return len(doomed)


def import_testset(engine: Engine, workspace: str, name: str, filename: str, data: bytes,
                   bot_slug: str | None = None) -> ImportReport:
    """Read a CSV, JSON, JSONL or SQuAD file into test set `name` (created when missing). Bad
    rows are named with their number and reason; the good ones are stored."""
    if len(data) > MAX_IMPORT_BYTES:
        raise TestSetError(f"„{filename}“ ist mit {len(data) / 1e6:.1f} MB zu groß (höchstens "
                           f"{MAX_IMPORT_BYTES // 1_000_000} MB).")
    items, problems = parse_items(filename, data)
    if name not in {t.name for t in list_testsets(engine, workspace)}:
        create_testset(engine, workspace, name, bot_slug)
    report = add_items(engine, workspace, name, items, origin="import")
    report.problems = problems + report.problems
    return report


def parse_items(filename: str, data: bytes) -> tuple[list[TestItem], list[str]]:
    """Items from a file by its ending (.csv, .json – SQuAD or a list –, .jsonl)."""
    text = _decode(filename, data)
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        return _from_rows(_csv_rows(text), filename)
    if suffix == ".jsonl":
        rows, problems = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append((number, json.loads(line)))
                except json.JSONDecodeError as exc:
                    problems.append(f"{filename}, Zeile {number}: kein gültiges JSON ({exc.msg})")
        items, more = _from_rows(rows, filename)
        return items, problems + more
    if suffix == ".json":
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TestSetError(f"„{filename}“ ist kein gültiges JSON ({exc.msg}, Zeile "
                               f"{exc.lineno}).") from exc
        if isinstance(payload, dict) and isinstance(payload.get("data"), list):
            return _from_squad(payload, filename)
        if isinstance(payload, dict) and isinstance(payload.get("items"), list):
            payload = payload["items"]
        if not isinstance(payload, list):
            raise TestSetError(f"„{filename}“: erwartet wird eine Liste von Einträgen, ein "
                               "Objekt mit „items“ oder das SQuAD-Format mit „data“.")
        return _from_rows(list(enumerate(payload, start=1)), filename)
    raise TestSetError(f"„{filename}“: nur CSV, JSON (auch SQuAD) und JSONL lassen sich "
                       "einlesen.")


def export_testset(engine: Engine, workspace: str, name: str, fmt: str = "jsonl") -> bytes:
    """All items (every status) as JSONL, JSON or CSV (semicolon, UTF-8 with BOM for Excel)."""
    rows = [
        {"id": i["key"], "question": i["question"], "expected_answer": i["expected_answer"],
         "expected_source": i["expected_source"], "kind": i["kind"], "status": i["status"]}
        for i in stored_items(engine, workspace, name)
    ]
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    if fmt == "json":
        return json.dumps({"items": rows}, ensure_ascii=False, indent=2).encode("utf-8")
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["id"],
                                delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    raise TestSetError(f"Unbekanntes Format „{fmt}“; möglich: jsonl, json, csv.")


def _item(row: Any) -> TestItem:
    return TestItem(id=row.key, question=row.question, expected_answer=row.expected_answer,
                    expected_source=row.expected_source, kind=row.kind,
                    also_sources=tuple(row.also_sources or ()),
                    history=tuple(row.history or ()))


def _item_problem(item: TestItem) -> str:
    if not item.question.strip():
        return "die Frage fehlt"
    if len(item.question) > MAX_QUESTION_CHARS:
        return f"die Frage ist länger als {MAX_QUESTION_CHARS} Zeichen"
    if item.kind not in KINDS:
        return (f"unbekannte Art „{item.kind}“ (möglich: "
                + ", ".join(f"{k} = {v}" for k, v in KIND_LABELS.items()) + ")")
    return ""


def _same(question: str) -> str:
    return " ".join(question.lower().split())


def _decode(filename: str, data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TestSetError(f"„{filename}“ ist weder UTF-8 noch Windows-1252 kodiert.")


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    return [(number, row) for number, row in enumerate(reader, start=2)]


def _column(row: dict[str, Any], field_name: str) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    for alias in COLUMN_ALIASES[field_name]:
        if alias in lowered and lowered[alias] not in (None, ""):
            return lowered[alias]
    return None


def _from_rows(rows: list[tuple[int, Any]], filename: str) -> tuple[list[TestItem], list[str]]:
    items: list[TestItem] = []
    problems: list[str] = []
    for number, row in rows:
        where = f"{filename}, Zeile {number}" if not filename.endswith(".json") else \
            f"{filename}, Eintrag {number}"
        if not isinstance(row, dict):
            problems.append(f"{where}: kein Objekt mit Feldern")
            continue
        question = _column(row, "question")
        if not isinstance(question, str) or not question.strip():
            problems.append(f"{where}: die Spalte „Frage“ (question) fehlt oder ist leer")
            continue
        kind_text = str(_column(row, "kind") or "answerable").strip().lower()
        kind = KIND_ALIASES.get(kind_text)
        if kind is None:
            problems.append(f"{where}: unbekannte Art „{kind_text}“ (möglich: "
                            + ", ".join(KIND_LABELS.values()) + ")")
            continue
        also = row.get("also_sources") or []
        history = row.get("history") or []
        items.append(TestItem(
            id=str(_column(row, "id") or ""), question=" ".join(question.split()),
            expected_answer=str(_column(row, "expected_answer") or "").strip(),
            expected_source=str(_column(row, "expected_source") or "").strip(),
            kind=kind,  # type: ignore[arg-type]
            also_sources=tuple(str(s) for s in also) if isinstance(also, list) else (),
            history=tuple(str(h) for h in history) if isinstance(history, list) else ()))
    return items, problems


def _from_squad(payload: dict[str, Any], filename: str) -> tuple[list[TestItem], list[str]]:
    """SQuAD v1/v2: each question with its first answer; the article title is the expected
    source; v2's unanswerable questions become "keine Antwort in den Unterlagen"."""
    items: list[TestItem] = []
    problems: list[str] = []
    for article in payload["data"]:
        title = str(article.get("title", "")) if isinstance(article, dict) else ""
        for paragraph in (article.get("paragraphs") or []) if isinstance(article, dict) else []:
            for qa in paragraph.get("qas") or []:
                if not isinstance(qa, dict):
                    problems.append(f"{filename}: ein Eintrag in „qas“ ist kein Objekt")
                    continue
                question = qa.get("question")
                if not isinstance(question, str) or not question.strip():
                    problems.append(f"{filename}: Frage {qa.get('id', '?')} ohne Text")
                    continue
                answers = qa.get("answers") or []
                impossible = bool(qa.get("is_impossible")) or not answers
                items.append(TestItem(
                    id=str(qa.get("id", "")), question=" ".join(question.split()),
                    expected_answer="" if impossible else str(answers[0].get("text", "")),
                    expected_source="" if impossible else title,
                    kind="no_answer" if impossible else "answerable"))
    return items, problems
