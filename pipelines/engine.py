"""The composition root: settings, stores and models, created once and lazily."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.bots import get_or_create_workspace
from pipelines.embeddings import Embedder, load_embedder
from pipelines.index import KnowledgeBaseIndex
from pipelines.settings import Settings, get_settings
from pipelines.store.db import session_scope
from pipelines.store.models import KnowledgeBase

# One lock for all engines: load_embedder is cached per process, and two engines (tests, the
# warm-up thread and a page) must not load the same model twice at the same time.
_EMBEDDER_LOCK = threading.Lock()


def table_name_for(workspace: str, kb_slug: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", f"kb__{workspace}__{kb_slug}".lower())


class Engine:
    """Holds the heavy objects (embedder, LanceDB connection) for one process."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._indexes: dict[str, KnowledgeBaseIndex] = {}
        self._lock = threading.Lock()
        self._embedder: Embedder | None = None

    @property
    def database_url(self) -> str:
        return self.settings.resolved_database_url

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.database_url) as session:
            yield session

    @cached_property
    def lancedb(self) -> Any:
        import lancedb

        uri = self.settings.resolved_lancedb_uri
        if "://" not in uri:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        refresh = timedelta(seconds=self.settings.lancedb_refresh_seconds)
        return lancedb.connect(uri, read_consistency_interval=refresh)

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use (once, also under concurrent first use)."""
        with _EMBEDDER_LOCK:
            if self._embedder is None:
                s = self.settings
                self._embedder = load_embedder(
                    s.embedding_model, s.ollama_host, s.llm_request_timeout, s.embedding_batch_size
                )
            return self._embedder

    def warm_up(self) -> None:
        """Load the embedding model and move everything loaded so far out of the garbage
        collector's way: Streamlit collects after every script run, and the ~600 000 objects
        of torch and transformers made each collection cost about 0.4 s."""
        import gc

        self.embedder.embed(["Aufwärmen"])
        gc.collect()
        gc.freeze()

    def knowledge_base(self, session: Session, workspace: str, slug: str) -> KnowledgeBase:
        """The knowledge base `slug` of `workspace`, created on first use."""
        ws = get_or_create_workspace(session, workspace)
        kb = session.scalar(
            select(KnowledgeBase).where(
                KnowledgeBase.workspace_id == ws.id, KnowledgeBase.slug == slug
            )
        )
        if kb is None:
            kb = KnowledgeBase(
                workspace_id=ws.id,
                slug=slug,
                name=slug,
                table_name=table_name_for(workspace, slug),
                embedding_model=self.settings.embedding_model,
            )
            session.add(kb)
            session.flush()
        return kb

    def index(self, table_name: str) -> KnowledgeBaseIndex:
        with self._lock:
            if table_name not in self._indexes:
                self._indexes[table_name] = KnowledgeBaseIndex(
                    self.lancedb, table_name, lambda: self.embedder
                )
            return self._indexes[table_name]
