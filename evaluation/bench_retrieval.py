"""Retrieval quality on any SQuAD-format file: each paragraph is one chunk, the gold passage of a
question is its own paragraph. All methods are measured in the same run on the same index."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lancedb
import numpy as np

from evaluation.metrics import first_relevant_rank, mrr_at, recall_at
from evaluation.squad import load_squad
from pipelines.embeddings import Embedder
from pipelines.index import ChunkRecord, Hit, KnowledgeBaseIndex

DEPTH = 10
RRF_K = 60


def _records(paragraphs: list[Any]) -> list[ChunkRecord]:
    # Titles are left out on purpose: the baselines in ENVIRONMENT.md index the paragraph only.
    return [
        ChunkRecord(
            chunk_id=p.paragraph_id, doc_key=p.paragraph_id, content_hash="", revision="bench",
            source=p.title, source_path="", title="", page=None, section="", url="",
            kind="text", language="de", text=p.context,
        )
        for p in paragraphs
    ]


def plain_rrf(text_hits: list[Hit], vector_hits: list[Hit]) -> list[str]:
    """Equal-weight reciprocal rank fusion, the common default, for comparison."""
    scores: dict[str, float] = {}
    for hits in (text_hits, vector_hits):
        for rank, hit in enumerate(hits, start=1):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + 1 / (RRF_K + rank)
    return sorted(scores, key=lambda c: scores[c], reverse=True)


def run(squad_file: Path, embedder: Embedder, text_weight: float,
        extra_weights: list[float] | None = None,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    paragraphs, questions = load_squad(squad_file)
    say = progress or (lambda _m: None)
    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as folder:
        db = lancedb.connect(folder)
        records = _records(paragraphs)
        started = time.perf_counter()
        vectors = embedder.embed([r.embedding_text() for r in records])
        say(f"{len(records)} Absätze eingebettet ({time.perf_counter() - started:.1f} s)")
        split = KnowledgeBaseIndex(db, "split", embedder, split_compounds=True)
        plain = KnowledgeBaseIndex(db, "plain", embedder, split_compounds=False)
        for index in (split, plain):
            index.add(records, vectors)
            index.refresh_indexes()
        query_vectors = embedder.embed([q.question for q in questions])
        say(f"{len(questions)} Fragen eingebettet")
        weights = sorted({text_weight, *(extra_weights or [])})
        methods: dict[str, Callable[[str, np.ndarray], list[str]]] = {
            "volltext_ohne_kompositazerlegung": lambda q, v: _ids(
                plain.search(q, DEPTH, "fulltext")),
            "volltext": lambda q, v: _ids(split.search(q, DEPTH, "fulltext")),
            "vektoren": lambda q, v: _ids(split.search(q, DEPTH, "vector", query_vector=v)),
            "hybrid_rrf_gleichgewichtet": lambda q, v: plain_rrf(
                split.search(q, 40, "fulltext"),
                split.search(q, 40, "vector", query_vector=v))[:DEPTH],
        }
        for weight in weights:
            name = "standard_gewichtet" if weight == text_weight else f"gewichtet_{weight:.2f}"
            methods[name] = _weighted(split, weight)
        results: dict[str, Any] = {}
        for name, method in methods.items():
            ranks = []
            started = time.perf_counter()
            for question, vector in zip(questions, query_vectors, strict=True):
                ranks.append(first_relevant_rank(method(question.question, vector),
                                                 {question.paragraph_id}))
            elapsed = time.perf_counter() - started
            results[name] = {
                "recall@1": round(recall_at(ranks, 1), 4),
                "recall@5": round(recall_at(ranks, 5), 4),
                "recall@10": round(recall_at(ranks, 10), 4),
                "mrr@10": round(mrr_at(ranks, 10), 4),
                "ms_per_query": round(elapsed * 1000 / len(questions), 2),
            }
            say(f"{name}: {results[name]}")
    return {
        "file": str(squad_file),
        "paragraphs": len(paragraphs),
        "questions": len(questions),
        "embedding_model": embedder.name,
        "default_text_weight": text_weight,
        "methods": results,
    }


def _weighted(index: KnowledgeBaseIndex, weight: float
              ) -> Callable[[str, np.ndarray], list[str]]:
    def method(question: str, vector: np.ndarray) -> list[str]:
        return _ids(index.search(question, DEPTH, "hybrid", text_weight=weight,
                                 query_vector=vector))

    return method


def _ids(hits: list[Hit]) -> list[str]:
    return [h.chunk_id for h in hits]
