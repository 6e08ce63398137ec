"""SARI for text simplification (Xu et al. 2016, TACL 4, 401–415).

Sentence-level definition as in tensor2tensor's `sari_hook` and the `evaluate` library's SARI
(which both differ from the authors' first script in two documented ways: 0/0 counts as 1,
and the keep recall divides by the reference-weighted count):

    SARI = (F1_keep + P_del + F1_add) / 3, each averaged over n-grams n = 1..4.

- keep: n-grams of the source the output kept, counted with multiplicity and weighted by
  how many references keep them; precision and recall against the references; F1.
- delete: n-grams of the source the output dropped; precision only (how many of the dropped
  ones the references also dropped), weighted like keep.
- add: n-grams in the output that are not in the source, as sets; precision and recall
  against the n-grams the references add; F1.

Source, output and references are compared after `tokenize` (lowercase, punctuation split
off, like sacrebleu's 13a tokenizer for Latin script). No third-party code; tested against
the published example values (tests/unit/test_sari.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

MAX_N = 4

_PUNCTUATION = re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])")
_PERIOD_COMMA_BEFORE = re.compile(r"([^0-9])([\.,])")
_PERIOD_COMMA_AFTER = re.compile(r"([\.,])([^0-9])")
_DASH_BEFORE_DIGIT = re.compile(r"([0-9])(-)")


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    """Lowercase and split punctuation off words, keeping "1.250,50" and "2026-05" whole
    in the way mteval's 13a tokenizer does."""
    text = text.lower() if lowercase else text
    text = f" {text} "
    text = _PUNCTUATION.sub(r" \1 ", text)
    text = _PERIOD_COMMA_BEFORE.sub(r"\1 \2 ", text)
    text = _PERIOD_COMMA_AFTER.sub(r" \1 \2", text)
    text = _DASH_BEFORE_DIGIT.sub(r"\1 \2 ", text)
    return text.split()


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class SariParts:
    """SARI and its three parts for one sentence, each in [0, 1]."""

    sari: float
    keep: float
    delete: float
    add: float


def _ngram_scores(source: Counter[tuple[str, ...]], output: Counter[tuple[str, ...]],
                  references: list[Counter[tuple[str, ...]]]) -> tuple[float, float, float]:
    count = len(references)
    # Every source/output n-gram is weighted by the number of references, so that the
    # pooled reference counts compare on the same scale.
    source_w = Counter({g: c * count for g, c in source.items()})
    output_w = Counter({g: c * count for g, c in output.items()})
    pooled: Counter[tuple[str, ...]] = Counter()
    for reference in references:
        pooled.update(reference)

    kept = source_w & output_w
    kept_good = kept & pooled
    kept_possible = source_w & pooled
    keep_precision = (sum(kept_good[g] / kept[g] for g in kept_good) / len(kept)
                      if kept else 1.0)
    keep_recall = (sum(kept_good.values()) / sum(kept_possible.values())
                   if kept_possible else 1.0)
    keep = _f1(keep_precision, keep_recall)

    deleted = source_w - output_w
    deleted_good = deleted - pooled
    delete = (sum(deleted_good[g] / deleted[g] for g in deleted_good) / len(deleted)
              if deleted else 1.0)

    added = set(output) - set(source)
    added_good = added & set(pooled)
    added_possible = set(pooled) - set(source)
    add_precision = len(added_good) / len(added) if added else 1.0
    add_recall = len(added_good) / len(added_possible) if added_possible else 1.0
    add = _f1(add_precision, add_recall)
    return keep, delete, add


def sentence_sari_parts(source: Sequence[str], output: Sequence[str],
                        references: Sequence[Sequence[str]], max_n: int = MAX_N) -> SariParts:
    """SARI of token lists (already tokenized)."""
    if not references:
        raise ValueError("SARI braucht mindestens eine Referenz.")
    keeps, deletes, adds = [], [], []
    for n in range(1, max_n + 1):
        keep, delete, add = _ngram_scores(
            _ngrams(source, n), _ngrams(output, n), [_ngrams(r, n) for r in references])
        keeps.append(keep)
        deletes.append(delete)
        adds.append(add)
    keep_avg = sum(keeps) / max_n
    delete_avg = sum(deletes) / max_n
    add_avg = sum(adds) / max_n
    return SariParts((keep_avg + delete_avg + add_avg) / 3, keep_avg, delete_avg, add_avg)


def sentence_sari(source: str, output: str, references: Sequence[str],
                  tokenized: bool = False) -> float:
    """SARI of one sentence in [0, 100]; `tokenized=True` splits at spaces only."""
    split = (lambda s: s.split(" ")) if tokenized else tokenize
    parts = sentence_sari_parts(split(source), split(output), [split(r) for r in references])
    return 100.0 * parts.sari


def corpus_sari(sources: Sequence[str], outputs: Sequence[str],
                references: Sequence[Sequence[str]], tokenized: bool = False) -> SariParts:
    """Mean sentence SARI over a corpus (as `evaluate` and EASSE's sentence mode), in [0, 100]
    for `sari` and each part."""
    if not (len(sources) == len(outputs) == len(references)):
        raise ValueError("Quellen, Ausgaben und Referenzen müssen gleich viele sein.")
    if not sources:
        raise ValueError("Keine Sätze zum Messen.")
    split = (lambda s: s.split(" ")) if tokenized else tokenize
    totals = [0.0, 0.0, 0.0, 0.0]
    for source, output, refs in zip(sources, outputs, references, strict=True):
        parts = sentence_sari_parts(split(source), split(output), [split(r) for r in refs])
        for index, value in enumerate((parts.sari, parts.keep, parts.delete, parts.add)):
            totals[index] += value
    mean = [100.0 * t / len(sources) for t in totals]
    return SariParts(*mean)
