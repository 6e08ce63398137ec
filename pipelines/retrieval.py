"""Retrieval for a bot: search its knowledge bases, merge, and judge how well the best hit fits."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.engine import Engine, table_name_for
from pipelines.german import content_terms
from pipelines.index import Hit, SearchMode

# Confidence = how much of the question the best passage covers (stemmed content words and
# compound parts), blended with the embedder's cosine similarity, rescaled to [0, 1] over the
# range MiniLM gives German text (≈0.15 unrelated .. ≈0.65 same topic).
COVERAGE_WEIGHT = 0.7
SIMILARITY_FLOOR = 0.15
SIMILARITY_SPAN = 0.5


def retrieve(
    engine: Engine,
    workspace: str,
    knowledge_bases: Sequence[str],
    query: str,
    k: int,
    mode: SearchMode = "hybrid",
    text_weight: float | None = None,
    filters: dict[str, str | Sequence[str]] | None = None,
) -> list[Hit]:
    """Top `k` hits over all `knowledge_bases`, each hit scored by the same fused measure."""
    weight = engine.settings.fusion_text_weight if text_weight is None else text_weight
    hits: list[Hit] = []
    for kb in knowledge_bases:
        index = engine.index(table_name_for(workspace, kb))
        for hit in index.search(query, k=k, mode=mode, text_weight=weight, filters=filters):
            hit.extra["knowledge_base"] = kb
            hits.append(hit)
    hits.sort(key=lambda h: h.score, reverse=True)
    return hits[:k]


def term_coverage(question: str, passage: str) -> float:
    wanted = content_terms(question)
    if not wanted:
        return 0.0
    return len(wanted & content_terms(passage)) / len(wanted)


def confidence(question: str, hits: Sequence[Hit]) -> float:
    """0..1: how sure we are that the best hits answer the question."""
    if not hits:
        return 0.0
    best = 0.0
    for hit in hits[:3]:
        coverage = term_coverage(question, f"{hit.title} {hit.section} {hit.text}")
        similarity = (hit.vector_similarity - SIMILARITY_FLOOR) / SIMILARITY_SPAN
        value = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * min(max(similarity, 0), 1)
        best = max(best, value)
    return round(best, 4)
