"""The three Gradio demos, each launched on loopback and driven through gradio_client as a
script or another page would: plain language (offline and with the stand-in LLM), voice input
(the tiny random Whisper on a real recording, then a bot's answer) and minutes (DOCX and
Markdown downloads), plus their German errors for bad input."""

from __future__ import annotations

import io
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from apps import minutes_demo, plain_language_demo, voice_demo
from pipelines.engine import Engine
from pipelines.plain import check
from pipelines.settings import Settings
from tests.conftest import SHARED_DATA
from tests.support.corpus import bot_on_corpus
from tests.support.fake_llm_server import FakeLLMServer
from tests.support.tiny_whisper import tiny_whisper_fixture  # noqa: F401

SAMPLES = SHARED_DATA / "thorsten-voice-de-samples"
pytestmark = pytest.mark.slow
needs_recordings = pytest.mark.skipif(not SAMPLES.is_dir(),
                                      reason=f"Sprachaufnahmen fehlen: {SAMPLES}")
DOCS = {"reisepass.md": "# Reisepass\n\nEin Reisepass kostet 70,00 Euro.\n"}
BOT = "sprach-bot"
HARD = ("Der Antragsteller hat die Gebühr innerhalb von vierzehn Tagen nach Zugang des "
        "Bescheides zu entrichten, sofern keine Einzugsermächtigung erteilt wurde.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def launched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Any], Client]]:
    """Launch a demo's Blocks on a free loopback port; a gradio_client Client on it."""
    started: list[Any] = []

    def start(demo: Any) -> Client:
        from apps.demos import launch

        launch(demo, "127.0.0.1", free_port(), block=False)
        started.append(demo)
        downloads = tmp_path_factory.mktemp("downloads")
        return Client(demo.local_url, verbose=False, download_files=str(downloads))

    yield start
    for demo in started:
        demo.close()


@pytest.fixture
def speech_settings(make_settings: Callable[..., Settings], tiny_whisper: Path) -> Settings:
    return make_settings(speech_model=str(tiny_whisper), speech_beam_size=1,
                         speech_temperature_fallback=False)


def test_plain_language_offline_is_labelled_and_reduces_the_findings(
        make_settings: Callable[..., Settings], launched: Callable[[Any], Client]) -> None:
    client = launched(plain_language_demo.build_app(make_settings()))

    status, text, before, after, counts, scores, rounds = client.predict(
        HARD, "einfach", True, 3, api_name="/uebertragen")

    assert "regelbasiert, ohne Sprachmodell" in status
    assert "entrichten" not in text and "14 Tagen" in text
    assert len(check(text, "einfach").findings) < len(check(HARD, "einfach").findings)
    # Both texts come back split into highlighted pieces that put the text together again.
    assert "".join(piece["token"] for piece in before) == HARD
    assert any(piece["class_or_confidence"] == "Amtsdeutsch" for piece in before)
    assert "".join(piece["token"] for piece in after) == text
    rows = {row[0]: row[1:] for row in counts["data"]}
    assert rows["Amtsdeutsch"][0] > rows["Amtsdeutsch"][1]
    assert [row[0] for row in scores["data"]][:3] == [
        "Flesch-Lesbarkeit (Amstad), höher = leichter",
        "Wiener Sachtextformel, niedriger = leichter", "LIX, niedriger = leichter"]
    assert "keine Runden mit dem Sprachmodell" in rounds


def test_plain_language_with_the_model_runs_the_check_and_revise_loop(
        make_settings: Callable[..., Settings], fake_llm: FakeLLMServer,
        launched: Callable[[Any], Client]) -> None:
    fake_llm.responder = lambda messages, model: "Sie müssen die Gebühr in 14 Tagen bezahlen."
    settings = make_settings(ollama_host=fake_llm.url, ollama_model=fake_llm.models[0])
    client = launched(plain_language_demo.build_app(settings))

    status, text, *_rest, rounds = client.predict(HARD, "leicht", True, 2,
                                                  api_name="/uebertragen")

    assert "Sprachmodell mit Regelprüfung" in status
    assert text == "Sie müssen die Gebühr in 14 Tagen bezahlen."
    assert "Runde 1" in rounds
    assert fake_llm.requests_to("/api/chat", "POST")


def test_plain_language_reads_an_upload_and_names_bad_input(
        make_settings: Callable[..., Settings], launched: Callable[[Any], Client],
        tmp_path: Path) -> None:
    client = launched(plain_language_demo.build_app(make_settings()))
    letter = tmp_path / "bescheid.txt"
    letter.write_bytes(HARD.encode("cp1252"))
    assert client.predict(handle_file(str(letter)), api_name="/dokument_lesen") == HARD

    with pytest.raises(AppError, match="leer"):
        client.predict("   ", "leicht", api_name="/pruefen")
    broken = tmp_path / "kaputt.pdf"
    broken.write_bytes(b"%PDF-1.7 nicht wirklich")
    with pytest.raises(AppError, match="kaputt.pdf"):
        client.predict(handle_file(str(broken)), api_name="/dokument_lesen")


@needs_recordings
def test_a_spoken_question_is_transcribed_and_answered_by_the_bot(
        speech_settings: Settings, corpus: Path, launched: Callable[[Any], Client],
        tmp_path: Path) -> None:
    engine = Engine(speech_settings)
    bot_on_corpus(engine, corpus, BOT)
    client = launched(voice_demo.build_app(speech_settings))
    recording = tmp_path / "frage.wav"
    shutil.copy(SAMPLES / "sample01-gt.wav", recording)

    question, note, answer = client.predict(handle_file(str(recording)), BOT, "de",
                                            api_name="/frage")

    # The tiny model's words are gibberish, but they went all the way: transcript, note with
    # the recording's length (sample01 is 3.0 s long) and a logged answer of the bot.
    assert question.strip()
    assert "Erkannt: Deutsch" in note and "Echtzeitfaktor" in note
    assert "_" in answer  # the answer's mode line
    from pipelines.store.models import Message
    with engine.session() as session:
        [logged] = session.query(Message).all()
        assert logged.question == question and logged.conversation.channel == "voice"


@needs_recordings
def test_voice_input_names_a_broken_recording_and_a_missing_model(
        speech_settings: Settings, make_settings: Callable[..., Settings], corpus: Path,
        launched: Callable[[Any], Client], tmp_path: Path) -> None:
    bot_on_corpus(Engine(speech_settings), corpus, BOT)
    client = launched(voice_demo.build_app(speech_settings))
    broken = tmp_path / "frage.mp3"
    broken.write_bytes(b"ID3" + bytes(200))
    with pytest.raises(AppError, match="frage.mp3"):
        client.predict(handle_file(str(broken)), BOT, "", api_name="/frage")

    missing = make_settings(speech_model=str(tmp_path / "gibt-es-nicht"))
    client = launched(voice_demo.build_app(missing))
    recording = tmp_path / "frage.wav"
    shutil.copy(SAMPLES / "sample02-gt.wav", recording)
    with pytest.raises(AppError, match="CHATWERKSTATT_SPEECH_MODEL"):
        client.predict(handle_file(str(recording)), BOT, "", api_name="/frage")


@needs_recordings
def test_minutes_come_as_docx_and_markdown(speech_settings: Settings,
                                           launched: Callable[[Any], Client],
                                           tmp_path: Path) -> None:
    client = launched(minutes_demo.build_app(speech_settings))
    recording = tmp_path / "sitzung.wav"
    shutil.copy(SAMPLES / "sample03-gt.wav", recording)

    status, markdown, turns, files = client.predict(
        handle_file(str(recording)), "Bauausschuss", "24.11.2026", False,
        api_name="/protokoll")

    assert "Automatische Auszüge ohne Sprachmodell" in status
    assert "keine Erkennung der sprechenden Personen" in status
    assert markdown.startswith("# Protokoll: Bauausschuss") and "24.11.2026" in markdown
    assert turns["headers"] == ["Nr.", "Beginn", "Ende", "Beitrag"] and turns["data"]
    names = sorted(Path(f).name for f in files)
    assert [Path(n).suffix for n in names] == [".docx", ".md"]
    [docx_file] = [Path(f) for f in files if f.endswith(".docx")]
    document = docx.Document(io.BytesIO(docx_file.read_bytes()))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == ["Anwesende", "Tagesordnungspunkte", "Beschlüsse", "Aufgaben",
                        "Zusammenfassung", "Anhang: Abschrift"]
    assert "Bauausschuss" in document.paragraphs[0].text

    with pytest.raises(AppError, match="kein Datum"):
        client.predict(handle_file(str(recording)), "Bauausschuss", "morgen", False,
                       api_name="/protokoll")
