"""Spracheingabe: `python -m apps.voice_demo [--port 8504]`.

Speak a question (microphone) or upload a recording (wav, mp3, ogg, m4a, webm; any sample
rate, stereo): faster-whisper transcribes it on the CPU (model from the settings, VAD,
language detection), the chosen bot answers with its sources. Turns are logged like any
other chat turn, with the channel "voice".
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from apps.demos import error, gr, serve
from pipelines.assistant import LANGUAGE_NAMES, Assistant, TurnResult
from pipelines.bots import BotRepository
from pipelines.engine import Engine
from pipelines.public import md_escape, safe_url, source_label
from pipelines.settings import Settings, get_settings
from pipelines.speech import SpeechError, Transcript, model_status, transcribe_file

AUDIO_FORMATS = ("wav", "mp3", "ogg", "m4a", "webm")
LANGUAGES = [("automatisch erkennen", ""), *[(name, code) for code, name in
                                              LANGUAGE_NAMES.items()]]


def answer_markdown(result: TurnResult) -> str:
    """The bot's answer, its mode and its sources (links only to plain http(s) pages)."""
    lines = [md_escape(result.answer), f"_{md_escape(result.mode_label)}_"]
    if result.notice:
        lines.append(f"_{md_escape(result.notice)}_")
    sources = []
    for citation in result.citations:
        label = md_escape(f"[{citation.number}] {source_label(citation)}")
        url = safe_url(citation.url)
        sources.append(f"- [{label}]({url})" if url else f"- {label}")
    if sources:
        lines.append("**Quellen:**\n" + "\n".join(sources))
    return "\n\n".join(lines)


def decimal(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def transcript_note(transcript: Transcript) -> str:
    language = LANGUAGE_NAMES.get(transcript.language, transcript.language)
    return (f"Erkannt: {language} ({transcript.language_probability:.0%}), Aufnahme "
            f"{decimal(transcript.duration)} s, davon Sprache "
            f"{decimal(transcript.speech_seconds)} s; Erkennung in "
            f"{decimal(transcript.total_seconds)} s (Echtzeitfaktor "
            f"{decimal(transcript.real_time_factor, 2)}).")


def build_app(settings: Settings | None = None, workspace: str | None = None) -> gr.Blocks:
    settings = settings or get_settings()
    engine = Engine(settings)
    workspace = workspace or settings.default_workspace

    def bots() -> list[tuple[str, str]]:
        with engine.session() as session:
            return [(b.name, b.slug) for b in BotRepository(session, workspace).list()]

    def status() -> str:
        ready, text = model_status(settings)
        return text if ready else f"**Spracherkennung nicht bereit.** {text}"

    def ask(audio: str | None, bot: str | None, language: str,
            progress: gr.Progress = gr.Progress()) -> tuple[str, str, str]:  # noqa: B008
        if not audio:
            raise error("Bitte zuerst eine Frage aufnehmen oder eine Aufnahme hochladen.")
        if not bot:
            raise error("Es gibt noch keinen Bot – bitte im Arbeitsbereich einen anlegen.")
        progress(0.1, desc="Sprache wird erkannt …")
        try:
            transcript = transcribe_file(Path(audio), settings, name=Path(audio).name,
                                         language=language or None)
        except SpeechError as exc:
            raise error(str(exc)) from exc
        question = transcript.text.strip()
        if not question:
            raise error(f"„{Path(audio).name}“: In der Aufnahme wurden keine Worte erkannt.")
        progress(0.6, desc="Der Bot antwortet …")
        result = Assistant(engine, bot, workspace, channel="voice").ask(
            question, language=language or None)
        return question, transcript_note(transcript), answer_markdown(result)

    with gr.Blocks(title="Spracheingabe – Chatwerkstatt", analytics_enabled=False) as demo:
        gr.Markdown("# Fragen per Sprache\nFrage ins Mikrofon sprechen oder eine Aufnahme "
                    f"hochladen ({', '.join(AUDIO_FORMATS)}). Die Spracherkennung läuft auf "
                    "diesem Server, nichts verlässt ihn.", elem_classes=["cw-notice"])
        model_line = gr.Markdown(elem_classes=["cw-status"])
        with gr.Row():
            with gr.Column():
                audio = gr.Audio(sources=["microphone", "upload"], type="filepath",
                                 label="Frage (Mikrofon oder Datei)")
                choices = bots()
                bot = gr.Dropdown(label="Bot", choices=choices, interactive=True,
                                  value=choices[0][1] if choices else None)
                language = gr.Dropdown(LANGUAGES, value="", label="Sprache der Frage")
                go = gr.Button("Frage beantworten", variant="primary")
            with gr.Column():
                question = gr.Textbox(label="Erkannte Frage", interactive=False)
                note = gr.Markdown(elem_classes=["cw-status"])
                answer = gr.Markdown(label="Antwort")

        def refresh() -> tuple[str, Any]:
            choices = bots()
            return status(), gr.Dropdown(choices=choices,
                                         value=choices[0][1] if choices else None)

        demo.load(refresh, None, [model_line, bot])
        go.click(ask, [audio, bot, language], [question, note, answer], api_name="frage")
        audio.stop_recording(ask, [audio, bot, language], [question, note, answer])
    return demo


def main(argv: list[str] | None = None) -> int:
    return serve(build_app, "Spracheingabe", 8504, argv)


if __name__ == "__main__":
    sys.exit(main())
