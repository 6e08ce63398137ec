"""The fast hybrid search (row ids first, rows last) ranks exactly like reading whole rows,
and stays correct when a write lands between its reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipelines.documents.ingest import Ingestor
from pipelines.embeddings import embed_query
from pipelines.engine import Engine

TEXTS = {
    "hundesteuer.txt": "Die Hundesteuer beträgt 96 Euro im Jahr. Für einen zweiten Hund "
    "zahlen Sie 120 Euro.",
    "sperrmuell.txt": "Sperrmüll holt die Stadt zweimal im Jahr kostenlos ab; melden Sie ihn "
    "online an.",
    "reisepass.txt": "Ein Reisepass kostet 70 Euro und ist zehn Jahre gültig.",
    "kita.txt": "Die Kita-Gebühren richten sich nach dem Einkommen der Eltern.",
    "parken.txt": "Den Bewohnerparkausweis beantragen Sie beim Bürgeramt; er kostet 30 Euro.",
}
QUERIES = ["Was kostet die Hundesteuer?", "Sperrmüll anmelden", "Reisepass Gebühr",
           "Kosten für den Parkausweis", "Wie teuer ist die Kita?"]


@pytest.fixture
def ingestor(engine: Engine, tmp_path: Path) -> Ingestor:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in TEXTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    ingestor = Ingestor(engine, "standard", "kb")
    ingestor.ingest([folder])
    return ingestor


def ranking(hits: list[Any]) -> list[tuple[str, float, float, float]]:
    return [(h.chunk_id, round(h.score, 6), round(h.text_score, 6),
             round(h.vector_similarity, 6)) for h in hits]


@pytest.mark.parametrize("weight", [0.0, 0.7, 1.0])
def test_fast_path_ranks_like_reading_whole_rows(ingestor: Ingestor, weight: float) -> None:
    index = ingestor.index
    table = index._open()
    for query in QUERIES:
        vector = embed_query(index.embedder, query)
        fast = index.search(query, k=3, text_weight=weight)
        slow = index._hybrid_by_rows(table, query, 3, weight, None, vector)
        assert ranking(fast) == ranking(slow), query
        assert [h.text for h in fast] == [h.text for h in slow]


def test_write_between_the_reads_falls_back_to_whole_rows(
    ingestor: Ingestor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    index = ingestor.index
    table = index._open()
    more = tmp_path / "mehr"
    more.mkdir()
    (more / "hundesteuer-neu.txt").write_text(
        "Ab 2028 beträgt die Hundesteuer 108 Euro im Jahr.", encoding="utf-8")
    original_take = type(table).take_row_ids
    calls: list[int] = []

    def take_during_a_write(self: Any, row_ids: list[int]) -> Any:
        if not calls:
            Ingestor(ingestor.engine, "standard", "kb").ingest([more])  # a real write
        calls.append(len(row_ids))
        return original_take(self, row_ids)

    slow_calls: list[str] = []
    original_slow = type(index)._hybrid_by_rows

    def record_slow(self: Any, *args: Any) -> Any:
        slow_calls.append(args[1])
        return original_slow(self, *args)

    monkeypatch.setattr(type(table), "take_row_ids", take_during_a_write)
    monkeypatch.setattr(type(index), "_hybrid_by_rows", record_slow)

    hits = index.search("Was kostet die Hundesteuer?", k=3)

    assert calls and slow_calls == ["Was kostet die Hundesteuer?"]
    texts = [h.text for h in hits]
    assert all(any(t in text for t in [*TEXTS.values(), "108 Euro"]) for text in texts)
    assert len({h.chunk_id for h in hits}) == len(hits)
