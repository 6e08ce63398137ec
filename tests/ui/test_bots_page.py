"""The Bots page through AppTest: a bot from a template, edit, versions, rollback, publish,
YAML. (What an analyst may not do is tested with a real sign-in in test_sign_in.py.)"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from pipelines.bots import BotRepository
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT
from pipelines.workspace import knowledge_bases

APP = str(REPO_ROOT / "apps" / "workspace.py")
BOTS = str(REPO_ROOT / "pages" / "bots.py")


def open_bots() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    app.switch_page(BOTS).run()
    assert not app.exception, app.exception
    return app


def show(app: AppTest, section: str) -> AppTest:
    """Switch the page to one of its parts: edit, versions or yaml."""
    app.radio(key="bots-section").set_value(section).run()
    assert not app.exception, app.exception
    return app


def create_from_template(app: AppTest, template: str, name: str) -> AppTest:
    app.selectbox(key="template").set_value(template).run()
    [t for t in app.text_input if t.label == "Name des Bots"][0].set_value(name)
    [b for b in app.button if b.label == "Bot anlegen"][0].click()
    return app.run()


def test_a_bot_is_created_from_a_template(engine: Engine) -> None:
    app = open_bots()
    app = create_from_template(app, "pressestelle", "Presse Musterstadt")
    assert not app.exception, app.exception
    with engine.session() as session:
        repo = BotRepository(session, "standard")
        config, version = repo.get("presse-musterstadt")
    assert (config.name, version) == ("Presse Musterstadt", 1)
    assert config.system_prompt  # the template's prompt came along
    assert "Vorlage" in repo_note(engine, "presse-musterstadt")
    # The confirmation survives the rerun that shows the new bot.
    assert "„Presse Musterstadt“ ist angelegt." in [s.value for s in app.success]
    # No knowledge base was chosen: the bot's own one exists at once, named like the bot, so
    # the Dokumente page offers it for the upload.
    assert [(kb.slug, kb.name) for kb in knowledge_bases(engine, "standard")] == [
        ("presse-musterstadt", "Presse Musterstadt")]


def test_a_second_bot_with_the_same_short_name_is_refused(engine: Engine) -> None:
    app = create_from_template(open_bots(), "pressestelle", "Presse Musterstadt")
    app = create_from_template(app, "wissensmanagement", "Presse Musterstadt")
    assert not app.exception, app.exception
    assert any("gibt es schon" in e.value for e in app.error)
    with engine.session() as session:
        config, version = BotRepository(session, "standard").get("presse-musterstadt")
    assert (version, config.system_prompt) != (2, "")  # the first bot is untouched
    assert version == 1


def repo_note(engine: Engine, slug: str) -> str:
    with engine.session() as session:
        return BotRepository(session, "standard").versions(slug)[0].note


def test_edit_saves_a_version_and_rollback_restores(engine: Engine) -> None:
    app = create_from_template(open_bots(), "buergerservice", "Bürgerservice Test")
    slug = "buergerservice-test"
    greeting = [t for t in app.text_area if t.label == "Begrüßung"][0]
    greeting.set_value("Moin! Fragen Sie mich zu Ämtern und Gebühren.")
    [b for b in app.button if b.label == "Als neue Version speichern"][0].click().run()
    assert not app.exception, app.exception
    with engine.session() as session:
        config, version = BotRepository(session, "standard").get(slug)
    assert version == 2 and config.greeting.startswith("Moin!")

    show(app, "versions")
    versions_diff = " ".join(m.value for m in app.markdown)
    assert "Begrüßung" in versions_diff
    app.button(key="rollback").click().run()
    assert not app.exception, app.exception
    with engine.session() as session:
        repo = BotRepository(session, "standard")
        config, version = repo.get(slug)
        first, _ = repo.get(slug, 1)
    assert version == 3 and config == first


def test_invalid_settings_are_explained_in_german(engine: Engine) -> None:
    app = create_from_template(open_bots(), "wissensmanagement", "Wissen")
    name = [t for t in app.text_input if t.label == "Name"][0]
    name.set_value("")
    [b for b in app.button if b.label == "Als neue Version speichern"][0].click().run()
    errors = " ".join(e.value for e in app.error)
    assert "Feld „name“" in errors
    with engine.session() as session:
        assert BotRepository(session, "standard").get("wissen")[1] == 1


def test_publish_and_unpublish(engine: Engine) -> None:
    app = show(create_from_template(open_bots(), "onboarding", "Onboarding"), "versions")
    app.button(key="publish").click().run()
    with engine.session() as session:
        assert BotRepository(session, "standard").published("onboarding") is not None
    app.button(key="unpublish").click().run()
    with engine.session() as session:
        assert BotRepository(session, "standard").published("onboarding") is None


def test_yaml_export_and_an_import_with_errors(engine: Engine) -> None:
    app = show(create_from_template(open_bots(), "onboarding", "Onboarding"), "yaml")
    exported = app.code[0].value
    assert "slug: onboarding" in exported and "name: Onboarding" in exported
    broken = exported.replace("name: Onboarding", "name: ''").replace("top_k: ", "top_k: 9")
    app.file_uploader(key="import").set_value(
        [("onboarding.yaml", broken.encode(), "application/x-yaml")]).run()
    app.button(key="import-run").click().run()
    assert not app.exception, app.exception
    problems = " ".join(e.value for e in app.error)
    assert "Feld „name“" in problems and "Feld „retrieval.top_k“" in problems
    with engine.session() as session:
        assert BotRepository(session, "standard").get("onboarding")[1] == 1  # nothing saved
