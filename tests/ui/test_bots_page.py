"""The Bots page through AppTest: a bot from a template, edit, versions, rollback, publish,
YAML. (What an analyst may not do is tested with a real sign-in in test_sign_in.py.)"""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from pipelines.bots import BotRepository, Office, Redirect
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


# --------------------------------------------------------------------------- scope and handoff

SAMPLE_BOT = REPO_ROOT / "data" / "sample" / "bots" / "musterstadt-buergerservice.yaml"


def edit_table(app: AppTest, path: str, edited: dict[int, dict[str, str]] | None = None,
               added: list[dict[str, str]] | None = None,
               deleted: list[int] | None = None) -> None:
    """What a person does in the table of `path` (scope.redirects, handoff.offices): change
    cells, add and delete rows; sent with the next click, as the browser does."""
    [editor] = [e for e in app.data_editor if e.key and e.key.endswith(f"-{path}")]
    assert editor.editing_mode == "dynamic"
    app.session_state[editor.key] = {"edited_rows": edited or {}, "added_rows": added or [],
                                     "deleted_rows": deleted or []}


def save(app: AppTest) -> AppTest:
    [b for b in app.button if b.label == "Als neue Version speichern"][0].click().run()
    assert not app.exception, app.exception
    return app


def test_scope_redirects_and_offices_are_edited_in_tables(engine: Engine) -> None:
    app = create_from_template(open_bots(), "buergerservice", "Bürgerservice Test")
    slug = "buergerservice-test"
    [redirects] = [e for e in app.data_editor if e.key and e.key.endswith("scope.redirects")]
    # German column titles from the settings themselves; an empty table for a new bot.
    titles = {name: column["label"] for name, column in json.loads(redirects.proto.columns)
              .items() if "label" in column}
    assert titles == {"name": "Zuständige Stelle", "keywords": "Stichwörter",
                      "examples": "Beispielfragen", "message": "Antworttext"}
    assert redirects.value.empty
    [t for t in app.text_area if t.label == "Zuständig für"][0].set_value(
        "Personalausweis und Reisepass\n\n  Meldewesen  \n")
    edit_table(app, "scope.redirects", added=[{
        "name": "Jobcenter", "keywords": "Bürgergeld; Jobcenter ;",
        "examples": "Wie beantrage ich Bürgergeld?",
        "message": "Dafür ist das Jobcenter zuständig."}])
    edit_table(app, "handoff.offices", added=[
        {"key": "buergerbuero", "name": "Bürgerbüro", "email": "bb@musterstadt.example",
         "hours": "Mo–Do 8:00–16:00; Fr 8:00–12:00", "topics": "Personalausweis; Ummeldung"},
        {"key": "abfall", "name": "Abfallberatung"},  # hours left empty: the standard applies
        {},  # a row added and left empty is no office
    ])
    [t for t in app.toggle if t.label == "Übergabe anbieten"][0].set_value(False)
    [s for s in app.slider if s.label == "Schwelle"][0].set_value(0.85)
    save(app)

    with engine.session() as session:
        config, version = BotRepository(session, "standard").get(slug)
    assert version == 2
    assert config.scope.topics == ["Personalausweis und Reisepass", "Meldewesen"]
    assert config.scope.redirects == [Redirect(
        name="Jobcenter", keywords=["Bürgergeld", "Jobcenter"],
        examples=["Wie beantrage ich Bürgergeld?"], message="Dafür ist das Jobcenter zuständig.")]
    assert config.handoff.offices == [
        Office(key="buergerbuero", name="Bürgerbüro", email="bb@musterstadt.example",
               hours="Mo–Do 8:00–16:00; Fr 8:00–12:00", topics=["Personalausweis", "Ummeldung"]),
        Office(key="abfall", name="Abfallberatung")]
    assert config.handoff.offices[1].hours == "Mo–Fr 8:00–16:00"
    assert config.handoff.enabled is False
    assert config.curated.threshold == 0.85

    # The versions show the new entries readably.
    show(app, "versions")
    shown = " ".join(m.value for m in app.markdown) + " ".join(c.value for c in app.code)
    assert "Zuständigkeit › Verweise" in shown
    assert "Jobcenter (Bürgergeld, Jobcenter)" in shown
    assert "Bürgerbüro (Personalausweis, Ummeldung)" in shown


def test_existing_entries_are_changed_and_removed_and_the_diff_names_them(
        engine: Engine) -> None:
    with engine.session() as session:
        BotRepository(session, "standard").import_yaml(SAMPLE_BOT.read_text(encoding="utf-8"))
    app = open_bots()
    slug = "musterstadt-buergerservice"
    [offices] = [e for e in app.data_editor if e.key and e.key.endswith("handoff.offices")]
    first = offices.value.iloc[0]
    assert first["key"] == "buergerbuero" and "; " in first["topics"]
    redirects = [e for e in app.data_editor if e.key and e.key.endswith("scope.redirects")][0]
    jobcenter = list(redirects.value["name"]).index("Jobcenter")
    # Saved unchanged, the tables give back exactly what was there.
    save(app)
    assert any(i.value.startswith("Nichts geändert") for i in app.info)

    edit_table(app, "scope.redirects", edited={
        jobcenter: {"keywords": "Bürgergeld; Jobcenter; Grundsicherung für Arbeitsuchende; "
                                "Hartz IV"}})
    edit_table(app, "handoff.offices", edited={0: {"hours": "Mo–Fr 7:30–12:00"}},
               deleted=[1])
    save(app)

    with engine.session() as session:
        repo = BotRepository(session, "standard")
        before, _ = repo.get(slug, 1)
        config, version = repo.get(slug)
    assert version == 2
    changed = next(r for r in config.scope.redirects if r.name == "Jobcenter")
    assert changed.keywords[-1] == "Hartz IV"
    assert len(config.scope.redirects) == len(before.scope.redirects)
    assert config.handoff.offices[0].hours == "Mo–Fr 7:30–12:00"
    assert config.handoff.offices[0].topics == before.handoff.offices[0].topics
    assert [o.key for o in config.handoff.offices] == [
        o.key for i, o in enumerate(before.handoff.offices) if i != 1]

    show(app, "versions")
    diff = "\n".join(c.value for c in app.code)
    assert "+Jobcenter – Stichwörter: Bürgergeld, Jobcenter, Grundsicherung für " \
           "Arbeitsuchende, Hartz IV" in diff
    assert "Servicezeiten: Mo–Fr 7:30–12:00" in diff
    labels = " ".join(m.value for m in app.markdown)
    assert "Übergabe an Menschen › Ämter" in labels


def test_invalid_office_hours_and_keys_are_explained_and_nothing_is_saved(
        engine: Engine) -> None:
    app = create_from_template(open_bots(), "wissensmanagement", "Wissen")
    edit_table(app, "handoff.offices", added=[
        {"key": "personalamt", "name": "Personalamt", "hours": "Mo 9-8"},
        {"key": "Bürger Büro", "name": "Bürgerbüro"},
    ])
    edit_table(app, "scope.redirects", added=[{"name": "Finanzamt", "keywords": "Steuer"}])
    save(app)

    errors = " ".join(e.value for e in app.error)
    assert "Die Einstellungen sind so nicht gültig" in errors
    assert "Feld „handoff.offices.0.hours“: „9-8“ in „Mo 9-8“: das Ende liegt vor dem Beginn." \
        in errors
    assert "Feld „handoff.offices.1.key“: Kurzname" in errors
    assert "Feld „scope.redirects.0.message“" in errors
    with engine.session() as session:
        assert BotRepository(session, "standard").get("wissen")[1] == 1


def test_website_section_shows_snippets_only_for_a_published_bot(engine: Engine) -> None:
    app = show(create_from_template(open_bots(), "buergerservice", "Bürgerservice Web"),
               "website")
    assert any("nicht veröffentlicht" in w.value for w in app.warning)
    assert not [c for c in app.code if "widget.js" in c.value]

    show(app, "versions").button(key="publish").click().run()
    app = show(app, "website")

    base = engine.settings.public_base_url
    codes = [c.value for c in app.code]
    assert any(c.startswith(f'<script src="{base}/widget.js" ') and
               f'data-chat="{base}/w/standard/buergerservice-web/"' in c for c in codes)
    assert any(c.startswith(f'<iframe src="{base}/w/standard/buergerservice-web/"')
               for c in codes)
    assert any("nur auf diesem Server selbst" in c.value for c in app.caption)


def test_website_settings_are_edited_as_lines_and_a_pale_colour_is_refused(
        engine: Engine) -> None:
    app = create_from_template(open_bots(), "buergerservice", "Bürgerservice Farbe")
    slug = "buergerservice-farbe"
    questions = [t for t in app.text_area if t.label == "Vorgeschlagene Fragen"][0]
    questions.set_value("Was kostet ein Pass?\n\nWo ist das Bürgerbüro?\n")
    origins = [t for t in app.text_area if t.label == "Erlaubte Websites"][0]
    origins.set_value("https://www.musterstadt.de/")
    [b for b in app.button if b.label == "Als neue Version speichern"][0].click().run()
    assert not app.exception, app.exception
    with engine.session() as session:
        config, version = BotRepository(session, "standard").get(slug)
    assert version == 2
    assert config.public.suggested_questions == ["Was kostet ein Pass?", "Wo ist das Bürgerbüro?"]
    assert config.public.allowed_origins == ["https://www.musterstadt.de"]

    colour = [t for t in app.text_input if t.label == "Farbe der Stadt"][0]
    colour.set_value("#ffee88")
    [b for b in app.button if b.label == "Als neue Version speichern"][0].click().run()
    errors = " ".join(e.value for e in app.error)
    assert "Feld „public.colour“" in errors and "4,5 : 1" in errors
    with engine.session() as session:
        assert BotRepository(session, "standard").get(slug)[1] == 2
