"""Automatic evaluation runs on a small corpus: per-item metrics, the summary, two versions
compared with regressions, the leaderboard, and the CLI's exit code below thresholds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evaluation.runs import (
    compare_runs,
    leaderboard,
    list_runs,
    paired_tests,
    run_results,
    run_testset,
)
from evaluation.testset import TestItem, TestSetError, add_items, create_testset
from pipelines.bots import BotConfig, BotRepository
from pipelines.engine import Engine
from pipelines.store.models import Message
from tests.support.cli import run_pipelines
from tests.support.corpus import bot_on_corpus

DOCS = {
    "reisepass.md": (
        "# Reisepass\n\n## Gebühren\n\nEin Reisepass kostet 70,00 Euro. Für Antragstellende "
        "unter 24 Jahren kostet der Reisepass 37,50 Euro.\n"
    ),
    "hundesteuer.md": (
        "# Hundesteuer\n\nDie Hundesteuer beträgt 96 Euro im Jahr für den ersten Hund. Für "
        "jeden weiteren Hund werden 144 Euro im Jahr erhoben.\n"
    ),
    "sperrmuell.md": (
        "# Sperrmüll\n\nSperrmüll melden Sie online über das Abfallportal an. Die Abholung ist "
        "zweimal im Jahr kostenlos.\n"
    ),
}
BOT = "eval-bot"
WS = "standard"
ITEMS = [
    TestItem("p1", "Was kostet ein Reisepass?", "70,00 Euro", "reisepass.md", "answerable"),
    TestItem("p2", "Und für Antragstellende unter 24 Jahren?", "37,50 Euro", "reisepass.md",
             "answerable", history=("Was kostet ein Reisepass?",)),
    TestItem("h1", "Wie hoch ist die Hundesteuer für den ersten Hund?", "96 Euro im Jahr",
             "hundesteuer.md", "answerable"),
    TestItem("n1", "Wann hat das Hallenbad am Sonntag geöffnet?", "", "", "no_answer"),
    TestItem("m1", "Ich möchte mit einem Menschen sprechen", "", "", "handoff"),
]


@pytest.fixture
def bot(engine: Engine, corpus: Path) -> Engine:
    bot_on_corpus(engine, corpus, BOT, retrieval={"confidence_threshold": 0.2})
    create_testset(engine, WS, "klein", bot_slug=BOT)
    add_items(engine, WS, "klein", ITEMS)
    return engine


def by_key(engine: Engine, run_id: int) -> dict[str, dict[str, Any]]:
    return {r["item_key"]: r for r in run_results(engine, WS, run_id)}


def test_a_run_scores_every_item_and_logs_no_chat_turn(bot: Engine) -> None:
    seen: list[tuple[int, int]] = []
    run = run_testset(bot, WS, BOT, "klein", label="erster Lauf",
                      progress=lambda d, t, _q: seen.append((d, t)))

    assert seen == [(i, 5) for i in range(1, 6)]
    assert (run.status, run.answer_mode, run.version) == ("fertig", "extractive", 2)
    results = by_key(bot, run.id)
    passport = results["p1"]["metrics"]
    assert passport["rank"] == 1 and passport["hit@k"] is True
    assert passport["reciprocal_rank"] == 1.0
    assert 0 < passport["f1"] <= 1 and passport["exact_match"] == 0.0
    assert passport["groundedness"] == 1.0  # extractive: verbatim sentences of the sources
    # The follow-up was answered with its history: the under-24 fee is in its answer.
    assert "37,50" in results["p2"]["answer"]
    assert results["n1"]["metrics"]["kind_correct"] is True
    assert "f1" not in results["n1"]["metrics"]
    assert results["m1"]["mode"] == "mensch" and results["m1"]["metrics"]["kind_correct"]
    summary = run.summary
    assert summary["items"] == 5 and summary["retrieval_items"] == 3
    assert summary["hit_rate"] == 1.0
    assert summary["by_kind"]["handoff"] == {"items": 1, "correct": 1, "accuracy": 1.0}
    assert summary["latency_p50_ms"] <= summary["latency_p95_ms"]
    with bot.session() as session:
        assert session.query(Message).count() == 0


def test_a_worse_version_shows_its_regressions_and_ranks_lower(bot: Engine) -> None:
    good = run_testset(bot, WS, BOT, "klein")
    with bot.session() as session:
        repo = BotRepository(session, WS)
        data = repo.get(BOT)[0].model_dump()
        data["knowledge_bases"] = ["leer"]  # the documents are gone: nothing is found
        repo.save(BotConfig.model_validate(data), note="falsche Wissensbasis")
    bad = run_testset(bot, WS, BOT, "klein", label="falsche Wissensbasis")

    rows = {r.item_key: r for r in compare_runs(bot, WS, good.id, bad.id)}
    assert rows["p1"].verdict == "schlechter"
    assert "richtiges Verhalten" in rows["p1"].reasons
    assert "Quelle gefunden" in rows["p1"].reasons
    assert rows["n1"].verdict == "gleich"  # refusing was right before and after
    tests = {t.metric: t for t in paired_tests(list(rows.values()))}
    found = tests["Quelle gefunden"]
    assert (found.items, found.better, found.worse) == (3, 0, 3)
    assert (found.old_mean, found.new_mean) == (1.0, 0.0)
    # Three of three worse is still within chance for a two-sided sign test: 2 · 0.5³.
    assert found.p_value == 0.25 and found.verdict == "kein belastbarer Unterschied (p = 0,25)"
    board = leaderboard(bot, WS, "klein")
    assert [(r["version"], r["run"]) for r in board] == [(2, good.id), (3, bad.id)]
    assert board[0]["score"] > board[1]["score"]
    assert [r.id for r in list_runs(bot, WS, "klein")] == [bad.id, good.id]


def test_runs_of_an_empty_or_unknown_test_set_are_refused(bot: Engine) -> None:
    create_testset(bot, WS, "leer")
    with pytest.raises(TestSetError, match="keine aktiven Einträge"):
        run_testset(bot, WS, BOT, "leer")
    with pytest.raises(TestSetError, match="gibt es im Arbeitsbereich"):
        run_testset(bot, WS, BOT, "fehlt")


def test_cli_run_exits_1_below_a_threshold_and_0_above(bot: Engine) -> None:
    data_dir = bot.settings.data_dir

    passed = run_pipelines(data_dir, "run", "--bot", BOT, "--testset", "klein",
                           "--min-hit-rate", "0.9", "--json", module="evaluation")
    failed = run_pipelines(data_dir, "run", "--bot", BOT, "--testset", "klein",
                           "--min-exact-match", "0.9", "--max-p95-ms", "0.001",
                           module="evaluation")

    assert passed.returncode == 0, passed.stderr
    payload = json.loads(passed.stdout)
    assert payload["summary"]["hit_rate"] == 1.0 and payload["failed"] == []
    assert failed.returncode == 1
    assert "Exakte Übereinstimmung" in failed.stderr and "liegt unter der Grenze 0.9" in \
        failed.stderr
    assert "Antwortzeit p95 (ms)" in failed.stderr
