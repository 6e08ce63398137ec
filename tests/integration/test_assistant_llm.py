"""Assistant with a language model: the real llama-index clients against the HTTP stand-in.

What the stand-in received is checked as well as what the assistant returned: sources,
question, system prompt from the prompt files, context window, condensed follow-ups.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipelines.assistant import MODE_LABELS, Assistant
from pipelines.engine import Engine
from pipelines.llm.providers import get_provider
from pipelines.prompts import PROMPTS_DIR
from pipelines.settings import Settings
from tests.support.corpus import bot_on_corpus
from tests.support.fake_llm_server import FakeLLMServer, message_text, rag_echo_responder

DOCS = {
    "hundesteuer.md": (
        "# Hundesteuer\n\n"
        "## Steuersätze\n\n"
        "Die Hundesteuer beträgt 96 Euro im Jahr für den ersten Hund. "
        "Für jeden weiteren Hund werden 144 Euro im Jahr erhoben.\n"
    ),
    "reisepass.md": (
        "# Reisepass\n\n"
        "## Gebühren\n\n"
        "Ein Reisepass kostet 70,00 Euro. "
        "Für Antragstellende unter 24 Jahren kostet der Reisepass 37,50 Euro.\n"
    ),
    "sperrmuell.txt": (
        "Sperrmüll anmelden\n\n"
        "Sperrmüll melden Sie online über das Abfallportal oder telefonisch beim "
        "Entsorgungsbetrieb an. Die Abholung ist zweimal im Jahr kostenlos.\n"
    ),
}
# Own bot (and so LanceDB table) name per module: caches keyed by table name stay apart.
BOT = "llm-bot"
QUESTION = "Was kostet ein Reisepass?"
CONDENSE_MARKER = "Eigenständige Frage:"  # last line of prompts/de/condense_question.md
Responder = Callable[[list[dict[str, Any]], str], str]


def make_bot(engine: Engine, corpus: Path, **changes: Any) -> Assistant:
    return bot_on_corpus(engine, corpus, BOT, **changes)


@pytest.fixture
def assistant(llm_engine: Engine, corpus: Path) -> Assistant:
    return make_bot(llm_engine, corpus)


def chat_requests(server: FakeLLMServer) -> list[dict[str, Any]]:
    return [r.body for r in server.requests_to("/api/chat", "POST")]


def answering_with(text: str) -> Responder:
    """A responder that answers RAG prompts with `text` (and condense prompts normally)."""

    def respond(messages: list[dict[str, Any]], model: str) -> str:
        if CONDENSE_MARKER in message_text(messages[-1]):
            return rag_echo_responder(messages, model)
        return text

    return respond


def prompt_lines_without_placeholders(name: str) -> list[str]:
    text = (PROMPTS_DIR / "de" / f"{name}.md").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and "$" not in line]


# --------------------------------------------------------------------------- answering


def test_stream_deltas_join_to_final_answer(assistant: Assistant,
                                            fake_llm: FakeLLMServer) -> None:
    events = list(assistant.stream(QUESTION))

    kinds = [e.kind for e in events]
    assert kinds[-1] == "final" and kinds.count("final") == 1
    assert "reset" not in kinds
    deltas = [e.text for e in events if e.kind == "delta"]
    assert len(deltas) >= 3  # streamed piece by piece, not in one block
    result = events[-1].result
    assert result is not None
    assert result.mode == "llm"
    assert result.mode_label == MODE_LABELS["llm"]
    assert result.model == fake_llm.models[0]
    assert result.notice == ""
    assert "".join(deltas) == result.answer
    # The stand-in quotes the first sentence of source [1]: the passage on passport fees.
    assert "70,00 Euro" in result.answer and result.answer.endswith("[1]")
    assert [c.source for c in result.citations] == ["reisepass.md"]


def test_ask_reports_deltas_to_callback(assistant: Assistant) -> None:
    received: list[str] = []
    result = assistant.ask(QUESTION, on_delta=received.append)

    assert result.mode == "llm"
    assert len(received) >= 3 and "".join(received) == result.answer


def test_request_carries_sources_question_prompt_and_context(
    make_settings: Callable[..., Settings], fake_llm: FakeLLMServer, corpus: Path
) -> None:
    engine = Engine(make_settings(ollama_host=fake_llm.url, ollama_model=fake_llm.models[0],
                                  llm_context_window=4096))
    assistant = make_bot(engine, corpus)

    result = assistant.ask(QUESTION)

    assert result.mode == "llm"
    [body] = chat_requests(fake_llm)
    assert body["model"] == fake_llm.models[0]
    assert body["options"]["num_ctx"] == engine.settings.llm_context_window == 4096
    system = [message_text(m) for m in body["messages"] if m["role"] == "system"]
    user = [message_text(m) for m in body["messages"] if m["role"] == "user"]
    assert len(system) == 1 and len(user) == 1
    # Every fixed line of prompts/de/answer_system.md reaches the model, placeholders filled.
    for line in prompt_lines_without_placeholders("answer_system"):
        assert line in system[0], line
    assert "Nutze kein Vorwissen." in system[0]
    assert "„Llm Bot“" in system[0]
    assert "Antworte auf Deutsch (in der Sprache der Frage" in system[0]
    assert "$" not in system[0]
    # Numbered sources with the passages' text, then the question.
    sources = re.findall(r"^\[(\d+)\] ", user[0], flags=re.MULTILINE)
    assert sources == [str(n) for n in range(1, len(result.retrieved) + 1)]
    assert "[1] " in user[0]
    first_source = user[0].split("[1] ", 1)[1]
    assert DOCS["reisepass.md"].splitlines()[-1] in first_source.split("\n\n")[0]
    assert f"Frage: {QUESTION}" in user[0]
    assert user[0].index("[1] ") < user[0].index(f"Frage: {QUESTION}")


def test_bot_settings_shape_the_system_prompt(llm_engine: Engine, corpus: Path,
                                              fake_llm: FakeLLMServer) -> None:
    assistant = make_bot(
        llm_engine, corpus, name="Bürgerbot Jena", persona="knapp und höflich",
        system_prompt="Nenne am Ende immer das Bürgerbüro.", answer_style="stichpunkte",
    )

    assert assistant.ask(QUESTION).mode == "llm"

    [body] = chat_requests(fake_llm)
    system = message_text(body["messages"][0])
    assert "„Bürgerbot Jena“" in system
    assert "Ton und Rolle: knapp und höflich." in system
    assert "Nenne am Ende immer das Bürgerbüro." in system
    assert "in übersichtlichen Stichpunkten." in system


def test_english_question_asks_for_english_answer(llm_engine: Engine, corpus: Path,
                                                  fake_llm: FakeLLMServer) -> None:
    # Threshold 0: the (German) sources are always handed to the model.
    assistant = make_bot(llm_engine, corpus, retrieval={"confidence_threshold": 0.0})

    result = assistant.ask("How much does a passport cost in this town?")

    assert result.language == "en"
    assert result.mode == "llm"
    [body] = chat_requests(fake_llm)
    assert "Antworte auf Englisch (in der Sprache der Frage" in message_text(body["messages"][0])


def test_low_confidence_question_does_not_call_the_model(assistant: Assistant,
                                                          fake_llm: FakeLLMServer) -> None:
    result = assistant.ask("Wann hat das Hallenbad am Sonntag geöffnet?")

    assert result.mode == "keine_antwort" and result.no_answer
    assert result.citations == []
    assert result.model is None
    assert chat_requests(fake_llm) == []


# --------------------------------------------------------------------------- citations


def test_citation_follows_the_number_the_model_cites(assistant: Assistant,
                                                     fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = answering_with("Laut der zweiten Quelle gilt das so. [2]")

    result = assistant.ask(QUESTION)

    assert result.mode == "llm"
    assert len(result.retrieved) >= 2
    assert [c.number for c in result.citations] == [2]
    [citation] = result.citations
    assert citation.chunk_id == result.retrieved[1]["chunk_id"]
    assert citation.source == result.retrieved[1]["source"]
    assert citation.section == result.retrieved[1]["section"]


def test_several_citations_sorted_and_deduplicated(assistant: Assistant,
                                                   fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = answering_with("Erstens. [2] Zweitens. [1][2]")

    result = assistant.ask(QUESTION)

    assert [c.number for c in result.citations] == [1, 2]
    assert [c.chunk_id for c in result.citations] == [
        result.retrieved[0]["chunk_id"], result.retrieved[1]["chunk_id"]]


def test_out_of_range_citation_is_ignored(assistant: Assistant,
                                          fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = answering_with("Das steht in einer Quelle. [9]")

    result = assistant.ask(QUESTION)

    assert result.mode == "llm"
    assert len(result.retrieved) < 9
    numbers = [c.number for c in result.citations]
    assert 9 not in numbers
    # With no valid marker the passages the answer rests on are listed (top three).
    assert numbers == list(range(1, min(3, len(result.retrieved)) + 1))


# --------------------------------------------------------------------------- follow-ups


def test_follow_up_is_condensed_by_the_model(assistant: Assistant,
                                             fake_llm: FakeLLMServer) -> None:
    standalone = "Wie hoch ist die Hundesteuer für jeden weiteren Hund?"

    def respond(messages: list[dict[str, Any]], model: str) -> str:
        if CONDENSE_MARKER in message_text(messages[-1]):
            return standalone + "\nDiese Zeile ist Erklärung und wird verworfen."
        return rag_echo_responder(messages, model)

    first = assistant.ask(QUESTION)
    fake_llm.responder = respond
    fake_llm.clear_requests()

    follow_up = assistant.ask("Und was kostet das für den zweiten Hund?",
                              conversation_id=first.conversation_id)

    condense, answer = chat_requests(fake_llm)
    prompt = message_text(condense["messages"][-1])
    assert CONDENSE_MARKER in prompt
    assert f"Frage: {QUESTION}" in prompt  # the history
    assert f"Antwort: {first.answer}" in prompt
    assert "Letzte Frage: Und was kostet das für den zweiten Hund?" in prompt
    assert follow_up.search_query == standalone
    assert follow_up.mode == "llm"
    assert f"Frage: {standalone}" in message_text(answer["messages"][-1])
    assert follow_up.citations[0].source == "hundesteuer.md"


# --------------------------------------------------------------------------- providers


@pytest.fixture
def openai_engine(make_settings: Callable[..., Settings], fake_llm: FakeLLMServer) -> Engine:
    return Engine(make_settings(openai_base_url=fake_llm.url + "/v1",
                                openai_model=fake_llm.models[0]))


def test_openai_compatible_provider(openai_engine: Engine, corpus: Path,
                                    fake_llm: FakeLLMServer) -> None:
    assistant = make_bot(openai_engine, corpus, llm={"provider": "openai"})

    events = list(assistant.stream(QUESTION))

    result = events[-1].result
    assert result is not None
    assert result.mode == "llm"
    assert result.model == fake_llm.models[0]
    deltas = [e.text for e in events if e.kind == "delta"]
    assert len(deltas) >= 3 and "".join(deltas) == result.answer
    assert "70,00 Euro" in result.answer
    assert fake_llm.requests_to("/api/chat") == []
    [request] = fake_llm.requests_to("/v1/chat/completions", "POST")
    assert request.body["model"] == fake_llm.models[0]
    assert request.body["stream"] is True
    assert any("Nutze kein Vorwissen." in message_text(m) for m in request.body["messages"])


def test_openai_api_key_is_sent(make_settings: Callable[..., Settings], corpus: Path,
                                fake_llm: FakeLLMServer) -> None:
    engine = Engine(make_settings(openai_base_url=fake_llm.url + "/v1",
                                  openai_model=fake_llm.models[0], openai_api_key="geheim-1"))
    assistant = make_bot(engine, corpus, llm={"provider": "openai"})

    assert assistant.ask(QUESTION).mode == "llm"

    for request in fake_llm.requests_to("/v1/models") + fake_llm.requests_to(
            "/v1/chat/completions"):
        assert request.headers.get("Authorization") == "Bearer geheim-1", request.path


def test_changed_api_key_reaches_the_server(make_settings: Callable[..., Settings],
                                            fake_llm: FakeLLMServer) -> None:
    # Everything equal but the key (make_settings would otherwise pick a new closed port).
    common = {"openai_base_url": fake_llm.url + "/v1", "openai_model": fake_llm.models[0],
              "ollama_host": fake_llm.url}
    old = make_settings(openai_api_key="alter-schluessel", **common)
    new = make_settings(openai_api_key="neuer-schluessel", **common)
    assert get_provider(old, "openai") is not None

    provider = get_provider(new, "openai")

    assert provider is not None and provider.is_available()
    [probe] = fake_llm.requests_to("/v1/models")
    assert probe.headers.get("Authorization") == "Bearer neuer-schluessel"


def test_missing_model_falls_back_to_extractive(llm_engine: Engine, corpus: Path,
                                                fake_llm: FakeLLMServer) -> None:
    assistant = make_bot(llm_engine, corpus, llm={"model": "gibtesnicht:1b"})

    result = assistant.ask(QUESTION)

    assert result.mode == "extractive"
    assert result.model is None
    assert result.notice  # the citizen-facing hint that no model answered
    assert "70,00 Euro" in result.answer
    assert fake_llm.requests_to("/api/tags")  # the server was asked ...
    assert chat_requests(fake_llm) == []  # ... but not made to answer with a missing model


def test_bot_model_overrides_server_default(llm_engine: Engine, corpus: Path,
                                            fake_llm: FakeLLMServer) -> None:
    fake_llm.models = [*fake_llm.models, "qwen2.5:7b"]
    assistant = make_bot(llm_engine, corpus, llm={"model": "qwen2.5:7b", "temperature": 0.7})

    result = assistant.ask(QUESTION)

    assert result.mode == "llm" and result.model == "qwen2.5:7b"
    [body] = chat_requests(fake_llm)
    assert body["model"] == "qwen2.5:7b"
    assert body["options"]["temperature"] == pytest.approx(0.7)


def test_chosen_language_overrides_the_question_and_marks_the_answer_translated(
        llm_engine: Engine, corpus: Path, fake_llm: FakeLLMServer) -> None:
    # The public chat's language switch: a German question, an answer asked for in Ukrainian.
    assistant = make_bot(llm_engine, corpus)

    result = assistant.ask(QUESTION, language="uk")

    assert result.mode == "llm" and result.translated
    assert result.language == "uk"
    [body] = chat_requests(fake_llm)
    assert "Antworte auf Ukrainisch" in message_text(body["messages"][0])
    german = assistant.ask(QUESTION)
    assert german.language == "de" and not german.translated


def test_plain_language_adds_the_prompt_file_and_offline_says_it_cannot(
        llm_engine: Engine, make_settings: Callable[..., Settings], corpus: Path,
        fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    rules = (PROMPTS_DIR / "de" / "plain_language.md").read_text(encoding="utf-8")
    first_rule = rules.splitlines()[1].strip("- ;")
    assistant = make_bot(llm_engine, corpus)

    result = assistant.ask(QUESTION, plain_language=True)

    assert result.mode == "llm" and result.plain_language
    # The answer with the plain-language rules, then the check-and-revise loop of
    # pipelines.plain.simplify on that answer (at least its first round).
    body, *loop = chat_requests(fake_llm)
    assert first_rule in message_text(body["messages"][0])
    assert 1 <= len(loop) <= 2
    assert "vom Sprachmodell, geprüft nach den Regeln" in result.notice
    assert result.citations  # the sources of the original answer stay listed
    fake_llm.clear_requests()
    assistant.ask(QUESTION)
    assert first_rule not in message_text(chat_requests(fake_llm)[-1]["messages"][0])
    assert len(chat_requests(fake_llm)) == 1

    engine = Engine(make_settings(data_dir=tmp_path / "offline"))
    offline = bot_on_corpus(engine, corpus, BOT).ask(QUESTION, plain_language=True,
                                                     language="en")
    assert offline.mode == "extractive"
    assert not offline.plain_language and not offline.translated
    assert "brauchen ein Sprachmodell" in offline.notice
    # In German, Einfache Sprache works without a model: rule-based, and it says so.
    engine = Engine(make_settings(data_dir=tmp_path / "offline-de"))
    german = bot_on_corpus(engine, corpus, BOT).ask(QUESTION, plain_language=True)
    assert german.mode == "extractive" and german.plain_language
    assert "ohne Sprachmodell (regelbasiert" in german.notice
