"""notebooks/chat_log_analysis.ipynb runs top to bottom in a real kernel on a filled store: three
weeks of synthetic chat logs in a fresh data folder. The notebook recomputes the Analyse page's
figures with pandas and asserts they agree with `pipelines.analytics.figures`; the test checks
that no cell failed, that figures were drawn, and the message count against the SQL store."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import func, select

from pipelines.assistant import ensure_bot
from pipelines.demo_logs import generate
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT, get_settings
from pipelines.store.models import Conversation, Message
from tests.conftest import closed_port_url

NOTEBOOK = REPO_ROOT / "notebooks" / "chat_log_analysis.ipynb"
BOT = "musterstadt-buergerservice"
WORKSPACE = "standard"

pytestmark = pytest.mark.slow


@pytest.fixture
def filled_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A data folder with 21 days of synthetic conversations, set in the environment the
    kernel inherits."""
    monkeypatch.setenv("CHATWERKSTATT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHATWERKSTATT_OLLAMA_HOST", closed_port_url())
    for name in ("CHATWERKSTATT_DATABASE_URL", "CHATWERKSTATT_LANCEDB_URI"):
        monkeypatch.delenv(name, raising=False)
    paths = [str(REPO_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(dict.fromkeys(paths)))
    get_settings.cache_clear()
    engine = Engine(get_settings())
    ensure_bot(engine, BOT)
    generate(engine, WORKSPACE, BOT, days=21, conversations_per_day=15, seed=3,
             answer_with_bot=False)
    yield engine
    get_settings.cache_clear()


def store_counts(engine: Engine) -> tuple[int, int]:
    with engine.session() as session:
        return (int(session.scalar(select(func.count()).select_from(Message)) or 0),
                int(session.scalar(select(func.count()).select_from(Conversation)) or 0))


def printed(nb: Any) -> str:
    return "".join(output.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for output in cell.outputs if output.output_type == "stream")


def test_committed_notebook_has_no_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_notebook_runs_and_agrees_with_the_store(filled_store: Engine) -> None:
    messages, conversations = store_counts(filled_store)
    assert messages > 300  # three weeks at about 15 conversations a day

    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO_ROOT)}}).execute()

    errors = [output for cell in nb.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert not errors, errors
    text = printed(nb)
    assert str(filled_store.settings.data_dir) in text  # the notebook read this test's store
    assert "übersprungen" not in text
    assert "Alle verglichenen Zahlen stimmen mit der Analyse-Seite überein." in text
    found = re.search(r"^NACHRICHTEN=(\d+)$", text, re.MULTILINE)
    assert found, text
    assert int(found.group(1)) == messages
    found = re.search(r"^GESPRAECHE=(\d+)$", text, re.MULTILINE)
    assert found, text
    assert int(found.group(1)) == conversations
    drawn = [output for cell in nb.cells if cell.cell_type == "code"
             for output in cell.outputs
             if "application/vnd.plotly.v1+json" in output.get("data", {})]
    assert len(drawn) >= 8  # per day, per hour, bot, channel, outcomes, feedback, latency, langs
