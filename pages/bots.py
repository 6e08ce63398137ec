"""Bots: create from a template, edit every setting through a form with help texts, versions
with a readable diff, rollback, publish; YAML export and import."""

from __future__ import annotations

from typing import Any, get_origin

import pandas as pd
import streamlit as st
from pydantic import BaseModel, ValidationError

from apps import ui
from pipelines.bot_fields import describe_fields, diff_configs, field_choices
from pipelines.bot_templates import bot_from_template, list_templates
from pipelines.bots import BotConfig, BotConfigError, BotRepository, Office, Redirect
from pipelines.public import PublicBot, PublicChatError, embed_snippets, logo_path, save_logo
from pipelines.validation import german_error_lines
from pipelines.workspace import BotExistsError, create_bot, kb_slug_from_name, knowledge_bases

engine = ui.engine()
workspace = ui.workspace()
can_edit = ui.allowed("bots.edit")
can_publish = ui.allowed("bots.publish")
st.title(ui.t("bots.title"))
if not can_edit:
    st.info(ui.t("bots.read_only"))

LONG_TEXT = {"description", "greeting", "persona", "system_prompt", "outside_message"}
# Lists of short texts, edited as one line per entry.
LINE_LISTS = {"scope.topics", "public.suggested_questions", "public.allowed_origins"}
# Settings that are lists of entries, edited as a table (one row per entry).
ENTRY_TABLES: dict[str, type[BaseModel]] = {"scope.redirects": Redirect,
                                            "handoff.offices": Office}
# Lists inside a table row are one cell: entries joined with "; " (commas occur in them).
CELL_SEPARATOR = ";"
LANGUAGE_CHOICES = ["de", "en", "tr", "ar", "uk", "ru", "pl", "ro", "fa", "fr", "es", "it"]


with engine.session() as session:
    summaries = {b.slug: b.name for b in BotRepository(session, workspace).list()}
kb_slugs = [kb.slug for kb in knowledge_bases(engine, workspace)]

# -- new bot from a template -----------------------------------------------------------------
if can_edit:
    with st.expander(ui.t("bots.new"), icon=":material/add_circle:", expanded=not summaries):
        templates = {tpl.key: tpl for tpl in list_templates()}
        key = st.selectbox(ui.t("bots.template"), list(templates),
                           format_func=lambda k: templates[k].title, key="template")
        st.caption(templates[key].description)
        with st.form("new-bot"):
            name = st.text_input(ui.t("bots.name"), value=templates[key].config.name)
            slug = st.text_input(ui.t("bots.slug"), help=ui.t("bots.slug_help"))
            chosen = st.multiselect(ui.t("bots.kbs"), kb_slugs, help=ui.t("bots.kbs_help"),
                                    placeholder=ui.t("bots.kbs_own"))
            if st.form_submit_button(ui.t("bots.create"), type="primary"):
                try:
                    new_slug = slug.strip() or kb_slug_from_name(name)
                    config = bot_from_template(key, new_slug, name, chosen or None)
                    create_bot(engine, workspace, config,
                               note=ui.t("bots.from_template", template=templates[key].title))
                except BotConfigError as exc:
                    st.error("\n".join(exc.problems))
                except BotExistsError as exc:
                    st.error(ui.t("bots.exists", slug=exc.slug))
                except ValueError as exc:
                    st.error(str(exc))
                else:
                    st.session_state["bot"] = new_slug
                    ui.flash(ui.t("bots.created", name=config.name))
                    st.rerun()

if not summaries:
    st.info(ui.t("bots.none"))
    st.stop()

slug = ui.remembered_choice(ui.t("bots.pick"), list(summaries), "bot",
                           format_func=summaries.__getitem__)
with engine.session() as session:
    repo = BotRepository(session, workspace)
    config, version = repo.get(slug)
    versions = repo.versions(slug)
    published = repo.published(slug)

# One part of the page at a time (not st.tabs, which builds all three on every run): the
# versions table and the YAML view cost the browser most of the page's build time.
SECTIONS = {"edit": "bots.tab_edit", "versions": "bots.tab_versions",
            "website": "bots.tab_website", "yaml": "bots.tab_yaml"}
section = st.radio(ui.t("bots.section"), list(SECTIONS), horizontal=True, key="bots-section",
                   format_func=lambda k: ui.t(SECTIONS[k]), label_visibility="collapsed")


def field_widget(path: str, title: str, help_text: str, value: Any) -> Any:
    """The input for one setting, chosen by its type and bounds."""
    choices = field_choices(BotConfig, path)
    key = f"field-{slug}-{version}-{path}"
    if choices:
        values = [c[0] for c in choices]
        labels = dict(choices)
        return st.selectbox(title, values, index=values.index(value) if value in values else 0,
                            format_func=lambda v: labels[v], help=help_text, key=key,
                            disabled=not can_edit)
    if isinstance(value, bool):
        return st.toggle(title, value=value, help=help_text, key=key, disabled=not can_edit)
    if path in LINE_LISTS:
        lines = st.text_area(title, "\n".join(value), help=help_text, key=key, height=160,
                             disabled=not can_edit)
        return [line.strip() for line in lines.splitlines() if line.strip()]
    if path in ENTRY_TABLES:
        return entries_editor(ENTRY_TABLES[path], title, help_text, value, key)
    if path == "knowledge_bases":
        options = sorted(set(kb_slugs) | set(value))
        return st.multiselect(title, options, default=value, help=help_text, key=key,
                              disabled=not can_edit, placeholder=ui.t("common.choose"))
    if path == "languages":
        options = sorted(set(LANGUAGE_CHOICES) | set(value), key=LANGUAGE_CHOICES.index
                         if set(value) <= set(LANGUAGE_CHOICES) else None)
        return st.multiselect(title, options, default=value, help=help_text, key=key,
                              disabled=not can_edit, placeholder=ui.t("common.choose"))
    if path == "retrieval.top_k":
        return st.slider(title, 1, 20, int(value), help=help_text, key=key, disabled=not can_edit)
    if path in ("retrieval.confidence_threshold", "retrieval.text_weight"):
        if path == "retrieval.text_weight":
            standard = st.checkbox(ui.t("bots.use_default", title=title), value=value is None,
                                   key=key + "-default", disabled=not can_edit)
            if standard:
                return None
        return st.slider(title, 0.0, 1.0, float(value if value is not None
                                                else engine.settings.fusion_text_weight),
                         0.05, help=help_text, key=key, disabled=not can_edit)
    if path in ("scope.semantic_threshold", "curated.threshold"):
        return st.slider(title, 0.0, 1.0, float(value), 0.01, help=help_text, key=key,
                         disabled=not can_edit)
    if path == "llm.temperature":
        return st.slider(title, 0.0, 2.0, float(value), 0.05, help=help_text, key=key,
                         disabled=not can_edit)
    if path.split(".")[-1] in LONG_TEXT:
        return st.text_area(title, value or "", help=help_text, key=key, disabled=not can_edit,
                            height=160 if path == "system_prompt" else 80)
    if path == "slug":
        st.text_input(title, value, help=help_text, key=key, disabled=True)
        return value
    text = st.text_input(title, value or "", help=help_text, key=key, disabled=not can_edit)
    return text or None if path == "llm.model" else text


def entries_editor(model: type[BaseModel], title: str, help_text: str,
                   entries: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """A list of entries (redirects, offices) as a table, one row per entry; the columns carry
    the entry's German field titles, a list inside an entry is one cell joined with "; "."""
    fields = model.model_fields
    lists = {name for name, info in fields.items() if get_origin(info.annotation) is list}
    frame = pd.DataFrame(
        [{name: f"{CELL_SEPARATOR} ".join(entry.get(name) or []) if name in lists
          else entry.get(name) or "" for name in fields} for entry in entries],
        columns=list(fields), dtype=object)
    columns = {
        name: st.column_config.TextColumn(
            info.title or name,
            help=(info.description or "") + (" " + ui.t("bots.cell_list_help")
                                              if name in lists else ""))
        for name, info in fields.items()
    }
    st.markdown(title, help=help_text)
    edited = st.data_editor(frame, column_config=columns, num_rows="dynamic", hide_index=True,
                            width="stretch", key=key, disabled=not can_edit)
    st.caption(ui.t("bots.table_help"))
    rows = []
    for record in edited.to_dict("records"):
        cells = {name: cell_text(record.get(name)) for name in fields}
        if not any(cell.strip() for cell in cells.values()):
            continue  # an added row left empty
        row: dict[str, Any] = {}
        for name, cell in cells.items():
            if name in lists:
                row[name] = [part.strip() for part in cell.split(CELL_SEPARATOR) if part.strip()]
            elif cell.strip() or fields[name].is_required():
                row[name] = cell
            # an empty optional cell: the field's standard value applies
        rows.append(row)
    return rows


def cell_text(value: Any) -> str:
    """A table cell as text; new rows hold None (or NaN) where nothing was typed."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return ""
    return str(value)


def nested_set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        data = data[part]
    data[leaf] = value


def nested_get(data: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


if section == "edit":
    st.caption(ui.t("bots.editing", version=version))
    with st.form(f"edit-{slug}-{version}"):
        data = config.model_dump()
        group = None
        for help_entry in describe_fields(BotConfig):
            if help_entry.group != group and help_entry.group:
                st.markdown(f"**{help_entry.group}**")
            group = help_entry.group
            value = field_widget(help_entry.path, help_entry.title, help_entry.description,
                                 nested_get(data, help_entry.path))
            nested_set(data, help_entry.path, value)
        note = st.text_input(ui.t("bots.note"), help=ui.t("bots.note_help"),
                             disabled=not can_edit)
        saved = st.form_submit_button(ui.t("bots.save"), type="primary", disabled=not can_edit)
    if saved:
        try:
            new_config = BotConfig.model_validate(data)
        except ValidationError as exc:
            st.error(ui.t("bots.invalid") + "\n\n" + "\n".join(
                f"- {line}" for line in german_error_lines(exc)))
        else:
            changes = diff_configs(config, new_config)
            if not changes:
                st.info(ui.t("bots.unchanged"))
            else:
                with engine.session() as session:
                    number = BotRepository(session, workspace).save(new_config, note=note)
                ui.flash(ui.t("bots.saved", version=number, count=len(changes)))
                st.rerun()

if section == "versions":
    table = pd.DataFrame([
        {
            ui.t("col.version"): v.version,
            ui.t("col.changed"): ui.german_datetime(v.created_at),
            ui.t("col.note"): v.note,
            ui.t("col.current"): "✓" if v.is_current else "",
            ui.t("col.published"): "✓" if v.is_published else "",
        }
        for v in reversed(versions)
    ])
    st.dataframe(table, hide_index=True, width="stretch")
    numbers = [v.version for v in reversed(versions)]
    left, right = st.columns(2)
    old_number = left.selectbox(ui.t("bots.compare_old"), numbers,
                                index=min(1, len(numbers) - 1), key=f"diff-old-{slug}-{version}")
    new_number = right.selectbox(ui.t("bots.compare_new"), numbers,
                               key=f"diff-new-{slug}-{version}")
    with engine.session() as session:
        repo = BotRepository(session, workspace)
        changes = diff_configs(repo.get(slug, old_number)[0], repo.get(slug, new_number)[0])
    if not changes:
        st.caption(ui.t("bots.no_diff"))
    for change in changes:
        if change.diff:
            # Entries (redirects, offices): a short line of names, then every field per entry.
            st.markdown(f"**{change.summary()}**" if change.entries else f"**{change.label}**")
            st.code("\n".join(change.diff), language="diff")
        else:
            st.markdown(f"**{change.label}:** {change.old} → {change.new}")
    actions = st.columns(3)
    if actions[0].button(ui.t("bots.rollback", version=old_number), key="rollback",
                         disabled=not can_edit or old_number == version):
        with engine.session() as session:
            number = BotRepository(session, workspace).rollback(slug, old_number)
        ui.flash(ui.t("bots.rolled_back", version=old_number, new=number))
        st.rerun()
    if actions[1].button(ui.t("bots.publish", version=new_number), key="publish",
                         disabled=not can_publish):
        with engine.session() as session:
            BotRepository(session, workspace).publish(slug, new_number)
        ui.flash(ui.t("bots.published", version=new_number))
        st.rerun()
    if actions[2].button(ui.t("bots.unpublish"), key="unpublish",
                         disabled=not can_publish or published is None):
        with engine.session() as session:
            BotRepository(session, workspace).unpublish(slug)
        ui.flash(ui.t("bots.unpublished"))
        st.rerun()
    if published:
        st.caption(ui.t("bots.published_now", version=published[1]))

if section == "website":
    st.markdown(ui.t("bots.website_intro"))
    if published is None:
        st.warning(ui.t("bots.website_unpublished"))
    else:
        public_bot = PublicBot(workspace, slug, published[0], published[1])
        base = engine.settings.public_base_url.rstrip("/")
        st.markdown(ui.t("bots.website_url", url=base + public_bot.path,
                         version=published[1]))
        snippets = embed_snippets(base, public_bot)
        st.markdown(f"**{ui.t('bots.snippet_script')}**")
        st.caption(ui.t("bots.snippet_script_help"))
        st.code(snippets["script"], language="html")
        st.markdown(f"**{ui.t('bots.snippet_iframe')}**")
        st.code(snippets["iframe"], language="html")
        origins = ", ".join(published[0].public.allowed_origins) or ui.t("bots.origins_none")
        st.caption(ui.t("bots.origins_now", origins=origins))
    st.subheader(ui.t("bots.logo"))
    current_logo = logo_path(engine.settings, workspace, slug)
    if current_logo.exists():
        st.image(str(current_logo), width=120, caption=config.public.logo_alt or None)
    logo_file = st.file_uploader(ui.t("bots.logo_upload"), type=["png", "jpg", "jpeg", "webp",
                                                                 "gif"],
                                 key=f"logo-{slug}", disabled=not can_edit,
                                 help=ui.t("bots.logo_help"))
    if logo_file is not None and st.button(ui.t("bots.logo_save"), key="logo-save",
                                           disabled=not can_edit):
        try:
            save_logo(engine.settings, workspace, slug, logo_file.name, logo_file.getvalue())
        except PublicChatError as exc:
            st.error(str(exc))
        else:
            ui.flash(ui.t("bots.logo_saved"))
            st.rerun()
    if current_logo.exists() and st.button(ui.t("bots.logo_remove"), key="logo-remove",
                                           disabled=not can_edit):
        current_logo.unlink()
        ui.flash(ui.t("bots.logo_removed"))
        st.rerun()

if section == "yaml":
    with engine.session() as session:
        text = BotRepository(session, workspace).export_yaml(slug)
    st.download_button(ui.t("bots.export"), text, file_name=f"{slug}.yaml",
                       mime="application/x-yaml", key="export")
    st.code(text, language="yaml")
    upload = st.file_uploader(ui.t("bots.import"), type=["yaml", "yml"], key="import",
                              disabled=not can_edit)
    if upload is not None and st.button(ui.t("bots.import_run"), key="import-run",
                                        disabled=not can_edit):
        try:
            with engine.session() as session:
                imported, number = BotRepository(session, workspace).import_yaml(
                    upload.getvalue().decode("utf-8"))
        except BotConfigError as exc:
            st.error(ui.t("bots.invalid") + "\n\n" + "\n".join(f"- {p}" for p in exc.problems))
        except (ValueError, UnicodeDecodeError) as exc:
            st.error(str(exc))
        else:
            st.session_state["bot"] = imported.slug
            ui.flash(ui.t("bots.imported", name=imported.name, version=number))
            st.rerun()
