"""Read files into blocks of text with page, heading path and kind.

PDF text comes from pypdf page by page (page numbers kept; unstructured's `pdf` extra would
pull a CUDA-only torchvision here), then goes through unstructured's text partitioning like TXT.
DOCX, HTML and Markdown go through unstructured's own partitioners, which keep heading levels.
CSV/XLSX are read as tables with pandas and rendered row by row ("Spalte: Wert"), so a fee
table stays a table instead of becoming word soup.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from charset_normalizer import from_bytes

from pipelines.documents import errors
from pipelines.german import german_number

SUPPORTED_EXTENSIONS = [".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt", ".csv",
                        ".xlsx"]
ZIP_BASED = {".docx": "DOCX", ".xlsx": "XLSX"}
MAX_TITLE_WORDS = 14


@dataclass(frozen=True)
class Block:
    """A paragraph, list item or table of a document, where it stands."""

    text: str
    page: int | None = None
    headings: tuple[str, ...] = ()
    kind: str = "text"

    @property
    def section(self) -> str:
        return " › ".join(self.headings)


@dataclass
class ParsedDocument:
    blocks: list[Block]
    title: str
    pages: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _install_offline_nlp() -> None:
    """unstructured downloads an English spaCy model on first use; a blank German pipeline
    with a sentencizer gives it the sentence and token boundaries it needs, fully offline."""
    import spacy
    import unstructured.nlp.tokenize as tokenize

    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    nlp.max_length = 5_000_000
    tokenize._get_nlp = lambda: nlp  # type: ignore[assignment]


def check_zip_container(data: bytes, kind: str, limit_mb: float) -> None:
    """Refuse non-zips and zip bombs by the central directory, before anything is unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise errors.corrupt(kind, "kein ZIP-Container") from exc
    if unpacked > limit_mb * 1024 * 1024:
        raise errors.unpacked_too_large(unpacked / 1024 / 1024, limit_mb)


# Characters that make a cp1252 reading of non-UTF-8 bytes plausible for German office text.
_GERMAN_LEGACY_CHARS = frozenset("äöüÄÖÜß€„“”‚‘’–—…§°²³µ·éèàâçñ×÷«»")


def decode_text(data: bytes) -> str:
    """UTF-8 first; else cp1252 (what Excel and Notepad on German Windows write) when it reads
    like German; else the most likely legacy encoding. Control-character soup is binary."""
    if b"\x00" in data[:8192]:
        raise errors.binary_text()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = _decode_legacy(data)
    sample = text[:10_000]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.01 * len(sample):
        raise errors.binary_text()
    return text


def _decode_legacy(data: bytes) -> str:
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = ""
    if text:
        unusual = [ch for ch in text[:100_000] if ord(ch) > 127]
        german = sum(1 for ch in unusual if ch in _GERMAN_LEGACY_CHARS)
        if german >= 0.8 * len(unusual):
            return text
    best = from_bytes(data[:2_000_000]).best()
    if best is None:
        if text:
            return text
        raise errors.binary_text()
    return str(best) if len(data) <= 2_000_000 else data.decode(best.encoding, "replace")


def _blocks_from_elements(elements: Iterable[Any], page: int | None = None) -> list[Block]:
    """Turn unstructured elements into blocks, tracking the heading path by depth."""
    headings: list[str] = []
    blocks: list[Block] = []
    for element in elements:
        text = (element.text or "").strip()
        if not text:
            continue
        category = getattr(element, "category", "")
        element_page = getattr(element.metadata, "page_number", None) or page
        if category == "Title" and _looks_like_heading(text):
            depth = getattr(element.metadata, "category_depth", None) or 0
            del headings[depth:]
            headings.append(text)
            continue
        if category == "Table":
            html = getattr(element.metadata, "text_as_html", None)
            table_text = _html_table_to_text(html) if html else text
            blocks.append(Block(table_text, element_page, tuple(headings), "table"))
            continue
        if category == "ListItem":
            text = f"- {text}"
        blocks.append(Block(text, element_page, tuple(headings)))
    return blocks


def _looks_like_heading(text: str) -> bool:
    # unstructured calls short German sentences "Title" when it cannot tag verbs offline.
    return len(text.split()) <= MAX_TITLE_WORDS and not text.endswith((".", "!", "?", ";", ","))


def _html_table_to_text(html: str) -> str:
    try:
        frames = pd.read_html(io.StringIO(html), flavor="lxml")
    except (ValueError, ImportError):
        return html
    return "\n".join(render_table(_promote_header(frame)) for frame in frames)


def _promote_header(frame: pd.DataFrame) -> pd.DataFrame:
    """Tables without <th> (DOCX through unstructured) get their first row as header when it
    reads like one: every cell filled, none a number."""
    columns = [str(c).strip() for c in frame.columns]
    if len(frame) < 2 or not all(c.isdigit() or c.startswith("Unnamed") for c in columns):
        return frame
    first = [str(v).strip() for v in frame.iloc[0]]
    if any(v in ("", "nan") or _is_number(v) for v in first):
        return frame
    body = frame.iloc[1:].copy()
    body.columns = first
    return body


def _is_number(text: str) -> bool:
    cleaned = text.replace(".", "").replace(",", "").replace("€", "").replace("%", "").strip()
    return cleaned.lstrip("+-").isdigit()


def render_table(frame: pd.DataFrame, name: str = "") -> str:
    """Rows as 'Spalte: Wert; …' lines: each line keeps the meaning of its numbers."""
    frame = frame.dropna(how="all").dropna(axis=1, how="all")
    columns = [str(c).strip() for c in frame.columns]
    generic = all(c.isdigit() or c.startswith("Unnamed") for c in columns)
    lines = [f"Tabelle: {name}"] if name else []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(columns, row, strict=False):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                continue
            shown = str(value).strip()
            cells.append(shown if generic else f"{column}: {shown}")
        if cells:
            lines.append("; ".join(cells))
    return "\n".join(lines)


def _read_pdf(path: Path, data: bytes) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    from pipelines.documents.pdf_layout import extract_lines, layout_blocks

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise errors.encrypted_pdf()
        lines, heights = extract_lines(reader)
        page_count = len(reader.pages)
        metadata_title = reader.metadata.title if reader.metadata else None
    except errors.DocumentError:
        raise
    except Exception as exc:  # pypdf raises many internal types on broken files
        if isinstance(exc, PdfReadError) and "decrypt" in str(exc).lower():
            raise errors.encrypted_pdf() from exc
        raise errors.corrupt("PDF", f"{type(exc).__name__}: {str(exc)[:120]}") from exc
    blocks: list[Block] = []
    headings: list[str] = []
    for item in layout_blocks(lines, heights):
        if item.heading_level is not None:
            del headings[item.heading_level:]
            headings.append(item.text)
            continue
        kind = "text"
        text = item.text
        if text.startswith(("•", "▪", "◦")):
            text = "- " + text.lstrip("•▪◦ ")
        blocks.append(Block(text, item.page, tuple(headings), kind))
    title = str(metadata_title or "") or (headings[0] if headings else path.stem)
    return ParsedDocument(blocks, title, pages=page_count)


def _read_docx(path: Path, data: bytes) -> ParsedDocument:
    from unstructured.partition.docx import partition_docx

    try:
        elements = partition_docx(file=io.BytesIO(data), languages=["deu"])
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise errors.corrupt("DOCX", type(exc).__name__) from exc
    return ParsedDocument(_blocks_from_elements(elements), path.stem)


def _read_html(path: Path, data: bytes) -> ParsedDocument:
    from bs4 import BeautifulSoup
    from unstructured.partition.html import partition_html

    text = decode_text(data)
    title_tag = BeautifulSoup(text[:20_000], "lxml").title
    elements = partition_html(text=text, languages=["deu"])
    title = title_tag.get_text(strip=True) if title_tag else path.stem
    return ParsedDocument(_blocks_from_elements(elements), title or path.stem)


def _read_markdown(path: Path, data: bytes) -> ParsedDocument:
    from unstructured.partition.md import partition_md

    elements = partition_md(text=decode_text(data), languages=["deu"])
    return ParsedDocument(_blocks_from_elements(elements), path.stem)


def _read_text(path: Path, data: bytes) -> ParsedDocument:
    from unstructured.partition.text import partition_text

    elements = partition_text(text=decode_text(data), languages=["deu"])
    return ParsedDocument(_blocks_from_elements(elements), path.stem)


def _read_csv(path: Path, data: bytes) -> ParsedDocument:
    text = decode_text(data)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=None, engine="python", dtype=str)
    except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
        raise errors.corrupt("CSV", str(exc)[:120]) from exc
    return ParsedDocument(_table_blocks(frame, path.stem, ()), path.stem)


def _read_xlsx(path: Path, data: bytes) -> ParsedDocument:
    """Cells as the sheet shows them ("244,00", "01.08.2026"), not as raw floats."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise errors.corrupt("XLSX", type(exc).__name__) from exc
    blocks: list[Block] = []
    sheets = []
    for sheet in workbook.worksheets:
        rows = [[_cell_text(cell) for cell in row] for row in sheet.iter_rows()]
        rows = [row for row in rows if any(value for value in row)]
        if not rows:
            continue
        sheets.append(sheet.title)
        # Titles and notes often stand above the table: the header is the first of the widest
        # rows near the top; what stands above it is text of the sheet.
        filled = [sum(1 for value in row if value) for row in rows[:15]]
        header_at = filled.index(max(filled))
        for row in rows[:header_at]:
            blocks.append(Block(" ".join(v for v in row if v), None, (sheet.title,)))
        width = max(len(row) for row in rows)
        header = [v or f"Spalte {i + 1}" for i, v in enumerate(rows[header_at] + [""] * width)]
        frame = pd.DataFrame([row + [None] * (width - len(row)) for row in rows[header_at + 1:]],
                             columns=header[:width])
        blocks.extend(_table_blocks(frame, sheet.title, (sheet.title,)))
    workbook.close()
    return ParsedDocument(blocks, path.stem, metadata={"sheets": sheets})


def _cell_text(cell: Any) -> str | None:
    value = cell.value
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, int | float):
        return _number_as_shown(value, str(getattr(cell, "number_format", "") or "General"))
    if hasattr(value, "strftime"):
        return str(value.strftime("%d.%m.%Y"))
    return str(value).strip()


def _number_as_shown(value: float, number_format: str) -> str:
    """A number the way Excel shows it, in German notation: grouping only when the format
    asks for it ("#,##0.00" → 1.234,50), decimals as the format says, € kept."""
    section = number_format.split(";")[0]
    if "." in section and "0" in section.split(".", 1)[1]:
        decimals = len(section.split(".", 1)[1]) - len(section.split(".", 1)[1].lstrip("0#"))
    elif float(value).is_integer():
        decimals = 0
    else:
        decimals = 2 if "0" in section else len(repr(float(value)).split(".")[1])
    text = german_number(value, decimals, grouping="#,##" in section or "0,0" in section)
    return f"{text} €" if "€" in number_format else text


TABLE_ROWS_PER_BLOCK = 12


def _table_blocks(frame: pd.DataFrame, name: str, headings: tuple[str, ...]) -> list[Block]:
    """Split a table into blocks of rows, each repeating the header so every chunk stands alone."""
    blocks = []
    for start in range(0, len(frame), TABLE_ROWS_PER_BLOCK):
        part = frame.iloc[start : start + TABLE_ROWS_PER_BLOCK]
        text = render_table(part, name)
        if text.strip():
            blocks.append(Block(text, None, headings, "table"))
    return blocks


_READERS = {
    ".pdf": _read_pdf,
    ".docx": _read_docx,
    ".html": _read_html,
    ".htm": _read_html,
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".txt": _read_text,
    ".csv": _read_csv,
    ".xlsx": _read_xlsx,
}


def read_document(path: Path, data: bytes, max_unpacked_mb: float) -> ParsedDocument:
    """Parse `data` (the bytes of `path`); raise DocumentError with a plain reason."""
    extension = path.suffix.lower()
    reader = _READERS.get(extension)
    if reader is None:
        raise errors.unsupported(extension, SUPPORTED_EXTENSIONS)
    if not data:
        raise errors.empty_file()
    if extension in ZIP_BASED:
        check_zip_container(data, ZIP_BASED[extension], max_unpacked_mb)
    _install_offline_nlp()
    try:
        parsed = reader(path, data)
    except errors.DocumentError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise errors.unreadable(type(exc).__name__) from exc
    except Exception as exc:  # a parser's own failure on a broken file: name it, go on
        raise errors.unreadable(f"{type(exc).__name__}: {str(exc)[:160]}") from exc
    if not any(block.text.strip() for block in parsed.blocks):
        raise errors.no_text()
    return parsed
