"""The workspace's test-chat page, driven through Streamlit's AppTest on a real knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.assistant import ensure_bot
from pipelines.documents.ingest import Ingestor
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT, get_settings
from tests.conftest import closed_port_url

APP = str(REPO_ROOT / "apps" / "workspace.py")


@pytest.fixture
def workspace_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hundesteuer.md").write_text(
        "# Hundesteuer\n\nDie Hundesteuer beträgt für den ersten Hund 96,00 Euro im Jahr.\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CHATWERKSTATT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHATWERKSTATT_OLLAMA_HOST", closed_port_url())
    get_settings.cache_clear()
    engine = Engine(get_settings())
    ensure_bot(engine, "hundebot")
    Ingestor(engine, "standard", "hundebot").ingest([docs])
    yield engine
    get_settings.cache_clear()


def test_empty_workspace_says_how_to_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setenv("CHATWERKSTATT_DATA_DIR", str(tmp_path / "leer"))
    get_settings.cache_clear()
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception
    assert any("Noch kein Bot" in info.value for info in app.info)
    get_settings.cache_clear()


def test_question_gets_sourced_labelled_answer(workspace_env: Engine) -> None:
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception
    assert app.sidebar.selectbox[0].value == "hundebot"
    app.chat_input[0].set_value("Wie hoch ist die Steuer für meinen Hund?").run()
    assert not app.exception
    answers = [m for m in app.chat_message if m.name == "assistant"]
    text = " ".join(md.value for m in answers for md in m.markdown)
    assert "96,00 Euro" in text
    captions = " ".join(c.value for c in app.caption)
    assert "Extraktiver Modus" in captions
    assert any("hundesteuer.md" in e.label for e in app.expander)
    # The turn was stored with the workspace channel.
    from sqlalchemy import select

    from pipelines.store.models import Conversation

    with workspace_env.session() as session:
        channels = list(session.scalars(select(Conversation.channel)))
    assert channels == ["workspace"]
