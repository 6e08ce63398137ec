"""Pytest fixtures for the fake Ollama server (load via `pytest_plugins`)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.fake_llm_server import DEFAULT_MODELS, FakeLLMServer

LOCAL_HOSTS = ("127.0.0.1", "localhost")


def bypass_proxy_for_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make httpx/openai talk to 127.0.0.1 directly even when a proxy is configured."""
    for name in ("NO_PROXY", "no_proxy"):
        entries = [e for e in os.environ.get(name, "").split(",") if e.strip()]
        entries += [host for host in LOCAL_HOSTS if host not in entries]
        monkeypatch.setenv(name, ",".join(entries))


@pytest.fixture
def fake_llm(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeLLMServer]:
    """A running FakeLLMServer for one test; models can be set by indirect parametrize."""
    bypass_proxy_for_localhost(monkeypatch)
    models = getattr(request, "param", None) or DEFAULT_MODELS
    with FakeLLMServer(models=models) as server:
        yield server
