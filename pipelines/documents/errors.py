"""Why a file was refused, in German and English, naming the reason plainly."""

from __future__ import annotations

from pipelines.german import german_number


class DocumentError(Exception):
    """A file that cannot be ingested; `de`/`en` are complete sentences for people."""

    def __init__(self, code: str, de: str, en: str) -> None:
        super().__init__(de)
        self.code = code
        self.de = de
        self.en = en

    def message(self, language: str = "de") -> str:
        return self.en if language == "en" else self.de


def empty_file() -> DocumentError:
    return DocumentError("empty", "Die Datei ist leer (0 Byte).", "The file is empty (0 bytes).")


def no_text() -> DocumentError:
    return DocumentError(
        "no_text",
        "In der Datei wurde kein auslesbarer Text gefunden (leer, nur Leerzeichen oder ein "
        "eingescanntes Bild ohne Texterkennung).",
        "No readable text was found in the file (empty, blank, or a scanned image without OCR).",
    )


def too_large(size_mb: float, limit_mb: float) -> DocumentError:
    return DocumentError(
        "too_large",
        f"Die Datei ist zu groß ({german_number(size_mb, 1)} MB); erlaubt sind höchstens "
        f"{german_number(limit_mb, 0 if float(limit_mb).is_integer() else 1)} MB.",
        f"The file is too large ({size_mb:.1f} MB); the limit is {limit_mb:g} MB.",
    )


def unsupported(extension: str, supported: list[str]) -> DocumentError:
    shown = extension or "(ohne Endung)"
    listing = ", ".join(supported)
    return DocumentError(
        "unsupported",
        f"Der Dateityp {shown} wird nicht unterstützt. Unterstützt werden: {listing}.",
        f"The file type {extension or '(none)'} is not supported. Supported: {listing}.",
    )


def binary_text() -> DocumentError:
    return DocumentError(
        "binary",
        "Die Datei enthält Binärdaten statt Text (falsche Dateiendung?).",
        "The file contains binary data, not text (wrong file extension?).",
    )


def encrypted_pdf() -> DocumentError:
    return DocumentError(
        "encrypted",
        "Das PDF ist passwortgeschützt. Bitte eine Fassung ohne Kennwort hochladen.",
        "The PDF is password-protected. Please upload a version without a password.",
    )


def corrupt(kind: str, detail: str) -> DocumentError:
    return DocumentError(
        "corrupt",
        f"Die Datei ist keine gültige {kind}-Datei oder beschädigt ({detail}).",
        f"The file is not a valid {kind} file or is damaged ({detail}).",
    )


def unpacked_too_large(unpacked_mb: float, limit_mb: float) -> DocumentError:
    return DocumentError(
        "zip_bomb",
        f"Die Datei würde entpackt {german_number(unpacked_mb)} MB belegen "
        f"(erlaubt: {german_number(limit_mb)} MB) – "
        "vermutlich eine ZIP-Bombe; sie wurde nicht geöffnet.",
        f"The file would unpack to {unpacked_mb:,.0f} MB (limit {limit_mb:g} MB) – probably a "
        "zip bomb; it was not opened.",
    )


def unreadable(detail: str) -> DocumentError:
    return DocumentError(
        "unreadable",
        f"Die Datei konnte nicht gelesen werden: {detail}",
        f"The file could not be read: {detail}",
    )
