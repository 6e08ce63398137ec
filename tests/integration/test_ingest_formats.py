"""Every supported format, built as a small real file and ingested into a real index.

One module-wide engine (real LanceDB folder, real SQLite, real unstructured, real embedder)
ingests the files once; the tests then look at what was stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pipelines.documents.ingest import Ingestor, IngestReport
from pipelines.engine import Engine
from pipelines.index import ChunkRecord, KnowledgeBaseIndex
from pipelines.settings import Settings
from tests.conftest import closed_port_url

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

PDF_TITLE = "Merkblatt Sondernutzung"
PDF_PAGES = [
    (
        "Antrag auf Sondernutzung",
        "Der Antrag auf Sondernutzung muss vier Wochen vor Beginn schriftlich beim Ordnungsamt "
        "gestellt werden. Das Formular liegt im Rathaus aus.",
    ),
    (
        "Gebühren für Außengastronomie",
        "Für Tische und Stühle vor einem Café berechnet die Stadt 12 Euro je Quadratmeter und "
        "Saison. Die Saison dauert von März bis Oktober.",
    ),
    (
        "Baugerüste und Container",
        "Ein Baugerüst auf dem Gehweg kostet 3 Euro je Quadratmeter und Woche. Der Bauzaun muss "
        "nachts mit gelben Warnleuchten gesichert sein.",
    ),
]

HTML = """<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>Anwohnerparken</title>
<script>var tracking = "Skriptgeheimnis";</script></head>
<body>
<nav><ul><li><a href="/">Navigationsstartseite</a></li><li><a href="/k">Kontaktmenüpunkt</a></li>
</ul></nav>
<main>
<h1>Bewohnerparkausweis</h1>
<p>Den Bewohnerparkausweis erhalten Personen, die in der Parkzone mit Hauptwohnsitz gemeldet
sind.</p>
<h2>Kosten</h2>
<p>Der Ausweis kostet 30,70 Euro für ein Jahr.</p>
<table>
<tr><th>Zone</th><th>Straßen</th></tr>
<tr><td>A</td><td>Marktplatz, Kirchgasse</td></tr>
<tr><td>B</td><td>Bahnhofstraße</td></tr>
</table>
</main>
<footer><p>Fußzeilenimpressum Musterstadt</p></footer>
<script>document.write("Skriptausgabe")</script>
</body></html>
"""
HTML_HIDDEN = ("Navigationsstartseite", "Kontaktmenüpunkt", "Fußzeilenimpressum",
               "Skriptgeheimnis", "Skriptausgabe", "tracking", "document.write")

MARKDOWN = """# Stadtbücherei

Die Stadtbücherei am Markt leiht Bücher, Filme und Spiele aus.

## Öffnungszeiten

Dienstag bis Freitag von 10 bis 18 Uhr, samstags von 10 bis 13 Uhr.

## Gebühren

| Leistung | Preis |
|---|---|
| Jahresausweis | 15 Euro |
| Versäumnisgebühr | 1 Euro je Woche |
"""

TEXT = """Sprechzeiten des Standesamts

Das Standesamt ist dienstags und donnerstags bis 18 Uhr geöffnet. Trauungen finden auch
samstags im Schlosspark statt.
"""

CSV = (
    "Leistung;Gebühr in Euro;Zuständigkeit\n"
    "Reisepass;70,00;Bürgerbüro\n"
    "Personalausweis;37,00;Bürgerbüro\n"
    "Führungszeugnis;13,00;Bürgeramt Süd\n"
)


@dataclass
class Corpus:
    engine: Engine
    ingestor: Ingestor
    report: IngestReport
    files: dict[str, Path]

    def doc_key(self, name: str) -> str:
        return next(d.doc_key for d in self.ingestor.documents() if d.name == name)

    def chunks(self, name: str) -> list[dict[str, Any]]:
        return self.ingestor.index.chunks_of(self.doc_key(name))

    def chunk_with(self, name: str, phrase: str) -> dict[str, Any]:
        found = [c for c in self.chunks(name) if phrase in c["text"]]
        assert len(found) == 1, (phrase, [c["text"] for c in self.chunks(name)])
        return found[0]


def stored_rows(index: KnowledgeBaseIndex) -> list[dict[str, Any]]:
    """All columns of all stored chunks except the vector."""
    table = index.db.open_table(index.table_name).to_arrow()
    return table.drop_columns(["vector"]).to_pylist()


def module_settings(data_dir: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=data_dir,
        ollama_host=closed_port_url(),
        openai_base_url=closed_port_url() + "/v1",
        llm_probe_timeout=0.5,
        llm_request_timeout=5.0,
    )


def write_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(PDF_TITLE)
    pdf.add_font("DejaVu", fname=str(DEJAVU))
    for heading, body in PDF_PAGES:
        pdf.add_page()
        pdf.set_font("DejaVu", size=16)
        pdf.multi_cell(0, 10, heading)
        pdf.ln(4)
        pdf.set_font("DejaVu", size=11)
        pdf.multi_cell(0, 7, body)
    path.write_bytes(bytes(pdf.output()))


def write_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Hundesteuersatzung der Stadt", level=1)
    document.add_paragraph("Die Stadt erhebt eine Steuer auf das Halten von Hunden im Stadtgebiet.")
    document.add_heading("Steuersätze", level=2)
    document.add_paragraph("Die Steuer beträgt für den ersten Hund 96 Euro im Jahr.")
    table = document.add_table(rows=3, cols=2)
    for row, values in zip(table.rows, [("Hund", "Betrag in Euro"), ("Erster Hund", "96"),
                                        ("Kampfhund", "600")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_heading("Befreiungen", level=2)
    document.add_paragraph("Blindenführhunde sind von der Steuer befreit.")
    document.save(str(path))


def write_xlsx(path: Path) -> None:
    workbook = openpyxl.Workbook()
    krippe = workbook.active
    krippe.title = "Krippe"
    krippe.append(["Einkommen", "Beitrag in Euro"])
    krippe.append(["bis 20.000 Euro", 0])
    krippe.append(["bis 40.000 Euro", 120])
    kindergarten = workbook.create_sheet("Kindergarten")
    kindergarten.append(["Einkommen", "Beitrag in Euro"])
    kindergarten.append(["bis 20.000 Euro", 0])
    kindergarten.append(["bis 40.000 Euro", 80])
    workbook.save(path)


def build_files(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "pdf": folder / "merkblatt-sondernutzung.pdf",
        "docx": folder / "hundesteuersatzung.docx",
        "html": folder / "anwohnerparken.html",
        "md": folder / "stadtbuecherei.md",
        "txt": folder / "standesamt.txt",
        "csv": folder / "gebuehren.csv",
        "xlsx": folder / "elternbeitraege.xlsx",
    }
    write_pdf(files["pdf"])
    write_docx(files["docx"])
    files["html"].write_text(HTML, encoding="utf-8")
    files["md"].write_text(MARKDOWN, encoding="utf-8")
    files["txt"].write_text(TEXT, encoding="utf-8")
    files["csv"].write_text(CSV, encoding="utf-8")
    write_xlsx(files["xlsx"])
    return files


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    root = tmp_path_factory.mktemp("formats")
    files = build_files(root / "dokumente")
    engine = Engine(module_settings(root / "data"))
    ingestor = Ingestor(engine, "standard", "kb")
    report = ingestor.ingest([root / "dokumente"])
    yield Corpus(engine, ingestor, report, files)


# -- the batch -----------------------------------------------------------------------------


def test_every_format_is_ingested(corpus: Corpus) -> None:
    statuses = {Path(r.path).name: (r.status, r.reason) for r in corpus.report.results}
    assert statuses == {path.name: ("neu", "") for path in corpus.files.values()}
    documents = {d.name: d for d in corpus.ingestor.documents()}
    assert set(documents) == {path.name for path in corpus.files.values()}
    for kind, path in corpus.files.items():
        document = documents[path.name]
        assert document.file_type == kind
        assert document.chunks == len(corpus.chunks(path.name)) > 0
    assert corpus.ingestor.index.count() == sum(d.chunks for d in documents.values())


def test_chunks_carry_source_hash_and_language(corpus: Corpus) -> None:
    rows = stored_rows(corpus.ingestor.index)
    by_source: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row)
    assert set(by_source) == {path.name for path in corpus.files.values()}
    documents = {d.name: d for d in corpus.ingestor.documents()}
    for path in corpus.files.values():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert documents[path.name].content_hash == digest
        assert documents[path.name].language == "de"
        for row in by_source[path.name]:
            assert row["content_hash"] == digest
            assert row["language"] == "de"
            assert row["source_path"] == str(path.resolve())
            assert row["doc_key"] == documents[path.name].doc_key


# -- PDF -----------------------------------------------------------------------------------


def test_pdf_keeps_page_numbers(corpus: Corpus) -> None:
    name = corpus.files["pdf"].name
    document = next(d for d in corpus.ingestor.documents() if d.name == name)
    assert document.pages == 3
    result = next(r for r in corpus.report.results if r.name == name)
    assert result.pages == 3
    assert sorted({c["page"] for c in corpus.chunks(name)}) == [1, 2, 3]
    for page, (_, body) in enumerate(PDF_PAGES, start=1):
        first_sentence = body.split(". ")[0]
        assert corpus.chunk_with(name, first_sentence)["page"] == page


@pytest.mark.parametrize("mode", ["hybrid", "fulltext"])
def test_fact_on_page_three_is_found_with_page_three(corpus: Corpus, mode: str) -> None:
    hits = corpus.ingestor.index.search("Warnleuchten am Bauzaun", k=3, mode=mode)  # type: ignore[arg-type]
    assert hits, "nothing found"
    assert hits[0].source == corpus.files["pdf"].name
    assert hits[0].page == 3
    assert "gelben Warnleuchten" in hits[0].text
    assert hits[0].section == "Baugerüste und Container"
    assert hits[0].title == PDF_TITLE


def test_pdf_sections_are_the_headings_of_their_page(corpus: Corpus) -> None:
    name = corpus.files["pdf"].name
    for heading, body in PDF_PAGES:
        chunk = corpus.chunk_with(name, body.split(". ")[0])
        assert heading in chunk["section"]
        assert not chunk["text"].startswith(heading)  # the heading is metadata, not body text


# -- DOCX, HTML, Markdown, TXT sections ----------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "phrase", "heading_path"),
    [
        ("docx", "erhebt eine Steuer", ["Hundesteuersatzung der Stadt"]),
        ("docx", "für den ersten Hund 96 Euro", ["Hundesteuersatzung der Stadt", "Steuersätze"]),
        ("docx", "Blindenführhunde", ["Hundesteuersatzung der Stadt", "Befreiungen"]),
        ("html", "mit Hauptwohnsitz gemeldet", ["Bewohnerparkausweis"]),
        ("html", "30,70 Euro", ["Bewohnerparkausweis", "Kosten"]),
        ("md", "leiht Bücher", ["Stadtbücherei"]),
        ("md", "samstags von 10 bis 13 Uhr", ["Stadtbücherei", "Öffnungszeiten"]),
        ("txt", "bis 18 Uhr geöffnet", ["Sprechzeiten des Standesamts"]),
    ],
)
def test_section_titles_stay_attached(
    corpus: Corpus, kind: str, phrase: str, heading_path: list[str]
) -> None:
    chunk = corpus.chunk_with(corpus.files[kind].name, phrase)
    assert chunk["section"] == " › ".join(heading_path)
    assert chunk["kind"] == "text"


def test_other_sections_do_not_leak_into_a_chunk(corpus: Corpus) -> None:
    chunk = corpus.chunk_with(corpus.files["docx"].name, "Blindenführhunde")
    assert "96 Euro" not in chunk["text"]
    chunk = corpus.chunk_with(corpus.files["md"].name, "leiht Bücher")
    assert "Dienstag" not in chunk["text"]


def test_html_navigation_footer_and_scripts_are_not_stored(corpus: Corpus) -> None:
    rows = [r for r in stored_rows(corpus.ingestor.index)
            if r["source"] == corpus.files["html"].name]
    assert rows
    for row in rows:
        stored = " ".join(str(row[c]) for c in ("text", "title", "section", "search_text"))
        for hidden in HTML_HIDDEN:
            assert hidden not in stored
        assert "<" not in row["text"]
    assert rows[0]["title"] == "Anwohnerparken"


# -- tables --------------------------------------------------------------------------------


def test_csv_stays_a_table_with_column_value_pairs(corpus: Corpus) -> None:
    chunks = corpus.chunks(corpus.files["csv"].name)
    assert [c["kind"] for c in chunks] == ["table"]
    lines = chunks[0]["text"].split("\n")
    assert "Leistung: Reisepass; Gebühr in Euro: 70,00; Zuständigkeit: Bürgerbüro" in lines
    assert "Leistung: Führungszeugnis; Gebühr in Euro: 13,00; Zuständigkeit: Bürgeramt Süd" in lines
    assert len([line for line in lines if line.startswith("Leistung: ")]) == 3


def test_xlsx_sheets_are_tables_named_by_sheet(corpus: Corpus) -> None:
    chunks = corpus.chunks(corpus.files["xlsx"].name)
    assert {c["kind"] for c in chunks} == {"table"}
    by_section = {c["section"]: c["text"].split("\n") for c in chunks}
    assert set(by_section) == {"Krippe", "Kindergarten"}
    assert "Einkommen: bis 40.000 Euro; Beitrag in Euro: 120" in by_section["Krippe"]
    assert "Einkommen: bis 40.000 Euro; Beitrag in Euro: 80" in by_section["Kindergarten"]
    assert "Beitrag in Euro: 80" not in " ".join(by_section["Krippe"])


def test_fee_question_finds_the_csv_row(corpus: Corpus) -> None:
    hits = corpus.ingestor.index.search("Gebühr Führungszeugnis", k=3, mode="fulltext")
    assert hits and hits[0].source == corpus.files["csv"].name
    assert hits[0].kind == "table"


@pytest.mark.parametrize(
    ("kind", "row"),
    [
        ("html", "Zone: B; Straßen: Bahnhofstraße"),
        ("md", "Leistung: Versäumnisgebühr; Preis: 1 Euro je Woche"),
    ],
)
def test_html_and_markdown_tables_keep_their_header(corpus: Corpus, kind: str, row: str) -> None:
    tables = [c for c in corpus.chunks(corpus.files[kind].name) if c["kind"] == "table"]
    assert len(tables) == 1
    assert row in tables[0]["text"].split("\n")
    assert not any(row in c["text"] for c in corpus.chunks(corpus.files[kind].name)
                   if c["kind"] == "text")


def test_docx_table_is_a_table_chunk_in_its_section(corpus: Corpus) -> None:
    tables = [c for c in corpus.chunks(corpus.files["docx"].name) if c["kind"] == "table"]
    assert len(tables) == 1
    assert "Kampfhund" in tables[0]["text"] and "600" in tables[0]["text"]
    assert tables[0]["section"] == "Hundesteuersatzung der Stadt › Steuersätze"


def test_docx_table_rows_keep_column_value_pairs(corpus: Corpus) -> None:
    table = next(c for c in corpus.chunks(corpus.files["docx"].name) if c["kind"] == "table")
    assert "Hund: Kampfhund; Betrag in Euro: 600" in table["text"].split("\n")


# -- German full text ----------------------------------------------------------------------


def test_fulltext_index_is_german(corpus: Corpus) -> None:
    config = corpus.ingestor.index.fulltext_config()
    assert config is not None
    assert config["language"] == "German"
    assert config["stem"] is True
    assert config["remove_stop_words"] is True


def test_german_stemming_finds_inflected_forms(corpus: Corpus) -> None:
    # "Trauung" in the query, only "Trauungen" in the text
    hits = corpus.ingestor.index.search("Trauung", k=3, mode="fulltext")
    assert hits and hits[0].source == corpus.files["txt"].name


COMPOUND_DOCS = {
    "hundesteuer.txt": "Die Hundesteuer ist jedes Jahr bis zum 15. Februar zu zahlen.",
    "sperrmuell.txt": "Sperrmüll wird zweimal im Jahr kostenlos an der Haustür abgeholt.",
    "bibliothek.txt": "Die Bibliothek verleiht Bücher und Zeitschriften an alle Leser.",
}


@pytest.fixture(scope="module")
def compound_kb(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Ingestor:
    folder = tmp_path_factory.mktemp("komposita")
    for name, text in COMPOUND_DOCS.items():
        (folder / name).write_text(text + "\n", encoding="utf-8")
    ingestor = Ingestor(corpus.engine, "standard", "komposita")
    report = ingestor.ingest([folder])
    assert [r.status for r in report.results] == ["neu"] * 3
    return ingestor


def test_question_with_the_parts_finds_the_compound(compound_kb: Ingestor) -> None:
    assert "Steuer " not in COMPOUND_DOCS["hundesteuer.txt"]
    assert " Hund " not in COMPOUND_DOCS["hundesteuer.txt"]
    hits = compound_kb.index.search("Steuer für meinen Hund", k=5, mode="fulltext")
    assert [h.source for h in hits] == ["hundesteuer.txt"]
    assert "Hundesteuer" in hits[0].text
    hybrid = compound_kb.index.search("Steuer für meinen Hund", k=3, mode="hybrid")
    assert hybrid[0].source == "hundesteuer.txt"


def test_without_compound_splitting_the_same_search_finds_nothing(
    corpus: Corpus, compound_kb: Ingestor
) -> None:
    """The control: the hit above comes from the compound parts, not from stemming."""
    engine = corpus.engine
    plain = KnowledgeBaseIndex(engine.lancedb, "kb__kontrolle__ohne_split", engine.embedder,
                               split_compounds=False)
    text = COMPOUND_DOCS["hundesteuer.txt"]
    record = ChunkRecord("k-1", "k", "h", "r", "hundesteuer.txt", "/x/hundesteuer.txt",
                         "hundesteuer", None, "", "", "text", "de", text)
    plain.add([record], engine.embedder.embed([record.embedding_text()]))
    plain.refresh_indexes()
    assert plain.search("Hundesteuer", k=3, mode="fulltext")  # the index works ...
    assert plain.search("Steuer für meinen Hund", k=3, mode="fulltext") == []  # ... parts don't
