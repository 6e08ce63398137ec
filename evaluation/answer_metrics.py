"""Answer metrics per test item: SQuAD exact match and token F1, semantic similarity to the
expected answer, groundedness in the cited chunks, and whether a non-answerable item was
handled as it should be.

`normalize_answer`, `exact_match`, `token_f1` and `max_over_ground_truths` are the official
SQuAD v1.1 evaluation script (evaluate-v1.1.py) unchanged, so the numbers compare with the
literature; the `_de` variants are the German reading of the same idea.
"""

from __future__ import annotations

import logging
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from pipelines.embeddings import Embedder
from pipelines.german import STOPWORDS, compound_parts, content_terms, split_sentences, stem
from pipelines.german import words as german_words
from pipelines.llm.providers import LLMError, LLMProvider, Message
from pipelines.prompts import render_prompt

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- SQuAD v1.1

_SQUAD_PUNCTUATION = frozenset(string.punctuation)
_SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD v1.1: lower case, drop ASCII punctuation, drop 'a'/'an'/'the', collapse spaces."""
    lowered = text.lower()
    without_punctuation = "".join(ch for ch in lowered if ch not in _SQUAD_PUNCTUATION)
    without_articles = _SQUAD_ARTICLES.sub(" ", without_punctuation)
    return " ".join(without_articles.split())


def _f1_of_tokens(prediction_tokens: list[str], truth_tokens: list[str]) -> float:
    common = Counter(prediction_tokens) & Counter(truth_tokens)
    num_same = sum(common.values())
    # As in v1.1, two empty answers score 0 (v2.0 and torchmetrics give 1 there).
    if num_same == 0:
        return 0.0
    precision = num_same / len(prediction_tokens)
    recall = num_same / len(truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def exact_match(prediction: str, ground_truth: str) -> float:
    """1.0 when both are equal after `normalize_answer`, else 0.0 (SQuAD v1.1)."""
    return float(normalize_answer(prediction) == normalize_answer(ground_truth))


def token_f1(prediction: str, ground_truth: str) -> float:
    """F1 over the multiset overlap of whitespace tokens after `normalize_answer` (SQuAD v1.1)."""
    return _f1_of_tokens(normalize_answer(prediction).split(),
                         normalize_answer(ground_truth).split())


def max_over_ground_truths(metric: Callable[[str, str], float], prediction: str,
                           ground_truths: Sequence[str]) -> float:
    """The best score of `prediction` against any of the reference answers (SQuAD v1.1)."""
    if not ground_truths:
        raise ValueError("Keine Referenzantwort angegeben.")
    return max(metric(prediction, truth) for truth in ground_truths)


# --------------------------------------------------------------------------- German variant

GERMAN_ARTICLES = frozenset("der die das den dem des ein eine einen einem einer eines".split())
_ENGLISH_ARTICLES = frozenset({"a", "an", "the"})
# ae/oe/ue/ss are the accepted German spelling wherever umlauts are unavailable (file names,
# URLs, foreign keyboards); test sets and exported answers contain both spellings.
_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_GROUPED_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+(?=,\d|(?![\d.,]))")
_ZERO_CENTS = re.compile(r"(\d),(?:0+|-+)(?!\d)")


def normalize_answer_de(text: str) -> str:
    """SQuAD's normalisation read for German answers.

    Additionally to `normalize_answer`: Unicode NFKC (umlauts typed as two code points, thin
    and non-breaking spaces), all Unicode punctuation instead of ASCII only (so „…“ and – go),
    German articles dropped for the same reason SQuAD drops "the", umlauts and ß written as
    ae/oe/ue/ss, "€" read as "euro", thousands points and zero cents dropped, so
    "1.200,00 €" = "1200 Euro" and "37,00 Euro" = "37 Euro" ("22,80" stays "2280").
    """
    text = unicodedata.normalize("NFKC", text).lower().replace("€", " euro ")
    text = _GROUPED_THOUSANDS.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _ZERO_CENTS.sub(r"\1", text)
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    text = text.translate(_TRANSLITERATION)
    articles = GERMAN_ARTICLES | _ENGLISH_ARTICLES
    return " ".join(token for token in text.split() if token not in articles)


def exact_match_de(prediction: str, ground_truth: str) -> float:
    return float(normalize_answer_de(prediction) == normalize_answer_de(ground_truth))


def token_f1_de(prediction: str, ground_truth: str) -> float:
    """Token F1 as in SQuAD, over `normalize_answer_de` tokens."""
    return _f1_of_tokens(normalize_answer_de(prediction).split(),
                         normalize_answer_de(ground_truth).split())


# --------------------------------------------------------------------------- similarity


def semantic_similarity(embedder: Embedder, prediction: str, reference: str) -> float:
    """Cosine of the two texts' embeddings, clipped to [0, 1]; 0 when either is empty."""
    if not prediction.strip() or not reference.strip():
        return 0.0
    vectors = np.asarray(embedder.embed([prediction, reference]), dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1)
    if float(norms.min()) == 0.0:
        return 0.0
    cosine = float(vectors[0] @ vectors[1] / (norms[0] * norms[1]))
    return min(1.0, max(0.0, cosine))


# --------------------------------------------------------------------------- sentences

CITATION_MARKER = re.compile(r"\[(\d{1,2})\]")
# "… 37 Euro. [1] Die …": markers after the full stop still belong to the sentence before.
_MARKERS_AFTER_END = re.compile(r"(?<=[.!?…])((?:\s*\[\d{1,2}\])+)\s+(?=\S)")
# A list item's bullet or number, but not the day of a date ("15. März ist Stichtag").
_LIST_ITEM = re.compile(
    r"^\s*(?:[-•*–]|\d{1,2}[.)](?!\s*(?:januar|jänner|februar|märz|april|mai|juni|juli|"
    r"august|september|oktober|november|dezember)\b))\s+",
    re.IGNORECASE,
)
_MARKDOWN = re.compile(r"\*\*|__|`|^#+\s*", re.MULTILINE)


def sentences(text: str) -> list[str]:
    """The sentences of an answer, each with its citation markers.

    Every line is a unit of its own (list items, the extractive mode's one sentence per
    line); within a line pipelines.german.split_sentences keeps "z. B.", "Nr. 5",
    "1. Januar" together.
    """
    result: list[str] = []
    for line in text.splitlines():
        # Bold "**1. Januar**" would hide the ordinal from the splitter.
        line = line.replace("**", "").replace("__", "").strip()
        if not line:
            continue
        for piece in _MARKERS_AFTER_END.sub(lambda m: m.group(1) + "\n\n", line).split("\n\n"):
            result.extend(split_sentences(piece))
    return result


# --------------------------------------------------------------------------- groundedness

# A sentence counts as supported by a chunk when all of its numbers are in the chunk and at
# least this share of its content words (stems; a compound also counts when all its parts are
# there). Verbatim sentences reach 1.0 (all 234 sentences of the sample corpus's Markdown
# files against their own section). Paraphrases keep the nouns but change verbs and endings:
# twelve written for the sample FAQ reached 0.25-1.0, eleven of them 0.5 or more. A sentence
# against four random sections of other documents reaches 0.12 in the median and 0.5 at the
# 95th percentile; 1.4 % of 888 such pairs reach 0.5 with matching numbers (some of them the
# same fact repeated in another document). 0.5 keeps most paraphrases and few strangers.
LEXICAL_THRESHOLD = 0.5
# With an embedder, a sentence in [LEXICAL_FLOOR, LEXICAL_THRESHOLD) is still supported when
# its best-matching sentence in the chunk is this similar (all-MiniLM-L6-v2 cosine); numbers
# must match all the same. The paraphrases above scored 0.61-0.86 (a rescued one: 0.4 of the
# words, cosine 0.86), unrelated sentence/chunk pairs 0.38 in the median and 0.51 at the 95th
# percentile; of the 888 pairs above, 3 got past floor and 0.7, 1 past 0.75. The model
# (all-MiniLM-L6-v2) is English-trained, so the similarity only ever adds to the words.
LEXICAL_FLOOR = 0.3
SEMANTIC_THRESHOLD = 0.7

# Words that carry no fact in an answer sentence ("Die Gebühr beträgt …", "Sie erhalten …").
_FILLER = frozenset(
    """beträgt betragen gilt gelten erhalten erhält bekommen bekommt finden findet möglich
    gerne bitte dafür hierfür dabei außerdem zudem jedoch allerdings bereits ebenfalls dort
    hier folgende folgenden folgendes quelle quellen laut grundsätzlich insgesamt
    hallo danke gern helfe willkommen müssen dürfen darf sollen sollten""".split()
)
_NEGATIONS = frozenset("nicht kein keine keinen keinem keiner keines nie niemals ohne".split())
_INDEFINITE = frozenset("ein eine einen einem einer eines einmal".split())
_NUMBER_WORDS = {
    "zwei": "2", "drei": "3", "vier": "4", "fünf": "5", "sechs": "6", "sieben": "7",
    "acht": "8", "neun": "9", "zehn": "10", "elf": "11", "zwölf": "12",
}
_MONTHS = {
    "januar": "1", "jänner": "1", "februar": "2", "märz": "3", "april": "4", "mai": "5",
    "juni": "6", "juli": "7", "august": "8", "september": "9", "oktober": "10",
    "november": "11", "dezember": "12",
}
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*(?:,-+)?")
_DOTTED_TIME = re.compile(r"\b(\d{1,2})\.(\d{2})(?=\s*Uhr\b)")
# German decimals take a comma, so two numbers joined by a point are a date ("15.03.").
_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{2,4}))?")
_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_ZERO_FRACTION = re.compile(r"(\d+),(?:0+|-+)")


def _canonical_numbers(token: str) -> list[str]:
    """'37,00' -> 37, '1.200' -> 1200, '08:00' -> 8, '15.03.2026' -> 15, 3, 2026."""
    if _THOUSANDS.fullmatch(token):
        token = token.replace(".", "")
    if match := _ZERO_FRACTION.fullmatch(token):
        return [match.group(1)]
    if match := _TIME.fullmatch(token):
        hours, minutes = str(int(match.group(1))), match.group(2)
        return [hours if minutes == "00" else f"{hours}:{minutes}"]
    if match := _DATE.fullmatch(token):
        return [str(int(part)) for part in match.groups() if part]
    return [token]


def _numbers(text: str) -> set[str]:
    """The numbers of a text in one canonical form, number words and month names included."""
    text = _DOTTED_TIME.sub(r"\1:\2", text)
    found = {n for token in _NUMBER.findall(text) for n in _canonical_numbers(token)}
    for word in german_words(text):
        lowered = word.lower()
        if lowered in _NUMBER_WORDS:
            found.add(_NUMBER_WORDS[lowered])
        elif lowered in _MONTHS:
            found.add(_MONTHS[lowered])
    return found


@dataclass(frozen=True)
class _Claim:
    """What a sentence asserts, as far as words can tell."""

    words: tuple[tuple[str, tuple[str, ...]], ...]  # (stem, stems of its compound parts)
    numbers: frozenset[str]
    negated: bool
    cited: tuple[int, ...]  # the sentence's [n] markers

    @property
    def checkable(self) -> bool:
        return bool(self.words or self.numbers)


def _prepare(text: str) -> str:
    return CITATION_MARKER.sub(" ", text).replace("€", " Euro ")


def _claim(sentence: str) -> _Claim:
    cited = tuple(dict.fromkeys(int(n) for n in CITATION_MARKER.findall(sentence)))
    text = _MARKDOWN.sub(" ", _LIST_ITEM.sub("", _prepare(sentence).strip()))
    claim_words: dict[str, tuple[str, ...]] = {}
    negated = False
    for word in german_words(text):
        lowered = word.lower()
        if lowered in _NEGATIONS:
            negated = True
        if (lowered in STOPWORDS or lowered in _FILLER or len(lowered) < 2
                or lowered in _NUMBER_WORDS or lowered in _MONTHS):
            continue
        parts = tuple(stem(p) for p in compound_parts(word) if p.lower() not in STOPWORDS)
        claim_words.setdefault(stem(lowered), parts)
    return _Claim(tuple(claim_words.items()), frozenset(_numbers(text)), negated, cited)


@dataclass(frozen=True)
class _Source:
    terms: frozenset[str]
    numbers: frozenset[str]
    negated: bool
    indefinite: bool
    sentences: tuple[str, ...]


def _source(text: str) -> _Source:
    text = _prepare(text)
    lowered = {w.lower() for w in german_words(text)}
    return _Source(
        terms=frozenset(content_terms(text)),
        numbers=frozenset(_numbers(text)),
        negated=bool(lowered & _NEGATIONS),
        indefinite=bool(lowered & _INDEFINITE),
        sentences=tuple(split_sentences(text)) or (text,),
    )


def _coverage(claim: _Claim, source: _Source) -> float:
    if not claim.words:
        return 1.0
    covered = sum(
        1 for word_stem, parts in claim.words
        if word_stem in source.terms or (parts and all(p in source.terms for p in parts))
    )
    return covered / len(claim.words)


def _missing_numbers(claim: _Claim, source: _Source) -> tuple[str, ...]:
    # "1 Monat" in the answer is "einen Monat" in the source.
    return tuple(sorted(
        n for n in claim.numbers
        if n not in source.numbers and not (n == "1" and source.indefinite)
    ))


@dataclass(frozen=True)
class SentenceSupport:
    sentence: str
    supported: bool
    # Index into `cited_texts` of the chunk that supports the sentence, or else comes closest.
    best_source_index: int | None
    # Share of the sentence's content words found in that chunk (LLM judge: 1.0 or 0.0).
    score: float
    missing_numbers: tuple[str, ...] = ()
    # Best cosine to a sentence of that chunk, when an embedder was given.
    semantic: float | None = None
    # False for sentences without any content word or number ("Gerne!"): not in the share.
    checked: bool = True


@dataclass(frozen=True)
class Groundedness:
    # Supported share of the checked sentences; 0.0 when `empty`.
    share: float
    sentences: list[SentenceSupport] = field(default_factory=list)
    # The answer has no sentence to check (empty, or greetings only): the share means nothing
    # and belongs in no average.
    empty: bool = False
    method: Literal["offline", "llm"] = "offline"

    @property
    def checked(self) -> list[SentenceSupport]:
        return [s for s in self.sentences if s.checked]


def _groundedness(supports: list[SentenceSupport], method: Literal["offline", "llm"]
                  ) -> Groundedness:
    checked = [s for s in supports if s.checked]
    if not checked:
        return Groundedness(0.0, supports, empty=True, method=method)
    share = sum(1 for s in checked if s.supported) / len(checked)
    return Groundedness(share, supports, method=method)


def _semantic_scores(embedder: Embedder, claims: list[str], sources: list[_Source]
                     ) -> np.ndarray:
    """[claim, source] best cosine between the claim and any sentence of the source."""
    scores = np.zeros((len(claims), len(sources)))
    if not claims or not sources:
        return scores
    claim_vectors = np.asarray(embedder.embed(claims), dtype=np.float64)
    for index, source in enumerate(sources):
        vectors = np.asarray(embedder.embed(list(source.sentences)), dtype=np.float64)
        scores[:, index] = (claim_vectors @ vectors.T).max(axis=1)
    return scores


def groundedness_offline(answer: str, cited_texts: Sequence[str],
                         embedder: Embedder | None = None,
                         threshold: float = LEXICAL_THRESHOLD) -> Groundedness:
    """Share of the answer's sentences supported by one of the cited chunks, without a model.

    A sentence is supported by a chunk when
    - every number in it occurs in the chunk (canonical form: "37,00" = "37", "8:00 Uhr" =
      "8 Uhr", "15.03.2026" = "15. März 2026", "zwei" = "2"), so "80 Euro" against a chunk
      saying "70 Euro" is unsupported whatever the words;
    - a negation in it ("nicht", "kein…", "ohne") has one in the chunk too (a weak check:
      the chunk may negate something else);
    - at least `threshold` of its content words occur in the chunk: German stems, stopwords
      and filler ("beträgt", "bitte") left out, a compound also found through its parts
      ("Hundesteuer" in "Steuer für den Hund"). See LEXICAL_THRESHOLD for why 0.5.
    With an `embedder`, a sentence from LEXICAL_FLOOR (0.3) on is also supported when its
    cosine to the chunk's closest sentence reaches SEMANTIC_THRESHOLD (0.7): it rescues
    paraphrases, never a wrong number.

    `cited_texts[n - 1]` is the chunk a marker "[n]" points at; a sentence's own markers are
    checked first, then the other chunks. Sentences without content words ("Gerne!") are
    listed with checked=False and left out of the share; an answer without any checked
    sentence gives share 0.0 with `empty` set.
    """
    parts = sentences(answer)
    claims = [_claim(s) for s in parts]
    sources = [_source(t) for t in cited_texts]
    checkable = [i for i, c in enumerate(claims) if c.checkable]
    semantic = (_semantic_scores(embedder, [CITATION_MARKER.sub("", parts[i]).strip()
                                            for i in checkable], sources)
                if embedder is not None and sources else None)
    supports: list[SentenceSupport] = []
    for position, (sentence, claim) in enumerate(zip(parts, claims, strict=True)):
        if not claim.checkable:
            supports.append(SentenceSupport(sentence, False, None, 0.0, checked=False))
            continue
        row = checkable.index(position)
        cited_first = [n - 1 for n in claim.cited if 0 < n <= len(sources)]
        order = cited_first + [i for i in range(len(sources)) if i not in cited_first]
        best: SentenceSupport | None = None
        best_key: tuple[bool, float] = (False, -1.0)
        for index in order:
            source = sources[index]
            coverage = _coverage(claim, source)
            missing = _missing_numbers(claim, source)
            similarity = float(semantic[row, index]) if semantic is not None else None
            facts_ok = not missing and (not claim.negated or source.negated)
            supported = facts_ok and (
                coverage >= threshold
                or (similarity is not None and coverage >= LEXICAL_FLOOR
                    and similarity >= SEMANTIC_THRESHOLD)
            )
            candidate = SentenceSupport(sentence, supported, index, coverage, missing,
                                        similarity)
            if supported:
                best = candidate
                break
            key = (facts_ok, coverage)
            if key > best_key:
                best, best_key = candidate, key
        supports.append(best or SentenceSupport(sentence, False, None, 0.0))
    return _groundedness(supports, "offline")


# --------------------------------------------------------------------------- LLM judge

JUDGE_PROMPT = "groundedness_judge"
_SUPPORTED = "gestützt"
_VERDICT_LINE = re.compile(
    r"^\W*(?:satz\s*)?(\d{1,3})\s*[:.)\-–]\s*(nicht\s+gest(?:ü|ue)tzt|gest(?:ü|ue)tzt)\b",
    re.IGNORECASE,
)


def parse_judge_reply(reply: str, count: int) -> tuple[list[bool] | None, str]:
    """Verdicts for sentences 1..count from lines "<n>: gestützt" / "<n>: nicht gestützt".

    Other lines (a preamble, a closing remark) are ignored; a missing, contradictory or
    out-of-range number makes the reply unparsable: (None, reason).
    """
    verdicts: dict[int, bool] = {}
    for line in reply.splitlines():
        match = _VERDICT_LINE.match(line.replace("*", "").replace("`", "").strip())
        if not match:
            continue
        number = int(match.group(1))
        supported = not match.group(2).lower().startswith("nicht")
        if not 1 <= number <= count:
            return None, f"Urteil für Satz {number}, die Antwort hat nur {count} Sätze."
        if verdicts.get(number, supported) != supported:
            return None, f"Widersprüchliche Urteile für Satz {number}."
        verdicts[number] = supported
    missing = [n for n in range(1, count + 1) if n not in verdicts]
    if missing:
        listed = ", ".join(str(n) for n in missing)
        return None, f"Kein lesbares Urteil für Satz {listed}: „{reply.strip()[:200]}“"
    return [verdicts[n] for n in range(1, count + 1)], ""


@dataclass(frozen=True)
class JudgeResult:
    groundedness: Groundedness | None
    reason: str = ""  # why there is no result (model failed, reply unparsable)


def judge_groundedness(provider: LLMProvider, answer: str,
                       cited_texts: Sequence[str]) -> JudgeResult:
    """One call to the language model as judge; see `groundedness_llm`."""
    parts = sentences(answer)
    checkable = [i for i, s in enumerate(parts) if _claim(s).checkable]
    supports = [SentenceSupport(s, False, None, 0.0, checked=i in checkable)
                for i, s in enumerate(parts)]
    if not checkable or not cited_texts:
        # Nothing to judge, or nothing to judge against: no call needed.
        return JudgeResult(_groundedness(supports, "llm"))
    sources_text = "\n\n".join(f"[{i}] {text.strip()}"
                               for i, text in enumerate(cited_texts, start=1))
    sentences_text = "\n".join(f"Satz {number}: {parts[i]}"
                               for number, i in enumerate(checkable, start=1))
    prompt = render_prompt(JUDGE_PROMPT, sources=sources_text, sentences=sentences_text,
                           count=str(len(checkable)))
    try:
        reply = "".join(provider.stream_chat([Message("user", prompt)]))
    except LLMError as exc:
        return JudgeResult(None, f"Sprachmodell als Prüfer nicht verfügbar: {exc}")
    verdicts, reason = parse_judge_reply(reply, len(checkable))
    if verdicts is None:
        return JudgeResult(None, reason)
    for verdict, i in zip(verdicts, checkable, strict=True):
        supports[i] = SentenceSupport(parts[i], verdict, None, 1.0 if verdict else 0.0)
    return JudgeResult(_groundedness(supports, "llm"))


def groundedness_llm(provider: LLMProvider, answer: str,
                     cited_texts: Sequence[str]) -> Groundedness | None:
    """The language model's verdict per answer sentence ("gestützt" / "nicht gestützt"),
    from one call with the prompt pipelines/prompts/de/groundedness_judge.md.

    The same sentences as `groundedness_offline` are judged (greetings are not). None when
    the model fails or its reply cannot be read; `judge_groundedness` also says why.
    """
    result = judge_groundedness(provider, answer, cited_texts)
    if result.groundedness is None:
        logger.warning("Groundedness-Prüfung durch das Sprachmodell ohne Ergebnis: %s",
                       result.reason)
    return result.groundedness


# --------------------------------------------------------------------------- item kinds

_ANSWERED = frozenset({"llm", "extractive", "kuratiert"})
_DECLINED = frozenset({"keine_antwort", "mensch", "verweis"})


def kind_correct(kind: str, mode: str, handoff: bool, no_answer: bool) -> bool | None:
    """Whether the bot reacted to the item as its kind requires.

    - answerable ("beantwortbar"): the bot answered from the documents or with a curated
      answer (mode llm, extractive or kuratiert) and did not report "keine Antwort".
    - no_answer ("nicht in den Unterlagen"): the bot did not invent an answer; it said it
      has none (keine_antwort), offered a person (mensch, or a handoff offer), or sent the
      citizen to another office (verweis). An answer from documents or curated is wrong.
    - out_of_scope ("nicht zuständig"): the bot sent the citizen to the responsible office
      (verweis) or declined (keine_antwort, e.g. with the bot's outside-scope message).
    - handoff ("Mensch gewünscht"): the bot handed over (mensch) or offered a person.
    None for an unknown kind: nothing to judge.

    An LLM answer that says in its own words that the documents have nothing (mode llm) is
    not recognised as a refusal here.
    """
    answered = mode in _ANSWERED and not no_answer
    if kind == "answerable":
        return answered
    if kind == "no_answer":
        return not answered and (mode in _DECLINED or handoff or no_answer)
    if kind == "out_of_scope":
        return mode in ("verweis", "keine_antwort")
    if kind == "handoff":
        return mode == "mensch" or handoff
    return None
