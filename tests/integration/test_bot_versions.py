"""Version history of a bot on real SQLite: list, compare, roll back, publish, unpublish —
each only inside its own workspace."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import select

from pipelines.bot_fields import diff_configs
from pipelines.bots import BotConfig, BotNotFoundError, BotRepository
from pipelines.engine import Engine
from pipelines.store.models import Bot

SLUG = "buergerbot"


def first_config() -> BotConfig:
    return BotConfig.model_validate({
        "slug": SLUG,
        "name": "Bürgerbot",
        "persona": "freundlich, siezt",
        "languages": ["de"],
        "knowledge_bases": ["allgemein"],
        "retrieval": {"top_k": 5, "confidence_threshold": 0.35},
    })


def second_config() -> BotConfig:
    data = first_config().model_dump()
    data.update(persona="knapp und sachlich", languages=["de", "en"], answer_style="stichpunkte")
    data["retrieval"]["top_k"] = 8
    return BotConfig.model_validate(data)


@pytest.fixture
def two_versions(engine: Engine) -> Engine:
    with engine.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.save(first_config(), note="erste Fassung") == 1
        assert repo.save(second_config(), note="knapper, auch Englisch") == 2
    return engine


def published_column(engine: Engine, workspace_slug: str = "jena") -> int | None:
    """What the database itself holds, read past the repository."""
    with engine.session() as session:
        repo = BotRepository(session, workspace_slug)
        return session.scalar(
            select(Bot.published_version).where(Bot.workspace_id == repo.workspace.id,
                                                Bot.slug == SLUG)
        )


# --------------------------------------------------------------------------- history


def test_versions_oldest_first_with_notes(two_versions: Engine) -> None:
    with two_versions.session() as session:
        versions = BotRepository(session, "jena").versions(SLUG)

    assert [(v.version, v.note, v.is_current, v.is_published) for v in versions] == [
        (1, "erste Fassung", False, False),
        (2, "knapper, auch Englisch", True, False),
    ]
    assert all(v.created_at.tzinfo is UTC for v in versions)
    assert versions[0].created_at <= versions[1].created_at


def test_diff_between_saved_versions_is_readable(two_versions: Engine) -> None:
    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        old, _ = repo.get(SLUG, 1)
        new, _ = repo.get(SLUG, 2)

    assert [c.summary() for c in diff_configs(old, new)] == [
        "Ton und Rolle: „freundlich, siezt“ → „knapp und sachlich“",
        "Sprachen: „de“ → „de, en“",
        "Suche in den Unterlagen › Anzahl Textstellen: „5“ → „8“",
        "Antwortstil: „kurz“ → „in Stichpunkten“",
    ]


def test_rollback_saves_the_old_config_as_a_new_version(two_versions: Engine) -> None:
    with two_versions.session() as session:
        assert BotRepository(session, "jena").rollback(SLUG, 1) == 3

    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        current, number = repo.get(SLUG)
        assert number == 3
        assert current == first_config() == repo.get(SLUG, 1)[0]
        assert diff_configs(repo.get(SLUG, 1)[0], current) == []
        # Nothing is lost: version 2 is still there to go back to.
        assert repo.get(SLUG, 2)[0] == second_config()
        versions = repo.versions(SLUG)
    assert [(v.version, v.note, v.is_current) for v in versions] == [
        (1, "erste Fassung", False),
        (2, "knapper, auch Englisch", False),
        (3, "Zurückgesetzt auf Version 1", True),
    ]


def test_rollback_note_keeps_its_origin(two_versions: Engine) -> None:
    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.rollback(SLUG, 1, note="  Englisch war noch nicht geprüft ") == 3
        assert repo.versions(SLUG)[-1].note == (
            "Zurückgesetzt auf Version 1: Englisch war noch nicht geprüft")


def test_rollback_to_what_is_already_current_adds_nothing(two_versions: Engine) -> None:
    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.rollback(SLUG, 1) == 3
        assert repo.rollback(SLUG, 1) == 3  # version 3 already is version 1's config
        assert repo.rollback(SLUG, 3) == 3
        assert [v.version for v in repo.versions(SLUG)] == [1, 2, 3]


def test_rollback_to_a_missing_version_changes_nothing(two_versions: Engine) -> None:
    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        with pytest.raises(LookupError) as caught:
            repo.rollback(SLUG, 7)
        assert str(caught.value) == "Bot 'buergerbot' hat keine Version 7."
        assert repo.get(SLUG)[1] == 2
        assert len(repo.versions(SLUG)) == 2


def test_overlong_note_is_cut_to_the_column(two_versions: Engine) -> None:
    data = second_config().model_dump()
    data["greeting"] = "Hallo!"
    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.save(BotConfig.model_validate(data), note="x" * 800) == 3
        assert repo.versions(SLUG)[-1].note == "x" * 500


# --------------------------------------------------------------------------- publishing


def test_nothing_is_published_at_first(two_versions: Engine) -> None:
    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.published(SLUG) is None
        assert repo.list()[0].published_version is None
    assert published_column(two_versions) is None


def test_publish_defaults_to_the_current_version(two_versions: Engine) -> None:
    with two_versions.session() as session:
        assert BotRepository(session, "jena").publish(SLUG) == 2

    assert published_column(two_versions) == 2
    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.published(SLUG) == (second_config(), 2)
        assert [(v.version, v.is_published) for v in repo.versions(SLUG)] == [
            (1, False), (2, True)]
        assert repo.list()[0].published_version == 2


def test_published_version_survives_later_edits(two_versions: Engine) -> None:
    with two_versions.session() as session:
        BotRepository(session, "jena").publish(SLUG, 1)

    data = second_config().model_dump()
    data["greeting"] = "Moin! Was kann ich für Sie tun?"
    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.save(BotConfig.model_validate(data), note="norddeutsch") == 3
        assert repo.rollback(SLUG, 2) == 4

    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.published(SLUG) == (first_config(), 1)
        assert repo.get(SLUG)[1] == 4
        flags = {v.version: (v.is_current, v.is_published) for v in repo.versions(SLUG)}
    assert flags == {4: (True, False), 3: (False, False), 2: (False, False), 1: (False, True)}


def test_publish_a_missing_version_keeps_the_published_one(two_versions: Engine) -> None:
    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        repo.publish(SLUG, 1)
        with pytest.raises(LookupError) as caught:
            repo.publish(SLUG, 9)
    assert str(caught.value) == "Bot 'buergerbot' hat keine Version 9."
    assert published_column(two_versions) == 1


def test_unpublish(two_versions: Engine) -> None:
    with two_versions.session() as session:
        BotRepository(session, "jena").publish(SLUG)
    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.unpublish(SLUG) == 2
        assert repo.unpublish(SLUG) is None  # already offline

    assert published_column(two_versions) is None
    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.published(SLUG) is None
        assert not any(v.is_published for v in repo.versions(SLUG))
        # The versions themselves are untouched.
        assert repo.get(SLUG) == (second_config(), 2)


# --------------------------------------------------------------------------- workspaces


def test_other_workspace_can_neither_see_nor_publish(two_versions: Engine) -> None:
    with two_versions.session() as session:
        BotRepository(session, "jena").publish(SLUG, 1)

    with two_versions.session() as session:
        other = BotRepository(session, "sueder")
        for attempt in (
            lambda: other.versions(SLUG),
            lambda: other.published(SLUG),
            lambda: other.publish(SLUG),
            lambda: other.publish(SLUG, 2),
            lambda: other.unpublish(SLUG),
            lambda: other.rollback(SLUG, 2),
        ):
            with pytest.raises(BotNotFoundError) as caught:
                attempt()
            assert str(caught.value) == (
                "Bot 'buergerbot' gibt es im Arbeitsbereich 'sueder' nicht.")

    assert published_column(two_versions) == 1
    with two_versions.session() as session:
        repo = BotRepository(session, "jena")
        assert repo.published(SLUG) == (first_config(), 1)
        assert [v.version for v in repo.versions(SLUG)] == [1, 2]


def test_same_slug_elsewhere_is_published_separately(two_versions: Engine) -> None:
    with two_versions.session() as session:
        sueder = BotRepository(session, "sueder")
        assert sueder.save(first_config()) == 1
        assert sueder.publish(SLUG) == 1
        BotRepository(session, "jena").publish(SLUG, 2)
    with two_versions.session() as session:
        BotRepository(session, "sueder").unpublish(SLUG)

    assert published_column(two_versions, "jena") == 2
    assert published_column(two_versions, "sueder") is None
