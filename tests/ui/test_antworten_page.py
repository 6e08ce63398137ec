"""The Geprüfte Antworten page through AppTest on the real engine: create, edit, switch off and
on, delete; import from CSV (also cp1252) and XLSX with every refused row named; broken and
unsupported files; the test box against a bot's threshold; who may open the page."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from openpyxl import Workbook
from streamlit.testing.v1 import AppTest

from pipelines import curated
from pipelines.accounts import UserRepository
from pipelines.bots import BotConfig, CuratedSettings
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT
from pipelines.workspace import create_bot
from tests.ui.conftest import sign_in

APP = str(REPO_ROOT / "apps" / "workspace.py")
ANTWORTEN = str(REPO_ROOT / "pages" / "antworten.py")
WORKSPACE = "standard"
PASSWORD = "sehr-geheim-123"
THRESHOLD = CuratedSettings().threshold
REWORDED = "Wie viel kostet ein neuer Personalausweis?"
SHOWN_THRESHOLD = f"Schwelle {THRESHOLD:.2f}".replace(".", ",")


def open_page() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page(ANTWORTEN).run()
    assert not app.exception, app.exception
    return app


def form_field(app: AppTest, form: str, field: str) -> object:
    """A widget of the new-answer form ("new") or the edit form ("edit") by its field name."""
    widgets = [*app.text_area, *app.text_input, *app.selectbox]
    return next(w for w in widgets
                if w.key and w.key.startswith(f"curated-{form}-") and w.key.endswith(f"-{field}"))


def fill(app: AppTest, form: str, questions: str | None = None, answer: str | None = None,
         source: str | None = None) -> None:
    for field, value in (("questions", questions), ("answer", answer), ("source", source)):
        if value is not None:
            form_field(app, form, field).set_value(value)  # type: ignore[attr-defined]


def click(app: AppTest, label: str) -> AppTest:
    [b for b in app.button if b.label == label][0].click().run()
    assert not app.exception, app.exception
    return app


def texts(elements: object) -> str:
    return " ".join(e.value for e in elements)  # type: ignore[attr-defined]


def stored(engine: Engine) -> list[curated.CuratedInfo]:
    return curated.list_curated(engine, WORKSPACE)


def upload(app: AppTest, name: str, data: bytes) -> AppTest:
    app.file_uploader[0].set_value([(name, data, "application/octet-stream")]).run()
    return click(app, "Importieren")


def test_an_answer_is_created_edited_switched_off_and_deleted(engine: Engine) -> None:
    app = open_page()
    assert app.title[0].value == "Geprüfte Antworten"
    fill(app, "new", questions="Was kostet ein Personalausweis?\n\nPreis Perso",
         answer="Ein Personalausweis kostet 37 Euro.", source="https://musterstadt.example/pa")
    click(app, "Antwort anlegen")

    [info] = stored(engine)
    assert info.questions == ["Was kostet ein Personalausweis?", "Preis Perso"]
    assert (info.answer, info.source, info.bot_slug, info.enabled, info.created_by) == (
        "Ein Personalausweis kostet 37 Euro.", "https://musterstadt.example/pa", None, True,
        "Einzelplatz")
    assert f"Geprüfte Antwort Nr. {info.id} ist angelegt." in texts(app.success)
    row = app.dataframe[0].value.iloc[0]
    assert (row["Frage"], row["Formulierungen"], row["Bot"], row["aktiv"]) == (
        "Was kostet ein Personalausweis?", 2, "alle Bots", "✓")
    # The new answer is open for editing, and the empty new form is ready for the next one.
    assert form_field(app, "edit", "answer").value == info.answer  # type: ignore[attr-defined]
    assert form_field(app, "new", "answer").value == ""  # type: ignore[attr-defined]

    fill(app, "edit", questions="Was kostet ein Personalausweis?\nPreis Perso\n"
         "Gebühr für den Ausweis",
         answer="Ein Personalausweis kostet 37 Euro, unter 24 Jahren 22,80 Euro.")
    click(app, "Änderungen speichern")
    [info] = stored(engine)
    assert info.questions[-1] == "Gebühr für den Ausweis"
    assert info.answer.endswith("22,80 Euro.")
    assert f"Nr. {info.id} ist gespeichert" in texts(app.success)
    assert curated.match(engine, WORKSPACE, "irgendein-bot", REWORDED, THRESHOLD) is not None

    [toggle] = [t for t in app.toggle if t.label == "aktiv"]
    toggle.set_value(False).run()
    assert not app.exception, app.exception
    assert not stored(engine)[0].enabled
    assert "ist abgeschaltet" in texts(app.success)
    assert app.dataframe[0].value.iloc[0]["aktiv"] == "–"
    assert curated.match(engine, WORKSPACE, "irgendein-bot", REWORDED, THRESHOLD) is None

    [toggle] = [t for t in app.toggle if t.label == "aktiv"]
    toggle.set_value(True).run()
    assert stored(engine)[0].enabled
    assert curated.match(engine, WORKSPACE, "irgendein-bot", REWORDED, THRESHOLD) is not None

    # Deleting needs the confirmation first.
    assert app.button(key="curated-delete").disabled
    [c for c in app.checkbox if c.label.startswith("Ja, Antwort Nr.")][0].check().run()
    app.button(key="curated-delete").click().run()
    assert not app.exception, app.exception
    assert stored(engine) == []
    assert f"Geprüfte Antwort Nr. {info.id} ist gelöscht." in texts(app.success)


def test_an_empty_answer_is_refused_in_german(engine: Engine) -> None:
    app = open_page()
    fill(app, "new", questions="Wo ist das Fundbüro?", answer="   ")
    click(app, "Antwort anlegen")
    assert "Die Antwort ist leer." in texts(app.error)
    assert stored(engine) == []
    # What was typed stays in the form, to be completed.
    assert form_field(app, "new", "questions").value == "Wo ist das Fundbüro?"  # type: ignore[attr-defined]


def test_csv_import_names_every_refused_row_and_reads_cp1252(engine: Engine) -> None:
    table = ("Frage;Antwort;Quelle\n"
             "Wann hat das Bürgerbüro geöffnet?|Öffnungszeiten Bürgerbüro;"
             "Montag bis Freitag von 8 bis 16 Uhr.;https://musterstadt.example/bb\n"
             "\n"  # an empty row still counts: "Zeile N" is the row a spreadsheet shows
             "Wo melde ich meinen Hund an?;;\n")
    app = upload(open_page(), "fragen.csv", table.encode("utf-8"))

    assert "fragen.csv: 1 angelegt, 0 übersprungen (schon vorhanden), 1 Fehler." in texts(
        app.warning)
    assert "fragen.csv, Zeile 4: Die Antwort ist leer." in texts(app.error)
    [info] = stored(engine)
    assert info.questions == ["Wann hat das Bürgerbüro geöffnet?", "Öffnungszeiten Bürgerbüro"]
    assert info.source == "https://musterstadt.example/bb"

    # The same file again: the good row is there already, the bad one is named again.
    app = upload(app, "fragen.csv", table.encode("utf-8"))
    assert "1 übersprungen" in texts(app.warning)
    assert "fragen.csv, Zeile 4" in texts(app.error)
    assert len(stored(engine)) == 1

    # Excel on German Windows writes CSV in cp1252.
    latin = ("Frage;Antwort\n"
             "Wie hoch ist die Hundesteuer?;Die Hundesteuer beträgt 96 € im Jahr für den "
             "ersten Hund.\n").encode("cp1252")
    app = upload(app, "hundesteuer.csv", latin)
    assert "hundesteuer.csv: 1 angelegt, 0 übersprungen (schon vorhanden), 0 Fehler." in texts(
        app.success)
    assert not app.error
    answers = {a.questions[0]: a.answer for a in stored(engine)}
    assert answers["Wie hoch ist die Hundesteuer?"] == (
        "Die Hundesteuer beträgt 96 € im Jahr für den ersten Hund.")


def xlsx(rows: list[list[str | None]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_import_and_files_that_cannot_be_read(engine: Engine) -> None:
    data = xlsx([
        ["Frage", "Antwort", "Quelle"],
        ["Wann wird die Biotonne geleert?\nLeerung Biotonne",
         "Die Biotonne wird alle zwei Wochen geleert, siehe Abfallkalender.", None],
        ["Was kostet Sperrmüll?", "Zwei Abholungen im Jahr sind kostenlos.",
         "Abfallsatzung § 7"],
        [None, None, None],
        ["Wo ist der Wertstoffhof?", None, None],
    ])
    app = upload(open_page(), "abfall.xlsx", data)
    assert "abfall.xlsx: 2 angelegt" in texts(app.warning)
    assert "abfall.xlsx, Zeile 5: Die Antwort ist leer." in texts(app.error)
    by_question = {a.questions[0]: a for a in stored(engine)}
    assert by_question["Wann wird die Biotonne geleert?"].questions == [
        "Wann wird die Biotonne geleert?", "Leerung Biotonne"]
    assert by_question["Was kostet Sperrmüll?"].source == "Abfallsatzung § 7"

    app = upload(app, "kaputt.xlsx", b"PK\x03\x04 keine Arbeitsmappe")
    assert ("kaputt.xlsx: Die Datei ist keine lesbare Excel-Arbeitsmappe (XLSX)."
            in texts(app.error))
    app = upload(app, "antworten.pdf", b"%PDF-1.7 ...")
    assert "antworten.pdf: Das Format „.pdf“ wird nicht unterstützt" in texts(app.error)
    app = upload(app, "leer.csv", b"Titel;Text\nA;B\n")
    assert "braucht die Spalten „Frage“ und „Antwort“" in texts(app.error)
    # Nothing already stored is lost.
    assert len(stored(engine)) == 2


def bot(engine: Engine, slug: str, threshold: float = THRESHOLD, enabled: bool = True) -> None:
    create_bot(engine, WORKSPACE, BotConfig(slug=slug, name=slug.title(), curated=CuratedSettings(
        enabled=enabled, threshold=threshold)))


def test_the_test_box_compares_with_the_bot_threshold(engine: Engine) -> None:
    bot(engine, "rathaus")
    bot(engine, "streng", threshold=0.95)
    bot(engine, "ohne", enabled=False)
    curated.save_curated(engine, WORKSPACE, ["Was kostet ein Personalausweis?"],
                         "Ein Personalausweis kostet 37 Euro.")
    curated.save_curated(engine, WORKSPACE, ["Wann wird die Biotonne geleert?"],
                         "Alle zwei Wochen.", bot_slug="rathaus")
    app = open_page()
    # The list of a bot: its own answers and those for all bots.
    app.selectbox(key="curated-bot").set_value("streng").run()
    assert list(app.dataframe[0].value["Frage"]) == ["Was kostet ein Personalausweis?"]
    app.selectbox(key="curated-bot").set_value("rathaus").run()
    assert len(app.dataframe[0].value) == 2

    app.text_input(key="curated-test-question").set_value(REWORDED).run()
    assert not app.exception, app.exception
    hit = texts(app.success)
    assert "Treffer: Antwort Nr. 1 („Was kostet ein Personalausweis?“)" in hit
    assert SHOWN_THRESHOLD in hit
    assert "Wortgleichheit" in texts(app.caption) and "Bedeutung" in texts(app.caption)
    assert "Ein Personalausweis kostet 37 Euro." in texts(app.markdown)

    # A question about something else comes close to nothing.
    app.text_input(key="curated-test-question").set_value(
        "Welche Unterlagen brauche ich für die Eheschließung?").run()
    assert "Kein Treffer" in texts(app.warning)
    assert not app.success

    # With "alle Bots" the test asks for the bot whose threshold counts: the strict one lets
    # the reworded question come close, but not through.
    app.selectbox(key="curated-bot").set_value("").run()
    app.text_input(key="curated-test-question").set_value(REWORDED).run()
    app.selectbox(key="curated-test-bot").set_value("streng").run()
    miss = texts(app.warning)
    assert "Kein Treffer: am nächsten ist Antwort Nr. 1" in miss and "Schwelle 0,95" in miss
    app.selectbox(key="curated-test-bot").set_value("ohne").run()
    assert "verwendet keine geprüften Antworten" in texts(app.warning)


def test_a_clerk_maintains_answers_an_analyst_sees_no_page(
        engine: Engine, server_address: Callable[[str], None]) -> None:
    server_address("0.0.0.0")
    with engine.session() as session:
        users = UserRepository(session)
        users.create_user("clara", PASSWORD, display_name="Clara Sachbearbeitung")
        users.grant("clara", WORKSPACE, "clerk")
        users.create_user("anna", PASSWORD)
        users.grant("anna", WORKSPACE, "analyst")

    clerk = sign_in("clara", PASSWORD)
    clerk.switch_page(ANTWORTEN).run()
    assert not clerk.exception, clerk.exception
    assert clerk.title[0].value == "Geprüfte Antworten"
    fill(clerk, "new", questions="Wo ist das Fundbüro?", answer="Im Bürgerbüro, Raum 12.")
    click(clerk, "Antwort anlegen")
    [info] = stored(engine)
    assert info.created_by == "Clara Sachbearbeitung (clara)"

    analyst = sign_in("anna", PASSWORD)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        analyst.switch_page(ANTWORTEN)
