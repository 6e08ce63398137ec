"""Answers without a language model: the best-matching sentences of the retrieved passages,
verbatim, each with the number of its source. No word is invented."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.german import content_terms, split_sentences
from pipelines.index import Hit

MAX_SENTENCES = 3
PASSAGES_CONSIDERED = 3


@dataclass(frozen=True)
class ExtractedSentence:
    text: str
    source_number: int
    score: float


def _sentences_of(hit: Hit) -> list[str]:
    if hit.kind == "table":
        lines = [line for line in hit.text.splitlines() if line.strip()]
        return [line for line in lines if not line.startswith("Tabelle:")] or lines
    return split_sentences(hit.text)


def extract_sentences(question: str, hits: Sequence[Hit]) -> list[ExtractedSentence]:
    """Up to MAX_SENTENCES sentences covering the question best, in reading order."""
    wanted = content_terms(question)
    candidates: list[tuple[float, int, int, str]] = []
    for rank, hit in enumerate(hits[:PASSAGES_CONSIDERED]):
        for position, sentence in enumerate(_sentences_of(hit)):
            terms = content_terms(sentence)
            overlap = len(wanted & terms) / len(wanted) if wanted else 0.0
            if overlap == 0:
                continue
            # Earlier passages ranked better; shorter sentences that cover the same terms are
            # more to the point.
            score = overlap - 0.05 * rank - 0.002 * max(len(sentence.split()) - 25, 0)
            candidates.append((score, rank, position, sentence))
    if not candidates:
        return []
    candidates.sort(key=lambda c: c[0], reverse=True)
    best = candidates[0][0]
    chosen = [c for c in candidates[:MAX_SENTENCES] if c[0] >= best * 0.6]
    chosen.sort(key=lambda c: (c[1], c[2]))
    return [ExtractedSentence(text, rank + 1, score) for score, rank, _, text in chosen]


def extractive_answer(question: str, hits: Sequence[Hit]) -> str:
    """The sentences with their [n] markers; empty when nothing in the passages matches."""
    parts = []
    for sentence in extract_sentences(question, hits):
        text = sentence.text.rstrip()
        parts.append(f"{text} [{sentence.source_number}]")
    return "\n".join(parts)
