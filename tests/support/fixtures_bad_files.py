"""Session fixtures with the broken/hostile input files (load via `pytest_plugins`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.bad_files import create_all, docx_zip_bomb


@pytest.fixture(scope="session")
def docx_bomb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2 GiB-unpacked DOCX bomb, compressed once per session (takes a few seconds)."""
    return docx_zip_bomb(tmp_path_factory.mktemp("docx-bomb"))


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory: pytest.TempPathFactory, docx_bomb_path: Path) -> dict[str, Path]:
    """Every sample by kind (keys of bad_files.EXPECTED_REJECTION), all in one directory."""
    return create_all(tmp_path_factory.mktemp("bad-files"), bomb=docx_bomb_path)


@pytest.fixture(scope="session")
def bad_files_dir(bad_files: dict[str, Path]) -> Path:
    """Directory holding all samples; treat it as read-only, it is shared by the session."""
    return next(iter(bad_files.values())).parent
