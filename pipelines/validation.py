"""pydantic validation errors in German, naming the field, for forms, YAML import and the CLI."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

# Messages for pydantic's error types; {ctx} keys come from the error's context.
_MESSAGES = {
    "extra_forbidden": "unbekanntes Feld – in einer Bot-Beschreibung nicht vorgesehen",
    "missing": "fehlt (Pflichtfeld)",
    "string_type": "muss ein Text sein",
    "string_too_short": "ist zu kurz (mindestens {min_length} Zeichen)",
    "string_too_long": "ist zu lang (höchstens {max_length} Zeichen)",
    "int_parsing": "muss eine ganze Zahl sein",
    "int_type": "muss eine ganze Zahl sein",
    "int_from_float": "muss eine ganze Zahl sein",
    "float_parsing": "muss eine Zahl sein",
    "float_type": "muss eine Zahl sein",
    "bool_parsing": "muss ja oder nein sein",
    "bool_type": "muss ja oder nein sein",
    "greater_than_equal": "muss mindestens {ge} sein",
    "greater_than": "muss größer als {gt} sein",
    "less_than_equal": "darf höchstens {le} sein",
    "less_than": "muss kleiner als {lt} sein",
    "literal_error": "muss einer dieser Werte sein: {expected}",
    "list_type": "muss eine Liste sein",
    "dict_type": "muss eine Zuordnung (Feld: Wert) sein",
    "model_type": "muss eine Zuordnung (Feld: Wert) sein",
    "too_short": "braucht mindestens {min_length} Einträge",
    "too_long": "darf höchstens {max_length} Einträge haben",
    "url_parsing": "ist keine gültige Adresse (URL)",
}


def german_error_lines(exc: ValidationError) -> list[str]:
    """One German line per error: 'Feld „retrieval.top_k“: darf höchstens 20 sein'."""
    lines = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "Eintrag"
        lines.append(f"Feld „{location}“: {_message(error)}")
    return lines


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "value_error":  # our own validators already speak German
        return str(error["msg"]).removeprefix("Value error, ")
    template = _MESSAGES.get(kind)
    if template is None:
        return f"ungültiger Wert ({error['msg']})"
    context = {key: _plain(value) for key, value in (error.get("ctx") or {}).items()}
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return template


def _plain(value: Any) -> str:
    text = str(value)
    return text.replace("'", "")
