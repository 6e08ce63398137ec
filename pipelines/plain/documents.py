"""Text of an uploaded document for the plain-language tools, through the ingest readers."""

from __future__ import annotations

from pathlib import Path

from pipelines.documents import errors
from pipelines.documents.readers import decode_text, read_document
from pipelines.german import german_number
from pipelines.plain.errors import PlainLanguageError
from pipelines.plain.simplify import MAX_TEXT_CHARS

UPLOAD_EXTENSIONS = (".pdf", ".docx", ".txt", ".md", ".markdown", ".html", ".htm")
MAX_UPLOAD_MB = 20.0
MAX_UNPACKED_MB = 100.0


def read_upload(filename: str, data: bytes, max_mb: float = MAX_UPLOAD_MB,
                max_chars: int = MAX_TEXT_CHARS) -> str:
    """The text of an uploaded PDF, DOCX, TXT, Markdown or HTML file, paragraphs separated by
    blank lines. PlainLanguageError names the file and the reason (empty, too large, wrong
    type, broken, binary, no text, too much text)."""
    name = Path(filename or "").name or "(ohne Namen)"
    extension = Path(name).suffix.lower()
    if extension not in UPLOAD_EXTENSIONS:
        raise PlainLanguageError(
            f"„{name}“: {errors.unsupported(extension, list(UPLOAD_EXTENSIONS)).de}")
    if not data:
        raise PlainLanguageError(f"„{name}“: {errors.empty_file().de}")
    size_mb = len(data) / 1024 / 1024
    if size_mb > max_mb:
        raise PlainLanguageError(f"„{name}“: {errors.too_large(size_mb, max_mb).de}")
    try:
        if extension == ".txt":
            # Plain text keeps its own lines and paragraphs; only the decoding is shared.
            text = decode_text(data)
        else:
            parsed = read_document(Path(name), data, MAX_UNPACKED_MB)
            text = "\n\n".join(block.text for block in parsed.blocks if block.text.strip())
    except errors.DocumentError as exc:
        raise PlainLanguageError(f"„{name}“: {exc.de}") from exc
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise PlainLanguageError(f"„{name}“: {errors.no_text().de}")
    if len(text) > max_chars:
        raise PlainLanguageError(
            f"„{name}“ enthält {german_number(len(text))} Zeichen Text; erlaubt sind höchstens "
            f"{german_number(max_chars)}. Bitte einen kürzeren Abschnitt hochladen oder "
            "einfügen.")
    return text
