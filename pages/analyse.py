"""Analyse: how the assistants are used and where they fail, from redacted chat logs only.

Filters, volume, quality, languages and top questions, content gaps (clusters of unanswered
questions), drill-down from any chart or cluster to the transcripts, export. The figures come
from pipelines.analytics (DuckDB over a columnar copy of the logs)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Any, cast

import pandas as pd
import plotly.express as px
import streamlit as st

from apps import ui
from pipelines.analytics import (
    CHANNEL_LABELS,
    EXPORT_FORMATS,
    LOW_CONFIDENCE,
    OUTCOME_LABELS,
    STEP_LABELS,
    ChatLogMirror,
    ExportFormat,
    GapCluster,
    LogFilter,
    content_gaps,
    export_turns,
    figures,
    filter_options,
    turns,
)
from pipelines.curated import list_curated

engine = ui.engine()
st.title(ui.t("an.title"))
st.caption(ui.t("an.privacy"))
allowed = ui.workspaces_allowing("analytics.view")
if not allowed:
    st.warning(ui.t("an.not_allowed"))
    st.stop()

mirror = ChatLogMirror(engine)
bar = st.empty()


def synced(done: int, total: int) -> None:
    bar.progress(done / max(total, 1), text=ui.t("an.sync_progress", done=done, total=total))


with st.spinner(ui.t("an.syncing")):
    mirror.sync(progress=synced)
bar.empty()

# -- filters ---------------------------------------------------------------------------------
options = filter_options(mirror, list(allowed))
first, last = options["days"]
today = date.today()
with st.expander(ui.t("an.filters"), icon=":material/filter_alt:", expanded=True):
    columns = st.columns([2, 2, 2, 2, 2])
    default_start = max(first or today, (last or today) - timedelta(days=29))
    period = columns[0].date_input(ui.t("an.period"), (default_start, last or today),
                                   min_value=first, max_value=max(last or today, today),
                                   format="DD.MM.YYYY", key="an-period")
    current = ui.workspace()
    chosen_workspaces = columns[1].multiselect(
        ui.t("an.workspaces"), list(allowed), default=[current] if current in allowed else [],
        format_func=allowed.__getitem__, placeholder=ui.t("an.all"), key="an-workspaces")
    chosen_bots = columns[2].multiselect(ui.t("an.bots"), options["bot"],
                                         placeholder=ui.t("an.all"), key="an-bots")
    chosen_channels = columns[3].multiselect(
        ui.t("an.channels"), options["channel"], placeholder=ui.t("an.all"),
        format_func=lambda c: CHANNEL_LABELS.get(c, c), key="an-channels")
    chosen_languages = columns[4].multiselect(ui.t("an.languages"), options["language"],
                                              placeholder=ui.t("an.all"), key="an-languages")
    synthetic = st.checkbox(ui.t("an.synthetic"), value=True, help=ui.t("an.synthetic_help"),
                            key="an-synthetic")

start, end = (tuple(period) + (None, None))[:2] if isinstance(period, tuple | list) \
    else (period, period)
base = LogFilter(start=start, end=end or start,
                 workspaces=tuple(chosen_workspaces or allowed), bots=tuple(chosen_bots),
                 channels=tuple(chosen_channels), languages=tuple(chosen_languages),
                 include_synthetic=synthetic)
data = figures(mirror, base)
kpis = data.kpis
if not kpis["messages"]:
    st.info(ui.t("an.empty"))
    st.stop()
if kpis["synthetic"]:
    st.caption(ui.t("an.synthetic_note", count=f"{kpis['synthetic']:,.0f}".replace(",", ".")))


def percent(value: float) -> str:
    return f"{value * 100:.1f} %".replace(".", ",")


def number(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


volume, quality, people = st.columns(4), st.columns(4), st.columns(4)
volume[0].metric(ui.t("an.kpi_conversations"), number(kpis["conversations"]))
volume[1].metric(ui.t("an.kpi_messages"), number(kpis["messages"]))
volume[2].metric(ui.t("an.kpi_feedback"), percent(kpis["feedback_rate"]))
volume[3].metric(ui.t("an.kpi_positive"), percent(kpis["positive_share"]))
quality[0].metric(ui.t("an.kpi_answered"), percent(kpis["answered"]))
quality[1].metric(ui.t("an.kpi_curated"), number(kpis["curated_hits"]),
                  help=ui.t("an.kpi_curated_help"))
quality[2].metric(ui.t("an.kpi_redirect"), percent(kpis["redirect"]))
quality[3].metric(ui.t("an.kpi_no_answer"), percent(kpis["no_answer"]))
people[0].metric(ui.t("an.kpi_offered"), percent(kpis["offered"]),
                 help=ui.t("an.kpi_offered_help"))
people[1].metric(ui.t("an.kpi_handoff"), percent(kpis["handoff"]))
people[2].metric(ui.t("an.kpi_latency"),
                 f"{number(kpis['latency_p50'])} / {number(kpis['latency_p95'])} ms")

# -- drill-down state: a chart click or a cluster narrows the filter of the transcripts ------
SECTIONS = {"usage": "an.sec_usage", "quality": "an.sec_quality",
            "questions": "an.sec_questions", "gaps": "an.sec_gaps",
            "transcripts": "an.sec_transcripts"}


def drill(label: str, **narrower: Any) -> None:
    st.session_state["an-drill"] = (label, narrower)
    st.session_state["an-section"] = "transcripts"


def on_chart_select(key: str, field: str, label: str) -> None:
    """Callback of a chart: the clicked point's value of `field` becomes the drill-down."""
    event = st.session_state.get(key)
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if not points:
        return
    values = []
    for point in points:
        custom = point.get("customdata")
        values.append(custom[0] if isinstance(custom, list | tuple) and custom else point.get("x"))
    if field == "days":
        values = [date.fromisoformat(str(v)[:10]) for v in values]
    elif field == "hours":
        values = [int(v) for v in values]
    shown = ", ".join(str(v) for v in dict.fromkeys(values))
    drill(f"{label}: {shown}", **{field: tuple(dict.fromkeys(values))})


DAY_CHARTS = {"an-chart-day", "an-chart-outcome", "an-chart-feedback"}


def chart(fig: Any, key: str, field: str | None = None, label: str = "") -> None:
    """A chart with its title as text alternative; with `field`, a click on a point drills
    down to the conversations of that value."""
    fig.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10}, height=320,
                      legend_title_text="", separators=",.")
    if field == "days" or key in DAY_CHARTS:
        fig.update_xaxes(tickformat="%d.%m.")  # German dates, not "Nov 11"
    alt = str(fig.layout.title.text or label)
    if field is None:
        st.plotly_chart(fig, key=key, width="stretch", alt=alt)
        return
    st.plotly_chart(fig, key=key, width="stretch", alt=alt, selection_mode="points",
                    on_select=partial(on_chart_select, key, field, label))
    st.caption(ui.t("an.click_hint"))


section = st.radio(ui.t("an.section"), list(SECTIONS), horizontal=True, key="an-section",
                   format_func=lambda k: ui.t(SECTIONS[k]), label_visibility="collapsed")
days_label = ui.t("an.day")

if section == "usage":
    per_day = data.per_day.melt(id_vars="day", var_name="what", value_name="count")
    per_day["what"] = per_day["what"].map({"conversations": ui.t("an.conversations"),
                                           "messages": ui.t("an.messages")})
    per_day["key"] = per_day["day"].astype(str)
    fig = px.bar(per_day, x="day", y="count", color="what", barmode="group",
                 custom_data=["key"], title=ui.t("an.per_day"),
                 labels={"day": days_label, "count": ui.t("an.count"), "what": ""})
    chart(fig, "an-chart-day", "days", days_label)
    hours = data.per_hour.assign(key=data.per_hour["hour"])
    fig = px.bar(hours, x="hour", y="messages", custom_data=["key"], title=ui.t("an.per_hour"),
                 labels={"hour": ui.t("an.hour"), "messages": ui.t("an.messages")})
    fig.update_xaxes(dtick=1)
    chart(fig, "an-chart-hour", "hours", ui.t("an.hour"))
    left, right = st.columns(2)
    with left:
        fig = px.pie(data.by_bot, names="bot", values="messages", title=ui.t("an.by_bot"),
                     hole=0.45)
        chart(fig, "an-chart-bot")
    with right:
        channels = data.by_channel.assign(
            label=data.by_channel["channel"].map(lambda c: CHANNEL_LABELS.get(c, c)))
        fig = px.pie(channels, names="label", values="messages", title=ui.t("an.by_channel"),
                     hole=0.45)
        chart(fig, "an-chart-channel")

elif section == "quality":
    outcomes = data.outcomes_per_day.assign(
        label=data.outcomes_per_day["outcome"].map(OUTCOME_LABELS),
        key=data.outcomes_per_day["outcome"])
    fig = px.bar(outcomes, x="day", y="messages", color="label", custom_data=["key"],
                 title=ui.t("an.outcomes"),
                 category_orders={"label": list(OUTCOME_LABELS.values())},
                 color_discrete_sequence=["#1b6e3a", "#4c8fd6", "#7b4fb0", "#5f6b78", "#d08c16",
                                          "#b5332e"],
                 labels={"day": days_label, "messages": ui.t("an.messages"), "label": ""})
    chart(fig, "an-chart-outcome", "outcomes", ui.t("an.outcome"))
    feedback = data.feedback_per_day.assign(
        rate=lambda f: f["rated"] / f["answers"].where(f["answers"] > 0),
        positive_share=lambda f: f["positive"] / f["ratings"].where(f["ratings"] > 0))
    lines = feedback.melt(id_vars="day", value_vars=["rate", "positive_share"],
                          var_name="what", value_name="share")
    lines["what"] = lines["what"].map({"rate": ui.t("an.feedback_rate"),
                                       "positive_share": ui.t("an.positive_share")})
    fig = px.line(lines, x="day", y="share", color="what", markers=True, title=ui.t("an.feedback"),
                  labels={"day": days_label, "share": ui.t("an.share"), "what": ""})
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    chart(fig, "an-chart-feedback")
    latency = data.latency.assign(step=data.latency["step"].map(STEP_LABELS)).melt(
        id_vars="step", value_vars=["p50", "p95"], var_name="quantile", value_name="ms")
    fig = px.bar(latency, x="step", y="ms", color="quantile", barmode="group",
                 title=ui.t("an.latency"), labels={"step": ui.t("an.step"), "ms": "ms",
                                                   "quantile": ""})
    chart(fig, "an-chart-latency")
    if not data.curated.empty:
        st.subheader(ui.t("an.curated_hits"))
        known = {c.id: c for w in (chosen_workspaces or allowed) for c in list_curated(engine, w)}
        hits = data.curated.assign(
            question=data.curated["curated_id"].map(
                lambda i: known[i].questions[0] if i in known else ui.t("an.curated_deleted")),
            answer=data.curated["curated_id"].map(
                lambda i: known[i].answer[:120] if i in known else ""))
        st.dataframe(hits[["question", "answer", "hits", "example"]].rename(columns={
            "question": ui.t("an.curated_question"), "answer": ui.t("an.curated_answer"),
            "hits": ui.t("an.curated_count"), "example": ui.t("an.curated_example")}),
            hide_index=True, width="stretch")

elif section == "questions":
    fig = px.bar(data.languages, x="language", y="messages", custom_data=["language"],
                 title=ui.t("an.languages_chart"),
                 labels={"language": ui.t("an.language"), "messages": ui.t("an.messages")})
    chart(fig, "an-chart-language", "languages", ui.t("an.language"))
    st.subheader(ui.t("an.top_questions"))
    top = data.top_questions.rename(columns={
        "example": ui.t("an.question"), "asked": ui.t("an.asked"),
        "unanswered": ui.t("an.unanswered")})
    picked = st.dataframe(top[[ui.t("an.question"), ui.t("an.asked"), ui.t("an.unanswered")]],
                          hide_index=True, width="stretch", on_select="rerun",
                          selection_mode="multi-row", key="an-top")
    rows = picked.selection.rows if picked else []
    if rows:
        st.button(ui.t("an.gap_show"), key="an-top-show", on_click=drill,
                  args=(ui.t("an.question") + ": " + "; ".join(
                      data.top_questions["example"].iloc[r] for r in rows),),
                  kwargs={"questions": tuple(data.top_questions["question"].iloc[r]
                                             for r in rows)})

elif section == "gaps":
    st.caption(ui.t("an.gaps_intro", threshold=str(LOW_CONFIDENCE).replace(".", ",")))

    @st.cache_data(show_spinner=False, max_entries=16)
    def cached_gaps(log_filter: LogFilter, newest: int) -> list[GapCluster]:
        return content_gaps(mirror, log_filter, engine.embedder.embed)

    with st.spinner(ui.t("an.gaps_wait")):
        clusters = cached_gaps(base, int(kpis["messages"]))
    if not clusters:
        st.info(ui.t("an.gaps_none"))
    for number_, cluster in enumerate(clusters[:30]):
        with st.expander(ui.t("an.gap_title", size=cluster.size, label=cluster.label),
                         expanded=number_ < 3):
            left, right = st.columns([3, 2])
            with left:
                st.markdown(f"**{ui.t('an.gap_examples')}**")
                st.markdown("\n".join(f"- {example}" for example in cluster.examples))
                st.caption(ui.t("an.gap_change", change=cluster.change))
                # A callback: it runs before the next run, when the section may still change.
                st.button(ui.t("an.gap_show"), key=f"an-gap-{number_}", on_click=drill,
                          args=(ui.t("an.drill_cluster", label=cluster.label),),
                          kwargs={"questions": tuple(cluster.questions)})
            with right:
                if len(cluster.trend) > 1:
                    fig = px.line(cluster.trend, x="week", y="asked", markers=True,
                                  title=ui.t("an.gap_trend"),
                                  labels={"week": "", "asked": ui.t("an.asked")})
                    fig.update_layout(height=180, margin={"l": 0, "r": 0, "t": 30, "b": 0})
                    st.plotly_chart(fig, key=f"an-gap-trend-{number_}", width="stretch")

else:  # transcripts: the drill-down and the export
    narrowed = base
    if entry := st.session_state.get("an-drill"):
        label, narrower = entry
        narrowed = LogFilter(**{**base.__dict__, **narrower})
        cols = st.columns([5, 1])
        cols[0].info(ui.t("an.drill", what=label), icon=":material/filter_alt:")
        if cols[1].button(ui.t("an.drill_clear"), key="an-drill-clear"):
            del st.session_state["an-drill"]
            st.rerun()
    shown = turns(mirror, narrowed, limit=500)
    total = int(figures(mirror, narrowed).kpis["messages"]) if narrowed != base \
        else int(kpis["messages"])
    st.subheader(ui.t("an.turns_all", total=number(total)) if len(shown) == total
                 else ui.t("an.turns", shown=number(len(shown)), total=number(total)))
    table = shown.assign(outcome=shown["outcome"].map(OUTCOME_LABELS),
                         channel=shown["channel"].map(lambda c: CHANNEL_LABELS.get(c, c)))
    columns_shown = {"time": "an.time", "bot": "an.bot", "channel": "an.channel",
                     "language": "an.language", "outcome": "an.outcome",
                     "question": "an.question", "answer": "an.answer", "rating": "an.rating"}
    st.dataframe(table[list(columns_shown)].rename(
                     columns={c: ui.t(k) for c, k in columns_shown.items()}),
                 hide_index=True, width="stretch", height=320,
                 column_config={ui.t("an.time"): st.column_config.DatetimeColumn(
                     format="DD.MM.YYYY HH:mm")})
    if not shown.empty:
        conversations = list(dict.fromkeys(shown["conversation_id"]))
        first_questions = shown.drop_duplicates("conversation_id", keep="last").set_index(
            "conversation_id")
        picked_conversation = st.selectbox(
            ui.t("an.pick_conversation"), conversations, key="an-conversation",
            format_func=lambda c: f"{first_questions.loc[c, 'time']:%d.%m.%Y %H:%M} – "
                                  f"{first_questions.loc[c, 'question'][:80]}")
        st.markdown(f"**{ui.t('an.transcript')}**")
        history = turns(mirror, LogFilter(workspaces=base.workspaces,
                                          conversations=(picked_conversation,)),
                        limit=None).iloc[::-1]
        for turn in history.to_dict("records"):
            with st.chat_message("user"):
                st.text(turn["question"] or "–")
            with st.chat_message("assistant"):
                st.text(turn["answer"] or "–")
                rating = turn["rating"] if pd.notna(turn["rating"]) else 0
                st.caption(" · ".join(part for part in (
                    OUTCOME_LABELS.get(turn["outcome"], turn["outcome"]), turn["sources"],
                    {1: "👍", -1: "👎"}.get(int(rating), ""),
                    turn["feedback_comment"] if pd.notna(turn["feedback_comment"]) else "",
                ) if part))

    st.subheader(ui.t("an.export"))
    cols = st.columns([2, 2, 4])
    fmt = cols[0].selectbox(ui.t("an.export_format"), EXPORT_FORMATS, key="an-export-format",
                            format_func=str.upper)
    if cols[1].button(ui.t("an.export_prepare"), key="an-export", icon=":material/download:"):
        frame = turns(mirror, narrowed, limit=None)
        st.session_state["an-export-file"] = (fmt, len(frame),
                                              export_turns(frame, cast(ExportFormat, fmt)))
    if prepared := st.session_state.get("an-export-file"):
        fmt_done, rows_done, payload = prepared
        cols[2].download_button(
            ui.t("an.export_download", format=fmt_done.upper(), rows=number(rows_done)),
            payload, file_name=f"chatprotokolle-{date.today():%Y-%m-%d}.{fmt_done}",
            mime={"csv": "text/csv", "jsonl": "application/x-ndjson",
                  "parquet": "application/vnd.apache.parquet"}[fmt_done],
            key="an-export-download")
