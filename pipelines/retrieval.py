"""Retrieval for a bot: search its knowledge bases, merge, and judge how well the best hit fits."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.engine import Engine, table_name_for
from pipelines.german import STOPWORDS, compound_parts, content_terms, stem, words
from pipelines.index import Hit, SearchMode

# Confidence = how much of the question the best passage covers (stemmed content words and
# compound parts), blended with the embedder's cosine similarity, rescaled to [0, 1] over the
# range MiniLM gives German text (≈0.15 unrelated .. ≈0.65 same topic).
COVERAGE_WEIGHT = 0.7
SIMILARITY_FLOOR = 0.15
SIMILARITY_SPAN = 0.5
COMPOUND_PART_CREDIT = 0.5


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
    """Top `k` hits over all `knowledge_bases`, each hit scored by the same fused measure.

    `filters` maps chunk metadata (see index.FILTER_COLUMNS) to a value or a list of values;
    `knowledge_base` narrows the bot's knowledge bases."""
    weight = engine.settings.fusion_text_weight if text_weight is None else text_weight
    filters = dict(filters or {})
    wanted = filters.pop("knowledge_base", None)
    if wanted is not None:
        wanted_set = {wanted} if isinstance(wanted, str) else set(wanted)
        knowledge_bases = [kb for kb in knowledge_bases if kb in wanted_set]
    hits: list[Hit] = []
    for kb in knowledge_bases:
        index = engine.index(table_name_for(workspace, kb))
        for hit in index.search(query, k=k, mode=mode, text_weight=weight, filters=filters):
            hit.extra["knowledge_base"] = kb
            hits.append(hit)
    hits.sort(key=lambda h: h.score, reverse=True)
    return hits[:k]


@dataclass(frozen=True)
class TermStatistics:
    """Document frequencies of stemmed terms over (a sample of) a bot's chunks."""

    chunks: int
    frequency: dict[str, int]

    def idf(self, term: str) -> float:
        return math.log((self.chunks + 1) / (self.frequency.get(term, 0) + 0.5))


_STATS_CACHE: dict[tuple[str, tuple[tuple[str, int, int], ...]], TermStatistics] = {}
STATS_SAMPLE_CHUNKS = 5000


def term_statistics(engine: Engine, workspace: str, knowledge_bases: Sequence[str]
                    ) -> TermStatistics:
    """Cached per store and table state, so a re-ingest refreshes it; sampled for very large
    bases. The row count joins the version because a dropped and rebuilt table starts its
    versions anew (reading the version history would cost ~10 ms per turn)."""
    tables = []
    for kb in knowledge_bases:
        table = engine.index(table_name_for(workspace, kb))._open()
        if table is not None:
            tables.append((table, (table.name, int(table.version), int(table.count_rows()))))
    key = (engine.settings.resolved_lancedb_uri, tuple(sorted(state for _, state in tables)))
    if key not in _STATS_CACHE:
        frequency: Counter[str] = Counter()
        chunks = 0
        for table, _ in tables:
            rows = table.search().select(["title", "section", "text"]).limit(
                STATS_SAMPLE_CHUNKS).to_arrow().to_pylist()
            for row in rows:
                frequency.update(
                    content_terms(f"{row['title']} {row['section']} {row['text']}"))
            chunks += len(rows)
        _STATS_CACHE[key] = TermStatistics(chunks, dict(frequency))
    return _STATS_CACHE[key]


def term_coverage(question: str, passage: str, stats: TermStatistics | None = None) -> float:
    """IDF-weighted share of the question's words found in the passage. A question compound
    found only through its parts ("Bürgergeld" in a text on "Bürger" and "Geld") earns partial
    credit; a question word found as part of a passage compound ("Hund" in "Hundesteuer") full."""
    found = content_terms(passage)
    total = covered = 0.0
    for word in words(question):
        lowered = word.lower()
        if lowered in STOPWORDS or len(lowered) < 2:
            continue
        term = stem(lowered)
        weight = stats.idf(term) if stats else 1.0
        total += weight
        if term in found:
            covered += weight
            continue
        parts = [stem(p) for p in compound_parts(word)]
        if parts and all(p in found for p in parts):
            covered += weight * COMPOUND_PART_CREDIT
    return covered / total if total else 0.0


def confidence(question: str, hits: Sequence[Hit], stats: TermStatistics | None = None
               ) -> float:
    """0..1: how sure we are that the best hits answer the question."""
    if not hits:
        return 0.0
    best = 0.0
    for hit in hits[:3]:
        coverage = term_coverage(question, f"{hit.title} {hit.section} {hit.text}", stats)
        similarity = (hit.vector_similarity - SIMILARITY_FLOOR) / SIMILARITY_SPAN
        value = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * min(max(similarity, 0), 1)
        best = max(best, value)
    return round(best, 4)
