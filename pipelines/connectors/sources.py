"""Sources per bot: stored settings, runs with a report, and the refresh schedule.

A source is a website (crawl), a CKAN portal or an FAQ list, bound to one bot of a workspace;
it writes into the bot's first knowledge base. `run_source` runs it now; `due_sources` names
those whose refresh interval has passed and `refresh_due` runs them (what
`python -m pipelines refresh` does, for cron or a systemd timer).
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.bots import get_or_create_workspace
from pipelines.connectors.base import (
    Connector,
    ConnectorError,
    ItemState,
    ProgressCallback,
    SourceContext,
    SourceReport,
    StopCallback,
    state_from_row,
)
from pipelines.engine import Engine
from pipelines.store.models import ConnectorItem, ConnectorSource, Workspace, aware

log = logging.getLogger(__name__)


class SourceError(ValueError):
    """A source that cannot be stored or run; the message names it and the reason (German)."""


@dataclass(frozen=True)
class SourceInfo:
    id: int
    workspace: str
    bot_slug: str
    knowledge_base: str
    kind: str
    name: str
    url: str
    settings: dict[str, Any]
    refresh_hours: float | None
    enabled: bool
    created_at: datetime
    last_run_at: datetime | None
    # "" (never run), "ok", "teilweise" (items failed) or "fehler" (source not read)
    last_status: str
    last_report: SourceReport | None
    items: int

    @property
    def next_due_at(self) -> datetime | None:
        """When the scheduled refresh is due (None: no schedule)."""
        if self.refresh_hours is None or not self.enabled or self.kind == "faq":
            return None
        if self.last_run_at is None:
            return self.created_at
        return self.last_run_at + timedelta(hours=self.refresh_hours)


def settings_model(kind: str) -> type[BaseModel]:
    from pipelines.connectors.ckan import CkanSettings
    from pipelines.connectors.faq import FaqSettings
    from pipelines.connectors.website import WebsiteSettings

    models: dict[str, type[BaseModel]] = {"website": WebsiteSettings, "ckan": CkanSettings,
                                          "faq": FaqSettings}
    if kind not in models:
        raise SourceError(f"Unbekannte Art von Quelle „{kind}“; möglich sind: "
                          + ", ".join(models) + ".")
    return models[kind]


def _validated(kind: str, settings: BaseModel | dict[str, Any]) -> BaseModel:
    model = settings_model(kind)
    try:
        return model.model_validate(settings.model_dump() if isinstance(settings, BaseModel)
                                    else settings)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise SourceError(f"Ungültige Einstellungen der Quelle: {problems}") from exc


def source_url(kind: str, settings: BaseModel) -> str:
    data = settings.model_dump()
    return str(data.get("start_url") or data.get("portal_url") or data.get("file_name") or "")


def add_source(engine: Engine, workspace: str, bot_slug: str, kind: str,
               settings: BaseModel | dict[str, Any], refresh_hours: float | None = None,
               name: str = "", create_bot: bool = False) -> SourceInfo:
    """Store a source for `bot_slug` (or update the one with the same kind and URL) and
    return it. The bot must exist unless `create_bot` (then it is made with defaults)."""
    from pipelines.assistant import ensure_bot
    from pipelines.bots import BotRepository

    model = _validated(kind, settings)
    url = source_url(kind, model)
    if refresh_hours is not None and refresh_hours <= 0:
        raise SourceError("Das Aktualisierungsintervall muss größer als 0 Stunden sein.")
    if create_bot:
        config, _ = ensure_bot(engine, bot_slug, workspace)
    else:
        with engine.session() as session:
            repo = BotRepository(session, workspace)
            if not repo.exists(bot_slug):
                raise SourceError(f"Einen Bot „{bot_slug}“ gibt es im Arbeitsbereich "
                                  f"„{workspace}“ nicht.")
            config = repo.get(bot_slug)[0]
    knowledge_base = config.effective_knowledge_bases()[0]
    with engine.session() as session:
        ws = get_or_create_workspace(session, workspace)
        row = session.scalar(select(ConnectorSource).where(
            ConnectorSource.workspace_id == ws.id, ConnectorSource.bot_slug == bot_slug,
            ConnectorSource.kind == kind, ConnectorSource.url == url))
        if row is None:
            row = ConnectorSource(workspace_id=ws.id, bot_slug=bot_slug, kind=kind, url=url,
                                  last_status="", last_report={})
            session.add(row)
        row.knowledge_base = knowledge_base
        row.name = (name or url)[:300]
        row.settings = model.model_dump(mode="json")
        row.refresh_hours = refresh_hours
        session.flush()
        return _info(session, row, workspace)


def list_sources(engine: Engine, workspace: str, bot_slug: str | None = None
                 ) -> list[SourceInfo]:
    with engine.session() as session:
        query = (select(ConnectorSource)
                 .join(Workspace, Workspace.id == ConnectorSource.workspace_id)
                 .where(Workspace.slug == workspace))
        if bot_slug is not None:
            query = query.where(ConnectorSource.bot_slug == bot_slug)
        return [_info(session, row, workspace)
                for row in session.scalars(query.order_by(ConnectorSource.id))]


def get_source(engine: Engine, workspace: str, source_id: int) -> SourceInfo:
    with engine.session() as session:
        return _info(session, _row(session, workspace, source_id), workspace)


def update_source(engine: Engine, workspace: str, source_id: int, *,
                  settings: BaseModel | dict[str, Any] | None = None,
                  refresh_hours: float | None | bool = False, enabled: bool | None = None,
                  name: str | None = None) -> SourceInfo:
    """Change settings, schedule (`refresh_hours`: a number, None = no schedule; False =
    leave as is), enabled flag or name. The URL may not change (add a new source instead)."""
    with engine.session() as session:
        row = _row(session, workspace, source_id)
        if settings is not None:
            model = _validated(row.kind, settings)
            if source_url(row.kind, model) != row.url:
                raise SourceError("Die Adresse einer Quelle lässt sich nicht ändern; bitte "
                                  "eine neue Quelle anlegen.")
            row.settings = model.model_dump(mode="json")
        if refresh_hours is not False:
            if isinstance(refresh_hours, int | float) and not isinstance(refresh_hours, bool) \
                    and refresh_hours <= 0:
                raise SourceError("Das Aktualisierungsintervall muss größer als 0 Stunden "
                                  "sein.")
            row.refresh_hours = None if refresh_hours is None else float(refresh_hours)
        if enabled is not None:
            row.enabled = enabled
        if name is not None:
            row.name = name[:300] or row.url
        session.flush()
        return _info(session, row, workspace)


def delete_source(engine: Engine, workspace: str, source_id: int,
                  keep_documents: bool = False) -> int:
    """Delete a source with its stored tables and (unless `keep_documents`) the documents it
    brought into the knowledge base; returns how many documents were removed."""
    from pipelines.documents.ingest import Ingestor

    info = get_source(engine, workspace, source_id)
    removed = 0
    if not keep_documents:
        ingestor = Ingestor(engine, workspace, info.knowledge_base)
        for item in list_items(engine, workspace, source_id):
            if item.document_path and ingestor.delete(item.document_path):
                removed += 1
        if removed:
            ingestor.index.refresh_indexes()
    with engine.session() as session:
        session.delete(_row(session, workspace, source_id))
    shutil.rmtree(engine.settings.data_dir / "connectors" / str(source_id), ignore_errors=True)
    return removed


def list_items(engine: Engine, workspace: str, source_id: int) -> list[ItemState]:
    """The pages / datasets / FAQ rows a source holds now, with their last status."""
    with engine.session() as session:
        _row(session, workspace, source_id)
        return [state_from_row(row) for row in session.scalars(
            select(ConnectorItem).where(ConnectorItem.source_id == source_id)
            .order_by(ConnectorItem.key))]


def connector_for(engine: Engine, kind: str, settings: dict[str, Any]) -> Connector:
    from pipelines.connectors.http import default_user_agent

    user_agent = default_user_agent(engine.settings.connector_contact)
    if kind == "website":
        from pipelines.connectors.website import WebsiteConnector, WebsiteSettings

        return WebsiteConnector(WebsiteSettings.model_validate(settings), user_agent)
    if kind == "ckan":
        from pipelines.connectors.ckan import CkanConnector, CkanSettings

        return CkanConnector(CkanSettings.model_validate(settings), user_agent)
    raise SourceError("Eine FAQ-Liste wird durch erneutes Hochladen der Datei aktualisiert, "
                      "nicht durch Abrufen.")


def run_source(engine: Engine, workspace: str, source_id: int,
               progress: ProgressCallback | None = None,
               should_stop: StopCallback | None = None, force: bool = False,
               connector: Connector | None = None) -> SourceReport:
    """Run a source now (a crawl, a portal refresh) and store its report. Never raises for
    a bad source: the report's `error` or failed items say what went wrong, and whatever was
    ingested before stays. `force` indexes unchanged items again."""
    info = get_source(engine, workspace, source_id)
    report = SourceReport(kind=info.kind, source=info.url, bot=info.bot_slug,
                          knowledge_base=info.knowledge_base, source_id=info.id)
    context = SourceContext(engine, workspace, source_id, report, progress, should_stop, force)
    try:
        (connector or connector_for(engine, info.kind, info.settings)).run(context)
    except ConnectorError as exc:
        report.error, report.error_code = exc.de, exc.code
    except SourceError as exc:
        report.error, report.error_code = str(exc), "settings"
    finally:
        context.finish()
        report.finished_at = datetime.now(UTC)
        report.seconds = (report.finished_at - report.started_at).total_seconds()
        store_report(engine, workspace, source_id, report)
    return report


def store_report(engine: Engine, workspace: str, source_id: int, report: SourceReport) -> None:
    with engine.session() as session:
        row = _row(session, workspace, source_id)
        row.last_run_at = report.finished_at or datetime.now(UTC)
        row.last_status = "fehler" if report.error else "teilweise" if report.failed else "ok"
        row.last_report = report.to_dict()


def due_sources(engine: Engine, now: datetime | None = None, workspace: str | None = None
                ) -> list[SourceInfo]:
    """Enabled sources with a refresh interval whose next run is due at `now`."""
    now = now or datetime.now(UTC)
    with engine.session() as session:
        query = (select(ConnectorSource, Workspace.slug)
                 .join(Workspace, Workspace.id == ConnectorSource.workspace_id)
                 .where(ConnectorSource.enabled.is_(True),
                        ConnectorSource.refresh_hours.is_not(None),
                        ConnectorSource.kind != "faq"))
        if workspace is not None:
            query = query.where(Workspace.slug == workspace)
        infos = [_info(session, row, slug) for row, slug in session.execute(query)]
    return [i for i in infos if i.next_due_at is not None and i.next_due_at <= now]


def refresh_due(engine: Engine, now: datetime | None = None, workspace: str | None = None,
                progress: Callable[[SourceInfo, SourceReport], None] | None = None
                ) -> list[SourceReport]:
    """Run every due source one after the other; `progress` is called after each."""
    reports = []
    for info in due_sources(engine, now, workspace):
        report = run_source(engine, info.workspace, info.id)
        reports.append(report)
        if progress is not None:
            progress(info, report)
    return reports


def run_scheduler(engine: Engine, stop: threading.Event, every_seconds: float) -> None:
    """Refresh due sources every `every_seconds` until `stop` is set (the workspace server
    runs this in a background thread). A failing round is logged and the next one comes."""
    while not stop.wait(every_seconds):
        try:
            refresh_due(engine)
        except Exception:  # a broken source must not end the schedule for all the others
            log.exception("Geplante Aktualisierung der Quellen fehlgeschlagen")


def start_scheduler(engine: Engine) -> threading.Event | None:
    """The scheduler in a daemon thread when `connector_check_minutes` > 0; the event stops
    it. None when switched off."""
    minutes = engine.settings.connector_check_minutes
    if minutes <= 0:
        return None
    stop = threading.Event()
    threading.Thread(target=run_scheduler, args=(engine, stop, minutes * 60),
                     name="quellen-zeitplan", daemon=True).start()
    return stop


def _row(session: Session, workspace: str, source_id: int) -> ConnectorSource:
    row = session.scalar(
        select(ConnectorSource).join(Workspace, Workspace.id == ConnectorSource.workspace_id)
        .where(ConnectorSource.id == source_id, Workspace.slug == workspace))
    if row is None:
        raise SourceError(f"Eine Quelle Nr. {source_id} gibt es im Arbeitsbereich "
                          f"„{workspace}“ nicht.")
    return row


def _info(session: Session, row: ConnectorSource, workspace: str) -> SourceInfo:
    from sqlalchemy import func

    items = session.scalar(select(func.count()).select_from(ConnectorItem)
                           .where(ConnectorItem.source_id == row.id)) or 0
    return SourceInfo(
        id=row.id, workspace=workspace, bot_slug=row.bot_slug,
        knowledge_base=row.knowledge_base, kind=row.kind, name=row.name, url=row.url,
        settings=dict(row.settings or {}), refresh_hours=row.refresh_hours,
        enabled=row.enabled, created_at=aware(row.created_at),
        last_run_at=aware(row.last_run_at) if row.last_run_at else None,
        last_status=row.last_status,
        last_report=SourceReport.from_dict(row.last_report) if row.last_report else None,
        items=int(items))


def crawl_website(engine: Engine, workspace: str, bot_slug: str, settings: BaseModel,
                  refresh_hours: float | None = None, progress: ProgressCallback | None = None,
                  should_stop: StopCallback | None = None, create_bot: bool = False,
                  force: bool = False) -> SourceReport:
    """Store (or update) a website source for the bot and crawl it now."""
    source = add_source(engine, workspace, bot_slug, "website", settings, refresh_hours,
                        create_bot=create_bot)
    return run_source(engine, workspace, source.id, progress, should_stop, force)


def import_ckan(engine: Engine, workspace: str, bot_slug: str, settings: BaseModel,
                refresh_hours: float | None = None, progress: ProgressCallback | None = None,
                should_stop: StopCallback | None = None, create_bot: bool = False,
                force: bool = False) -> SourceReport:
    """Store (or update) a CKAN portal source for the bot and read it now."""
    source = add_source(engine, workspace, bot_slug, "ckan", settings, refresh_hours,
                        create_bot=create_bot)
    return run_source(engine, workspace, source.id, progress, should_stop, force)
