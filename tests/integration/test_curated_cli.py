"""`python -m pipelines curated import|list`: a table in, every bad row named, the rest stored;
the sample's curated answers come in with `sample`."""

from __future__ import annotations

from pathlib import Path

from pipelines.curated import list_curated
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT
from tests.support.cli import run_pipelines


def test_import_names_bad_rows_and_stores_the_rest(engine: Engine, tmp_path: Path) -> None:
    table = tmp_path / "antworten.csv"
    table.write_bytes(
        "Frage;Antwort;Quelle\n"
        "Wann ist der Wertstoffhof offen?|Öffnungszeiten Wertstoffhof;Di–Fr 10–18 Uhr.;"
        "wertstoffhof.html\n"
        "Was kostet die Biotonne?;;\n"
        ";Antwort ohne Frage;\n".encode("cp1252", errors="replace").replace(b"\x96", b"-"))

    done = run_pipelines(engine.settings.data_dir, "curated", "import", str(table))

    assert done.returncode == 1, done.stderr
    assert "1 angelegt" in done.stdout
    assert "antworten.csv, Zeile 3: Die Antwort ist leer." in done.stderr
    assert "antworten.csv, Zeile 4: Es fehlt eine Frage." in done.stderr
    [stored] = list_curated(engine, "standard")
    assert stored.questions == ["Wann ist der Wertstoffhof offen?", "Öffnungszeiten Wertstoffhof"]
    assert stored.source == "wertstoffhof.html" and stored.created_by == "Kommandozeile"
    # A second import of the same table stores nothing twice.
    again = run_pipelines(engine.settings.data_dir, "curated", "import", str(table))
    assert "0 angelegt, 1 schon vorhanden" in again.stdout
    listed = run_pipelines(engine.settings.data_dir, "curated", "list", "--json").json()
    assert [a["questions"][0] for a in listed] == ["Wann ist der Wertstoffhof offen?"]


def test_wrong_file_type_and_missing_file(engine: Engine, tmp_path: Path) -> None:
    odt = tmp_path / "antworten.odt"
    odt.write_bytes(b"PK\x03\x04 not a table")
    done = run_pipelines(engine.settings.data_dir, "curated", "import", str(odt))
    assert done.returncode == 1
    assert "antworten.odt: Das Format „.odt“ wird nicht unterstützt" in done.stderr
    missing = run_pipelines(engine.settings.data_dir, "curated", "import",
                            str(tmp_path / "fehlt.csv"))
    assert missing.returncode == 1 and "fehlt.csv: nicht lesbar" in missing.stderr
    assert list_curated(engine, "standard") == []


def test_sample_brings_its_curated_answers_once(engine: Engine) -> None:
    first = run_pipelines(engine.settings.data_dir, "sample")
    assert first.returncode == 0, first.stderr
    assert "Geprüfte Antworten: 3 angelegt." in first.stdout
    answers = list_curated(engine, "standard")
    assert {a.bot_slug for a in answers} == {"musterstadt-buergerservice"}
    expected = (REPO_ROOT / "data" / "sample" / "curated_answers.csv").read_text(
        encoding="utf-8").count("\n") - 1
    assert len(answers) == expected
    second = run_pipelines(engine.settings.data_dir, "sample")
    assert "Geprüfte Antworten" not in second.stdout
    assert len(list_curated(engine, "standard")) == expected
