"""The fake Ollama server works with the real clients, and its faults look real to them."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import ollama
import openai
import pytest
from llama_index.core.llms import ChatMessage, MessageRole
from llama_index.llms.ollama import Ollama
from llama_index.llms.openai_like import OpenAILike
from openai.types.chat import ChatCompletionMessageParam

from tests.support.fake_llm_server import (
    FakeLLMServer,
    fake_embedding,
    first_sentence,
    rag_echo_responder,
    split_into_deltas,
)

pytest_plugins = ["tests.support.fixtures_llm"]

MODEL = "llama3.2:3b"
SHORT_TIMEOUT = 0.3
PROMPT = (
    "Beantworte die Frage nur mit den Quellen und zitiere sie.\n\n"
    "Quellen:\n"
    "[1] Abfallkalender 2025: Die Biotonne wird z. B. in der Kernstadt jeden Dienstag "
    "geleert. Bitte stellen Sie die Tonne bis 6 Uhr bereit.\n"
    "[2] Gelbe Säcke gibt es im Bürgerbüro.\n"
)
MESSAGES = [
    {"role": "system", "content": PROMPT},
    {"role": "user", "content": "Wann wird die Biotonne geleert?"},
]
OPENAI_MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": PROMPT},
    {"role": "user", "content": "Wann wird die Biotonne geleert?"},
]
EXPECTED = (
    "Abfallkalender 2025: Die Biotonne wird z. B. in der Kernstadt jeden Dienstag geleert. [1]"
)


def _llama_messages() -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole(m["role"]), content=m["content"]) for m in MESSAGES]


def _ollama_llm(server: FakeLLMServer, **kwargs: Any) -> Ollama:
    options: dict[str, Any] = {"request_timeout": 5.0, "context_window": 8192, **kwargs}
    return Ollama(model=MODEL, base_url=server.url, **options)


def _openai_like(server: FakeLLMServer, **kwargs: Any) -> OpenAILike:
    options: dict[str, Any] = {"timeout": 5.0, "max_retries": 0, **kwargs}
    return OpenAILike(
        model=MODEL,
        api_base=server.url + "/v1",
        api_key="x",
        is_chat_model=True,
        context_window=8192,
        **options,
    )


# --------------------------------------------------------------------------- responder


def test_default_responder_quotes_first_source_sentence() -> None:
    assert rag_echo_responder(MESSAGES, MODEL) == EXPECTED


def test_default_responder_without_sources_answers_from_question() -> None:
    reply = rag_echo_responder([{"role": "user", "content": "Wo ist das Rathaus?"}], MODEL)
    assert "Wo ist das Rathaus?" in reply
    assert "[1]" not in reply


def test_first_sentence_skips_abbreviations_and_ordinals() -> None:
    text = "Ab dem 1. März gilt z. B. die neue Gebühr von ca. 5 Euro. Danach mehr."
    assert first_sentence(text) == "Ab dem 1. März gilt z. B. die neue Gebühr von ca. 5 Euro."


def test_deltas_rebuild_the_text() -> None:
    text = " Zwei  Leerzeichen\nund Umlaute: äöü ß. [1]"
    assert "".join(split_into_deltas(text)) == text
    assert len(split_into_deltas(text)) > 3


# --------------------------------------------------------------------------- ollama client


def test_ollama_stream_chat_yields_deltas_and_done(fake_llm: FakeLLMServer) -> None:
    client = ollama.Client(host=fake_llm.url, timeout=5)
    parts = list(client.chat(MODEL, MESSAGES, stream=True))

    content = [p for p in parts if not p.done]
    assert len(content) > 3  # really streamed, not one blob
    assert "".join(p.message.content or "" for p in parts) == EXPECTED
    assert parts[-1].done is True
    assert parts[-1].done_reason == "stop"
    assert parts[-1].eval_count == len(content)
    assert parts[-1].prompt_eval_count and parts[-1].total_duration
    assert not any(p.done for p in content)


def test_ollama_chat_non_streaming_and_recorded(fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = lambda messages, model: f"{model} sagt: {messages[-1]['content']}"
    client = ollama.Client(host=fake_llm.url, timeout=5)

    response = client.chat(MODEL, MESSAGES, stream=False, options={"temperature": 0})

    assert response.done is True
    assert response.message.content == f"{MODEL} sagt: Wann wird die Biotonne geleert?"
    (recorded,) = fake_llm.requests_to("/api/chat")
    assert recorded.method == "POST"
    assert recorded.body["stream"] is False
    assert recorded.body["options"]["temperature"] == 0
    assert recorded.body["messages"][1]["content"] == MESSAGES[1]["content"]


def test_ollama_generate_streams_response_field(fake_llm: FakeLLMServer) -> None:
    client = ollama.Client(host=fake_llm.url, timeout=5)
    parts = list(client.generate(MODEL, "Hallo Welt", stream=True))
    assert parts[-1].done is True
    assert "".join(p.response or "" for p in parts) == rag_echo_responder(
        [{"role": "user", "content": "Hallo Welt"}], MODEL
    )


def test_ollama_list_show_and_health(fake_llm: FakeLLMServer) -> None:
    client = ollama.Client(host=fake_llm.url, timeout=5)

    names = [m.model for m in client.list().models]
    assert names == ["llama3.2:3b", "nomic-embed-text:latest"]
    info = client.show(MODEL)
    assert info.modelinfo is not None
    assert info.modelinfo["llama.context_length"] == 8192
    assert info.capabilities == ["completion", "tools"]
    assert httpx.get(fake_llm.url + "/").text == "Ollama is running"
    assert httpx.get(fake_llm.url + "/api/version").json() == {"version": "0.12.0"}


@pytest.mark.parametrize("fake_llm", [["mistral:7b"]], indirect=True)
def test_models_are_configurable(fake_llm: FakeLLMServer) -> None:
    client = ollama.Client(host=fake_llm.url, timeout=5)
    assert [m.model for m in client.list().models] == ["mistral:7b"]


def test_unknown_model_is_404_like_ollama(fake_llm: FakeLLMServer) -> None:
    client = ollama.Client(host=fake_llm.url, timeout=5)
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat("gibtsnicht:1b", MESSAGES)
    assert caught.value.status_code == 404
    assert caught.value.error == "model 'gibtsnicht:1b' not found"


def test_ollama_embed_dimension_and_determinism(fake_llm: FakeLLMServer) -> None:
    client = ollama.Client(host=fake_llm.url, timeout=5)

    batch = client.embed("nomic-embed-text", ["Biotonne Dienstag", "Gelbe Säcke"]).embeddings
    single = client.embed("nomic-embed-text", "Biotonne Dienstag").embeddings

    assert [len(v) for v in batch] == [384, 384]
    assert list(single[0]) == list(batch[0]) == fake_embedding("Biotonne Dienstag")
    fake_llm.embedding_dim = 16
    assert len(client.embed("nomic-embed-text", "x").embeddings[0]) == 16


def test_concurrent_requests_are_served(fake_llm: FakeLLMServer) -> None:
    client = ollama.Client(host=fake_llm.url, timeout=5)
    replies: list[str] = []

    def ask() -> None:
        replies.append(client.chat(MODEL, MESSAGES).message.content or "")

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert replies == [EXPECTED] * 6
    assert len(fake_llm.requests_to("/api/chat")) == 6


# --------------------------------------------------------------------------- llama-index


def test_llama_index_ollama_stream_chat(fake_llm: FakeLLMServer) -> None:
    llm = _ollama_llm(fake_llm)
    responses = list(llm.stream_chat(_llama_messages()))

    assert "".join(r.delta or "" for r in responses) == EXPECTED
    assert responses[-1].message.content == EXPECTED
    assert responses[-1].raw["done"] is True
    assert fake_llm.requests_to("/api/show") == []  # context_window given, no lookup


def test_llama_index_ollama_reads_context_window_from_show(fake_llm: FakeLLMServer) -> None:
    llm = Ollama(model=MODEL, base_url=fake_llm.url, request_timeout=5.0)
    assert llm.metadata.context_window == 8192
    assert llm.chat(_llama_messages()).message.content == EXPECTED
    assert len(fake_llm.requests_to("/api/show")) == 1


def test_llama_index_ollama_async_stream(fake_llm: FakeLLMServer) -> None:
    llm = _ollama_llm(fake_llm)

    async def collect() -> str:
        text = ""
        async for response in await llm.astream_chat(_llama_messages()):
            text += response.delta or ""
        return text

    assert asyncio.run(collect()) == EXPECTED


def test_openai_like_stream_chat_and_chat(fake_llm: FakeLLMServer) -> None:
    llm = _openai_like(fake_llm)

    responses = list(llm.stream_chat(_llama_messages()))
    assert "".join(r.delta or "" for r in responses) == EXPECTED
    assert len(responses) > 3
    assert llm.chat(_llama_messages()).message.content == EXPECTED
    (first, second) = fake_llm.requests_to("/v1/chat/completions")
    assert first.body["stream"] is True
    assert first.body["model"] == MODEL


def test_openai_client_usage_and_models(fake_llm: FakeLLMServer) -> None:
    client = openai.OpenAI(base_url=fake_llm.url + "/v1", api_key="x", max_retries=0)

    assert [m.id for m in client.models.list()] == ["llama3.2:3b", "nomic-embed-text:latest"]
    done = client.chat.completions.create(model=MODEL, messages=OPENAI_MESSAGES)
    assert done.choices[0].message.content == EXPECTED
    assert done.usage is not None and done.usage.completion_tokens > 0
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=OPENAI_MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == EXPECTED
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    vectors = client.embeddings.create(model="nomic-embed-text", input=["a b", "c"])
    assert [len(d.embedding) for d in vectors.data] == [384, 384]


# --------------------------------------------------------------------------- faults


def test_stall_times_out_in_ollama_client(fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(delay_first_byte=5.0)
    client = ollama.Client(host=fake_llm.url, timeout=SHORT_TIMEOUT)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        list(client.chat(MODEL, MESSAGES, stream=True))
    assert time.monotonic() - started < 2.0


def test_stall_times_out_in_llama_index_clients(fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(delay_first_byte=5.0)
    with pytest.raises(httpx.ReadTimeout):
        list(_ollama_llm(fake_llm, request_timeout=SHORT_TIMEOUT).stream_chat(_llama_messages()))
    with pytest.raises(openai.APITimeoutError):
        list(_openai_like(fake_llm, timeout=SHORT_TIMEOUT).stream_chat(_llama_messages()))


def test_slow_stream_between_chunks_times_out(fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(delay_between_chunks=5.0)
    client = ollama.Client(host=fake_llm.url, timeout=SHORT_TIMEOUT)
    received = []
    with pytest.raises(httpx.ReadTimeout):
        for part in client.chat(MODEL, MESSAGES, stream=True):
            received.append(part)
    assert len(received) == 1  # the first delta came, then the stream stalled


def test_delay_between_chunks_streams_gradually(fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = lambda messages, model: "eins zwei drei vier"
    fake_llm.set_faults(delay_between_chunks=0.1)
    client = ollama.Client(host=fake_llm.url, timeout=5)
    stamps = [time.monotonic() for _ in client.chat(MODEL, MESSAGES, stream=True)]
    assert stamps[-1] - stamps[0] >= 0.25


def test_dropped_stream_raises_in_ollama_client(fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(drop_after_chunks=2)
    client = ollama.Client(host=fake_llm.url, timeout=5)
    received = []
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        for part in client.chat(MODEL, MESSAGES, stream=True):
            received.append(part)
    assert len(received) == 2
    assert not any(p.done for p in received)


def test_dropped_stream_raises_in_llama_index_clients(fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(drop_after_chunks=2)
    deltas: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        for response in _ollama_llm(fake_llm).stream_chat(_llama_messages()):
            deltas.append(response.delta or "")
    assert len(deltas) == 2
    with pytest.raises(httpx.RemoteProtocolError):
        list(_openai_like(fake_llm).stream_chat(_llama_messages()))


def test_dropped_non_streaming_reply_raises(fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(drop_after_chunks=0)
    client = ollama.Client(host=fake_llm.url, timeout=5)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        client.chat(MODEL, MESSAGES, stream=False)


def test_error_line_mid_stream_raises_response_error(fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(error_after_chunks=1, fail_message="model runner crashed")
    client = ollama.Client(host=fake_llm.url, timeout=5)
    with pytest.raises(ollama.ResponseError, match="model runner crashed"):
        list(client.chat(MODEL, MESSAGES, stream=True))


def test_500_raises_response_error(fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(fail_status=500, fail_message="CUDA out of memory")
    client = ollama.Client(host=fake_llm.url, timeout=5)
    with pytest.raises(ollama.ResponseError) as streamed:
        list(client.chat(MODEL, MESSAGES, stream=True))
    with pytest.raises(ollama.ResponseError) as whole:
        client.chat(MODEL, MESSAGES, stream=False)
    for caught in (streamed, whole):
        assert caught.value.status_code == 500
        assert caught.value.error == "CUDA out of memory"
    with pytest.raises(openai.InternalServerError):
        _openai_like(fake_llm).chat(_llama_messages())
    # Model listing is not an inference path, so it keeps working during the outage.
    assert client.list().models


def test_fail_next_fails_only_n_requests(fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(fail_next=2)
    client = ollama.Client(host=fake_llm.url, timeout=5)
    for _ in range(2):
        with pytest.raises(ollama.ResponseError):
            client.chat(MODEL, MESSAGES)
    assert client.chat(MODEL, MESSAGES).message.content == EXPECTED
    assert fake_llm.faults.fail_next == 0


def test_reset_restores_normal_behaviour(fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(fail_status=503)
    fake_llm.responder = lambda messages, model: "anders"
    fake_llm.reset()
    client = ollama.Client(host=fake_llm.url, timeout=5)
    assert client.chat(MODEL, MESSAGES).message.content == EXPECTED
    assert len(fake_llm.requests) == 1
    with pytest.raises(TypeError):
        fake_llm.set_faults(no_such_fault=1)


def test_responder_exception_becomes_500(fake_llm: FakeLLMServer) -> None:
    def broken(messages: list[dict[str, Any]], model: str) -> str:
        raise RuntimeError("kaputt")

    fake_llm.responder = broken
    with pytest.raises(ollama.ResponseError) as caught:
        ollama.Client(host=fake_llm.url, timeout=5).chat(MODEL, MESSAGES)
    assert caught.value.status_code == 500
    assert "kaputt" in caught.value.error


def test_stop_does_not_hang_on_stalled_request() -> None:
    server = FakeLLMServer().start()
    server.set_faults(delay_first_byte=30.0)
    errors: list[Exception] = []

    def call() -> None:
        try:
            ollama.Client(host=server.url, timeout=30).chat(MODEL, MESSAGES)
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    deadline = time.monotonic() + 2
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    caller.join(5)
    assert time.monotonic() - started < 2.0
    assert not caller.is_alive()
    assert errors and isinstance(errors[0], httpx.RemoteProtocolError)
