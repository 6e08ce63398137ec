"""The Behördendeutsch glossary: data in pipelines/resources, checked and compiled here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from pipelines.plain.errors import PlainLanguageError

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
GLOSSARY_PATH = RESOURCES / "glossar_behoerdendeutsch.yaml"
_ALLOWED_KEYS = frozenset(
    {"term", "forms", "pattern", "context", "replacement", "explanation", "substitute",
     "form_replacements"}
)


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    replacement: str
    explanation: str
    forms: tuple[str, ...] = ()
    pattern: str | None = None
    context: tuple[str, ...] = ()
    substitute: bool = False
    form_replacements: dict[str, str] = field(default_factory=dict)

    def regex(self) -> re.Pattern[str]:
        """Whole-word match of the term or a form; the first letter's case is free."""
        if self.pattern:
            return re.compile(self.pattern)
        surfaces = sorted({self.term, *self.forms}, key=len, reverse=True)
        alternatives = "|".join(_free_first_letter(s) for s in surfaces)
        return re.compile(rf"(?<![\w·-])(?:{alternatives})(?![\w·-])")

    def replacement_for(self, matched: str) -> str | None:
        """What the offline simplification puts in place of `matched`; None = do not replace."""
        if not self.substitute:
            return None
        lowered = matched.lower()
        for form, replacement in self.form_replacements.items():
            if form.lower() == lowered:
                return _like_case(matched, replacement)
        if lowered == self.term.lower() or (self.pattern and not self.forms):
            return _like_case(matched, self.replacement)
        return None


def _free_first_letter(surface: str) -> str:
    words = [re.escape(w) for w in surface.split()]
    first = surface[0]
    head = f"[{re.escape(first.upper())}{re.escape(first.lower())}]" if first.isalpha() else ""
    words[0] = head + re.escape(surface.split()[0][1:]) if head else words[0]
    return r"\s+".join(words)


def _like_case(original: str, replacement: str) -> str:
    """Nouns keep their capital; a sentence-initial lowercase word keeps its capital too."""
    if original[:1].isupper() and replacement[:1].islower():
        return replacement[:1].upper() + replacement[1:]
    if original[:1].islower() and replacement[:1].isupper() and not _is_noun(replacement):
        return replacement[:1].lower() + replacement[1:]
    return replacement


def _is_noun(word: str) -> bool:
    return word[:1].isupper()


def _entry(raw: object, index: int, source: str) -> GlossaryEntry:
    where = f"{source}, Eintrag {index + 1}"
    if not isinstance(raw, dict):
        raise PlainLanguageError(f"Glossar {where}: ein Eintrag muss aus Feldern bestehen.")
    unknown = set(raw) - _ALLOWED_KEYS
    if unknown:
        raise PlainLanguageError(
            f"Glossar {where}: unbekannte Felder {', '.join(sorted(unknown))}.")
    for key in ("term", "replacement", "explanation"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise PlainLanguageError(f"Glossar {where}: das Feld „{key}“ fehlt oder ist leer.")
    forms = raw.get("forms") or []
    context = raw.get("context") or []
    form_replacements = raw.get("form_replacements") or {}
    if not isinstance(forms, list) or not all(isinstance(f, str) and f for f in forms):
        raise PlainLanguageError(f"Glossar {where}: „forms“ muss eine Liste von Wörtern sein.")
    if not isinstance(context, list) or not all(isinstance(c, str) and c for c in context):
        raise PlainLanguageError(f"Glossar {where}: „context“ muss eine Liste von Wörtern sein.")
    if not isinstance(form_replacements, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in form_replacements.items()
    ):
        raise PlainLanguageError(
            f"Glossar {where}: „form_replacements“ muss Form: Ersatz-Paare enthalten.")
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise PlainLanguageError(
                f"Glossar {where}: das Suchmuster ist ungültig ({exc}).") from exc
    return GlossaryEntry(
        term=raw["term"].strip(),
        replacement=raw["replacement"].strip(),
        explanation=raw["explanation"].strip(),
        forms=tuple(forms),
        pattern=pattern,
        context=tuple(context),
        substitute=bool(raw.get("substitute", False)),
        form_replacements=dict(form_replacements),
    )


def parse_glossary(text: str, source: str = "Glossar") -> list[GlossaryEntry]:
    """Entries of a glossary YAML text; PlainLanguageError names the entry and the reason."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlainLanguageError(f"{source} ist kein gültiges YAML ({exc}).") from exc
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise PlainLanguageError(f"{source}: es fehlt die Liste „entries“.")
    entries = [_entry(raw, i, source) for i, raw in enumerate(data["entries"])]
    seen: set[str] = set()
    for entry in entries:
        key = entry.term.lower()
        if key in seen:
            raise PlainLanguageError(f"{source}: der Begriff „{entry.term}“ steht doppelt darin.")
        seen.add(key)
    return entries


@lru_cache(maxsize=4)
def load_glossary(path: Path = GLOSSARY_PATH) -> tuple[GlossaryEntry, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlainLanguageError(f"Das Glossar {path} ist nicht lesbar ({exc}).") from exc
    return tuple(parse_glossary(text, path.name))


@lru_cache(maxsize=4)
def compiled_glossary(
    path: Path = GLOSSARY_PATH,
) -> tuple[tuple[GlossaryEntry, re.Pattern[str]], ...]:
    return tuple((entry, entry.regex()) for entry in load_glossary(path))
