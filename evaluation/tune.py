"""Tuning on a bot's own test set (never on XQuAD): the fusion weight by source hit@k, and the
confidence threshold by how well it separates answerable from unanswerable questions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from evaluation.metrics import first_relevant_rank, mrr_at, recall_at
from evaluation.testset import load_testset
from pipelines.bots import BotRepository
from pipelines.engine import Engine
from pipelines.retrieval import confidence, retrieve, term_statistics

DEPTH = 10


def run(engine: Engine, bot_slug: str, testset: Path, weights: list[float],
        thresholds: list[float], progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    say = progress or (lambda _m: None)
    items = load_testset(testset)
    workspace = engine.settings.default_workspace
    with engine.session() as session:
        bot, _ = BotRepository(session, workspace).get(bot_slug)
    kbs = bot.effective_knowledge_bases()

    def query_of(item: Any) -> str:
        return " ".join([*item.history[-1:], item.question])

    answerable = [i for i in items if i.kind == "answerable" and i.sources]
    retrieval: dict[str, Any] = {}
    for weight in weights:
        ranks = []
        for item in answerable:
            hits = retrieve(engine, workspace, kbs, query_of(item), DEPTH, text_weight=weight)
            ranks.append(first_relevant_rank([h.source for h in hits], item.sources))
        retrieval[f"{weight:.2f}"] = {
            "hit@1": round(recall_at(ranks, 1), 4),
            "hit@3": round(recall_at(ranks, 3), 4),
            "hit@5": round(recall_at(ranks, 5), 4),
            "mrr@10": round(mrr_at(ranks, 10), 4),
        }
        say(f"Gewicht {weight:.2f}: {retrieval[f'{weight:.2f}']}")
    scored = []
    stats = term_statistics(engine, workspace, kbs)
    for item in items:
        query = query_of(item)
        hits = retrieve(engine, workspace, kbs, query, bot.retrieval.top_k)
        scored.append((item.kind == "answerable", confidence(query, hits, stats), item))
    separation: dict[str, Any] = {}
    for threshold in thresholds:
        answered_ok = sum(1 for ok, c, _ in scored if ok and c >= threshold)
        refused_ok = sum(1 for ok, c, _ in scored if not ok and c < threshold)
        positives = sum(1 for ok, _, _ in scored if ok)
        negatives = len(scored) - positives
        separation[f"{threshold:.2f}"] = {
            "beantwortbar_beantwortet": round(answered_ok / max(positives, 1), 4),
            "unbeantwortbar_abgelehnt": round(refused_ok / max(negatives, 1), 4),
            "genauigkeit": round((answered_ok + refused_ok) / max(len(scored), 1), 4),
        }
    return {
        "bot": bot_slug,
        "items": len(items),
        "answerable": len(answerable),
        "retrieval_by_text_weight": retrieval,
        "threshold_separation": separation,
        "lowest_answerable": sorted(
            [(round(c, 3), i.id, i.question) for ok, c, i in scored if ok])[:8],
        "highest_unanswerable": sorted(
            [(round(c, 3), i.id, i.question) for ok, c, i in scored if not ok], reverse=True)[:8],
    }
