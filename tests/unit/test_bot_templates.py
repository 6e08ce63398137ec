"""The shipped bot templates: they load, validate, speak German and differ where their use
cases differ; new bots made from them carry the caller's slug, name and knowledge bases."""

from __future__ import annotations

import pytest
import yaml

from pipelines.bot_templates import (
    TEMPLATES_DIR,
    BotTemplate,
    UnknownTemplateError,
    bot_from_template,
    get_template,
    list_templates,
)
from pipelines.bots import YAML_KIND, BotConfig, BotConfigError, parse_bot_yaml
from pipelines.language import detect_language
from pipelines.settings import DEFAULT_TEXT_WEIGHT

EXPECTED_KEYS = ["buergerservice", "onboarding", "pressestelle", "protokoll", "wissensmanagement"]


@pytest.fixture(scope="module")
def templates() -> dict[str, BotTemplate]:
    return {template.key: template for template in list_templates()}


def is_german(text: str) -> bool:
    # A default that is not "de", so an undecided detector does not count as German.
    return detect_language(text, default="unbestimmt") == "de"


def test_every_template_file_is_listed_in_key_order(templates: dict[str, BotTemplate]) -> None:
    assert list(templates) == EXPECTED_KEYS
    assert sorted(p.stem for p in TEMPLATES_DIR.glob("*.yaml")) == EXPECTED_KEYS


@pytest.mark.parametrize("key", EXPECTED_KEYS)
def test_template_is_complete_and_german(templates: dict[str, BotTemplate], key: str) -> None:
    template = templates[key]
    config = template.config

    assert template.title.strip() and template.description.strip()
    for text in (template.description, config.name, config.description, config.greeting,
                 config.persona, config.system_prompt):
        assert text.strip(), key
    for text in (template.description, config.description, config.greeting,
                 config.system_prompt):
        assert is_german(text), (key, text[:80])
    # Real instructions, not a placeholder line.
    assert len(config.system_prompt.splitlines()) >= 5
    assert "de" in config.languages
    # Templates are generic: no sample town baked in.
    assert "Musterstadt" not in yaml.safe_dump(config.model_dump(mode="json"),
                                               allow_unicode=True)


@pytest.mark.parametrize("key", EXPECTED_KEYS)
def test_template_survives_a_bot_yaml_round_trip(templates: dict[str, BotTemplate],
                                                 key: str) -> None:
    config = templates[key].config
    document = {"kind": YAML_KIND, "version": 1, "bot": config.model_dump(mode="json")}

    assert parse_bot_yaml(yaml.safe_dump(document, allow_unicode=True)) == config


def test_templates_are_distinct(templates: dict[str, BotTemplate]) -> None:
    configs = [t.config for t in templates.values()]
    for attribute in ("slug", "name", "greeting", "persona", "system_prompt"):
        values = [getattr(c, attribute) for c in configs]
        assert len(set(values)) == len(values), attribute
    assert len({t.title for t in templates.values()}) == len(templates)


def test_settings_follow_the_use_case(templates: dict[str, BotTemplate]) -> None:
    config = {key: t.config for key, t in templates.items()}
    citizens, onboarding, press = (config[k] for k in ("buergerservice", "onboarding",
                                                       "pressestelle"))
    minutes, knowledge = config["protokoll"], config["wissensmanagement"]

    # Citizens write in many languages and must not get guessed fees: most languages,
    # the strictest threshold, short answers.
    assert len(citizens.languages) == max(len(c.languages) for c in config.values())
    assert len(citizens.languages) >= 4
    assert citizens.retrieval.confidence_threshold == max(
        c.retrieval.confidence_threshold for c in config.values())
    assert citizens.answer_style == "kurz"
    # Drafting press texts is the only use that needs freedom of wording; the rest stay factual.
    assert press.llm.temperature == max(c.llm.temperature for c in config.values())
    assert press.llm.temperature > 0.3
    assert all(c.llm.temperature <= 0.2 for key, c in config.items() if key != "pressestelle")
    # Minutes draw on many passages of one meeting, listed point by point, reproducibly.
    assert minutes.retrieval.top_k == max(c.retrieval.top_k for c in config.values())
    assert minutes.answer_style == "stichpunkte"
    assert minutes.llm.temperature == 0
    # Internal rules are found by their exact terms (file numbers, paragraphs).
    assert knowledge.retrieval.text_weight is not None
    assert knowledge.retrieval.text_weight > DEFAULT_TEXT_WEIGHT
    # Internal tools answer internal staff in German (onboarding also in English).
    assert knowledge.languages == ["de"] and minutes.languages == ["de"]
    assert onboarding.languages == ["de", "en"]
    # No two templates share the same retrieval and style settings.
    shapes = {(*c.retrieval.model_dump().values(), c.answer_style, c.llm.temperature)
              for c in config.values()}
    assert len(shapes) == len(config)


def test_bot_from_template_takes_slug_name_and_knowledge_bases() -> None:
    config = bot_from_template("protokoll", "ratssitzungen", name="  Ratsprotokolle ",
                               knowledge_bases=["rat-2025", "ausschuesse"])

    template = get_template("protokoll").config
    assert (config.slug, config.name) == ("ratssitzungen", "Ratsprotokolle")
    assert config.knowledge_bases == ["rat-2025", "ausschuesse"]
    assert config.system_prompt == template.system_prompt
    assert config.retrieval == template.retrieval
    assert config.greeting == template.greeting


def test_bot_from_template_defaults_to_template_name_and_own_knowledge_base() -> None:
    config = bot_from_template("buergerservice", "buergerbot")

    assert config.name == get_template("buergerservice").config.name
    assert config.knowledge_bases == []
    assert config.effective_knowledge_bases() == ["buergerbot"]


def test_changing_a_new_bot_leaves_the_template_alone() -> None:
    first = bot_from_template("onboarding", "einarbeitung")
    first.languages.append("tr")
    first.retrieval.top_k = 1

    again = bot_from_template("onboarding", "einarbeitung")
    assert again.languages == ["de", "en"]
    assert again.retrieval.top_k == get_template("onboarding").config.retrieval.top_k == 6


def test_unknown_template_names_the_valid_keys() -> None:
    with pytest.raises(UnknownTemplateError) as caught:
        bot_from_template("buergeramt", "bot")

    message = str(caught.value)
    assert message.startswith("Eine Vorlage „buergeramt“ gibt es nicht.")
    for key in EXPECTED_KEYS:
        assert key in message
    assert caught.value.available == EXPECTED_KEYS
    with pytest.raises(UnknownTemplateError):
        get_template("buergeramt")


def test_invalid_slug_is_refused_in_german() -> None:
    with pytest.raises(BotConfigError) as caught:
        bot_from_template("buergerservice", "Bürger Bot")

    assert caught.value.problems == [
        "Feld „slug“: Kurzname: 1–80 Zeichen, Kleinbuchstaben a–z, Ziffern, Bindestriche "
        "(nicht am Anfang/Ende)."
    ]
    with pytest.raises(BotConfigError) as empty_name:
        bot_from_template("buergerservice", "buergerbot", name="   ")
    assert empty_name.value.problems == ["Feld „name“: ist zu kurz (mindestens 1 Zeichen)"]


def test_new_bot_is_a_valid_bot_config() -> None:
    for key in EXPECTED_KEYS:
        config = bot_from_template(key, f"test-{key}")
        assert BotConfig.model_validate(config.model_dump(mode="json")) == config
