"""The scope and curated-answer benchmarks count what they claim (small known inputs, the real
assistant and embedder)."""

from __future__ import annotations

import json
from pathlib import Path

from evaluation import bench_curated, bench_scope
from evaluation.testset import TestItem
from pipelines.assistant import Assistant
from pipelines.bots import BotConfig
from pipelines.engine import Engine
from tests.support.corpus import bot_on_corpus

DOCS = {"reisepass.md": "# Reisepass\n\nEin Reisepass kostet 70,00 Euro.\n"}
BOT = "bench-scope-bot"


def test_scope_bench_counts_redirects_refusals_and_answers(engine: Engine, corpus: Path
                                                           ) -> None:
    bot_on_corpus(engine, corpus, BOT)
    config = Assistant(engine, BOT).bot.model_dump()
    config["scope"] = {"topics": ["Reisepass"], "redirects": [
        {"name": "Jobcenter", "keywords": ["Bürgergeld"], "message": "Jobcenter fragen."},
        {"name": "Finanzamt", "keywords": ["Kindergeld"], "message": "Finanzamt fragen."}]}
    items = [
        TestItem("a", "Was kostet ein Reisepass?", "70,00 Euro", "reisepass.md", "answerable"),
        TestItem("b", "Wo beantrage ich Bürgergeld?", "Jobcenter", "", "out_of_scope"),
        # Redirected, but to the wrong office (the sample is deliberately wrong here).
        TestItem("c", "Wie beantrage ich Kindergeld?", "Familienkasse", "", "out_of_scope"),
        TestItem("d", "Wie wird das Wetter morgen?", "", "", "out_of_scope"),
        # Labelled answerable on purpose: the gate sends it away, which the bench must count.
        TestItem("e", "Bürgergeld beantragen?", "", "", "answerable"),
    ]

    figures = bench_scope.evaluate(engine, BotConfig.model_validate(config), items)

    assert figures["redirected_correctly"] == 1
    assert figures["out_of_scope_with_office"] == 2
    assert figures["out_of_scope_refused_without_office"] == 1
    assert (figures["answerable"], figures["answerable_wrongly_refused"],
            figures["answerable_redirected"]) == (2, 1, 1)
    assert [w.split()[0] for w in figures["wrong"]] == ["c", "e"]


def test_curated_bench_counts_false_matches_per_threshold(engine: Engine, tmp_path: Path
                                                          ) -> None:
    pairs = tmp_path / "pairs.jsonl"
    rows = [("Was kostet ein Reisepass?", "Was kostet ein Reisepass?", True),
            ("Was kostet ein Reisepass?", "Wann hat das Schwimmbad offen?", False)]
    pairs.write_text("\n".join(json.dumps({"stored": s, "asked": a, "same": y})
                               for s, a, y in rows), encoding="utf-8")

    result = bench_curated.run(engine.embedder, pairs, default_threshold=0.7)

    assert (result["pairs"], result["same"], result["different"]) == (2, 1, 1)
    assert result["at_default"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0,
                                    "false_matches": 0}
    assert result["mistakes_at_default"] == []
    lexical = result["by_threshold"]["nur Wortgleichheit"]
    assert lexical["0.5"]["recall"] == 1.0 and lexical["0.5"]["false_matches"] == 0
