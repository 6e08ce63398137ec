"""How fast the Analyse page's figures are for a big chat log (issue 4: one million messages,
target under 3 s).

A fresh data folder (SQLite, as `make run` uses) is filled by the demo-log generator with
`messages` synthetic turns over a year (three bots, every channel, eight languages, feedback).
Measured, each on the same data:

- **Seite**: what one page load of the Analyse page costs: bring the columnar copy up to date
  (nothing new), the filter choices, all figures for the default period (last 30 days) and for
  the whole year. p50/max over `rounds` runs.
- **Erstkopie**: the one-time copy of the whole log into DuckDB (after an update of the
  installation or retention, the copy is rebuilt once).
- **Nachschub**: taking over 1 000 new turns.
- **Baseline pandas allein**: the same figures from the database with pandas only (read the
  joined log with read_sql, parse the timings, groupby) — the approach the issue names first.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.analytics import (
    STEPS,
    ChatLogMirror,
    LogFilter,
    figures,
    filter_options,
    outcome,
)
from pipelines.assistant import ensure_bot
from pipelines.demo_logs import generate
from pipelines.engine import Engine
from pipelines.settings import Settings

TARGET_S = 3.0
BOTS = ("musterstadt-buergerservice", "onboarding", "pressestelle")
DAYS = 365


def run(settings: Settings, messages: int, rounds: int = 5,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    say = progress or (lambda _m: None)
    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as folder:
        engine = Engine(settings.model_copy(update={"data_dir": Path(folder),
                                                    "database_url": None,
                                                    "lancedb_uri": None}))
        end = date(2026, 11, 22)
        started = time.perf_counter()
        written = 0
        for number, bot in enumerate(BOTS):
            ensure_bot(engine, bot)
            share = messages // len(BOTS) + (messages % len(BOTS) if number == 0 else 0)
            summary = generate(engine, "standard", bot, days=DAYS, seed=number + 1, end=end,
                               conversations_per_day=share / (DAYS * 0.821 * 1.3) * 1.02,
                               max_messages=share,
                               answer_with_bot=False)
            written += summary.messages
            say(f"{bot}: {summary.messages} Nachrichten erzeugt")
        generation = time.perf_counter() - started

        mirror = ChatLogMirror(engine)
        started = time.perf_counter()
        mirror.sync()
        first_copy = time.perf_counter() - started
        say(f"Erstkopie nach DuckDB: {first_copy:.1f} s")

        default = LogFilter(workspaces=("standard",), start=end - timedelta(days=29), end=end)
        whole = LogFilter(workspaces=("standard",))
        page_runs = []
        for round_ in range(rounds):
            started = time.perf_counter()
            mirror.sync()
            filter_options(mirror, ["standard"])
            figures(mirror, default)
            page_runs.append(time.perf_counter() - started)
            say(f"Runde {round_ + 1}/{rounds}: Seite {page_runs[-1]:.2f} s")
        started = time.perf_counter()
        year = figures(mirror, whole)
        whole_year = time.perf_counter() - started

        generate(engine, "standard", BOTS[0], days=1, seed=99, end=end + timedelta(days=1),
                 conversations_per_day=1500, max_messages=1000, answer_with_bot=False)
        started = time.perf_counter()
        added = mirror.sync()
        top_up = time.perf_counter() - started

        started = time.perf_counter()
        baseline = pandas_only(engine, default.start, end)
        baseline_s = time.perf_counter() - started
        say(f"Baseline pandas allein: {baseline_s:.1f} s")
        same = (int(baseline["messages"]) == int(figures(mirror, LogFilter(
            workspaces=("standard",), start=default.start, end=end)).kpis["messages"]))
    page_p50 = statistics.median(page_runs)
    return {
        "nachrichten": written,
        "gespraeche": int(year.kpis["conversations"]),
        "tage": DAYS,
        "erzeugen_s": round(generation, 1),
        "erstkopie_s": round(first_copy, 2),
        "seite_p50_s": round(page_p50, 3),
        "seite_max_s": round(max(page_runs), 3),
        "ganzes_jahr_s": round(whole_year, 3),
        "nachschub_1000_s": round(top_up, 3),
        "nachschub_nachrichten": added,
        "baseline_pandas_allein_s": round(baseline_s, 2),
        "baseline_gleiches_ergebnis": same,
        "ziel_s": TARGET_S,
        "ziel_erreicht": max(page_runs) < TARGET_S,
    }


def pandas_only(engine: Engine, start: date | None, end: date) -> dict[str, Any]:
    """The page's figures for [start, end] with pandas alone, straight from the database."""
    from sqlalchemy import text

    query = text("""
        SELECT m.id, m.created_at, m.conversation_id, c.channel, b.slug AS bot, m.language,
               m.mode, m.no_answer, m.handoff, m.confidence, m.question, m.timings_ms
        FROM messages m JOIN conversations c ON c.id = m.conversation_id
        JOIN bots b ON b.id = c.bot_id""")
    with engine.session() as session:
        frame = pd.read_sql(query, session.connection())
        feedback = pd.read_sql(text("SELECT message_id, rating FROM feedback"),
                               session.connection())
    local = pd.to_datetime(frame["created_at"], utc=True).dt.tz_convert(engine.settings.timezone)
    frame["day"], frame["hour"] = local.dt.date, local.dt.hour
    if start is not None:
        frame = frame[(frame["day"] >= start) & (frame["day"] <= end)]
    timings = frame["timings_ms"].map(json.loads)
    for step in STEPS:
        frame[f"t_{step}"] = timings.map(lambda t, s=step: t.get(s))
    frame["outcome"] = [outcome(m, n) for m, n in
                        zip(frame["mode"], frame["no_answer"], strict=True)]
    rated = frame["id"].isin(feedback["message_id"])
    return {
        "messages": len(frame),
        "conversations": frame["conversation_id"].nunique(),
        "per_day": frame.groupby("day").agg(messages=("id", "size"),
                                            conversations=("conversation_id", "nunique")),
        "per_hour": frame.groupby("hour").size(),
        "by_bot": frame.groupby("bot").size(),
        "by_channel": frame.groupby("channel").size(),
        "outcomes": frame.groupby(["day", "outcome"]).size(),
        "feedback_rate": float(rated.mean()) if len(frame) else 0.0,
        "latency": {step: np.nanpercentile(frame[f"t_{step}"].astype(float), [50, 95])
                    for step in STEPS if frame[f"t_{step}"].notna().any()},
        "languages": frame.groupby("language").size(),
        "top": frame["question"].str.lower().value_counts().head(20),
    }
