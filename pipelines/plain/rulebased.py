"""Offline simplification by rules: no language model, so it only does what rules can do
safely, and says so.

What it does, in this order:
1. abbreviations written out ("z. B." → "zum Beispiel");
2. glossary terms: replaced where the glossary marks the replacement as a drop-in
   ("entrichten" → "bezahlen"); other terms are explained – for Leichte Sprache in a short
   sentence after the sentence, for Einfache Sprache in brackets after the first use;
3. numbers as digits ("drei" → "3", "am dritten Mai" → "am 3. Mai");
4. long sentences split at conjunctions, with the verb moved where German needs it
   ("…, sodass Sie den Antrag neu stellen müssen." → "… Deshalb müssen Sie den Antrag neu
   stellen."); a sentence that no rule can split safely stays as it is;
5. Leichte Sprache only: long compounds get a Mediopunkt ("Bürger·amt").
It does not turn passive into active, remove negations or rewrite nominal style: those need
an understanding of the sentence, and the checker still reports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.german import _lexicon  # the shared German word list
from pipelines.plain.compounds import mediopunkt
from pipelines.plain.rules import (
    MAX_SENTENCE_WORDS,
    Target,
    abbreviation_matches,
    is_long_compound,
    jargon_matches,
    number_words,
)
from pipelines.plain.text import sentence_spans, word_spans


@dataclass(frozen=True)
class Change:
    """One edit of the offline simplification, for showing what was done."""

    rule: str  # "abbreviation" | "jargon" | "number_word" | "sentence_split" | "long_compound"
    before: str
    after: str


_Edit = tuple[int, int, str, str]  # start, end, replacement, rule


def _apply(text: str, edits: list[_Edit], changes: list[Change]) -> str:
    kept: list[_Edit] = []
    for edit in sorted(edits, key=lambda e: (e[0], e[1])):
        if kept and edit[0] < kept[-1][1]:
            continue  # overlapping edits: the earlier one wins
        kept.append(edit)
    for start, end, replacement, rule in reversed(kept):
        changes.append(Change(rule, text[start:end], replacement))
        text = text[:start] + replacement + text[end:]
    changes.reverse()
    return text


def _word_edits(text: str, target: Target) -> list[_Edit]:
    edits: list[_Edit] = []
    for start, end, abbreviation in abbreviation_matches(text):
        edits.append((start, end, abbreviation.plain, "abbreviation"))
    explained: set[str] = set()
    sentences = sentence_spans(text)
    for start, end, entry in jargon_matches(text):
        matched = text[start:end]
        replacement = entry.replacement_for(matched)
        if replacement is not None:
            if start == 0 or _starts_sentence(text, start):
                replacement = replacement[:1].upper() + replacement[1:]
            edits.append((start, end, replacement, "jargon"))
            continue
        if entry.term in explained or not matched[:1].isupper():
            continue  # verbs and prepositions without a drop-in replacement stay
        explained.add(entry.term)
        sentence = next((s for s in sentences if s.start <= start < s.end), None)
        bracket = f" ({entry.replacement})"
        fits = sentence is not None and (
            _words(sentence.text) + _words(bracket) <= MAX_SENTENCE_WORDS[target])
        if target == "einfach" and fits:
            edits.append((end, end, bracket, "jargon"))
        else:
            # Leichte Sprache explains a hard word in a sentence of its own; so does
            # Einfache Sprache when brackets would make the sentence too long.
            sentence_end = sentence.end if sentence is not None else end
            note = f" „{matched}“ heißt: {entry.replacement}."
            edits.append((sentence_end, sentence_end, note, "jargon"))
    for start, end, digits in number_words(text):
        edits.append((start, end, digits, "number_word"))
    return edits


def _starts_sentence(text: str, position: int) -> bool:
    before = text[:position].rstrip()
    return not before or before[-1] in ".!?:\n"


# --------------------------------------------------------------------------- sentence splits

_PRONOUNS = frozenset("ich du er sie es wir ihr man".split()) | {"Sie"}
_SEPARABLE_PREFIXES = sorted(
    "ab an auf aus bei ein fest frei her hin los mit nach vor weg zu zurück zusammen dar "
    "statt teil vorbei weiter heraus herein hinaus hinein heran voran voraus um durch".split(),
    key=len, reverse=True,
)
_TRAILING = re.compile(
    r",\s+(weil|da|sodass|so dass|damit|wenn|falls|obwohl|nachdem|bevor|sobald)\s+"
)
_LEADING = re.compile(r"^(Wenn|Falls|Sobald|Weil|Da|Nachdem|Obwohl)\s+")
_COORDINATING = re.compile(r",\s+(und|aber|oder|denn|doch)\s+")
_ELLIPTIC_START = re.compile(
    r"(?:auch|nur|nicht|noch|eher|vor allem|besonders|vielleicht|zum Beispiel|so wie|wie)\b")
_BARE_UND = re.compile(r"\s(und)\s+(?=(?:ich|wir|Sie|man|dann|danach|deshalb|außerdem)\s)")


def _words(text: str) -> int:
    return len(word_spans(text))


def _finite_verb_v2(verb: str) -> tuple[str, str]:
    """A verb-final finite verb in second position: "abgeben" → ("geben", "ab")."""
    lowered = verb.lower()
    for prefix in _SEPARABLE_PREFIXES:
        rest = lowered[len(prefix):]
        if lowered.startswith(prefix) and len(rest) >= 4 and rest in _lexicon():
            return verb[len(prefix):], verb[: len(prefix)]
    return verb, ""


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _end_mark(sentence: str) -> tuple[str, str]:
    stripped = sentence.rstrip()
    if stripped and stripped[-1] in ".!?":
        return stripped[:-1].rstrip(), stripped[-1]
    return stripped, "."


def _verb_final_clause(body: str) -> tuple[list[str], str] | None:
    """(words before the finite verb, finite verb) of a verb-final clause without commas."""
    if "," in body or ";" in body:
        return None
    tokens = body.split()
    if len(tokens) < 2:
        return None
    verb = tokens[-1]
    if not verb.isalpha() or not verb.islower():
        return None
    return tokens[:-1], verb


def _v2(opening: str, middle: list[str], verb: str) -> str:
    finite, particle = _finite_verb_v2(verb)
    words = [opening, finite, *middle] + ([particle] if particle else [])
    return " ".join(words)


def _split_trailing(head: str, conj: str, body: str, mark: str) -> list[str] | None:
    clause = _verb_final_clause(body)
    if clause is None:
        return None
    middle, verb = clause
    first = f"{head}{mark}"
    if conj in ("weil", "da"):
        if middle[0] in _PRONOUNS and conj == "weil" or (conj == "da" and middle[0] in _PRONOUNS):
            finite, particle = _finite_verb_v2(verb)
            rest = [*middle[1:]] + ([particle] if particle else [])
            return [first, " ".join(["Denn", middle[0], finite, *rest]) + "."]
        if conj == "da":
            return None
        return [first, f"Das ist so, weil {body}."]
    if conj in ("sodass", "so dass"):
        return [first, _v2("Deshalb", middle, verb) + "."]
    if conj == "damit":
        return [first, _v2("So", middle, verb) + "."]
    if conj == "bevor":
        return [first, _v2("Danach", middle, verb) + "."]
    if conj == "nachdem":
        return [first, _v2("Vorher", middle, verb) + "."]
    return [first, f"Das gilt, {conj} {body}."]


def _split_leading(conj: str, body: str, main: str, mark: str) -> list[str] | None:
    clause = _verb_final_clause(body)
    main_words = main.split()
    if clause is None or not main_words or not main_words[0].islower():
        return None
    middle, verb = clause
    if main_words[0] in ("dann", "so"):
        main_words = main_words[1:]
    if not main_words:
        return None
    rest = " ".join(main_words)
    lowered = conj.lower()
    if lowered in ("wenn", "falls"):
        finite, particle = _finite_verb_v2(verb)
        question = " ".join([_capitalise(finite), *middle] + ([particle] if particle else []))
        return [question + "?", f"Dann {rest}{mark}"]
    if middle[0] not in _PRONOUNS:
        return None
    finite, particle = _finite_verb_v2(verb)
    statement = " ".join([_capitalise(middle[0]), finite, *middle[1:]]
                         + ([particle] if particle else []))
    linker = {"weil": "Deshalb", "da": "Deshalb", "obwohl": "Trotzdem"}.get(lowered, "Dann")
    return [statement + ".", f"{linker} {rest}{mark}"]


def split_sentence(sentence: str, limit: int) -> list[str]:
    """`sentence` as one or more sentences, each split only where a rule is safe."""
    if _words(sentence) <= limit:
        return [sentence]
    core, mark = _end_mark(sentence)
    parts: list[str] | None = None
    if ";" in core:
        head, _, tail = core.partition(";")
        if _words(head) >= 3 and _words(tail) >= 3:
            parts = [head.rstrip() + ".", _capitalise(tail.strip()) + mark]
    if parts is None:
        leading = _LEADING.match(core)
        if leading and "," in core:
            body, _, main = core[leading.end():].partition(",")
            parts = _split_leading(leading.group(1), body.strip(), main.strip(), mark)
    if parts is None:
        parts = _split_at(core, mark, _COORDINATING)
    if parts is None:
        for match in _TRAILING.finditer(core):
            head, body = core[: match.start()], core[match.end():]
            if _words(head) >= 3:
                parts = _split_trailing(head, match.group(1), body.strip(), mark)
                if parts:
                    break
    if parts is None:
        parts = _split_at(core, mark, _BARE_UND)
    if not parts or any(_words(p) >= _words(sentence) for p in parts):
        return [sentence]
    result: list[str] = []
    for part in parts:
        result.extend(split_sentence(part, limit))
    return result


def _split_at(core: str, mark: str, pattern: re.Pattern[str]) -> list[str] | None:
    """Split at the conjunction nearest the middle that leaves ≥ 3 words on each side."""
    total = _words(core)
    best: tuple[int, list[str]] | None = None
    for match in pattern.finditer(core):
        head, tail = core[: match.start()], core[match.end():]
        if _words(head) < 3 or _words(tail) < 3:
            continue
        if _ELLIPTIC_START.match(tail):
            continue  # ", aber auch im Bankwesen" has no verb of its own
        conjunction = match.group(1)
        # "und" starts no sentence in a plain text; "aber", "oder", "denn", "doch" do.
        opening = "" if conjunction == "und" else _capitalise(conjunction) + " "
        second = opening + (tail if opening else _capitalise_safely(tail))
        distance = abs(_words(head) - total // 2)
        if best is None or distance < best[0]:
            best = (distance, [head.rstrip() + ".", second + mark])
    return best[1] if best else None


def _capitalise_safely(text: str) -> str:
    """Capitalise a new sentence's first word; "sie" (they) would turn into "Sie" (you), so
    such a sentence starts with "Und" instead."""
    first = text.split(" ", 1)[0]
    if first == "sie":
        return "Und " + text
    return _capitalise(text)


# --------------------------------------------------------------------------- entry point


def simplify_by_rules(text: str, target: Target) -> tuple[str, list[Change]]:
    """The rule-based simplification of `text` and the list of edits made."""
    changes: list[Change] = []
    text = _apply(text, _word_edits(text, target), changes)
    limit = MAX_SENTENCE_WORDS[target]
    pieces: list[str] = []
    previous = 0
    for sentence in sentence_spans(text):
        pieces.append(text[previous : sentence.start])
        parts = split_sentence(sentence.text, limit)
        if len(parts) > 1:
            changes.append(Change("sentence_split", sentence.text, " ".join(parts)))
        pieces.append(" ".join(parts))
        previous = sentence.end
    pieces.append(text[previous:])
    text = "".join(pieces)
    if target == "leicht":
        protected = [(s, e) for s, e, _ in jargon_matches(text)]
        edits: list[_Edit] = []
        for word in word_spans(text):
            if not is_long_compound(word.text, target):
                continue
            if any(s <= word.start < e for s, e in protected):
                continue
            if text[max(0, word.start - 1) : word.start] == "„":
                continue  # an explained word keeps the spelling the reader will meet
            split = mediopunkt(word.text)
            if split:
                edits.append((word.start, word.end, split, "long_compound"))
        text = _apply(text, edits, changes)
    return text, changes
