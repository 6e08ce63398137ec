"""Ingest throughput on a corpus: pages per second, and total time over pure embedding time.

One-time costs (loading the embedding model, importing the parsers) are paid before the clock
starts; they are reported separately. Pages: a PDF's pages, one per other file.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.documents.ingest import Ingestor
from pipelines.documents.readers import _install_offline_nlp
from pipelines.engine import Engine
from pipelines.settings import Settings


def run(settings: Settings, corpus: Path, progress: Callable[[str], None] | None = None
        ) -> dict[str, Any]:
    say = progress or (lambda _m: None)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
        engine = Engine(settings.model_copy(update={"data_dir": Path(folder),
                                                    "database_url": None,
                                                    "lancedb_uri": None}))
        started = time.perf_counter()
        engine.embedder.embed(["Aufwärmen"])
        _install_offline_nlp()
        import unstructured.partition.docx  # noqa: F401
        import unstructured.partition.html  # noqa: F401
        import unstructured.partition.md  # noqa: F401
        warmup = time.perf_counter() - started
        ingestor = Ingestor(engine, "bench", "bench")
        report = ingestor.ingest([corpus])
        failed = [r.name for r in report.failed]
        chunks = sum(r.chunks for r in report.results)
        say(f"{len(report.results)} Dateien, {report.pages} Seiten, {chunks} Abschnitte in "
            f"{report.seconds:.1f} s (Einbettung {report.embedding_seconds:.1f} s)")
    return {
        "corpus": str(corpus),
        "files": len(report.results),
        "failed": failed,
        "pages": report.pages,
        "chunks": chunks,
        "seconds_total": round(report.seconds, 3),
        "seconds_embedding": round(report.embedding_seconds, 3),
        "seconds_warmup_once": round(warmup, 3),
        "pages_per_second": round(report.pages / report.seconds, 2) if report.seconds else 0.0,
        "ratio_total_to_embedding": round(report.seconds / report.embedding_seconds, 3)
        if report.embedding_seconds else None,
        "embedding_model": engine.embedder.name,
    }
