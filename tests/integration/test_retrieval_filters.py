"""Metadata filters on retrieval: knowledge base, document, language; bad filters refused."""

from __future__ import annotations

import pytest

from pipelines.documents.ingest import Ingestor
from pipelines.engine import Engine
from pipelines.retrieval import retrieve

WORKSPACE = "standard"
DOCS = {
    "buergeramt": {
        "hundesteuer.txt": "Die Hundesteuer beträgt in Musterstadt 96 Euro im Jahr für den "
        "ersten Hund. Sie ist jedes Jahr am 15. Februar fällig.",
        "dog-tax.txt": "The dog tax in Musterstadt is 96 euros a year for the first dog. It is "
        "due every year on the 15th of February.",
        "o'brien-hinweise.txt": "Hinweise zur Hundesteuer für Halterinnen und Halter von "
        "Blindenführhunden: Sie sind von der Steuer befreit.",
    },
    "ordnungsamt": {
        "hunde-anleinpflicht.txt": "In den Parks von Musterstadt gilt für jeden Hund eine "
        "Anleinpflicht. Verstöße gegen die Anleinpflicht kosten 35 Euro Verwarngeld.",
    },
}
QUERY = "Was kostet die Hundesteuer für einen Hund?"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    from pipelines.settings import Settings

    root = tmp_path_factory.mktemp("filters")
    engine = Engine(Settings(_env_file=None, data_dir=root / "data"))  # type: ignore[call-arg]
    for kb, files in DOCS.items():
        folder = root / kb
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        report = Ingestor(engine, WORKSPACE, kb).ingest([folder])
        assert report.failed == [], report.failed
    return engine


def sources(engine: Engine, kbs: list[str], **filters: str | list[str]) -> set[str]:
    hits = retrieve(engine, WORKSPACE, kbs, QUERY, k=10, filters=filters or None)
    return {hit.source for hit in hits}


def test_without_filters_both_knowledge_bases_answer(engine: Engine) -> None:
    found = sources(engine, ["buergeramt", "ordnungsamt"])
    assert found == {"hundesteuer.txt", "dog-tax.txt", "o'brien-hinweise.txt",
                     "hunde-anleinpflicht.txt"}


def test_knowledge_base_filter_narrows_the_bots_bases(engine: Engine) -> None:
    assert sources(engine, ["buergeramt", "ordnungsamt"], knowledge_base="ordnungsamt") == {
        "hunde-anleinpflicht.txt"
    }
    # a base the bot does not have is not searched even when asked for
    assert sources(engine, ["buergeramt"], knowledge_base="ordnungsamt") == set()


def test_language_filter(engine: Engine) -> None:
    assert sources(engine, ["buergeramt"], language="en") == {"dog-tax.txt"}
    assert "dog-tax.txt" not in sources(engine, ["buergeramt"], language="de")


def test_document_filter_with_a_quote_in_the_name(engine: Engine) -> None:
    assert sources(engine, ["buergeramt"], source="o'brien-hinweise.txt") == {
        "o'brien-hinweise.txt"
    }
    assert sources(engine, ["buergeramt"], source=["hundesteuer.txt", "dog-tax.txt"]) == {
        "hundesteuer.txt", "dog-tax.txt"
    }


def test_unknown_filter_column_is_refused_in_german(engine: Engine) -> None:
    with pytest.raises(ValueError, match="Nach „text; DROP“ kann nicht gefiltert werden"):
        sources(engine, ["buergeramt"], **{"text; DROP": "x"})


def test_filters_apply_in_every_search_mode(engine: Engine) -> None:
    # words that occur in the German and the English documents alike
    for mode in ("fulltext", "vector", "hybrid"):
        hits = retrieve(engine, WORKSPACE, ["buergeramt"], "Musterstadt 96", k=10, mode=mode,
                        filters={"language": "en"})
        assert {hit.source for hit in hits} == {"dog-tax.txt"}, mode


def test_filter_matching_nothing_gives_no_hits(engine: Engine) -> None:
    assert sources(engine, ["buergeramt"], language="tr") == set()


def test_a_second_process_sees_new_documents(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The public chat (one process) must see what the workspace (another) just ingested."""
    from pipelines.settings import Settings

    root = tmp_path_factory.mktemp("two-engines")
    settings = {"data_dir": root / "data", "lancedb_refresh_seconds": 0}
    writer = Engine(Settings(_env_file=None, **settings))  # type: ignore[arg-type]
    reader = Engine(Settings(_env_file=None, **settings))  # type: ignore[arg-type]
    folder = root / "docs"
    folder.mkdir()
    (folder / "hund.txt").write_text("Die Hundesteuer beträgt 96 Euro.", encoding="utf-8")
    Ingestor(writer, WORKSPACE, "kb").ingest([folder])
    assert {h.source for h in retrieve(reader, WORKSPACE, ["kb"], "Sperrmüll Termin", k=5)} \
        == {"hund.txt"}

    (folder / "sperrmuell.txt").write_text("Sperrmüll holen wir nach Termin ab.", encoding="utf-8")
    Ingestor(writer, WORKSPACE, "kb").ingest([folder])

    hits = retrieve(reader, WORKSPACE, ["kb"], "Sperrmüll Termin", k=5)
    assert hits[0].source == "sperrmuell.txt"
