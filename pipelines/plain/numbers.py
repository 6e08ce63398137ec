"""German number words ("drei", "einundzwanzig", "zweitausendsechsundzwanzig", "dritte")."""

from __future__ import annotations

_UNITS = {
    "ein": 1, "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6,
    "sieben": 7, "acht": 8, "neun": 9,
}
_TEENS = {
    "zehn": 10, "elf": 11, "zwölf": 12, "dreizehn": 13, "vierzehn": 14, "fünfzehn": 15,
    "sechzehn": 16, "siebzehn": 17, "achtzehn": 18, "neunzehn": 19,
}
_TENS = {
    "zwanzig": 20, "dreißig": 30, "vierzig": 40, "fünfzig": 50, "sechzig": 60,
    "siebzig": 70, "achtzig": 80, "neunzig": 90,
}
# Ordinal stems: "erste", "dritte", "siebte"/"siebente", "achte", then "-te" up to 19 and
# "-ste" from 20 ("zwanzigste", "hundertste").
_ORDINAL_IRREGULAR = {"erst": 1, "dritt": 3, "siebt": 7, "siebent": 7, "acht": 8}
_ORDINAL_ENDINGS = ("e", "en", "er", "es", "em")


def _below_hundred(word: str) -> int | None:
    if word in _UNITS and word != "ein":
        return _UNITS[word]
    if word in _TEENS:
        return _TEENS[word]
    if word in _TENS:
        return _TENS[word]
    if "und" in word:
        unit, _, tens = word.partition("und")
        if unit in _UNITS and tens in _TENS:
            return _UNITS[unit] + _TENS[tens]
    return None


def _below_thousand(word: str) -> int | None:
    if not word:
        return 0
    if "hundert" in word:
        head, _, rest = word.partition("hundert")
        if head in ("", "ein"):
            factor = 1
        else:
            factor_or_none = _below_hundred(head)
            # "neunzehnhundertneunzig": years say hundreds up to 99.
            if factor_or_none is None:
                return None
            factor = factor_or_none
        if rest.startswith("und"):
            rest = rest[3:]
        tail = _below_hundred(rest) if rest else 0
        return None if tail is None else factor * 100 + tail
    return _below_hundred(word)


def parse_cardinal(word: str) -> int | None:
    """The value of a German cardinal number word, or None ("ein" alone is an article)."""
    word = word.lower()
    if word in ("ein", "eine", "einen", "einer", "einem", "eines"):
        return None
    if "tausend" in word:
        head, _, rest = word.partition("tausend")
        if head in ("", "ein"):
            factor: int | None = 1
        else:
            factor = _below_thousand(head)
        if factor is None or factor == 0:
            return None
        if rest.startswith("und"):
            rest = rest[3:]
        tail = _below_thousand(rest)
        return None if tail is None else factor * 1000 + tail
    value = _below_thousand(word)
    return value if value else None


def parse_ordinal(word: str) -> int | None:
    """The value of an ordinal number word ("dritte", "zwanzigsten"), or None."""
    lowered = word.lower()
    for ending in sorted(_ORDINAL_ENDINGS, key=len, reverse=True):
        if not lowered.endswith(ending):
            continue
        stem = lowered[: -len(ending)]
        if stem in _ORDINAL_IRREGULAR:
            return _ORDINAL_IRREGULAR[stem]
        if stem.endswith("st"):
            value = parse_cardinal(stem[:-2])
            if value is not None and value >= 20:
                return value
        if stem.endswith("t"):
            value = parse_cardinal(stem[:-1])
            if value is not None and 2 <= value < 20 and value != 3 and value != 7:
                return value
    return None
