"""Benchmark of the plain-language simplification on DEplain-web (open, CC-BY subset).

`python -m evaluation bench plain-language [--limit N] [--json]`

Sentence pairs (complex original → human simplification) from
../shared/data/deplain-web-open/deplain-web-sent-manual-open-test.cc-by.csv. The target per
pair follows the corpus: simplifications at level A1 (the bible texts, easy-to-read) are
measured as Leichte Sprache, A2 (Alumniportal, language learners) as Einfache Sprache.

Systems, all in the same run on the same pairs:
- identity: output = input (the baseline every system must beat on SARI);
- offline: the rule-based simplification (no model);
- llm: the generate → check → revise loop, only when a language model answers (else
  reported as not measured, with the reason);
- reference: the human simplification (readability only; its SARI against itself is 100).
SARI as in evaluation/sari.py (one reference per sentence). Readability over all sentences of
a system joined as one text (one paragraph per pair), plus rule findings per 100 words.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.sari import corpus_sari
from pipelines.plain.errors import PlainLanguageError
from pipelines.plain.readability import readability
from pipelines.plain.rulebased import simplify_by_rules
from pipelines.plain.rules import Target, check_text
from pipelines.settings import REPO_ROOT

DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "deplain-web-open"
SENTENCE_FILE = DATA_DIR / "deplain-web-sent-manual-open-test.cc-by.csv"
DEFAULT_LLM_LIMIT = 50
_LEVEL_TARGET: dict[str, Target] = {"a1": "leicht", "a2": "einfach"}

Say = Callable[[str], None] | None


@dataclass(frozen=True)
class Pair:
    original: str
    simplification: str
    target: Target
    domain: str


def load_pairs(path: Path = SENTENCE_FILE, limit: int | None = None) -> list[Pair]:
    """Sentence pairs of the DEplain CSV; ValueError (German) when the file is unusable."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"DEplain-Datei {path} nicht lesbar: {exc}") from exc
    pairs = []
    for row in rows:
        original = (row.get("original") or "").strip()
        simple = (row.get("simplification") or "").strip()
        level = (row.get("language_level_simple") or "").strip().lower()
        if not original or not simple:
            continue
        pairs.append(Pair(original, simple, _LEVEL_TARGET.get(level, "einfach"),
                          row.get("domain") or ""))
    if not pairs:
        raise ValueError(f"In {path} stehen keine Satzpaare (Spalten original, "
                         "simplification).")
    return pairs[:limit] if limit else pairs


def _readability(texts: list[str]) -> dict[str, float] | None:
    try:
        scores = readability("\n\n".join(texts))
    except PlainLanguageError:
        return None
    return {"flesch_amstad": round(scores.flesch_amstad, 2),
            "wiener_sachtextformel": round(scores.wiener_sachtextformel, 2),
            "lix": round(scores.lix, 2),
            "words_per_sentence": round(scores.avg_sentence_length, 2),
            "syllables_per_word": round(scores.avg_syllables_per_word, 3)}


def _findings_per_100_words(texts: list[str], targets: list[Target]) -> dict[str, float]:
    words = 0
    findings = 0
    severe = 0
    for text, target in zip(texts, targets, strict=True):
        result = check_text(text, target)
        findings += len(result.findings)
        severe += len(result.severe)
        words += len(text.split())
    scale = 100.0 / max(1, words)
    return {"all": round(findings * scale, 2), "severe": round(severe * scale, 2)}


def _system(pairs: list[Pair], outputs: list[str], with_sari: bool = True) -> dict[str, Any]:
    targets = [p.target for p in pairs]
    result: dict[str, Any] = {}
    if with_sari:
        sari = corpus_sari([p.original for p in pairs], outputs,
                           [[p.simplification] for p in pairs])
        result.update(sari=round(sari.sari, 2), keep=round(sari.keep, 2),
                      delete=round(sari.delete, 2), add=round(sari.add, 2))
    result["readability"] = _readability(outputs)
    result["findings_per_100_words"] = _findings_per_100_words(outputs, targets)
    result["changed_sentences"] = sum(
        1 for p, o in zip(pairs, outputs, strict=True) if o.strip() != p.original.strip())
    return result


def _by_target(pairs: list[Pair], outputs: dict[str, list[str]]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for target in ("leicht", "einfach"):
        index = [i for i, p in enumerate(pairs) if p.target == target]
        if not index:
            continue
        subset = [pairs[i] for i in index]
        table[target] = {"pairs": len(index)}
        for name, texts in outputs.items():
            sari = corpus_sari([p.original for p in subset], [texts[i] for i in index],
                               [[p.simplification] for p in subset])
            table[target][f"sari_{name}"] = round(sari.sari, 2)
    return table


def _llm_provider(settings: Any) -> tuple[Any, str | None]:
    from pipelines.llm.providers import get_provider

    try:
        provider = get_provider(settings)
    except ValueError as exc:
        return None, str(exc)
    if provider is None:
        return None, "kein Sprachmodell eingestellt (LLM-Anbieter „extractive“)"
    if not provider.is_available():
        where = getattr(provider, "host", None) or getattr(provider, "base_url", "")
        return None, (f"Sprachmodell nicht erreichbar ({provider.name} {where}, Modell "
                      f"{provider.model})")
    return provider, None


def run(path: Path = SENTENCE_FILE, limit: int | None = None,
        llm_limit: int = DEFAULT_LLM_LIMIT, settings: Any = None,
        say: Say = None) -> dict[str, Any]:
    """All figures of the benchmark as one dict (see module docstring)."""
    pairs = load_pairs(path, limit)
    if say:
        say(f"{len(pairs)} Satzpaare aus {path.name}")
    identity = [p.original for p in pairs]
    started = time.perf_counter()
    offline = [simplify_by_rules(p.original, p.target)[0] for p in pairs]
    offline_seconds = time.perf_counter() - started
    payload: dict[str, Any] = {
        "dataset": {
            "file": str(path), "pairs": len(pairs),
            "targets": dict(Counter(p.target for p in pairs)),
            "domains": dict(Counter(p.domain for p in pairs)),
        },
        "source": {"readability": _readability(identity),
                   "findings_per_100_words": _findings_per_100_words(
                       identity, [p.target for p in pairs])},
        "identity": _system(pairs, identity),
        "offline": {**_system(pairs, offline),
                    "ms_per_sentence": round(1000 * offline_seconds / len(pairs), 2)},
        "reference": _system(pairs, [p.simplification for p in pairs], with_sari=False),
        "by_target": _by_target(pairs, {"identity": identity, "offline": offline}),
    }
    payload["llm"] = _run_llm(pairs, llm_limit, settings, say)
    return payload


def _run_llm(pairs: list[Pair], llm_limit: int, settings: Any, say: Say) -> dict[str, Any]:
    from pipelines.plain.simplify import simplify
    from pipelines.settings import Settings

    provider, reason = _llm_provider(settings or Settings())
    if provider is None:
        return {"measured": False, "reason": reason}
    subset = pairs[:llm_limit]
    outputs: list[str] = []
    rounds = 0
    fallbacks = 0
    started = time.perf_counter()
    for number, pair in enumerate(subset, 1):
        result = simplify(pair.original, pair.target, provider)
        outputs.append(result.text)
        rounds += len(result.rounds)
        fallbacks += result.mode != "llm"
        if say:
            say(f"[{number}/{len(subset)}] {result.mode}, {len(result.rounds)} Runde(n)")
    seconds = time.perf_counter() - started
    return {
        "measured": True, "model": provider.model, "pairs": len(subset),
        **_system(subset, outputs),
        "identity_on_same_pairs": _system(subset, [p.original for p in subset]),
        "offline_on_same_pairs": _system(
            subset, [simplify_by_rules(p.original, p.target)[0] for p in subset]),
        "rounds_per_text": round(rounds / len(subset), 2),
        "fallbacks_to_rules": fallbacks,
        "seconds_per_text": round(seconds / len(subset), 2),
    }


def summary(payload: dict[str, Any]) -> dict[str, Any]:
    """The figures as short German lines for the terminal."""
    def line(system: dict[str, Any]) -> str:
        parts = []
        if "sari" in system:
            parts.append(f"SARI {system['sari']:.2f} (behalten {system['keep']:.1f}, "
                         f"streichen {system['delete']:.1f}, hinzufügen {system['add']:.1f})")
        scores = system.get("readability") or {}
        if scores:
            parts.append(f"Flesch-Amstad {scores['flesch_amstad']:.1f}, "
                         f"WSTF {scores['wiener_sachtextformel']:.1f}, LIX {scores['lix']:.1f}")
        parts.append(f"Regelverstöße/100 Wörter {system['findings_per_100_words']['severe']}")
        return "; ".join(parts)

    llm = payload["llm"]
    return {
        "Satzpaare": f"{payload['dataset']['pairs']} ({payload['dataset']['targets']})",
        "Ausgangstext": line(payload["source"]),
        "Identität (Ausgabe = Eingabe)": line(payload["identity"]),
        "regelbasiert (offline)": line(payload["offline"])
        + f"; {payload['offline']['ms_per_sentence']} ms/Satz",
        "menschliche Referenz": line(payload["reference"]),
        "Sprachmodell": line(llm) + f"; {llm['rounds_per_text']} Runden/Text"
        if llm.get("measured") else f"nicht gemessen: {llm['reason']}",
    }
