"""The tiny random Whisper model as a pytest fixture (builder: evaluation/tiny_whisper.py).

In a test module: `from tests.support.tiny_whisper import tiny_whisper_fixture  # noqa: F401`
(the fixture's name is `tiny_whisper`), or list this module in `pytest_plugins`. Built once per
test session in a temporary folder: importing transformers/torch takes a few seconds, the build
itself about one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.tiny_whisper import build_tiny_whisper

__all__ = ["build_tiny_whisper", "tiny_whisper_fixture"]


@pytest.fixture(scope="session", name="tiny_whisper")
def tiny_whisper_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a faster-whisper model (random weights, multilingual vocabulary)."""
    return build_tiny_whisper(tmp_path_factory.mktemp("models") / "tiny-whisper")
