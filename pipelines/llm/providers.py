"""Chat models behind one small protocol, both driven through llama-index clients.

A provider is cheap to build; `is_available` asks the server with a short timeout and caches
the answer briefly, so a turn does not wait the full request timeout to learn Ollama is down.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import httpx
from pydantic import SecretStr

from pipelines.settings import Settings

AVAILABILITY_CACHE_SECONDS = 10.0


class LLMError(RuntimeError):
    """The model did not deliver a complete answer (down, timeout, stream broken, error)."""


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


class LLMProvider(Protocol):
    name: str
    model: str

    def is_available(self) -> bool: ...

    def list_models(self) -> list[str]: ...

    def stream_chat(self, messages: list[Message]) -> Iterator[str]:
        """Yield text deltas; raise LLMError when the answer cannot be completed."""
        ...


class _ProbeCache:
    def __init__(self) -> None:
        self._until = 0.0
        self._value = False

    def get(self) -> bool | None:
        return self._value if time.monotonic() < self._until else None

    def set(self, value: bool) -> bool:
        self._value = value
        self._until = time.monotonic() + AVAILABILITY_CACHE_SECONDS
        return value


def _to_llama_messages(messages: list[Message]) -> list:  # type: ignore[type-arg]
    from llama_index.core.llms import ChatMessage, MessageRole

    return [ChatMessage(role=MessageRole(m.role), content=m.content) for m in messages]


def _stream(llm, messages: list[Message]) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Deltas from a llama-index LLM; every transport or server fault becomes LLMError."""
    try:
        for chunk in llm.stream_chat(_to_llama_messages(messages)):
            if chunk.delta:
                yield chunk.delta
    except LLMError:
        raise
    except httpx.TimeoutException as exc:
        raise LLMError(f"Zeitüberschreitung beim Sprachmodell ({type(exc).__name__}).") from exc
    except Exception as exc:  # connection refused, dropped stream, HTTP 5xx, bad JSON
        raise LLMError(f"Sprachmodell-Fehler: {type(exc).__name__}: {str(exc)[:200]}") from exc


class _HTTPProvider:
    """Shared by the providers: model choice, temperature and a cached availability probe."""

    name = ""

    def __init__(self, settings: Settings, model: str, temperature: float | None) -> None:
        self.model = model
        self.settings = settings
        self.temperature = settings.llm_temperature if temperature is None else temperature
        self._probe = _ProbeCache()

    def list_models(self) -> list[str]:
        raise NotImplementedError

    def is_available(self) -> bool:
        """Whether the server answers and has the model; cached for a few seconds."""
        cached = self._probe.get()
        if cached is not None:
            return cached
        try:
            models = self.list_models()
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return self._probe.set(False)
        wanted = {self.model, f"{self.model}:latest"}
        return self._probe.set(bool(self.model) and any(m in wanted for m in models))


class OllamaProvider(_HTTPProvider):
    name = "ollama"

    def __init__(self, settings: Settings, model: str | None = None,
                 temperature: float | None = None) -> None:
        super().__init__(settings, model or settings.ollama_model, temperature)
        self.host = settings.ollama_host.rstrip("/")

    def list_models(self) -> list[str]:
        response = httpx.get(f"{self.host}/api/tags", timeout=self.settings.llm_probe_timeout)
        response.raise_for_status()
        return [m.get("name") or m.get("model", "") for m in response.json().get("models", [])]

    def stream_chat(self, messages: list[Message]) -> Iterator[str]:
        from llama_index.llms.ollama import Ollama

        llm = Ollama(
            model=self.model,
            base_url=self.host,
            request_timeout=self.settings.llm_request_timeout,
            context_window=self.settings.llm_context_window,
            temperature=self.temperature,
            # Ollama's default context is small and silently truncates RAG prompts.
            additional_kwargs={"num_ctx": self.settings.llm_context_window},
        )
        return _stream(llm, messages)


class OpenAICompatibleProvider(_HTTPProvider):
    """vLLM, LiteLLM or any server speaking /v1/chat/completions."""

    name = "openai"

    def __init__(self, settings: Settings, model: str | None = None,
                 temperature: float | None = None) -> None:
        super().__init__(settings, model or settings.openai_model, temperature)
        self.base_url = settings.openai_base_url.rstrip("/")

    def _headers(self) -> dict[str, str]:
        key = self.settings.openai_api_key.get_secret_value()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def list_models(self) -> list[str]:
        response = httpx.get(f"{self.base_url}/models", headers=self._headers(),
                             timeout=self.settings.llm_probe_timeout)
        response.raise_for_status()
        return [m["id"] for m in response.json().get("data", [])]

    def stream_chat(self, messages: list[Message]) -> Iterator[str]:
        from llama_index.llms.openai_like import OpenAILike

        llm = OpenAILike(
            model=self.model,
            api_base=self.base_url,
            api_key=self.settings.openai_api_key.get_secret_value() or "nicht-gesetzt",
            is_chat_model=True,
            context_window=self.settings.llm_context_window,
            timeout=self.settings.llm_request_timeout,
            max_retries=0,
            temperature=self.temperature,
        )
        return _stream(llm, messages)


_PROVIDERS: dict[tuple[str, str, float | None, str], LLMProvider] = {}


def _fingerprint(settings: Settings) -> str:
    """All settings including secrets (model_dump_json masks them), hashed for the cache key."""
    secrets = [
        value.get_secret_value()
        for value in settings.__dict__.values()
        if isinstance(value, SecretStr)
    ]
    payload = settings.model_dump_json() + "\0".join(secrets)
    return hashlib.sha256(payload.encode()).hexdigest()


def get_provider(settings: Settings, provider: str | None = None, model: str | None = None,
                 temperature: float | None = None) -> LLMProvider | None:
    """The provider for a bot (None = extractive only); kept per process for its probe cache."""
    name = provider or settings.llm_provider
    if name == "extractive":
        return None
    key = (name, model or "", temperature, _fingerprint(settings))
    if key not in _PROVIDERS:
        if name == "ollama":
            _PROVIDERS[key] = OllamaProvider(settings, model, temperature)
        elif name == "openai":
            _PROVIDERS[key] = OpenAICompatibleProvider(settings, model, temperature)
        else:
            raise ValueError(f"Unbekannter LLM-Anbieter: {name}")
    return _PROVIDERS[key]
