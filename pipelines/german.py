"""German text helpers: tokens, stems, compound splitting, sentences.

The full-text index stems German but does not split compounds, so "Steuer für meinen Hund"
would miss "Hundesteuer". We append the parts of each compound to a search-only column (and to
the query), using compound-split's n-gram model of German plus a score cut-off.
"""

from __future__ import annotations

import pkgutil
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
# Splits into two known words are taken down to this score ("Melde|Bescheinigung": -0.93).
LOWEST_SPLIT_SCORE = -1.0

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
    ich möchte brauche mich dich mir dir euch""".split()
)

_stemmer = snowballstemmer.stemmer("german")


def german_number(value: float, decimals: int = 0, grouping: bool = True) -> str:
    """A number in German notation: 1.234,50 (points group thousands, comma for decimals)."""
    text = f"{value:{',' if grouping else ''}.{decimals}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word.lower()))


# Derivational endings and function words that char_split likes to cut off as a "tail"
# ("Reinig|ung", "Kalen|der"); they are never the head word of a compound.
_NOT_A_TAIL = frozenset("ung ungen der den dem des die das ern er en heit keit schaft".split())
# Linking elements between the parts of a compound ("Hund|e|steuer", "Gesundheit|s|amt").
_GLUES = ("ens", "en", "er", "es", "e", "n", "s")


@lru_cache(maxsize=1)
def _lexicon() -> frozenset[str]:
    """Known German words (lower case) from the hunspell list that ships with compound-split."""
    words_: set[str] = set()
    for name in ("dicts/de-mixed.dic", "dicts/de-misc.dic"):
        data = pkgutil.get_data("compound_split", name) or b""
        for line in data.decode("utf-8").splitlines():
            if line and not line.startswith("#"):
                words_.add(line.strip().lower())
    return frozenset(words_)


def _known(part: str) -> bool:
    """Whether `part` is a known word, with or without a linking element."""
    lexicon = _lexicon()
    lowered = part.lower()
    if lowered in lexicon:
        return True
    return any(
        lowered.endswith(glue) and len(lowered) - len(glue) >= MIN_PART_LENGTH
        and lowered[: -len(glue)] in lexicon
        for glue in _GLUES
    )


@lru_cache(maxsize=200_000)
def compound_parts(word: str) -> tuple[str, ...]:
    """The parts of a German compound, recursively; () when the word is not one.

    char_split proposes splits scored by n-gram statistics; a split is taken when both parts
    are known words (or split further), or when the head is known and the score is high
    enough. A word that is itself in the lexicon is split only into two known words, and
    derivational endings are never a part, so "Bescheinigung" is not "Besch|Einigung" and
    "Reinigung" not "Reinig|ung".
    """
    if "-" in word:
        return tuple(p for p in word.split("-") if len(p) >= MIN_PART_LENGTH)
    if len(word) < MIN_COMPOUND_LENGTH:
        return ()
    known_word = word.lower() in _lexicon()
    for score, head, tail in char_split.split_compound(word.capitalize())[:3]:
        if score < LOWEST_SPLIT_SCORE:
            break
        if (
            len(head) < MIN_PART_LENGTH
            or len(tail) < MIN_PART_LENGTH
            or tail.lower() in _NOT_A_TAIL
        ):
            continue
        head_parts, tail_parts = compound_parts(head), compound_parts(tail)
        head_ok = _known(head) or bool(head_parts)
        tail_ok = tail.lower() in _lexicon() or bool(tail_parts)
        # The lexicon lacks many -ung nouns ("Anmeldung"), so a known head may carry an unknown
        # tail when char_split is confident; a short head needs a clearly positive score
        # ("Ehe|Schließung" yes, "Gen|Ehmigung" no).
        head_only = (
            not known_word
            and head_ok
            and score >= SPLIT_SCORE_CUTOFF
            and (score >= 0 or len(head) >= 5)
        )
        if (head_ok and tail_ok) or head_only:
            parts = [head.lower(), *head_parts, tail.lower(), *tail_parts]
            return tuple(dict.fromkeys(parts))
    return ()


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
    "bzw ca nr abs art str tel inkl ggf evtl usw vgl dr prof hr gem lt max min mind st "
    "jan feb mrz apr jun jul aug sep sept okt nov dez zzgl ff".split()
)
# Weekdays count only capitalised: "Mo. bis Fr." but "Das war schon immer so."
_CASED_ABBREVIATIONS = frozenset("Mo Di Mi Do Fr Sa So".split())
# Ordinals ("15. Februar", "3. Stock") have at most three digits; "… ab 2027." ends a sentence.
_MAX_ORDINAL_DIGITS = 3
_SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][“\"»)]))\s+(?=[\"„»(]?[A-ZÄÖÜ0-9§])")


def _ends_with_abbreviation(candidate: str) -> bool:
    candidate = candidate.rstrip("“\"»)")
    if not candidate.endswith("."):
        return False
    last = candidate.rsplit(" ", 1)[-1].rstrip(".").lstrip("([{„“\"'»«")
    core = last.split(".")[-1]
    return (
        core.lower() in _ABBREVIATIONS
        or core in _CASED_ABBREVIATIONS
        or (len(core) == 1 and core.isalpha())
        or (core.isdigit() and len(core) <= _MAX_ORDINAL_DIGITS)
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
