"""Shared fixtures: an engine on a fresh data folder, LLM stand-ins, bad files.

Heavy objects (the embedding model) are cached per process by pipelines.embeddings, so each
test gets its own LanceDB/SQLite folder without reloading the model.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import pipelines  # noqa: F401  (offline defaults before anything else imports HF/unstructured)
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT, Settings

pytest_plugins = [
    "tests.support.fixtures_llm",
    "tests.support.fixtures_bad_files",
    "tests.support.fixtures_postgres",
    "tests.support.corpus",
    "tests.support.smtp",
]

SAMPLE_CORPUS = REPO_ROOT / "data" / "sample" / "musterstadt"
SAMPLE_TESTSET = REPO_ROOT / "data" / "sample" / "musterstadt_testset.jsonl"
SAMPLE_BOT = REPO_ROOT / "data" / "sample" / "bots" / "musterstadt-buergerservice.yaml"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def closed_port_url() -> str:
    """An http URL on loopback where nothing listens (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings on a fresh data folder; no LLM reachable unless a test points at one."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "ollama_host": closed_port_url(),
            "openai_base_url": closed_port_url() + "/v1",
            "llm_probe_timeout": 0.5,
            "llm_request_timeout": 5.0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return factory


@pytest.fixture
def engine(make_settings: Callable[..., Settings]) -> Engine:
    return Engine(make_settings())


@pytest.fixture
def llm_engine(make_settings: Callable[..., Settings], fake_llm: Any) -> Engine:
    """An engine whose Ollama is the stand-in server of this test."""
    return Engine(make_settings(ollama_host=fake_llm.url, ollama_model=fake_llm.models[0]))
