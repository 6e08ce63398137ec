"""FAQ lists (CSV/XLSX) into a bot as curated answers or as a document; column mapping,
German/English headers, and per-row problems that do not stop the rest."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pipelines.connectors.faq import import_faq
from pipelines.connectors.sources import list_sources
from pipelines.curated import list_curated
from pipelines.documents.ingest import Ingestor
from pipelines.engine import Engine
from tests.support.cli import run_pipelines

BOT = "faqbot"
CSV = ("Frage;Antwort;Quelle\n"
       "Wann hat das Bürgerbüro geöffnet?;Montags bis freitags von 8 bis 12 Uhr.;"
       "https://www.musterstadt.de/buergerbuero\n"
       "Was kostet ein Anwohnerparkausweis?;30 Euro im Jahr.;\n"
       "Wo melde ich meinen Hund an?;;\n"
       ";Eine Antwort ohne Frage.;\n"
       "wann hat das Bürgerbüro  geöffnet?;Doppelt.;\n"
       "\n"
       "Wie beantrage ich einen Bewohnerausweis für Gäste?;Online über das Serviceportal.;\n"
       ).encode("cp1252")


def test_as_curated_answers_with_row_problems(engine: Engine) -> None:
    report = import_faq(engine, "standard", BOT, "faq.csv", CSV, create_bot=True)
    statuses = {r.key: (r.status, r.code) for r in report.results}
    assert statuses == {
        "Zeile 2": ("neu", ""), "Zeile 3": ("neu", ""),
        "Zeile 4": ("fehlgeschlagen", "empty"), "Zeile 5": ("fehlgeschlagen", "empty"),
        "Zeile 6": ("fehlgeschlagen", "duplicate"), "Zeile 8": ("neu", ""),
    }
    assert report.exit_code == 1
    reasons = {r.key: r.reason for r in report.failed}
    assert reasons["Zeile 4"] == "faq.csv, Zeile 4: Die Antwort fehlt."
    assert "Zeile 2" in reasons["Zeile 6"]
    answers = list_curated(engine, "standard", BOT)
    assert len(answers) == 3 and all(a.bot_slug == BOT for a in answers)
    assert answers[0].source == "https://www.musterstadt.de/buergerbuero"
    again = import_faq(engine, "standard", BOT, "faq.csv", CSV)
    assert again.count("unverändert") == 3 and len(list_curated(engine, "standard", BOT)) == 3
    assert [s.kind for s in list_sources(engine, "standard", BOT)] == ["faq"]


def test_as_document_citing_file_and_question(engine: Engine) -> None:
    report = import_faq(engine, "standard", BOT, "faq.csv", CSV, mode="documents",
                        create_bot=True)
    assert report.count("neu") == 3 and report.count("fehlgeschlagen") == 3
    assert list_curated(engine, "standard", BOT) == []
    index = Ingestor(engine, "standard", BOT).index
    hit = index.search("Anwohnerparkausweis kostet", k=1, mode="fulltext")[0]
    assert hit.source == "faq.csv" and hit.section == "Was kostet ein Anwohnerparkausweis?"
    assert "30 Euro" in hit.text
    opening = index.search("Bürgerbüro geöffnet", k=1, mode="fulltext")[0]
    assert opening.url == "https://www.musterstadt.de/buergerbuero"
    count = index.count()
    changed = CSV.replace("30 Euro".encode("cp1252"), "35 Euro".encode("cp1252"))
    update = import_faq(engine, "standard", BOT, "faq.csv", changed, mode="documents")
    assert update.count("aktualisiert") == 3 and index.count() == count
    assert "35 Euro" in index.search("Anwohnerparkausweis", k=1, mode="fulltext")[0].text


def test_column_mapping_and_xlsx(engine: Engine) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Nr.", "Anliegen", "Auskunft"])
    sheet.append([1, "Wann ist Sperrmüll?", "Zweimal im Jahr nach Anmeldung."])
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()

    missing = import_faq(engine, "standard", BOT, "liste.xlsx", data, create_bot=True)
    assert missing.exit_code == 2 and "Keine Spalte für die Fragen" in missing.error
    assert "„Anliegen“" in missing.error
    wrong = import_faq(engine, "standard", BOT, "liste.xlsx", data, question_column="Thema")
    assert wrong.exit_code == 2 and "„Thema“" in wrong.error
    mapped = import_faq(engine, "standard", BOT, "liste.xlsx", data,
                        question_column="anliegen", answer_column="3")
    assert mapped.exit_code == 0 and mapped.count("neu") == 1
    assert list_curated(engine, "standard", BOT)[0].questions == ["Wann ist Sperrmüll?"]
    english = import_faq(engine, "standard", BOT, "en.csv",
                         b"question,answer\nWhen is the library open?,Daily 9-18.\n")
    assert english.count("neu") == 1


@pytest.mark.slow
def test_cli_faq(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_bytes(CSV)
    run = run_pipelines(tmp_path / "cli", "faq", str(path), "--bot", BOT, "--as", "documents",
                        "--json")
    assert run.returncode == 1, run.stderr
    assert run.json()["counts"] == {"neu": 3, "aktualisiert": 0, "unverändert": 0,
                                    "entfernt": 0, "übersprungen": 0, "fehlgeschlagen": 3}
    missing = run_pipelines(tmp_path / "cli", "faq", str(tmp_path / "fehlt.csv"), "--bot", BOT)
    assert missing.returncode == 2 and "nicht lesbar" in missing.stderr
