"""German text helpers: tokens, stems, compound splitting, sentences.

The full-text index stems German but does not split compounds, so "Steuer für meinen Hund"
would miss "Hundesteuer". We append the parts of each compound to a search-only column (and to
the query), using compound-split's n-gram model of German plus a score cut-off.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer
from compound_split import char_split

WORD_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
MIN_COMPOUND_LENGTH = 8
MIN_PART_LENGTH = 3
# char_split scores in [-1, 1]; correct splits of municipal compounds ("Bewohner|Parkausweis",
# "Sperrmüll|Anmeldung") score down to about -0.55, wrong ones ("Meldebesch|Einigung") lower.
SPLIT_SCORE_CUTOFF = -0.6

STOPWORDS = frozenset(
    """aber alle allem allen aller alles als also am an ander andere anderem anderen anderer
    anderes auch auf aus bei bin bis bist da damit dann das dass dasselbe dazu dein deine
    deinem deinen deiner dem den denn der des dessen die dies diese diesem diesen dieser dieses
    doch dort du durch ein eine einem einen einer eines einig einige einigem einigen einiger
    er es etwas euer eure eurem euren eurer für gegen gewesen hab habe haben hat hatte hatten
    hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im in indem ins ist jede jedem
    jeden jeder jedes jene jenem jenen jener jenes jetzt kann kein keine keinem keinen keiner
    können könnte machen man manche manchem manchen mancher mein meine meinem meinen meiner mit
    muss musste nach nicht nichts noch nun nur ob oder ohne sehr sein seine seinem seinen seiner
    selbst sich sie sind so solche solchem solchen solcher soll sollte sondern sonst über um
    und uns unser unsere unter viel vom von vor während war waren warum was weg weil weiter
    welche welchem welchen welcher welches wenn werde werden wie wieder will wir wird wirst wo
    wollen wollte würde würden zu zum zur zwar zwischen wer wann wieviel wieviele gibt bitte
    ich möchte brauche""".split()
)

_stemmer = snowballstemmer.stemmer("german")


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word.lower()))


@lru_cache(maxsize=200_000)
def compound_parts(word: str) -> tuple[str, ...]:
    """The parts of a German compound, recursively; () when the word is not one."""
    if len(word) < MIN_COMPOUND_LENGTH or "-" in word:
        if "-" in word:
            return tuple(p for p in word.split("-") if len(p) >= MIN_PART_LENGTH)
        return ()
    candidates = char_split.split_compound(word.capitalize())
    if not candidates:
        return ()
    score, head, tail = candidates[0]
    if score < SPLIT_SCORE_CUTOFF or len(head) < MIN_PART_LENGTH or len(tail) < MIN_PART_LENGTH:
        return ()
    parts: list[str] = []
    for part in (head, tail):
        parts.append(part.lower())
        parts.extend(compound_parts(part))
    return tuple(dict.fromkeys(parts))


def expand_compounds(text: str) -> str:
    """`text` plus the parts of its compounds, for the search-only full-text column."""
    extra: list[str] = []
    seen: set[str] = set()
    for word in words(text):
        lowered = word.lower()
        if lowered in seen:
            continue
        seen.add(lowered)
        extra.extend(compound_parts(word))
    return f"{text}\n{' '.join(extra)}" if extra else text


def content_terms(text: str) -> set[str]:
    """Stemmed content words of `text` including compound parts, stopwords removed."""
    terms: set[str] = set()
    for word in words(text):
        lowered = word.lower()
        if lowered in STOPWORDS or len(lowered) < 2:
            continue
        terms.add(stem(lowered))
        terms.update(stem(part) for part in compound_parts(word) if part not in STOPWORDS)
    return terms


# Abbreviations after which a period does not end a sentence (single letters, as in
# "z. B." or "u. a.", and ordinals such as "15. Februar" are handled by rule).
_ABBREVIATIONS = frozenset(
    "bzw ca nr abs art str tel inkl ggf evtl usw vgl dr prof fr hr gem lt max min mind st "
    "jan feb mrz apr jun jul aug sep sept okt nov dez mo di mi do fr sa so zzgl ff".split()
)
_SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][“\"»)]))\s+(?=[\"„»(]?[A-ZÄÖÜ0-9§])")


def _ends_with_abbreviation(candidate: str) -> bool:
    candidate = candidate.rstrip("“\"»)")
    if not candidate.endswith("."):
        return False
    last = candidate.rsplit(" ", 1)[-1].rstrip(".").lstrip("([{„“\"'»«")
    core = last.split(".")[-1]
    return (
        core.lower() in _ABBREVIATIONS
        or (len(core) == 1 and core.isalpha())
        or core.isdigit()
        or "." in last  # "i.d.R." / "z.B." written without blanks
    )


def split_sentences(text: str) -> list[str]:
    """Split German prose into sentences without breaking at 'z. B.', 'Nr.', '15. Mai' etc."""
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*[-•*–]\s)", text):
        block = " ".join(block.split())
        start = 0
        for match in _SENTENCE_END.finditer(block):
            candidate = block[start : match.start()]
            if _ends_with_abbreviation(candidate):
                continue
            sentences.append(candidate.strip())
            start = match.end()
        rest = block[start:].strip()
        if rest:
            sentences.append(rest)
    return [s for s in sentences if s]
