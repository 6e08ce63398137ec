"""The workspace pages driven through Streamlit's AppTest on a real knowledge base (LanceDB,
SQLite, the local embedder; the stand-in Ollama server where a test needs one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from pipelines.assistant import ensure_bot
from pipelines.bots import BotConfig, BotRepository
from pipelines.documents.ingest import Ingestor
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT, get_settings
from pipelines.store.models import Conversation, Feedback
from pipelines.store.models import Message as MessageRow
from tests.conftest import closed_port_url
from tests.support.fake_llm_server import FakeLLMServer
from tests.ui.conftest import texts

APP = str(REPO_ROOT / "apps" / "workspace.py")
PAGES = REPO_ROOT / "pages"


def page(name: str) -> str:
    return str(PAGES / f"{name}.py")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CHATWERKSTATT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHATWERKSTATT_OLLAMA_HOST", closed_port_url())
    monkeypatch.setenv("CHATWERKSTATT_LLM_PROBE_TIMEOUT", "0.5")
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


@pytest.fixture
def engine(data_dir: Path, tmp_path: Path) -> Engine:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hundesteuer.md").write_text(
        "# Hundesteuer\n\nDie Hundesteuer beträgt für den ersten Hund 96,00 Euro im Jahr.\n",
        encoding="utf-8",
    )
    engine = Engine(get_settings())
    ensure_bot(engine, "hundebot")
    Ingestor(engine, "standard", "hundebot").ingest([docs])
    return engine


def run(path: str | None = None, timeout: int = 120) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=timeout).run()
    assert not app.exception, app.exception
    if path:
        app.switch_page(path).run()
        assert not app.exception, app.exception
    return app


def test_start_lists_the_bots_and_says_that_answers_are_extractive(engine: Engine) -> None:
    app = run()
    assert app.title[0].value == "Start"
    table = app.dataframe[0].value
    assert list(table["Kurzname"]) == ["hundebot"]
    assert int(table["Dokumente"].iloc[0]) == 1
    assert "antwortet nicht" in app.info[0].value
    assert "extraktiv" in table["Antwortmodus"].iloc[0]


def test_empty_workspace_says_how_to_start(data_dir: Path) -> None:
    app = run()
    assert any("Noch kein Bot" in info.value for info in app.info)
    app = run(page("chat"))
    assert any("make run" in info.value for info in app.info)


def test_chat_answer_shows_sources_mode_why_and_timings(engine: Engine) -> None:
    app = run(page("chat"))
    app.chat_input[0].set_value("Wie hoch ist die Steuer für meinen Hund?").run()
    assert not app.exception
    assert "96,00 Euro" in texts(app)
    assert "Extraktiver Modus" in texts(app)
    labels = [e.label for e in app.expander]
    assert any("hundesteuer" in label.lower() for label in labels), labels
    assert "Warum diese Antwort?" in labels
    why = app.dataframe[0].value
    assert why["Dokument"].iloc[0] == "hundesteuer.md"
    with engine.session() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.channel == "workspace"


def test_feedback_is_stored_with_its_comment(engine: Engine) -> None:
    app = run(page("chat"))
    app.chat_input[0].set_value("Was kostet die Hundesteuer?").run()
    app.feedback[0].set_value(0).run()  # 0 = thumbs down
    app.text_input[0].set_value("Bitte auch den zweiten Hund nennen").run()
    app.button(key=app.button[-1].key).click().run()
    assert not app.exception
    with engine.session() as session:
        row = session.scalars(select(Feedback)).one()
        message = session.get(MessageRow, row.message_id)
        assert message is not None and "Hundesteuer" in message.question
        assert (row.rating, row.comment) == (-1, "Bitte auch den zweiten Hund nennen")


def test_two_versions_answer_side_by_side(engine: Engine) -> None:
    with engine.session() as session:
        repo = BotRepository(session, "standard")
        data = repo.get("hundebot")[0].model_dump()
        data["retrieval"]["confidence_threshold"] = 0.99  # version 2 refuses
        repo.save(BotConfig.model_validate(data), note="strenger")
    app = run(page("chat"))
    app.toggle[0].set_value(True).run()
    app.chat_input[0].set_value("Wie hoch ist die Hundesteuer?").run()
    assert not app.exception
    shown = texts(app)
    assert "**Version 2**" in " ".join(m.value for m in app.markdown)
    assert "**Version 1**" in " ".join(m.value for m in app.markdown)
    assert "96,00 Euro" in shown  # version 1 answers
    assert "keine verlässliche Auskunft" in shown  # version 2 (threshold 0.99) does not


def test_upload_batch_with_a_broken_file(engine: Engine) -> None:
    app = run(page("dokumente"))
    app.file_uploader[0].set_value([
        ("sperrmuell.md", "# Sperrmüll\n\nSperrmüll holen wir zweimal im Jahr ab.\n".encode(),
         "text/markdown"),
        ("kaputt.pdf", b"%PDF-1.4 kaputt", "application/pdf"),
        ("leer.txt", b"", "text/plain"),
    ]).run()
    app.button(key="ingest").click().run()
    assert not app.exception
    assert "1 neu, 0 aktualisiert, 0 unverändert, 2 fehlgeschlagen." in texts(app)
    results = app.dataframe[0].value.set_index("Datei")
    assert results.loc["sperrmuell.md", "Ergebnis"] == "neu eingelesen"
    assert results.loc["kaputt.pdf", "Ergebnis"] == "fehlgeschlagen"
    assert "PDF" in results.loc["kaputt.pdf", "Grund"]
    assert "leer" in results.loc["leer.txt", "Grund"]
    names = {d.name for d in Ingestor(engine, "standard", "hundebot").documents()}
    assert names == {"hundesteuer.md", "sperrmuell.md"}
    # The picker counts the new document, and the upload field is empty for the next batch.
    assert "hundebot (2 Dok.)" in [o for box in app.selectbox for o in box.options]
    assert app.file_uploader[0].value in (None, [])


def test_delete_a_document_after_confirming(engine: Engine) -> None:
    app = run(page("dokumente"))
    assert app.button(key="delete-document").disabled
    app.checkbox[0].check().run()
    app.button(key="delete-document").click().run()
    assert not app.exception
    assert Ingestor(engine, "standard", "hundebot").documents() == []
    assert any("Noch keine Dokumente" in i.value for i in app.info)
    assert any("hundesteuer.md" in s.value for s in app.success)  # what the click did


@pytest.fixture
def llm_env(fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> FakeLLMServer:
    """The workspace's Ollama is the stand-in server of this test."""
    monkeypatch.setenv("CHATWERKSTATT_OLLAMA_HOST", fake_llm.url)
    monkeypatch.setenv("CHATWERKSTATT_OLLAMA_MODEL", fake_llm.models[0])
    get_settings.cache_clear()
    return fake_llm


def test_connection_test_lists_the_models_of_the_server(
    data_dir: Path, llm_env: FakeLLMServer
) -> None:
    fake_llm = llm_env
    app = run(page("einstellungen"))
    app.button(key="llm-test").click().run()
    assert not app.exception
    assert f"Modell {fake_llm.models[0]} vorhanden" in app.success[0].value
    listed = list(app.dataframe[1].value["Modell"])
    assert listed == list(fake_llm.models)


def test_connection_test_explains_what_to_do_when_the_server_is_down(data_dir: Path) -> None:
    app = run(page("einstellungen"))
    app.button(key="llm-test").click().run()
    message = app.error[0].value
    assert "antwortet nicht" in message and "CHATWERKSTATT_OLLAMA_HOST" in message


def test_english_can_be_switched_on(engine: Engine) -> None:
    app = run()
    language = [s for s in app.sidebar.selectbox if s.label == "Sprache der Oberfläche"][0]
    language.set_value("en").run()
    assert not app.exception
    assert app.title[0].value == "Start"
    assert "Bots in this workspace" in [s.value for s in app.subheader]


def test_a_bot_of_another_workspace_is_not_shown(engine: Engine) -> None:
    ensure_bot(engine, "jena-bot", workspace="jena")
    app = run()
    assert list(app.dataframe[0].value["Kurzname"]) == ["hundebot"]
    picker = [s for s in app.sidebar.selectbox if s.label == "Arbeitsbereich"][0]
    picker.set_value("jena").run()
    assert list(app.dataframe[0].value["Kurzname"]) == ["jena-bot"]


def test_chat_against_the_stand_in_ollama_streams_an_llm_answer(
    engine: Engine, llm_env: FakeLLMServer
) -> None:
    fake_llm = llm_env
    app = run(page("chat"))
    app.chat_input[0].set_value("Wie hoch ist die Hundesteuer?").run()
    assert not app.exception, app.exception
    shown = texts(app)
    assert "Antwort des Sprachmodells aus den Quellen" in shown
    assert "96,00 Euro" in shown and "[1]" in shown
    assert any(label.startswith("[1]") for label in (e.label for e in app.expander))
    chats = fake_llm.requests_to("/api/chat")
    assert chats and chats[-1].body["stream"] is True


def test_settings_show_the_mail_server_and_send_a_test_mail(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: Any) -> None:
    monkeypatch.setenv("CHATWERKSTATT_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("CHATWERKSTATT_SMTP_PORT", str(smtp_server.port))
    get_settings.cache_clear()
    app = run(page("einstellungen"))
    shown = {row["Einstellung"]: row["Wert"] for df in app.dataframe
             for row in df.value.to_dict("records") if "Einstellung" in row}
    assert shown["SMTP-Server"] == smtp_server.host
    assert shown["Port"] == str(smtp_server.port)

    app.text_input(key="mail-test-to").set_value("it@musterstadt.example")
    [b for b in app.button if b.label == "Test-E-Mail senden"][0].click().run()

    assert "Test-E-Mail an it@musterstadt.example gesendet." in app.success[0].value
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "it@musterstadt.example"
    app.text_input(key="mail-test-to").set_value("keine adresse")
    [b for b in app.button if b.label == "Test-E-Mail senden"][0].click().run()
    assert "keine adresse" in app.error[0].value and len(smtp_server.messages) == 1


def test_settings_say_when_mail_is_off(data_dir: Path) -> None:
    app = run(page("einstellungen"))
    shown = {row["Einstellung"]: row["Wert"] for df in app.dataframe
             for row in df.value.to_dict("records") if "Einstellung" in row}
    assert shown["SMTP-Server"] == "– (kein E-Mail-Versand)"
    assert not [b for b in app.button if b.label == "Test-E-Mail senden"]


def test_start_says_how_many_requests_wait_in_the_inbox(engine: Engine) -> None:
    from pipelines import handoff
    from pipelines.assistant import Assistant

    assert "Posteingang" not in texts(run())
    result = Assistant(engine, "hundebot").ask("Ich möchte mit einem Menschen sprechen")
    handoff.create_ticket(engine, "standard", result.conversation_id)

    app = run()

    assert "Im Posteingang warten 1 Anfragen" in texts(app)
