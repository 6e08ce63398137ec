"""Prompt files (pipelines/prompts/de/*.md) filled with string.Template."""

from __future__ import annotations

from string import Template

import pytest

from pipelines.prompts import PROMPTS_DIR, render_prompt

PROMPT_FILES = sorted((PROMPTS_DIR / "de").glob("*.md"))


def placeholders(name: str) -> list[str]:
    template = Template((PROMPTS_DIR / "de" / f"{name}.md").read_text(encoding="utf-8"))
    assert template.is_valid(), f"{name}.md has a malformed '$' placeholder"
    return template.get_identifiers()


def test_the_assistants_prompts_exist() -> None:
    names = {path.stem for path in PROMPT_FILES}

    assert {"answer_system", "answer_user", "condense_question"} <= names


@pytest.mark.parametrize("name", [path.stem for path in PROMPT_FILES])
def test_render_fills_every_placeholder(name: str) -> None:
    identifiers = placeholders(name)
    values = {key: f"<WERT {key}>" for key in identifiers}

    text = render_prompt(name, **values)

    for key in identifiers:
        assert f"<WERT {key}>" in text
        assert f"${key}" not in text and f"${{{key}}}" not in text


def test_answer_user_layout() -> None:
    text = render_prompt("answer_user", sources="[1] Hundesteuer\nDer Hund kostet 96 Euro.",
                         question="Was kostet der Hund?")

    assert text.startswith("Quellen:")
    assert text.index("[1] Hundesteuer") < text.index("Frage: Was kostet der Hund?")
    assert text == text.strip()


def test_dollar_in_values_is_kept_literally() -> None:
    question = "Gilt $question oder ${sources} oder $$ – und kostet es 5 $?"
    sources = "[1] Preisliste: $5 pro Stück, $bot_name bleibt so."

    text = render_prompt("answer_user", sources=sources, question=question)

    assert question in text
    assert sources in text


def test_missing_placeholder_raises_key_error() -> None:
    with pytest.raises(KeyError, match="question"):
        render_prompt("answer_user", sources="[1] Text")


def test_extra_values_are_ignored() -> None:
    text = render_prompt("answer_user", sources="S", question="F", unbenutzt="X")

    assert "X" not in text


def test_unknown_language_falls_back_to_german() -> None:
    values = {"sources": "[1] Text", "question": "Frage?"}

    assert render_prompt("answer_user", language="tr", **values) == render_prompt(
        "answer_user", **values)


def test_unknown_prompt_name_fails() -> None:
    with pytest.raises(FileNotFoundError):
        render_prompt("gibt_es_nicht")
