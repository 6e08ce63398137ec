"""Stored test sets: create, import CSV/JSON/JSONL/SQuAD with bad rows named, edit, export,
workspaces apart."""

from __future__ import annotations

import json

import pytest

from evaluation.testset import (
    TestItem,
    TestSetError,
    add_items,
    create_testset,
    delete_items,
    export_testset,
    import_testset,
    list_testsets,
    stored_items,
    update_item,
)
from evaluation.testset import (
    testset_items as active_items,  # not collected as a test
)
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT

WS = "standard"
CSV = (
    "Frage;Erwartete Antwort;Quelle;Art\n"
    "Was kostet ein Reisepass?;70,00 Euro;reisepass.md;beantwortbar\n"
    ";leer;x;beantwortbar\n"
    "Wann hat das Hallenbad offen?;;;keine Antwort\n"
    "Wie beantrage ich Bürgergeld?;;;außerhalb\n"
    "Ich will einen Menschen;;;Übergabe\n"
    "Was kostet ein Reisepass?;doppelt;;beantwortbar\n"
    "Wie geht das?;;;vielleicht\n"
)
SQUAD = {
    "version": "v2.0",
    "data": [{"title": "Hundesteuer", "paragraphs": [{"context": "…", "qas": [
        {"id": "q1", "question": "Wie hoch ist die Hundesteuer?",
         "answers": [{"text": "96 Euro", "answer_start": 0}]},
        {"id": "q2", "question": "Wer zahlt die Katzensteuer?", "answers": [],
         "is_impossible": True},
        {"id": "q3", "question": "", "answers": []},
    ]}]}],
}


def test_csv_import_names_bad_rows_and_keeps_the_good_ones(engine: Engine) -> None:
    report = import_testset(engine, WS, "Bürgerbüro", "fragen.csv", CSV.encode("cp1252"))

    assert report.created == 4
    assert report.duplicates == 1
    assert len(report.problems) == 2
    assert "fragen.csv, Zeile 3" in report.problems[0] and "„Frage“" in report.problems[0]
    assert "Zeile 8" in report.problems[1] and "unbekannte Art „vielleicht“" in report.problems[1]
    items = active_items(engine, WS, "Bürgerbüro")
    assert [i.kind for i in items] == ["answerable", "no_answer", "out_of_scope", "handoff"]
    assert items[0].expected_answer == "70,00 Euro"
    assert items[0].expected_source == "reisepass.md"


def test_squad_file_becomes_answerable_and_no_answer_items(engine: Engine) -> None:
    report = import_testset(engine, WS, "squad", "dev.json", json.dumps(SQUAD).encode())

    assert report.created == 2 and len(report.problems) == 1
    first, second = active_items(engine, WS, "squad")
    assert (first.id, first.expected_answer, first.expected_source, first.kind) == \
        ("q1", "96 Euro", "Hundesteuer", "answerable")
    assert (second.kind, second.expected_source) == ("no_answer", "")


def test_the_musterstadt_jsonl_round_trips_through_export(engine: Engine) -> None:
    path = REPO_ROOT / "data" / "sample" / "musterstadt_testset.jsonl"
    report = import_testset(engine, WS, "Musterstadt", path.name, path.read_bytes())
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

    assert report.created == len(lines) and not report.problems
    items = active_items(engine, WS, "Musterstadt")
    follow_up = next(i for i in items if i.history)
    assert follow_up.history == tuple(next(r for r in lines if r["id"] == follow_up.id)["history"])
    exported = [json.loads(line) for line in
                export_testset(engine, WS, "Musterstadt", "jsonl").decode().splitlines()]
    assert [e["question"] for e in exported] == [r["question"] for r in lines]
    csv_text = export_testset(engine, WS, "Musterstadt", "csv").decode("utf-8")
    assert csv_text.startswith("\ufeffid;question;expected_answer")
    again = import_testset(engine, WS, "Kopie", "kopie.csv", csv_text.encode("utf-8"))
    assert again.created == len(lines) and not again.problems


@pytest.mark.parametrize(("name", "data", "words"), [
    ("kaputt.json", b"{nicht json", "kein gültiges JSON"),
    ("liste.json", b'{"etwas": 1}', "erwartet wird eine Liste"),
    ("fragen.xlsx", b"PK\x03\x04", r"nur CSV, JSON \(auch SQuAD\) und JSONL"),
    ("binaer.csv", bytes(range(128, 256)) * 3 + b"\x81\x8d\x8f\x90\x9d", "weder UTF-8"),
])
def test_unreadable_files_are_refused_with_the_reason(engine: Engine, name: str, data: bytes,
                                                      words: str) -> None:
    create_testset(engine, WS, "Bestand")
    add_items(engine, WS, "Bestand", [TestItem("a1", "Was kostet ein Pass?", "", "",
                                               "answerable")])

    with pytest.raises(TestSetError, match=words):
        import_testset(engine, WS, "Bestand", name, data)

    assert [i.question for i in active_items(engine, WS, "Bestand")] == ["Was kostet ein Pass?"]


def test_jsonl_with_a_broken_line_keeps_the_rest(engine: Engine) -> None:
    data = (b'{"id": "x1", "question": "Erste Frage?"}\n{kaputt\n'
            b'{"id": "x2", "question": "Zweite Frage?", "kind": "no_answer"}\n')

    report = import_testset(engine, WS, "jsonl", "t.jsonl", data)

    assert report.created == 2
    assert report.problems == ["t.jsonl, Zeile 2: kein gültiges JSON (Expecting property name "
                               "enclosed in double quotes)"]


def test_items_are_edited_drafts_are_not_run_and_deleted_ones_are_gone(engine: Engine) -> None:
    create_testset(engine, WS, "Entwürfe", bot_slug="musterstadt-buergerservice")
    add_items(engine, WS, "Entwürfe", [TestItem("", "Was kostet die Biotonne?", "", "",
                                                "answerable")], status="entwurf",
              origin="entwurf_regeln")
    [draft] = stored_items(engine, WS, "Entwürfe")
    assert draft["status"] == "entwurf" and draft["origin"] == "entwurf_regeln"
    assert active_items(engine, WS, "Entwürfe") == []

    update_item(engine, WS, "Entwürfe", draft["item_id"], status="aktiv",
                expected_answer="60 Euro im Jahr")
    [active] = active_items(engine, WS, "Entwürfe")
    assert active.expected_answer == "60 Euro im Jahr"
    with pytest.raises(TestSetError, match="unbekannte Art „egal“"):
        update_item(engine, WS, "Entwürfe", draft["item_id"], kind="egal")
    with pytest.raises(TestSetError, match="die Frage fehlt"):
        update_item(engine, WS, "Entwürfe", draft["item_id"], question="  ")
    [info] = [t for t in list_testsets(engine, WS) if t.name == "Entwürfe"]
    assert info.counts == {"aktiv": 1, "entwurf": 0, "abgelehnt": 0}
    assert delete_items(engine, WS, "Entwürfe", [draft["item_id"]]) == 1
    assert stored_items(engine, WS, "Entwürfe") == []


def test_test_sets_of_another_workspace_are_invisible(engine: Engine) -> None:
    create_testset(engine, "jena", "Geheim")

    assert [t.name for t in list_testsets(engine, WS)] == []
    with pytest.raises(TestSetError, match="gibt es im Arbeitsbereich „standard“ nicht"):
        active_items(engine, WS, "Geheim")
    with pytest.raises(TestSetError, match="gibt es in diesem Arbeitsbereich schon"):
        create_testset(engine, "jena", "Geheim")
