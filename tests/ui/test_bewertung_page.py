"""The Bewertung page through AppTest on a real ingested corpus: add an item, start a run with
progress, see its figures, compare it with a worse version, the leaderboard."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from evaluation import runs
from evaluation.testset import TestItem, add_items, create_testset, stored_items
from pipelines.bots import BotConfig, BotRepository
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT
from tests.support.corpus import ingest_corpus
from tests.ui.conftest import texts

APP = str(REPO_ROOT / "apps" / "workspace.py")
PAGE = str(REPO_ROOT / "pages" / "bewertung.py")
WS = "standard"
BOT = "bewertungs-bot"
DOCS = {
    "reisepass.md": "# Reisepass\n\nEin Reisepass kostet 70,00 Euro.\n",
    "sperrmuell.md": "# Sperrmüll\n\nSperrmüll melden Sie online über das Abfallportal an.\n",
}


def open_page(section: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=240).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    app.radio(key="ev-section").set_value(section).run()
    assert not app.exception, app.exception
    return app


def prepared(engine: Engine, tmp_path: Path) -> None:
    assert ingest_corpus(tmp_path, DOCS, BOT) == engine.settings.data_dir
    create_testset(engine, WS, "Bürgerbüro", bot_slug=BOT)
    add_items(engine, WS, "Bürgerbüro", [
        TestItem("r1", "Was kostet ein Reisepass?", "70,00 Euro", "reisepass.md", "answerable"),
        TestItem("n1", "Wann hat das Hallenbad geöffnet?", "", "", "no_answer"),
    ])


def test_an_item_is_added_in_the_page(engine: Engine, tmp_path: Path) -> None:
    prepared(engine, tmp_path)
    app = open_page("sets")
    assert "2 aktiv · 0 Entwürfe" in texts(app)

    [q for q in app.text_input if q.label == "Frage"][0].set_value("Wie melde ich Sperrmüll an?")
    [s for s in app.text_input if s.label == "Erwartete Quelle (Dateiname)"][0].set_value(
        "sperrmuell.md")
    [b for b in app.button if b.label == "Hinzufügen"][0].click().run()

    assert not app.exception, app.exception
    questions = [i["question"] for i in stored_items(engine, WS, "Bürgerbüro")]
    assert questions[-1] == "Wie melde ich Sperrmüll an?"
    assert "3 aktiv" in texts(app)


def test_a_run_started_in_the_page_is_stored_and_compared(engine: Engine,
                                                            tmp_path: Path) -> None:
    prepared(engine, tmp_path)
    app = open_page("runs")
    [b for b in app.button if b.label == "Lauf starten"][0].click().run()
    assert not app.exception, app.exception

    [first] = runs.list_runs(engine, WS)
    assert first.status == "fertig" and first.summary["items"] == 2
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Quelle gefunden (hit@5)"] == "100 %"
    assert metrics["Richtiges Verhalten je Art"] == "100 %"

    with engine.session() as session:
        repo = BotRepository(session, WS)
        data = repo.get(BOT)[0].model_dump()
        data["knowledge_bases"] = ["gibt-es-nicht"]
        repo.save(BotConfig.model_validate(data))
    runs.run_testset(engine, WS, BOT, "Bürgerbüro", label="ohne Unterlagen")

    app = open_page("compare")
    counts = {m.label: m.value for m in app.metric}
    assert counts["schlechter"] == "1" and counts["gleich"] == "1"
    assert len(app.dataframe) == 2, [list(d.value.columns) for d in app.dataframe]
    significance = app.dataframe[0].value.set_index("Maß")
    assert significance.loc["Richtiges Verhalten", "schlechter"] == 1
    assert significance.loc["Richtiges Verhalten", "Einordnung"].startswith(
        "kein belastbarer Unterschied")
    assert "Was kostet ein Reisepass?" in app.dataframe[1].value.to_string()

    app = open_page("board")
    board = app.dataframe[0].value
    assert list(board["Version"]) == [1, 2]
    assert board["Gesamtwert"].iloc[0] > board["Gesamtwert"].iloc[1]


def test_answers_are_scored_by_two_people_and_compared_blind(engine: Engine,
                                                              tmp_path: Path) -> None:
    from evaluation import human

    prepared(engine, tmp_path)
    first = runs.run_testset(engine, WS, BOT, "Bürgerbüro")
    second = runs.run_testset(engine, WS, BOT, "Bürgerbüro")
    app = open_page("human")
    app.selectbox(key="ev-human-run").set_value(first.id).run()
    for person, value in (("anna", 5), ("ben", 4)):
        app.text_input(key="ev-who").set_value(person).run()
        [s for s in app.select_slider if s.label.startswith("korrekt")][0].set_value(value)
        [b for b in app.button if b.label == "Bewertung speichern und weiter"][0].click().run()
        assert not app.exception, app.exception

    rows = human.score_rows(engine, WS, first.id)
    assert {(r.rater, r.value) for r in rows if r.dimension == "korrekt"} == \
        {("anna", 5), ("ben", 4)}
    agreement = app.dataframe[0].value
    assert set(agreement["Merkmal"]) == {label for label, _ in human.RUBRIC.values()}

    app = open_page("pairs")
    app.selectbox(key="ev-pair-a").set_value(first.id)
    app.selectbox(key="ev-pair-b").set_value(second.id).run()
    app.text_input(key="ev-who").set_value("anna").run()
    app.button(key="ev-choose-links").click().run()
    assert not app.exception, app.exception

    summary = human.pairwise_summary(engine, WS, first.id, second.id)
    assert summary["votes"] == 1
    assert "1 Vergleiche" in texts(app)
    assert "Übereinstimmung der bewertenden Personen" in texts(app)


def test_drafts_are_made_from_the_documents_and_wait_in_the_table(engine: Engine,
                                                                   tmp_path: Path) -> None:
    prepared(engine, tmp_path)
    app = open_page("sets")
    app.number_input(key="ev-draft-n").set_value(5)
    app.button(key="ev-drafts-go").click().run()
    assert not app.exception, app.exception

    drafts = [i for i in stored_items(engine, WS, "Bürgerbüro") if i["status"] == "entwurf"]
    assert 1 <= len(drafts) <= 5
    assert {d["expected_source"] for d in drafts} <= set(DOCS)
    assert f"{len(drafts)} Entwürfe angelegt" in texts(app)
    assert f"2 aktiv · {len(drafts)} Entwürfe" in texts(app)
