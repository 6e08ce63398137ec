"""Retrieval latency at scale: synthetic German chunks, real query embedding, default ranking.

Chunk texts are drawn from the vocabulary of the Musterstadt corpus (so the full-text index
sees a realistic term distribution); chunk vectors are random unit vectors, since search cost
does not depend on what the vectors mean. Each measured query embeds its text with the real
model and runs the same hybrid search as a turn does.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from typing import Any

import lancedb
import numpy as np

from evaluation.metrics import summary_ms
from pipelines.embeddings import Embedder
from pipelines.index import ChunkRecord, KnowledgeBaseIndex
from pipelines.settings import DEFAULT_TEXT_WEIGHT, REPO_ROOT

VOCABULARY_SOURCES = REPO_ROOT / "data" / "sample" / "_sources"
BATCH = 10_000
WORDS_PER_CHUNK = 120
QUERY_TEMPLATES = (
    "Was kostet {a}?", "Wo beantrage ich {a}?", "{a} {b}", "Welche Unterlagen brauche ich für {a}?",
    "Wann ist {a} geöffnet?", "Frist für {a} und {b}",
)


def _vocabulary() -> list[str]:
    words: list[str] = []
    for path in sorted(VOCABULARY_SOURCES.rglob("*.md")):
        words.extend(re.findall(r"[A-Za-zÄÖÜäöüß]{3,}", path.read_text(encoding="utf-8")))
    if len(set(words)) < 200:
        raise RuntimeError(f"Zu wenig Vokabular in {VOCABULARY_SOURCES} für synthetische Texte.")
    return words


def _fill(index: KnowledgeBaseIndex, size: int, words: list[str], dimension: int,
          rng: np.random.Generator) -> None:
    vocabulary = np.array(words)
    for start in range(0, size, BATCH):
        count = min(BATCH, size - start)
        texts = [" ".join(rng.choice(vocabulary, WORDS_PER_CHUNK)) for _ in range(count)]
        vectors = rng.standard_normal((count, dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        records = [
            ChunkRecord(
                chunk_id=f"c{start + i:07d}", doc_key=f"d{(start + i) // 20:06d}",
                content_hash="", revision="bench", source=f"dok{(start + i) // 20}.pdf",
                source_path="", title="", page=1, section="", url="", kind="text",
                language="de", text=text,
            )
            for i, text in enumerate(texts)
        ]
        index.add(records, vectors)
    index.refresh_indexes()


def run(embedder: Embedder, sizes: list[int], queries: int,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    say = progress or (lambda _m: None)
    words = _vocabulary()
    rng = np.random.default_rng(7)
    nouns = sorted({w for w in words if w[0].isupper() and len(w) > 5})
    query_texts = [
        QUERY_TEMPLATES[i % len(QUERY_TEMPLATES)].format(a=rng.choice(nouns), b=rng.choice(nouns))
        for i in range(queries)
    ]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as folder:
        db = lancedb.connect(folder)
        for size in sizes:
            index = KnowledgeBaseIndex(db, f"t{size}", embedder)
            started = time.perf_counter()
            _fill(index, size, words, embedder.dimension, rng)
            say(f"{size} Abschnitte angelegt ({time.perf_counter() - started:.0f} s)")
            for text in query_texts[:10]:  # warm caches and index files once
                index.search(text, k=5)
            totals, embeds, fulltext, vector = [], [], [], []
            for text in query_texts:
                t0 = time.perf_counter()
                query_vector = embedder.embed([text])[0]
                t1 = time.perf_counter()
                hits = index.search(text, k=5, query_vector=query_vector)
                t2 = time.perf_counter()
                totals.append((t2 - t0) * 1000)
                embeds.append((t1 - t0) * 1000)
                assert hits, "hybrid search returned nothing"
            table = index._open()
            whole_rows = []
            for text in query_texts[: queries // 2]:
                query_vector = embedder.embed([text])[0]
                t0 = time.perf_counter()
                index.search(text, k=5, mode="fulltext")
                t1 = time.perf_counter()
                index.search(text, k=5, mode="vector", query_vector=query_vector)
                t2 = time.perf_counter()
                index._hybrid_by_rows(table, text, 5, DEFAULT_TEXT_WEIGHT, None, query_vector)
                t3 = time.perf_counter()
                fulltext.append((t1 - t0) * 1000)
                vector.append((t2 - t1) * 1000)
                whole_rows.append((t3 - t2) * 1000)
            results[str(size)] = {
                "hybrid_inkl_anfrage_einbettung": summary_ms(totals),
                "nur_anfrage_einbettung": summary_ms(embeds),
                "nur_volltext": summary_ms(fulltext),
                "nur_vektoren": summary_ms(vector),
                # the same ranking reading whole rows of all 80 candidates (the first version)
                "hybrid_ganze_zeilen_ohne_einbettung": summary_ms(whole_rows),
                "hybrid_ohne_einbettung": summary_ms(
                    [total - embed for total, embed in zip(totals, embeds, strict=True)]),
            }
            say(f"{size}: {results[str(size)]}")
    return {"queries": queries, "embedding_model": embedder.name, "chunks": results}
