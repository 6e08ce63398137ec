"""Readers without the engine: decoding, zip checks, tables, headings, XLSX cells."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from unstructured.documents.elements import (
    ElementMetadata,
    ListItem,
    NarrativeText,
    Table,
    Title,
)

from pipelines.documents import errors
from pipelines.documents.readers import (
    MAX_TITLE_WORDS,
    Block,
    _blocks_from_elements,
    _looks_like_heading,
    check_zip_container,
    decode_text,
    read_document,
    render_table,
)
from tests.support.bad_files import LATIN1_TEXT

MIB = 1024 * 1024

# -- decode_text ---------------------------------------------------------------------------


def test_utf8_with_bom_loses_the_bom() -> None:
    assert decode_text("\ufeffGrüße aus Köln".encode()) == "Grüße aus Köln"


def test_plain_utf8_is_kept_exactly() -> None:
    text = "Die Gebühr für die Straßenreinigung beträgt 5 € – „zahlbar“ sofort.\n"
    assert decode_text(text.encode("utf-8")) == text


def test_cp1252_office_text_is_decoded_exactly() -> None:
    assert decode_text(LATIN1_TEXT.encode("cp1252")) == LATIN1_TEXT


def test_cp1252_with_euro_sign_and_german_quotes() -> None:
    text = (
        "Die Gebühr für die Straßenreinigung beträgt 5 € im Monat – „zahlbar“ sofort an die "
        "Stadtkasse. Öffnungszeiten des Bürgerbüros: Mo–Fr von 8 bis 12 Uhr.\n"
    )
    assert decode_text(text.encode("cp1252")) == text


@pytest.mark.parametrize(
    "data",
    [
        b"abc\x00def",
        "Hallo Welt".encode("utf-16"),  # UTF-16 puts NULs between ASCII letters
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    ],
    ids=["nul", "utf16", "png"],
)
def test_nul_bytes_mean_binary(data: bytes) -> None:
    with pytest.raises(errors.DocumentError) as info:
        decode_text(data)
    assert info.value.code == "binary"
    assert "Binärdaten" in info.value.de
    assert "binary" in info.value.en


def test_mostly_control_characters_mean_binary() -> None:
    # invalid UTF-8 (0xff) so the legacy-encoding path runs, and many control characters
    data = (bytes(range(1, 9)) + b"\xff\x0e\x0f\x10\x11") * 300
    with pytest.raises(errors.DocumentError) as info:
        decode_text(data)
    assert info.value.code == "binary"


def test_control_characters_in_valid_utf8_mean_binary() -> None:
    with pytest.raises(errors.DocumentError) as info:
        decode_text(bytes(range(1, 32)) * 300)
    assert info.value.code == "binary"


@pytest.mark.parametrize(
    "text",
    [
        "Leistung;Gebühr in Euro\nReisepass;70,00\nFührungszeugnis;13,00\n",
        "Grüße",
        "Straße",
    ],
    ids=["short-csv", "gruesse", "strasse"],
)
def test_short_cp1252_text_is_decoded_exactly(text: str) -> None:
    assert decode_text(text.encode("cp1252")) == text


# -- check_zip_container -------------------------------------------------------------------


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _lying_zip(claimed_size: int) -> bytes:
    """A tiny stored zip whose central directory claims `claimed_size` unpacked bytes.

    Only a check of the central directory can refuse it as a bomb; anything that unpacked the
    member would find four bytes (and a size mismatch), not gigabytes.
    """
    data = bytearray(_zip({"word/document.xml": b"<x/>"}, zipfile.ZIP_STORED))
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, claimed_size)  # uncompressed size field
    return bytes(data)


def test_zip_within_the_limit_passes() -> None:
    check_zip_container(_zip({"word/document.xml": b" " * MIB}), "DOCX", 2)


def test_zip_bomb_is_refused_by_its_central_directory() -> None:
    data = _lying_zip(0xF000_0000)  # claims 3.75 GiB, holds 4 bytes
    assert len(data) < 1024
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.infolist()[0].file_size == 0xF000_0000
    with pytest.raises(errors.DocumentError) as info:
        check_zip_container(data, "DOCX", 300)
    assert info.value.code == "zip_bomb"
    assert "ZIP-Bombe" in info.value.de and "nicht geöffnet" in info.value.de
    assert "zip bomb" in info.value.en


def test_unpacked_sizes_of_all_members_are_added_up() -> None:
    data = _zip({"a.xml": b"a" * (600 * 1024), "b.xml": b"b" * (600 * 1024)})
    check_zip_container(data, "XLSX", 2)
    with pytest.raises(errors.DocumentError) as info:
        check_zip_container(data, "XLSX", 1)  # each member < 1 MB, together > 1 MB
    assert info.value.code == "zip_bomb"


@pytest.mark.parametrize("kind", ["DOCX", "XLSX"])
def test_not_a_zip_is_corrupt_and_names_the_kind(kind: str) -> None:
    with pytest.raises(errors.DocumentError) as info:
        check_zip_container(b"Das ist nur Text mit falscher Endung.", kind, 300)
    assert info.value.code == "corrupt"
    assert f"keine gültige {kind}-Datei" in info.value.de
    assert "kein ZIP-Container" in info.value.de


@pytest.mark.parametrize("suffix", [".docx", ".xlsx", ".DOCX"])
def test_read_document_checks_zip_containers_before_parsing(suffix: str) -> None:
    with pytest.raises(errors.DocumentError) as info:
        read_document(Path(f"bombe{suffix}"), _lying_zip(0xF000_0000), 300)
    assert info.value.code == "zip_bomb"


def test_zip_bomb_size_is_written_the_german_way() -> None:
    message = errors.unpacked_too_large(2048.0, 300).de
    assert "2,048" not in message
    assert "2.048 MB" in message or "2048 MB" in message


# -- read_document order of checks ---------------------------------------------------------


@pytest.mark.parametrize("name", ["programm.exe", "bild.xyz", "ohne_endung"])
def test_unsupported_extension_is_named_in_the_reason(name: str) -> None:
    with pytest.raises(errors.DocumentError) as info:
        read_document(Path(name), b"MZ\x90\x00", 300)
    assert info.value.code == "unsupported"
    shown = Path(name).suffix or "(ohne Endung)"
    assert f"Der Dateityp {shown} wird nicht unterstützt" in info.value.de
    assert ".pdf" in info.value.de and ".docx" in info.value.de


def test_unsupported_extension_wins_over_empty_content() -> None:
    with pytest.raises(errors.DocumentError) as info:
        read_document(Path("leer.exe"), b"", 300)
    assert info.value.code == "unsupported"


@pytest.mark.parametrize("name", ["leer.txt", "leer.pdf", "leer.docx", "leer.CSV"])
def test_empty_data_is_refused_as_empty(name: str) -> None:
    with pytest.raises(errors.DocumentError) as info:
        read_document(Path(name), b"", 300)
    assert info.value.code == "empty"
    assert "leer" in info.value.de


# -- render_table --------------------------------------------------------------------------


def test_render_table_keeps_column_value_pairs_per_row() -> None:
    frame = pd.DataFrame(
        {"Leistung": ["Reisepass", "Personalausweis"], "Gebühr in Euro": ["70,00", "37,00"]}
    )
    assert render_table(frame, "Gebühren") == (
        "Tabelle: Gebühren\n"
        "Leistung: Reisepass; Gebühr in Euro: 70,00\n"
        "Leistung: Personalausweis; Gebühr in Euro: 37,00"
    )


def test_render_table_skips_empty_cells_rows_and_columns() -> None:
    frame = pd.DataFrame(
        {
            "Leistung": ["Reisepass", None, "Ausweis"],
            "Gebühr": ["70,00", None, None],
            "Leer": [None, None, None],
        }
    )
    assert render_table(frame) == "Leistung: Reisepass; Gebühr: 70,00\nLeistung: Ausweis"


def test_render_table_without_header_names_shows_values_only() -> None:
    frame = pd.DataFrame([["Zone A", "Marktplatz"], ["Zone B", "Bahnhofstraße"]])
    assert render_table(frame) == "Zone A; Marktplatz\nZone B; Bahnhofstraße"


def test_render_table_strips_header_and_cell_whitespace() -> None:
    frame = pd.DataFrame({" Leistung ": ["  Reisepass "]})
    assert render_table(frame) == "Leistung: Reisepass"


# -- headings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Gebühren", True),
        ("Antrag auf Sondernutzung", True),
        ("Welche Unterlagen brauche ich:", True),
        (" ".join(["Wort"] * MAX_TITLE_WORDS), True),
        (" ".join(["Wort"] * (MAX_TITLE_WORDS + 1)), False),
        ("Das Bürgerbüro ist montags geöffnet.", False),
        ("Wichtig!", False),
        ("Was kostet ein Reisepass?", False),
        ("Erstens;", False),
        ("Zum Beispiel,", False),
    ],
)
def test_looks_like_heading(text: str, expected: bool) -> None:
    assert _looks_like_heading(text) is expected


def test_heading_path_follows_the_depth_of_titles() -> None:
    def title(text: str, depth: int) -> Title:
        return Title(text, metadata=ElementMetadata(category_depth=depth))

    table_html = (
        "<table><tr><th>Hund</th><th>Betrag</th></tr>"
        "<tr><td>Erster Hund</td><td>96 Euro</td></tr></table>"
    )
    elements = [
        title("Hundesteuersatzung", 0),
        NarrativeText("Die Stadt erhebt eine Steuer auf Hunde."),
        title("Steuersätze", 1),
        Table("Hund Betrag Erster Hund 96 Euro", metadata=ElementMetadata(text_as_html=table_html)),
        title("Befreiungen", 1),
        ListItem("Blindenführhunde"),
        Title("Dieser kurze Satz ist keine Überschrift."),
        title("Anhang", 0),
        NarrativeText("Inkrafttreten am 1. Januar."),
    ]
    assert _blocks_from_elements(elements) == [
        Block("Die Stadt erhebt eine Steuer auf Hunde.", None, ("Hundesteuersatzung",)),
        Block("Hund: Erster Hund; Betrag: 96 Euro", None,
              ("Hundesteuersatzung", "Steuersätze"), "table"),
        Block("- Blindenführhunde", None, ("Hundesteuersatzung", "Befreiungen")),
        Block("Dieser kurze Satz ist keine Überschrift.", None,
              ("Hundesteuersatzung", "Befreiungen")),
        Block("Inkrafttreten am 1. Januar.", None, ("Anhang",)),
    ]


def test_block_section_joins_the_heading_path() -> None:
    assert Block("x", None, ("Merkblatt", "Gebühren")).section == "Merkblatt › Gebühren"
    assert Block("x").section == ""


# -- XLSX cells as the sheet shows them -----------------------------------------------------


def _xlsx(fill) -> bytes:  # type: ignore[no-untyped-def]
    workbook = openpyxl.Workbook()
    fill(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_cells_are_shown_as_formatted_and_title_rows_become_text() -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        sheet.title = "Gebühren"
        sheet.append(["Gebührenübersicht der Stadt"])
        sheet.append([])
        sheet.append(["Leistung", "Gebühr", "Gültig ab", "Ermäßigt"])
        sheet.append(["Reisepass", 70, dt.date(2027, 1, 1), False])
        sheet.append(["Beglaubigung", 1234.5, None, True])
        for row in sheet.iter_rows(min_row=4, max_row=5, min_col=2, max_col=2):
            for cell in row:
                cell.number_format = '#,##0.00 "€"'

    parsed = read_document(Path("gebuehren.xlsx"), _xlsx(fill), 300)
    assert parsed.metadata["sheets"] == ["Gebühren"]
    assert parsed.blocks == [
        Block("Gebührenübersicht der Stadt", None, ("Gebühren",)),
        Block(
            "Tabelle: Gebühren\n"
            "Leistung: Reisepass; Gebühr: 70,00 €; Gültig ab: 01.01.2027; Ermäßigt: nein\n"
            "Leistung: Beglaubigung; Gebühr: 1.234,50 €; Ermäßigt: ja",
            None, ("Gebühren",), "table",
        ),
    ]


def test_xlsx_empty_sheets_are_skipped() -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        workbook.active.title = "Leer"
        sheet = workbook.create_sheet("Daten")
        sheet.append(["Art", "Wert"])
        sheet.append(["A", "eins"])

    parsed = read_document(Path("mappe.xlsx"), _xlsx(fill), 300)
    assert parsed.metadata["sheets"] == ["Daten"]
    assert [b.section for b in parsed.blocks] == ["Daten"]


def test_xlsx_plain_integers_have_no_thousands_separator() -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        sheet.title = "Haushalt"
        sheet.append(["Jahr", "Postleitzahl"])
        sheet.append([2027, 12345])

    parsed = read_document(Path("haushalt.xlsx"), _xlsx(fill), 300)
    assert "Jahr: 2027; Postleitzahl: 12345" in parsed.blocks[0].text.split("\n")
