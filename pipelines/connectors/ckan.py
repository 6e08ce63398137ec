"""An open-data portal running CKAN, through its action API (/api/3/action/...).

package_search (rows/start pagination, fq filters by organisation and tags) lists the
datasets; a dataset whose metadata_modified is unchanged since the last run is skipped, others
are read with package_show and become one document citing the dataset's page
(<portal>/dataset/<name>): title, description, tags, organisation, licence, update date,
resource list. CSV and JSON resources up to `max_resource_bytes` are downloaded and loaded as
tables: stored as parquet under data_dir/connectors/<source>/ (the workspace previews them),
summarised in the document (columns, figures of numeric columns) and, up to
`table_row_limit` rows, written out as "Spalte: Wert" lines so the bot can name figures.
Datasets the portal no longer lists (after a complete listing) are removed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import pandas as pd
from pydantic import BaseModel, Field
from sqlalchemy import select

from pipelines.connectors.base import (
    ConnectorError,
    DocumentPart,
    ItemResult,
    ItemState,
    SourceContext,
    timer,
)
from pipelines.connectors.http import Fetcher, FetchError, FetchLimits, http_error, size_text
from pipelines.documents.errors import DocumentError
from pipelines.documents.readers import Block, decode_text, render_table
from pipelines.engine import Engine
from pipelines.german import german_number
from pipelines.store.models import ConnectorItem, ConnectorSource, Workspace

TABLE_FORMATS = ("CSV", "JSON")
ROWS_PER_BLOCK = 12


class CkanSettings(BaseModel):
    portal_url: str = Field(description="Adresse des Portals, z. B. https://opendata.jena.de")
    organization: str = Field("", description="nur Datensätze dieser Organisation (Kurzname)")
    tags: list[str] = Field(default_factory=list, description="nur Datensätze mit diesen "
                            "Schlagwörtern")
    max_datasets: int = Field(1000, ge=1, le=100_000)
    page_size: int = Field(100, ge=1, le=1000)
    timeout_seconds: float = Field(20.0, gt=0, le=300)
    max_response_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    max_resource_bytes: int = Field(5 * 1024 * 1024, ge=0, description="größte Tabelle "
                                    "(CSV/JSON), die geladen wird; 0 = keine Tabellen laden")
    table_row_limit: int = Field(200, ge=0, description="so viele Zeilen je Tabelle kommen "
                                 "als Text in das Dokument")
    delay_seconds: float = Field(0.2, ge=0, le=60)
    user_agent: str = ""


@dataclass(frozen=True)
class TableInfo:
    """A table loaded from a CKAN resource, for a preview with a chart."""

    id: str  # "<source id>:<resource id>", what load_table takes
    source_id: int
    bot_slug: str
    dataset_key: str
    dataset_title: str
    dataset_url: str
    name: str
    format: str
    url: str
    rows: int
    columns: list[str]
    numeric_columns: list[str]
    path: Path


def portal_base(url: str) -> str:
    url = url.strip().rstrip("/")
    for suffix in ("/api/3/action", "/api/3", "/api"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return url


class CkanConnector:
    kind: ClassVar[str] = "ckan"

    def __init__(self, settings: CkanSettings, user_agent: str) -> None:
        self.settings = settings
        self.base = portal_base(settings.portal_url)
        self.limits = FetchLimits(timeout=settings.timeout_seconds,
                                  max_bytes=settings.max_response_bytes,
                                  delay_seconds=settings.delay_seconds,
                                  user_agent=settings.user_agent or user_agent)

    def action(self, fetcher: Fetcher, name: str, **params: Any) -> Any:
        """`result` of one action call; FetchError with the portal's own message otherwise."""
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        url = f"{self.base}/api/3/action/{name}" + (f"?{query}" if query else "")
        response = fetcher.get(url, error_status=False)
        try:
            payload = json.loads(response.content.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            if response.status >= 400:
                raise http_error(response.status) from exc
            raise FetchError("invalid_json", f"Die Antwort auf {name} ist kein gültiges JSON "
                             "(kein CKAN-Portal unter dieser Adresse?).",
                             response.status) from exc
        if not isinstance(payload, dict) or "success" not in payload:
            if response.status >= 400:
                raise http_error(response.status)
            raise FetchError("invalid_json", f"Die Antwort auf {name} hat nicht die Form "
                             "einer CKAN-Antwort.", response.status)
        if not payload.get("success"):
            raw_error = payload.get("error")
            error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
            kind = str(error.get("__type", "Fehler"))
            message = str(error.get("message", "")).strip() or "ohne Beschreibung"
            raise FetchError("ckan_error", f"Das Portal meldet bei {name}: {kind} – "
                             f"{message} (HTTP {response.status}).", response.status)
        return payload.get("result")

    def organizations(self, fetcher: Fetcher) -> list[str]:
        result = self.action(fetcher, "organization_list")
        return [str(o if isinstance(o, str) else o.get("name", "")) for o in result or []]

    def run(self, context: SourceContext) -> None:
        with Fetcher(self.limits) as fetcher:
            try:
                if self.settings.organization:
                    names = self.organizations(fetcher)
                    context.report.fetched += 1
                    if self.settings.organization not in names:
                        raise ConnectorError(
                            "unknown_organization",
                            f"Eine Organisation „{self.settings.organization}“ gibt es im "
                            f"Portal {self.base} nicht; vorhanden: "
                            + (", ".join(names[:30]) or "keine") + ".")
                datasets, complete = self._search(fetcher, context)
            except FetchError as exc:
                raise ConnectorError(exc.code, f"Das Portal {self.base} ist nicht lesbar: "
                                     f"{exc.de}") from exc
            listed: set[str] = set()
            for summary in datasets:
                if context.stop_requested():
                    complete = False
                    break
                context.expected_total = len(context.report.results) + len(datasets) - len(
                    listed)
                key = str(summary.get("id") or summary.get("name") or "")
                if not key:
                    continue
                listed.add(key)
                for result in self._dataset(fetcher, context, key, summary):
                    context.record(result)
            if complete:
                for key, state in list(context.previous.items()):
                    if key not in listed:
                        _remove_tables(context, state)
                        context.forget(key)
                        context.record(ItemResult(key, "entfernt", title=state.title,
                                                  url=state.url, kind="datensatz",
                                                  code="deleted", reason="Nicht mehr im Portal "
                                                  "(gelöscht oder nicht mehr im Filter)."))

    def _search(self, fetcher: Fetcher, context: SourceContext
                ) -> tuple[list[dict[str, Any]], bool]:
        """All matching datasets (as package_search returns them) and whether the listing is
        complete; the first page failing ends the run, later pages become failed items."""
        s = self.settings
        filters = []
        if s.organization:
            filters.append(f"organization:{s.organization}")
        filters.extend(f'tags:"{tag}"' for tag in s.tags if tag.strip())
        datasets: list[dict[str, Any]] = []
        start = 0
        while True:
            try:
                result = self.action(fetcher, "package_search", q="*:*",
                                     fq=" AND ".join(filters), rows=s.page_size, start=start,
                                     sort="name asc")
                results = result["results"]
                count = int(result["count"])
            except FetchError as exc:
                if start == 0 or exc.code in ("unreachable", "invalid_url"):
                    raise
                context.record(ItemResult(f"package_search start={start}", "fehlgeschlagen",
                                          kind="suche", code=exc.code, reason=exc.de,
                                          http_status=exc.http_status))
                return datasets, False
            except (KeyError, TypeError, ValueError) as exc:
                raise FetchError("invalid_json", "package_search lieferte keine Liste mit "
                                 "count und results.") from exc
            context.report.fetched += 1
            datasets.extend(d for d in results if isinstance(d, dict))
            start += s.page_size
            if not results or start >= count:
                return datasets[: s.max_datasets], count <= s.max_datasets
            if start >= s.max_datasets:
                return datasets[: s.max_datasets], False

    def _dataset(self, fetcher: Fetcher, context: SourceContext, key: str,
                 summary: dict[str, Any]) -> list[ItemResult]:
        elapsed = timer()
        previous = context.previous.get(key)
        modified = str(summary.get("metadata_modified") or "")
        page_url = f"{self.base}/dataset/{summary.get('name') or key}"
        title = str(summary.get("title") or summary.get("name") or key)
        if (previous and previous.document_path and modified and previous.modified == modified
                and not context.force):
            return [ItemResult(key, "unverändert", title=previous.title, url=previous.url,
                               kind="datensatz", seconds=elapsed())]
        try:
            dataset = self.action(fetcher, "package_show", id=summary.get("name") or key)
            context.report.fetched += 1
            if not isinstance(dataset, dict):
                raise FetchError("invalid_json", "package_show lieferte keinen Datensatz.")
        except FetchError as exc:
            reason = exc.de + (" Der bisherige Stand bleibt erhalten."
                               if previous and previous.document_path else "")
            return [ItemResult(key, "fehlgeschlagen", title=title, url=page_url,
                               kind="datensatz", code=exc.code, reason=reason,
                               http_status=exc.http_status, seconds=elapsed())]
        page_url = f"{self.base}/dataset/{dataset.get('name') or key}"
        title = str(dataset.get("title") or dataset.get("name") or key)
        resource_results: list[ItemResult] = []
        tables: list[dict[str, Any]] = []
        table_blocks: list[Block] = []
        for resource in dataset.get("resources") or []:
            if not isinstance(resource, dict):
                continue
            loaded = self._resource(fetcher, context, key, resource)
            if isinstance(loaded, ItemResult):
                resource_results.append(loaded)
            elif loaded is not None:
                info, frame = loaded
                tables.append(info)
                table_blocks.extend(self._table_blocks(info, frame))
        blocks = dataset_blocks(dataset, page_url) + table_blocks
        text = "\n".join(b.section + "|" + b.text for b in blocks)
        content_hash = hashlib.sha256(f"{modified}\n{text}".encode()).hexdigest()
        state = previous or ItemState(key=key)
        _remove_tables(context, state, keep={t["id"] for t in tables})
        try:
            status, chunks = context.write_document(
                page_url, name=title, file_type="ckan", title=title, source_label=page_url,
                parts=[DocumentPart(blocks, page_url)], content_hash=content_hash,
                size_bytes=len(text.encode()))
        except ValueError as exc:
            return [ItemResult(key, "fehlgeschlagen", title=title, url=page_url,
                               kind="datensatz", code="invalid_content", reason=str(exc),
                               seconds=elapsed()), *resource_results]
        state.url = page_url
        state.title = title
        state.document_path = page_url
        state.modified = modified
        state.content_hash = content_hash
        state.extra = {"name": dataset.get("name", ""), "tables": tables}
        state.status = status
        state.error = ""
        state.fetched_at = datetime.now(UTC)
        context.save(state)
        result = ItemResult(key, status, title=title, url=page_url, kind="datensatz",
                            chunks=chunks, seconds=elapsed())
        return [result, *resource_results]

    def _resource(self, fetcher: Fetcher, context: SourceContext, dataset_key: str,
                  resource: dict[str, Any]
                  ) -> ItemResult | tuple[dict[str, Any], pd.DataFrame] | None:
        """Load a CSV/JSON resource as a table; an ItemResult says why not; None: not a
        table format (it stays in the resource list only)."""
        url = str(resource.get("url") or "")
        name = str(resource.get("name") or PurePosixPath(urlsplit(url).path).name or url)
        fmt = str(resource.get("format") or "").upper().strip(". ")
        if not fmt:
            fmt = PurePosixPath(urlsplit(url).path).suffix.upper().lstrip(".")
        if fmt not in TABLE_FORMATS or not url:
            return None
        limit = self.settings.max_resource_bytes
        size = resource.get("size")
        if limit == 0:
            return None
        if isinstance(size, int | float) and size > limit:
            return ItemResult(url, "übersprungen", title=name, url=url, kind="ressource",
                              code="too_large", reason=f"Tabelle zu groß ({size_text(size)}; "
                              f"geladen werden bis {size_text(limit)}); nur aufgeführt.")
        elapsed = timer()
        try:
            response = fetcher.get(url, max_bytes=limit)
            context.report.fetched += 1
            frame = load_frame(response.content, fmt)
        except FetchError as exc:
            return ItemResult(url, "fehlgeschlagen", title=name, url=url, kind="ressource",
                              code=exc.code, reason=f"Tabelle „{name}“ nicht geladen: {exc.de}",
                              http_status=exc.http_status, seconds=elapsed())
        resource_id = str(resource.get("id") or hashlib.sha1(url.encode()).hexdigest()[:16])
        path = context.data_dir / f"{_safe(resource_id)}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        parquet_safe(frame).to_parquet(path, index=False)
        numeric = [str(c) for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        info = {"id": resource_id, "name": name, "format": fmt, "url": url,
                "rows": len(frame), "columns": [str(c) for c in frame.columns],
                "numeric_columns": numeric,
                "path": str(path.relative_to(context.engine.settings.data_dir))}
        return info, frame

    def _table_blocks(self, info: dict[str, Any], frame: pd.DataFrame) -> list[Block]:
        heading = (f"Tabelle: {info['name']}",)
        limit = self.settings.table_row_limit
        lines = [f"Tabelle „{info['name']}“ ({info['format']}): {len(frame)} Zeilen, "
                 f"Spalten: {', '.join(info['columns'])}."]
        for column in info["numeric_columns"]:
            values = pd.to_numeric(frame[column], errors="coerce").dropna()
            if len(values):
                lines.append(f"{column}: Summe {_num(values.sum())}, kleinster Wert "
                             f"{_num(values.min())}, größter Wert {_num(values.max())}.")
        blocks = [Block("\n".join(lines), None, heading)]
        shown = frame.head(limit)
        for start in range(0, len(shown), ROWS_PER_BLOCK):
            part = render_table(_display(shown.iloc[start:start + ROWS_PER_BLOCK]))
            if part.strip():
                blocks.append(Block(part, None, heading, "table"))
        if len(frame) > limit:
            blocks.append(Block(f"Weitere {len(frame) - limit} Zeilen stehen nicht im Text; "
                                "die ganze Tabelle zeigt die Vorschau.", None, heading))
        return blocks


def dataset_blocks(dataset: dict[str, Any], page_url: str) -> list[Block]:
    """Metadata of a dataset as text blocks."""
    blocks: list[Block] = []
    notes = str(dataset.get("notes") or "").strip()
    for paragraph in notes.split("\n\n"):
        if paragraph.strip():
            blocks.append(Block(" ".join(paragraph.split()), None, ("Beschreibung",)))
    facts: list[str] = []
    organization = dataset.get("organization") or {}
    if isinstance(organization, dict) and (organization.get("title") or organization.get("name")):
        facts.append(f"Organisation: {organization.get('title') or organization.get('name')}")
    tags = [str(t.get("display_name") or t.get("name")) for t in dataset.get("tags") or []
            if isinstance(t, dict)]
    if tags:
        facts.append("Schlagwörter: " + ", ".join(tags))
    licence = dataset.get("license_title") or dataset.get("license_id")
    if licence:
        facts.append(f"Lizenz: {licence}")
    modified = _german_date(str(dataset.get("metadata_modified") or ""))
    if modified:
        facts.append(f"Zuletzt geändert: {modified}")
    facts.append(f"Datensatz im Portal: {page_url}")
    blocks.extend(Block(fact, None, ("Angaben",)) for fact in facts)
    for resource in dataset.get("resources") or []:
        if not isinstance(resource, dict):
            continue
        name = resource.get("name") or resource.get("url") or "Ressource"
        fmt = f" ({resource.get('format')})" if resource.get("format") else ""
        description = f": {resource.get('description')}" if resource.get("description") else ""
        blocks.append(Block(f"- {name}{fmt}{description} – {resource.get('url', '')}", None,
                            ("Ressourcen",)))
    return blocks


def load_frame(data: bytes, fmt: str) -> pd.DataFrame:
    """A CSV (any of , ; tab, UTF-8 or Windows-1252, German decimal commas with ;) or JSON
    (records, or an object holding them) as a DataFrame; FetchError when it is no table."""
    if not data.strip():
        raise FetchError("invalid_content", "Die Datei ist leer.")
    if fmt == "JSON":
        try:
            payload = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FetchError("invalid_json", "Die JSON-Datei ist kein gültiges JSON.") from exc
        records = _records(payload)
        if records is None:
            raise FetchError("invalid_content", "Die JSON-Datei enthält keine Tabelle (keine "
                             "Liste von Einträgen).")
        return pd.json_normalize(records)
    try:
        text = decode_text(data)
    except DocumentError as exc:
        raise FetchError("invalid_content", exc.de) from exc
    try:
        delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        return pd.read_csv(io.StringIO(text), sep=delimiter,
                           decimal="," if delimiter == ";" else ".")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise FetchError("invalid_content", f"Die CSV-Datei ist fehlerhaft: "
                         f"{str(exc)[:120]}") from exc


def _records(payload: Any) -> list[Any] | None:
    if isinstance(payload, list) and payload and all(isinstance(r, dict) for r in payload):
        return payload
    if isinstance(payload, dict):
        for key in ("records", "data", "result", "features", "items"):
            if key in payload:
                found = _records(payload[key])
                if found is not None:
                    return found
    return None


def parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Column names as text, mixed-type object columns as text (parquet needs one type)."""
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: None if v is None or
                                              (isinstance(v, float) and pd.isna(v)) else str(v))
    return frame


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers in German notation for the text ("1.234,5")."""
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else _num(v))
    return shown


def _num(value: float) -> str:
    value = float(value)
    if value.is_integer():
        return german_number(value, 0)
    return german_number(value, 2).rstrip("0").rstrip(",")


def _german_date(value: str) -> str:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%d.%m.%Y")
    except ValueError:
        return ""


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:120]


def _remove_tables(context: SourceContext, state: ItemState,
                   keep: frozenset[str] | set[str] = frozenset()) -> None:
    for table in (state.extra or {}).get("tables", []):
        if table.get("id") not in keep:
            (context.engine.settings.data_dir / table.get("path", "")).unlink(missing_ok=True)


# --------------------------------------------------------------------------- tables


def list_tables(engine: Engine, workspace: str, bot_slug: str | None = None,
                source_id: int | None = None) -> list[TableInfo]:
    """Tables loaded from CKAN resources of the workspace (of one bot or one source)."""
    with engine.session() as session:
        query = (select(ConnectorItem, ConnectorSource)
                 .join(ConnectorSource, ConnectorSource.id == ConnectorItem.source_id)
                 .join(Workspace, Workspace.id == ConnectorSource.workspace_id)
                 .where(Workspace.slug == workspace, ConnectorSource.kind == "ckan"))
        if bot_slug is not None:
            query = query.where(ConnectorSource.bot_slug == bot_slug)
        if source_id is not None:
            query = query.where(ConnectorSource.id == source_id)
        rows = list(session.execute(query.order_by(ConnectorItem.title)))
    tables = []
    for item, source in rows:
        for table in (item.extra or {}).get("tables", []):
            tables.append(TableInfo(
                id=f"{source.id}:{table['id']}", source_id=source.id, bot_slug=source.bot_slug,
                dataset_key=item.key, dataset_title=item.title, dataset_url=item.url,
                name=table["name"], format=table["format"], url=table["url"],
                rows=int(table["rows"]), columns=list(table["columns"]),
                numeric_columns=list(table["numeric_columns"]),
                path=engine.settings.data_dir / table["path"]))
    return tables


def load_table(engine: Engine, workspace: str, table_id: str) -> pd.DataFrame:
    """The whole table `table_id` (a TableInfo.id) as a DataFrame; SourceError if unknown."""
    from pipelines.connectors.sources import SourceError

    source_text = table_id.split(":", 1)[0]
    source = int(source_text) if source_text.isdigit() else -1
    for table in list_tables(engine, workspace, source_id=source):
        if table.id == table_id:
            if not table.path.exists():
                raise SourceError(f"Die Tabelle „{table.name}“ fehlt auf der Platte; bitte die "
                                  "Quelle neu abrufen.")
            return pd.read_parquet(table.path)
    raise SourceError(f"Eine Tabelle „{table_id}“ gibt es im Arbeitsbereich „{workspace}“ "
                      "nicht.")
