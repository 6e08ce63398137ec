"""Protokoll aus einer Aufnahme: `python -m apps.minutes_demo [--port 8505]`.

Upload a meeting recording: a transcript with timestamps, contributions separated at pauses,
and minutes in the municipal template (Anwesende, Tagesordnungspunkte, Beschlüsse, Aufgaben
mit Verantwortlichen und Fristen) by the language model; without one the transcript and an
extractive summary. Download as DOCX and Markdown. The workspace page "Protokoll" does the
same with the same engine functions.
"""

from __future__ import annotations

import re
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from apps.demos import error, gr, llm_if_wanted, serve
from pipelines.minutes import (
    Minutes,
    minutes_docx,
    minutes_filename,
    minutes_from_recording,
    minutes_markdown,
    timestamp,
)
from pipelines.settings import Settings, get_settings
from pipelines.speech import SpeechError, model_status

AUDIO_TYPES = [".wav", ".mp3", ".ogg", ".m4a", ".webm"]


def parse_date(text: str) -> date:
    """A date as people type it (24.11.2026 or 2026-11-24); empty = today."""
    text = text.strip()
    if not text:
        return date.today()
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"„{text}“ ist kein Datum – bitte als TT.MM.JJJJ eingeben.")


def turns_table(minutes: Minutes) -> pd.DataFrame:
    return pd.DataFrame([{"Nr.": t.number, "Beginn": timestamp(t.start),
                          "Ende": timestamp(t.end), "Beitrag": t.text} for t in minutes.turns])


def write_exports(minutes: Minutes) -> list[str]:
    """The DOCX and the Markdown file in a fresh temporary folder, for download."""
    folder = Path(tempfile.mkdtemp(prefix="protokoll-"))
    docx = folder / minutes_filename(minutes, "docx")
    docx.write_bytes(minutes_docx(minutes))
    markdown = folder / minutes_filename(minutes, "md")
    markdown.write_text(minutes_markdown(minutes), encoding="utf-8")
    return [str(docx), str(markdown)]


def build_app(settings: Settings | None = None) -> gr.Blocks:
    settings = settings or get_settings()

    def status() -> str:
        ready, text = model_status(settings)
        return text if ready else f"**Spracherkennung nicht bereit.** {text}"

    def make(recording: str | None, title: str, when: str, use_llm: bool,
             progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        if not recording:
            raise error("Bitte zuerst eine Aufnahme der Sitzung hochladen.")
        try:
            meeting_date = parse_date(when)
        except ValueError as exc:
            raise error(str(exc)) from exc
        name = re.sub(r"^[0-9a-f]{16,}[-_]", "", Path(recording).name)
        progress(0.05, desc="Aufnahme wird abgeschrieben …")
        provider = llm_if_wanted(settings, use_llm)
        try:
            minutes = minutes_from_recording(Path(recording), name, title, settings, provider,
                                             meeting_date)
        except SpeechError as exc:
            raise error(str(exc)) from exc
        progress(0.95, desc="Protokoll wird geschrieben …")
        label = f"**{minutes.mode_label}.** " + " ".join(minutes.notes)
        return (label, minutes_markdown(minutes), turns_table(minutes),
                write_exports(minutes))

    with gr.Blocks(title="Protokoll aus einer Aufnahme – Chatwerkstatt",
                   analytics_enabled=False) as demo:
        gr.Markdown("# Protokoll aus einer Aufnahme\nAufnahme einer Sitzung hochladen "
                    f"({', '.join(t.lstrip('.') for t in AUDIO_TYPES)}): Abschrift mit "
                    "Zeitmarken und ein Protokoll nach kommunaler Vorlage (Anwesende, "
                    "Tagesordnungspunkte, Beschlüsse, Aufgaben). Die Beiträge werden an Pausen "
                    "getrennt – eine Sprechererkennung ist das nicht. Protokoll immer prüfen.",
                    elem_classes=["cw-notice"])
        model_line = gr.Markdown(elem_classes=["cw-status"])
        with gr.Row():
            recording = gr.File(label="Aufnahme der Sitzung", file_types=AUDIO_TYPES,
                                type="filepath")
            with gr.Column():
                title = gr.Textbox(label="Titel", value="Sitzung des Ausschusses")
                when = gr.Textbox(label="Datum der Sitzung (TT.MM.JJJJ, leer = heute)")
                use_llm = gr.Checkbox(True, label="Sprachmodell verwenden, wenn erreichbar")
                go = gr.Button("Protokoll erstellen", variant="primary")
        status_line = gr.Markdown(elem_classes=["cw-status"])
        files = gr.File(label="Herunterladen (DOCX und Markdown)", file_count="multiple",
                        interactive=False)
        with gr.Tab("Protokoll"):
            minutes_md = gr.Markdown()
        with gr.Tab("Abschrift"):
            turns = gr.Dataframe(label="Beiträge mit Zeitmarken", interactive=False,
                                 wrap=True)
        demo.load(status, None, model_line)
        go.click(make, [recording, title, when, use_llm],
                 [status_line, minutes_md, turns, files], api_name="protokoll")
    return demo


def main(argv: list[str] | None = None) -> int:
    return serve(build_app, "Protokoll aus einer Aufnahme", 8505, argv)


if __name__ == "__main__":
    sys.exit(main())
