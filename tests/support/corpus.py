"""A small ingested corpus shared by the assistant tests: ingest once per module, copy the data
folder (SQLite + LanceDB) into each test's engine."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from pipelines.assistant import Assistant, ensure_bot
from pipelines.bots import BotConfig, BotRepository
from pipelines.documents.ingest import Ingestor
from pipelines.engine import Engine
from pipelines.settings import Settings
from pipelines.store.db import get_engine
from tests.conftest import closed_port_url


@pytest.fixture(scope="module")
def corpus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's DOCS ingested once into its bot BOT; tests copy the data folder."""
    module = request.module
    return ingest_corpus(tmp_path_factory.mktemp("corpus"), module.DOCS, module.BOT)


def ingest_corpus(root: Path, docs: dict[str, str], bot: str) -> Path:
    """`docs` ingested into the bot `bot` under `root`; returns the data folder to copy."""
    folder = root / "unterlagen"
    folder.mkdir()
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(_env_file=None, data_dir=root / "data",  # type: ignore[call-arg]
                        ollama_host=closed_port_url())
    engine = Engine(settings)
    ensure_bot(engine, bot)
    report = Ingestor(engine, settings.default_workspace, bot).ingest([folder])
    assert report.count("neu") == len(docs), [r.reason for r in report.results]
    get_engine(settings.resolved_database_url).dispose()
    return root / "data"


def bot_on_corpus(engine: Engine, corpus: Path, bot: str, **changes: Any) -> Assistant:
    """The ingested corpus in `engine`'s data folder; bot config `changes` saved as a version."""
    shutil.copytree(corpus, engine.settings.data_dir)
    if changes:
        with engine.session() as session:
            repo = BotRepository(session, engine.settings.default_workspace)
            data = repo.get(bot)[0].model_dump()
            for key, value in changes.items():
                data[key] = {**data[key], **value} if isinstance(value, dict) else value
            repo.save(BotConfig.model_validate(data))
    return Assistant(engine, bot)
