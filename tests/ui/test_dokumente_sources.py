"""The Dokumente page's sources through AppTest, against real HTTP servers on loopback: a
website crawled from its start page with the report per page, a CKAN portal whose CSV
becomes a table with a chart, an FAQ list whose columns are mapped by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.connectors.sources import list_sources
from pipelines.curated import list_curated
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT
from tests.support.ckan_server import CkanServer
from tests.support.corpus import ingest_corpus
from tests.support.site_server import SiteServer, html_page, paragraphs

APP = str(REPO_ROOT / "apps" / "workspace.py")
PAGE = str(REPO_ROOT / "pages" / "dokumente.py")
BOT = "quellen-bot"
WS = "standard"


@pytest.fixture
def with_bot(engine: Engine, tmp_path: Path) -> Engine:
    ingest_corpus(tmp_path, {"start.md": "# Start\n\nWillkommen.\n"}, BOT)
    return engine


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer() as server:
        server.set_page("/", html_page("Rathaus", paragraphs(
            "Das Rathaus ist montags bis freitags von 8 bis 16 Uhr geöffnet."),
            links=("/hundesteuer", "/fehlt")))
        server.set_page("/hundesteuer", html_page("Hundesteuer", paragraphs(
            "Die Hundesteuer beträgt 96 Euro im Jahr für den ersten Hund.")))
        yield server


def open_sources(kind: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=240).run()
    app.switch_page(PAGE).run()
    app.radio(key="docs-part").set_value("sources").run()
    app.radio(key="src-kind").set_value(kind).run()
    assert not app.exception, app.exception
    return app


def test_a_website_is_crawled_from_the_page_with_a_report_per_page(
        with_bot: Engine, site: SiteServer) -> None:
    app = open_sources("website")
    app.text_input(key="src-web-start").set_value(site.url + "/")
    app.number_input(key="src-web-delay").set_value(0.0)
    [b for b in app.button if b.label == "Speichern und jetzt abrufen"][0].click().run()
    assert not app.exception, app.exception

    [source] = list_sources(with_bot, WS)
    assert (source.kind, source.bot_slug, source.refresh_hours) == ("website", BOT, 24.0)
    assert "2 neu" in app.warning[0].value  # the two pages; broken links make it a warning
    report = app.dataframe[-1].value  # only the problems at first: the broken links
    assert site.url + "/fehlt" in set(report["Adresse"])
    assert site.url + "/hundesteuer" not in set(report["Adresse"])
    assert all("HTTP 404" in reason for reason in report["Grund"])


def test_an_open_data_table_is_previewed_as_a_chart(with_bot: Engine) -> None:
    with CkanServer() as portal:
        portal.files["/download/einwohner.csv"] = (
            "Stadtteil;Einwohner\nNordstadt;12345\nSüdviertel;8210\n".encode("cp1252"),
            "text/csv", False)
        portal.add_dataset("einwohner", "Einwohner nach Stadtteilen", "statistik", [],
                           "2026-01-10T08:00:00", resources=[{
                               "name": "Einwohner 2025", "format": "CSV",
                               "url": portal.url + "/download/einwohner.csv"}])
        app = open_sources("ckan")
        app.text_input(key="src-ckan-url").set_value(portal.url)
        [b for b in app.button if b.label == "Speichern und jetzt abrufen"][0].click().run()
        assert not app.exception, app.exception

    assert "1 neu" in app.success[0].value
    assert "Tabellen aus offenen Daten (1)" in [h.value for h in app.subheader]
    assert app.selectbox(key="src-y").value == "Einwohner"
    preview = app.dataframe[-1].value
    assert list(preview["Stadtteil"]) == ["Nordstadt", "Südviertel"]


def test_an_faq_list_with_own_column_names_is_mapped_and_imported(with_bot: Engine) -> None:
    app = open_sources("faq")
    table = ("Nr;Anliegen;Auskunft\n1;Wo melde ich Sperrmüll an?;Online im Abfallportal.\n"
             "2;;Antwort ohne Frage\n").encode()
    app.file_uploader(key="src-faq-file").upload("buergerfragen.csv", table, "text/csv").run()
    assert not app.exception, app.exception
    app.selectbox(key="src-faq-q").set_value("2: Anliegen")
    app.selectbox(key="src-faq-a").set_value("3: Auskunft").run()
    app.button(key="src-faq-go").click().run()
    assert not app.exception, app.exception

    [answer] = list_curated(with_bot, WS)
    assert answer.answer == "Online im Abfallportal."
    assert "1 fehlgeschlagen" in app.warning[0].value  # the row without a question
