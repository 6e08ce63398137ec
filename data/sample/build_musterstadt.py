"""Build the fictional "Musterstadt" sample corpus from the sources in ``_sources/``.

Run with the project virtualenv from the repository root::

    .venv/bin/python data/sample/build_musterstadt.py

Layout of the sources (all UTF-8)::

    _sources/<fmt>/<stem>.md    fmt in {pdf, docx, html, md, xlsx}  ->  musterstadt/<stem>.<fmt>
    _sources/csv/<stem>.csv     semicolon separated table           ->  musterstadt/<stem>.csv

The ``.md`` sources use a small Markdown subset: an optional front matter block
(``---`` / ``key: value`` lines / ``---``), headings ``#``/``##``/``###``, paragraphs,
bullet lists (``- ``), numbered lists (``1. ``), pipe tables whose first row is the header,
and ``**bold**`` inline. Front matter keys: ``office`` (issuing office, used in PDF/DOCX
headers), ``kind`` (genre, e.g. "Merkblatt"), ``date`` (Stand), ``section`` (website section
for the HTML breadcrumb).

Output is deterministic: fixed creation dates in PDF/DOCX/XLSX metadata and fixed timestamps
inside the DOCX/XLSX zip containers, so rebuilding yields byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import re
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE / "_sources"
OUTPUT_DIR = HERE / "musterstadt"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = "DejaVu"

FIXED_DATE = datetime(2026, 11, 1, 9, 0, 0, tzinfo=UTC)
FIXED_ZIP_TIME = (2026, 11, 1, 9, 0, 0)
OUTPUT_FORMATS = ("pdf", "docx", "html", "md", "xlsx", "csv")
MIN_WORDS = 300
MAX_WORDS = 1500

TOWN = "Stadt Musterstadt"
HEADING_RE = re.compile(r"^(#{1,3})\s+(.+)$")
ORDERED_RE = re.compile(r"^(\d+)\.\s+(.+)$")
TABLE_SEPARATOR_RE = re.compile(r"^\|[\s:|-]+\|$")
BOLD_RE = re.compile(r"\*\*(.+?)\*\*")
NUMBER_RE = re.compile(r"^-?\d{1,3}(?:\.\d{3})*,\d{2}$")
MODIFIED_RE = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
# fpdf2's inline markdown treats these as markers (underline, italics, strikethrough).
PDF_MARKDOWN_PITFALLS = ("--", "__", "~~")


# --------------------------------------------------------------------------- parsing


@dataclass
class Block:
    """One block of a source document."""

    kind: str  # "h1", "h2", "h3", "p", "ul", "ol", "table"
    text: str = ""
    items: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class SourceDoc:
    """A parsed source document."""

    stem: str
    fmt: str
    meta: dict[str, str]
    body: str
    blocks: list[Block]

    @property
    def title(self) -> str:
        for block in self.blocks:
            if block.kind == "h1":
                return plain(block.text)
        return self.stem

    @property
    def issuer(self) -> str:
        return self.meta.get("issuer", TOWN)

    @property
    def website(self) -> str:
        return self.meta.get("web", "www.musterstadt.de")

    @property
    def office(self) -> str:
        return self.meta.get("office", "Der Bürgermeister")

    @property
    def kind(self) -> str:
        return self.meta.get("kind", "Information")

    @property
    def date(self) -> str:
        return self.meta.get("date", "01.11.2026")

    @property
    def output_name(self) -> str:
        return f"{self.stem}.{self.fmt}"


def plain(text: str) -> str:
    """Text without inline markup."""
    return BOLD_RE.sub(r"\1", text)


def split_bold(text: str) -> list[tuple[str, bool]]:
    """Split text into (segment, is_bold) runs."""
    runs: list[tuple[str, bool]] = []
    pos = 0
    for match in BOLD_RE.finditer(text):
        if match.start() > pos:
            runs.append((text[pos : match.start()], False))
        runs.append((match.group(1), True))
        pos = match.end()
    if pos < len(text):
        runs.append((text[pos:], False))
    return runs


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Separate the optional ``---`` front matter from the body."""
    if not text.startswith("---\n"):
        return {}, text
    header, body = text[4:].split("\n---\n", 1)
    meta: dict[str, str] = {}
    for line in header.splitlines():
        if line.strip():
            key, value = line.split(":", 1)
            meta[key.strip()] = value.strip()
    return meta, body.lstrip("\n")


def table_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def parse_blocks(body: str) -> list[Block]:
    """Parse the Markdown subset into blocks."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    open_kind = ""  # kind of the block that the next line may continue

    def flush_paragraph() -> None:
        if paragraph:
            # Source line breaks inside a paragraph are kept (address blocks, signatures).
            blocks.append(Block("p", text="\n".join(paragraph)))
            paragraph.clear()

    for raw_line in body.splitlines():
        line = raw_line.rstrip()
        stripped = line.strip()
        if not stripped:
            flush_paragraph()
            open_kind = ""
            continue
        heading = HEADING_RE.match(line)
        ordered = ORDERED_RE.match(line)
        if heading:
            flush_paragraph()
            blocks.append(Block(f"h{len(heading.group(1))}", text=heading.group(2).strip()))
            open_kind = ""
        elif line.startswith("- "):
            flush_paragraph()
            if open_kind != "ul":
                blocks.append(Block("ul"))
                open_kind = "ul"
            blocks[-1].items.append(line[2:].strip())
        elif ordered:
            flush_paragraph()
            if open_kind != "ol":
                blocks.append(Block("ol"))
                open_kind = "ol"
            blocks[-1].items.append(ordered.group(2).strip())
        elif line.startswith("|"):
            flush_paragraph()
            if open_kind != "table":
                blocks.append(Block("table"))
                open_kind = "table"
            if not TABLE_SEPARATOR_RE.match(line):
                blocks[-1].rows.append(table_cells(line))
        elif raw_line.startswith("  ") and open_kind in ("ul", "ol"):
            blocks[-1].items[-1] += " " + stripped
        else:
            if open_kind in ("ul", "ol", "table"):
                open_kind = ""
            paragraph.append(stripped)
    flush_paragraph()
    return blocks


def load_sources() -> list[SourceDoc]:
    """All Markdown-subset sources, sorted by output name."""
    docs: list[SourceDoc] = []
    for fmt in ("pdf", "docx", "html", "md", "xlsx"):
        for path in sorted((SOURCE_DIR / fmt).glob("*.md")):
            meta, body = split_front_matter(path.read_text(encoding="utf-8"))
            docs.append(SourceDoc(path.stem, fmt, meta, body, parse_blocks(body)))
    return docs


def word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))


# --------------------------------------------------------------------------- zip helpers


def write_normalized_zip(data: bytes, target: Path) -> None:
    """Rewrite an OOXML container with fixed timestamps so the output is reproducible."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps "modified" with the current time on save.
                data = MODIFIED_RE.sub(
                    rb"\g<1>" + FIXED_DATE.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", data
                )
            out.writestr(fixed, data)
    target.write_bytes(buffer.getvalue())


# --------------------------------------------------------------------------- PDF


class MusterPDF(FPDF):
    """A4 letterhead layout with running header and "Seite x von y" footer."""

    def __init__(self, doc: SourceDoc) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc = doc
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(left=22, top=30, right=20)
        self.set_auto_page_break(auto=True, margin=24)
        self.set_creation_date(FIXED_DATE)
        self.set_title(doc.title)
        self.set_author(doc.issuer)
        self.set_subject(doc.kind)
        self.set_creator("Chatwerkstatt build_musterstadt.py")
        self.set_lang("de-DE")

    def header(self) -> None:
        self.set_y(10)
        self.set_text_color(40, 70, 120)
        self.set_font(FONT, "B", 10)
        self.cell(self.epw / 2, 5, self.doc.issuer, new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.set_font(FONT, "", 8)
        self.cell(self.epw / 2, 5, self.doc.kind, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(0, 4, self.doc.office, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(40, 70, 120)
        self.line(self.l_margin, 21, self.w - self.r_margin, 21)
        self.set_text_color(0, 0, 0)
        self.set_y(self.t_margin)

    def footer(self) -> None:
        self.set_y(-16)
        self.set_draw_color(160, 160, 160)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        left = f"Stand: {self.doc.date} · {self.doc.website}"
        self.cell(self.epw / 2, 6, left, new_x=XPos.RIGHT, new_y=YPos.TOP)
        page = f"Seite {self.page_no()} von {{nb}}"
        self.cell(self.epw / 2, 6, page, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)

    def keep_with_next(self, needed: float) -> None:
        """Start a new page if less than `needed` mm remain (no orphaned headings)."""
        if self.get_y() + needed > self.page_break_trigger:
            self.add_page()

    def heading(self, text: str, level: int) -> None:
        size = {1: 16.0, 2: 13.0, 3: 11.5}[level]
        before = {1: 0.0, 2: 5.0, 3: 3.0}[level]
        self.keep_with_next(before + size * 0.6 + 18)
        self.ln(before)
        self.set_font(FONT, "B", size)
        if level == 1:
            self.set_text_color(40, 70, 120)
        self.multi_cell(0, size * 0.5, plain(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.ln(2.5 if level == 1 else 1.5)

    def paragraph(self, text: str) -> None:
        self.set_font(FONT, "", 10.5)
        self.multi_cell(0, 5.6, text, markdown=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2.2)

    def list_block(self, items: list[str], ordered: bool) -> None:
        self.set_font(FONT, "", 10.5)
        for number, item in enumerate(items, start=1):
            marker = f"{number}." if ordered else "•"
            self.keep_with_next(6)
            self.set_x(self.l_margin + 3)
            self.cell(6, 5.6, marker, new_x=XPos.RIGHT, new_y=YPos.TOP)
            self.multi_cell(
                self.epw - 9,
                5.6,
                item,
                markdown=True,
                align="L",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            self.ln(0.8)
        self.ln(1.6)

    def table_block(self, rows: list[list[str]]) -> None:
        self.set_font(FONT, "", 9.5)
        columns = max(len(row) for row in rows)
        column_texts = [
            [plain(row[i]) if i < len(row) else "" for row in rows] for i in range(columns)
        ]
        # Wide enough for the longest word, otherwise proportional to the longest cell.
        weights = [
            max(
                max(len(word) for text in column for word in text.split() or [""]) + 2,
                min(max(len(text) for text in column), 45),
            )
            for column in column_texts
        ]
        widths = tuple(self.epw * weight / sum(weights) for weight in weights)
        self.keep_with_next(20)
        headings_style = FontFace(emphasis="BOLD", fill_color=(225, 232, 242))
        with self.table(
            col_widths=widths,
            line_height=5.0,
            text_align="LEFT",
            headings_style=headings_style,
            markdown=True,
            padding=1.2,
        ) as table:
            for row in rows:
                table_row = table.row()
                for cell in row + [""] * (columns - len(row)):
                    table_row.cell(cell)
        self.ln(3)


def render_pdf(doc: SourceDoc, target: Path) -> None:
    texts = [block.text for block in doc.blocks]
    for block in doc.blocks:
        texts.extend(block.items)
        texts.extend(cell for row in block.rows for cell in row)
    for pitfall in PDF_MARKDOWN_PITFALLS:
        if any(pitfall in text for text in texts):
            raise ValueError(f"{doc.stem}: '{pitfall}' would be read as fpdf2 markdown")
    pdf = MusterPDF(doc)
    pdf.add_page()
    for block in doc.blocks:
        if block.kind in ("h1", "h2", "h3"):
            pdf.heading(block.text, int(block.kind[1]))
        elif block.kind == "p":
            pdf.paragraph(block.text)
        elif block.kind in ("ul", "ol"):
            pdf.list_block(block.items, ordered=block.kind == "ol")
        elif block.kind == "table":
            pdf.table_block(block.rows)
    target.write_bytes(bytes(pdf.output()))


# --------------------------------------------------------------------------- DOCX


def add_runs(paragraph: Paragraph, text: str, bold_all: bool = False) -> None:
    for segment, bold in split_bold(text):
        run = paragraph.add_run(segment)
        run.bold = bold or bold_all


def render_docx(doc: SourceDoc, target: Path) -> None:
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    section = document.sections[0]
    header = section.header.paragraphs[0]
    header.text = f"{doc.issuer} · {doc.office}"
    footer = section.footer.paragraphs[0]
    footer.text = f"{doc.kind} · Stand: {doc.date}"
    footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    for block in doc.blocks:
        if block.kind == "h1":
            document.add_heading(plain(block.text), level=0)
        elif block.kind == "h2":
            document.add_heading(plain(block.text), level=1)
        elif block.kind == "h3":
            document.add_heading(plain(block.text), level=2)
        elif block.kind == "p":
            add_runs(document.add_paragraph(), block.text)
        elif block.kind == "ul":
            for item in block.items:
                add_runs(document.add_paragraph(style="List Bullet"), item)
        elif block.kind == "ol":
            # Explicit numbers: Word's "List Number" would continue counting across lists.
            for number, item in enumerate(block.items, start=1):
                add_runs(document.add_paragraph(style="List Paragraph"), f"{number}. {item}")
        elif block.kind == "table":
            columns = max(len(row) for row in block.rows)
            table = document.add_table(rows=0, cols=columns)
            table.style = "Table Grid"
            for index, row in enumerate(block.rows):
                cells = table.add_row().cells
                for cell, text in zip(cells, row + [""] * (columns - len(row)), strict=True):
                    add_runs(cell.paragraphs[0], text, bold_all=index == 0)
            document.add_paragraph()

    props = document.core_properties
    props.title = doc.title
    props.author = doc.issuer
    props.last_modified_by = doc.issuer
    props.subject = doc.kind
    props.language = "de-DE"
    props.comments = "Fiktives Beispieldokument (Chatwerkstatt-Beispielkorpus)"
    props.created = FIXED_DATE.replace(tzinfo=None)
    props.modified = FIXED_DATE.replace(tzinfo=None)
    props.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    write_normalized_zip(buffer.getvalue(), target)


# --------------------------------------------------------------------------- HTML

NAV_ITEMS = (
    ("/", "Startseite"),
    ("/rathaus-service/", "Rathaus &amp; Service"),
    ("/leben-wohnen/", "Leben &amp; Wohnen"),
    ("/familie-bildung/", "Familie &amp; Bildung"),
    ("/umwelt-abfall/", "Umwelt &amp; Abfall"),
    ("/bauen-verkehr/", "Bauen &amp; Verkehr"),
    ("/politik-beteiligung/", "Politik &amp; Beteiligung"),
)

HTML_HEAD = """<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | Stadt Musterstadt</title>
<meta name="description" content="{description}">
<link rel="stylesheet" href="/assets/css/musterstadt.min.css">
<link rel="icon" href="/favicon.ico">
</head>
<body>
<div class="cookie-hinweis" role="dialog" aria-label="Cookie-Hinweis">
<p>Diese Website verwendet ausschließlich technisch notwendige Cookies.
<a href="/datenschutz/">Mehr erfahren</a></p>
<button type="button">Verstanden</button>
</div>
<a class="skip-link" href="#inhalt">Direkt zum Inhalt</a>
<header class="site-header">
<a class="logo" href="/"><img src="/assets/img/wappen-musterstadt.svg" alt="Wappen"> \
Stadt Musterstadt</a>
<ul class="service-links">
<li><a href="/leichte-sprache/">Leichte Sprache</a></li>
<li><a href="/gebaerdensprache/">Gebärdensprache</a></li>
<li><a href="/termine/">Online-Termin</a></li>
</ul>
<form class="suche" role="search" action="/suche/">
<label for="suchfeld">Suchbegriff</label>
<input id="suchfeld" name="q" type="search" placeholder="Suchen …">
<button type="submit">Suchen</button>
</form>
</header>
<nav class="hauptnavigation" aria-label="Hauptnavigation">
<ul>
{nav}
</ul>
</nav>
<nav class="breadcrumb" aria-label="Sie sind hier">
<ol>
<li><a href="/">Startseite</a></li>
<li><a href="{section_href}">{section}</a></li>
<li aria-current="page">{title}</li>
</ol>
</nav>
<main id="inhalt">
"""

HTML_FOOT = """<p class="stand">Stand: {date}</p>
<p class="teilen"><a href="#" onclick="window.print();return false;">Seite drucken</a> ·
<a href="#inhalt">Nach oben</a></p>
</main>
<footer class="site-footer">
<div class="footer-kontakt">
<h2>Kontakt</h2>
<p><strong>Stadt Musterstadt</strong><br>Marktplatz 1<br>12345 Musterstadt</p>
<p>Telefon: 01234 567-0<br>Telefax: 01234 567-1099<br>E-Mail: info@musterstadt.de</p>
</div>
<div class="footer-links">
<h2>Service</h2>
<ul>
<li><a href="/oeffnungszeiten/">Öffnungszeiten</a></li>
<li><a href="/termine/">Online-Terminvereinbarung</a></li>
<li><a href="/formulare/">Formulare A–Z</a></li>
<li><a href="/presse/">Pressemitteilungen</a></li>
</ul>
</div>
<ul class="footer-rechtliches">
<li><a href="/impressum/">Impressum</a></li>
<li><a href="/datenschutz/">Datenschutz</a></li>
<li><a href="/barrierefreiheit/">Erklärung zur Barrierefreiheit</a></li>
<li><a href="/kontakt/">Kontaktformular</a></li>
</ul>
<p class="copyright">© 2026 Stadt Musterstadt</p>
</footer>
</body>
</html>
"""

SECTION_HREFS = {
    "Rathaus & Service": "/rathaus-service/",
    "Leben & Wohnen": "/leben-wohnen/",
    "Familie & Bildung": "/familie-bildung/",
    "Umwelt & Abfall": "/umwelt-abfall/",
    "Bauen & Verkehr": "/bauen-verkehr/",
    "Politik & Beteiligung": "/politik-beteiligung/",
}


def html_inline(text: str) -> str:
    return "".join(
        f"<strong>{html.escape(segment, quote=False)}</strong>"
        if bold
        else html.escape(segment, quote=False)
        for segment, bold in split_bold(text)
    )


def html_blocks(blocks: list[Block]) -> Iterator[str]:
    for block in blocks:
        if block.kind in ("h1", "h2", "h3"):
            yield f"<{block.kind}>{html_inline(block.text)}</{block.kind}>"
        elif block.kind == "p":
            yield "<p>" + html_inline(block.text).replace("\n", "<br>\n") + "</p>"
        elif block.kind in ("ul", "ol"):
            items = "\n".join(f"<li>{html_inline(item)}</li>" for item in block.items)
            yield f"<{block.kind}>\n{items}\n</{block.kind}>"
        elif block.kind == "table":
            head, *body = block.rows
            head_html = "".join(f'<th scope="col">{html_inline(cell)}</th>' for cell in head)
            body_html = "\n".join(
                "<tr>" + "".join(f"<td>{html_inline(cell)}</td>" for cell in row) + "</tr>"
                for row in body
            )
            yield (
                f'<table class="tabelle">\n<thead>\n<tr>{head_html}</tr>\n</thead>\n'
                f"<tbody>\n{body_html}\n</tbody>\n</table>"
            )


def render_html(doc: SourceDoc, target: Path) -> None:
    section = doc.meta.get("section", "Rathaus & Service")
    first_paragraph = next((plain(b.text) for b in doc.blocks if b.kind == "p"), doc.title)
    description = first_paragraph if len(first_paragraph) <= 155 else first_paragraph[:152] + "…"
    nav = "\n".join(
        f'<li><a href="{href}">{label}</a></li>'
        if html.unescape(label) != section
        else f'<li class="aktiv"><a href="{href}" aria-current="true">{label}</a></li>'
        for href, label in NAV_ITEMS
    )
    page = HTML_HEAD.format(
        title=html.escape(doc.title),
        description=html.escape(description),
        nav=nav,
        section=html.escape(section),
        section_href=SECTION_HREFS.get(section, "/rathaus-service/"),
    )
    page += "\n".join(html_blocks(doc.blocks)) + "\n"
    page += HTML_FOOT.format(date=html.escape(doc.date))
    target.write_text(page, encoding="utf-8")


# --------------------------------------------------------------------------- Markdown


def render_md(doc: SourceDoc, target: Path) -> None:
    lines = [line.rstrip() for line in doc.body.strip().splitlines()]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- XLSX


def xlsx_value(text: str) -> str | float:
    """Amounts with decimal comma ("1.234,50") become floats, everything else stays text."""
    value = plain(text)
    if NUMBER_RE.match(value):
        return float(value.replace(".", "").replace(",", "."))
    return value


def render_xlsx(doc: SourceDoc, target: Path) -> None:
    """Each ``##`` section becomes a worksheet; tables become cell ranges, text a row."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    header_fill = PatternFill("solid", fgColor="DCE4F0")
    sheet = None
    widths: dict[str, dict[int, int]] = {}
    for block in doc.blocks:
        if block.kind == "h1":
            continue
        if block.kind == "h2":
            sheet = workbook.create_sheet(title=plain(block.text)[:31])
            widths[sheet.title] = {}
            sheet.append([doc.title])
            sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
            sheet.append([plain(block.text)])
            sheet.cell(row=2, column=1).font = Font(bold=True, size=11)
            sheet.append([])
            continue
        if sheet is None:
            raise ValueError(f"{doc.stem}: content before the first '##' sheet heading")
        if block.kind in ("p", "h3"):
            for line in plain(block.text).splitlines():
                sheet.append([line])
            if block.kind == "h3":
                sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        elif block.kind in ("ul", "ol"):
            for item in block.items:
                sheet.append([f"– {plain(item)}"])
        elif block.kind == "table":
            for index, row in enumerate(block.rows):
                values = [plain(cell) if index == 0 else xlsx_value(cell) for cell in row]
                sheet.append(values)
                for column, cell_text in enumerate(row, start=1):
                    cell = sheet.cell(row=sheet.max_row, column=column)
                    current = widths[sheet.title].get(column, 10)
                    widths[sheet.title][column] = max(current, len(plain(cell_text)) + 2)
                    if index == 0:
                        cell.font = Font(bold=True)
                        cell.fill = header_fill
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
                    elif isinstance(cell.value, float):
                        cell.number_format = "#,##0.00"
            sheet.append([])
    for ws in workbook.worksheets:
        for column, width in widths[ws.title].items():
            ws.column_dimensions[chr(64 + column)].width = min(width, 45)
    workbook.properties.title = doc.title
    workbook.properties.creator = TOWN
    workbook.properties.lastModifiedBy = TOWN
    workbook.properties.created = FIXED_DATE.replace(tzinfo=None)
    workbook.properties.modified = FIXED_DATE.replace(tzinfo=None)
    workbook.properties.language = "de-DE"
    buffer = io.BytesIO()
    workbook.save(buffer)
    write_normalized_zip(buffer.getvalue(), target)


# --------------------------------------------------------------------------- CSV


def render_csv(source: Path, target: Path) -> int:
    """Re-emit a semicolon-separated source table; returns the number of data rows."""
    with source.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.reader(handle, delimiter=";") if row]
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise ValueError(f"{source.name}: rows have differing column counts {sorted(widths)}")
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerows(rows)
    return len(rows) - 1


# --------------------------------------------------------------------------- main

RENDERERS = {
    "pdf": render_pdf,
    "docx": render_docx,
    "html": render_html,
    "md": render_md,
    "xlsx": render_xlsx,
}


def build(verbose: bool = True) -> list[Path]:
    """Rebuild every corpus file; returns the written paths."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT_DIR.iterdir():
        if old.is_file() and old.suffix.lstrip(".") in OUTPUT_FORMATS:
            old.unlink()
    written: list[Path] = []
    problems: list[str] = []
    for doc in load_sources():
        target = OUTPUT_DIR / doc.output_name
        RENDERERS[doc.fmt](doc, target)
        words = word_count(plain(doc.body))
        if doc.fmt != "xlsx" and not MIN_WORDS <= words <= MAX_WORDS:
            problems.append(f"{doc.output_name}: {words} words (want {MIN_WORDS}–{MAX_WORDS})")
        if verbose:
            print(f"{doc.output_name:<48} {words:>5} words")
        written.append(target)
    for source in sorted((SOURCE_DIR / "csv").glob("*.csv")):
        target = OUTPUT_DIR / f"{source.stem}.csv"
        rows = render_csv(source, target)
        if verbose:
            print(f"{target.name:<48} {rows:>5} rows")
        written.append(target)
    names = [path.name for path in written]
    if len(names) != len(set(names)):
        problems.append("duplicate output names")
    for problem in problems:
        print(f"WARNING: {problem}", file=sys.stderr)
    if verbose:
        print(f"{len(written)} files written to {OUTPUT_DIR}")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-q", "--quiet", action="store_true", help="print warnings only")
    args = parser.parse_args()
    build(verbose=not args.quiet)


if __name__ == "__main__":
    main()
