"""Bots are data: a pydantic BotConfig, stored as numbered versions, exported to YAML."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.settings import MAX_TOP_K
from pipelines.store.models import Bot, BotVersion, Workspace, aware
from pipelines.validation import german_error_lines

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,78}[a-z0-9]$|^[a-z0-9]$")
YAML_KIND = "chatwerkstatt/bot"
NOTE_MAX_CHARS = 500  # bot_versions.note


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
    model_config = ConfigDict(extra="forbid", title="Suche in den Unterlagen")
    top_k: int = Field(
        5, ge=1, le=MAX_TOP_K,
        title="Anzahl Textstellen",
        description=(
            f"Wie viele Textstellen aus den Unterlagen eine Antwort stützen (1–{MAX_TOP_K}). "
            "Mehr Stellen machen Antworten vollständiger, aber langsamer und eher abschweifend."
        ),
    )
    confidence_threshold: float = Field(
        0.35, ge=0, le=1,
        title="Sicherheitsschwelle",
        description=(
            "Wert zwischen 0 und 1. Passen die gefundenen Textstellen schlechter zur Frage, "
            "sagt der Assistent offen, dass er keine verlässliche Auskunft hat, statt zu raten. "
            "Höher = vorsichtiger."
        ),
    )
    text_weight: float | None = Field(
        None, ge=0, le=1,
        title="Gewicht der Stichwortsuche",
        description=(
            "Anteil der Volltextsuche (genaue Wörter) gegenüber der Bedeutungssuche, 0 bis 1. "
            "Höher hilft bei Fachbegriffen, Aktenzeichen und Paragrafen. Leer = bewährter "
            "Standardwert."
        ),
    )


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Sprachmodell")
    provider: Literal["ollama", "openai", "extractive"] | None = Field(
        None,
        title="Anbieter",
        description=(
            "ollama = lokaler Ollama-Server, openai = OpenAI-kompatibler Server (z. B. vLLM im "
            "Rechenzentrum), extractive = nie ein Sprachmodell, nur wörtliche Sätze aus den "
            "Quellen. Leer = Einstellung des Servers."
        ),
    )
    model: str | None = Field(
        None,
        title="Modell",
        description="Name des Modells auf dem Server, z. B. „llama3.2:3b“. Leer = Standardmodell "
                    "des Servers.",
    )
    temperature: float = Field(
        0.1, ge=0, le=2,
        title="Temperatur (Freiheit beim Formulieren)",
        description=(
            "0 bis 2. Niedrig = sachlich und bei gleicher Frage gleich formuliert; für "
            "Auskünfte empfohlen: 0 bis 0,3. Höhere Werte nur für Textentwürfe."
        ),
    )



class Redirect(BaseModel):
    """Where to send a question the bot is not responsible for."""

    model_config = ConfigDict(extra="forbid", title="Verweis")
    name: str = Field(min_length=1, max_length=200, title="Zuständige Stelle",
                      description="Wer zuständig ist, z. B. „Jobcenter Musterland“.")
    keywords: list[str] = Field(
        default_factory=list, title="Stichwörter",
        description="Wörter oder Wendungen, an denen eine Frage für diese Stelle zu erkennen "
                    "ist, z. B. „Bürgergeld“. Wortteile zählen mit: „Rente“ erkennt auch "
                    "„Altersrente“.")
    examples: list[str] = Field(
        default_factory=list, title="Beispielfragen",
        description="Typische Fragen für diese Stelle; ähnlich gemeinte Fragen werden auch "
                    "ohne die Stichwörter erkannt.")
    message: str = Field(min_length=1, title="Antworttext",
                         description="Was der Assistent antwortet, mit Kontakt, z. B. „Dafür "
                                     "ist das Jobcenter zuständig: …“.")


class ScopeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Zuständigkeit")
    topics: list[str] = Field(
        default_factory=list, title="Zuständig für",
        description="Themen, zu denen der Assistent Auskunft gibt, eines je Zeile, z. B. "
                    "„Personalausweis und Reisepass“. Leer = alles, was in den Unterlagen "
                    "steht.")
    redirects: list[Redirect] = Field(
        default_factory=list, title="Verweise",
        description="Wofür andere zuständig sind. Eine solche Frage bekommt den Verweis statt "
                    "einer geratenen Antwort.")
    semantic_threshold: float = Field(
        0.8, ge=0, le=1, title="Ähnlichkeit für Beispielfragen",
        description="Wie ähnlich (0 bis 1) eine Frage einer Beispielfrage sein muss, damit "
                    "der Verweis auch ohne Stichwort greift. Höher = seltener.")
    outside_message: str = Field(
        "Dafür bin ich leider nicht zuständig. Allgemeine Auskunft zu Behörden erhalten Sie "
        "unter der Behördennummer 115.",
        title="Antwort außerhalb der Zuständigkeit",
        description="Antwort auf Fragen, die weder zu den Themen noch zu einem Verweis "
                    "passen; danach wird die Übergabe an einen Menschen angeboten.")


class Office(BaseModel):
    """An office (Amt) that takes over conversations on its topics."""

    model_config = ConfigDict(extra="forbid", title="Amt")
    key: str = Field(title="Kurzname", description="Kurzer eindeutiger Name, z. B. "
                     "„buergerbuero“.")
    name: str = Field(min_length=1, max_length=200, title="Name",
                      description="z. B. „Bürgerbüro“.")
    email: str = Field("", title="E-Mail des Amts",
                       description="Hierhin geht ein Hinweis auf jede neue Anfrage; leer = "
                                   "nur im Posteingang.")
    hours: str = Field("Mo–Fr 8:00–16:00", title="Servicezeiten",
                       description="Wann das Amt Anfragen bearbeitet, z. B. „Mo–Do "
                                   "8:00–16:00; Fr 8:00–12:00“.")
    topics: list[str] = Field(default_factory=list, title="Themen",
                              description="Stichwörter der Anfragen, die dieses Amt bekommt.")

    @field_validator("key")
    @classmethod
    def _key_is_slug(cls, value: str) -> str:
        return BotConfig._slug_is_url_safe(value)

    @field_validator("hours")
    @classmethod
    def _hours_parse(cls, value: str) -> str:
        from pipelines.office_hours import parse_hours

        if not parse_hours(value):
            raise ValueError("Servicezeiten fehlen, z. B. „Mo–Fr 8:00–16:00“.")
        return value


class HandoffSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Übergabe an Menschen")
    enabled: bool = Field(
        True, title="Übergabe anbieten",
        description="Bei fehlender guter Antwort, außerhalb der Zuständigkeit, bei Ausfall "
                    "des Sprachmodells und auf Wunsch bietet der Assistent an, dass ein "
                    "Mensch übernimmt.")
    offices: list[Office] = Field(
        default_factory=list, title="Ämter",
        description="Wohin Anfragen gehen: je Amt Themen, E-Mail und Servicezeiten. Ohne "
                    "passendes Thema geht die Anfrage an das erste Amt; ohne Ämter an den "
                    "allgemeinen Posteingang.")


class CuratedSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Geprüfte Antworten")
    enabled: bool = Field(True, title="Geprüfte Antworten verwenden",
                          description="Passt eine Frage zu einer geprüften Antwort der "
                                      "Verwaltung, kommt diese zuerst.")
    threshold: float = Field(
        0.7, ge=0, le=1, title="Schwelle",
        description="Wie gut (0 bis 1) eine Frage zu einer geprüften Antwort passen muss "
                    "(Wortgleichheit und Bedeutung zusammen). Höher = nur bei sehr ähnlichen "
                    "Fragen.")


HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
ORIGIN_PATTERN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$", re.IGNORECASE)
# WCAG 2.1 AA: white text on the town colour (buttons, header) needs this contrast.
MIN_CONTRAST = 4.5
MAX_SUGGESTIONS = 6


class PublicSettings(BaseModel):
    """How the bot appears in the public chat on the town's website."""

    model_config = ConfigDict(extra="forbid", title="Website-Chat")
    colour: str = Field(
        "#005a9c", title="Farbe der Stadt",
        description="Farbe für Kopfzeile und Schaltflächen als #RRGGBB, z. B. „#005a9c“. Weiße "
                    "Schrift darauf muss gut lesbar sein (Kontrast mindestens 4,5 : 1).")
    suggested_questions: list[str] = Field(
        default_factory=list, title="Vorgeschlagene Fragen",
        description="Bis zu sechs Fragen, die Bürgerinnen und Bürger mit einem Klick stellen "
                    "können, eine je Zeile.")
    allowed_origins: list[str] = Field(
        default_factory=list, title="Erlaubte Websites",
        description="Websites, die den Chat einbetten dürfen, eine je Zeile, z. B. "
                    "„https://www.musterstadt.de“. Leer = nur dieser Server selbst.")
    privacy_url: str = Field(
        "", title="Datenschutzhinweise",
        description="Adresse der Datenschutzhinweise der Stadt (https://…). Leer = die "
                    "allgemeinen Hinweise dieses Servers.")
    logo_alt: str = Field(
        "", max_length=200, title="Beschreibung des Logos",
        description="Was das Logo zeigt, für Screenreader, z. B. „Wappen der Stadt "
                    "Musterstadt“. Das Logo selbst laden Sie unten hoch.")

    @field_validator("colour")
    @classmethod
    def _colour_readable(cls, value: str) -> str:
        if not HEX_COLOUR.match(value.strip()):
            raise ValueError(f"„{value[:20]}“ ist keine Farbe im Format #RRGGBB, z. B. #005a9c.")
        ratio = contrast_ratio(value.strip(), "#ffffff")
        if ratio < MIN_CONTRAST:
            raise ValueError(
                f"Weiße Schrift auf {value.strip()} hat nur einen Kontrast von "
                f"{ratio:.1f} : 1; nötig sind mindestens 4,5 : 1. Bitte eine dunklere Farbe "
                "wählen.")
        return value.strip().lower()

    @field_validator("suggested_questions")
    @classmethod
    def _few_short_questions(cls, value: list[str]) -> list[str]:
        questions = [q.strip() for q in value if q.strip()]
        if len(questions) > MAX_SUGGESTIONS:
            raise ValueError(f"Höchstens {MAX_SUGGESTIONS} vorgeschlagene Fragen, nicht "
                             f"{len(questions)}.")
        for question in questions:
            if len(question) > 200:
                raise ValueError(f"Die vorgeschlagene Frage „{question[:40]}…“ ist länger "
                                 "als 200 Zeichen.")
        return questions

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        origins = [o.strip().rstrip("/") for o in value if o.strip()]
        for origin in origins:
            if not ORIGIN_PATTERN.match(origin):
                raise ValueError(
                    f"„{origin[:80]}“ ist keine Website-Adresse wie „https://www.musterstadt.de“ "
                    "(nur Schema und Rechnername, ohne Pfad).")
        return origins

    @field_validator("privacy_url")
    @classmethod
    def _privacy_url(cls, value: str) -> str:
        url = value.strip()
        if url and not re.match(r"^https?://[^\s\"'<>]+$", url):
            raise ValueError(f"„{url[:80]}“ ist keine Adresse, die mit https:// beginnt.")
        return url


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours (1 to 21)."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


class BotConfig(BaseModel):
    """Everything that makes a bot; each saved change becomes a new version."""

    model_config = ConfigDict(extra="forbid", title="Bot")
    slug: str = Field(
        title="Kurzname",
        description=(
            "Eindeutiger Name in Adressen und Dateien, z. B. „buergerservice“: nur "
            "Kleinbuchstaben a–z, Ziffern und Bindestriche."
        ),
    )
    name: str = Field(
        min_length=1, max_length=200,
        title="Name",
        description="So heißt der Assistent im Chat und in den Übersichten, z. B. "
                    "„Bürgerservice Musterstadt“.",
    )
    description: str = Field(
        "",
        title="Beschreibung",
        description="Wofür der Assistent da ist und für wen; erscheint in der Bot-Übersicht.",
    )
    greeting: str = Field(
        "Guten Tag! Wie kann ich Ihnen helfen?",
        title="Begrüßung",
        description="Erste Nachricht im Chat, bevor jemand fragt. Sagen Sie, wobei der "
                    "Assistent hilft und wobei nicht.",
    )
    persona: str = Field(
        "freundlich, sachlich, in klarer Sprache, siezt die Bürgerinnen und Bürger",
        title="Ton und Rolle",
        description="Wie der Assistent auftritt, in wenigen Worten, z. B. „freundlich, "
                    "sachlich, siezt“.",
    )
    system_prompt: str = Field(
        "",
        title="Zusätzliche Anweisungen",
        description=(
            "Anweisungen für diesen Einsatzzweck. Die Grundregeln gelten immer und lassen sich "
            "nicht abschalten: nur aus den Quellen antworten, jede Aussage belegen, nichts "
            "erfinden, Unsicherheit offen sagen."
        ),
    )
    languages: list[str] = Field(
        default_factory=lambda: ["de"],
        title="Sprachen",
        description="Sprachen, in denen der Assistent Fragen beantworten soll, als Kürzel "
                    "(de, en, tr, ar, uk …). Die Quellen bleiben deutsch.",
    )
    knowledge_bases: list[str] = Field(
        default_factory=list,
        title="Wissensbasen",
        description="Aus welchen Wissensbasen (hochgeladenen Unterlagen) der Assistent "
                    "antwortet. Leer = die Wissensbasis mit dem Kurznamen des Assistenten.",
    )
    retrieval: RetrievalSettings = Field(
        default_factory=RetrievalSettings,
        title="Suche in den Unterlagen",
        description="Wie viele Textstellen gesucht werden und ab wann eine Antwort als "
                    "verlässlich gilt.",
    )
    llm: LLMSettings = Field(
        default_factory=LLMSettings,
        title="Sprachmodell",
        description="Welches Sprachmodell die Antwort formuliert. Ohne erreichbares "
                    "Sprachmodell antwortet der Assistent mit wörtlichen Sätzen aus den Quellen.",
    )
    answer_style: Literal["kurz", "ausfuehrlich", "stichpunkte"] = Field(
        "kurz",
        title="Antwortstil",
        description="kurz (höchstens vier Sätze), ausführlich (mit allen Schritten und "
                    "Unterlagen) oder in Stichpunkten.",
    )
    plain_language: bool = Field(
        False,
        title="Antwort in Einfacher Sprache",
        description="Jede deutsche Antwort wird in Einfache Sprache übertragen: mit "
                    "Sprachmodell als Entwurf, den die Regelprüfung für Einfache Sprache prüft "
                    "und das Modell überarbeitet; ohne Sprachmodell regelbasiert (Amtsdeutsch "
                    "ersetzt, lange Sätze geteilt, Zahlen als Ziffern) – beides gekennzeichnet.",
    )

    scope: ScopeSettings = Field(
        default_factory=ScopeSettings,
        title="Zuständigkeit",
        description="Wofür der Assistent zuständig ist und wohin er für den Rest verweist.",
    )
    handoff: HandoffSettings = Field(
        default_factory=HandoffSettings,
        title="Übergabe an Menschen",
        description="Wann und an welches Amt der Assistent ein Gespräch übergibt.",
    )
    curated: CuratedSettings = Field(
        default_factory=CuratedSettings,
        title="Geprüfte Antworten",
        description="Antworten der Verwaltung, die vor der Suche in den Unterlagen kommen.",
    )
    public: PublicSettings = Field(
        default_factory=PublicSettings,
        title="Website-Chat",
        description="Aussehen und Einbettung des öffentlichen Chats auf der Website der Stadt.",
    )

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


@dataclass(frozen=True)
class VersionInfo:
    """One saved version of a bot, as the version history shows it."""

    version: int
    created_at: datetime
    note: str
    is_current: bool
    is_published: bool


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
        row = self._version_row(self.get_row(slug), version)
        return BotConfig.model_validate(row.config), row.version

    @staticmethod
    def _version_row(bot: Bot, version: int | None) -> BotVersion:
        wanted = version or bot.current_version
        for row in bot.versions:
            if row.version == wanted:
                return row
        raise LookupError(f"Bot '{bot.slug}' hat keine Version {wanted}.")

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
        bot.versions.append(BotVersion(
            version=version, config=config.model_dump(mode="json"),
            note=note.strip()[:NOTE_MAX_CHARS],
        ))
        bot.current_version = version
        bot.updated_at = datetime.now(UTC)
        self.session.flush()
        return version

    # -- history and publishing ------------------------------------------------------
    def versions(self, slug: str) -> list[VersionInfo]:
        """Every saved version of `slug`, oldest first (as numbered)."""
        bot = self.get_row(slug)
        return [
            VersionInfo(
                version=row.version,
                created_at=aware(row.created_at),
                note=row.note,
                is_current=row.version == bot.current_version,
                is_published=row.version == bot.published_version,
            )
            for row in sorted(bot.versions, key=lambda v: v.version)
        ]

    def rollback(self, slug: str, version: int, note: str | None = None) -> int:
        """Save the config of `version` again as a new version (history stays complete);
        returns the new version, or the current one if it already equals `version`."""
        config, number = self.get(slug, version)
        text = f"Zurückgesetzt auf Version {number}"
        if note and note.strip():
            text = f"{text}: {note.strip()}"
        return self.save(config, note=text)

    def publish(self, slug: str, version: int | None = None) -> int:
        """Make `version` (default: current) the one the public sees; returns it."""
        bot = self.get_row(slug)
        row = self._version_row(bot, version)
        bot.published_version = row.version
        self.session.flush()
        return row.version

    def unpublish(self, slug: str) -> int | None:
        """Take the bot offline for the public; returns the version that was published."""
        bot = self.get_row(slug)
        previous = bot.published_version
        bot.published_version = None
        self.session.flush()
        return previous

    def published(self, slug: str) -> tuple[BotConfig, int] | None:
        """The published config and its version, or None when nothing is published."""
        bot = self.get_row(slug)
        if bot.published_version is None:
            return None
        return self.get(slug, bot.published_version)

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
