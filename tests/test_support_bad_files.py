"""The bad input files are what they claim to be."""

from __future__ import annotations

import html.parser
import zipfile
from pathlib import Path

import pytest
from charset_normalizer import from_bytes
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

from tests.support import bad_files as bf

pytest_plugins = ["tests.support.fixtures_bad_files"]

MIB = 1024 * 1024


class _VisibleText(html.parser.HTMLParser):
    """Minimal text extraction that skips script/style, like any sane HTML reader."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def test_fixture_creates_every_kind(bad_files: dict[str, Path], bad_files_dir: Path) -> None:
    assert set(bad_files) == set(bf.EXPECTED_REJECTION)
    assert all(path.parent == bad_files_dir and path.exists() for path in bad_files.values())
    assert len(list(bad_files_dir.iterdir())) == len(bad_files)
    assert {p.name for p in bad_files_dir.iterdir()} >= {"programm.exe", "bild.xyz", "daten.txt"}


def test_corrupt_pdf_has_header_but_cannot_be_read(tmp_path: Path) -> None:
    path = bf.corrupt_pdf(tmp_path)
    assert path.read_bytes().startswith(b"%PDF-1.7")
    assert b"%%EOF" not in path.read_bytes()
    for strict in (True, False):
        with pytest.raises(PdfReadError):  # PdfStreamError is a PdfReadError
            PdfReader(path, strict=strict).pages[0].extract_text()


def test_encrypted_pdf_needs_password(tmp_path: Path) -> None:
    path = bf.encrypted_pdf(tmp_path)
    reader = PdfReader(path)
    assert reader.is_encrypted
    with pytest.raises(FileNotDecryptedError):
        reader.pages[0].extract_text()
    assert PdfReader(path).decrypt("") == 0  # no empty user password either

    unlocked = PdfReader(path)
    assert unlocked.decrypt(bf.ENCRYPTED_PDF_PASSWORD) != 0
    text = " ".join(unlocked.pages[0].extract_text().split())
    assert text == bf.ENCRYPTED_PDF_TEXT  # real text with umlauts behind the lock


def test_empty_and_whitespace_only(tmp_path: Path) -> None:
    assert bf.empty_file(tmp_path).stat().st_size == 0
    blank = bf.whitespace_only(tmp_path)
    assert blank.suffix == ".md"
    assert blank.stat().st_size > 0
    assert blank.read_text(encoding="utf-8").strip() == ""


def test_binary_as_txt_has_nul_bytes_early_and_is_seeded(tmp_path: Path) -> None:
    path = bf.binary_as_txt(tmp_path)
    data = path.read_bytes()
    assert path.name == "daten.txt"
    assert b"\x00" in data[:100]
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert bf.binary_as_txt(tmp_path, name="nochmal.txt").read_bytes() == data


def test_latin1_text_is_not_utf8_but_decodes_to_expected(tmp_path: Path) -> None:
    sample = bf.latin1_text(tmp_path)
    data = sample.path.read_bytes()
    assert sample.path.name == "hinweise-latin1.txt"
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("cp1252") == data.decode("latin-1") == sample.expected_text
    assert all(ch in sample.expected_text for ch in "äöüÄÖÜß")
    # charset-normalizer (what the product uses) must recover the same text.
    best = from_bytes(data).best()
    assert best is not None and str(best) == sample.expected_text


def test_unsupported_extensions(tmp_path: Path) -> None:
    exe = bf.unsupported_extension(tmp_path)
    xyz = bf.unsupported_extension(tmp_path, "bild.xyz")
    assert (exe.name, xyz.name) == ("programm.exe", "bild.xyz")
    assert exe.read_bytes().startswith(b"MZ")
    assert xyz.read_text(encoding="utf-8").strip()


def test_oversized_file_is_valid_text_just_over_the_limit(tmp_path: Path) -> None:
    path = bf.oversized_file(tmp_path, 3 * MIB)
    assert path.stat().st_size == 3 * MIB + 1
    path.read_bytes().decode("ascii")  # real text throughout, no NUL holes
    sparse = bf.oversized_file(tmp_path, 64 * MIB, name="duenn.txt", sparse=True)
    assert sparse.stat().st_size == 64 * MIB + 1


def test_default_oversized_file_exceeds_default_limit(bad_files: dict[str, Path]) -> None:
    assert bad_files["oversized_file"].stat().st_size > 50 * MIB


def test_docx_zip_bomb_is_small_valid_zip_with_huge_member(docx_bomb_path: Path) -> None:
    assert docx_bomb_path.name == "bombe.docx"
    assert docx_bomb_path.stat().st_size < 5 * MIB
    with zipfile.ZipFile(docx_bomb_path) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert {"[Content_Types].xml", "_rels/.rels", bf.BOMB_MEMBER} <= set(infos)
        assert infos[bf.BOMB_MEMBER].file_size >= 2 * 1024**3
        assert sum(info.file_size for info in infos.values()) >= 2 * 1024**3
        with archive.open(bf.BOMB_MEMBER) as member:  # starts like a real document
            assert member.read(200).startswith(b"<?xml")


def test_small_bomb_is_configurable(tmp_path: Path) -> None:
    path = bf.docx_zip_bomb(tmp_path, unpacked_bytes=64 * MIB)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # CRCs and deflate stream are intact
        assert archive.getinfo(bf.BOMB_MEMBER).file_size == 64 * MIB


def test_fake_docx_is_not_a_zip(tmp_path: Path) -> None:
    path = bf.fake_docx(tmp_path)
    assert path.suffix == ".docx"
    assert not zipfile.is_zipfile(path)
    assert path.read_text(encoding="utf-8").strip()


def test_html_with_script_is_hostile_but_has_clean_text(tmp_path: Path) -> None:
    sample = bf.html_with_script(tmp_path)
    raw = sample.path.read_text(encoding="utf-8")
    assert "<script>alert(1)" in raw and "onerror=" in raw
    parser = _VisibleText()
    parser.feed(raw)
    text = " ".join(" ".join(parser.parts).split())
    assert all(phrase in text for phrase in sample.visible)
    assert not any(bad in text for bad in sample.forbidden)
