"""Minutes by the language model against the stand-in Ollama server (real HTTP on 127.0.0.1),
the fallbacks when its answer is unusable or it is down, long transcripts in parts, the Word
export read back with python-docx, and one recording end to end through the tiny Whisper."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from pipelines.llm.providers import get_provider
from pipelines.minutes import (
    AgendaItem,
    Decision,
    Minutes,
    Task,
    make_minutes,
    minutes_docx,
    minutes_markdown,
)
from pipelines.settings import Settings
from pipelines.speech import Segment, Transcript, transcribe_file
from tests.conftest import SHARED_DATA
from tests.support.fake_llm_server import FakeLLMServer, message_text
from tests.support.tiny_whisper import tiny_whisper_fixture  # noqa: F401
from tests.unit.test_minutes_rules import MEETING

LLM_MINUTES = {
    "anwesende": ["Frau Schulz", "Herr Becker", "Bürgermeisterin Wagner", "Herr Yilmaz",
                  "Frau Dr. Klein"],
    "tagesordnungspunkte": [
        {"nummer": "1", "titel": "Sanierung der Turnhalle",
         "zusammenfassung": "Die Sanierung kostet rund 1,2 Millionen Euro und beginnt in den "
                            "Sommerferien."},
        {"nummer": "2", "titel": "Radweg Hauptstraße",
         "zusammenfassung": "Der Radweg ist beschädigt und wird ausgebessert."},
        {"nummer": "3", "titel": "Verschiedenes", "zusammenfassung": ""},
    ],
    "beschluesse": [
        {"text": "Die Turnhalle wird saniert.", "abstimmung": "einstimmig", "top": "1"},
        {"text": "Der Radweg wird ausgebessert.", "abstimmung": "7 Ja, 2 Nein, 1 Enthaltung",
         "top": "2"},
    ],
    "aufgaben": [
        {"aufgabe": "Ausschreibung vorlegen", "verantwortlich": "Frau Schulz",
         "frist": "15. März"},
        {"aufgabe": "Abstimmung mit dem Bauhof", "verantwortlich": "Herr Becker",
         "frist": "Ende April"},
        {"aufgabe": "Anwohner informieren", "verantwortlich": "Bauamt",
         "frist": "nächste Sitzung"},
    ],
    "zusammenfassung": "Der Bauausschuss hat die Sanierung der Turnhalle und die Ausbesserung "
                       "des Radwegs beschlossen.",
}


def transcript() -> Transcript:
    segments = [Segment(start, end, text) for start, end, text in MEETING]
    return Transcript(text=" ".join(s.text for s in segments), language="de",
                      language_probability=0.98, duration=152.0, segments=segments,
                      name="bauausschuss.m4a", model="small")


@pytest.fixture
def llm_settings(make_settings: Callable[..., Settings],
                 fake_llm: FakeLLMServer) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        return make_settings(ollama_host=fake_llm.url, ollama_model=fake_llm.models[0],
                             **overrides)

    return factory


def user_messages(server: FakeLLMServer) -> list[str]:
    return [message_text(m) for r in server.requests_to("/api/chat", "POST")
            for m in r.body["messages"] if m["role"] == "user"]


# --------------------------------------------------------------------------- with the LLM


def test_llm_minutes_follow_the_template(llm_settings: Callable[..., Settings],
                                         fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = lambda messages, model: (
        "Gern, hier das Protokoll:\n```json\n" + json.dumps(LLM_MINUTES, ensure_ascii=False)
        + "\n```")
    settings = llm_settings()

    minutes = make_minutes(transcript(), "Bauausschuss", get_provider(settings),
                           settings=settings, meeting_date=date(2026, 3, 12))

    assert minutes.mode == "llm" and minutes.llm_model == fake_llm.models[0]
    assert minutes.mode_label == f"Protokollentwurf vom Sprachmodell ({fake_llm.models[0]})"
    assert minutes.attendees == LLM_MINUTES["anwesende"]
    assert [a.number for a in minutes.agenda] == ["1", "2", "3"]
    assert minutes.decisions[1] == Decision("Der Radweg wird ausgebessert.",
                                            "7 Ja, 2 Nein, 1 Enthaltung", "2")
    assert minutes.tasks[0] == Task("Ausschreibung vorlegen", "Frau Schulz", "15. März")
    assert minutes.summary == [LLM_MINUTES["zusammenfassung"]]
    assert len(minutes.turns) == len(MEETING) - 2  # Beiträge from pauses, not from the LLM
    # What the model was given: the prompt files, the title, the transcript with timestamps.
    request, = fake_llm.requests_to("/api/chat", "POST")
    system = message_text(request.body["messages"][0])
    assert request.body["messages"][0]["role"] == "system"
    assert "Ergebnisprotokoll" in system and '"aufgaben"' in system
    user, = user_messages(fake_llm)
    assert user.startswith("Sitzung: Bauausschuss")
    assert "[00:00:22] Beitrag 3: Wir kommen zu TOP 1, Sanierung der Turnhalle" in user
    assert "Teil 1 von" not in user


def test_unparseable_answer_falls_back_to_rules(llm_settings: Callable[..., Settings],
                                                fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = lambda messages, model: (
        "Anwesend waren Frau Schulz und Herr Becker. Es wurde viel besprochen.")
    settings = llm_settings()

    minutes = make_minutes(transcript(), "Bauausschuss", get_provider(settings),
                           settings=settings)

    assert minutes.mode == "extractive"
    assert any("ließ sich nicht als Protokoll auswerten" in n for n in minutes.notes)
    assert minutes.llm_model == "" and minutes.llm_raw == ""
    # The rule-based extraction of the same transcript, not the model's prose.
    assert minutes.attendees[:2] == ["Frau Schulz", "Herr Becker"] and len(minutes.attendees) == 5
    assert [(t.owner, t.due) for t in minutes.tasks][0] == ("Frau Schulz", "15. März")
    assert "Automatische Auszüge ohne Sprachmodell" in minutes_markdown(minutes)


def test_server_error_falls_back_with_the_reason(llm_settings: Callable[..., Settings],
                                                 fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(fail_status=500, fail_message="model runner crashed")
    settings = llm_settings()

    minutes = make_minutes(transcript(), "Bauausschuss", get_provider(settings),
                           settings=settings)

    assert minutes.mode == "extractive"
    assert any(n.startswith("Das Sprachmodell ist ausgefallen") for n in minutes.notes)
    assert len(minutes.decisions) == 2


def test_unreachable_llm_is_not_waited_for(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()  # Ollama on a closed port

    minutes = make_minutes(transcript(), "Bauausschuss", get_provider(settings),
                           settings=settings)

    assert minutes.mode == "extractive"
    assert any("nicht erreichbar" in n for n in minutes.notes)
    assert minutes.seconds < 3


def test_long_transcript_goes_in_parts_and_is_merged(llm_settings: Callable[..., Settings],
                                                     fake_llm: FakeLLMServer) -> None:
    def per_part(messages: list[dict[str, Any]], model: str) -> str:
        user = message_text(messages[-1])
        part = user.split("Dies ist Teil ", 1)[1].split(" ", 1)[0]
        return json.dumps({
            "anwesende": ["Frau Schulz", f"Gast {part}"],
            "tagesordnungspunkte": [{"nummer": "1", "titel": "Turnhalle",
                                     "zusammenfassung": f"Teil {part}."}],
            "beschluesse": [{"text": f"Beschluss aus Teil {part}"}],
            "aufgaben": [],
            "zusammenfassung": f"Zusammenfassung {part}.",
        }, ensure_ascii=False)

    fake_llm.responder = per_part
    settings = llm_settings(llm_context_window=1024)  # the smallest: 2,000 characters a part
    long_meeting = [Segment(round_ * 200 + start, round_ * 200 + end, text)
                    for round_ in range(3) for start, end, text in MEETING]

    minutes = make_minutes(long_meeting, "Lange Sitzung", get_provider(settings),
                           settings=settings)

    users = user_messages(fake_llm)
    parts = len(users)
    assert parts >= 3 and all(f"von {parts} der Abschrift" in u for u in users)
    assert all(len(u) < 2000 + 600 for u in users)  # transcript part plus the frame
    # Every Beitrag went to the model exactly once, in order.
    sent = "\n".join(users)
    assert sent.count("Beitrag ") == len(minutes.turns)
    assert minutes.mode == "llm"
    assert minutes.attendees == ["Frau Schulz"] + [f"Gast {i}" for i in range(1, parts + 1)]
    top, = minutes.agenda  # TOP 1 ran on across parts: one item, summaries joined
    assert top.summary == " ".join(f"Teil {i}." for i in range(1, parts + 1))
    assert len(minutes.decisions) == parts


# --------------------------------------------------------------------------- export


def docx_of(minutes: Minutes) -> Any:
    data = minutes_docx(minutes)
    assert data[:2] == b"PK"
    return Document(io.BytesIO(data))


def headings(document: Any) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in document.paragraphs
            if p.style.name.startswith(("Heading", "Title"))]


def test_docx_of_llm_minutes(llm_settings: Callable[..., Settings],
                             fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = lambda messages, model: json.dumps(LLM_MINUTES, ensure_ascii=False)
    settings = llm_settings()
    minutes = make_minutes(transcript(), "Bauausschuss", get_provider(settings),
                           settings=settings, meeting_date=date(2026, 3, 12))

    document = docx_of(minutes)

    assert document.core_properties.title == "Protokoll: Bauausschuss"
    assert headings(document) == [
        ("Title", "Protokoll: Bauausschuss"),
        ("Heading 1", "Anwesende"),
        ("Heading 1", "Tagesordnungspunkte"),
        ("Heading 2", "TOP 1: Sanierung der Turnhalle"),
        ("Heading 2", "TOP 2: Radweg Hauptstraße"),
        ("Heading 2", "TOP 3: Verschiedenes"),
        ("Heading 1", "Beschlüsse"),
        ("Heading 1", "Aufgaben"),
        ("Heading 1", "Zusammenfassung"),
        ("Heading 1", "Anhang: Abschrift"),
    ]
    metadata, tasks = document.tables
    meta = {row.cells[0].text: row.cells[1].text for row in metadata.rows}
    assert meta["Datum"] == "12.03.2026" and meta["Aufnahme"] == "bauausschuss.m4a"
    assert meta["Erstellt"].startswith("Protokollentwurf vom Sprachmodell")
    assert meta["Dauer der Aufnahme"] == "00:02:32"
    rows = [[cell.text for cell in row.cells] for row in tasks.rows]
    assert rows[0] == ["Aufgabe", "verantwortlich", "Frist"]
    assert rows[1:] == [["Ausschreibung vorlegen", "Frau Schulz", "15. März"],
                        ["Abstimmung mit dem Bauhof", "Herr Becker", "Ende April"],
                        ["Anwohner informieren", "Bauamt", "nächste Sitzung"]]
    texts = [p.text for p in document.paragraphs]
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    assert bullets == LLM_MINUTES["anwesende"]
    assert "Die Turnhalle wird saniert. (Abstimmung: einstimmig; TOP 1)" in texts
    appendix = texts[texts.index("Anhang: Abschrift") + 1:]
    assert appendix[0].startswith("[00:00:00] Beitrag 1: Guten Abend")
    assert len(appendix) == len(minutes.turns)


def test_docx_without_llm_and_with_empty_sections(make_settings: Callable[..., Settings]
                                                  ) -> None:
    minutes = make_minutes([Segment(0.0, 4.0, "Heute ist schönes Wetter in der Stadt.")],
                           "Kurz", None, settings=make_settings())

    document = docx_of(minutes)

    texts = [p.text for p in document.paragraphs]
    assert texts.count("Keine erkannt.") == 4  # Anwesende, TOPs, Beschlüsse, Aufgaben
    assert len(document.tables) == 1  # no task table without tasks
    meta = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert meta["Erstellt"].startswith("Automatische Auszüge ohne Sprachmodell")
    assert any("keine Erkennung der sprechenden Personen" in t for t in texts)


def test_markdown_of_llm_minutes(llm_settings: Callable[..., Settings],
                                 fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = lambda messages, model: json.dumps(LLM_MINUTES, ensure_ascii=False)
    settings = llm_settings()
    minutes = make_minutes(transcript(), "Bauausschuss", get_provider(settings),
                           settings=settings)

    text = minutes_markdown(minutes)

    assert "### TOP 2: Radweg Hauptstraße\n\nDer Radweg ist beschädigt" in text
    assert "| Anwohner informieren | Bauamt | nächste Sitzung |" in text
    assert "- **Sprache (erkannt):** de" in text
    assert text.count("**[") == len(minutes.turns)


def test_agenda_item_without_time_has_no_empty_brackets() -> None:
    minutes = Minutes("T", date(2026, 1, 2), "llm", [], [AgendaItem("1", "Haushalt")], [],
                      [], [], [])

    assert "### TOP 1: Haushalt\n" in minutes_markdown(minutes)


# --------------------------------------------------------------------------- end to end


def test_recording_to_minutes_with_the_tiny_model(make_settings: Callable[..., Settings],
                                                  tiny_whisper: Path) -> None:
    recording = SHARED_DATA / "thorsten-voice-de-samples" / "sample03-gt.wav"
    if not recording.is_file():
        pytest.skip(f"Sprachaufnahme fehlt: {recording}")
    settings = make_settings(speech_model=str(tiny_whisper), speech_beam_size=1,
                             speech_temperature_fallback=False)

    spoken = transcribe_file(recording, settings,
                             max_seconds=settings.speech_max_recording_seconds)
    minutes = make_minutes(spoken, "Probe", None, settings=settings)

    assert minutes.turns and minutes.turns[0].start >= 0
    assert minutes.source_name == "sample03-gt.wav" and minutes.duration == spoken.duration
    assert minutes.language == spoken.language
    assert headings(docx_of(minutes))[-1] == ("Heading 1", "Anhang: Abschrift")
