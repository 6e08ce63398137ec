"""What the workspace pages show about one municipality: its bots, knowledge bases, uploads and
whether a language model answers. Queries only; the pages stay thin."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from pipelines.bots import BotConfig, BotRepository, get_or_create_workspace
from pipelines.engine import Engine
from pipelines.llm.providers import get_provider
from pipelines.settings import Settings
from pipelines.store.models import Document, KnowledgeBase, Workspace

KB_SLUG_RE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class KnowledgeBaseInfo:
    slug: str
    name: str
    documents: int
    chunks: int
    last_ingest: datetime | None


@dataclass(frozen=True)
class BotStatus:
    slug: str
    name: str
    version: int
    published_version: int | None
    updated_at: datetime
    knowledge_bases: list[str]
    documents: int
    chunks: int
    llm_provider: str
    llm_model: str


@dataclass(frozen=True)
class LLMStatus:
    provider: str
    address: str
    reachable: bool
    models: list[str] = field(default_factory=list)
    model: str = ""
    model_available: bool = False
    message: str = ""


def list_workspaces(engine: Engine) -> list[tuple[str, str]]:
    """(slug, name) of every workspace; the default one exists always."""
    with engine.session() as session:
        get_or_create_workspace(session, engine.settings.default_workspace)
        rows = session.scalars(select(Workspace).order_by(Workspace.name)).all()
        return [(w.slug, w.name) for w in rows]


def knowledge_bases(engine: Engine, workspace: str) -> list[KnowledgeBaseInfo]:
    with engine.session() as session:
        ws = get_or_create_workspace(session, workspace)
        rows = session.execute(
            select(
                KnowledgeBase.slug,
                KnowledgeBase.name,
                func.count(Document.id),
                func.coalesce(func.sum(Document.chunks), 0),
                func.max(Document.ingested_at),
            )
            .outerjoin(Document, Document.knowledge_base_id == KnowledgeBase.id)
            .where(KnowledgeBase.workspace_id == ws.id)
            .group_by(KnowledgeBase.id)
            .order_by(KnowledgeBase.name)
        ).all()
        return [KnowledgeBaseInfo(slug, name, int(docs), int(chunks), last)
                for slug, name, docs, chunks, last in rows]


def kb_slug_from_name(name: str) -> str:
    """'Bürgerservice Allgemein' -> 'buergerservice-allgemein' (URL- and table-safe)."""
    text = name.strip().lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = KB_SLUG_RE.sub("-", text).strip("-")[:80].strip("-")
    if not slug:
        raise ValueError("Der Name der Wissensbasis braucht mindestens einen Buchstaben oder "
                         "eine Ziffer.")
    return slug


def create_knowledge_base(engine: Engine, workspace: str, name: str,
                          slug: str | None = None) -> str:
    """A new (empty) knowledge base named `name`; returns its slug. Existing → unchanged."""
    slug = slug or kb_slug_from_name(name)
    with engine.session() as session:
        kb = engine.knowledge_base(session, workspace, slug)
        if kb.name == kb.slug:
            kb.name = name.strip()[:200]
    return slug


class BotExistsError(ValueError):
    def __init__(self, slug: str) -> None:
        super().__init__(f"Einen Bot „{slug}“ gibt es schon. Bitte einen anderen Kurznamen wählen.")
        self.slug = slug


def create_bot(engine: Engine, workspace: str, config: BotConfig, note: str = "") -> int:
    """Store the new bot `config` as version 1. A bot that names no knowledge base gets its own
    (slug and name of the bot), created now so the Dokumente page offers it at once."""
    with engine.session() as session:
        repo = BotRepository(session, workspace)
        if repo.exists(config.slug):
            raise BotExistsError(config.slug)
    for kb_slug in config.effective_knowledge_bases():
        create_knowledge_base(engine, workspace,
                              config.name if kb_slug == config.slug else kb_slug, kb_slug)
    with engine.session() as session:
        return BotRepository(session, workspace).save(config, note=note)


def bot_statuses(engine: Engine, workspace: str) -> list[BotStatus]:
    infos = {kb.slug: kb for kb in knowledge_bases(engine, workspace)}
    statuses = []
    with engine.session() as session:
        repo = BotRepository(session, workspace)
        for summary in repo.list():
            config, _ = repo.get(summary.slug)
            kbs = config.effective_knowledge_bases()
            statuses.append(BotStatus(
                slug=summary.slug,
                name=summary.name,
                version=summary.version,
                published_version=summary.published_version,
                updated_at=summary.updated_at,
                knowledge_bases=kbs,
                documents=sum(infos[k].documents for k in kbs if k in infos),
                chunks=sum(infos[k].chunks for k in kbs if k in infos),
                llm_provider=config.llm.provider or engine.settings.llm_provider,
                llm_model=config.llm.model or "",
            ))
    return statuses


def llm_status(settings: Settings) -> LLMStatus:
    """Whether the configured language-model server answers, and with which models."""
    provider = get_provider(settings)
    if provider is None:
        return LLMStatus("extractive", "", False,
                         message="Kein Sprachmodell eingestellt: Antworten im extraktiven Modus.")
    address = str(getattr(provider, "host", "") or getattr(provider, "base_url", ""))
    try:
        models = provider.list_models()
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        return LLMStatus(
            provider.name, address, False, model=provider.model,
            message=f"{address} antwortet nicht ({type(exc).__name__}). Antworten kommen im "
                    "extraktiven Modus. Läuft der Server? Stimmt die Adresse in den "
                    "Einstellungen (CHATWERKSTATT_OLLAMA_HOST)?",
        )
    available = provider.model in models or f"{provider.model}:latest" in models
    message = (f"{address} erreichbar, Modell {provider.model} vorhanden "
               f"(alle Modelle: {', '.join(models)})." if available else
               f"{address} erreichbar, aber das Modell {provider.model} fehlt "
               f"(vorhanden: {', '.join(models) or 'keine'}). Bitte z. B. "
               f"`ollama pull {provider.model}` ausführen oder ein anderes Modell wählen.")
    return LLMStatus(provider.name, address, True, models, provider.model, available, message)


def safe_upload_name(filename: str) -> str:
    """The file name without folders or characters a file system or shell would trip over."""
    name = Path(filename.replace("\\", "/")).name.strip().lstrip(".")
    name = re.sub(r"[^\w.\- ()äöüÄÖÜß]+", "_", name)[:200]
    return name or "unbenannt"


def store_upload(engine: Engine, workspace: str, kb_slug: str, filename: str,
                 data: bytes) -> Path:
    """Write an uploaded file to the data folder (uploads/<workspace>/<kb>/) for ingesting;
    the same name again replaces the file, so a re-upload updates the document."""
    folder = engine.settings.uploads_dir / workspace / kb_slug
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_upload_name(filename)
    partial = target.with_name(target.name + ".teil")
    partial.write_bytes(data)
    partial.replace(target)
    return target
