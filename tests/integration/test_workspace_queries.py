"""What the workspace pages read: knowledge bases, bot status, uploads with hostile names, and
whether the language model answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.assistant import ensure_bot
from pipelines.documents.ingest import Ingestor
from pipelines.engine import Engine
from pipelines.workspace import (
    bot_statuses,
    create_knowledge_base,
    kb_slug_from_name,
    knowledge_bases,
    list_workspaces,
    llm_status,
    safe_upload_name,
    store_upload,
)
from tests.support.fake_llm_server import FakeLLMServer


@pytest.mark.parametrize(("name", "slug"), [
    ("Bürgerservice Allgemein", "buergerservice-allgemein"),
    ("  Straßen & Plätze 2027 ", "strassen-plaetze-2027"),
    ("Café Zoë", "cafe-zoe"),
])
def test_knowledge_base_slugs_are_url_safe(name: str, slug: str) -> None:
    assert kb_slug_from_name(name) == slug


def test_a_name_without_letters_is_refused_in_german() -> None:
    with pytest.raises(ValueError, match="mindestens einen Buchstaben"):
        kb_slug_from_name(" --- ")


@pytest.mark.parametrize(("uploaded", "stored"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\amt\\Gebühren.xlsx", "Gebühren.xlsx"),
    (".env", "env"),
    ("Antrag; rm -rf *.pdf", "Antrag_ rm -rf _.pdf"),
    ("", "unbenannt"),
])
def test_upload_names_cannot_escape_the_upload_folder(uploaded: str, stored: str) -> None:
    assert safe_upload_name(uploaded) == stored


def test_store_upload_writes_inside_the_data_folder_and_replaces(engine: Engine) -> None:
    first = store_upload(engine, "standard", "kb", "../../satzung.md", b"alt")
    second = store_upload(engine, "standard", "kb", "satzung.md", b"neu")
    assert first == second
    assert first.is_relative_to(engine.settings.uploads_dir / "standard" / "kb")
    assert first.read_bytes() == b"neu"
    assert not list(first.parent.glob("*.teil"))


def test_bot_status_counts_documents_of_its_knowledge_bases(engine: Engine,
                                                             tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nDie Hundesteuer beträgt 96 Euro.\n", encoding="utf-8")
    (docs / "b.md").write_text("# B\n\nSperrmüll wird abgeholt.\n", encoding="utf-8")
    ensure_bot(engine, "hundebot")
    Ingestor(engine, "standard", "hundebot").ingest([docs])
    created = create_knowledge_base(engine, "standard", "Leere Sammlung")

    [status] = bot_statuses(engine, "standard")
    infos = {kb.slug: kb for kb in knowledge_bases(engine, "standard")}

    assert (status.slug, status.documents, status.knowledge_bases) == ("hundebot", 2,
                                                                       ["hundebot"])
    assert status.chunks == infos["hundebot"].chunks > 0
    assert infos[created].documents == 0 and infos[created].name == "Leere Sammlung"
    assert bot_statuses(engine, "jena") == []
    assert ("standard", "Standard") in list_workspaces(engine)


def test_llm_status_lists_the_models_of_a_running_server(make_settings: object,
                                                        fake_llm: FakeLLMServer) -> None:
    settings = make_settings(ollama_host=fake_llm.url,  # type: ignore[operator]
                             ollama_model=fake_llm.models[0])
    status = llm_status(settings)
    assert status.reachable and status.model_available
    assert status.models == list(fake_llm.models)


def test_llm_status_names_a_missing_model_and_what_to_do(make_settings: object,
                                                         fake_llm: FakeLLMServer) -> None:
    settings = make_settings(ollama_host=fake_llm.url,  # type: ignore[operator]
                             ollama_model="gibt-es-nicht")
    status = llm_status(settings)
    assert status.reachable and not status.model_available
    assert "ollama pull gibt-es-nicht" in status.message


def test_llm_status_of_a_server_that_is_down(engine: Engine) -> None:
    status = llm_status(engine.settings)
    assert not status.reachable
    assert "extraktiven Modus" in status.message
