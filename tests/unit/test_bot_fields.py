"""Form labels, help texts, choice labels and the readable diff of two bot configurations."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from pipelines.bot_fields import (
    UNSET,
    ConfigChange,
    describe_fields,
    diff_configs,
    field_choices,
    field_help,
    render_value,
)
from pipelines.bots import BotConfig, LLMSettings, RetrievalSettings
from pipelines.language import detect_language
from pipelines.settings import MAX_TOP_K

SYSTEM_PROMPT = (
    "Antworte nur zu Leistungen der Stadtverwaltung. "
    "Verweise bei Fragen zum Kfz auf die Zulassungsstelle des Landkreises. "
    "Nenne bei Gebühren immer die Quelle."
)


def config(**changes: Any) -> BotConfig:
    values: dict[str, Any] = {"slug": "buergerbot", "name": "Bürgerbot",
                              "system_prompt": SYSTEM_PROMPT, "knowledge_bases": ["allgemein"]}
    values.update(changes)
    return BotConfig.model_validate(values)


def all_fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Any]]:
    """Every field of `model` and its nested models, independent of the code under test."""
    found = []
    for name, info in model.model_fields.items():
        found.append((f"{prefix}{name}", info))
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.extend(all_fields(annotation, prefix=f"{prefix}{name}."))
    return found


# --------------------------------------------------------------------------- help texts


@pytest.mark.parametrize("path,info", all_fields(BotConfig))
def test_every_field_has_german_title_and_help(path: str, info: Any) -> None:
    assert info.title and info.title.strip(), f"{path} has no title"
    assert info.description and len(info.description) >= 30, f"{path} has no help text"
    assert detect_language(info.description, default="unbestimmt") == "de", path
    assert field_help(BotConfig, path) == (info.title, info.description)


def test_nested_models_carry_their_section_title() -> None:
    assert RetrievalSettings.model_config.get("title") == "Suche in den Unterlagen"
    assert LLMSettings.model_config.get("title") == "Sprachmodell"


def test_describe_fields_lists_every_value_in_form_order() -> None:
    helps = describe_fields()
    leaves = [path for path, info in all_fields(BotConfig)
              if path not in ("retrieval", "llm", "scope", "handoff", "curated",
                                "public")]

    assert [h.path for h in helps] == leaves
    top_k = next(h for h in helps if h.path == "retrieval.top_k")
    assert (top_k.title, top_k.group) == ("Anzahl Textstellen", "Suche in den Unterlagen")
    assert top_k.label == "Suche in den Unterlagen › Anzahl Textstellen"
    assert f"1–{MAX_TOP_K}" in top_k.description
    name = next(h for h in helps if h.path == "name")
    assert (name.group, name.label) == ("", "Name")
    # Labels are unique, so a form never shows the same label twice.
    assert len({h.label for h in helps}) == len(helps)


def test_unknown_field_path_is_named_in_german() -> None:
    with pytest.raises(LookupError) as caught:
        field_help(BotConfig, "retrieval.anzahl")

    message = str(caught.value)
    assert message.startswith("Das Feld „retrieval.anzahl“ gibt es in „Bot“ nicht.")
    assert "retrieval.top_k" in message
    with pytest.raises(LookupError):
        field_help(BotConfig, "name.laenge")  # a plain field has no sub-fields


def test_choices_come_with_german_labels() -> None:
    assert field_choices(BotConfig, "answer_style") == [
        ("kurz", "kurz"), ("ausfuehrlich", "ausführlich"), ("stichpunkte", "in Stichpunkten"),
    ]
    provider = field_choices(BotConfig, "llm.provider")
    assert [value for value, _ in provider] == [None, "ollama", "openai", "extractive"]
    assert provider[0][1] == "Einstellung des Servers"
    assert field_choices(BotConfig, "name") == []
    assert field_choices(BotConfig, "retrieval.text_weight") == []  # optional, but no choice


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("value,path,expected", [
    (["de", "en", "tr"], "", "de, en, tr"),
    ([], "", "(keine)"),
    (True, "", "ja"),
    (False, "", "nein"),
    (0.35, "", "0,35"),
    (1.0, "", "1"),
    (7, "", "7"),
    (None, "", UNSET),
    ("", "", "(leer)"),
    ("  ", "", "(leer)"),
    ("ausfuehrlich", "answer_style", "ausführlich"),
    (None, "llm.provider", "Einstellung des Servers"),
    ("extractive", "llm.provider", "ohne Sprachmodell (wörtliche Sätze aus den Quellen)"),
    ("ausfuehrlich", "persona", "ausfuehrlich"),  # labels belong to their field only
])
def test_values_are_rendered_for_people(value: Any, path: str, expected: str) -> None:
    assert render_value(value, path) == expected


# --------------------------------------------------------------------------- diff


def test_unchanged_config_has_no_changes() -> None:
    assert diff_configs(config(), config()) == []
    # Equal after a round trip through JSON (as after a form or the database).
    assert diff_configs(config(), BotConfig.model_validate(config().model_dump(mode="json"))) == []


def test_changes_are_listed_in_form_order_with_titles() -> None:
    old = config()
    new = config(answer_style="stichpunkte", languages=["de", "en"], name="Bürgerservice",
                 retrieval={"top_k": 8, "confidence_threshold": 0.4},
                 llm={"provider": "extractive"})

    changes = diff_configs(old, new)

    assert [c.path for c in changes] == [
        "name", "languages", "retrieval.top_k", "retrieval.confidence_threshold",
        "llm.provider", "answer_style",
    ]
    assert [c.summary() for c in changes] == [
        "Name: „Bürgerbot“ → „Bürgerservice“",
        "Sprachen: „de“ → „de, en“",
        "Suche in den Unterlagen › Anzahl Textstellen: „5“ → „8“",
        "Suche in den Unterlagen › Sicherheitsschwelle: „0,35“ → „0,4“",
        "Sprachmodell › Anbieter: „Einstellung des Servers“ → "
        "„ohne Sprachmodell (wörtliche Sätze aus den Quellen)“",
        "Antwortstil: „kurz“ → „in Stichpunkten“",
    ]
    assert all(c.diff == [] for c in changes)
    # The reverse direction swaps the values.
    back = diff_configs(new, old)
    assert [(c.old, c.new) for c in back] == [(c.new, c.old) for c in changes]


def test_long_text_change_is_a_unified_diff_of_the_changed_sentence() -> None:
    new_prompt = SYSTEM_PROMPT.replace(
        "Verweise bei Fragen zum Kfz auf die Zulassungsstelle des Landkreises.",
        "Verweise bei Fragen zum Kfz auf die Außenstelle der Zulassungsbehörde.",
    )
    [change] = diff_configs(config(), config(system_prompt=new_prompt))

    assert change == ConfigChange(
        path="system_prompt",
        title="Zusätzliche Anweisungen",
        group="",
        old=SYSTEM_PROMPT,
        new=new_prompt,
        diff=[
            "--- vorher",
            "+++ nachher",
            "@@ -1,3 +1,3 @@",
            " Antworte nur zu Leistungen der Stadtverwaltung.",
            "-Verweise bei Fragen zum Kfz auf die Zulassungsstelle des Landkreises.",
            "+Verweise bei Fragen zum Kfz auf die Außenstelle der Zulassungsbehörde.",
            " Nenne bei Gebühren immer die Quelle.",
        ],
    )
    assert change.summary() == "Zusätzliche Anweisungen: Text geändert"


def test_short_text_and_emptied_text() -> None:
    [persona] = diff_configs(config(persona="knapp"), config(persona="freundlich"))
    assert (persona.old, persona.new, persona.diff) == ("knapp", "freundlich", [])

    [emptied] = diff_configs(config(), config(system_prompt=""))
    assert emptied.new == "(leer)"
    assert emptied.diff[:2] == ["--- vorher", "+++ nachher"]
    assert sum(line.startswith("-") for line in emptied.diff[2:]) == 3
    assert not any(line.startswith("+") for line in emptied.diff[2:])
