"""Crawling a generated town website on 127.0.0.1: scope, robots.txt, redirects, limits,
bad pages, re-crawl with 304 and content hashes, removed pages, and a failing server that
must not take away what was ingested before."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.connectors.base import SourceReport
from pipelines.connectors.sources import (
    crawl_website,
    due_sources,
    list_items,
    list_sources,
    run_source,
)
from pipelines.connectors.website import WebsiteSettings
from pipelines.documents.ingest import Ingestor
from pipelines.engine import Engine
from tests.conftest import closed_port_url
from tests.support.bad_files import _render_pdf
from tests.support.cli import run_pipelines
from tests.support.site_server import MARKERS, SiteServer, html_page, paragraphs

BOT = "stadtportal"
HUND_OLD = "Die Hundesteuer beträgt 96 Euro im Jahr für den ersten Hund."
HUND_NEW = "Die Hundesteuer beträgt ab Januar 132 Euro im Jahr für den ersten Hund."
HOME_LINKS = (
    "/buergerservice/hundesteuer.html", "/buergerservice/sperrmuell.html",
    "/buergerservice/reisepass.html", "/kontakt.html", "/alt/satzung", "/schleife-a",
    "/fehlt.html", "/intern/geheim.html", "/gross.html", "/dateien/satzung.pdf",
    "/bilder/logo.png", "/dateien/archiv.zip", "/download?id=7", "/langsam.html",
    "http://example.invalid/fremd.html", "mailto:rathaus@example.org",
)


def build_site(site: SiteServer, slow: bool = True) -> None:
    links = HOME_LINKS if slow else tuple(h for h in HOME_LINKS if h != "/langsam.html")
    site.set_file("/robots.txt", b"User-agent: *\nDisallow: /intern/\n", "text/plain")
    site.set_page("/", html_page("Willkommen in Musterstadt", paragraphs(
        "Das Rathaus von Musterstadt bietet viele Dienstleistungen online an. Hier finden "
        "Sie Informationen zu Steuern, Abfall, Ausweisen und Terminen im Bürgerbüro."),
        links))
    site.set_page("/buergerservice/hundesteuer.html", hund_page(HUND_OLD))
    # Last-Modified only: the 304 comes for If-Modified-Since.
    site.set_page("/buergerservice/sperrmuell.html", html_page("Sperrmüll", paragraphs(
        "Sperrmüll holt der Entsorgungsbetrieb zweimal im Jahr kostenlos ab. Die Abholung "
        "wird mit der Abfallkarte oder online beim Entsorgungsbetrieb beantragt.",
        "Elektrogeräte gehören nicht in den Sperrmüll, sondern zum Wertstoffhof.")),
        etag=False)
    # Neither validator: only the content hash tells it is unchanged.
    site.set_page("/buergerservice/reisepass.html", html_page("Reisepass", paragraphs(
        "Ein Reisepass kostet 70 Euro und ist zehn Jahre gültig. Er wird persönlich im "
        "Bürgerbüro beantragt; mitzubringen sind ein biometrisches Passfoto und der alte "
        "Ausweis.")), etag=False, last_modified=False)
    site.set_page("/kontakt.html", html_page("Kontakt", paragraphs(
        "Das Bürgerbüro erreichen Sie montags bis freitags von 8 bis 12 Uhr unter der "
        "Telefonnummer 01234 5678. Termine werden auch online vergeben.")))
    site.redirect("/alt/satzung", "/buergerservice/abfallsatzung.html")
    site.set_page("/buergerservice/abfallsatzung.html", html_page("Abfallsatzung", paragraphs(
        "Die Abfallsatzung regelt die Leerung der Restmülltonne alle zwei Wochen und die "
        "Gebühren für die Biotonne, die monatlich sieben Euro betragen.")))
    site.redirect("/schleife-a", "/schleife-b")
    site.redirect("/schleife-b", "/schleife-a")
    site.set_page("/intern/geheim.html", html_page("Intern", paragraphs(
        "Geheimes Protokoll der Verwaltungskonferenz, nicht für die Öffentlichkeit.")))
    site.set_page("/gross.html", html_page("Riesig", paragraphs("Riesenseite " * 200_000)),
                  stream=True)
    site.set_file("/dateien/satzung.pdf", _render_pdf(
        "Hundesteuersatzung der Stadt Musterstadt. Paragraph 3: Für gefährliche Hunde "
        "beträgt die Steuer 600 Euro im Jahr."), "application/pdf")
    site.set_file("/bilder/logo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png")
    site.set_file("/dateien/archiv.zip", b"PK\x03\x04" + b"0" * 100, "application/zip")
    site.set_file("/download?id=7", b"\x00\x01binary", "application/octet-stream")
    site.set_page("/langsam.html", html_page("Langsam", paragraphs("Kommt nie an.")),
                  sleep=2.0)


def hund_page(fact: str) -> str:
    return html_page("Hundesteuer", paragraphs(
        fact + " Für jeden weiteren Hund werden 120 Euro fällig.",
        "Hunde sind innerhalb von zwei Wochen nach der Anschaffung beim Steueramt "
        "anzumelden. Das Formular gibt es online im Bürgerservice.")
        + "<h2>Befreiung</h2>" + paragraphs(
        "Blindenführhunde sind von der Hundesteuer befreit. Der Antrag ist formlos beim "
        "Steueramt zu stellen."))


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer() as server:
        build_site(server)
        yield server


def settings(start: str, **overrides: Any) -> WebsiteSettings:
    values: dict[str, Any] = {"start_url": start, "delay_seconds": 0, "timeout_seconds": 0.5,
                              "max_bytes": 200_000, "max_depth": 3, "max_pages": 50}
    values.update(overrides)
    return WebsiteSettings(**values)


def crawl(engine: Engine, start: str, **overrides: Any) -> SourceReport:
    return crawl_website(engine, "standard", BOT, settings(start, **overrides), create_bot=True)


def by_url(report: SourceReport, base: str) -> dict[str, tuple[str, str]]:
    return {r.key.removeprefix(base): (r.status, r.code) for r in report.results}


def all_chunks(engine: Engine, kb: str = BOT) -> dict[str, list[dict[str, Any]]]:
    ingestor = Ingestor(engine, "standard", kb)
    return {d.source_path: ingestor.index.chunks_of(d.doc_key) for d in ingestor.documents()}


def search(engine: Engine, query: str) -> list[Any]:
    return Ingestor(engine, "standard", BOT).index.search(query, k=5, mode="fulltext")


def test_first_crawl_reports_every_kind_of_page(engine: Engine, site: SiteServer) -> None:
    report = crawl(engine, site.url + "/")
    results = by_url(report, site.url)

    assert results["/"][0] == "neu"
    for page in ("/buergerservice/hundesteuer.html", "/buergerservice/sperrmuell.html",
                 "/buergerservice/reisepass.html", "/kontakt.html", "/dateien/satzung.pdf"):
        assert results[page] == ("neu", ""), page
    # the redirect is followed and the page is stored under its real address
    assert results["/buergerservice/abfallsatzung.html"] == ("neu", "")
    assert results["/schleife-a"] == ("fehlgeschlagen", "redirect_loop")
    assert results["/fehlt.html"] == ("fehlgeschlagen", "http_404")
    assert results["/intern/geheim.html"] == ("übersprungen", "robots")
    assert results["/gross.html"] == ("fehlgeschlagen", "too_large")
    assert results["/langsam.html"] == ("fehlgeschlagen", "timeout")
    assert results["/bilder/logo.png"] == ("übersprungen", "not_html")
    assert results["/dateien/archiv.zip"] == ("übersprungen", "not_html")
    assert results["/download?id=7"] == ("übersprungen", "not_html")
    assert not any("example.invalid" in key for key in results)
    assert report.exit_code == 1
    loop = next(r for r in report.results if r.code == "redirect_loop")
    assert "Endlose Weiterleitung" in loop.reason and "/schleife-b" in loop.reason
    big = next(r for r in report.results if r.code == "too_large")
    assert "zu groß" in big.reason
    assert "Zeitüberschreitung" in next(r for r in report.results if r.code == "timeout").reason
    # excluded and skipped files were never requested
    assert site.hits("/intern/geheim.html") == []
    assert site.hits("/bilder/logo.png") == [] and site.hits("/dateien/archiv.zip") == []
    assert site.hits("/robots.txt")[0]["user-agent"].startswith("Chatwerkstatt/")

    chunks = all_chunks(engine)
    texts = [c["text"] for cs in chunks.values() for c in cs]
    assert texts and not [t for t in texts if any(m in t for m in MARKERS)]
    hits = search(engine, "Hundesteuer Hund Euro")
    page = site.url + "/buergerservice/hundesteuer.html"
    assert hits[0].url == page and hits[0].source == page and hits[0].title == "Hundesteuer"
    pdf = search(engine, "gefährliche Hunde")
    assert pdf and pdf[0].url == site.url + "/dateien/satzung.pdf"
    assert list_sources(engine, "standard", BOT)[0].last_status == "teilweise"


def test_recrawl_updates_only_what_changed(engine: Engine) -> None:
    with SiteServer() as site:
        build_site(site, slow=False)
        first = crawl(engine, site.url + "/")
        assert first.count("neu") == 7
        before = all_chunks(engine)

        second = crawl(engine, site.url + "/")
        results = by_url(second, site.url)
        assert {results[p][0] for p in ("/", "/buergerservice/hundesteuer.html",
                                        "/buergerservice/sperrmuell.html",
                                        "/buergerservice/reisepass.html")} == {"unverändert"}
        assert second.count("neu") == second.count("aktualisiert") == 0
        # ETag and Last-Modified were sent back and answered 304
        hund = site.hits("/buergerservice/hundesteuer.html")[-1]
        assert hund.get("if-none-match", "").startswith('"')
        assert site.hits("/buergerservice/sperrmuell.html")[-1].get("if-modified-since")
        statuses = {r.key.removeprefix(site.url): r.http_status for r in second.results}
        assert statuses["/buergerservice/hundesteuer.html"] == 304
        assert statuses["/buergerservice/sperrmuell.html"] == 304
        assert statuses["/buergerservice/reisepass.html"] == 200  # by content hash
        assert all_chunks(engine) == before

        site.set_page("/buergerservice/hundesteuer.html", hund_page(HUND_NEW))
        site.remove("/buergerservice/reisepass.html")
        site.set_page("/", html_page("Willkommen in Musterstadt", paragraphs(
            "Das Rathaus von Musterstadt bietet viele Dienstleistungen online an. Hier finden "
            "Sie Informationen zu Steuern, Abfall, Ausweisen und Terminen im Bürgerbüro."),
            tuple(h for h in HOME_LINKS if h not in ("/kontakt.html", "/langsam.html"))))
        third = crawl(engine, site.url + "/")
        results = by_url(third, site.url)
        assert results["/buergerservice/hundesteuer.html"] == ("aktualisiert", "")
        assert results["/buergerservice/reisepass.html"] == ("entfernt", "http_404")
        assert results["/kontakt.html"] == ("entfernt", "unreached")
        assert results["/buergerservice/sperrmuell.html"][0] == "unverändert"

        after = all_chunks(engine)
        hund = site.url + "/buergerservice/hundesteuer.html"
        assert after[hund] != before[hund]
        assert any("132 Euro" in c["text"] for c in after[hund])
        assert not any("96 Euro" in c["text"] for c in after[hund])
        for untouched in ("/buergerservice/sperrmuell.html", "/dateien/satzung.pdf"):
            assert after[site.url + untouched] == before[site.url + untouched]
        assert site.url + "/buergerservice/reisepass.html" not in after
        assert site.url + "/kontakt.html" not in after
        assert not [h for h in search(engine, "Reisepass biometrisches Passfoto")
                    if "Passfoto" in h.text]
        source_id = list_sources(engine, "standard")[0].id
        keys = {i.key for i in list_items(engine, "standard", source_id)}
        assert site.url + "/kontakt.html" not in keys


def test_failing_server_keeps_what_was_ingested(engine: Engine) -> None:
    with SiteServer() as site:
        build_site(site, slow=False)
        assert crawl(engine, site.url + "/").count("neu") == 7
        before = all_chunks(engine)

        site.fail_status = 500
        failing = crawl(engine, site.url + "/")
        assert failing.exit_code == 1 and not failing.error
        start = failing.results[0]
        assert start.code == "http_500" and "HTTP 500" in start.reason
        assert "bisherige Stand bleibt erhalten" in start.reason
        assert failing.count("entfernt") == 0
        assert all_chunks(engine) == before
    # the server is gone altogether now
    down = crawl(engine, site.url + "/")
    assert down.exit_code == 2 and down.error_code == "unreachable"
    assert "nicht erreichbar" in down.error
    assert all_chunks(engine) == before
    assert search(engine, "Hundesteuer Hund Euro")[0].title == "Hundesteuer"


def test_unreachable_start_url(engine: Engine) -> None:
    report = crawl(engine, closed_port_url() + "/")
    assert report.exit_code == 2 and report.error_code == "unreachable"
    assert report.results == []


def test_prefix_depth_and_page_limit(engine: Engine, site: SiteServer) -> None:
    site.set_page("/buergerservice/", html_page("Bürgerservice", paragraphs(
        "Alle Leistungen des Bürgerservice der Stadt Musterstadt auf einen Blick, von der "
        "Anmeldung bis zur Zulassung."), ("/buergerservice/hundesteuer.html", "/kultur/",
                                          "/buergerservice/tief/1.html")))
    for level in (1, 2):
        site.set_page(f"/buergerservice/tief/{level}.html", html_page(f"Ebene {level}",
                      paragraphs(f"Eine Seite der Ebene {level} mit genug Text für den "
                                 "Hauptinhalt, der Rest ist Navigation und Zierrat."),
                      (f"/buergerservice/tief/{level + 1}.html",)))
    report = crawl(engine, site.url + "/buergerservice/", prefixes=["/buergerservice/"],
                   max_depth=2)
    results = by_url(report, site.url)
    assert results["/kultur/"] == ("übersprungen", "outside")
    assert results["/buergerservice/tief/2.html"][0] == "neu"
    assert results["/buergerservice/tief/3.html"] == ("übersprungen", "depth")
    assert site.hits("/kultur/") == []

    limited = crawl(engine, site.url + "/buergerservice/", prefixes=["/buergerservice/"],
                    max_pages=2)
    assert any(r.code == "limit" for r in limited.results)
    assert limited.count("entfernt") == 0  # an incomplete crawl removes nothing


def test_sitemap_index(engine: Engine, site: SiteServer) -> None:
    site.set_file("/sitemap.xml", (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f'<sitemap><loc>{site.url}/sitemap-seiten.xml</loc></sitemap></sitemapindex>'
    ).encode(), "application/xml")
    site.set_file("/sitemap-seiten.xml", (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f'<url><loc>{site.url}/buergerservice/hundesteuer.html</loc></url>'
        f'<url><loc>{site.url}/kontakt.html</loc></url></urlset>'
    ).encode(), "application/xml")
    report = crawl(engine, site.url + "/sitemap.xml", max_depth=0)
    assert {r.key.removeprefix(site.url) for r in report.results if r.status == "neu"} == {
        "/buergerservice/hundesteuer.html", "/kontakt.html"}


def test_progress_and_schedule(engine: Engine, site: SiteServer) -> None:
    from datetime import UTC, datetime, timedelta

    seen: list[tuple[int, int, str]] = []
    report = crawl_website(engine, "standard", BOT, settings(site.url + "/", max_depth=1),
                           refresh_hours=24, create_bot=True,
                           progress=lambda done, total, r: seen.append((done, total, r.key)))
    assert [d for d, _, _ in seen] == list(range(1, len(report.results) + 1))
    assert all(total >= done for done, total, _ in seen)
    source = list_sources(engine, "standard", BOT)[0]
    assert source.last_report is not None and source.last_report.counts() == report.counts()
    assert due_sources(engine, datetime.now(UTC)) == []
    due = due_sources(engine, datetime.now(UTC) + timedelta(hours=25))
    assert [s.id for s in due] == [source.id]
    stopped = run_source(engine, "standard", source.id, should_stop=lambda: True)
    assert stopped.stopped and stopped.results == []


@pytest.mark.slow
def test_cli_crawl_and_refresh(tmp_path: Path, site: SiteServer) -> None:
    data = tmp_path / "cli"
    run = run_pipelines(data, "crawl", site.url + "/", "--bot", BOT, "--max-pages", "6",
                        "--delay", "0", "--timeout", "0.5", "--refresh-hours", "1", "--json")
    assert run.returncode == 1, run.stderr  # 404, loop ... among the first pages
    payload = run.json()
    assert payload["counts"]["neu"] >= 3 and payload["kind"] == "website"
    text = run_pipelines(data, "crawl", site.url + "/", "--bot", BOT, "--max-pages", "6",
                         "--delay", "0", "--timeout", "0.5")
    assert "unverändert" in text.stdout and "abgerufen" in text.stdout
    refresh = run_pipelines(data, "refresh", "--json")
    assert refresh.returncode == 0 and refresh.json() == []  # not due yet
    unreachable = run_pipelines(data, "crawl", closed_port_url() + "/", "--bot", BOT)
    assert unreachable.returncode == 2 and "nicht erreichbar" in unreachable.stderr


def test_the_scheduler_reads_a_due_website_and_stops_when_told(engine: Engine,
                                                               site: SiteServer) -> None:
    from pipelines.connectors.sources import add_source, get_source, run_scheduler

    source = add_source(engine, "standard", BOT, "website",
                        settings(site.url + "/buergerservice/hundesteuer.html", max_depth=0),
                        refresh_hours=24, create_bot=True)
    assert get_source(engine, "standard", source.id).last_run_at is None
    stop = threading.Event()
    worker = threading.Thread(target=run_scheduler, args=(engine, stop, 0.05), daemon=True)
    worker.start()
    deadline = time.monotonic() + 60
    while get_source(engine, "standard", source.id).last_run_at is None:
        assert time.monotonic() < deadline, "the due source was never read"
        time.sleep(0.1)
    stop.set()
    worker.join(timeout=30)

    assert not worker.is_alive()
    ran = get_source(engine, "standard", source.id)
    assert ran.last_status == "ok" and ran.next_due_at is not None
    # Read once: the next run is a day later, so the scheduler did not read it again.
    assert len(site.hits("/buergerservice/hundesteuer.html")) == 1
    assert search(engine, "Blindenführhunde")
