"""Bad and hostile files: each refused with a plain reason, the batch and the index unharmed."""

from __future__ import annotations

import hashlib
import shutil
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipelines.documents.ingest import FileResult, Ingestor, IngestReport
from pipelines.engine import Engine
from pipelines.settings import Settings
from tests.conftest import closed_port_url
from tests.support import bad_files as bf

# What the German reason must say for each refused kind (besides the code).
GERMAN_WORDS: dict[str, tuple[str, ...]] = {
    "corrupt_pdf": ("keine gültige PDF-Datei", "beschädigt"),
    "encrypted_pdf": ("passwortgeschützt",),
    "empty_file": ("leer",),
    "whitespace_only": ("kein auslesbarer Text",),
    "binary_as_txt": ("Binärdaten",),
    "unsupported_exe": ("Dateityp .exe", "nicht unterstützt"),
    "unsupported_xyz": ("Dateityp .xyz", "nicht unterstützt"),
    "oversized_file": ("zu groß", "50 MB"),
    "docx_zip_bomb": ("ZIP-Bombe", "nicht geöffnet"),
    "fake_docx": ("keine gültige DOCX-Datei", "beschädigt"),
}
REFUSED = [kind for kind, code in bf.EXPECTED_REJECTION.items() if code is not None]
ACCEPTED = [kind for kind, code in bf.EXPECTED_REJECTION.items() if code is None]

GOOD_TEXT = (
    "# Sperrmüll\n\n"
    "Sperrmüll holt der Entsorgungsbetrieb zweimal im Jahr kostenlos ab. "
    "Die Anmeldung ist online oder telefonisch möglich.\n"
)


def test_expectations_cover_every_sample() -> None:
    assert set(GERMAN_WORDS) == set(REFUSED)
    assert set(ACCEPTED) == {"latin1_text", "html_with_script"}


def _good_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sperrmuell.md"
    path.write_text(GOOD_TEXT, encoding="utf-8")
    return path


def _all_stored_text(ingestor: Ingestor) -> list[dict[str, Any]]:
    index = ingestor.index
    table = index.db.open_table(index.table_name).to_arrow()
    return table.drop_columns(["vector"]).to_pylist()


@pytest.fixture(scope="module")
def batch(
    bad_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Ingestor, IngestReport, dict[str, FileResult], Path]:
    """One batch: a good file, every bad file, and a path that does not exist (run once)."""
    root = tmp_path_factory.mktemp("batch")
    good = _good_file(root / "gut")
    missing = root / "gibt-es-nicht.pdf"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=root / "data", ollama_host=closed_port_url(),
        openai_base_url=closed_port_url() + "/v1",
    )
    ingestor = Ingestor(Engine(settings), "standard", "kb")
    report = ingestor.ingest([good, *bad_files.values(), missing])
    by_kind = {kind: next(r for r in report.results if Path(r.path) == path.resolve())
               for kind, path in bad_files.items()}
    by_kind["good"] = next(r for r in report.results if Path(r.path) == good.resolve())
    by_kind["missing"] = next(r for r in report.results if Path(r.path) == missing)
    return ingestor, report, by_kind, good


def test_one_batch_refuses_each_bad_file_with_a_german_reason(batch: Any) -> None:
    ingestor, report, results, _ = batch
    assert len(report.results) == len(bf.EXPECTED_REJECTION) + 2
    for kind in REFUSED:
        result = results[kind]
        assert (result.status, result.code) == ("fehlgeschlagen", bf.EXPECTED_REJECTION[kind]), (
            kind, result.reason)
        for word in GERMAN_WORDS[kind]:
            assert word in result.reason, (kind, result.reason)
        assert result.reason.endswith((".", ")")), result.reason  # a full sentence
        assert result.reason_en.strip() and result.reason_en != result.reason
        assert result.chunks == 0
    assert len(report.failed) == len(REFUSED) + 1  # plus the missing path


def test_missing_path_is_named_in_the_same_batch(batch: Any) -> None:
    _, _, results, _ = batch
    missing = results["missing"]
    assert (missing.status, missing.code) == ("fehlgeschlagen", "missing")
    assert "nicht gefunden" in missing.reason
    assert missing.reason_en


def test_good_latin1_and_html_files_in_the_same_batch_are_ingested(batch: Any) -> None:
    ingestor, report, results, good = batch
    for kind in ("good", *ACCEPTED):
        assert results[kind].status == "neu", (kind, results[kind].reason)
        assert results[kind].chunks > 0
    names = sorted(d.name for d in ingestor.documents())
    assert names == sorted([good.name, "hinweise-latin1.txt", "oeffnungszeiten.html"])
    assert ingestor.index.count() == sum(d.chunks for d in ingestor.documents())
    assert report.count("neu") == 3


def test_latin1_umlauts_are_decoded_exactly(batch: Any) -> None:
    ingestor, _, _, _ = batch
    rows = [r for r in _all_stored_text(ingestor) if r["source"] == "hinweise-latin1.txt"]
    assert {r["section"] for r in rows} == {"Hinweise zur Straßenreinigung und zum Winterdienst"}
    text = " ".join(" ".join(r["text"] for r in rows).split())
    for word in ( "Gebühr", "Süßbachstraße", "Größere", "Öffnungszeiten",
                 "Bürgerbüros", "Übrigens", "Äste", "müssen", "räumen", "Schäden"):
        assert word in text
    assert "\ufffd" not in text and "Ã" not in text
    for sentence in ("Die Anlieger müssen die Gehwege vor ihren Grundstücken räumen und bei "
                     "Glätte streuen.",
                     "Übrigens: Äste und Laub gehören nicht in die Straßenrinne."):
        assert sentence in text
    hits = ingestor.index.search("Streugut Süßbachstraße", k=3, mode="fulltext")
    assert hits and hits[0].source == "hinweise-latin1.txt"
    assert "Süßbachstraße" in hits[0].text


def test_hostile_html_keeps_visible_text_and_drops_scripts(batch: Any) -> None:
    ingestor, _, _, _ = batch
    rows = [r for r in _all_stored_text(ingestor) if r["source"] == "oeffnungszeiten.html"]
    assert rows
    stored = "\n".join(str(r[c]) for r in rows for c in ("text", "title", "section",
                                                         "search_text"))
    visible = " ".join(" ".join(r["text"] for r in rows).split())
    title, hours, identity = bf.HTML_VISIBLE
    assert hours in visible and identity in visible
    assert title in stored
    for forbidden in (*bf.HTML_FORBIDDEN, "<script", "<img", "evil.example"):
        assert forbidden not in stored, forbidden


def test_oversize_is_refused_by_the_limit_of_the_settings(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    folder = tmp_path / "gross"
    folder.mkdir()
    big = bf.oversized_file(folder, size_bytes=1024 * 1024)
    ingestor = Ingestor(Engine(make_settings(max_file_mb=1)), "standard", "kb")
    [result] = ingestor.ingest([big]).results
    assert (result.status, result.code) == ("fehlgeschlagen", "too_large")
    assert "zu groß" in result.reason and "höchstens 1 MB" in result.reason
    assert ingestor.documents() == []


def test_zip_bomb_is_refused_without_unpacking(engine: Engine, docx_bomb_path: Path) -> None:
    ingestor = Ingestor(engine, "standard", "kb")
    tracemalloc.start()
    try:
        report = ingestor.ingest([docx_bomb_path])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [result] = report.results
    assert (result.status, result.code) == ("fehlgeschlagen", "zip_bomb")
    # The bomb unpacks to 2 GiB; refusing it may read the ~2 MB file, nothing near that.
    assert peak < 64 * 1024 * 1024, f"peak Python allocations {peak / 1024 / 1024:.0f} MB"
    assert ingestor.index.count() == 0 and ingestor.documents() == []


# -- what was stored before stays intact ---------------------------------------------------


def _pdf(path: Path, text: str) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", fname=str(bf.DEJAVU_FONT))
    pdf.set_font("DejaVu", size=16)
    pdf.multi_cell(0, 10, "Wertstoffhof")
    pdf.ln(4)
    pdf.set_font("DejaVu", size=11)
    pdf.multi_cell(0, 7, text)
    path.write_bytes(bytes(pdf.output()))


def _garbage(path: Path) -> None:
    shutil.copyfile(bf.corrupt_pdf(path.parent / "vorlage"), path)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _encrypted(path: Path) -> None:
    shutil.copyfile(bf.encrypted_pdf(path.parent / "vorlage"), path)


@pytest.mark.parametrize(
    ("damage", "code"),
    [(_garbage, "corrupt"), (_empty, "empty"), (_encrypted, "encrypted")],
    ids=["garbage", "empty", "encrypted"],
)
def test_a_damaged_new_version_leaves_the_stored_one_intact(
    engine: Engine, bad_files: dict[str, Path], tmp_path: Path,
    damage: Callable[[Path], None], code: str,
) -> None:
    folder = tmp_path / "amt"
    folder.mkdir()
    (folder / "vorlage").mkdir()
    path = folder / "wertstoffhof.pdf"
    _pdf(path, "Der Wertstoffhof nimmt Grünschnitt und Bauschutt samstags bis 14 Uhr an.")
    old_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    ingestor = Ingestor(engine, "standard", "kb")
    [first] = ingestor.ingest([path]).results
    assert first.status == "neu"
    [document] = ingestor.documents()
    before = ingestor.index.chunks_of(document.doc_key)
    count = ingestor.index.count()

    damage(path)  # same path, now broken
    refused = [bad_files[kind] for kind in REFUSED]
    report = ingestor.ingest([path, *refused])

    result = next(r for r in report.results if Path(r.path) == path.resolve())
    assert (result.status, result.code) == ("fehlgeschlagen", code)
    assert len(report.failed) == len(report.results) == len(refused) + 1
    assert ingestor.index.chunks_of(document.doc_key) == before
    assert ingestor.index.count() == count
    [row] = ingestor.documents()
    assert row.content_hash == old_hash
    assert row.chunks == len(before)
    for mode in ("fulltext", "hybrid"):
        hits = ingestor.index.search("Grünschnitt Wertstoffhof", k=1, mode=mode)  # type: ignore[arg-type]
        assert hits and hits[0].source == "wertstoffhof.pdf" and "Bauschutt" in hits[0].text


def test_short_excel_csv_in_cp1252_keeps_its_umlauts(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "gebuehren-excel.csv"
    path.write_bytes(
        "Leistung;Gebühr in Euro\nReisepass;70,00\nFührungszeugnis;13,00\n".encode("cp1252")
    )
    ingestor = Ingestor(engine, "standard", "kb")
    [result] = ingestor.ingest([path]).results
    assert result.status == "neu"
    [chunk] = ingestor.index.chunks_of(ingestor.documents()[0].doc_key)
    assert "Leistung: Führungszeugnis; Gebühr in Euro: 13,00" in chunk["text"].split("\n")
