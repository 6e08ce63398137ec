"""The Dokumente page's part for sources beyond files: the town's website, an open-data
portal (CKAN) and FAQ lists – set up, run with progress, the source report per item, the
stored sources with their schedule, and the tables from the portal as a chart.

Only screens here: everything is done by pipelines.connectors.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from apps import ui
from pipelines.connectors.base import ItemResult, SourceReport
from pipelines.connectors.ckan import CkanSettings, list_tables, load_table
from pipelines.connectors.faq import (
    ANSWER_NAMES,
    QUESTION_NAMES,
    SOURCE_NAMES,
    import_faq,
    read_faq_table,
)
from pipelines.connectors.sources import (
    SourceError,
    SourceInfo,
    add_source,
    delete_source,
    list_sources,
    run_source,
    update_source,
)
from pipelines.connectors.website import WebsiteSettings
from pipelines.engine import Engine

KINDS = {"website": "Website", "ckan": "Offene Daten (CKAN)", "faq": "FAQ-Liste"}
STATUS_LABELS = {"": "noch nicht abgerufen", "ok": "in Ordnung", "teilweise": "teilweise",
                 "fehler": "Fehler"}
STATUS_ICONS = {"neu": "🟢", "aktualisiert": "🔵", "unverändert": "⚪", "entfernt": "⚫",
                "übersprungen": "🟡", "fehlgeschlagen": "🔴"}


def lines(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


def report_view(report: SourceReport, key: str) -> None:
    """A report: the summary as a coloured box, the counts as a bar chart, the items as a
    table (only problems at first)."""
    if report.error:
        st.error(report.summary())
    elif report.failed:
        st.warning(report.summary())
    else:
        st.success(report.summary())
    if report.stopped:
        st.info("Abgebrochen: nicht alle Einträge wurden geprüft.")
    if not report.results:
        return
    counts = pd.DataFrame([{"Ergebnis": status, "Einträge": count}
                           for status, count in report.counts().items() if count])
    chart = px.bar(counts, x="Einträge", y="Ergebnis", orientation="h", text="Einträge",
                   title="Einträge nach Ergebnis", color="Ergebnis",
                   color_discrete_map={"neu": "#1a7f37", "aktualisiert": "#0969da",
                                       "unverändert": "#8c959f", "entfernt": "#57606a",
                                       "übersprungen": "#9a6700", "fehlgeschlagen": "#b42318"})
    chart.update_layout(showlegend=False, height=80 + 40 * len(counts), yaxis_title="")
    st.plotly_chart(chart, width="stretch", key=f"{key}-chart")
    only_problems = st.toggle("Nur Probleme zeigen", value=bool(report.failed),
                              key=f"{key}-problems")
    shown: list[ItemResult] = [r for r in report.results
                               if not only_problems or r.status in ("fehlgeschlagen",
                                                                    "übersprungen")]
    st.dataframe(pd.DataFrame([{
        "Ergebnis": f"{STATUS_ICONS.get(r.status, '')} {r.status}", "Adresse": r.url or r.key,
        "Titel": r.title, "Abschnitte": r.chunks, "Grund": r.reason,
    } for r in shown]), hide_index=True, width="stretch",
        column_config={"Adresse": st.column_config.LinkColumn("Adresse")})


def with_progress(run: Any) -> SourceReport:
    """Run `run(progress)` with a progress bar that names the item just done."""
    bar = st.progress(0.0, text="Quelle wird abgerufen …")

    def progress(done: int, total: int, item: ItemResult) -> None:
        bar.progress(min(done / max(total, 1), 1.0),
                     text=f"{done} von {total}: {item.status} – {item.url or item.key}"[:160])

    report: SourceReport = run(progress)
    bar.empty()
    return report


def save_and_run(engine: Engine, workspace: str, bot: str, kind: str, settings: Any,
                 hours: float | None) -> None:
    """Store the source (or update the one with the same address) and run it now."""
    try:
        source = add_source(engine, workspace, bot, kind, settings, hours)
    except SourceError as exc:
        st.error(str(exc))
        return
    st.session_state["src-report"] = with_progress(
        lambda progress: run_source(engine, workspace, source.id, progress))
    st.session_state["src-picked"] = source.id


def refresh_input(key: str, default: float = 24.0) -> float | None:
    hours = st.number_input("Automatisch aktualisieren alle … Stunden (0 = nie)", 0.0, 8760.0,
                            default, step=1.0, key=key,
                            help="Der laufende Arbeitsbereich sieht alle 15 Minuten nach, was "
                                 "fällig ist (CHATWERKSTATT_CONNECTOR_CHECK_MINUTES); sonst "
                                 "`python -m pipelines refresh` per cron oder systemd-Timer.")
    return float(hours) or None


def add_website(engine: Engine, workspace: str, bots: dict[str, str], can_edit: bool) -> None:
    with st.form("src-website"):
        bot = st.selectbox("Bot", list(bots), format_func=bots.__getitem__, key="src-web-bot")
        start = st.text_input("Startseite oder Sitemap", key="src-web-start", placeholder="https://www.musterstadt.de/"
                              "buergerservice/ oder …/sitemap.xml")
        prefixes = st.text_area("Nur Seiten unter diesen Pfaden (eine Zeile je Pfad, leer = "
                                "ganze Website)", placeholder="/buergerservice/", height=80)
        left, middle, right = st.columns(3)
        max_pages = left.number_input("Höchstens Seiten", 1, 100_000, 200)
        max_depth = middle.number_input("Höchstens Klicks tief", 0, 50, 3)
        delay = right.number_input("Pause zwischen Abrufen (s)", 0.0, 120.0, 1.0, step=0.5,
                                   key="src-web-delay")
        hours = refresh_input("src-web-hours")
        if st.form_submit_button("Speichern und jetzt abrufen", type="primary",
                                 disabled=not can_edit or not bots):
            try:
                settings = WebsiteSettings(start_url=start.strip(), prefixes=lines(prefixes),
                                           max_pages=int(max_pages), max_depth=int(max_depth),
                                           delay_seconds=float(delay))
            except ValueError as exc:  # pydantic's ValidationError: names the field
                st.error(str(exc))
                return
            save_and_run(engine, workspace, bot, "website", settings, hours)


def add_ckan(engine: Engine, workspace: str, bots: dict[str, str], can_edit: bool) -> None:
    with st.form("src-ckan"):
        bot = st.selectbox("Bot", list(bots), format_func=bots.__getitem__, key="src-ckan-bot")
        portal = st.text_input("Adresse des Portals", placeholder="https://opendata.jena.de",
                               key="src-ckan-url")
        left, right = st.columns(2)
        organization = left.text_input("Nur diese Organisation (Kurzname, leer = alle)")
        tags = right.text_input("Nur Datensätze mit diesen Schlagwörtern (durch Komma getrennt)")
        max_datasets = st.number_input("Höchstens Datensätze", 1, 100_000, 1000)
        hours = refresh_input("src-ckan-hours")
        if st.form_submit_button("Speichern und jetzt abrufen", type="primary",
                                 disabled=not can_edit or not bots):
            try:
                settings = CkanSettings(portal_url=portal.strip(),
                                        organization=organization.strip(), tags=lines(tags),
                                        max_datasets=int(max_datasets))
            except ValueError as exc:  # pydantic's ValidationError: names the field
                st.error(str(exc))
                return
            save_and_run(engine, workspace, bot, "ckan", settings, hours)


def guess(header: list[str], names: tuple[str, ...]) -> int:
    lowered = [h.lower() for h in header]
    return next((i for i, h in enumerate(lowered) if h in names), 0)


def add_faq(engine: Engine, workspace: str, bots: dict[str, str], can_edit: bool) -> None:
    bot = st.selectbox("Bot", list(bots), format_func=bots.__getitem__, key="src-faq-bot")
    upload = st.file_uploader("FAQ-Liste (CSV oder XLSX) mit Fragen und Antworten",
                              type=["csv", "xlsx"], key="src-faq-file", disabled=not can_edit)
    if upload is None:
        return
    data = upload.getvalue()
    try:
        header, rows = read_faq_table(upload.name, data)
    except Exception as exc:  # noqa: BLE001 - any unreadable file: say which and why
        st.error(f"„{upload.name}“ lässt sich nicht lesen: {exc}")
        return
    if not header:
        st.error(f"„{upload.name}“ hat keine Kopfzeile mit Spaltennamen.")
        return
    st.caption(f"{len(rows)} Zeilen, Spalten: {', '.join(h or '(ohne Namen)' for h in header)}")
    numbered = [f"{i + 1}: {h}" for i, h in enumerate(header)]
    left, middle, right = st.columns(3)
    question = left.selectbox("Spalte der Fragen", numbered,
                              index=guess(header, QUESTION_NAMES), key="src-faq-q")
    answer = middle.selectbox("Spalte der Antworten", numbered,
                              index=guess(header, ANSWER_NAMES) or min(1, len(header) - 1),
                              key="src-faq-a")
    source = right.selectbox("Spalte mit Quelle/URL (optional)", ["", *numbered],
                             index=1 + guess(header, SOURCE_NAMES)
                             if any(h.lower() in SOURCE_NAMES for h in header) else 0,
                             key="src-faq-s")
    st.dataframe(pd.DataFrame([cells for _, cells in rows[:5]],
                              columns=header[:max((len(c) for _, c in rows[:5]), default=0)]
                              or None), hide_index=True, width="stretch")
    mode = st.radio("Übernehmen als", ["curated", "documents"], horizontal=True,
                    format_func={"curated": "geprüfte Antworten (wörtlich ausgegeben)",
                                 "documents": "Dokument der Wissensbasis (mit Quelle)"}.get,
                    key="src-faq-mode")
    if st.button("Importieren", type="primary", disabled=not can_edit, key="src-faq-go"):
        try:
            report = with_progress(lambda progress: import_faq(
                engine, workspace, bot, upload.name, data, mode,  # type: ignore[arg-type]
                question.split(":", 1)[0], answer.split(":", 1)[0],
                source.split(":", 1)[0] if source else "", actor=ui.actor(),
                progress=progress))
        except SourceError as exc:
            st.error(str(exc))
            return
        st.session_state["src-report"] = report
        st.session_state["src-picked"] = report.source_id


def stored_sources(engine: Engine, workspace: str, bots: dict[str, str],
                   can_edit: bool) -> None:
    sources = {s.id: s for s in list_sources(engine, workspace)}
    st.subheader(f"Gespeicherte Quellen ({len(sources)})")
    if not sources:
        st.info("Noch keine Website, kein Portal und keine FAQ-Liste eingerichtet.")
        return
    st.dataframe(pd.DataFrame([{
        "Art": KINDS.get(s.kind, s.kind), "Adresse": s.url, "Bot": bots.get(s.bot_slug,
                                                                            s.bot_slug),
        "Einträge": s.items, "Zuletzt": ui.german_datetime(s.last_run_at)
        if s.last_run_at else "–", "Stand": STATUS_LABELS.get(s.last_status, s.last_status),
        "Nächste Aktualisierung": ui.german_datetime(s.next_due_at) if s.next_due_at else "–",
    } for s in sources.values()]), hide_index=True, width="stretch")
    preset = st.session_state.get("src-picked")
    picked = st.selectbox("Quelle", list(sources), key="src-pick",
                          index=list(sources).index(preset) if preset in sources else 0,
                          format_func=lambda i: f"{KINDS.get(sources[i].kind)}: "
                                                f"{sources[i].url}")
    info: SourceInfo = sources[picked]
    buttons = st.columns(3)
    if buttons[0].button("Jetzt aktualisieren", icon=":material/refresh:", key="src-run",
                         disabled=not can_edit or info.kind == "faq",
                         help="FAQ-Listen werden durch erneutes Hochladen aktualisiert."):
        st.session_state["src-report"] = with_progress(
            lambda progress: run_source(engine, workspace, info.id, progress))
        st.rerun()
    if info.kind != "faq":
        hours = buttons[1].number_input("Alle … Stunden (0 = nie)", 0.0, 8760.0,
                                        float(info.refresh_hours or 0), key=f"src-h-{info.id}")
        if (float(hours) or None) != info.refresh_hours and can_edit:
            update_source(engine, workspace, info.id, refresh_hours=float(hours) or None)
            st.rerun()
    confirm = buttons[2].checkbox("Quelle und ihre Abschnitte löschen", key="src-confirm",
                                  disabled=not can_edit)
    if buttons[2].button("Löschen", icon=":material/delete:", disabled=not confirm,
                         key="src-delete"):
        removed = delete_source(engine, workspace, info.id)
        st.session_state.pop("src-report", None)
        ui.flash(f"Quelle gelöscht, {removed} Dokumente entfernt.")
        st.rerun()
    report = st.session_state.get("src-report")
    if not isinstance(report, SourceReport) or report.source_id != info.id:
        report = info.last_report
    if report is not None:
        st.markdown("**Letzter Bericht**")
        report_view(report, f"src-report-{info.id}")


def tables(engine: Engine, workspace: str) -> None:
    found = list_tables(engine, workspace)
    if not found:
        return
    st.subheader(f"Tabellen aus offenen Daten ({len(found)})")
    by_id = {t.id: t for t in found}
    picked = st.selectbox("Tabelle", list(by_id), key="src-table",
                          format_func=lambda i: f"{by_id[i].dataset_title} – {by_id[i].name}")
    table = by_id[picked]
    st.caption(f"{table.rows} Zeilen · Quelle: {table.dataset_url}")
    frame = load_table(engine, workspace, table.id)
    if table.numeric_columns:
        left, right = st.columns(2)
        x = left.selectbox("Waagerecht", list(frame.columns), key="src-x")
        y = right.selectbox("Senkrecht (Zahlen)", table.numeric_columns, key="src-y")
        chart = px.bar(frame.head(200), x=x, y=y, title=f"{table.dataset_title}: {y}")
        st.plotly_chart(chart, width="stretch", key="src-table-chart")
    st.dataframe(frame.head(500), hide_index=True, width="stretch")


def show(engine: Engine, workspace: str, bots: dict[str, str], can_edit: bool) -> None:
    """The whole section."""
    st.caption("Wissen, das nicht in Dateien liegt: Seiten der Website, Datensätze des "
               "Open-Data-Portals und FAQ-Listen. Jede Quelle gehört zu einem Bot und landet "
               "in dessen erster Wissensbasis; jede Antwort nennt die Seite oder den Datensatz.")
    if not bots:
        st.info("Zuerst einen Bot anlegen (Seite Bots).")
        return
    kind = st.radio("Neue Quelle", list(KINDS), format_func=KINDS.__getitem__,
                    horizontal=True, key="src-kind")
    {"website": add_website, "ckan": add_ckan, "faq": add_faq}[kind](
        engine, workspace, bots, can_edit)
    stored_sources(engine, workspace, bots, can_edit)
    tables(engine, workspace)
