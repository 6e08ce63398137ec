"""Analytics over a known chat log: every figure of the Analyse page with asserted numbers,
drill-down, the incremental copy, export round trip, content-gap clusters on the demo topics.

The log is written as the assistant writes it (conversations and messages in the real SQLite
store); the figures come from the real DuckDB copy."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from sklearn.metrics import adjusted_rand_score

from pipelines.analytics import (
    ChatLogMirror,
    LogFilter,
    content_gaps,
    export_turns,
    figures,
    filter_options,
    normalise_question,
    turns,
)
from pipelines.assistant import ensure_bot
from pipelines.demo_logs import QUESTIONS_FILE, generate
from pipelines.engine import Engine
from pipelines.feedback import record_feedback
from pipelines.store.models import Message, User
from tests.support.chatlog import conversation, turn

STANDARD = LogFilter(workspaces=("standard",))


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def known_log(engine: Engine) -> dict[str, int]:
    """Six turns in four conversations of workspace "standard" (two bots), one in "jena".
    Times in UTC; Musterstadt is UTC+1 in November."""
    ids: dict[str, int] = {}
    c1 = conversation(engine, "standard", "bot-a", "public", "c1")
    ids["pass"] = turn(engine, c1, utc(2, 8, 15), "Was kostet ein Reisepass?", "extractive", 100)
    ids["kids"] = turn(engine, c1, utc(2, 8, 17), "Und für Kinder?", "extractive", 200)
    c2 = conversation(engine, "standard", "bot-a", "voice", "c2")
    ids["english"] = turn(engine, c2, utc(2, 13, 5), "How much is a passport?", "llm", 300,
                          language="en")
    c3 = conversation(engine, "standard", "bot-b", "public", "c3")
    ids["gap"] = turn(engine, c3, utc(2, 13, 30), "Wo beantrage ich Bürgergeld?",
                      "keine_antwort", 50, confidence=0.1)
    ids["person"] = turn(engine, c3, utc(2, 13, 31), "Ich möchte mit einem Menschen sprechen",
                         "mensch", 40, handoff=True, confidence=0.0)
    # 23:30 UTC on 3 November is 00:30 on 4 November in Musterstadt.
    c4 = conversation(engine, "standard", "bot-a", "workspace", "c4", synthetic=True)
    ids["late"] = turn(engine, c4, utc(3, 23, 30), "was kostet ein Reisepass", "extractive", 60)
    c5 = conversation(engine, "jena", "bot-c", "public", "c5")
    ids["jena"] = turn(engine, c5, utc(2, 9), "Wo ist das Bürgeramt Jena?", "extractive", 999)
    with engine.session() as session:
        session.add(User(username="redaktion", display_name="Redaktion"))
        session.flush()
        user_id = session.query(User.id).filter_by(username="redaktion").scalar()
    record_feedback(engine, "standard", ids["pass"], 1, "Danke!")
    record_feedback(engine, "standard", ids["pass"], 1, user_id=user_id)
    record_feedback(engine, "standard", ids["english"], -1, "zu knapp")
    return ids


def test_figures_of_a_known_log(engine: Engine, known_log: dict[str, int]) -> None:
    mirror = ChatLogMirror(engine)
    assert mirror.sync() == 7
    data = figures(mirror, STANDARD)

    kpis = data.kpis
    assert (kpis["messages"], kpis["conversations"]) == (6, 4)
    assert kpis["answered"] == pytest.approx(4 / 6)  # 3 extractive + 1 llm
    assert kpis["no_answer"] == pytest.approx(1 / 6)
    assert kpis["handoff"] == pytest.approx(1 / 6)
    assert kpis["feedback_rate"] == pytest.approx(2 / 6)  # two answers rated
    assert kpis["positive_share"] == pytest.approx(2 / 3)  # three ratings, two positive
    # gesamt: 40 50 60 100 200 300 -> median 80, p95 by linear interpolation 275
    assert (kpis["latency_p50"], kpis["latency_p95"]) == pytest.approx((80.0, 275.0))
    assert kpis["synthetic"] == 1

    per_day = data.per_day.set_index("day")
    assert per_day.to_dict("index") == {
        pd.Timestamp("2026-11-02"): {"conversations": 3, "messages": 5},
        pd.Timestamp("2026-11-04"): {"conversations": 1, "messages": 1},
    }
    hours = data.per_hour.set_index("hour")["messages"]
    assert len(hours) == 24 and hours.sum() == 6
    assert (hours[9], hours[14], hours[0]) == (2, 3, 1)
    assert data.by_bot.set_index("bot")["messages"].to_dict() == {"bot-a": 4, "bot-b": 2}
    assert data.by_channel.set_index("channel")["messages"].to_dict() == {
        "public": 4, "voice": 1, "workspace": 1}
    outcomes = data.outcomes_per_day.groupby("outcome")["messages"].sum().to_dict()
    assert outcomes == {"extractive": 3, "llm": 1, "no_answer": 1, "handoff": 1}
    feedback = data.feedback_per_day.set_index("day")
    first_day = feedback.loc[pd.Timestamp("2026-11-02")]
    assert first_day[["answers", "rated", "positive", "ratings"]].tolist() == [5, 2, 2, 3]
    latency = data.latency.set_index("step")
    assert latency.loc["suche", "p50"] == pytest.approx(40.0)
    assert list(latency.index) == ["suche", "gesamt"]  # steps nobody timed are left out
    assert data.languages.set_index("language")["messages"].to_dict() == {"de": 5, "en": 1}
    top = data.top_questions.iloc[0]
    assert (top["question"], top["asked"]) == ("was kostet ein reisepass", 2)
    options = filter_options(mirror, ["standard"])
    assert (options["workspace"], options["bot"]) == (["standard"], ["bot-a", "bot-b"])
    assert options["days"] == [date(2026, 11, 2), date(2026, 11, 4)]
    assert filter_options(mirror, ["standard", "jena"])["bot"] == ["bot-a", "bot-b", "bot-c"]


def test_filters_narrow_every_figure(engine: Engine, known_log: dict[str, int]) -> None:
    mirror = ChatLogMirror(engine)
    mirror.sync()
    assert figures(mirror, LogFilter(workspaces=("jena",))).kpis["messages"] == 1
    assert figures(mirror, LogFilter()).kpis["messages"] == 7
    by_bot = figures(mirror, LogFilter(workspaces=("standard",), bots=("bot-b",))).kpis
    assert (by_bot["messages"], by_bot["handoff"]) == (2, 0.5)
    assert figures(mirror, LogFilter(workspaces=("standard",), channels=("voice",),
                                     languages=("en",))).kpis["messages"] == 1
    one_day = figures(mirror, LogFilter(workspaces=("standard",), start=date(2026, 11, 4),
                                        end=date(2026, 11, 4))).kpis
    assert one_day["messages"] == 1
    no_demo = LogFilter(workspaces=("standard",), include_synthetic=False)
    assert figures(mirror, no_demo).kpis["messages"] == 5


def test_drill_down_from_a_chart_point_to_the_transcripts(engine: Engine,
                                                           known_log: dict[str, int]) -> None:
    mirror = ChatLogMirror(engine)
    mirror.sync()
    afternoon = turns(mirror, LogFilter(workspaces=("standard",), days=(date(2026, 11, 2),),
                                        hours=(14,)))
    assert set(afternoon["message_id"]) == {known_log["english"], known_log["gap"],
                                            known_log["person"]}
    handed_off = turns(mirror, LogFilter(workspaces=("standard",), outcomes=("handoff",)))
    assert list(handed_off["question"]) == ["Ich möchte mit einem Menschen sprechen"]
    asked = turns(mirror, LogFilter(workspaces=("standard",),
                                    questions=(normalise_question("Was kostet ein Reisepass?"),)))
    assert set(asked["message_id"]) == {known_log["pass"], known_log["late"]}
    rated = asked.set_index("message_id").loc[known_log["pass"]]
    assert rated["rating"] == 1 and rated["feedback_comment"] == "Danke!"
    assert rated["sources"] == "Merkblatt Reisepass"
    whole = turns(mirror, LogFilter(workspaces=("standard",), conversations=("c3",)))
    assert list(whole["question"][::-1]) == ["Wo beantrage ich Bürgergeld?",
                                             "Ich möchte mit einem Menschen sprechen"]


def test_the_copy_takes_over_new_turns_and_changed_feedback(engine: Engine,
                                                            known_log: dict[str, int]) -> None:
    mirror = ChatLogMirror(engine)
    mirror.sync()
    assert mirror.sync() == 0
    turn(engine, "c2", utc(5, 10), "Und ein Personalausweis?", "llm", 250, language="en")
    record_feedback(engine, "standard", known_log["english"], 1, "doch gut")  # changed its mind
    assert mirror.sync() == 1
    kpis = figures(mirror, STANDARD).kpis
    assert kpis["messages"] == 7
    assert kpis["positive_share"] == pytest.approx(1.0)


def test_a_copy_with_turns_the_store_no_longer_has_is_rebuilt(engine: Engine,
                                                              known_log: dict[str, int]) -> None:
    mirror = ChatLogMirror(engine)
    mirror.sync()
    with engine.session() as session:
        session.delete(session.get(Message, known_log["kids"]))
    mirror.sync()
    assert figures(mirror, STANDARD).kpis["messages"] == 5
    assert known_log["kids"] not in set(turns(mirror, STANDARD, limit=None)["message_id"])


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_round_trip(engine: Engine, known_log: dict[str, int], fmt: Any) -> None:
    mirror = ChatLogMirror(engine)
    mirror.sync()
    frame = turns(mirror, STANDARD, limit=None)
    payload = export_turns(frame, fmt)
    if fmt == "csv":
        assert payload.startswith("\ufeff".encode())  # spreadsheet programs read UTF-8
        back = pd.read_csv(io.BytesIO(payload), encoding="utf-8-sig")
    elif fmt == "jsonl":
        lines = payload.decode("utf-8").splitlines()
        assert len(lines) == 6 and all(json.loads(line) for line in lines)
        back = pd.read_json(io.BytesIO(payload), lines=True)
    else:
        back = pd.read_parquet(io.BytesIO(payload))
    assert list(back["message_id"]) == list(frame["message_id"])
    assert list(back["question"]) == list(frame["question"])  # umlauts survive
    assert "Bürgergeld" in " ".join(back["question"])
    ratings = dict(zip(back["message_id"], back["rating"], strict=True))
    assert ratings[known_log["pass"]] == 1 and ratings[known_log["english"]] == -1
    assert pd.isna(ratings[known_log["gap"]])
    assert str(back["time"].iloc[-1]).startswith("2026-11-02")


def test_export_refuses_an_unknown_format(engine: Engine) -> None:
    with pytest.raises(ValueError, match="Unbekanntes Exportformat „xls“"):
        export_turns(pd.DataFrame({"a": [1]}), "xls")  # type: ignore[arg-type]


def test_content_gaps_group_the_demo_topics(engine: Engine) -> None:
    """Synthetic logs over the demo questions: the unanswered wordings of one topic land in
    one cluster (adjusted Rand index against the topics), the rising topic has a positive
    trend, and requests for a person are no content gap."""
    ensure_bot(engine, "musterstadt-buergerservice")
    generate(engine, "standard", "musterstadt-buergerservice", days=42,
             conversations_per_day=40, seed=11, end=date(2026, 11, 22), answer_with_bot=False)
    mirror = ChatLogMirror(engine)
    mirror.sync()
    clusters = content_gaps(mirror, STANDARD, engine.embedder.embed, min_size=1)

    topics = {normalise_question(q): gap["topic"]
              for gap in yaml.safe_load(QUESTIONS_FILE.read_text(encoding="utf-8"))["gaps"]
              for q in gap["questions"]}
    label = {q: n for n, cluster in enumerate(clusters) for q in cluster.questions}
    asked = [q for q in topics if q in label]
    assert len(asked) >= 20
    agreement = adjusted_rand_score([topics[q] for q in asked], [label[q] for q in asked])
    assert agreement >= 0.6, agreement
    tax = next(c for c in clusters if any(topics.get(q) == "Grundsteuer-Bescheid"
                                          for q in c.questions))
    assert tax.change > 0 and tax.size >= 20
    assert tax.trend["asked"].sum() == tax.size
    everything = {q for cluster in clusters for q in cluster.questions}
    assert normalise_question("Ich möchte mit einem Menschen sprechen") not in everything
    assert [c.size for c in clusters] == sorted((c.size for c in clusters), reverse=True)


def test_content_gaps_of_an_empty_period(engine: Engine, known_log: dict[str, int]) -> None:
    mirror = ChatLogMirror(engine)
    mirror.sync()
    empty = LogFilter(workspaces=("standard",), start=date(2030, 1, 1))
    assert content_gaps(mirror, empty, engine.embedder.embed) == []


def test_the_copy_lives_in_the_data_folder(engine: Engine) -> None:
    mirror = ChatLogMirror(engine)
    mirror.sync()
    assert mirror.path == Path(engine.settings.data_dir) / "analytics.duckdb"
    assert mirror.path.exists()


def test_curated_hits_redirects_and_offers_are_counted(engine: Engine) -> None:
    """Issue 5 in the figures: curated answers served (per answer), redirects to another
    office, offers of a person; redirects and curated answers are no content gaps."""
    c1 = conversation(engine, "standard", "bot-a", "public", "k1")
    turn(engine, c1, utc(5, 9), "Hat der Wertstoffhof an Feiertagen offen?", "kuratiert", 30,
         curated_answer_id=7)
    turn(engine, c1, utc(5, 9, 5), "Wertstoffhof an Feiertagen geöffnet?", "kuratiert", 30,
         curated_answer_id=7)
    turn(engine, c1, utc(5, 9, 10), "Wann ist der Wertstoffhof offen?", "kuratiert", 30,
         curated_answer_id=9)
    turn(engine, c1, utc(5, 9, 20), "Wo beantrage ich Bürgergeld?", "verweis", 20,
         confidence=0.0)
    turn(engine, c1, utc(5, 9, 30), "Gibt es einen Wochenmarkt?", "keine_antwort", 20,
         handoff=True, confidence=0.1)
    mirror = ChatLogMirror(engine)
    mirror.sync()

    data = figures(mirror, LogFilter(workspaces=("standard",)))

    assert data.kpis["curated_hits"] == 3
    assert data.kpis["answered"] == pytest.approx(3 / 5)
    assert data.kpis["redirect"] == pytest.approx(1 / 5)
    assert data.kpis["offered"] == pytest.approx(1 / 5)
    assert data.kpis["handoff"] == 0  # an offer is not a request for a person
    assert data.curated.set_index("curated_id")["hits"].to_dict() == {7: 2, 9: 1}
    outcomes = data.outcomes_per_day.groupby("outcome")["messages"].sum().to_dict()
    assert outcomes == {"curated": 3, "redirect": 1, "no_answer": 1}
    gaps = content_gaps(mirror, LogFilter(workspaces=("standard",)),
                        engine.embedder.embed, min_size=1)
    assert [e for g in gaps for e in g.examples] == ["Gibt es einen Wochenmarkt?"]
