"""Chat-log analytics: a columnar copy of the logs in DuckDB and the figures of the Analyse page.

The database (SQLite or PostgreSQL) stays the record; `ChatLogMirror.sync()` copies new turns
into `analytics.duckdb` in the data folder, one flat row per turn (workspace, bot, channel,
local day and hour, outcome, step timings as columns), and reloads the feedback when it changed.
Every figure is one SQL aggregation over that copy, so the page stays fast with a million turns
(`python -m evaluation bench analytics`). Texts in the copy are the stored, already redacted
ones (`pipelines.privacy`); retention (`pipelines.retention`) drops the copy so the next sync
rebuilds it without what was deleted or anonymised.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from pipelines.engine import Engine
from pipelines.store.models import Bot, Conversation, Feedback, Message, Workspace

if TYPE_CHECKING:
    import duckdb

# Outcome of a turn (see outcome()).
OUTCOMES = ("llm", "extractive", "curated", "redirect", "no_answer", "handoff")
OUTCOME_LABELS = {
    "llm": "mit Sprachmodell beantwortet",
    "extractive": "extraktiv beantwortet",
    "curated": "mit geprüfter Antwort beantwortet",
    "redirect": "an zuständige Stelle verwiesen",
    "no_answer": "keine gute Antwort",
    "handoff": "an einen Menschen übergeben",
}
CHANNEL_LABELS = {
    "workspace": "Test-Chat im Arbeitsbereich",
    "public": "Chat auf der Website",
    "voice": "Spracheingabe",
    "api": "Schnittstelle (API)",
    "cli": "Kommandozeile",
}
# Steps of a turn as the assistant times them (pipelines.assistant), in their order.
STEPS = ("sprache", "llm_verfuegbar", "gepruefte_antworten", "zustaendigkeit", "umformulieren",
         "suche", "bewertung", "antwort", "protokoll", "gesamt")
STEP_LABELS = {
    "sprache": "Sprache erkennen", "llm_verfuegbar": "Sprachmodell prüfen",
    "gepruefte_antworten": "Geprüfte Antworten", "zustaendigkeit": "Zuständigkeit prüfen",
    "umformulieren": "Rückfrage umformulieren", "suche": "Suche", "bewertung": "Bewertung",
    "antwort": "Antwort erzeugen", "protokoll": "Protokollieren", "gesamt": "gesamt",
}
LOW_CONFIDENCE = 0.5
# Content-gap clustering, chosen on the demo topics (data/sample/demo_logs.yaml): adjusted Rand
# index 0.68 against the topics at these values, 0.52 with the embeddings alone.
LEXICAL_WEIGHT = 0.5
GAP_DISTANCE = 0.6
SYNC_BATCH = 50_000
ExportFormat = Literal["csv", "jsonl", "parquet"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "jsonl", "parquet")

TURN_COLUMNS = (
    "message_id BIGINT PRIMARY KEY, created_at TIMESTAMP, local_ts TIMESTAMP, day DATE, "
    "hour TINYINT, workspace VARCHAR, bot VARCHAR, bot_version INTEGER, conversation_id VARCHAR, "
    "channel VARCHAR, synthetic BOOLEAN, language VARCHAR, mode VARCHAR, outcome VARCHAR, "
    "confidence DOUBLE, question VARCHAR, answer VARCHAR, sources VARCHAR, redactions INTEGER, "
    + ", ".join(f"t_{step} DOUBLE" for step in STEPS)
    # The question as compared (normalise_question), computed once when a turn is copied.
    + ", question_key VARCHAR, curated_id INTEGER, offered BOOLEAN"
)
# Raised whenever TURN_COLUMNS change: an older copy is then rebuilt from the database.
COPY_VERSION = "4"
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class LogFilter:
    """What the page's filters chose; empty tuples mean "all". Days are local and inclusive."""

    start: date | None = None
    end: date | None = None
    workspaces: tuple[str, ...] = ()
    bots: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    include_synthetic: bool = True
    # Drill-down: narrower selections from a chart or a cluster.
    days: tuple[date, ...] = ()
    hours: tuple[int, ...] = ()
    outcomes: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()  # normalised question texts (see normalise_question)
    conversations: tuple[str, ...] = ()

    def where(self, alias: str = "") -> tuple[str, list[Any]]:
        """SQL condition and parameters for the turns table."""
        prefix = f"{alias}." if alias else ""
        parts: list[str] = ["TRUE"]
        params: list[Any] = []
        if self.start is not None:
            parts.append(f"{prefix}day >= ?")
            params.append(self.start)
        if self.end is not None:
            parts.append(f"{prefix}day <= ?")
            params.append(self.end)
        for column, values in (("workspace", self.workspaces), ("bot", self.bots),
                               ("channel", self.channels), ("language", self.languages),
                               ("day", self.days), ("hour", self.hours),
                               ("outcome", self.outcomes),
                               ("conversation_id", self.conversations)):
            if values:
                parts.append(f"{prefix}{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        if self.questions:
            parts.append(f"{prefix}question_key "
                         f"IN ({', '.join('?' * len(self.questions))})")
            params.extend(self.questions)
        if not self.include_synthetic:
            parts.append(f"NOT {prefix}synthetic")
        return " AND ".join(parts), params


def normalise_question(text: str) -> str:
    """A question as compared: without case, punctuation and repeated spaces. Computed in
    Python for the copy's question_key too, so a drill-down by this key always matches."""
    return _NOT_WORDS.sub(" ", text.lower()).strip()


_NOT_WORDS = re.compile(r"[\s?!.,;:]+")


class ChatLogMirror:
    """The columnar copy of one installation's chat logs (see the module docstring)."""

    def __init__(self, engine: Engine, path: Path | None = None) -> None:
        self.engine = engine
        self.path = path or engine.settings.analytics_path
        self.timezone = engine.settings.timezone
        with _LOCKS_GUARD:
            self._lock = _LOCKS.setdefault(str(self.path), threading.Lock())

    # -- connection and sync ---------------------------------------------------------
    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection (DuckDB allows one writing process per file; the workspace,
        the notebook and the command line take turns)."""
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            con = duckdb.connect(str(self.path))
            try:
                con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, "
                            "value VARCHAR)")
                version = con.execute("SELECT value FROM meta WHERE key = 'version'").fetchall()
                if not version or version[0][0] != COPY_VERSION:
                    con.execute("DROP TABLE IF EXISTS turns")
                    con.execute("DROP TABLE IF EXISTS feedback")
                    con.execute("DELETE FROM meta")
                    con.execute("INSERT INTO meta VALUES ('version', ?)", [COPY_VERSION])
                con.execute(f"CREATE TABLE IF NOT EXISTS turns ({TURN_COLUMNS})")
                con.execute("CREATE TABLE IF NOT EXISTS feedback (message_id BIGINT, "
                            "rating TINYINT, comment VARCHAR)")
                yield con
            finally:
                con.close()

    def drop(self) -> None:
        """Forget the copy; the next sync rebuilds it from the database."""
        with self._lock:
            for suffix in ("", ".wal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def sync(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Copy turns not yet in the copy; returns how many were added. A copy that has turns
        the database no longer has (retention, a deleted workspace) is rebuilt."""
        with self.connect() as con:
            last_id, copied = _row(con, "SELECT coalesce(max(message_id), 0), count(*) FROM turns")
            with self.engine.session() as session:
                kept, newest = session.execute(
                    select(func.count(Message.id).filter(Message.id <= last_id),
                           func.coalesce(func.max(Message.id), 0))
                ).one()
            if kept != copied:
                con.execute("DELETE FROM turns")
                last_id = 0
            total = int(newest) - last_id
            added = 0
            for frame in self._new_turns(last_id):
                con.register("batch", frame)
                con.execute("INSERT INTO turns SELECT * FROM batch")
                con.unregister("batch")
                added += len(frame)
                if progress:
                    progress(added, max(total, added))
            self._sync_feedback(con)
        return added

    def _new_turns(self, after_id: int) -> Iterator[pd.DataFrame]:
        query = (
            select(Message.id, Message.created_at, Workspace.slug, Bot.slug,
                   Conversation.bot_version, Conversation.id, Conversation.channel,
                   Conversation.synthetic, Message.language, Message.mode, Message.no_answer,
                   Message.handoff, Message.confidence, Message.question, Message.answer,
                   Message.citations, Message.timings_ms, Message.curated_answer_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(Bot, Bot.id == Conversation.bot_id)
            .join(Workspace, Workspace.id == Conversation.workspace_id)
            .where(Message.id > after_id)
            .order_by(Message.id)
        )
        with self.engine.session() as session:
            result = session.execute(query.execution_options(yield_per=SYNC_BATCH))
            for rows in result.partitions():
                yield self._frame(rows)

    def _frame(self, rows: Sequence[Any]) -> pd.DataFrame:
        (ids, created, workspaces, bots, versions, conversations, channels, synthetic, languages,
         modes, no_answer, handoff, confidence, questions, answers, citations,
         timings, curated_ids) = zip(*rows, strict=True)
        utc = pd.to_datetime(pd.Series(created), utc=True)
        local = utc.dt.tz_convert(self.timezone).dt.tz_localize(None)
        frame = pd.DataFrame({
            "message_id": np.asarray(ids, dtype=np.int64),
            "created_at": utc.dt.tz_localize(None),
            "local_ts": local,
            "day": local.dt.date,
            "hour": local.dt.hour.astype(np.int8),
            "workspace": workspaces, "bot": bots,
            "bot_version": np.asarray(versions, dtype=np.int32),
            "conversation_id": conversations, "channel": channels,
            "synthetic": np.asarray(synthetic, dtype=bool),
            "language": [lang or "unbekannt" for lang in languages],
            "mode": modes,
            "outcome": [outcome(m, n) for m, n in zip(modes, no_answer, strict=True)],
            "confidence": np.asarray(confidence, dtype=np.float64),
            "question": questions, "answer": answers,
            "sources": [" | ".join(dict.fromkeys(_source_name(c) for c in cites or []))
                        for cites in citations],
            "redactions": [int(_timings(t).get("schwaerzungen", 0) or 0) for t in timings],
        })
        frame_keys = [normalise_question(q or "") for q in questions]
        parsed = [_timings(t) for t in timings]
        for step in STEPS:
            frame[f"t_{step}"] = [_float(p.get(step)) for p in parsed]
        frame["question_key"] = frame_keys
        frame["curated_id"] = pd.array(curated_ids, dtype="Int32")
        # The turn offered a person (no good answer, out of scope, LLM failure, on request).
        frame["offered"] = np.asarray(handoff, dtype=bool)
        return frame

    def _sync_feedback(self, con: duckdb.DuckDBPyConnection) -> None:
        with self.engine.session() as session:
            signature = str(tuple(session.execute(
                select(func.count(Feedback.id), func.max(Feedback.id),
                       func.max(Feedback.created_at), func.sum(Feedback.rating))
            ).one()))
            stored = con.execute("SELECT value FROM meta WHERE key = 'feedback'").fetchall()
            if stored and stored[0][0] == signature:
                return
            rows = session.execute(
                select(Feedback.message_id, Feedback.rating, Feedback.comment)
            ).all()
        frame = pd.DataFrame(rows, columns=["message_id", "rating", "comment"])
        con.execute("DELETE FROM feedback")
        if len(frame):
            con.register("batch", frame)
            con.execute("INSERT INTO feedback SELECT * FROM batch")
            con.unregister("batch")
        con.execute("INSERT OR REPLACE INTO meta VALUES ('feedback', ?)", [signature])


def _row(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
    """The one row of an aggregate query (fetched completely: DuckDB refuses further work on
    a connection with a result left open)."""
    rows = con.execute(sql, list(params)).fetchall()
    return tuple(rows[0])


def outcome(mode: str, no_answer: bool) -> str:
    """A turn in which the citizen asked for a person counts as handed off; a turn without a
    good answer as "no good answer" even when it offered a person (the offer is made on every
    such turn; the tickets themselves are on the Posteingang page)."""
    if mode == "mensch":
        return "handoff"
    if no_answer or mode == "keine_antwort":
        return "no_answer"
    return {"llm": "llm", "kuratiert": "curated", "verweis": "redirect"}.get(mode, "extractive")


def _source_name(citation: Any) -> str:
    if isinstance(citation, dict):
        return str(citation.get("title") or Path(str(citation.get("source") or "")).name)
    return str(citation)


def _timings(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


# -- figures -------------------------------------------------------------------------------
@dataclass
class Figures:
    """Everything the Analyse page draws, for one filter."""

    kpis: dict[str, float]
    per_day: pd.DataFrame  # day, conversations, messages
    per_hour: pd.DataFrame  # hour, messages (all 24 hours)
    by_bot: pd.DataFrame  # bot, messages, conversations
    by_channel: pd.DataFrame  # channel, messages, conversations
    outcomes_per_day: pd.DataFrame  # day, outcome, messages
    feedback_per_day: pd.DataFrame  # day, answers, rated, positive
    latency: pd.DataFrame  # step, p50, p95, turns
    languages: pd.DataFrame  # language, messages
    top_questions: pd.DataFrame  # question, asked, unanswered, example
    curated: pd.DataFrame  # curated_id, hits, example (a question it answered)


def figures(mirror: ChatLogMirror, log_filter: LogFilter, top: int = 20) -> Figures:
    where, params = log_filter.where("t")
    with mirror.connect() as con:
        def frame(sql: str, extra: Sequence[Any] = (), filters: int = 1) -> pd.DataFrame:
            """`sql` with the filter at each {where} (`filters` times) and `extra` after it."""
            return con.execute(sql.format(where=where), [*params * filters, *extra]).df()

        kpi_row = frame("""
            SELECT count(*) AS messages, count(DISTINCT conversation_id) AS conversations,
                   avg(CASE WHEN outcome IN ('llm', 'extractive', 'curated') THEN 1 ELSE 0 END)
                       AS answered,
                   sum(CASE WHEN outcome = 'curated' THEN 1 ELSE 0 END) AS curated_hits,
                   avg(CASE WHEN outcome = 'redirect' THEN 1 ELSE 0 END) AS redirect,
                   avg(CASE WHEN outcome = 'no_answer' THEN 1 ELSE 0 END) AS no_answer,
                   avg(CASE WHEN outcome = 'handoff' THEN 1 ELSE 0 END) AS handoff,
                   avg(CASE WHEN offered THEN 1 ELSE 0 END) AS offered,
                   avg(CASE WHEN f.message_id IS NULL THEN 0 ELSE 1 END) AS feedback_rate,
                   sum(f.positive) / nullif(sum(f.ratings), 0) AS positive_share,
                   quantile_cont(t_gesamt, 0.5) AS latency_p50,
                   quantile_cont(t_gesamt, 0.95) AS latency_p95,
                   sum(redactions) AS redactions,
                   sum(CASE WHEN synthetic THEN 1 ELSE 0 END) AS synthetic
            FROM turns t LEFT JOIN (
                SELECT message_id, count(*) AS ratings,
                       sum(CASE WHEN rating > 0 THEN 1 ELSE 0 END) AS positive
                FROM feedback GROUP BY message_id) f USING (message_id)
            WHERE {where}""").iloc[0]
        kpis = {k: (float(v) if pd.notna(v) else 0.0) for k, v in kpi_row.items()}
        per_day = frame("""
            SELECT day, count(DISTINCT conversation_id) AS conversations, count(*) AS messages
            FROM turns t WHERE {where} GROUP BY day ORDER BY day""")
        per_hour = frame("""
            SELECT h.hour, coalesce(c.messages, 0) AS messages,
                   coalesce(c.conversations, 0) AS conversations
            FROM range(24) h(hour) LEFT JOIN (
                SELECT hour, count(*) AS messages,
                       count(DISTINCT conversation_id) AS conversations
                FROM turns t WHERE {where} GROUP BY hour) c USING (hour)
            ORDER BY h.hour""")
        by_bot = frame("""
            SELECT bot, count(*) AS messages, count(DISTINCT conversation_id) AS conversations
            FROM turns t WHERE {where} GROUP BY bot ORDER BY messages DESC, bot""")
        by_channel = frame("""
            SELECT channel, count(*) AS messages,
                   count(DISTINCT conversation_id) AS conversations
            FROM turns t WHERE {where} GROUP BY channel ORDER BY messages DESC, channel""")
        outcomes_per_day = frame("""
            SELECT day, outcome, count(*) AS messages FROM turns t WHERE {where}
            GROUP BY day, outcome ORDER BY day, outcome""")
        feedback_per_day = frame("""
            SELECT day, count(*) AS answers, count(f.message_id) AS rated,
                   coalesce(sum(f.positive), 0) AS positive,
                   coalesce(sum(f.ratings), 0) AS ratings
            FROM turns t LEFT JOIN (
                SELECT message_id, count(*) AS ratings,
                       sum(CASE WHEN rating > 0 THEN 1 ELSE 0 END) AS positive
                FROM feedback GROUP BY message_id) f USING (message_id)
            WHERE {where} GROUP BY day ORDER BY day""")
        latency = frame(" UNION ALL ".join(
            f"SELECT '{step}' AS step, quantile_cont(t_{step}, 0.5) AS p50, "
            f"quantile_cont(t_{step}, 0.95) AS p95, count(t_{step}) AS turns "
            f"FROM turns t WHERE {{where}}" for step in STEPS), filters=len(STEPS))
        latency = latency[latency["turns"] > 0].reset_index(drop=True)
        languages = frame("""
            SELECT language, count(*) AS messages FROM turns t WHERE {where}
            GROUP BY language ORDER BY messages DESC, language""")
        top_questions = frame("""
            SELECT question_key AS question, count(*) AS asked,
                   sum(CASE WHEN outcome IN ('no_answer', 'handoff') THEN 1 ELSE 0 END)
                       AS unanswered,
                   min(question) AS example
            FROM turns t WHERE {where} GROUP BY 1 ORDER BY asked DESC, 1 LIMIT ?""",
            [top])
        curated = frame("""
            SELECT curated_id, count(*) AS hits, min(question) AS example
            FROM turns t WHERE {where} AND curated_id IS NOT NULL
            GROUP BY curated_id ORDER BY hits DESC, curated_id LIMIT ?""", [top])
    return Figures(kpis, per_day, per_hour, by_bot, by_channel, outcomes_per_day,
                   feedback_per_day, latency, languages, top_questions, curated)


def filter_options(mirror: ChatLogMirror, workspaces: Sequence[str]) -> dict[str, list[Any]]:
    """What the filters offer: workspaces, bots, channels, languages and the first and last
    day, within `workspaces` only (another town's bots are none of this user's business)."""
    scope, params = LogFilter(workspaces=tuple(workspaces)).where()
    with mirror.connect() as con:
        options: dict[str, list[Any]] = {
            column: [row[0] for row in con.execute(
                f"SELECT DISTINCT {column} FROM turns WHERE {scope} ORDER BY 1",
                params).fetchall()]
            for column in ("workspace", "bot", "channel", "language")
        }
        options["days"] = list(_row(con, f"SELECT min(day), max(day) FROM turns WHERE {scope}",
                                    params))
    return options


def turns(mirror: ChatLogMirror, log_filter: LogFilter, limit: int | None = 500) -> pd.DataFrame:
    """The (redacted) turns under the filter, newest first, with their feedback: the drill-down
    and the export."""
    where, params = log_filter.where("t")
    limit_sql = "" if limit is None else f"LIMIT {int(limit)}"
    with mirror.connect() as con:
        return con.execute(f"""
            SELECT t.message_id, t.local_ts AS time, t.workspace, t.bot, t.bot_version,
                   t.conversation_id, t.channel, t.language, t.outcome, t.mode,
                   round(t.confidence, 3) AS confidence, t.question, t.answer, t.sources,
                   t.t_gesamt AS latency_ms, f.rating, f.comment AS feedback_comment,
                   t.synthetic
            FROM turns t LEFT JOIN (
                SELECT message_id, max(rating) AS rating,
                       string_agg(nullif(comment, ''), ' | ') AS comment
                FROM feedback GROUP BY message_id) f USING (message_id)
            WHERE {where} ORDER BY t.local_ts DESC, t.message_id DESC {limit_sql}""",
            params).df()


def export_turns(frame: pd.DataFrame, fmt: ExportFormat) -> bytes:
    """The turns as a file: CSV (UTF-8 with BOM, for spreadsheet programs), JSON Lines or
    Parquet. Times as ISO 8601 local time."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"Unbekanntes Exportformat „{fmt}“; möglich: "
                         f"{', '.join(EXPORT_FORMATS)}.")
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    if fmt == "csv":
        return frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode("utf-8-sig")
    return frame.to_json(orient="records", lines=True, force_ascii=False,
                         date_format="iso").encode("utf-8")


# -- content gaps --------------------------------------------------------------------------
@dataclass(frozen=True)
class GapCluster:
    """Similar questions the bots could not answer well: what to add to the documents next."""

    label: str  # the most asked question of the cluster
    size: int  # how often its questions were asked
    questions: list[str]  # normalised texts, most asked first (drill-down filter)
    examples: list[str]  # as asked, most asked first
    trend: pd.DataFrame  # week, asked
    change: float  # asked in the later half of the range minus the earlier half


def question_vectors(texts: list[str], embed: Callable[[list[str]], Any],
                     lexical_weight: float = LEXICAL_WEIGHT) -> np.ndarray:
    """Unit vectors for clustering questions: the embedding model's vector joined with
    character n-grams (TF-IDF) of the text with its compounds split. The small default model
    is weak on German paraphrases; shared word parts ("Kitaplatz" / "Plätze in den Kitas")
    carry the rest (measured on the demo topics: tests/integration/test_analytics.py)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from pipelines.german import expand_compounds

    semantic = np.asarray(embed(texts), dtype=np.float32)
    lexical = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True) \
        .fit_transform([expand_compounds(t.lower()) for t in texts]).toarray()
    lexical /= np.maximum(np.linalg.norm(lexical, axis=1, keepdims=True), 1e-12)
    joined = np.hstack([semantic * np.sqrt(1 - lexical_weight),
                        lexical.astype(np.float32) * np.sqrt(lexical_weight)])
    return joined / np.maximum(np.linalg.norm(joined, axis=1, keepdims=True), 1e-12)


def content_gaps(mirror: ChatLogMirror, log_filter: LogFilter, embed: Callable[[list[str]], Any],
                 low_confidence: float = LOW_CONFIDENCE, distance: float = GAP_DISTANCE,
                 max_questions: int = 2000, min_size: int = 2) -> list[GapCluster]:
    """Unanswered and low-confidence questions grouped by meaning (requests for a person are
    handoffs, not gaps).

    The most asked `max_questions` distinct questions get `question_vectors` and are clustered
    with agglomerative clustering (average linkage, cosine distance, merged while closer than
    `distance`): the number of clusters follows from the data. Clusters asked fewer than
    `min_size` times are left out.
    """
    from sklearn.cluster import AgglomerativeClustering

    where, params = log_filter.where("t")
    normalised = "t.question_key"
    with mirror.connect() as con:
        asked = con.execute(f"""
            SELECT {normalised} AS question, count(*) AS asked, min(question) AS example
            FROM turns t
            WHERE {where} AND (outcome = 'no_answer'
                               OR (outcome IN ('llm', 'extractive') AND confidence < ?))
            GROUP BY 1 HAVING length({normalised}) > 0
            ORDER BY asked DESC, 1 LIMIT ?""",
            [*params, low_confidence, max_questions]).df()
        if asked.empty:
            return []
        span = _row(con, f"SELECT min(day), max(day) FROM turns t WHERE {where}", params)
        weekly = con.execute(f"""
            SELECT {normalised} AS question, date_trunc('week', day) AS week, count(*) AS asked
            FROM turns t
            WHERE {where} AND (outcome = 'no_answer'
                               OR (outcome IN ('llm', 'extractive') AND confidence < ?))
            GROUP BY 1, 2""", [*params, low_confidence]).df()
    if len(asked) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        vectors = question_vectors(list(asked["example"]), embed)
        labels = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance,
        ).fit_predict(vectors)
    asked["cluster"] = labels
    first, last = span
    middle = first + (last - first) / 2 if first and last else None
    clusters = []
    for _, group in asked.groupby("cluster"):
        group = group.sort_values(["asked", "question"], ascending=[False, True])
        size = int(group["asked"].sum())
        if size < min_size:
            continue
        members = list(group["question"])
        trend = (weekly[weekly["question"].isin(members)].groupby("week", as_index=False)
                 ["asked"].sum().sort_values("week"))
        change = 0.0
        if middle is not None:
            days = weekly[weekly["question"].isin(members)]
            later = days[pd.to_datetime(days["week"]).dt.date > middle]["asked"].sum()
            change = float(later - (days["asked"].sum() - later))
        clusters.append(GapCluster(
            label=str(group["example"].iloc[0]), size=size, questions=members,
            examples=list(group["example"].head(5)), trend=trend.reset_index(drop=True),
            change=change,
        ))
    return sorted(clusters, key=lambda c: (-c.size, c.label))
