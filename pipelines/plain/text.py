"""Sentences and words of German text with their character positions.

Everything the rule checker reports points into the text it was given, so the splitting here
never normalises whitespace (unlike `pipelines.german.split_sentences`, which is for search).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A word: letters (with inner hyphens, apostrophes or the Mediopunkt "Bürger·amt"), or a number
# such as "2026", "1.250,50" or "15." (an ordinal keeps its period).
WORD_RE = re.compile(
    r"[^\W\d_]+(?:[-·'’][^\W\d_]+)*"
    r"|\d+(?:[.,]\d+)*"
)
# Abbreviations after which a period ends no sentence; single letters ("z. B.") by rule.
NON_FINAL_ABBREVIATIONS = frozenset(
    "bzw ca nr abs art str tel inkl ggf evtl usw vgl dr prof hr fr gem lt max min mind st "
    "jan feb mrz apr jun jul aug sep sept okt nov dez zzgl abzgl ff bzgl sog ua uu od "
    "allg mio mrd ausg bd gegr jh jhd".split()
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"“”»)]*(?=\s|$)|\n\s*\n|\n(?=\s*[-•*–]\s)|:(?=\s*\n)")
MAX_ORDINAL_DIGITS = 3


@dataclass(frozen=True)
class Span:
    """A piece of the text: `text == source[start:end]`."""

    text: str
    start: int
    end: int


def _ends_with_abbreviation(text: str, period_at: int) -> bool:
    """Whether the period at `period_at` belongs to an abbreviation or ordinal."""
    before = text[:period_at]
    match = re.search(r"([^\s(\[„\"»]+)$", before)
    if not match:
        return False
    last = match.group(1)
    core = last.split(".")[-1]
    if "." in last and all(len(part) <= 2 for part in last.split(".")):
        return True  # "z.B", "d.h", "i.d.R"
    if core.lower() in NON_FINAL_ABBREVIATIONS:
        return True
    if len(core) == 1 and core.isalpha():
        return True
    if core.isdigit() and len(core) <= MAX_ORDINAL_DIGITS:
        # "am 15. Mai" is an ordinal, but "… im Jahr 3." would be rare; a digit run followed
        # by a lowercase word or a month keeps going.
        after = text[period_at + 1 :].lstrip()
        return bool(after) and (after[0].islower() or after.split(" ", 1)[0][:3] in _MONTHS)
    return False


_MONTHS = frozenset("Jan Feb Mär Apr Mai Jun Jul Aug Sep Okt Nov Dez".split())


def sentence_spans(text: str) -> list[Span]:
    """Sentences with positions; blank lines and line-final colons also end a sentence."""
    spans: list[Span] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        mark = match.group(0)
        if mark.startswith(".") and len(mark.rstrip("\"“”»)")) == 1 and _ends_with_abbreviation(
            text, match.start()
        ):
            continue
        end = match.end() if not mark.isspace() else match.start()
        _add_span(text, start, end, spans)
        start = match.end()
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[Span]) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped or not WORD_RE.search(stripped):
        return
    offset = start + (len(piece) - len(piece.lstrip()))
    spans.append(Span(stripped, offset, offset + len(stripped)))


def word_spans(text: str, offset: int = 0) -> list[Span]:
    """Words and numbers of `text`, positions shifted by `offset`."""
    return [Span(m.group(0), m.start() + offset, m.end() + offset) for m in WORD_RE.finditer(text)]


def letters(word: str) -> int:
    return sum(1 for ch in word if ch.isalpha())
