"""A CKAN portal (local stand-in with the real API's envelopes) into a bot: datasets as
documents citing their page, CSV/JSON resources as tables, filters, incremental refresh by
metadata_modified, and bad answers (invalid JSON, 500, error envelopes, a gigantic file)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.connectors.base import SourceReport
from pipelines.connectors.ckan import CkanSettings, list_tables, load_table
from pipelines.connectors.sources import import_ckan
from pipelines.documents.ingest import Ingestor
from pipelines.engine import Engine
from tests.support.ckan_server import CkanServer
from tests.support.cli import run_pipelines

BOT = "opendata"
LATIN1_CSV = ("Stadtteil;Einwohner;Fläche km²\n"
              "Nordstadt;12345;4,5\n"
              "Südviertel;8210;3,25\n"
              "Altstadt;5120;1,75\n").encode("cp1252")


def build_portal(portal: CkanServer) -> None:
    portal.files["/download/einwohner.csv"] = (LATIN1_CSV, "text/csv", False)
    portal.files["/download/haltestellen.json"] = (json.dumps({"records": [
        {"name": "Rathausplatz", "linien": 4, "barrierefrei": True},
        {"name": "Bahnhof", "linien": 9, "barrierefrei": True},
    ]}).encode(), "application/json", False)
    portal.files["/download/baeume.csv"] = (b"baum;art\n" + b"1;Linde\n" * 200_000, "text/csv",
                                            True)
    portal.add_dataset(
        "einwohner-stadtteile", "Einwohner nach Stadtteilen", "statistik", ["Bevölkerung"],
        "2026-01-10T08:00:00.000000",
        notes="Zahl der Einwohnerinnen und Einwohner mit Hauptwohnsitz je Stadtteil.",
        resources=[{"name": "Einwohner 2025", "format": "CSV",
                    "url": portal.url + "/download/einwohner.csv"},
                   {"name": "Karte", "format": "PDF", "url": portal.url + "/download/karte.pdf"}])
    portal.add_dataset(
        "haltestellen", "Haltestellen des Nahverkehrs", "verkehr", ["ÖPNV"],
        "2026-02-01T09:30:00.000000", notes="Alle Bus- und Straßenbahnhaltestellen.",
        resources=[{"name": "Haltestellen", "format": "JSON",
                    "url": portal.url + "/download/haltestellen.json"}])
    portal.add_dataset(
        "baumkataster", "Baumkataster", "umwelt", ["Bäume"], "2026-03-01T10:00:00.000000",
        notes="Alle Straßenbäume der Stadt mit Art und Pflanzjahr.",
        resources=[{"name": "Bäume", "format": "CSV", "url": portal.url + "/download/baeume.csv"},
                   {"name": "Bäume (angekündigt groß)", "format": "CSV", "size": 90_000_000,
                    "url": portal.url + "/download/baeume-gross.csv"}])
    portal.add_dataset("kaputt", "Kaputter Datensatz", "umwelt", [], "2026-01-01T00:00:00")
    portal.add_dataset("serverfehler", "Datensatz mit Serverfehler", "umwelt", [],
                       "2026-01-01T00:00:00")
    portal.show_faults.update({"kaputt": "invalid_json", "serverfehler": "500"})


@pytest.fixture
def portal() -> Iterator[CkanServer]:
    with CkanServer() as server:
        build_portal(server)
        yield server


def read(engine: Engine, portal: CkanServer, **overrides: Any) -> SourceReport:
    values: dict[str, Any] = {"portal_url": portal.url, "page_size": 2, "delay_seconds": 0,
                              "timeout_seconds": 2, "max_resource_bytes": 100_000}
    values.update(overrides)
    return import_ckan(engine, "standard", BOT, CkanSettings(**values), create_bot=True)


def results(report: SourceReport) -> dict[str, tuple[str, str]]:
    return {r.title or r.key: (r.status, r.code) for r in report.results}


def chunks(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    ingestor = Ingestor(engine, "standard", BOT)
    return {d.source_path: ingestor.index.chunks_of(d.doc_key) for d in ingestor.documents()}


def test_datasets_become_documents_and_tables(engine: Engine, portal: CkanServer) -> None:
    report = read(engine, portal)
    got = results(report)
    assert got["Einwohner nach Stadtteilen"] == ("neu", "")
    assert got["Haltestellen des Nahverkehrs"] == ("neu", "")
    assert got["Baumkataster"] == ("neu", "")
    assert got["Bäume"] == ("fehlgeschlagen", "too_large")
    assert got["Bäume (angekündigt groß)"] == ("übersprungen", "too_large")
    assert got["Kaputter Datensatz"] == ("fehlgeschlagen", "invalid_json")
    assert got["Datensatz mit Serverfehler"] == ("fehlgeschlagen", "http_500")
    assert report.exit_code == 1
    assert "zu groß" in next(r for r in report.results if r.title == "Bäume").reason
    # pages of 2: start=0, 2, 4
    assert len(portal.calls("package_search")) == 3

    page = portal.url + "/dataset/einwohner-stadtteile"
    text = "\n".join(c["text"] for c in chunks(engine)[page])
    assert "Nordstadt" in text and "Südviertel" in text and "Einwohner: 8210" in text
    assert "Fläche km²: 3,25" in text  # Latin-1 with semicolons and decimal commas
    assert "Einwohner: Summe 25.675" in text
    assert "Organisation: Statistik" in text and "Datenlizenz Deutschland" in text
    assert "Zuletzt geändert: 10.01.2026" in text and "Karte (PDF)" in text
    hit = Ingestor(engine, "standard", BOT).index.search("Einwohner Südviertel", k=3,
                                                          mode="fulltext")[0]
    assert hit.url == page and hit.title == "Einwohner nach Stadtteilen"

    tables = {t.name: t for t in list_tables(engine, "standard", BOT)}
    assert set(tables) == {"Einwohner 2025", "Haltestellen"}
    frame = load_table(engine, "standard", tables["Einwohner 2025"].id)
    assert list(frame.columns) == ["Stadtteil", "Einwohner", "Fläche km²"]
    assert int(frame["Einwohner"].sum()) == 25675 and frame["Fläche km²"].iloc[1] == 3.25
    assert tables["Einwohner 2025"].numeric_columns == ["Einwohner", "Fläche km²"]
    stops = load_table(engine, "standard", tables["Haltestellen"].id)
    assert stops["linien"].tolist() == [4, 9]


def test_incremental_refresh(engine: Engine, portal: CkanServer) -> None:
    read(engine, portal)
    shows = len(portal.calls("package_show"))
    before = chunks(engine)

    again = read(engine, portal)
    got = results(again)
    assert got["Einwohner nach Stadtteilen"][0] == "unverändert"
    assert got["Haltestellen des Nahverkehrs"][0] == "unverändert"
    # only the two failing datasets were asked for again
    assert len(portal.calls("package_show")) == shows + 2
    assert chunks(engine) == before

    dataset = portal.datasets["einwohner-stadtteile"]
    dataset["metadata_modified"] = "2026-04-01T08:00:00.000000"
    portal.files["/download/einwohner.csv"] = (
        LATIN1_CSV + "Weststadt;9999;2,0\n".encode("cp1252"), "text/csv", False)
    table_path = next(t.path for t in list_tables(engine, "standard")
                      if t.name == "Haltestellen")
    del portal.datasets["haltestellen"]
    third = read(engine, portal)
    got = results(third)
    assert got["Einwohner nach Stadtteilen"] == ("aktualisiert", "")
    assert got["Haltestellen des Nahverkehrs"] == ("entfernt", "deleted")
    after = chunks(engine)
    assert portal.url + "/dataset/haltestellen" not in after
    assert not table_path.exists()
    assert "Weststadt" in "\n".join(c["text"] for c in after[portal.url +
                                                                "/dataset/einwohner-stadtteile"])
    assert after[portal.url + "/dataset/baumkataster"] == before[portal.url +
                                                                  "/dataset/baumkataster"]


def test_filters_and_unknown_organisation(engine: Engine, portal: CkanServer) -> None:
    report = read(engine, portal, organization="statistik")
    assert [r.title for r in report.results if r.status == "neu"] == [
        "Einwohner nach Stadtteilen"]
    tagged = read(engine, portal, tags=["ÖPNV"])
    assert [r.title for r in tagged.results if r.status == "neu"] == [
        "Haltestellen des Nahverkehrs"]
    unknown = read(engine, portal, organization="gibtsnicht")
    assert unknown.exit_code == 2 and unknown.error_code == "unknown_organization"
    assert "gibtsnicht" in unknown.error and "statistik" in unknown.error


def test_broken_portal_keeps_what_was_read(engine: Engine, portal: CkanServer) -> None:
    read(engine, portal)
    before = chunks(engine)
    portal.search_fault = "invalid_json"
    broken = read(engine, portal)
    assert broken.exit_code == 2 and broken.error_code == "invalid_json"
    assert "kein gültiges JSON" in broken.error
    portal.search_fault = "500"
    failing = read(engine, portal)
    assert failing.exit_code == 2 and "HTTP 500" in failing.error
    portal.search_fault = None
    portal.show_faults["einwohner-stadtteile"] = "not_found"
    portal.datasets["einwohner-stadtteile"]["metadata_modified"] = "2026-05-01T00:00:00"
    envelope = read(engine, portal)
    reason = next(r for r in envelope.results if r.key == "id-einwohner-stadtteile").reason
    assert "Not Found Error" in reason and "bisherige Stand bleibt erhalten" in reason
    assert chunks(engine) == before


@pytest.mark.slow
def test_cli_ckan(tmp_path: Path, portal: CkanServer) -> None:
    run = run_pipelines(tmp_path / "cli", "ckan", portal.url, "--bot", BOT,
                        "--organization", "statistik", "--delay", "0", "--json")
    assert run.returncode == 0, run.stderr
    assert run.json()["counts"]["neu"] == 1
    bad = run_pipelines(tmp_path / "cli", "ckan", portal.url, "--bot", BOT, "--delay", "0",
                        "--max-resource-bytes", "100000")
    assert bad.returncode == 1 and "Kaputter Datensatz" in bad.stdout
    assert "fehlgeschlagen" in bad.stdout
