"""Ready-made starting points for common municipal assistants, one YAML file per template.

A template is a bot description (the same fields as a bot YAML export) plus a title and a
description for the "new bot" dialog. The file name is the template's key.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pipelines.bots import BotConfig, BotConfigError
from pipelines.validation import german_error_lines

TEMPLATES_DIR = Path(__file__).resolve().parent
TEMPLATE_KIND = "chatwerkstatt/bot-vorlage"


@dataclass(frozen=True)
class BotTemplate:
    key: str
    title: str
    description: str
    config: BotConfig  # the template's own settings, with its suggested slug


class UnknownTemplateError(LookupError):
    def __init__(self, key: str, available: list[str]) -> None:
        super().__init__(
            f"Eine Vorlage „{key}“ gibt es nicht. Verfügbar sind: {', '.join(available)}."
        )
        self.key = key
        self.available = available


def list_templates() -> list[BotTemplate]:
    """Every template, ordered by key."""
    return [_template(key, document) for key, document in _documents().items()]


def get_template(key: str) -> BotTemplate:
    documents = _documents()
    if key not in documents:
        raise UnknownTemplateError(key, list(documents))
    return _template(key, documents[key])


def bot_from_template(key: str, slug: str, name: str | None = None,
                      knowledge_bases: list[str] | None = None) -> BotConfig:
    """A new bot `slug` with the settings of template `key`; `name` and `knowledge_bases`
    replace the template's when given (no knowledge bases = the bot's own one)."""
    documents = _documents()
    if key not in documents:
        raise UnknownTemplateError(key, list(documents))
    data = copy.deepcopy(documents[key]["bot"])
    data["slug"] = slug
    if name is not None:
        data["name"] = name.strip()
    if knowledge_bases is not None:
        data["knowledge_bases"] = list(knowledge_bases)
    try:
        return BotConfig.model_validate(data)
    except ValidationError as exc:
        raise BotConfigError(german_error_lines(exc)) from exc


def _template(key: str, document: dict[str, Any]) -> BotTemplate:
    return BotTemplate(
        key=key,
        title=str(document["title"]),
        description=" ".join(str(document["description"]).split()),
        config=BotConfig.model_validate(copy.deepcopy(document["bot"])),
    )


@lru_cache(maxsize=1)
def _documents() -> dict[str, dict[str, Any]]:
    """The template files, checked once per process: a broken file names itself."""
    documents: dict[str, dict[str, Any]] = {}
    for path in sorted(TEMPLATES_DIR.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("kind") != TEMPLATE_KIND:
            raise ValueError(f"{path.name}: keine Bot-Vorlage (kind: {TEMPLATE_KIND} fehlt).")
        missing = [field for field in ("title", "description", "bot") if not document.get(field)]
        if missing:
            raise ValueError(f"{path.name}: es fehlt {', '.join(missing)}.")
        try:
            BotConfig.model_validate(document["bot"])
        except ValidationError as exc:
            raise BotConfigError(
                [f"Vorlage {path.name}: {line}" for line in german_error_lines(exc)]
            ) from exc
        documents[path.stem] = document
    return documents
