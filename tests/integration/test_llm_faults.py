"""The language model fails in every way a real server does; each turn still ends in a sourced
answer (extractive fallback), tells why, and is logged. Faults come from the HTTP stand-in."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipelines.assistant import Assistant, TurnEvent, TurnResult
from pipelines.engine import Engine
from pipelines.settings import Settings
from pipelines.store.models import Message as MessageRow
from tests.support.corpus import bot_on_corpus
from tests.support.fake_llm_server import FakeLLMServer, rag_echo_responder

DOCS = {
    "reisepass.md": (
        "# Reisepass\n\n"
        "## Gebühren\n\n"
        "Ein Reisepass kostet 70,00 Euro. "
        "Für Antragstellende unter 24 Jahren kostet der Reisepass 37,50 Euro.\n"
    ),
    "hundesteuer.md": (
        "# Hundesteuer\n\n"
        "## Steuersätze\n\n"
        "Die Hundesteuer beträgt 96 Euro im Jahr für den ersten Hund. "
        "Für jeden weiteren Hund werden 144 Euro im Jahr erhoben.\n"
    ),
}
# Own bot (and so LanceDB table) name per module: caches keyed by table name stay apart.
BOT = "stoer-bot"
QUESTION = "Was kostet ein Reisepass?"
LINE_RE = re.compile(r"^(?P<sentence>.+) \[(?P<number>\d+)\]$")
FALLBACK_NOTICE = "nicht vollständig geantwortet"


def make_bot(engine: Engine, corpus: Path, **changes: Any) -> Assistant:
    return bot_on_corpus(engine, corpus, BOT, **changes)


@pytest.fixture
def assistant(llm_engine: Engine, corpus: Path) -> Assistant:
    return make_bot(llm_engine, corpus)


def run(assistant: Assistant, question: str = QUESTION,
        conversation_id: str | None = None) -> tuple[list[TurnEvent], TurnResult]:
    events = list(assistant.stream(question, conversation_id))
    assert [e.kind for e in events].count("final") == 1 and events[-1].kind == "final"
    result = events[-1].result
    assert result is not None
    return events, result


def shown_text(events: list[TurnEvent]) -> str:
    """What a UI following the protocol displays: deltas appended, 'reset' clears."""
    text = ""
    for event in events:
        if event.kind == "reset":
            text = ""
        elif event.kind == "delta":
            text += event.text
    return text.strip()


def assert_extractive_fallback(engine: Engine, events: list[TurnEvent],
                               result: TurnResult) -> MessageRow:
    assert result.mode == "extractive"
    assert result.model is None
    assert not result.no_answer
    lines = [LINE_RE.match(line) for line in result.answer.splitlines()]
    assert lines and all(lines), result.answer
    for match in lines:
        assert match is not None
        assert any(match["sentence"] in text for text in DOCS.values()), match["sentence"]
    assert "70,00 Euro" in result.answer
    assert shown_text(events) == result.answer
    with engine.session() as session:
        row = session.get(MessageRow, result.message_id)
        assert row is not None
        assert row.mode == "extractive" and row.answer == result.answer
        assert row.error and row.error == result.notice
        return row


# --------------------------------------------------------------------------- server down


def test_ollama_down_gives_extractive_with_notice(engine: Engine, corpus: Path) -> None:
    assistant = make_bot(engine, corpus)  # `engine` points Ollama at a closed port

    events, result = run(assistant)

    assert [e.kind for e in events] == ["delta", "final"]
    assert result.mode == "extractive"
    assert "Kein Sprachmodell erreichbar" in result.notice
    assert "70,00 Euro" in result.answer
    assert shown_text(events) == result.answer


def test_server_stopped_between_turns(llm_engine: Engine, corpus: Path,
                                      fake_llm: FakeLLMServer) -> None:
    assistant = make_bot(llm_engine, corpus)
    assert run(assistant)[1].mode == "llm"
    fake_llm.stop()

    events, result = run(assistant)

    # Availability is cached, so the chat itself fails (connection refused) -> fallback.
    assert_extractive_fallback(llm_engine, events, result)


# --------------------------------------------------------------------------- HTTP errors


def test_http_500_on_chat_falls_back(assistant: Assistant, llm_engine: Engine,
                                     fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(fail_status=500)

    events, result = run(assistant)

    assert_extractive_fallback(llm_engine, events, result)
    assert FALLBACK_NOTICE in result.notice and "500" in result.notice
    assert fake_llm.requests_to("/api/chat", "POST")


def test_no_reset_when_nothing_was_streamed(assistant: Assistant,
                                            fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(fail_status=500)

    events, _ = run(assistant)

    assert "reset" not in [e.kind for e in events]


@pytest.mark.parametrize("status", [404, 503])
def test_other_error_statuses_fall_back(assistant: Assistant, llm_engine: Engine,
                                        fake_llm: FakeLLMServer, status: int) -> None:
    fake_llm.set_faults(fail_status=status)

    events, result = run(assistant)

    assert_extractive_fallback(llm_engine, events, result)
    assert str(status) in result.notice


# --------------------------------------------------------------------------- stall


def test_stall_beyond_timeout_falls_back(make_settings: Callable[..., Settings], corpus: Path,
                                         fake_llm: FakeLLMServer) -> None:
    engine = Engine(make_settings(ollama_host=fake_llm.url, ollama_model=fake_llm.models[0],
                                  llm_request_timeout=0.5))
    assistant = make_bot(engine, corpus)
    fake_llm.set_faults(delay_first_byte=3.0)

    events, result = run(assistant)

    # Had the client waited out the 3 s stall, the stand-in would have answered ("llm").
    row = assert_extractive_fallback(engine, events, result)
    assert "Zeitüberschreitung" in result.notice
    assert row.error is not None and "Zeitüberschreitung" in row.error


# --------------------------------------------------------------------------- broken streams


@pytest.mark.parametrize("fault", ["drop_after_chunks", "error_after_chunks"])
def test_stream_broken_mid_answer(assistant: Assistant, llm_engine: Engine,
                                  fake_llm: FakeLLMServer, fault: str) -> None:
    fake_llm.set_faults(**{fault: 2})

    events, result = run(assistant)

    kinds = [e.kind for e in events]
    assert kinds.count("reset") == 1
    reset_at = kinds.index("reset")
    partial = "".join(e.text for e in events[:reset_at] if e.kind == "delta")
    assert kinds[:reset_at] == ["delta", "delta"] and partial
    [request] = fake_llm.requests_to("/api/chat", "POST")
    full = rag_echo_responder(request.body["messages"], request.body["model"])
    assert full.startswith(partial) and partial != full  # cut off mid-answer
    assert_extractive_fallback(llm_engine, events, result)  # partial text discarded
    assert FALLBACK_NOTICE in result.notice


# --------------------------------------------------------------------------- recovery


def test_next_turn_uses_llm_after_fault_clears(assistant: Assistant,
                                               fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(fail_next=1)

    _, failed = run(assistant)
    _, recovered = run(assistant)  # a new conversation: no condense request

    assert failed.mode == "extractive" and FALLBACK_NOTICE in failed.notice
    assert recovered.mode == "llm" and recovered.notice == ""
    assert len(fake_llm.requests_to("/api/chat", "POST")) == 2
    # A failed chat does not mark the provider unavailable.
    assert assistant.provider is not None and assistant.provider.is_available()


def test_llm_that_comes_up_later_is_used_after_cache_expiry(
    llm_engine: Engine, corpus: Path, fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    wanted = fake_llm.models[0]
    fake_llm.models = [m for m in fake_llm.models if m != wanted]  # model not pulled yet
    assistant = make_bot(llm_engine, corpus)

    assert run(assistant)[1].mode == "extractive"
    fake_llm.models = [*fake_llm.models, wanted]
    # Within AVAILABILITY_CACHE_SECONDS the cached "unavailable" still holds ...
    assert run(assistant)[1].mode == "extractive"
    assert len(fake_llm.requests_to("/api/tags")) == 1
    # ... once it has expired (here: made to expire now), the model is found and used.
    provider = assistant.provider
    assert provider is not None
    monkeypatch.setattr(provider._probe, "_until", 0.0)  # type: ignore[attr-defined]
    assert run(assistant)[1].mode == "llm"


def test_condense_failure_keeps_turn_going(assistant: Assistant,
                                           fake_llm: FakeLLMServer) -> None:
    _, first = run(assistant)
    fake_llm.set_faults(fail_next=1)  # only the condense request fails

    events, follow_up = run(assistant, "Und für Antragstellende unter 24 Jahren?",
                            conversation_id=first.conversation_id)

    assert follow_up.search_query == f"{QUESTION} Und für Antragstellende unter 24 Jahren?"
    assert "Umformulieren fehlgeschlagen" in follow_up.notice
    assert follow_up.mode == "llm"
    assert "reset" not in [e.kind for e in events]


# --------------------------------------------------------------------------- OpenAI API


@pytest.mark.parametrize("faults", [{"fail_status": 500}, {"drop_after_chunks": 2}])
def test_openai_provider_faults_fall_back(make_settings: Callable[..., Settings], corpus: Path,
                                          fake_llm: FakeLLMServer,
                                          faults: dict[str, Any]) -> None:
    engine = Engine(make_settings(openai_base_url=fake_llm.url + "/v1",
                                  openai_model=fake_llm.models[0]))
    assistant = make_bot(engine, corpus, llm={"provider": "openai"})
    fake_llm.set_faults(**faults)

    events, result = run(assistant)

    assert_extractive_fallback(engine, events, result)
    assert FALLBACK_NOTICE in result.notice
    assert fake_llm.requests_to("/v1/chat/completions", "POST")


# --------------------------------------------------------------------------- odd answers


def test_empty_llm_answer_falls_back(assistant: Assistant, llm_engine: Engine,
                                     fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = lambda messages, model: ""

    events, result = run(assistant)

    assert result.answer
    assert_extractive_fallback(llm_engine, events, result)
