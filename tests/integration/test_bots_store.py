"""Bots as versioned data: versions, YAML export/import, validation messages, workspaces, CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import func, select

from pipelines.bots import (
    YAML_KIND,
    BotConfig,
    BotConfigError,
    BotNotFoundError,
    BotRepository,
    LLMSettings,
    RetrievalSettings,
    parse_bot_yaml,
)
from pipelines.engine import Engine
from pipelines.settings import MAX_TOP_K, REPO_ROOT, Settings
from pipelines.store.models import Bot, BotVersion
from tests.conftest import SAMPLE_BOT


def config(slug: str = "buergerbot", **changes: object) -> BotConfig:
    values: dict[str, object] = {
        "slug": slug,
        "name": "Bürgerbot",
        "knowledge_bases": ["allgemein"],
        "retrieval": RetrievalSettings(top_k=4, confidence_threshold=0.3),
        "llm": LLMSettings(provider="ollama", model="llama3.2:3b"),
    }
    values.update(changes)
    return BotConfig.model_validate(values)


def version_rows(engine: Engine, slug: str) -> int:
    with engine.session() as session:
        return int(session.scalar(
            select(func.count()).select_from(BotVersion).join(Bot).where(Bot.slug == slug)
        ) or 0)


# --------------------------------------------------------------------------- versions


def test_each_change_is_a_new_version(engine: Engine) -> None:
    original = config()
    changed = config(persona="knapp", answer_style="stichpunkte")
    with engine.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.save(original, note="erste Fassung") == 1
        assert repo.save(changed, note="kürzer") == 2

    with engine.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.get("buergerbot") == (changed, 2)
        assert repo.get("buergerbot", version=1) == (original, 1)
        assert repo.get("buergerbot", version=2) == (changed, 2)
        [summary] = repo.list()
        assert (summary.slug, summary.name, summary.version) == ("buergerbot", "Bürgerbot", 2)
    assert version_rows(engine, "buergerbot") == 2


def test_saving_identical_config_keeps_version(engine: Engine) -> None:
    with engine.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.save(config()) == 1
        assert repo.save(config(), note="nochmal gespeichert") == 1
        # A fresh but equal object (e.g. after a round trip through a form) changes nothing.
        assert repo.save(BotConfig.model_validate(config().model_dump(mode="json"))) == 1
    assert version_rows(engine, "buergerbot") == 1


def test_returning_to_an_older_config_is_a_new_version(engine: Engine) -> None:
    with engine.session() as session:
        repo = BotRepository(session, "jena")
        repo.save(config())
        repo.save(config(persona="knapp"))
        assert repo.save(config()) == 3
        assert repo.get("buergerbot") == (config(), 3)


def test_unknown_version_is_reported(engine: Engine) -> None:
    with engine.session() as session:
        repo = BotRepository(session, "jena")
        repo.save(config())
        with pytest.raises(LookupError, match="keine Version 7"):
            repo.get("buergerbot", version=7)


def test_failed_transaction_stores_nothing(engine: Engine) -> None:
    with pytest.raises(RuntimeError), engine.session() as session:
        BotRepository(session, "jena").save(config())
        raise RuntimeError("Abbruch mitten im Speichern")

    with engine.session() as session:
        assert not BotRepository(session, "jena").exists("buergerbot")


# --------------------------------------------------------------------------- YAML


def test_yaml_export_import_round_trip(engine: Engine) -> None:
    original = config(description="Fragen: Gebühren & Termine – „Bürgerbüro“",
                      languages=["de", "en", "uk"])
    with engine.session() as session:
        repo = BotRepository(session, "jena")
        repo.save(config())
        repo.save(original)
        text = repo.export_yaml("buergerbot")
        old_text = repo.export_yaml("buergerbot", version=1)

    document = yaml.safe_load(text)
    assert document["kind"] == YAML_KIND and document["version"] == 2
    assert "„Bürgerbüro“" in text  # readable umlauts/quotes, not \u escapes
    assert parse_bot_yaml(text) == original
    assert parse_bot_yaml(old_text) == config()

    with engine.session() as session:
        other = BotRepository(session, "sueder")
        imported, version = other.import_yaml(text)
        assert (imported, version) == (original, 1)
        assert other.import_yaml(text) == (original, 1)  # same content: no new version
        assert other.get("buergerbot") == (original, 1)


def test_plain_mapping_without_kind_is_accepted() -> None:
    text = yaml.safe_dump(config().model_dump(mode="json"), allow_unicode=True)

    assert parse_bot_yaml(text) == config()


def test_import_sample_bot(engine: Engine) -> None:
    text = SAMPLE_BOT.read_text(encoding="utf-8")
    with engine.session() as session:
        repo = BotRepository(session, "standard")
        imported, version = repo.import_yaml(text, note="Beispieldaten")

    assert version == 1
    assert imported.slug == "musterstadt-buergerservice"
    assert imported.name == "Musterstadt Bürgerservice"
    assert imported.knowledge_bases == ["musterstadt"]
    assert imported.effective_knowledge_bases() == ["musterstadt"]
    assert "en" in imported.languages
    assert imported.llm.provider is None  # use the server's setting
    with engine.session() as session:
        assert [b.slug for b in BotRepository(session, "standard").list()] == [imported.slug]


def test_invalid_yaml_is_refused_in_german() -> None:
    with pytest.raises(ValueError, match="Keine gültige YAML-Datei"):
        parse_bot_yaml("slug: [offen\nname: x\n")


def test_yaml_without_mapping_is_refused_in_german() -> None:
    with pytest.raises(ValueError, match="enthält keine Bot-Beschreibung"):
        parse_bot_yaml("- nur\n- eine Liste\n")


def test_bad_slug_is_refused_in_german() -> None:
    with pytest.raises(BotConfigError) as caught:
        parse_bot_yaml(f"kind: {YAML_KIND}\nbot:\n  slug: Hallo Welt\n  name: Hallo\n")

    message = str(caught.value)
    assert "slug" in message
    assert "Kurzname" in message and "Kleinbuchstaben" in message


@pytest.mark.parametrize("slug", ["-bot", "bot-", "bürgerbot", "a" * 81, ""])
def test_slug_rules(slug: str) -> None:
    with pytest.raises(ValidationError):
        config(slug=slug)


def test_bad_knowledge_base_slug_is_refused() -> None:
    with pytest.raises(ValidationError, match="Kurzname"):
        config(knowledge_bases=["Alle Dokumente"])


def test_unknown_field_is_named() -> None:
    with pytest.raises(BotConfigError) as caught:
        parse_bot_yaml("slug: hallo\nname: Hallo\nfarbe: rot\n")

    assert "farbe" in str(caught.value)


def test_unknown_field_message_is_german() -> None:
    with pytest.raises(ValueError) as caught:
        parse_bot_yaml("slug: hallo\nname: Hallo\nfarbe: rot\n")

    message = str(caught.value)
    assert "farbe" in message
    assert "Extra inputs are not permitted" not in message
    assert re.search(r"unbekannt|nicht erlaubt|nicht vorgesehen", message, re.IGNORECASE)


def test_every_invalid_field_is_listed_in_german() -> None:
    with pytest.raises(BotConfigError) as caught:
        parse_bot_yaml("slug: hallo\nretrieval:\n  top_k: 99\n  confidence_threshold: viel\n")

    assert caught.value.problems == [
        "Feld „name“: fehlt (Pflichtfeld)",
        f"Feld „retrieval.top_k“: darf höchstens {MAX_TOP_K} sein",
        "Feld „retrieval.confidence_threshold“: muss eine Zahl sein",
    ]


# --------------------------------------------------------------------------- workspaces


def test_bot_of_one_workspace_is_invisible_in_another(engine: Engine) -> None:
    with engine.session() as session:
        BotRepository(session, "jena").save(config())

    with engine.session() as session:
        sueder = BotRepository(session, "sueder")
        assert sueder.list() == []
        assert not sueder.exists("buergerbot")
        with pytest.raises(BotNotFoundError) as caught:
            sueder.get("buergerbot")
        with pytest.raises(BotNotFoundError):
            sueder.export_yaml("buergerbot")
    assert str(caught.value) == "Bot 'buergerbot' gibt es im Arbeitsbereich 'sueder' nicht."
    assert (caught.value.slug, caught.value.workspace) == ("buergerbot", "sueder")


def test_same_slug_in_two_workspaces_is_versioned_separately(engine: Engine) -> None:
    with engine.session() as session:
        jena = BotRepository(session, "jena")
        jena.save(config())
        jena.save(config(persona="knapp"))
        assert BotRepository(session, "sueder").save(config(name="Süder Bot")) == 1

    with engine.session() as session:
        assert BotRepository(session, "jena").get("buergerbot")[1] == 2
        sueder_config, version = BotRepository(session, "sueder").get("buergerbot")
        assert (sueder_config.name, version) == ("Süder Bot", 1)


# --------------------------------------------------------------------------- CLI


def test_cli_import_then_export_round_trip(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATWERKSTATT_")}
    env["CHATWERKSTATT_DATA_DIR"] = str(tmp_path / "data")
    env["PYTHONPATH"] = str(REPO_ROOT)
    exported = tmp_path / "export.yaml"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipelines", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    imported = cli("bots", "import", str(SAMPLE_BOT))
    assert imported.returncode == 0, imported.stderr
    assert "'musterstadt-buergerservice' als Version 1 gespeichert" in imported.stdout

    export = cli("bots", "export", "musterstadt-buergerservice", "-o", str(exported))
    assert export.returncode == 0, export.stderr

    text = exported.read_text(encoding="utf-8")
    assert yaml.safe_load(text)["version"] == 1
    assert parse_bot_yaml(text) == parse_bot_yaml(SAMPLE_BOT.read_text(encoding="utf-8"))
    # The CLI wrote to the data folder from the environment.
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    assert (tmp_path / "data" / "chatwerkstatt.db").is_file()
    with Engine(settings).session() as session:
        assert BotRepository(session, "standard").get("musterstadt-buergerservice")[1] == 1
