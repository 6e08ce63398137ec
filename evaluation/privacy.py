"""How well `pipelines.privacy.redact` finds personal data: precision and recall per kind.

Corpus (`evaluation/data/pii_de.jsonl`): one German citizen message per line with its personal
data as {"kind", "text"} spans (the text occurs exactly once in the message), a split ("dev":
looked at while writing the rules, "test": held out, reported as is) and look-alike negatives
with no spans (Aktenzeichen, opening hours, fees, paragraphs, postcodes, ordinary dates).

Matching, span level:
- A found span *matches* a gold span when the kinds are equal and the character ranges overlap.
  Recall of a kind = gold spans with a match / gold spans; precision = found spans with a match /
  found spans. Overlap rather than exact bounds because "Hauptstr. 12" redacted without the
  following "in 99423 Weimar" still keeps the street out of the log; exact figures are reported
  beside.
- *Protected* (kind-blind): every character of the gold span lies inside some found span — what
  matters for the log, where a phone number redacted as [KARTE] is still gone.
- Negatives: messages without personal data that were left completely untouched.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.privacy import KINDS, Span, redact

DEFAULT_CORPUS = Path(__file__).resolve().parent / "data" / "pii_de.jsonl"
SPLITS = ("dev", "test")


@dataclass(frozen=True)
class PiiExample:
    id: str
    split: str
    text: str
    spans: tuple[Span, ...]


def load_corpus(path: Path = DEFAULT_CORPUS) -> list[PiiExample]:
    """Examples with gold spans as offsets; ValueError (German) on a malformed line."""
    examples: list[PiiExample] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        raw = json.loads(line)
        text = str(raw["text"])
        spans: list[Span] = []
        for item in raw.get("spans", []):
            kind, value = item["kind"], item["text"]
            if kind not in KINDS:
                raise ValueError(f"Zeile {number}: unbekannte Art {kind!r}.")
            if text.count(value) != 1:
                raise ValueError(f"Zeile {number}: {value!r} kommt nicht genau einmal vor.")
            start = text.index(value)
            spans.append(Span(kind, start, start + len(value)))
        split = str(raw.get("split", "dev"))
        if split not in SPLITS:
            raise ValueError(f"Zeile {number}: unbekannter Teil {split!r}.")
        examples.append(PiiExample(str(raw["id"]), split, text, tuple(spans)))
    return examples


def _overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _covered(gold: Span, found: Iterable[Span]) -> bool:
    return all(any(s.start <= i < s.end for s in found) for i in range(gold.start, gold.end))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def score(examples: list[PiiExample],
          find: Callable[[str], Iterable[Span]] | None = None) -> dict[str, Any]:
    """Figures for `examples`; `find` defaults to the spans of `redact`."""
    find = find or (lambda text: redact(text).spans)
    gold_n: Counter[str] = Counter()
    found_n: Counter[str] = Counter()
    gold_hit: Counter[str] = Counter()
    found_hit: Counter[str] = Counter()
    exact: Counter[str] = Counter()
    protected = 0
    negatives = negatives_clean = 0
    misses: list[dict[str, str]] = []
    false_alarms: list[dict[str, str]] = []
    for example in examples:
        found = list(find(example.text))
        if not example.spans:
            negatives += 1
            negatives_clean += not found
        for gold in example.spans:
            gold_n[gold.kind] += 1
            if any(f.kind == gold.kind and _overlap(f, gold) for f in found):
                gold_hit[gold.kind] += 1
            else:
                misses.append({"id": example.id, "kind": gold.kind,
                               "text": example.text[gold.start:gold.end]})
            exact[gold.kind] += any(f == gold for f in found)
            protected += _covered(gold, found)
        for f in found:
            found_n[f.kind] += 1
            if any(g.kind == f.kind and _overlap(f, g) for g in example.spans):
                found_hit[f.kind] += 1
            else:
                false_alarms.append({"id": example.id, "kind": f.kind,
                                     "text": example.text[f.start:f.end]})
    per_kind = {
        kind: {
            "gold": gold_n[kind],
            "found": found_n[kind],
            "recall": _ratio(gold_hit[kind], gold_n[kind]),
            "precision": _ratio(found_hit[kind], found_n[kind]),
            "recall_exact": _ratio(exact[kind], gold_n[kind]),
        }
        for kind in KINDS
    }
    total_gold, total_found = sum(gold_n.values()), sum(found_n.values())
    recall = _ratio(sum(gold_hit.values()), total_gold)
    precision = _ratio(sum(found_hit.values()), total_found)
    return {
        "examples": len(examples),
        "gold_spans": total_gold,
        "found_spans": total_found,
        "recall": recall,
        "precision": precision,
        "f1": round(2 * recall * precision / (recall + precision), 4)
        if recall and precision else None,
        "recall_exact": _ratio(sum(exact.values()), total_gold),
        "protected": _ratio(protected, total_gold),
        "negatives": negatives,
        "negatives_untouched": _ratio(negatives_clean, negatives),
        "per_kind": per_kind,
        "misses": misses,
        "false_alarms": false_alarms,
    }


def throughput(texts: list[str], min_seconds: float = 1.0) -> dict[str, float]:
    """Texts and characters per second of `redact` over `texts`, repeated for `min_seconds`."""
    for text in texts[:20]:
        redact(text)  # warm caches (compiled patterns are module-level already)
    rounds = 0
    started = time.perf_counter()
    while True:
        for text in texts:
            redact(text)
        rounds += 1
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            break
    count = rounds * len(texts)
    chars = rounds * sum(len(t) for t in texts)
    return {
        "texts_per_second": round(count / elapsed),
        "chars_per_second": round(chars / elapsed),
        "mean_text_chars": round(chars / count, 1),
        "ms_per_text": round(elapsed * 1000 / count, 4),
    }


def run(path: Path = DEFAULT_CORPUS, progress: Callable[[str], None] | None = None
        ) -> dict[str, Any]:
    say = progress or (lambda _m: None)
    examples = load_corpus(path)
    payload: dict[str, Any] = {"corpus": str(path)}
    payload["all"] = score(examples)
    for split in SPLITS:
        payload[split] = score([e for e in examples if e.split == split])
    texts = [e.text for e in examples]
    say(f"{len(texts)} Texte; Geschwindigkeit wird gemessen …")
    payload["speed_corpus"] = throughput(texts)
    # Long texts as an answer of the language model would be: ten messages joined.
    long_texts = [" ".join(texts[i:i + 10]) for i in range(0, len(texts), 10)]
    payload["speed_long_texts"] = throughput(long_texts)
    return payload


def summary(payload: dict[str, Any]) -> dict[str, Any]:
    """The figures for the console: overall per split, then recall/precision per kind."""
    out: dict[str, Any] = {"corpus": payload["corpus"]}
    for part in ("all", *SPLITS):
        figures = payload[part]
        out[part] = {key: figures[key] for key in (
            "examples", "gold_spans", "recall", "precision", "f1", "recall_exact", "protected",
            "negatives", "negatives_untouched")}
    out["per_kind (all)"] = {
        kind: f"R {v['recall']} P {v['precision']} ({v['gold']} gold, {v['found']} gefunden)"
        for kind, v in payload["all"]["per_kind"].items()
    }
    out["misses (all)"] = {f"{m['id']} {m['kind']}": m["text"] for m in payload["all"]["misses"]}
    out["false_alarms (all)"] = {f"{m['id']} {m['kind']}": m["text"]
                                 for m in payload["all"]["false_alarms"]}
    out["speed_corpus"] = payload["speed_corpus"]
    out["speed_long_texts"] = payload["speed_long_texts"]
    return out
