"""Abbreviations common in German administrative text, with their spelled-out form."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Abbreviation:
    short: str  # as usually written, e.g. "z. B."
    expansion: str  # what it stands for, e.g. "zum Beispiel"
    plain: str  # what a plain text says instead (often the same)

    def regex(self) -> re.Pattern[str]:
        """Matches "z. B.", "z.B." and "z.  B."; case of the first letter is free."""
        pieces = [re.escape(p) for p in self.short.replace(" ", "").split(".") if p]
        body = r"\.\s?".join(pieces) + (r"\." if self.short.endswith(".") else "")
        first = body[0]
        if first.isalpha():
            body = f"[{first.upper()}{first.lower()}]" + body[1:]
        return re.compile(rf"(?<![\w.]){body}(?!\w)")


ABBREVIATIONS: tuple[Abbreviation, ...] = (
    Abbreviation("z. B.", "zum Beispiel", "zum Beispiel"),
    Abbreviation("bzw.", "beziehungsweise", "oder"),
    Abbreviation("ggf.", "gegebenenfalls", "wenn nötig"),
    Abbreviation("u. a.", "unter anderem", "unter anderem"),
    Abbreviation("d. h.", "das heißt", "das heißt"),
    Abbreviation("i. d. R.", "in der Regel", "meistens"),
    Abbreviation("i. V. m.", "in Verbindung mit", "zusammen mit"),
    Abbreviation("u. U.", "unter Umständen", "vielleicht"),
    Abbreviation("o. Ä.", "oder Ähnliches", "oder so etwas"),
    Abbreviation("o. g.", "oben genannt", "oben genannt"),
    Abbreviation("s. o.", "siehe oben", "siehe oben"),
    Abbreviation("s. u.", "siehe unten", "siehe unten"),
    Abbreviation("u. v. m.", "und vieles mehr", "und vieles mehr"),
    Abbreviation("usw.", "und so weiter", "und so weiter"),
    Abbreviation("etc.", "et cetera", "und so weiter"),
    Abbreviation("ca.", "circa", "ungefähr"),
    Abbreviation("evtl.", "eventuell", "vielleicht"),
    Abbreviation("inkl.", "inklusive", "mit"),
    Abbreviation("zzgl.", "zuzüglich", "plus"),
    Abbreviation("abzgl.", "abzüglich", "minus"),
    Abbreviation("bzgl.", "bezüglich", "zu"),
    Abbreviation("vgl.", "vergleiche", "siehe"),
    Abbreviation("gem.", "gemäß", "nach"),
    Abbreviation("lt.", "laut", "laut"),
    Abbreviation("max.", "maximal", "höchstens"),
    Abbreviation("mind.", "mindestens", "mindestens"),
    Abbreviation("min.", "mindestens", "mindestens"),
    Abbreviation("sog.", "sogenannt", "sogenannt"),
    Abbreviation("Abs.", "Absatz", "Absatz"),
    Abbreviation("Nr.", "Nummer", "Nummer"),
    Abbreviation("Art.", "Artikel", "Artikel"),
    Abbreviation("Tel.", "Telefon", "Telefon"),
    Abbreviation("Str.", "Straße", "Straße"),
    Abbreviation("Std.", "Stunde", "Stunde"),
    Abbreviation("Mio.", "Millionen", "Millionen"),
    Abbreviation("Mrd.", "Milliarden", "Milliarden"),
    Abbreviation("Hr.", "Herr", "Herr"),
    Abbreviation("Dr.", "Doktor", "Doktor"),
    Abbreviation("Jh.", "Jahrhundert", "Jahrhundert"),
    Abbreviation("allg.", "allgemein", "allgemein"),
    Abbreviation("ff.", "fortfolgende", "und die folgenden"),
)


def compiled_abbreviations() -> list[tuple[Abbreviation, re.Pattern[str]]]:
    # Longest first, so "i. d. R." wins over a stray "d." reading.
    return [(a, a.regex()) for a in sorted(ABBREVIATIONS, key=lambda a: -len(a.short))]
