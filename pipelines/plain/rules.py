"""Rule checker for Leichte and Einfache Sprache: every finding points into the text.

Pragmatic rules over words and sentences (no parser): each rule is written so that its
typical false alarms are known and kept rare, and the tests list positives and negatives.
Positions are character offsets into the checked text (`text[start:end] == finding.text`),
so a UI can highlight input and output alike.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pipelines.plain.abbreviations import compiled_abbreviations
from pipelines.plain.compounds import mediopunkt
from pipelines.plain.glossary import compiled_glossary
from pipelines.plain.numbers import parse_cardinal, parse_ordinal
from pipelines.plain.readability import syllables
from pipelines.plain.text import Span, letters, sentence_spans, word_spans

Target = Literal["leicht", "einfach"]
Severity = Literal["error", "warning", "info"]
TARGETS: tuple[Target, ...] = ("leicht", "einfach")
TARGET_NAMES: dict[str, str] = {"leicht": "Leichte Sprache", "einfach": "Einfache Sprache"}
SEVERITY_LABELS: dict[str, str] = {"error": "Verstoß", "warning": "Warnung", "info": "Hinweis"}

RULE_NAMES: dict[str, str] = {
    "sentence_length": "Satzlänge",
    "passive": "Passiv",
    "subjunctive": "Konjunktiv",
    "negation": "Verneinung",
    "genitive": "Genitiv",
    "nominal_style": "Nominalstil",
    "long_compound": "Langes Wort",
    "abbreviation": "Abkürzung",
    "number_word": "Zahl als Wort",
    "jargon": "Amtsdeutsch",
}
RULES: tuple[str, ...] = tuple(RULE_NAMES)

# Words per sentence above which a sentence is flagged.
MAX_SENTENCE_WORDS: dict[str, int] = {"leicht": 15, "einfach": 20}

_SEVERITY: dict[str, dict[str, Severity]] = {
    "leicht": {
        "sentence_length": "error", "passive": "error", "subjunctive": "error",
        "negation": "warning", "genitive": "error", "nominal_style": "warning",
        "long_compound": "warning", "abbreviation": "error", "number_word": "error",
        "jargon": "error",
    },
    "einfach": {
        "sentence_length": "error", "passive": "warning", "subjunctive": "warning",
        "negation": "info", "genitive": "info", "nominal_style": "warning",
        "long_compound": "info", "abbreviation": "warning", "number_word": "info",
        "jargon": "error",
    },
}


@dataclass(frozen=True)
class Finding:
    """One rule violation; `text == checked_text[start:end]`."""

    rule: str  # id, see RULES
    name: str  # German rule name
    message: str  # German, what is wrong
    suggestion: str  # German, what to write instead
    start: int
    end: int
    text: str
    severity: Severity

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckResult:
    text: str
    target: Target
    findings: list[Finding] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Findings per rule id, every rule listed (0 when clean)."""
        counted = Counter(f.rule for f in self.findings)
        return {rule: counted.get(rule, 0) for rule in RULES}

    @property
    def severe(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "counts": self.counts,
                "findings": [f.to_dict() for f in self.findings]}


class _Context:
    """What every rule needs: the text, its sentences, its words, the target."""

    def __init__(self, text: str, target: Target) -> None:
        self.text = text
        self.target = target
        self.sentences = sentence_spans(text)
        self.words = word_spans(text)
        self._sentence_starts = [s.start for s in self.sentences]
        self._word_starts = [w.start for w in self.words]

    def finding(self, rule: str, start: int, end: int, message: str, suggestion: str,
                severity: Severity | None = None) -> Finding:
        return Finding(rule, RULE_NAMES[rule], message, suggestion, start, end,
                       self.text[start:end], severity or _SEVERITY[self.target][rule])

    def sentence_at(self, position: int) -> Span | None:
        index = bisect.bisect_right(self._sentence_starts, position) - 1
        if index >= 0 and self.sentences[index].start <= position < self.sentences[index].end:
            return self.sentences[index]
        return None

    def words_in(self, span: Span) -> list[Span]:
        low = bisect.bisect_left(self._word_starts, span.start)
        high = bisect.bisect_left(self._word_starts, span.end)
        return self.words[low:high]

    def is_sentence_start(self, word: Span) -> bool:
        sentence = self.sentence_at(word.start)
        if sentence is None:
            return False
        lead = self.text[sentence.start : word.start]
        return not any(ch.isalnum() for ch in lead)


# --------------------------------------------------------------------------- sentence length


def _sentence_length(ctx: _Context) -> Iterable[Finding]:
    limit = MAX_SENTENCE_WORDS[ctx.target]
    for sentence in ctx.sentences:
        count = len(ctx.words_in(sentence))
        if count > limit:
            yield ctx.finding(
                "sentence_length", sentence.start, sentence.end,
                f"Der Satz hat {count} Wörter; für {TARGET_NAMES[ctx.target]} sind höchstens "
                f"{limit} gut.",
                "Teilen Sie den Satz in kürzere Sätze: ein Gedanke je Satz.",
            )


# --------------------------------------------------------------------------- clauses


_CLAUSE_BREAK = re.compile(r"[,;:()–—]|\s-\s")


def _clauses(ctx: _Context, sentence: Span) -> list[list[Span]]:
    """The words of a sentence grouped by commas, semicolons, colons and brackets."""
    groups: list[list[Span]] = [[]]
    words = ctx.words_in(sentence)
    previous_end = sentence.start
    for word in words:
        if _CLAUSE_BREAK.search(ctx.text[previous_end : word.start]):
            groups.append([])
        groups[-1].append(word)
        previous_end = word.end
    return [g for g in groups if g]


# --------------------------------------------------------------------------- passive

_WERDEN = frozenset(
    "werde wirst wird werden werdet wurde wurdest wurden wurdet würde würdest würden würdet "
    "worden".split()
)
_SEPARABLE = (
    "zurück", "zusammen", "vorbei", "weiter", "wieder", "heraus", "herein", "hinaus", "hinein",
    "heran", "voran", "voraus", "fest", "frei", "statt", "teil", "ab", "an", "auf", "aus",
    "bei", "ein", "her", "hin", "los", "mit", "nach", "vor", "weg", "zu", "dar", "um", "durch",
)
_INSEPARABLE = ("be", "ver", "er", "ent", "zer", "emp", "miss", "über", "unter", "hinter",
                "wider", "voll")
# Adjectives that look like participles: "Es wird bekannt", "wird bereit sein".
_NOT_PARTICIPLES = frozenset(
    "bekannt bereit berühmt beliebt bestimmt besonders bereits gerecht gesamt geheim gemeinsam "
    "genug gern gerne gerade gesund genau gering gestern gelb ernst erst entfernt verwandt "
    "verrückt verheiratet verantwortlich beschäftigt geduldig geeignet gewohnt gespannt "
    "gegen genehmigen".split()
)
# Infinitives beginning with "ge" (future tense "wird gehen", not passive).
_GE_INFINITIVES = frozenset(
    "gehen geben gelten gewinnen genießen geschehen gehören gefallen gelingen genehmigen "
    "gestalten gewähren gewöhnen gestatten gedenken gebrauchen gebären gerinnen geraten "
    "gestehen gewinnen".split()
)
# Strong participles without "ge-" that differ from the infinitive.
_STRONG_PARTICIPLES = frozenset(
    "entschieden verboten beschrieben erhoben überwiesen unterschrieben bewiesen verliehen "
    "entzogen betroffen besprochen versprochen empfohlen befohlen beworben erworben verworfen "
    "entnommen übernommen unternommen vernommen verschoben bestanden verstanden entstanden "
    "beschlossen verschlossen erschlossen verwiesen erwiesen unterzogen vollzogen bezogen "
    "überzogen erfunden verbunden erlassen vergeben zerrissen begonnen gewonnen".split()
)


def is_participle(word: str) -> bool:
    """Whether `word` looks like a Partizip II ("bearbeitet", "abgeholt", "geschrieben")."""
    if not word.isalpha() or not word.islower() or len(word) < 5:
        return False
    if word in _NOT_PARTICIPLES:
        return False
    if word in _STRONG_PARTICIPLES:
        return True
    if word.endswith("iert") and len(word) >= 6:
        return True
    for prefix in _SEPARABLE:
        if word.startswith(prefix + "ge") and len(word) > len(prefix) + 4:
            rest = word[len(prefix):]
            if rest.endswith("t") or (rest.endswith("en") and rest not in _GE_INFINITIVES):
                return True
    if word.startswith("ge") and word not in _GE_INFINITIVES:
        return word.endswith("t") or word.endswith("en")
    return any(word.startswith(p) and word.endswith("t") and len(word) > len(p) + 3
               for p in _INSEPARABLE)


_SEIN = frozenset("ist sind war waren".split())
_ZU_INFINITIVE = re.compile(
    r"^(?:" + "|".join(_SEPARABLE) + r")zu[a-zäöüß]{3,}(?:en|ern|eln)$")


def _zu_infinitive_at(clause: list[Span], index: int) -> int | None:
    """End index of a "zu" infinitive ("zu zahlen", "einzulegen") at `clause[index]`."""
    word = clause[index].text
    if word == "zu" and index + 1 < len(clause):
        following = clause[index + 1].text
        if following.islower() and following.endswith(("en", "ern", "eln")) and \
                len(following) > 4:
            return index + 1
    if _ZU_INFINITIVE.match(word):
        return index
    return None


def _passive(ctx: _Context) -> Iterable[Finding]:
    yield from _werden_passive(ctx)
    yield from _sein_zu_passive(ctx)


def _sein_zu_passive(ctx: _Context) -> Iterable[Finding]:
    """"Der Widerspruch ist schriftlich einzulegen": a passive with a duty, no actor."""
    for sentence in ctx.sentences:
        for clause in _clauses(ctx, sentence):
            for index, word in enumerate(clause):
                if word.text.lower() not in _SEIN:
                    continue
                for later in range(index + 1, len(clause)):
                    end = _zu_infinitive_at(clause, later)
                    if end is None:
                        continue
                    start_at, end_at = word.start, clause[end].end
                    yield ctx.finding(
                        "passive", start_at, end_at,
                        f"Passiv mit „sein … zu“: „{ctx.text[start_at:end_at]}“. Es bleibt "
                        "offen, wer etwas tun muss.",
                        "Sagen Sie, wer es tun muss: „Sie müssen den Widerspruch schriftlich "
                        "einlegen.“",
                    )
                    break
                break


def _werden_passive(ctx: _Context) -> Iterable[Finding]:
    for sentence in ctx.sentences:
        for clause in _clauses(ctx, sentence):
            lowered = [w.text.lower() for w in clause]
            for index, word in enumerate(clause):
                if lowered[index] not in _WERDEN:
                    continue
                # Verb-final clause: "…, weil der Antrag bearbeitet (worden) wird."
                before = [j for j in range(max(0, index - 2), index)
                          if is_participle(clause[j].text)]
                after = [j for j in range(index + 1, len(clause))
                         if is_participle(clause[j].text)]
                if lowered[index] == "worden" and not before:
                    before = [j for j in range(max(0, index - 3), index)
                              if is_participle(clause[j].text)]
                if not before and not after:
                    continue
                partner = clause[before[0]] if before else clause[after[-1]]
                start, end = min(word.start, partner.start), max(word.end, partner.end)
                yield ctx.finding(
                    "passive", start, end,
                    f"Passiv: „{ctx.text[start:end]}“. Es bleibt offen, wer etwas tut.",
                    "Schreiben Sie aktiv und nennen Sie, wer handelt: „Wir bearbeiten Ihren "
                    "Antrag.“ statt „Ihr Antrag wird bearbeitet.“",
                )
                break  # one finding per clause


# --------------------------------------------------------------------------- subjunctive

_KONJUNKTIV_II = frozenset(
    "wäre wären wärst wärest wäret hätte hätten hättest hättet würde würden würdest würdet "
    "könnte könnten könntest könntet müsste müssten müsstest dürfte dürften dürftest bräuchte "
    "bräuchten käme kämen gäbe gäben wüsste wüssten stünde stünden ließe ließen".split()
)
_KONJUNKTIV_I = frozenset("sei seien seiest seiet könne müsse dürfe solle wolle möge".split())
# Third person Konjunktiv I that equals the 1st person indicative: only after er/sie/es/man.
_KONJUNKTIV_I_AFTER_PRONOUN = frozenset(
    "habe werde gebe komme gehe bekomme erhalte stehe liege zahle bezahle lebe wohne arbeite "
    "brauche wisse".split()
)
_THIRD_PERSON = frozenset("er sie es man".split())


def _subjunctive(ctx: _Context) -> Iterable[Finding]:
    for index, word in enumerate(ctx.words):
        lowered = word.text.lower()
        hit = lowered in _KONJUNKTIV_II or lowered in _KONJUNKTIV_I
        # "Sollten Sie Fragen haben, …": a conditional in the Konjunktiv II.
        hit = hit or (lowered in ("sollte", "sollten") and ctx.is_sentence_start(word)
                      and index + 1 < len(ctx.words)
                      and ctx.words[index + 1].text in ("Sie", "sie", "er", "es", "man", "wir",
                                                        "ich"))
        if not hit and lowered in _KONJUNKTIV_I_AFTER_PRONOUN and index > 0:
            previous = ctx.words[index - 1]
            same_clause = not _CLAUSE_BREAK.search(ctx.text[previous.end : word.start])
            hit = same_clause and previous.text.lower() in _THIRD_PERSON and not (
                previous.text == "Sie" and not ctx.is_sentence_start(previous))
        if hit:
            yield ctx.finding(
                "subjunctive", word.start, word.end,
                f"Konjunktiv: „{word.text}“ macht den Satz unsicher oder indirekt.",
                "Schreiben Sie direkt im Indikativ: „ist“ statt „sei/wäre“, „kann“ statt "
                "„könnte“, „muss“ statt „müsste“.",
            )


# --------------------------------------------------------------------------- negation

_NEGATIONS = frozenset(
    "nicht kein keine keinen keinem keiner keines nie niemals niemand niemanden niemandem "
    "nichts nirgends nirgendwo weder".split()
)


def _negation(ctx: _Context) -> Iterable[Finding]:
    for sentence in ctx.sentences:
        words = ctx.words_in(sentence)
        hits: list[Span] = []
        has_weder = False
        for index, word in enumerate(words):
            lowered = word.text.lower()
            if lowered in _NEGATIONS:
                hits.append(word)
                has_weder = has_weder or lowered == "weder"
                following = words[index + 1] if index + 1 < len(words) else None
                if (lowered == "nicht" and following is not None
                        and following.text.lower().startswith("un")
                        and len(following.text) > 5 and following.text[0].islower()):
                    hits.append(following)  # "nicht unwichtig" is a double negation
            elif lowered == "noch" and has_weder:
                hits.append(word)
        counted = [w for w in hits if w.text.lower() not in ("weder", "noch")]
        double = len(counted) >= 2
        for word in hits:
            if double:
                yield ctx.finding(
                    "negation", word.start, word.end,
                    f"Doppelte Verneinung mit „{word.text}“: schwer zu verstehen.",
                    "Sagen Sie es positiv: „Das ist wichtig.“ statt „Das ist nicht unwichtig.“",
                    severity="error" if ctx.target == "leicht" else "warning",
                )
            else:
                yield ctx.finding(
                    "negation", word.start, word.end,
                    f"Verneinung: „{word.text}“ wird leicht überlesen.",
                    "Sagen Sie es positiv, wenn es geht: „Bitte kommen Sie pünktlich.“ statt "
                    "„Kommen Sie nicht zu spät.“ Sonst „nicht“ fett schreiben.",
                )


# --------------------------------------------------------------------------- genitive

_GENITIVE_PREPOSITIONS = frozenset(
    "wegen aufgrund anhand anstatt statt trotz während innerhalb außerhalb infolge mittels "
    "bezüglich hinsichtlich zwecks seitens zugunsten anlässlich angesichts mangels "
    "einschließlich ausschließlich zuzüglich abzüglich oberhalb unterhalb unweit inmitten "
    "ungeachtet namens".split()
)
_GENITIVE_DETERMINERS = frozenset(
    "des der eines einer dessen deren meines meiner deines deiner seines seiner ihres ihrer "
    "unseres unserer eures eurer dieses dieser jedes jeder jenes jener keines keiner".split()
)
_ALWAYS_GENITIVE = frozenset("des eines dessen deren".split())
# Capitalised words that are not nouns: "Sie der Behörde" is not a genitive.
_NOT_NOUNS = frozenset("Sie Ihnen Ihr Ihre Ihrem Ihren Ihrer Ihres Ich Wir Er Es".split())


def _noun_after(ctx: _Context, index: int, limit: int = 3) -> Span | None:
    for word in ctx.words[index + 1 : index + 1 + limit]:
        if word.text[:1].isupper():
            return word
    return None


def _strip_genitive_s(noun: str) -> str:
    if noun.endswith("es") and len(noun) > 5 and noun[-3] in "sßzt":
        return noun[:-2]
    if noun.endswith("s") and not noun.endswith(("ss", "us", "is", "os", "as")):
        return noun[:-1]
    return noun


def _genitive(ctx: _Context) -> Iterable[Finding]:
    covered_until = -1
    for index, word in enumerate(ctx.words):
        if word.start < covered_until:
            continue
        lowered = word.text.lower()
        following = ctx.words[index + 1] if index + 1 < len(ctx.words) else None
        gap = ctx.text[word.end : following.start] if following else ""
        if (lowered in _GENITIVE_PREPOSITIONS and following is not None
                and following.text.lower() in _GENITIVE_DETERMINERS and gap.strip() == ""):
            noun: Span | None = _noun_after(ctx, index + 1) or following
            assert noun is not None
            covered_until = noun.end
            plain = "weil …" if lowered in ("wegen", "aufgrund", "infolge") else "von + Dativ"
            yield ctx.finding(
                "genitive", word.start, noun.end,
                f"Genitiv nach „{word.text}“: „{ctx.text[word.start:noun.end]}“.",
                f"Einfacher mit {plain}, z. B. „wegen dem Regen“ → „weil es regnet“.",
            )
            continue
        if lowered in _ALWAYS_GENITIVE and word.text.islower():
            noun = _noun_after(ctx, index)
            if noun is None:
                continue
            covered_until = noun.end
            stem = _strip_genitive_s(noun.text)
            yield ctx.finding(
                "genitive", word.start, noun.end,
                f"Genitiv: „{ctx.text[word.start:noun.end]}“.",
                f"Mit „von“ schreiben: „von dem {stem}“ (oder „vom {stem}“).",
            )
            continue
        if lowered in ("der", "einer") and word.text.islower() and index > 0:
            previous = ctx.words[index - 1]
            between = ctx.text[previous.end : word.start]
            if (previous.text[:1].isupper() and previous.text not in _NOT_NOUNS
                    and not ctx.is_sentence_start(previous) and between.strip() == ""
                    and not previous.text[0].isdigit()):
                noun = _noun_after(ctx, index)
                if noun is None:
                    continue
                covered_until = noun.end
                yield ctx.finding(
                    "genitive", word.start, noun.end,
                    f"Genitiv: „{previous.text} {ctx.text[word.start:noun.end]}“.",
                    f"Mit „von“ schreiben: „{previous.text} von der/den {noun.text}“.",
                )


# --------------------------------------------------------------------------- nominal style

_NOMINAL_SUFFIXES = ("ung", "ungen", "heit", "heiten", "keit", "keiten", "ion", "ionen",
                     "ität", "itäten")
# Everyday nouns with these endings are not "Nominalstil".
_EVERYDAY_NOUNS = frozenset(
    "Wohnung Wohnungen Zeitung Zeitungen Rechnung Rechnungen Richtung Ordnung Heizung Kleidung "
    "Meinung Hoffnung Übung Übungen Million Millionen Region Regionen Religion Nation Union "
    "Station Stationen Person Achtung Zeit Gesundheit Freiheit Sicherheit Mehrheit Kindheit "
    "Wahrheit Möglichkeit Möglichkeiten Schule Universität Qualität Stadtverwaltung Verwaltung "
    "Information Informationen Prüfung Prüfungen Wirkung".split()
)
MAX_CHAIN_GAP = 2


def is_nominal(word: str) -> bool:
    return (word[:1].isupper() and len(word) >= 7 and word.isalpha()
            and word.endswith(_NOMINAL_SUFFIXES) and word not in _EVERYDAY_NOUNS)


def _nominal_style(ctx: _Context) -> Iterable[Finding]:
    for sentence in ctx.sentences:
        words = ctx.words_in(sentence)
        chain: list[int] = []
        for index, word in enumerate(words):
            if not is_nominal(word.text):
                continue
            if chain and index - chain[-1] - 1 > MAX_CHAIN_GAP:
                yield from _chain_finding(ctx, words, chain)
                chain = []
            chain.append(index)
        yield from _chain_finding(ctx, words, chain)


def _chain_finding(ctx: _Context, words: list[Span], chain: list[int]) -> Iterable[Finding]:
    if len(chain) < 2:
        return
    start, end = words[chain[0]].start, words[chain[-1]].end
    nouns = ", ".join(words[i].text for i in chain)
    yield ctx.finding(
        "nominal_style", start, end,
        f"Nominalstil: {len(chain)} Hauptwörter auf -ung/-heit/-keit/-ion hintereinander "
        f"({nouns}).",
        "Schreiben Sie mit Verben: „Wir prüfen Ihren Antrag.“ statt „Die Prüfung der "
        "Antragsunterlagen erfolgt.“",
    )


# --------------------------------------------------------------------------- long compounds

MIN_COMPOUND_SYLLABLES = {"leicht": 3, "einfach": 5}
MIN_COMPOUND_LETTERS = {"leicht": 13, "einfach": 13}


def _long_compound(ctx: _Context, jargon_spans: list[tuple[int, int]]) -> Iterable[Finding]:
    for word in ctx.words:
        text = word.text
        if not is_long_compound(text, ctx.target):
            continue
        if any(s <= word.start and word.end <= e for s, e in jargon_spans):
            continue  # the glossary has a better suggestion than a split
        if ctx.text[max(0, word.start - 1) : word.start] in _QUOTE_OPEN:
            continue  # mentioned in quotes, as in "„Meldebescheinigung“ heißt: …"
        count = syllables(text)
        split = mediopunkt(text)
        if split is None:
            continue
        yield ctx.finding(
            "long_compound", word.start, word.end,
            f"Langes zusammengesetztes Wort: „{text}“ ({count} Silben).",
            f"Mit Mediopunkt gliedern: „{split}“ – oder umschreiben.",
        )


# --------------------------------------------------------------------------- abbreviations


def _abbreviation(ctx: _Context) -> Iterable[Finding]:
    for start, end, abbreviation in abbreviation_matches(ctx.text):
        plain = abbreviation.plain
        extra = f" oder einfacher „{plain}“" if plain != abbreviation.expansion else ""
        yield ctx.finding(
            "abbreviation", start, end,
            f"Abkürzung: „{ctx.text[start:end]}“ heißt „{abbreviation.expansion}“.",
            f"Ausschreiben: „{abbreviation.expansion}“{extra}.",
        )


# --------------------------------------------------------------------------- numbers

_ORDINAL_DETERMINERS = frozenset(
    "der die das den dem des am im zum zur vom beim ein eine einen einem einer jeder jede "
    "jedem jeden jedes ab bis".split()
)


def number_word_value(ctx: _Context, index: int) -> str | None:
    """Digits for the number word at `ctx.words[index]` ("drei" → "3", "dritten" → "3.")."""
    word = ctx.words[index]
    text = word.text
    if not text.isalpha():
        return None
    if text[0].isupper() and not ctx.is_sentence_start(word):
        return None  # "die Acht", "Elf" as a noun
    cardinal = parse_cardinal(text)
    if cardinal is not None:
        following = ctx.words[index + 1].text if index + 1 < len(ctx.words) else ""
        if text.lower() == "acht" and following.lower() in ("geben", "lassen", "gelassen"):
            return None
        return str(cardinal)
    ordinal = parse_ordinal(text)
    if ordinal is not None and index > 0:
        if ctx.words[index - 1].text.lower() in _ORDINAL_DETERMINERS:
            return f"{ordinal}."
    return None


def number_words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, digits) for every number written as a word in `text`."""
    ctx = _Context(text, "leicht")
    found = []
    for index, word in enumerate(ctx.words):
        digits = number_word_value(ctx, index)
        if digits is not None:
            found.append((word.start, word.end, digits))
    return found


def abbreviation_matches(text: str) -> list[tuple[int, int, Any]]:
    """(start, end, Abbreviation) for every known abbreviation in `text`, no overlaps."""
    taken: list[tuple[int, int, Any]] = []
    for abbreviation, pattern in compiled_abbreviations():
        for match in pattern.finditer(text):
            if any(s < match.end() and match.start() < e for s, e, _ in taken):
                continue
            taken.append((match.start(), match.end(), abbreviation))
    return sorted(taken, key=lambda item: item[0])


def is_long_compound(word: str, target: Target) -> bool:
    """Whether the long-compound rule looks at `word` (before trying to split it)."""
    if not word[:1].isupper() or not word.isalpha() or len(word) < 8:
        return False
    return (syllables(word) >= MIN_COMPOUND_SYLLABLES[target]
            or len(word) >= MIN_COMPOUND_LETTERS[target])


def _number_word(ctx: _Context) -> Iterable[Finding]:
    for index, word in enumerate(ctx.words):
        digits = number_word_value(ctx, index)
        if digits is None:
            continue
        yield ctx.finding(
            "number_word", word.start, word.end,
            f"Zahl als Wort: „{word.text}“.",
            f"Zahlen als Ziffern schreiben: „{digits}“.",
        )


# --------------------------------------------------------------------------- jargon


_QUOTE_OPEN = frozenset("„\"»‚'")
_QUOTE_CLOSE = frozenset("“\"«‘'")


def jargon_matches(text: str) -> list[tuple[int, int, Any]]:
    """(start, end, glossary entry) for every glossary term in `text`, longest first,
    overlaps dropped; a term with `context` counts only when a context word is in its
    sentence."""
    sentences = sentence_spans(text)
    starts = [s.start for s in sentences]
    found: list[tuple[int, int, Any]] = []
    for entry, pattern in compiled_glossary():
        for match in pattern.finditer(text):
            if match.end() <= match.start():
                continue
            if text[max(0, match.start() - 1) : match.start()] in _QUOTE_OPEN and \
                    text[match.end() : match.end() + 1] in _QUOTE_CLOSE:
                continue  # a word in quotes is mentioned, not used ("„Frist“ heißt: …")
            if entry.context:
                index = bisect.bisect_right(starts, match.start()) - 1
                sentence = sentences[index].text if index >= 0 else text
                if not any(re.search(rf"\b{re.escape(c)}", sentence, re.IGNORECASE)
                           for c in entry.context):
                    continue
            found.append((match.start(), match.end(), entry))
    found.sort(key=lambda item: (item[0], -(item[1] - item[0])))
    kept: list[tuple[int, int, Any]] = []
    for item in found:
        if kept and item[0] < kept[-1][1]:
            continue
        kept.append(item)
    return kept


def _jargon(ctx: _Context, matches: list[tuple[int, int, Any]]) -> Iterable[Finding]:
    for start, end, entry in matches:
        yield ctx.finding(
            "jargon", start, end,
            f"Amtsdeutsch: „{ctx.text[start:end]}“. {entry.explanation}",
            f"Einfacher: „{entry.replacement}“.",
        )


# --------------------------------------------------------------------------- entry points


def check_text(text: str, target: Target = "leicht",
               rules: Iterable[str] | None = None) -> CheckResult:
    """All findings for `text`, sorted by position (then by longer span first)."""
    if target not in TARGETS:
        raise ValueError(f"Unbekanntes Ziel „{target}“; erlaubt: leicht, einfach.")
    wanted = set(rules) if rules is not None else set(RULES)
    ctx = _Context(text, target)
    matches = jargon_matches(text) if {"jargon", "long_compound"} & wanted else []
    findings: list[Finding] = []
    if "sentence_length" in wanted:
        findings.extend(_sentence_length(ctx))
    if "passive" in wanted:
        findings.extend(_passive(ctx))
    if "subjunctive" in wanted:
        findings.extend(_subjunctive(ctx))
    if "negation" in wanted:
        findings.extend(_negation(ctx))
    if "genitive" in wanted:
        findings.extend(_genitive(ctx))
    if "nominal_style" in wanted:
        findings.extend(_nominal_style(ctx))
    if "long_compound" in wanted:
        findings.extend(_long_compound(ctx, [(s, e) for s, e, _ in matches]))
    if "abbreviation" in wanted:
        findings.extend(_abbreviation(ctx))
    if "number_word" in wanted:
        findings.extend(_number_word(ctx))
    if "jargon" in wanted:
        findings.extend(_jargon(ctx, matches))
    findings.sort(key=lambda f: (f.start, -(f.end - f.start), RULES.index(f.rule)))
    return CheckResult(text, target, findings)


def highlight_segments(text: str, findings: Iterable[Finding]) -> list[tuple[str, str | None]]:
    """`text` cut into (piece, label) for gradio.HighlightedText; label = German rule name
    or None. Where findings overlap, the shorter (more precise) one wins, so a word-level
    finding stays visible inside a flagged long sentence."""
    labels: list[str | None] = [None] * len(text)
    for finding in sorted(findings, key=lambda f: -(f.end - f.start)):
        for position in range(max(0, finding.start), min(len(text), finding.end)):
            labels[position] = finding.name
    segments: list[tuple[str, str | None]] = []
    start = 0
    for position in range(1, len(text) + 1):
        if position == len(text) or labels[position] != labels[start]:
            segments.append((text[start:position], labels[start]))
            start = position
    return segments


__all__ = [
    "CheckResult", "Finding", "RULES", "RULE_NAMES", "SEVERITY_LABELS", "TARGET_NAMES",
    "Target", "abbreviation_matches", "check_text", "highlight_segments", "is_long_compound",
    "is_participle", "jargon_matches", "letters", "number_words",
]
