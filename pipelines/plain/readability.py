"""German readability: Flesch reading ease (Amstad), Wiener Sachtextformel, LIX.

Formulas and constants as in ../shared/data/readability-de/FORMULAS.md (textstat's German
configuration; Bamberger & Vanecek 1984 for the Wiener Sachtextformel). Syllables come from
pyphen's de_DE hyphenation dictionary: hyphenation points + 1, where a piece without a vowel
("Bür-ge-r-amt") is joined to its neighbour, because a syllable needs a vowel.

Counting conventions (stated, so the numbers can be checked by hand):
- a word is a run of letters (inner hyphens and the Mediopunkt keep it one word) or a number;
- a number ("2026", "15.", "1.250,50") is one word of one syllable and never a long word;
- a known abbreviation ("z. B.", "Nr.") is one word with the syllables of what it stands
  for and never a long word;
- a long word has more than 6 letters (LIX and the Wiener Sachtextformel "IW").
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import pyphen

from pipelines.plain.abbreviations import compiled_abbreviations
from pipelines.plain.errors import PlainLanguageError
from pipelines.plain.text import letters, sentence_spans, word_spans

LONG_WORD_MIN_LETTERS = 7
VOWELS = frozenset("aeiouyäöüAEIOUYÄÖÜéèêáàâóòôíìîúùû")


@lru_cache(maxsize=1)
def _hyphenator() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="de_DE")


@lru_cache(maxsize=100_000)
def syllables(word: str) -> int:
    """Syllables of one word (≥ 1): pyphen points + 1, vowel-less pieces merged."""
    total = 0
    for part in re.split(r"[-·'’]", word):
        if not part:
            continue
        if part.isdigit() or not any(ch.isalpha() for ch in part):
            total += 1
            continue
        pieces = _hyphenator().inserted(part, hyphen="\x00").split("\x00")
        with_vowel = sum(1 for piece in pieces if any(ch in VOWELS for ch in piece))
        total += max(1, with_vowel)
    return max(1, total)


@dataclass(frozen=True)
class Readability:
    """Counts, the three formulas and what they mean, for one text."""

    sentences: int
    words: int
    syllables: int
    letters: int
    long_words: int  # > 6 letters
    polysyllables: int  # ≥ 3 syllables
    monosyllables: int  # exactly 1 syllable
    avg_sentence_length: float  # words per sentence (ASL)
    avg_syllables_per_word: float  # ASW
    flesch_amstad: float
    wiener_sachtextformel: float  # 1. nWS
    wiener_sachtextformel_2: float
    wiener_sachtextformel_3: float
    wiener_sachtextformel_4: float
    lix: float
    flesch_label: str
    wiener_label: str
    lix_label: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _words_with_abbreviations(text: str) -> list[tuple[str, int, int, bool]]:
    """(word, syllables, letters, is_number_or_abbreviation) for every word of `text`."""
    spans: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for abbreviation, pattern in compiled_abbreviations():
        for match in pattern.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            taken.append((match.start(), match.end()))
            spans.append((match.start(), match.end(), abbreviation.expansion))
    result: list[tuple[str, int, int, bool]] = []
    for _start, _end, expansion in spans:
        result.append((expansion, sum(syllables(w) for w in expansion.split()), 0, True))
    for span in word_spans(text):
        if any(s <= span.start < e for s, e in taken):
            continue
        if span.text[0].isdigit():
            result.append((span.text, 1, 0, True))
        else:
            result.append((span.text, syllables(span.text), letters(span.text), False))
    return result


def flesch_label(value: float) -> str:
    for limit, label in ((90, "sehr leicht"), (80, "leicht"), (70, "eher leicht"),
                         (60, "mittel"), (50, "eher schwer"), (30, "schwer")):
        if value >= limit:
            return label
    return "sehr schwer"


def wiener_label(value: float) -> str:
    grade = max(4, min(15, round(value)))
    for limit, label in ((5, "sehr leicht"), (7, "leicht"), (10, "mittel"), (12, "schwer")):
        if value <= limit:
            return f"{label} (etwa Schulstufe {grade})"
    return f"sehr schwer (etwa Schulstufe {grade})"


def lix_label(value: float) -> str:
    for limit, label in ((30, "sehr leicht"), (40, "leicht"), (50, "mittel"), (60, "schwer")):
        if value < limit:
            return label
    return "sehr schwer"


def readability(text: str) -> Readability:
    """Readability of German `text`; PlainLanguageError when it has no words."""
    sentences = sentence_spans(text)
    words = _words_with_abbreviations(text)
    if not sentences or not words:
        raise PlainLanguageError("Der Text enthält keine Wörter; die Lesbarkeit ist nicht messbar.")
    n_words = len(words)
    n_sentences = len(sentences)
    n_syllables = sum(s for _, s, _, _ in words)
    n_letters = sum(n for _, _, n, _ in words)
    long_words = sum(1 for _, _, n, _ in words if n >= LONG_WORD_MIN_LETTERS)
    poly = sum(1 for _, s, _, _ in words if s >= 3)
    mono = sum(1 for _, s, _, _ in words if s == 1)
    asl = n_words / n_sentences
    asw = n_syllables / n_words
    ms = 100.0 * poly / n_words
    iw = 100.0 * long_words / n_words
    es = 100.0 * mono / n_words
    fre = 180.0 - asl - 58.5 * asw
    wstf1 = 0.1935 * ms + 0.1672 * asl + 0.1297 * iw - 0.0327 * es - 0.875
    wstf2 = 0.2007 * ms + 0.1682 * asl + 0.1373 * iw - 2.779
    wstf3 = 0.2963 * ms + 0.1905 * asl - 1.1144
    wstf4 = 0.2744 * ms + 0.2656 * asl - 1.693
    lix = asl + iw
    return Readability(
        sentences=n_sentences, words=n_words, syllables=n_syllables, letters=n_letters,
        long_words=long_words, polysyllables=poly, monosyllables=mono,
        avg_sentence_length=asl, avg_syllables_per_word=asw,
        flesch_amstad=fre, wiener_sachtextformel=wstf1, wiener_sachtextformel_2=wstf2,
        wiener_sachtextformel_3=wstf3, wiener_sachtextformel_4=wstf4, lix=lix,
        flesch_label=flesch_label(fre), wiener_label=wiener_label(wstf1),
        lix_label=lix_label(lix),
    )
