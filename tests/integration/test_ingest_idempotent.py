"""Ingesting again: unchanged files are skipped, changed ones replaced, deleted ones pruned."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from pipelines.documents.ingest import FileResult, Ingestor
from pipelines.engine import Engine

FILES = {
    "hundesteuer.md": (
        "# Hundesteuer\n\n"
        "Die Hundesteuer beträgt 96 Euro im Jahr für den ersten Hund. "
        "Sie wird am 1. Juli fällig.\n"
    ),
    "sperrmuell.txt": (
        "Sperrmüll\n\n"
        "Sperrmüll holt der Entsorgungsbetrieb zweimal im Jahr kostenlos ab.\n"
    ),
    "reisepass.md": (
        "# Reisepass\n\n"
        "Ein Reisepass kostet 70 Euro und ist zehn Jahre gültig.\n"
    ),
}
OLD_FACT = "Die Bücherei schließt mittwochs um Punkt 13 Uhr."
NEW_FACT = "Das Hallenbad öffnet freitags schon um 6 Uhr."


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dokumente"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def ingestor(engine: Engine) -> Ingestor:
    return Ingestor(engine, "standard", "kb")


def _statuses(results: list[FileResult]) -> dict[str, str]:
    return {r.name: r.status for r in results}


def _chunk_ids(ingestor: Ingestor) -> dict[str, list[str]]:
    return {d.name: [c["chunk_id"] for c in ingestor.index.chunks_of(d.doc_key)]
            for d in ingestor.documents()}


def _documents(ingestor: Ingestor) -> dict[str, Any]:
    return {d.name: d for d in ingestor.documents()}


def _found(ingestor: Ingestor, query: str) -> list[str]:
    return [h.text for h in ingestor.index.search(query, k=10, mode="fulltext")]


def test_second_run_leaves_everything_unchanged(folder: Path, ingestor: Ingestor) -> None:
    first = ingestor.ingest([folder])
    assert _statuses(first.results) == dict.fromkeys(FILES, "neu")
    ids = _chunk_ids(ingestor)
    count = ingestor.index.count()
    documents = {name: (d.content_hash, d.ingested_at, d.chunks)
                 for name, d in _documents(ingestor).items()}
    assert count == sum(len(v) for v in ids.values()) >= 3

    second = ingestor.ingest([folder])
    assert _statuses(second.results) == dict.fromkeys(FILES, "unverändert")
    assert [r.chunks for r in second.results] == [r.chunks for r in first.results]
    assert second.embedding_seconds == 0.0  # nothing was embedded again
    assert _chunk_ids(ingestor) == ids
    assert ingestor.index.count() == count
    assert {name: (d.content_hash, d.ingested_at, d.chunks)
            for name, d in _documents(ingestor).items()} == documents


def test_a_changed_file_is_replaced_and_the_others_stay(folder: Path, ingestor: Ingestor) -> None:
    changed = folder / "oeffnungszeiten.md"
    changed.write_text(f"# Öffnungszeiten\n\n{OLD_FACT}\n", encoding="utf-8")
    ingestor.ingest([folder])
    ids = _chunk_ids(ingestor)
    assert any("Bücherei" in text for text in _found(ingestor, "Bücherei mittwochs"))

    changed.write_text(f"# Öffnungszeiten\n\n{NEW_FACT}\n", encoding="utf-8")
    report = ingestor.ingest([folder])

    assert _statuses(report.results) == {**dict.fromkeys(FILES, "unverändert"),
                                         "oeffnungszeiten.md": "aktualisiert"}
    after = _chunk_ids(ingestor)
    for name in FILES:
        assert after[name] == ids[name]  # untouched
    assert set(after["oeffnungszeiten.md"]).isdisjoint(ids["oeffnungszeiten.md"])
    assert not any("Bücherei" in text for text in _found(ingestor, "Bücherei mittwochs"))
    assert [t for t in _found(ingestor, "Hallenbad freitags") if "Hallenbad" in t] == [NEW_FACT]
    texts = [c["text"] for c in ingestor.index.chunks_of(
        _documents(ingestor)["oeffnungszeiten.md"].doc_key)]
    assert texts == [NEW_FACT]
    assert ingestor.index.count() == sum(len(v) for v in after.values())
    document = _documents(ingestor)["oeffnungszeiten.md"]
    assert document.content_hash == hashlib.sha256(changed.read_bytes()).hexdigest()
    assert document.chunks == len(after["oeffnungszeiten.md"])
    assert len(ingestor.documents()) == 4


def test_prune_removes_a_deleted_file(folder: Path, ingestor: Ingestor) -> None:
    ingestor.ingest([folder])
    ids = _chunk_ids(ingestor)
    gone = _documents(ingestor)["sperrmuell.txt"]
    (folder / "sperrmuell.txt").unlink()

    without_prune = ingestor.ingest([folder])
    assert "sperrmuell.txt" not in _statuses(without_prune.results)
    assert ingestor.index.chunks_of(gone.doc_key)  # kept until pruning is asked for

    report = ingestor.ingest([folder], prune=True)
    assert _statuses(report.results) == {"hundesteuer.md": "unverändert",
                                         "reisepass.md": "unverändert",
                                         "sperrmuell.txt": "entfernt"}
    removed = next(r for r in report.results if r.status == "entfernt")
    assert removed.path == gone.source_path
    assert ingestor.index.chunks_of(gone.doc_key) == []
    assert set(_documents(ingestor)) == {"hundesteuer.md", "reisepass.md"}
    assert not any("Sperrmüll" in t for t in _found(ingestor, "Sperrmüll abholen"))
    remaining = _chunk_ids(ingestor)
    assert remaining == {name: ids[name] for name in ("hundesteuer.md", "reisepass.md")}
    assert ingestor.index.count() == sum(len(v) for v in remaining.values())


def test_prune_leaves_documents_of_other_folders(tmp_path: Path, folder: Path,
                                                 ingestor: Ingestor) -> None:
    other = tmp_path / "anderswo"
    other.mkdir()
    (other / "wertstoffhof.md").write_text("# Wertstoffhof\n\nGeöffnet samstags.\n",
                                           encoding="utf-8")
    ingestor.ingest([folder, other])
    (folder / "reisepass.md").unlink()
    report = ingestor.ingest([folder], prune=True)
    assert [r.name for r in report.results if r.status == "entfernt"] == ["reisepass.md"]
    assert "wertstoffhof.md" in _documents(ingestor)


def test_force_reingests_without_duplicating(folder: Path, ingestor: Ingestor) -> None:
    ingestor.ingest([folder])
    ids = _chunk_ids(ingestor)
    count = ingestor.index.count()

    report = ingestor.ingest([folder], force=True)
    assert _statuses(report.results) == dict.fromkeys(FILES, "aktualisiert")
    assert report.embedding_seconds > 0
    after = _chunk_ids(ingestor)
    assert ingestor.index.count() == count
    for name in FILES:
        assert len(after[name]) == len(ids[name])
        assert set(after[name]).isdisjoint(ids[name])  # new revision, old one deleted
    hits = _found(ingestor, "Reisepass gültig")
    assert len([t for t in hits if "zehn Jahre" in t]) == 1


def test_progress_is_reported_once_per_file(folder: Path, ingestor: Ingestor) -> None:
    calls: list[tuple[int, int, FileResult]] = []
    report = ingestor.ingest([folder], progress=lambda d, t, r: calls.append((d, t, r)))
    assert [(done, total) for done, total, _ in calls] == [(1, 3), (2, 3), (3, 3)]
    assert [result for _, _, result in calls] == report.results
    assert {result.name for _, _, result in calls} == set(FILES)


def test_progress_reports_missing_paths_too(folder: Path, tmp_path: Path,
                                            ingestor: Ingestor) -> None:
    calls: list[tuple[int, int]] = []
    report = ingestor.ingest([tmp_path / "fehlt.pdf", folder],
                             progress=lambda d, t, r: calls.append((d, t)))
    assert len(report.results) == 4
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_changed_chunking_settings_index_every_file_again(
    folder: Path, make_settings: Any
) -> None:
    Ingestor(Engine(make_settings()), "standard", "kb").ingest([folder])

    same = Ingestor(Engine(make_settings()), "standard", "kb").ingest([folder])
    rechunked = Ingestor(Engine(make_settings(chunk_size_words=60)), "standard", "kb")
    report = rechunked.ingest([folder])

    assert _statuses(same.results) == dict.fromkeys(FILES, "unverändert")
    assert _statuses(report.results) == dict.fromkeys(FILES, "aktualisiert")
    assert {d.pipeline for d in rechunked.documents()} == {rechunked.pipeline}
    assert "chunks=60/" in rechunked.pipeline


def test_new_ingest_version_indexes_every_file_again(
    folder: Path, ingestor: Ingestor, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    import pipelines.documents.ingest as ingest_module

    ingestor.ingest([folder])
    before = _chunk_ids(ingestor)
    monkeypatch.setattr(ingest_module, "INGEST_VERSION", ingest_module.INGEST_VERSION + 1)

    report = Ingestor(engine, "standard", "kb").ingest([folder])

    assert _statuses(report.results) == dict.fromkeys(FILES, "aktualisiert")
    after = _chunk_ids(ingestor)
    assert after.keys() == before.keys()
    assert all(set(after[name]).isdisjoint(before[name]) for name in before)
    assert ingestor.index.count() == sum(len(ids) for ids in after.values())
