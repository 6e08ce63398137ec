"""Mediopunkt splits for long German compounds ("Bürgeramt" → "Bürger·amt").

Built on compound-split's n-gram scores and its German word list (as pipelines.german is),
but keeping the positions in the word, so the split reads exactly like the original letters.
"""

from __future__ import annotations

from functools import lru_cache

from compound_split import char_split

from pipelines.german import _known, _lexicon  # the shared German word list and glue rules

MEDIOPUNKT = "·"
MIN_PART = 3
MIN_SCORE = -1.0
SHORT_WORD_MIN_SCORE = 0.3
LONG_WORD = 12
_NOT_A_PART = frozenset(
    "ung ungen der den dem des die das ern er en heit keit schaft lich lern ler lers lerin "
    "lerinnen ner nern erin innen".split()
)
_SUFFIXES = ("ung", "ungen", "heit", "keit", "schaft", "nis")
# Three-letter parts are only taken when they are one of these nouns ("Bürger·amt",
# "Rat·haus"), so "Kranken" does not become "Kran·ken".
_SHORT_PARTS = frozenset(
    "amt amts weg tag tags bad bus rat rats hof ort zug bau tor see art eis not tat akt rad tür "
    "arzt uhr ufer tee gas öl ohr kuh huhn".split()
)
# Prefix derivations are one word, not a compound: "Unterlagen", "Vorschrift", "Ausweis".
_PREFIXES = frozenset(
    "ab an auf aus bei ein mit nach vor zu zur unter über durch gegen hinter wider um "
    "her hin vorder ober außer inner wieder voraus zurück zusammen heraus hinaus herein "
    "hinein entgegen gegenüber fort weiter vorbei".split()
)
_GLUES = ("es", "s", "n", "en", "e", "er")


def _derived_known(lowered: str) -> bool:
    """The word list lacks many derived nouns: "belehrung" counts when "belehren" is known."""
    for suffix in _SUFFIXES:
        if lowered.endswith(suffix) and len(lowered) > len(suffix) + 2:
            stem = lowered[: -len(suffix)]
            if stem + "en" in _lexicon() or stem + "n" in _lexicon() or stem in _lexicon():
                return True
    return False


def _head_known(head: str) -> bool:
    lowered = head.lower()
    if len(lowered) <= MIN_PART and lowered not in _SHORT_PARTS:
        return False
    if lowered in _PREFIXES:
        return False
    if _known(head):
        return True
    return _derived_known(lowered) or any(
        lowered.endswith(glue) and _derived_known(lowered[: -len(glue)]) for glue in _GLUES
    )


def _tail_known(tail: str) -> bool:
    lowered = tail.lower()
    if len(lowered) <= MIN_PART and lowered not in _SHORT_PARTS:
        return False
    if lowered in _lexicon():
        return True
    return _derived_known(lowered)


@lru_cache(maxsize=50_000)
def compound_split_points(word: str) -> tuple[int, ...]:
    """Positions inside `word` where its parts meet; () when it is not a clear compound."""
    if len(word) < 2 * MIN_PART or not word.isalpha():
        return ()
    # Short words need a confident split ("Doku|mente" scores -0.16, "Bürger|amt" 0.82);
    # long ones often score low even when right ("Melde|bescheinigung" -0.93).
    min_score = MIN_SCORE if len(word) >= LONG_WORD else SHORT_WORD_MIN_SCORE
    for score, head, tail in char_split.split_compound(word)[:4]:
        if score < min_score:
            break
        cut = len(head)
        if (
            len(head) < MIN_PART
            or len(tail) < MIN_PART
            or head.lower() != word[:cut].lower()
            or tail.lower() in _NOT_A_PART
            or head.lower() in _NOT_A_PART
        ):
            continue
        head_points = compound_split_points(word[:cut])
        tail_points = compound_split_points(word[cut:])
        if head.lower() in _PREFIXES:
            continue
        head_ok = _head_known(head) or bool(head_points)
        tail_ok = _tail_known(tail) or bool(tail_points)
        if head_ok and tail_ok:
            return (*head_points, cut, *(cut + p for p in tail_points))
    return ()


def mediopunkt(word: str) -> str | None:
    """`word` with Mediopunkts between its parts ("Bürger·amt"), or None if not split."""
    points = compound_split_points(word)
    if not points:
        return None
    pieces = []
    previous = 0
    for point in (*points, len(word)):
        pieces.append(word[previous:point])
        previous = point
    return MEDIOPUNKT.join(pieces)
