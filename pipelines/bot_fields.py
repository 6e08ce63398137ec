"""A bot configuration as people see it: field titles and help texts for forms, choice labels,
values rendered in German, and the readable difference between two versions.

Titles and help texts live on the pydantic fields themselves (`Field(title=..., description=...)`),
so a new field cannot reach a form without them; the helpers here only read them.
"""

from __future__ import annotations

import difflib
import re
import types
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from pipelines.bots import BotConfig

# Texts longer than this (or with line breaks) are compared line by line in a diff.
LONG_TEXT_CHARS = 80
EMPTY_TEXT = "(leer)"
UNSET = "(nicht gesetzt – Standard)"
NO_ENTRIES = "(keine)"

# Labels for the values of choice fields, keyed by field path; None = "leave it to the server".
CHOICE_LABELS: dict[str, dict[str | None, str]] = {
    "answer_style": {
        "kurz": "kurz",
        "ausfuehrlich": "ausführlich",
        "stichpunkte": "in Stichpunkten",
    },
    "llm.provider": {
        None: "Einstellung des Servers",
        "ollama": "Ollama (lokaler Server)",
        "openai": "OpenAI-kompatibler Server",
        "extractive": "ohne Sprachmodell (wörtliche Sätze aus den Quellen)",
    },
}

_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")


@dataclass(frozen=True)
class FieldHelp:
    """Label and help text of one field; `group` is the title of the section it belongs to."""

    path: str
    title: str
    description: str
    group: str = ""

    @property
    def label(self) -> str:
        return f"{self.group} › {self.title}" if self.group else self.title


@dataclass(frozen=True)
class ConfigChange:
    """One changed field between two versions, with both values rendered for people."""

    path: str
    title: str
    group: str
    old: str
    new: str
    # Unified-diff lines for long texts (system prompt, greeting …) and for lists of entries
    # (redirects, offices: one line per entry); empty for short values.
    diff: list[str] = field(default_factory=list)
    entries: bool = False

    @property
    def label(self) -> str:
        return f"{self.group} › {self.title}" if self.group else self.title

    def summary(self) -> str:
        """One German line, e.g. 'Antwortstil: „kurz“ → „in Stichpunkten“'."""
        if self.entries and (self.old == self.new
                             or max(len(self.old), len(self.new)) > LONG_TEXT_CHARS):
            return f"{self.label}: Einträge geändert"
        if self.diff and not self.entries:
            return f"{self.label}: Text geändert"
        return f"{self.label}: „{self.old}“ → „{self.new}“"


# --------------------------------------------------------------------------- field help


def field_help(model: type[BaseModel], path: str) -> tuple[str, str]:
    """(title, description) of the field at dotted `path`, e.g. 'retrieval.top_k'."""
    info = _field_info(model, path)
    return info.title or "", info.description or ""


def describe_fields(model: type[BaseModel] = BotConfig) -> list[FieldHelp]:
    """Every editable value of `model` in form order; nested settings flattened to their
    fields ('retrieval.top_k'), each with its section's title as `group`."""
    return list(_leaves(model, prefix="", group=""))


def field_choices(model: type[BaseModel], path: str) -> list[tuple[str | None, str]]:
    """(value, German label) of a choice field, in declared order; None first when the field
    may stay empty. Empty list for fields that are not a choice."""
    annotation = _field_info(model, path).annotation
    values: list[str | None] = []
    for arg in _union_members(annotation):
        if arg is type(None):
            values.insert(0, None)
        elif get_origin(arg) is Literal:
            values.extend(get_args(arg))
    if not any(value is not None for value in values):
        return []
    labels = CHOICE_LABELS.get(path, {})
    return [(value, labels.get(value, str(value) if value is not None else UNSET))
            for value in values]


def render_value(value: Any, path: str = "") -> str:
    """A config value as people read it: lists joined, ja/nein, German decimal comma."""
    labels = CHOICE_LABELS.get(path, {})
    if (value is None or isinstance(value, str)) and value in labels:
        return labels[value]
    if value is None:
        return UNSET
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        if value and all(isinstance(item, dict) for item in value):
            return "; ".join(_entry_summary(item) for item in value)
        return ", ".join(render_value(item) for item in value) if value else NO_ENTRIES
    if isinstance(value, dict):
        return ", ".join(f"{key}: {render_value(item)}" for key, item in value.items())
    text = str(value)
    return text if text.strip() else EMPTY_TEXT


# --------------------------------------------------------------------------- diff


def diff_configs(old: BotConfig, new: BotConfig) -> list[ConfigChange]:
    """What changed from `old` to `new`, field by field in form order; [] when nothing did."""
    before = _flatten(old.model_dump(mode="python"))
    after = _flatten(new.model_dump(mode="python"))
    changes = []
    for help_ in describe_fields(BotConfig):
        old_value, new_value = before.get(help_.path), after.get(help_.path)
        if old_value == new_value:
            continue
        changes.append(ConfigChange(
            path=help_.path,
            title=help_.title,
            group=help_.group,
            old=render_value(old_value, help_.path),
            new=render_value(new_value, help_.path),
            diff=_text_diff(old_value, new_value) or _entries_diff(old_value, new_value,
                                                                   help_.path),
            entries=_is_entry_list(old_value) or _is_entry_list(new_value),
        ))
    return changes


def _is_entry_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _entry_summary(entry: dict[str, Any]) -> str:
    """'Jobcenter (Bürgergeld, Jobcenter)': the entry's name and its first list of words."""
    name = entry.get("name") or next((v for v in entry.values() if isinstance(v, str)), "")
    words = next((v for v in entry.values() if isinstance(v, list) and v), [])
    return f"{name} ({', '.join(map(str, words))})" if words else str(name or EMPTY_TEXT)


def _entries_diff(old: Any, new: Any, path: str) -> list[str]:
    """A list of entries changed: one line per entry with every field, so a changed office
    hour shows even when the entry's name stays."""
    if not (_is_entry_list(old) or _is_entry_list(new)):
        return []
    item_model = next((arg for arg in get_args(_field_info(BotConfig, path).annotation)
                       if isinstance(arg, type) and issubclass(arg, BaseModel)), None)

    def line(entry: dict[str, Any]) -> str:
        titles = item_model.model_fields if item_model else {}
        parts = [f"{titles[key].title if key in titles else key}: {render_value(value)}"
                 for key, value in entry.items() if key != "name"]
        return f"{entry.get('name', '')} – " + " · ".join(parts)

    return list(difflib.unified_diff(
        [line(e) for e in old or []], [line(e) for e in new or []],
        fromfile="vorher", tofile="nachher", lineterm="", n=1,
    ))


def _text_diff(old: Any, new: Any) -> list[str]:
    if not (isinstance(old, str) and isinstance(new, str)):
        return []
    if not any(len(text) > LONG_TEXT_CHARS or "\n" in text for text in (old, new)):
        return []
    return list(difflib.unified_diff(
        _text_lines(old), _text_lines(new), fromfile="vorher", tofile="nachher", lineterm="", n=1,
    ))


def _text_lines(text: str) -> list[str]:
    """One sentence per line, so a changed sentence shows alone and not the whole paragraph."""
    lines: list[str] = []
    for line in text.strip().splitlines():
        lines.extend(part for part in _SENTENCE_END.split(line.strip()) if part)
    return lines


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, prefix=f"{path}."))
        else:
            flat[path] = value
    return flat


# --------------------------------------------------------------------------- model walking


def _field_info(model: type[BaseModel], path: str) -> FieldInfo:
    current: type[BaseModel] | None = model
    info: FieldInfo | None = None
    for name in path.split("."):
        if current is None or name not in current.model_fields:
            raise LookupError(
                f"Das Feld „{path}“ gibt es in {_model_title(model)} nicht. Vorhanden: "
                + ", ".join(h.path for h in describe_fields(model))
            )
        info = current.model_fields[name]
        current = _nested_model(info.annotation)
    assert info is not None
    return info


def _leaves(model: type[BaseModel], prefix: str, group: str) -> list[FieldHelp]:
    leaves = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        nested = _nested_model(info.annotation)
        if nested is not None:
            leaves.extend(_leaves(nested, prefix=f"{path}.", group=info.title or name))
        else:
            leaves.append(FieldHelp(path, info.title or "", info.description or "", group))
    return leaves


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    for arg in _union_members(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _union_members(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def _model_title(model: type[BaseModel]) -> str:
    title = model.model_config.get("title")
    return f"„{title}“" if title else model.__name__
