"""Leichte und Einfache Sprache: `python -m apps.plain_language_demo [--port 8503]`.

Paste a text or upload a document, choose Leichte or Einfache Sprache: with a language model
the text is drafted, checked by the rule checker and revised (at most a few rounds); without
one a rule-based simplification, labelled as such. Both texts are shown with the rule
checker's findings highlighted, and the readability before and after.
"""

from __future__ import annotations

import sys
from typing import Any

import pandas as pd

from apps.demos import (
    error,
    gr,  # the module sets Gradio's offline switches first
    llm_if_wanted,
    serve,
)
from pipelines.plain import (
    RULE_NAMES,
    TARGET_NAMES,
    UPLOAD_EXTENSIONS,
    CheckResult,
    PlainLanguageError,
    Readability,
    check,
    highlight_segments,
    read_upload,
    readability,
    simplify,
)
from pipelines.settings import Settings, get_settings

TARGETS = [(name, key) for key, name in TARGET_NAMES.items()]
EXAMPLE = ("Der Antragsteller hat die Gebühr gemäß der Gebührensatzung innerhalb von vierzehn "
           "Tagen nach Zugang des Bescheides zu entrichten, wobei eine Überweisung unter Angabe "
           "des Kassenzeichens zu erfolgen hat, sofern keine Einzugsermächtigung erteilt wurde.")


def readability_table(before: Readability | None, after: Readability | None) -> pd.DataFrame:
    """The three formulas (and what they mean) side by side."""
    rows = []
    for label, key, reading in (("Flesch-Lesbarkeit (Amstad), höher = leichter",
                                 "flesch_amstad", "flesch_label"),
                                ("Wiener Sachtextformel, niedriger = leichter",
                                 "wiener_sachtextformel", "wiener_label"),
                                ("LIX, niedriger = leichter", "lix", "lix_label")):
        row: dict[str, Any] = {"Maß": label}
        for column, value in (("vorher", before), ("nachher", after)):
            row[column] = None if value is None else round(getattr(value, key), 1)
            row[f"Einordnung {column}"] = "" if value is None else getattr(value, reading)
        rows.append(row)
    for label, key in (("Sätze", "sentences"), ("Wörter", "words"),
                       ("Wörter je Satz", "avg_sentence_length")):
        rows.append({"Maß": label,
                     "vorher": None if before is None else round(getattr(before, key), 1),
                     "nachher": None if after is None else round(getattr(after, key), 1)})
    return pd.DataFrame(rows)


def findings_table(before: CheckResult, after: CheckResult | None) -> pd.DataFrame:
    return pd.DataFrame([{"Regel": RULE_NAMES[rule], "vorher": before.counts.get(rule, 0),
                          "nachher": None if after is None else after.counts.get(rule, 0)}
                         for rule in RULE_NAMES])


def highlighted(result: CheckResult) -> list[tuple[str, str | None]]:
    return highlight_segments(result.text, result.findings)


def build_app(settings: Settings | None = None) -> gr.Blocks:
    settings = settings or get_settings()

    def load_document(path: str | None) -> str:
        if not path:
            return ""
        name = path.rsplit("/", 1)[-1]
        try:
            with open(path, "rb") as handle:
                return read_upload(name, handle.read())
        except PlainLanguageError as exc:
            raise error(str(exc)) from exc

    def only_check(text: str, target: str) -> tuple[Any, ...]:
        try:
            found = check(text, target)  # type: ignore[arg-type]
            scores = readability(text)
        except PlainLanguageError as exc:
            raise error(str(exc)) from exc
        status = (f"Regelprüfung für {TARGET_NAMES[target]}: {len(found.findings)} Befunde, "
                  f"davon {len(found.severe)} schwer.")
        return (status, highlighted(found), findings_table(found, None),
                readability_table(scores, None))

    def translate(text: str, target: str, use_llm: bool, rounds: float,
                  progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        progress(0, desc="Sprachmodell wird gesucht …")
        provider = llm_if_wanted(settings, use_llm)
        total = int(rounds)

        def on_round(round_: Any) -> None:
            progress(min(round_.number / total, 1.0),
                     desc=f"Runde {round_.number}: {round_.severe} schwere Befunde")

        try:
            result = simplify(text, target, provider, max_rounds=total,  # type: ignore[arg-type]
                              on_round=on_round)
        except PlainLanguageError as exc:
            raise error(str(exc)) from exc
        before = CheckResult(result.source, result.target, result.source_findings)
        after = CheckResult(result.text, result.target, result.findings)
        mode = ("Sprachmodell mit Regelprüfung" if result.mode == "llm"
                else "regelbasiert, ohne Sprachmodell")
        rounds_text = "\n".join(
            f"- Runde {r.number} ({r.kind}): {r.severe} schwere Befunde, {r.seconds:.1f} s"
            for r in result.rounds) or "- keine Runden mit dem Sprachmodell"
        return (f"**Ergebnis ({mode}).** {result.notice}", result.text,
                highlighted(before), highlighted(after),
                findings_table(before, after),
                readability_table(result.readability_before, result.readability_after),
                rounds_text)

    with gr.Blocks(title="Leichte und Einfache Sprache – Chatwerkstatt",
                   analytics_enabled=False) as demo:
        gr.Markdown("# Texte in Leichte oder Einfache Sprache übertragen\n"
                    "Text einfügen oder Dokument hochladen, Ziel wählen, „Übertragen“. "
                    "Die Regelprüfung markiert, was schwer zu lesen ist – im Ausgangstext und "
                    "im Ergebnis. Ergebnisse immer von Menschen prüfen lassen, am besten von "
                    "der Zielgruppe.", elem_classes=["cw-notice"])
        with gr.Row():
            with gr.Column():
                source = gr.Textbox(label="Ausgangstext", lines=10, max_length=30000,
                                    value=EXAMPLE, elem_id="quelle")
                upload = gr.File(label="… oder ein Dokument hochladen ("
                                 + ", ".join(e.lstrip(".").upper() for e in UPLOAD_EXTENSIONS)
                                 + ")", file_types=list(UPLOAD_EXTENSIONS), type="filepath")
                target = gr.Radio(TARGETS, value="leicht", label="Ziel")
                use_llm = gr.Checkbox(True, label="Sprachmodell verwenden, wenn erreichbar")
                rounds = gr.Slider(1, 5, value=3, step=1,
                                   label="Höchstens so viele Runden: Entwurf → Prüfung → "
                                         "Überarbeitung")
                with gr.Row():
                    go = gr.Button("Übertragen", variant="primary")
                    inspect = gr.Button("Nur prüfen")
            with gr.Column():
                status = gr.Markdown(elem_classes=["cw-status"])
                output = gr.Textbox(label="Ergebnis", lines=10, buttons=["copy"],
                                    interactive=False)
                rounds_md = gr.Markdown(label="Runden")
        with gr.Row():
            marked_before = gr.HighlightedText(label="Ausgangstext mit Befunden",
                                               combine_adjacent=False, show_legend=True)
            marked_after = gr.HighlightedText(label="Ergebnis mit Befunden",
                                              combine_adjacent=False, show_legend=True)
        with gr.Row():
            counts = gr.Dataframe(label="Befunde je Regel", interactive=False)
            scores = gr.Dataframe(label="Lesbarkeit", interactive=False)

        upload.change(load_document, upload, source, api_name="dokument_lesen")
        go.click(translate, [source, target, use_llm, rounds],
                 [status, output, marked_before, marked_after, counts, scores, rounds_md],
                 api_name="uebertragen")
        inspect.click(only_check, [source, target], [status, marked_before, counts, scores],
                      api_name="pruefen")
    return demo


def main(argv: list[str] | None = None) -> int:
    return serve(build_app, "Leichte und Einfache Sprache", 8503, argv)


if __name__ == "__main__":
    sys.exit(main())
