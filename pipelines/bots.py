"""Bots are data: a pydantic BotConfig, stored as numbered versions, exported to YAML."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.settings import MAX_TOP_K
from pipelines.store.models import Bot, BotVersion, Workspace
from pipelines.validation import german_error_lines

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,78}[a-z0-9]$|^[a-z0-9]$")
YAML_KIND = "chatwerkstatt/bot"



class BotConfigError(ValueError):
    """A bot description that does not validate; `problems` are German lines naming fields."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Die Bot-Beschreibung ist ungültig:\n" + "\n".join(problems))


class BotNotFoundError(LookupError):
    def __init__(self, slug: str, workspace: str) -> None:
        super().__init__(f"Bot '{slug}' gibt es im Arbeitsbereich '{workspace}' nicht.")
        self.slug = slug
        self.workspace = workspace


class RetrievalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    top_k: int = Field(
        5, ge=1, le=MAX_TOP_K, description="Wie viele Textstellen die Antwort stützen."
    )
    confidence_threshold: float = Field(
        0.35, ge=0, le=1, description="Darunter gilt eine Antwort als unsicher."
    )
    text_weight: float | None = Field(
        None, ge=0, le=1, description="Gewicht der Volltextsuche ggü. Vektoren; leer = Standard."
    )


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: Literal["ollama", "openai", "extractive"] | None = Field(
        None, description="Leer = Einstellung des Servers; 'extractive' = nie ein Sprachmodell."
    )
    model: str | None = Field(None, description="Leer = Standardmodell des Servers.")
    temperature: float = Field(0.1, ge=0, le=2)


class BotConfig(BaseModel):
    """Everything that makes a bot; each saved change becomes a new version."""

    model_config = ConfigDict(extra="forbid")
    slug: str = Field(description="Kurzname in Adressen, nur a–z, 0–9 und Bindestrich.")
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    greeting: str = "Guten Tag! Wie kann ich Ihnen helfen?"
    persona: str = Field(
        "freundlich, sachlich, in klarer Sprache, siezt die Bürgerinnen und Bürger",
        description="Ton und Rolle in wenigen Worten.",
    )
    system_prompt: str = Field(
        "", description="Zusätzliche Anweisungen; die Grundregeln (nur aus Quellen) gelten immer."
    )
    languages: list[str] = Field(default_factory=lambda: ["de"])
    knowledge_bases: list[str] = Field(default_factory=list)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer_style: Literal["kurz", "ausfuehrlich", "stichpunkte"] = "kurz"

    @field_validator("slug")
    @classmethod
    def _slug_is_url_safe(cls, value: str) -> str:
        if not SLUG_PATTERN.match(value):
            raise ValueError(
                "Kurzname: 1–80 Zeichen, Kleinbuchstaben a–z, Ziffern, Bindestriche "
                "(nicht am Anfang/Ende)."
            )
        return value

    @field_validator("knowledge_bases")
    @classmethod
    def _kb_slugs_valid(cls, value: list[str]) -> list[str]:
        for slug in value:
            cls._slug_is_url_safe(slug)
        return value

    def effective_knowledge_bases(self) -> list[str]:
        return self.knowledge_bases or [self.slug]


def default_bot_config(slug: str, top_k: int = 5, confidence_threshold: float = 0.35
                       ) -> BotConfig:
    """A new bot with the operator's defaults (CHATWERKSTATT_TOP_K, _CONFIDENCE_THRESHOLD)."""
    return BotConfig(
        slug=slug,
        name=slug.replace("-", " ").title(),
        knowledge_bases=[slug],
        retrieval=RetrievalSettings(top_k=top_k, confidence_threshold=confidence_threshold),
    )


class BotSummary(BaseModel):
    slug: str
    name: str
    version: int
    published_version: int | None
    updated_at: datetime


def get_or_create_workspace(session: Session, slug: str, name: str | None = None) -> Workspace:
    workspace = session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        workspace = Workspace(slug=slug, name=name or slug.title())
        session.add(workspace)
        session.flush()
    return workspace


class BotRepository:
    """Versioned bot configurations of one workspace."""

    def __init__(self, session: Session, workspace_slug: str) -> None:
        self.session = session
        self.workspace = get_or_create_workspace(session, workspace_slug)

    def _bot_row(self, slug: str) -> Bot | None:
        return self.session.scalar(
            select(Bot).where(Bot.workspace_id == self.workspace.id, Bot.slug == slug)
        )

    def exists(self, slug: str) -> bool:
        return self._bot_row(slug) is not None

    def get_row(self, slug: str) -> Bot:
        bot = self._bot_row(slug)
        if bot is None:
            raise BotNotFoundError(slug, self.workspace.slug)
        return bot

    def get(self, slug: str, version: int | None = None) -> tuple[BotConfig, int]:
        """The config of `version` (default: current) and its version number."""
        bot = self.get_row(slug)
        wanted = version or bot.current_version
        for row in bot.versions:
            if row.version == wanted:
                return BotConfig.model_validate(row.config), wanted
        raise LookupError(f"Bot '{slug}' hat keine Version {wanted}.")

    def save(self, config: BotConfig, note: str = "") -> int:
        """Store `config` as a new version (creating the bot if needed); return the version."""
        bot = self._bot_row(config.slug)
        if bot is None:
            bot = Bot(workspace_id=self.workspace.id, slug=config.slug, current_version=0)
            self.session.add(bot)
            self.session.flush()
        elif bot.versions and bot.versions[-1].config == config.model_dump(mode="json"):
            return bot.current_version
        version = max((v.version for v in bot.versions), default=0) + 1
        bot.versions.append(
            BotVersion(version=version, config=config.model_dump(mode="json"), note=note)
        )
        bot.current_version = version
        bot.updated_at = datetime.now(UTC)
        self.session.flush()
        return version

    def list(self) -> list[BotSummary]:
        bots = self.session.scalars(
            select(Bot).where(Bot.workspace_id == self.workspace.id).order_by(Bot.slug)
        )
        summaries = []
        for bot in bots:
            config, version = self.get(bot.slug)
            summaries.append(
                BotSummary(
                    slug=bot.slug,
                    name=config.name,
                    version=version,
                    published_version=bot.published_version,
                    updated_at=bot.updated_at,
                )
            )
        return summaries

    def export_yaml(self, slug: str, version: int | None = None) -> str:
        config, number = self.get(slug, version)
        document: dict[str, Any] = {"kind": YAML_KIND, "version": number}
        document["bot"] = config.model_dump(mode="json")
        return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)

    def import_yaml(self, text: str, note: str = "YAML-Import") -> tuple[BotConfig, int]:
        config = parse_bot_yaml(text)
        return config, self.save(config, note=note)


def parse_bot_yaml(text: str) -> BotConfig:
    """Validate a bot YAML document; errors name the field in German."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"Keine gültige YAML-Datei: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError("Die YAML-Datei enthält keine Bot-Beschreibung.")
    payload = document.get("bot", document) if document.get("kind") == YAML_KIND else document
    try:
        return BotConfig.model_validate(payload)
    except ValidationError as exc:
        raise BotConfigError(german_error_lines(exc)) from exc
