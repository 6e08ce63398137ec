"""The Protokoll page through AppTest: a real recording transcribed by the tiny random Whisper
model, minutes without a language model, DOCX and Markdown offered for download; a missing
speech model is explained and the button stays off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT, get_settings
from pipelines.speech import clear_model_cache
from tests.conftest import SHARED_DATA
from tests.support.tiny_whisper import tiny_whisper_fixture  # noqa: F401
from tests.ui.conftest import texts

APP = str(REPO_ROOT / "apps" / "workspace.py")
PAGE = str(REPO_ROOT / "pages" / "protokoll.py")
RECORDING = SHARED_DATA / "thorsten-voice-de-samples" / "sample04-gt.wav"


@pytest.fixture
def with_model(engine: Engine, tiny_whisper: Path, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[Engine]:
    monkeypatch.setenv("CHATWERKSTATT_SPEECH_MODEL", str(tiny_whisper))
    monkeypatch.setenv("CHATWERKSTATT_SPEECH_BEAM_SIZE", "1")
    monkeypatch.setenv("CHATWERKSTATT_SPEECH_TEMPERATURE_FALLBACK", "false")
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()
    clear_model_cache()


def open_page() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=240).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


@pytest.mark.skipif(not RECORDING.is_file(), reason=f"Sprachaufnahme fehlt: {RECORDING}")
def test_a_recording_becomes_minutes_to_download(with_model: Engine) -> None:
    app = open_page()
    app.text_input[0].set_value("Bauausschuss")
    app.file_uploader[0].upload(RECORDING.name, RECORDING.read_bytes(), "audio/wav")
    app.toggle[0].set_value(False)
    app.button[0].click().run()
    assert not app.exception, app.exception

    assert not app.error, [e.value for e in app.error]
    shown = texts(app)
    assert "Automatische Auszüge ohne Sprachmodell" in shown
    assert "# Protokoll: Bauausschuss" in shown
    downloads = app.get("download_button")
    assert len(downloads) == 2
    assert len(app.dataframe) == 1 and len(app.dataframe[0].value) >= 1


def test_without_a_speech_model_the_page_says_how_to_provide_one(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATWERKSTATT_SPEECH_MODEL", str(tmp_path / "kein-modell"))
    get_settings.cache_clear()
    app = open_page()

    assert "CHATWERKSTATT_SPEECH_MODEL" in app.warning[0].value
    assert app.button[0].disabled
