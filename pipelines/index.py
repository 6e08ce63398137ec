"""One LanceDB table per knowledge base: German full text, vectors, and a weighted fusion.

We own the table and index code instead of llama-index's LanceDB store: that store rebuilds an
English full-text index after every add, replacing the German one this module configures.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import lancedb
import numpy as np
import pyarrow as pa

from pipelines.embeddings import Embedder, embed_query
from pipelines.german import expand_compounds
from pipelines.settings import DEFAULT_TEXT_WEIGHT

SearchMode = Literal["hybrid", "fulltext", "vector"]
FTS_COLUMN = "search_text"
# How many candidates each method contributes before fusion.
CANDIDATES_PER_METHOD = 40
# Below this a flat scan is exact and fast enough (≈10 ms at 10k chunks on 2 cores); above it
# an HNSW index keeps vector search in single-digit milliseconds.
VECTOR_INDEX_MIN_ROWS = 50_000


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

    def search_text(self, split_compounds: bool = True) -> str:
        text = f"{self.title}\n{self.section}\n{self.text}"
        return expand_compounds(text) if split_compounds else text


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


# Chunk metadata a search may be restricted to (the knowledge base is chosen by table).
FILTER_COLUMNS = ("doc_key", "source", "source_path", "title", "section", "kind", "language")


def build_filter(filters: dict[str, str | Sequence[str]] | None) -> str | None:
    """SQL filter from column -> value or values (document, language, kind ...)."""
    if not filters:
        return None
    clauses = []
    for column, value in filters.items():
        if column not in FILTER_COLUMNS:
            raise ValueError(
                f"Nach „{column}“ kann nicht gefiltert werden; möglich sind: "
                f"{', '.join(FILTER_COLUMNS)}, knowledge_base."
            )
        if isinstance(value, str):
            clauses.append(f"{column} = {_quote(value)}")
        else:
            clauses.append(f"{column} IN ({', '.join(_quote(v) for v in value)})")
    return " AND ".join(clauses)


class KnowledgeBaseIndex:
    """Chunks of one knowledge base in one LanceDB table."""

    def __init__(self, db: lancedb.DBConnection, table_name: str,
                 embedder: Embedder | Callable[[], Embedder],
                 split_compounds: bool = True) -> None:
        """`embedder` may be a function that loads it: listing, counting and deleting chunks
        then never wait for the embedding model, only searching and adding do."""
        self.db = db
        self.table_name = table_name
        self._embedder = embedder
        # False only to measure what compound splitting brings (evaluation bench retrieval).
        self.split_compounds = split_compounds
        self._lock = threading.Lock()
        self._table: Any | None = None

    @property
    def embedder(self) -> Embedder:
        if callable(self._embedder):
            self._embedder = self._embedder()
        return self._embedder

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
                FTS_COLUMN: record.search_text(self.split_compounds),
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

    def refresh_indexes(self) -> None:
        """(Re)build the German full-text index; from VECTOR_INDEX_MIN_ROWS on, an ANN index."""
        table = self._open()
        if table is None:
            return
        rows = table.count_rows()
        if rows == 0:
            return
        if rows >= VECTOR_INDEX_MIN_ROWS:
            with self._lock:
                table.create_index(
                    metric="cosine", vector_column_name="vector", index_type="IVF_HNSW_SQ",
                    replace=True,
                )
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
        text_weight: float = DEFAULT_TEXT_WEIGHT,
        filters: dict[str, str | Sequence[str]] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]:
        table = self._open()
        if table is None or not query.strip():
            return []
        where = build_filter(filters)
        if mode == "fulltext":
            rows, _ = self._fulltext(table, query, k, where)
            return [_hit(r, r["_score"], text_score=r["_score"]) for r in rows]
        if mode == "vector":
            if query_vector is None:
                query_vector = embed_query(self.embedder, query)
            rows, _ = self._vector(table, query_vector, k, where)
            return [_hit(r, 1 - r["_distance"], vector_similarity=1 - r["_distance"])
                    for r in rows]
        return self._hybrid(table, query, k, text_weight, where, query_vector)

    def _hybrid(self, table: Any, query: str, k: int, text_weight: float, where: str | None,
                query_vector: np.ndarray | None) -> list[Hit]:
        """Candidates of both methods as row ids and scores only, then the vectors of the
        candidates for exact cosine, then full rows for the best k: reading text and vectors
        of all 80 candidates costs more than both searches together (docs/BENCHMARKS.md)."""
        n = max(k, CANDIDATES_PER_METHOD)
        if query_vector is None:
            # Embedding first: on two cores, overlapping it with the full-text search made
            # both slower (torch and Lance each use every core).
            query_vector = embed_query(self.embedder, query)
        version = table.version
        pending = _POOL.submit(self._candidates, self._fulltext_query(table, query), n, where,
                               "_score")
        vector_ids = self._candidates(
            table.search(query_vector).distance_type("cosine"), n, where, "_distance")
        text_ids = pending.result()
        candidates = list(dict.fromkeys(row_id for row_id, _ in [*text_ids, *vector_ids]))
        if not candidates:
            return []
        vectors = table.take_row_ids(candidates).select(["vector"]).with_row_id().to_arrow()
        row_ids = vectors.column("_rowid").to_pylist()
        ranked = fuse(row_ids, _matrix(vectors), dict(text_ids), query_vector, text_weight)[:k]
        rows = (table.take_row_ids([row_id for row_id, *_ in ranked])
                .select(RESULT_COLUMNS).with_row_id().to_arrow())
        if table.version != version or len(row_ids) != len(candidates) \
                or rows.num_rows != len(ranked):
            # A write in between may have moved row ids: read again the slow, safe way.
            return self._hybrid_by_rows(table, query, k, text_weight, where, query_vector)
        by_id = dict(zip(rows.column("_rowid").to_pylist(),
                         rows.drop_columns(["_rowid"]).to_pylist(), strict=True))
        return [_hit(by_id[row_id], score, text_score=text, vector_similarity=similarity)
                for row_id, score, text, similarity in ranked]

    def _hybrid_by_rows(self, table: Any, query: str, k: int, text_weight: float,
                        where: str | None, query_vector: np.ndarray) -> list[Hit]:
        """The same ranking read in one pass per method (slower; used after a concurrent
        write moved row ids)."""
        n = max(k, CANDIDATES_PER_METHOD)
        text_rows, text_matrix = self._fulltext(table, query, n, where)
        vector_rows, vector_matrix = self._vector(table, query_vector, n, where)
        rows = {r["chunk_id"]: r for r in [*text_rows, *vector_rows]}
        matrix = {r["chunk_id"]: v for r, v in zip([*text_rows, *vector_rows],
                                                   [*text_matrix, *vector_matrix], strict=True)}
        ids = list(rows)
        text_scores = {r["chunk_id"]: float(r["_score"]) for r in text_rows}
        ranked = fuse(ids, np.stack([matrix[c] for c in ids]) if ids else np.zeros((0, 1)),
                      text_scores, query_vector, text_weight)[:k]
        return [_hit(rows[c], score, text_score=text, vector_similarity=similarity)
                for c, score, text, similarity in ranked]

    def _fulltext_query(self, table: Any, query: str) -> Any:
        if self.split_compounds:
            query = expand_compounds(query)
        return table.search(query, query_type="fts", fts_columns=FTS_COLUMN)

    @staticmethod
    def _candidates(builder: Any, n: int, where: str | None, score: str
                    ) -> list[tuple[int, float]]:
        """(row id, score) of the best n: `_score` (BM25) or `_distance` (cosine)."""
        if where:
            builder = builder.where(where, prefilter=True)
        try:
            result = builder.select([score]).with_row_id(True).limit(n).to_arrow()
        except ValueError:
            return []  # no full-text index yet (a knowledge base still being filled)
        return list(zip(result.column("_rowid").to_pylist(), result.column(score).to_pylist(),
                        strict=True))

    def _fulltext(self, table: Any, query: str, n: int,
                  where: str | None) -> tuple[list[dict[str, Any]], np.ndarray]:
        builder = self._fulltext_query(table, query)
        if where:
            builder = builder.where(where, prefilter=True)
        try:
            return _rows_and_vectors(builder.select([*RESULT_COLUMNS, "_score"]).limit(n))
        except ValueError:
            # No full-text index yet (a knowledge base still being filled): vectors only.
            return [], np.zeros((0, self.embedder.dimension), dtype=np.float32)

    def _vector(self, table: Any, query_vector: np.ndarray, n: int,
                where: str | None) -> tuple[list[dict[str, Any]], np.ndarray]:
        builder = table.search(query_vector).distance_type("cosine").limit(n)
        if where:
            builder = builder.where(where, prefilter=True)
        return _rows_and_vectors(builder.select([*RESULT_COLUMNS, "_distance"]))


RESULT_COLUMNS = [
    f.name for f in chunk_schema(1) if f.name not in (FTS_COLUMN, "ingested_at")
]
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fulltext")


Key = TypeVar("Key", int, str)


def _matrix(table: Any) -> np.ndarray:
    """The vector column as one float32 matrix (converting 384 floats per row to Python lists
    costs more than the search)."""
    vectors = table.column("vector").combine_chunks()
    dimension = vectors.type.list_size
    return np.asarray(vectors.flatten().to_numpy(zero_copy_only=False)).reshape(-1, dimension)


def _rows_and_vectors(builder: Any) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Result rows without the vector column, and the vectors as one matrix."""
    table = builder.to_arrow()
    return table.drop_columns(["vector"]).to_pylist(), _matrix(table)


def fuse(
    keys: list[Key],
    matrix: np.ndarray,
    text_scores: dict[Key, float],
    query_vector: np.ndarray,
    text_weight: float,
) -> list[tuple[Key, float, float, float]]:
    """Weighted score fusion of the candidates `keys` (vectors in `matrix`): BM25 scaled by
    the best BM25 of this query, plus cosine similarity rescaled over the candidates. Plain
    equal-weight RRF lets a weak embedder drag good full-text hits down (ENVIRONMENT.md: 0.715
    R@1 vs 0.892); scores keep the margins. Returns (key, score, scaled BM25, cosine),
    best first."""
    if not keys:
        return []
    best_text = max(text_scores.values(), default=0.0) or 1.0
    similarities = matrix @ query_vector
    low, high = float(similarities.min()), float(similarities.max())
    spread = high - low if high - low > 1e-6 else 1.0
    ranked = []
    for key, similarity in zip(keys, similarities, strict=True):
        text_score = text_scores.get(key, 0.0) / best_text
        scaled = (float(similarity) - low) / spread
        score = text_weight * text_score + (1 - text_weight) * scaled
        ranked.append((key, score, text_score, float(similarity)))
    # ties (e.g. weight 1.0 and no full-text match) go to the closer vector
    ranked.sort(key=lambda item: (item[1], item[3]), reverse=True)
    return ranked


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
