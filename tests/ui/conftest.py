"""UI tests run the workspace as `make run` does: listening on loopback (single-user mode),
unless a test says otherwise with `server_address`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT, get_settings
from tests.conftest import closed_port_url

APP = str(REPO_ROOT / "apps" / "workspace.py")


@pytest.fixture(autouse=True)
def server_address() -> Iterator[Callable[[str], None]]:
    before = config.get_option("server.address")

    def set_address(address: str) -> None:
        config.set_option("server.address", address)

    set_address("127.0.0.1")
    yield set_address
    config.set_option("server.address", before)


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The engine the workspace under test uses: a fresh data folder from the environment (as
    the app reads it), no language model reachable."""
    monkeypatch.setenv("CHATWERKSTATT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHATWERKSTATT_OLLAMA_HOST", closed_port_url())
    get_settings.cache_clear()
    yield Engine(get_settings())
    get_settings.cache_clear()


def sign_in(username: str, password: str) -> AppTest:
    """The workspace (listening off loopback) with `username` signed in through the form."""
    app = AppTest.from_file(APP, default_timeout=180).run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Anmelden"
    [t for t in app.text_input if t.label == "Benutzername"][0].set_value(username)
    [t for t in app.text_input if t.label == "Passwort"][0].set_value(password)
    [b for b in app.button if b.label == "Anmelden"][0].click()
    app.run()
    assert not app.exception, app.exception
    return app


def texts(app: AppTest) -> str:
    """Every text a page shows in markdown, captions and message boxes, as one string."""
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption]
    parts += [e.value for kind in (app.info, app.success, app.warning, app.error) for e in kind]
    return " ".join(str(p) for p in parts)
