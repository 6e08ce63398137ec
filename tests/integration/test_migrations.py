"""The Alembic migrations build exactly the schema the models describe, and re-running is safe."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from pipelines.store.db import alembic_config, upgrade_schema
from pipelines.store.models import Base


def sqlite_url(tmp_path: Path, name: str = "schema.db") -> str:
    return f"sqlite:///{tmp_path / name}"


def head_revision(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def test_upgrade_creates_every_table(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)

    upgrade_schema(url)

    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert current_revision(url) == head_revision(url)


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    upgrade_schema(url)

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    assert differences == [], "models changed without a migration (alembic revision " \
                              f"--autogenerate): {differences}"


def test_comparison_would_notice_a_missing_migration(tmp_path: Path) -> None:
    """Guard for the test above: a model table the migrations lack shows up as a difference."""
    from sqlalchemy import Column, Integer, MetaData, Table

    url = sqlite_url(tmp_path)
    upgrade_schema(url)
    metadata = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    Table("neue_tabelle", metadata, Column("id", Integer, primary_key=True))

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()

    assert [d[0] for d in differences] == ["add_table"]
    assert differences[0][1].name == "neue_tabelle"


def test_upgrade_twice_is_harmless_and_keeps_data(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    upgrade_schema(url)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO workspaces (slug, name, created_at) "
                "VALUES ('jena', 'Jena', '2026-01-01 00:00:00')"
            ))

        upgrade_schema(url)
        upgrade_schema(url)

        with engine.connect() as connection:
            rows = connection.execute(text("SELECT slug FROM workspaces")).scalars().all()
            versions = connection.execute(
                text("SELECT version_num FROM alembic_version")).scalars().all()
    finally:
        engine.dispose()
    assert rows == ["jena"]
    assert versions == [head_revision(url)]


def test_downgrade_to_base_and_up_again(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    upgrade_schema(url)

    command.downgrade(alembic_config(url), "base")
    engine = create_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        upgrade_schema(url)
        assert set(inspect(engine).get_table_names()) == (
            set(Base.metadata.tables) | {"alembic_version"})
    finally:
        engine.dispose()


def test_url_with_percent_sign_reaches_alembic(tmp_path: Path) -> None:
    """Alembic's ConfigParser would read '%' as interpolation; the URL must arrive unchanged
    (here a URL-encoded '%' in the folder name: '%25')."""
    folder = tmp_path / "100%daten"
    folder.mkdir()
    url = f"sqlite:///{tmp_path}/100%25daten/schema.db"

    upgrade_schema(url)

    assert (folder / "schema.db").is_file()
    assert current_revision(url) == head_revision(url)
