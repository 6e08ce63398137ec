"""The Analyse page through AppTest: figures of a known log, filters, sections, drill-down from
a content-gap cluster to the transcripts, export; an analyst sees her workspace only, an
editor no Analyse page."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from pipelines.accounts import UserRepository
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT, get_settings
from pipelines.store.models import Message
from tests.support.chatlog import conversation, turn
from tests.ui.conftest import sign_in

APP = str(REPO_ROOT / "apps" / "workspace.py")
ANALYSE = str(REPO_ROOT / "pages" / "analyse.py")
PASSWORD = "sehr-geheim-123"


@pytest.fixture
def engine(engine: Engine) -> Engine:
    """Yesterday's log: five turns in "standard" (two of them about a content gap), two in
    "jena"."""
    noon = datetime.now(UTC).replace(hour=11, minute=0, second=0, microsecond=0) \
        - timedelta(days=1)
    c1 = conversation(engine, "standard", "rathaus-bot", "public", "c1")
    turn(engine, c1, noon, "Was kostet ein Reisepass?", "extractive", 120)
    turn(engine, c1, noon + timedelta(minutes=1), "Wie lange ist die Wartezeit für einen "
         "Kitaplatz?", "keine_antwort", 60, confidence=0.1)
    c2 = conversation(engine, "standard", "rathaus-bot", "voice", "c2")
    turn(engine, c2, noon + timedelta(hours=2), "Wartezeit Kitaplatz wie lange?",
         "keine_antwort", 70, confidence=0.1)
    turn(engine, c2, noon + timedelta(hours=2, minutes=1), "Ich möchte mit einem Menschen "
         "sprechen", "mensch", 30, handoff=True, confidence=0.0)
    c3 = conversation(engine, "standard", "presse-bot", "public", "c3")
    turn(engine, c3, noon + timedelta(hours=3), "How much is a passport?", "llm", 300,
         language="en")
    c4 = conversation(engine, "jena", "jena-bot", "public", "c4")
    turn(engine, c4, noon, "Wo ist das Bürgeramt Jena?", "extractive", 90)
    turn(engine, c4, noon + timedelta(minutes=2), "Und die Öffnungszeiten?", "extractive", 90)
    return engine


def open_analyse() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page(ANALYSE).run()
    assert not app.exception, app.exception
    return app


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def test_the_figures_of_the_chosen_workspace(engine: Engine) -> None:
    app = open_analyse()
    assert app.title[0].value == "Analyse"
    shown = metrics(app)
    assert shown["Gespräche"] == "3" and shown["Nachrichten"] == "5"
    assert shown["beantwortet"] == "40,0 %" and shown["keine gute Antwort"] == "40,0 %"
    assert shown["Mensch gewünscht"] == "20,0 %" and shown["Mensch angeboten"] == "20,0 %"
    assert any("geschwärzt" in c.value for c in app.caption)


def test_filters_change_the_figures(engine: Engine) -> None:
    app = open_analyse()
    app.multiselect(key="an-bots").set_value(["presse-bot"]).run()
    assert metrics(app)["Nachrichten"] == "1"
    app.multiselect(key="an-bots").set_value([]).run()
    app.multiselect(key="an-channels").set_value(["voice"]).run()
    assert metrics(app)["Nachrichten"] == "2"
    app.multiselect(key="an-channels").set_value([]).run()
    app.multiselect(key="an-workspaces").set_value(["standard", "jena"]).run()
    assert metrics(app)["Nachrichten"] == "7"
    app.multiselect(key="an-languages").set_value(["en"]).run()
    assert metrics(app)["Nachrichten"] == "1"


def test_every_section_draws_its_charts(engine: Engine) -> None:
    app = open_analyse()
    charts = {"usage": 4, "quality": 3, "questions": 1}
    for section, count in charts.items():
        app.radio(key="an-section").set_value(section).run()
        assert not app.exception, (section, app.exception)
        assert len(app.get("plotly_chart")) == count, section
    top = app.dataframe[0].value
    assert top.iloc[0]["Frage"] in {"Was kostet ein Reisepass?", "How much is a passport?",
                                    "Wie lange ist die Wartezeit für einen Kitaplatz?",
                                    "Wartezeit Kitaplatz wie lange?",
                                    "Ich möchte mit einem Menschen sprechen"}
    assert top["gestellt"].sum() == 5


def test_a_content_gap_drills_down_to_its_conversations(engine: Engine) -> None:
    app = open_analyse()
    app.radio(key="an-section").set_value("gaps").run()
    assert not app.exception, app.exception
    gaps = [e.label for e in app.expander if "×" in e.label]
    assert len(gaps) == 1 and gaps[0].startswith("2× – ")  # both Kita wordings, one group
    app.button(key="an-gap-0").click().run()
    assert not app.exception, app.exception
    assert app.radio(key="an-section").value == "transcripts"
    assert any("Inhaltslücke" in i.value for i in app.info)
    listed = app.dataframe[0].value
    assert set(listed["Frage"]) == {"Wie lange ist die Wartezeit für einen Kitaplatz?",
                                       "Wartezeit Kitaplatz wie lange?"}
    transcript = [t.value for t in app.text]
    assert "Wartezeit Kitaplatz wie lange?" in transcript or \
        "Wie lange ist die Wartezeit für einen Kitaplatz?" in transcript
    app.button(key="an-drill-clear").click().run()
    assert len(app.dataframe[0].value) == 5


def test_export_of_the_filtered_logs(engine: Engine) -> None:
    app = open_analyse()
    app.radio(key="an-section").set_value("transcripts").run()
    app.multiselect(key="an-channels").set_value(["public"]).run()
    app.selectbox(key="an-export-format").set_value("parquet").run()
    app.button(key="an-export").click().run()
    assert not app.exception, app.exception
    fmt, rows, payload = app.session_state["an-export-file"]
    exported = pd.read_parquet(io.BytesIO(payload))
    assert (fmt, rows, len(exported)) == ("parquet", 3, 3)
    assert set(exported["channel"]) == {"public"} and set(exported["workspace"]) == {"standard"}


def test_an_empty_log_says_how_to_get_data(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATWERKSTATT_DATA_DIR", str(tmp_path / "leer"))
    get_settings.cache_clear()
    app = open_analyse()
    assert any("demo-logs" in i.value for i in app.info)
    get_settings.cache_clear()


def test_an_analyst_sees_her_workspace_only_an_editor_no_analytics(
        engine: Engine, server_address: Callable[[str], None]) -> None:
    server_address("0.0.0.0")
    with engine.session() as session:
        users = UserRepository(session)
        users.create_user("anna", PASSWORD)
        users.grant("anna", "jena", "analyst")
        users.create_user("erik", PASSWORD)
        users.grant("erik", "jena", "editor")
    app = sign_in("anna", PASSWORD)
    app.switch_page(ANALYSE).run()
    assert not app.exception, app.exception
    assert list(app.multiselect(key="an-workspaces").options) == ["Jena"]
    assert metrics(app)["Nachrichten"] == "2"
    assert app.multiselect(key="an-bots").options == ["jena-bot"]

    editor = sign_in("erik", PASSWORD)
    # The editor's navigation has no Analyse page at all.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        editor.switch_page(ANALYSE)


EINSTELLUNGEN = str(REPO_ROOT / "pages" / "einstellungen.py")


def old_turn(engine: Engine, days: int) -> int:
    """A turn `days` days ago in a conversation of its own."""
    key = f"old-{days}"
    conversation(engine, "standard", "rathaus-bot", "public", key)
    return turn(engine, key, datetime.now(UTC) - timedelta(days=days),
                "Eine alte Frage mit Namen Herr [NAME]", "extractive", 80)


def test_retention_is_set_and_applied_in_einstellungen(engine: Engine) -> None:
    old = old_turn(engine, 100)  # within the default 180 days
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page(EINSTELLUNGEN).run()
    assert not app.exception, app.exception
    assert any("0 Nachrichten sind älter als die Frist" in m.value for m in app.markdown)
    app.checkbox[0].check()
    app.number_input[0].set_value(30)
    app.radio[0].set_value("delete")
    [b for b in app.button if b.label == "Frist speichern"][0].click().run()
    assert not app.exception, app.exception
    assert any("30 Tage aufbewahren, danach löschen" in s.value for s in app.success)
    assert any("1 Nachrichten sind älter" in m.value for m in app.markdown)
    app.button(key="retention-apply").click().run()
    assert any("1 Nachrichten: löschen" in s.value for s in app.success)
    with engine.session() as session:
        assert session.get(Message, old) is None
        assert session.scalar(select(func.count()).select_from(Message)) == 7


def test_the_workspace_applies_retention_when_it_starts(engine: Engine) -> None:
    from apps.ui import warm_up

    old = old_turn(engine, 365)
    warm_up(engine)  # what apps.serve and the first page start in the background
    with engine.session() as session:
        row = session.get(Message, old)
        assert row is not None and (row.question, row.answer) == ("", "")
