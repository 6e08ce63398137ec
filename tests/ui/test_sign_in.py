"""Sign-in and roles through AppTest: off loopback nobody sees a page without logging in; a
role shows only its pages; a user of workspace A never sees workspace B."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.accounts import UserRepository
from pipelines.assistant import ensure_bot
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT
from tests.ui.conftest import sign_in as sign_in_as

APP = str(REPO_ROOT / "apps" / "workspace.py")
PASSWORD = "sehr-geheim-123"


@pytest.fixture
def engine(engine: Engine, server_address: Callable[[str], None]) -> Engine:
    server_address("0.0.0.0")
    ensure_bot(engine, "jena-bot", workspace="jena")
    ensure_bot(engine, "sued-bot", workspace="suederbrarup")
    with engine.session() as session:
        users = UserRepository(session)
        users.create_user("anna", PASSWORD, display_name="Anna Analyse")
        users.grant("anna", "jena", "analyst")
        users.create_user("erik", PASSWORD, display_name="Erik Redaktion")
        users.grant("erik", "jena", "editor")
        users.create_user("olga", PASSWORD)
    return engine


def sign_in(username: str, password: str = PASSWORD) -> AppTest:
    return sign_in_as(username, password)


def test_nothing_but_the_login_without_signing_in(engine: Engine) -> None:
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert [t.value for t in app.title] == ["Anmelden"]
    assert not app.dataframe  # no bot, no document visible


def test_wrong_password_is_refused(engine: Engine) -> None:
    app = sign_in("anna", "falsch-falsch")
    assert "stimmen nicht" in app.error[0].value
    assert app.title[0].value == "Anmelden"


def test_analyst_sees_only_her_workspace_and_cannot_edit_bots(engine: Engine) -> None:
    app = sign_in("anna")
    assert app.title[0].value == "Start"
    assert list(app.dataframe[0].value["Kurzname"]) == ["jena-bot"]
    workspaces = [s for s in app.sidebar.selectbox if s.label == "Arbeitsbereich"][0]
    assert list(workspaces.options) == ["Jena"]
    assert any("Analyse" in c.value or "analyst" in c.value.lower() for c in app.sidebar.caption)
    app.switch_page(str(REPO_ROOT / "pages" / "bots.py")).run()
    assert any("nicht ändern" in i.value for i in app.info)
    assert [b for b in app.button if b.label == "Als neue Version speichern"][0].disabled
    app.radio(key="bots-section").set_value("versions").run()
    assert app.button(key="publish").disabled and app.button(key="rollback").disabled
    app.radio(key="bots-section").set_value("yaml").run()
    assert app.file_uploader(key="import").disabled
    assert not [e for e in app.expander if "Vorlage" in e.label]


def test_analyst_cannot_upload_or_delete_documents(engine: Engine) -> None:
    from pipelines.workspace import create_knowledge_base

    create_knowledge_base(engine, "jena", "Unterlagen Jena")
    app = sign_in("anna")
    app.switch_page(str(REPO_ROOT / "pages" / "dokumente.py")).run()
    assert not app.exception, app.exception
    assert any("nichts hochladen" in i.value for i in app.info)
    assert app.file_uploader[0].proto.disabled
    assert app.button(key="ingest").disabled


def test_editor_may_edit_bots(engine: Engine) -> None:
    app = sign_in("erik")
    app.switch_page(str(REPO_ROOT / "pages" / "bots.py")).run()
    assert not any("nicht ändern" in i.value for i in app.info)
    assert not [b for b in app.button if b.label == "Als neue Version speichern"][0].disabled


def test_user_without_a_role_is_told_whom_to_ask(engine: Engine) -> None:
    app = sign_in("olga")
    assert "keine Rolle" in app.warning[0].value
    assert not app.dataframe


def test_single_user_mode_on_loopback_says_so(engine: Engine,
                                              server_address: Callable[[str], None]) -> None:
    server_address("127.0.0.1")
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert app.title[0].value == "Start"
    assert "Einzelplatzmodus" in app.sidebar.info[0].value
