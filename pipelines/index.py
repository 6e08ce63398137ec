"""One LanceDB table per knowledge base: German full text, vectors, and a weighted fusion.

We own the table and index code instead of llama-index's LanceDB store: that store rebuilds an
English full-text index after every add, replacing the German one this module configures.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import lancedb
import numpy as np
import pyarrow as pa

from pipelines.embeddings import Embedder
from pipelines.german import expand_compounds

SearchMode = Literal["hybrid", "fulltext", "vector"]
FTS_COLUMN = "search_text"
# How many candidates each method contributes before fusion.
CANDIDATES_PER_METHOD = 40


def chunk_schema(dimension: int) -> pa.Schema:
    return pa.schema(
        [
            pa.field("chunk_id", pa.string()),
            pa.field("doc_key", pa.string()),
            pa.field("content_hash", pa.string()),
            pa.field("revision", pa.string()),
            pa.field("source", pa.string()),
            pa.field("source_path", pa.string()),
            pa.field("title", pa.string()),
            pa.field("page", pa.int32()),
            pa.field("section", pa.string()),
            pa.field("url", pa.string()),
            pa.field("kind", pa.string()),
            pa.field("language", pa.string()),
            pa.field("text", pa.string()),
            pa.field(FTS_COLUMN, pa.string()),
            pa.field("ingested_at", pa.timestamp("us", tz="UTC")),
            pa.field("vector", pa.list_(pa.float32(), dimension)),
        ]
    )


@dataclass
class ChunkRecord:
    chunk_id: str
    doc_key: str
    content_hash: str
    revision: str
    source: str
    source_path: str
    title: str
    page: int | None
    section: str
    url: str
    kind: str
    language: str
    text: str

    def embedding_text(self) -> str:
        heading = " – ".join(part for part in (self.title, self.section) if part)
        return f"{heading}\n{self.text}" if heading else self.text

    def search_text(self) -> str:
        return expand_compounds(f"{self.title}\n{self.section}\n{self.text}")


@dataclass
class Hit:
    """A retrieved chunk with its scores; `score` is the one used for ranking."""

    chunk_id: str
    doc_key: str
    source: str
    source_path: str
    title: str
    page: int | None
    section: str
    url: str
    kind: str
    text: str
    score: float
    text_score: float = 0.0
    vector_similarity: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def build_filter(filters: dict[str, str | Sequence[str]] | None) -> str | None:
    """SQL filter from column -> value or values (knowledge base, document, language ...)."""
    if not filters:
        return None
    clauses = []
    for column, value in filters.items():
        if not column.isidentifier():
            raise ValueError(f"Ungültige Filterspalte: {column}")
        if isinstance(value, str):
            clauses.append(f"{column} = {_quote(value)}")
        else:
            clauses.append(f"{column} IN ({', '.join(_quote(v) for v in value)})")
    return " AND ".join(clauses)


class KnowledgeBaseIndex:
    """Chunks of one knowledge base in one LanceDB table."""

    def __init__(self, db: lancedb.DBConnection, table_name: str, embedder: Embedder) -> None:
        self.db = db
        self.table_name = table_name
        self.embedder = embedder
        self._lock = threading.Lock()
        self._table: Any | None = None

    # -- table lifecycle -------------------------------------------------------------
    def _open(self, create: bool = False) -> Any | None:
        if self._table is not None:
            return self._table
        existing = set(self.db.list_tables().tables)
        if self.table_name in existing:
            self._table = self.db.open_table(self.table_name)
        elif create:
            self._table = self.db.create_table(
                self.table_name, schema=chunk_schema(self.embedder.dimension), exist_ok=True
            )
        return self._table

    def count(self, where: str | None = None) -> int:
        table = self._open()
        return 0 if table is None else int(table.count_rows(where))

    def add(self, records: list[ChunkRecord], vectors: np.ndarray) -> None:
        if not records:
            return
        now = datetime.now(UTC)
        rows = [
            {
                **record.__dict__,
                FTS_COLUMN: record.search_text(),
                "ingested_at": now,
                "vector": vector.tolist(),
            }
            for record, vector in zip(records, vectors, strict=True)
        ]
        with self._lock:
            table = self._open(create=True)
            assert table is not None
            table.add(rows)

    def delete_document(
        self, doc_key: str, keep_revision: str | None = None, only_revision: str | None = None
    ) -> None:
        """Remove a document's chunks: all, all but `keep_revision`, or only `only_revision`."""
        table = self._open()
        if table is None:
            return
        where = f"doc_key = {_quote(doc_key)}"
        if keep_revision is not None:
            where += f" AND revision != {_quote(keep_revision)}"
        if only_revision is not None:
            where += f" AND revision = {_quote(only_revision)}"
        with self._lock:
            table.delete(where)

    def refresh_fulltext_index(self) -> None:
        """(Re)build the German full-text index over text plus compound parts."""
        table = self._open()
        if table is None or table.count_rows() == 0:
            return
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            table.create_fts_index(
                FTS_COLUMN,
                language="German",
                stem=True,
                remove_stop_words=True,
                ascii_folding=True,
                replace=True,
            )

    def fulltext_config(self) -> dict[str, Any] | None:
        table = self._open()
        if table is None:
            return None
        for index in table.list_indices():
            if index.index_type == "FTS":
                return dict(index.index_details or {})
        return None

    def chunks_of(self, doc_key: str) -> list[dict[str, Any]]:
        table = self._open()
        if table is None:
            return []
        rows = (
            table.search()
            .where(f"doc_key = {_quote(doc_key)}")
            .select(["chunk_id", "page", "section", "kind", "text", "content_hash"])
            .limit(100_000)
            .to_list()
        )
        return sorted(rows, key=lambda r: r["chunk_id"])

    # -- search ----------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        mode: SearchMode = "hybrid",
        text_weight: float = 0.75,
        filters: dict[str, str | Sequence[str]] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]:
        table = self._open()
        if table is None or not query.strip():
            return []
        where = build_filter(filters)
        columns = [f.name for f in chunk_schema(1) if f.name not in (FTS_COLUMN, "ingested_at")]
        n = max(k, CANDIDATES_PER_METHOD) if mode == "hybrid" else k
        text_rows: list[dict[str, Any]] = []
        vector_rows: list[dict[str, Any]] = []
        if mode in ("hybrid", "fulltext"):
            text_rows = self._fulltext(table, query, n, where, columns)
        if mode in ("hybrid", "vector"):
            if query_vector is None:
                query_vector = self.embedder.embed([query])[0]
            builder = table.search(query_vector).distance_type("cosine").limit(n)
            if where:
                builder = builder.where(where, prefilter=True)
            vector_rows = builder.select([*columns, "_distance"]).to_list()
        if mode == "fulltext":
            return [_hit(r, r["_score"], text_score=r["_score"]) for r in text_rows]
        if mode == "vector":
            return [
                _hit(r, 1 - r["_distance"], vector_similarity=1 - r["_distance"])
                for r in vector_rows
            ]
        assert query_vector is not None
        return fuse(text_rows, vector_rows, query_vector, text_weight)[:k]

    def _fulltext(
        self, table: Any, query: str, n: int, where: str | None, columns: list[str]
    ) -> list[dict[str, Any]]:
        builder = table.search(expand_compounds(query), query_type="fts", fts_columns=FTS_COLUMN)
        if where:
            builder = builder.where(where, prefilter=True)
        try:
            return list(builder.select([*columns, "_score"]).limit(n).to_list())
        except ValueError:
            # No full-text index yet (a knowledge base still being filled): vectors only.
            return []


def fuse(
    text_rows: list[dict[str, Any]],
    vector_rows: list[dict[str, Any]],
    query_vector: np.ndarray,
    text_weight: float,
) -> list[Hit]:
    """Weighted score fusion: BM25 scaled by the best BM25 of this query, plus cosine
    similarity rescaled over the candidates. Plain equal-weight RRF lets a weak embedder drag
    good full-text hits down (ENVIRONMENT.md: 0.715 R@1 vs 0.892); scores keep the margins."""
    candidates: dict[str, dict[str, Any]] = {}
    for row in text_rows:
        candidates[row["chunk_id"]] = row
    for row in vector_rows:
        candidates.setdefault(row["chunk_id"], row)
    if not candidates:
        return []
    best_text = max((r["_score"] for r in text_rows), default=0.0) or 1.0
    text_scores = {r["chunk_id"]: r["_score"] / best_text for r in text_rows}
    matrix = np.asarray([row["vector"] for row in candidates.values()], dtype=np.float32)
    similarities = matrix @ query_vector
    low, high = float(similarities.min()), float(similarities.max())
    spread = high - low if high - low > 1e-6 else 1.0
    hits = []
    for (chunk_id, row), similarity in zip(candidates.items(), similarities, strict=True):
        text_score = text_scores.get(chunk_id, 0.0)
        scaled = (float(similarity) - low) / spread
        score = text_weight * text_score + (1 - text_weight) * scaled
        hits.append(_hit(row, score, text_score=text_score, vector_similarity=float(similarity)))
    hits.sort(key=lambda h: h.score, reverse=True)
    return hits


def _hit(row: dict[str, Any], score: float, text_score: float = 0.0,
         vector_similarity: float = 0.0) -> Hit:
    return Hit(
        chunk_id=row["chunk_id"],
        doc_key=row["doc_key"],
        source=row["source"],
        source_path=row["source_path"],
        title=row["title"],
        page=row["page"],
        section=row["section"],
        url=row["url"],
        kind=row["kind"],
        text=row["text"],
        score=float(score),
        text_score=float(text_score),
        vector_similarity=float(vector_similarity),
    )
