"""Settings: environment (prefix CHATWERKSTATT_), .env in the working folder, derived paths,
secrets, validation; and the relational store on a real PostgreSQL server when one can run."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import create_engine, inspect

from pipelines.assistant import ensure_bot
from pipelines.bots import BotNotFoundError, BotRepository, default_bot_config
from pipelines.engine import Engine
from pipelines.settings import DEFAULT_DATA_DIR, MAX_TOP_K, Settings, get_settings
from pipelines.store.models import Base


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No CHATWERKSTATT_ variables from outside; cwd is an empty folder (no .env)."""
    for key in list(os.environ):
        if key.startswith("CHATWERKSTATT_"):
            monkeypatch.delenv(key)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_defaults_without_environment(clean_env: Path) -> None:
    settings = Settings()

    assert settings.data_dir == DEFAULT_DATA_DIR
    assert settings.llm_provider == "ollama"
    assert settings.ollama_host == "http://127.0.0.1:11434"
    assert settings.embedding_model == "local"
    assert settings.default_workspace == "standard"


def test_environment_with_prefix_is_read(clean_env: Path, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.setenv("CHATWERKSTATT_DATA_DIR", str(tmp_path / "daten"))
    monkeypatch.setenv("CHATWERKSTATT_OLLAMA_HOST", "http://ollama.intern:11434")
    monkeypatch.setenv("CHATWERKSTATT_TOP_K", "7")
    monkeypatch.setenv("CHATWERKSTATT_LLM_PROVIDER", "extractive")

    settings = Settings()

    assert settings.data_dir == tmp_path / "daten"
    assert settings.ollama_host == "http://ollama.intern:11434"
    assert settings.top_k == 7
    assert settings.llm_provider == "extractive"


def test_environment_without_prefix_is_ignored(clean_env: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOP_K", "9")
    monkeypatch.setenv("OLLAMA_HOST", "http://anderswo:1")

    settings = Settings()

    assert settings.top_k == 5
    assert settings.ollama_host == "http://127.0.0.1:11434"


def test_dotenv_in_working_folder(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_env / ".env").write_text(
        "CHATWERKSTATT_OLLAMA_MODEL=qwen2.5:7b\n"
        "CHATWERKSTATT_TOP_K=3\n"
        "# Kommentar\n"
        "CHATWERKSTATT_OPENAI_API_KEY=aus-der-datei\n",
        encoding="utf-8",
    )

    settings = Settings()
    assert settings.ollama_model == "qwen2.5:7b"
    assert settings.top_k == 3
    assert settings.openai_api_key.get_secret_value() == "aus-der-datei"

    monkeypatch.setenv("CHATWERKSTATT_TOP_K", "8")  # the environment beats .env
    assert Settings().top_k == 8


def test_get_settings_is_cached_until_cleared(clean_env: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    try:
        monkeypatch.setenv("CHATWERKSTATT_TOP_K", "4")
        first = get_settings()
        monkeypatch.setenv("CHATWERKSTATT_TOP_K", "6")
        assert get_settings() is first and first.top_k == 4
        get_settings.cache_clear()
        assert get_settings().top_k == 6
    finally:
        get_settings.cache_clear()


def test_default_database_is_sqlite_in_data_dir(make_settings: Callable[..., Settings],
                                                tmp_path: Path) -> None:
    settings = make_settings()

    assert settings.database_url is None
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'data' / 'chatwerkstatt.db'}"
    with Engine(settings).session() as session:
        BotRepository(session, "standard").save(default_bot_config("probe"))
    assert (tmp_path / "data" / "chatwerkstatt.db").is_file()


def test_postgresql_url_is_used_as_is(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://chat:geheim@db.intern:5432/chatwerkstatt?sslmode=require"
    monkeypatch.setenv("CHATWERKSTATT_DATABASE_URL", url)

    settings = Settings()

    assert settings.resolved_database_url == url
    assert Engine(settings).database_url == url


def test_lancedb_uri_default_and_override(make_settings: Callable[..., Settings],
                                          tmp_path: Path) -> None:
    assert make_settings().resolved_lancedb_uri == str(tmp_path / "data" / "lancedb")
    remote = "s3://stadt-bucket/lancedb"
    assert make_settings(lancedb_uri=remote).resolved_lancedb_uri == remote
    assert make_settings().uploads_dir == tmp_path / "data" / "uploads"


def test_api_key_is_secret(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATWERKSTATT_OPENAI_API_KEY", "sk-sehr-geheim-123")

    settings = Settings()

    assert isinstance(settings.openai_api_key, SecretStr)
    assert settings.openai_api_key.get_secret_value() == "sk-sehr-geheim-123"
    for shown in (repr(settings), str(settings), settings.model_dump_json(),
                  str(settings.model_dump())):
        assert "sk-sehr-geheim-123" not in shown


@pytest.mark.parametrize(("name", "value"), [
    ("TOP_K", "0"),
    ("TOP_K", "viele"),
    ("CONFIDENCE_THRESHOLD", "1.5"),
    ("LLM_PROVIDER", "chatgpt"),
    ("LLM_REQUEST_TIMEOUT", "0"),
    ("LLM_CONTEXT_WINDOW", "512"),
])
def test_invalid_values_are_rejected(clean_env: Path, monkeypatch: pytest.MonkeyPatch,
                                     name: str, value: str) -> None:
    monkeypatch.setenv(f"CHATWERKSTATT_{name}", value)

    with pytest.raises(ValidationError) as caught:
        Settings()

    assert name.lower() in str(caught.value)


def test_new_bot_takes_operator_defaults(make_settings: Callable[..., Settings]) -> None:
    engine = Engine(make_settings(top_k=7, confidence_threshold=0.5))

    config, created = ensure_bot(engine, "neu")

    assert created
    assert (config.retrieval.top_k, config.retrieval.confidence_threshold) == (7, 0.5)


def test_new_bot_accepts_the_largest_top_k_the_settings_allow(
    make_settings: Callable[..., Settings],
) -> None:
    engine = Engine(make_settings(top_k=MAX_TOP_K))

    config, created = ensure_bot(engine, "neu")

    assert created and config.retrieval.top_k == MAX_TOP_K


def test_top_k_above_the_bot_limit_is_rejected_by_the_settings(
    make_settings: Callable[..., Settings],
) -> None:
    with pytest.raises(ValidationError, match="top_k"):
        make_settings(top_k=MAX_TOP_K + 1)


# --------------------------------------------------------------------------- PostgreSQL
# The server comes from the postgres_url fixture in tests/support/fixtures_postgres.py.


def test_postgresql_schema_and_bots(postgres_url: str, make_settings: Callable[..., Settings]
                                    ) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pipelines.store.db import upgrade_schema

    upgrade_schema(postgres_url)
    upgrade_schema(postgres_url)  # idempotent
    raw = create_engine(postgres_url)
    try:
        assert set(Base.metadata.tables) <= set(inspect(raw).get_table_names())
        with raw.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        raw.dispose()

    engine = Engine(make_settings(database_url=postgres_url))
    first = default_bot_config("pg-bot")
    second = first.model_copy(update={"persona": "knapp, mit Umlauten: äöü ß „“"})
    with engine.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.save(first) == 1
        assert repo.save(second) == 2
        assert repo.save(second) == 2
    with engine.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.get("pg-bot") == (second, 2)
        assert repo.get("pg-bot", version=1) == (first, 1)
        assert [b.slug for b in repo.list()] == ["pg-bot"]
        assert BotRepository(session, "sueder").list() == []
        with pytest.raises(BotNotFoundError):
            BotRepository(session, "sueder").get("pg-bot")
