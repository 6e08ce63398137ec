"""Groundedness with the real pieces: the language-model judge over HTTP against the stand-in
Ollama server, and the offline check and similarity with the local embedding model."""

from __future__ import annotations

import re
from typing import Any

import pytest

from evaluation.answer_metrics import (
    groundedness_llm,
    groundedness_offline,
    judge_groundedness,
    semantic_similarity,
)
from pipelines.engine import Engine
from pipelines.llm.providers import LLMProvider, get_provider
from tests.support.fake_llm_server import FakeLLMServer, message_text

HUND = ("Die Hundesteuer beträgt für den ersten Hund 96,00 Euro im Jahr, für jeden weiteren "
        "Hund 144,00 Euro. Die Steuer wird jährlich zum 1. Juli fällig.")
TERMIN = ("Für die Beantragung von Personalausweisen und Reisepässen sowie für An- und "
          "Ummeldungen ist ein Termin erforderlich. Termine buchen Sie online unter "
          "www.musterstadt.de/termine oder telefonisch unter 01234 567-1100.")
ANSWER = ("Gerne! Die Hundesteuer beträgt 96 Euro im Jahr. [1] Sie ist zum 1. Juli fällig. [1] "
          "Für jeden weiteren Hund sind es 80 Euro. [1]")


def provider_of(engine: Engine) -> LLMProvider:
    provider = get_provider(engine.settings)
    assert provider is not None
    return provider


def judge_by_rule(messages: list[dict[str, Any]], model: str) -> str:
    """A judge that reads the numbered sentences from the prompt: 80 Euro is wrong."""
    prompt = message_text(messages[-1])
    lines = re.findall(r"^Satz (\d+): (.*)$", prompt, re.MULTILINE)
    verdicts = [f"{n}: {'nicht gestützt' if '80 Euro' in s else 'gestützt'}" for n, s in lines]
    return "Meine Prüfung:\n" + "\n".join(verdicts)


def test_judge_rates_each_sentence(llm_engine: Engine, fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = judge_by_rule

    result = groundedness_llm(provider_of(llm_engine), ANSWER, [HUND])

    assert result is not None and result.method == "llm"
    assert [(s.sentence, s.supported) for s in result.checked] == [
        ("Die Hundesteuer beträgt 96 Euro im Jahr. [1]", True),
        ("Sie ist zum 1. Juli fällig. [1]", True),
        ("Für jeden weiteren Hund sind es 80 Euro. [1]", False),
    ]
    assert result.share == pytest.approx(2 / 3)
    assert not result.sentences[0].checked  # "Gerne!" is not sent to the judge
    calls = fake_llm.requests_to("/api/chat", "POST")
    assert len(calls) == 1
    prompt = message_text(calls[0].body["messages"][-1])
    assert f"[1] {HUND}" in prompt
    assert "Satz 1: Die Hundesteuer beträgt 96 Euro im Jahr. [1]" in prompt
    assert "Satz 4" not in prompt and "Gerne" not in prompt
    assert "genau 3 Zeilen" in prompt


def test_unreadable_verdict_gives_none_with_reason(llm_engine: Engine,
                                                   fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = lambda messages, model: "Die Antwort ist im Großen und Ganzen richtig."

    provider = provider_of(llm_engine)
    judged = judge_groundedness(provider, ANSWER, [HUND])

    assert judged.groundedness is None
    assert "Kein lesbares Urteil für Satz 1, 2, 3" in judged.reason
    assert groundedness_llm(provider, ANSWER, [HUND]) is None


def test_failing_model_gives_none_with_reason(llm_engine: Engine,
                                              fake_llm: FakeLLMServer) -> None:
    fake_llm.set_faults(fail_status=500)

    judged = judge_groundedness(provider_of(llm_engine), ANSWER, [HUND])

    assert judged.groundedness is None
    assert judged.reason.startswith("Sprachmodell als Prüfer nicht verfügbar")


def test_nothing_to_judge_needs_no_call(llm_engine: Engine, fake_llm: FakeLLMServer) -> None:
    provider = provider_of(llm_engine)

    empty = groundedness_llm(provider, "", [HUND])
    unsourced = groundedness_llm(provider, "Die Hundesteuer beträgt 96 Euro.", [])

    assert empty is not None and empty.empty and empty.share == 0.0
    assert unsourced is not None and unsourced.share == 0.0 and not unsourced.empty
    assert fake_llm.requests_to("/api/chat", "POST") == []


# --------------------------------------------------------------------------- embedding model


def test_semantic_similarity_with_the_local_model(engine: Engine) -> None:
    reference = "Die Hundesteuer beträgt 96 Euro im Jahr."

    close = semantic_similarity(engine.embedder, "Für einen Hund zahlt man jährlich 96 Euro "
                                "Steuer.", reference)
    far = semantic_similarity(engine.embedder, "Die Stadtbibliothek ist samstags geöffnet.",
                              reference)

    assert semantic_similarity(engine.embedder, reference, reference) == pytest.approx(1.0)
    assert 0.0 <= far < close <= 1.0
    assert close - far > 0.2


PAYMENT = ("Sie können mit girocard (EC-Karte) oder bar bezahlen. Kreditkarten werden im "
           "Bürgerbüro nicht akzeptiert.")
PARAPHRASE = "Kreditkarten nimmt die Kasse im Bürgerbüro leider nicht an."


def test_embedder_rescues_a_paraphrase_but_not_a_wrong_number(engine: Engine) -> None:
    lexical = groundedness_offline(PARAPHRASE, [PAYMENT]).sentences[0]
    combined = groundedness_offline(PARAPHRASE, [PAYMENT], embedder=engine.embedder
                                    ).sentences[0]
    wrong = groundedness_offline("Termine buchen Sie telefonisch unter 01234 567-1199.",
                                 [TERMIN], embedder=engine.embedder).sentences[0]

    # Two of five words ("Kreditkarten", "Bürgerbüro"), but the same statement.
    assert lexical.score == pytest.approx(2 / 5)
    assert not lexical.supported and lexical.semantic is None
    assert combined.supported and combined.semantic is not None
    assert combined.semantic >= 0.7
    assert wrong.semantic is not None and wrong.semantic >= 0.7
    assert not wrong.supported and wrong.missing_numbers == ("1199",)


def test_embedder_does_not_rescue_another_topic(engine: Engine) -> None:
    answer = ("Die Stadtbibliothek hat samstags geöffnet. Für einen Reisepass brauchen Sie "
              "ein biometrisches Passfoto.")

    result = groundedness_offline(answer, [HUND, TERMIN], embedder=engine.embedder)

    assert [s.supported for s in result.sentences] == [False, False]
    assert all(s.semantic is not None and s.semantic < 0.7 for s in result.sentences)
