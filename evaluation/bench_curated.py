"""How well curated answers are matched: hand-labelled pairs (stored question, asked question,
same meaning or not), scored with the combined measure of pipelines.curated and, in the same
run, with word overlap alone and with the embeddings alone. Precision matters most: a wrong
curated answer is served as "Geprüfte Antwort der Verwaltung"."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.curated import LEXICAL_WEIGHT, CuratedInfo, best_match
from pipelines.embeddings import Embedder
from pipelines.settings import REPO_ROOT

PAIRS_FILE = REPO_ROOT / "evaluation" / "data" / "curated_pairs_de.jsonl"
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)


def load_pairs(path: Path) -> list[dict[str, Any]]:
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pairs.append({"stored": str(row["stored"]), "asked": str(row["asked"]),
                          "same": bool(row["same"])})
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, Zeile {number}: ungültiger Eintrag ({exc})") from exc
    return pairs


def run(embedder: Embedder, path: Path = PAIRS_FILE, default_threshold: float = 0.7,
        say: Callable[[str], None] | None = None) -> dict[str, Any]:
    pairs = load_pairs(path)
    now = datetime.now(UTC)
    scored = []
    for pair in pairs:
        candidate = CuratedInfo(1, None, [pair["stored"]], "", "", True, 0, None, "", now, now)
        found = best_match(embedder, pair["asked"], [candidate])
        assert found is not None
        scored.append((pair, found))
    if say:
        say(f"{len(pairs)} Paare bewertet")
    measures = {
        f"kombiniert ({LEXICAL_WEIGHT:g} Wort + {1 - LEXICAL_WEIGHT:g} Bedeutung)":
            [m.score for _, m in scored],
        "nur Wortgleichheit": [m.lexical for _, m in scored],
        "nur Bedeutung (Einbettungen)": [m.semantic for _, m in scored],
    }
    labels = [p["same"] for p, _ in scored]
    table = {name: {f"{t:g}": _counts(values, labels, t) for t in THRESHOLDS}
             for name, values in measures.items()}
    best = {name: max(rows.items(), key=lambda kv: (kv[1]["f1"], kv[1]["precision"]))
            for name, rows in table.items()}
    combined = next(iter(measures))
    mistakes = [
        {"stored": p["stored"], "asked": p["asked"], "same": p["same"], "score": m.score}
        for p, m in scored if (m.score >= default_threshold) != p["same"]]
    return {
        "pairs": len(pairs), "same": sum(labels), "different": len(labels) - sum(labels),
        "default_threshold": default_threshold,
        "at_default": table[combined][f"{default_threshold:g}"],
        "best_f1_per_measure": {name: {"threshold": t, **row} for name, (t, row) in best.items()},
        "by_threshold": table,
        "mistakes_at_default": mistakes,
    }


def _counts(values: list[float], labels: list[bool], threshold: float) -> dict[str, float]:
    tp = sum(1 for v, y in zip(values, labels, strict=True) if v >= threshold and y)
    fp = sum(1 for v, y in zip(values, labels, strict=True) if v >= threshold and not y)
    fn = sum(1 for v, y in zip(values, labels, strict=True) if v < threshold and y)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
            "false_matches": fp}
