"""Automatic evaluation runs: a stored test set answered by one bot version, scored per item,
kept with the version; two runs compared item by item; a leaderboard of versions.

Per item: retrieval (rank of the expected source, hit@1/3/k, reciprocal rank), answer (SQuAD
token-F1 and exact match against the expected answer, semantic similarity), groundedness (share
of answer sentences supported by the cited passages: offline always, an LLM judge when one
answers), whether the bot behaved right for the item's kind, and the latency. Runs never log
chat turns (the assistant keeps a follow-up's history in memory).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import fmean
from typing import Any

from scipy.stats import binomtest
from sqlalchemy import select

from evaluation import answer_metrics as am
from evaluation.metrics import first_relevant_rank, percentile
from evaluation.testset import TestItem, TestSetError, testset_items
from pipelines.assistant import Assistant, TurnResult
from pipelines.bots import get_or_create_workspace
from pipelines.engine import Engine
from pipelines.store.models import EvalResult, EvalRun, TestSet, Workspace

ANSWERED_MODES = ("llm", "extractive", "kuratiert")
MRR_DEPTH = 10
# A change this large in one item's score counts as a regression (or an improvement).
F1_CHANGE = 0.2
GROUNDED_CHANGE = 0.25
# Thresholds of `python -m evaluation run`: name -> (summary key, at least / at most).
THRESHOLDS: dict[str, tuple[str, str]] = {
    "min_hit_rate": ("hit_rate", "min"),
    "min_mrr": ("mrr", "min"),
    "min_f1": ("f1", "min"),
    "min_exact_match": ("exact_match", "min"),
    "min_semantic": ("semantic", "min"),
    "min_groundedness": ("groundedness", "min"),
    "min_kind_accuracy": ("kind_accuracy", "min"),
    "max_p95_ms": ("latency_p95_ms", "max"),
}
METRIC_LABELS = {
    "hit_rate": "Quelle gefunden (hit@k)",
    "hit@1": "Quelle an erster Stelle",
    "mrr": "MRR",
    "f1": "Token-F1",
    "exact_match": "Exakte Übereinstimmung",
    "semantic": "Bedeutungsähnlichkeit",
    "groundedness": "Belegt durch Quellen (offline)",
    "groundedness_llm": "Belegt durch Quellen (Sprachmodell)",
    "kind_accuracy": "Richtiges Verhalten je Art",
    "latency_p50_ms": "Antwortzeit p50 (ms)",
    "latency_p95_ms": "Antwortzeit p95 (ms)",
}


@dataclass
class RunInfo:
    id: int
    testset: str
    bot: str
    version: int
    label: str
    answer_mode: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    summary: dict[str, Any] = field(default_factory=dict)


def run_testset(engine: Engine, workspace: str, bot_slug: str, testset: str,
                version: int | None = None, label: str = "", actor: str = "",
                progress: Callable[[int, int, str], None] | None = None,
                llm_judge: bool = True) -> RunInfo:
    """Answer every active item of `testset` with `bot_slug` (version: current) and store the
    run; `progress(done, total, question)` after each item."""
    items = testset_items(engine, workspace, testset)
    if not items:
        raise TestSetError(f"Der Testsatz „{testset}“ hat keine aktiven Einträge; Entwürfe "
                           "müssen erst übernommen werden.")
    assistant = Assistant(engine, bot_slug, workspace, version=version, channel="cli",
                          log_turns=False)
    provider = assistant.provider
    judge = provider if llm_judge and provider is not None and provider.is_available() else None
    with engine.session() as session:
        ws = get_or_create_workspace(session, workspace)
        testset_row = session.scalar(select(TestSet).where(TestSet.workspace_id == ws.id,
                                                           TestSet.name == testset))
        run = EvalRun(workspace_id=ws.id, testset_id=testset_row.id if testset_row else None,
                      testset_name=testset, bot_slug=bot_slug, bot_version=assistant.version,
                      label=label.strip()[:200], created_by=actor, status="laeuft")
        session.add(run)
        session.flush()
        run_id = int(run.id)
    rows: list[dict[str, Any]] = []
    modes: set[str] = set()
    for number, item in enumerate(items, start=1):
        row = _answer(engine, assistant, item, judge)
        modes.add(row["mode"])
        rows.append(row)
        with engine.session() as session:
            session.add(EvalResult(run_id=run_id, **row))
        if progress:
            progress(number, len(items), item.question)
    summary = summarise([r["metrics"] for r in rows], [r["kind"] for r in rows],
                        assistant.bot.retrieval.top_k)
    summary["llm_judge"] = judge is not None
    with engine.session() as session:
        finished = session.get(EvalRun, run_id)
        assert finished is not None
        run = finished
        run.summary = summary
        run.status = "fertig"
        run.answer_mode = "llm" if "llm" in modes else "extractive"
        run.finished_at = datetime.now(UTC)
        return _info(run)


def _answer(engine: Engine, assistant: Assistant, item: TestItem, judge: Any
            ) -> dict[str, Any]:
    conversation = str(uuid.uuid4())
    error = None
    try:
        for earlier in item.history:
            assistant.ask(earlier, conversation)
        result = assistant.ask(item.question, conversation)
    except Exception as exc:  # one broken item must not end the run; it is recorded
        error = f"{type(exc).__name__}: {exc}"
        result = None
    metrics = item_metrics(engine, item, result, assistant.bot.retrieval.top_k, judge)
    return {
        "item_key": item.id, "question": item.question, "kind": item.kind,
        "answer": result.answer if result else "", "mode": result.mode if result else "fehler",
        "sources": [{"number": c.number, "source": c.source, "title": c.title, "page": c.page,
                     "snippet": c.snippet} for c in result.citations] if result else [],
        "retrieved": result.retrieved if result else [],
        "timings_ms": result.timings_ms if result else {},
        "metrics": metrics, "error": error,
    }


def item_metrics(engine: Engine, item: TestItem, result: TurnResult | None, k: int,
                 judge: Any = None) -> dict[str, Any]:
    """The per-item scores; None where a metric does not apply to the item."""
    if result is None:
        return {"kind_correct": False, "latency_ms": None}
    metrics: dict[str, Any] = {
        "kind_correct": am.kind_correct(item.kind, result.mode, result.handoff,
                                        result.no_answer),
        "latency_ms": result.timings_ms.get("gesamt"),
    }
    if item.kind == "answerable" and item.sources:
        ranked = list(dict.fromkeys(h["source"] for h in result.retrieved))
        rank = first_relevant_rank(ranked, item.sources)
        metrics.update({
            "rank": rank,
            "hit@1": rank is not None and rank <= 1,
            "hit@3": rank is not None and rank <= 3,
            "hit@k": rank is not None and rank <= k,
            "reciprocal_rank": 1 / rank if rank is not None and rank <= MRR_DEPTH else 0.0,
        })
    answered = result.mode in ANSWERED_MODES and result.answer
    if item.kind == "answerable" and item.expected_answer:
        prediction = result.answer if answered else ""
        metrics["f1"] = am.token_f1(prediction, item.expected_answer)
        metrics["exact_match"] = am.exact_match(prediction, item.expected_answer)
        metrics["semantic"] = (am.semantic_similarity(engine.embedder, prediction,
                                                      item.expected_answer)
                               if prediction else 0.0)
    if answered and result.mode != "kuratiert":
        texts = result.cited_passages or [c.snippet for c in sorted(result.citations,
                                                                     key=lambda c: c.number)]
        grounded = am.groundedness_offline(result.answer, texts, embedder=engine.embedder)
        metrics["groundedness"] = grounded.share
        if judge is not None:
            judged = am.groundedness_llm(judge, result.answer, texts)
            metrics["groundedness_llm"] = judged.share if judged is not None else None
    return metrics


def summarise(metrics: list[dict[str, Any]], kinds: list[str], k: int) -> dict[str, Any]:
    """Aggregates over the items a metric applies to, with how many that were."""

    def mean_of(key: str) -> float | None:
        values = [float(m[key]) for m in metrics if m.get(key) is not None]
        return round(fmean(values), 4) if values else None

    latencies = [float(m["latency_ms"]) for m in metrics if m.get("latency_ms") is not None]
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in sorted(set(kinds)):
        flags = [bool(m.get("kind_correct")) for m, kd in zip(metrics, kinds, strict=True)
                 if kd == kind]
        by_kind[kind] = {"items": len(flags), "correct": sum(flags),
                         "accuracy": round(sum(flags) / len(flags), 4)}
    correct = [bool(m.get("kind_correct")) for m in metrics]
    return {
        "items": len(metrics),
        "k": k,
        "hit_rate": mean_of("hit@k"),
        "hit@1": mean_of("hit@1"),
        "hit@3": mean_of("hit@3"),
        "mrr": mean_of("reciprocal_rank"),
        "retrieval_items": sum(1 for m in metrics if "hit@k" in m),
        "f1": mean_of("f1"),
        "exact_match": mean_of("exact_match"),
        "semantic": mean_of("semantic"),
        "answer_items": sum(1 for m in metrics if "f1" in m),
        "groundedness": mean_of("groundedness"),
        "groundedness_llm": mean_of("groundedness_llm"),
        "grounded_items": sum(1 for m in metrics if m.get("groundedness") is not None),
        "kind_accuracy": round(sum(correct) / len(correct), 4) if correct else None,
        "by_kind": by_kind,
        "latency_p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "latency_p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
    }


def check_thresholds(summary: dict[str, Any], limits: dict[str, float]) -> list[str]:
    """German lines for every threshold the run misses (empty: all met)."""
    failures = []
    for name, limit in limits.items():
        key, direction = THRESHOLDS[name]
        value = summary.get(key)
        label = METRIC_LABELS.get(key, key)
        if value is None:
            failures.append(f"{label}: nicht messbar in diesem Testsatz (Grenze {limit})")
        elif direction == "min" and value < limit:
            failures.append(f"{label} {value:.3f} liegt unter der Grenze {limit}")
        elif direction == "max" and value > limit:
            failures.append(f"{label} {value:.1f} liegt über der Grenze {limit}")
    return failures


# --------------------------------------------------------------------------- reading runs


def list_runs(engine: Engine, workspace: str, testset: str | None = None) -> list[RunInfo]:
    with engine.session() as session:
        query = select(EvalRun).join(Workspace).where(Workspace.slug == workspace)
        if testset:
            query = query.where(EvalRun.testset_name == testset)
        return [_info(r) for r in session.scalars(query.order_by(EvalRun.id.desc()))]


def get_run(engine: Engine, workspace: str, run_id: int) -> RunInfo:
    with engine.session() as session:
        return _info(run_row(session, workspace, run_id))


def run_results(engine: Engine, workspace: str, run_id: int) -> list[dict[str, Any]]:
    with engine.session() as session:
        run = run_row(session, workspace, run_id)
        return [{"result_id": r.id, "item_key": r.item_key, "question": r.question,
                 "kind": r.kind, "answer": r.answer, "mode": r.mode, "sources": r.sources,
                 "metrics": r.metrics, "error": r.error} for r in run.results]


@dataclass
class ItemComparison:
    item_key: str
    question: str
    kind: str
    old: dict[str, Any]
    new: dict[str, Any]
    verdict: str  # "schlechter", "besser", "gleich"
    reasons: list[str]


def compare_runs(engine: Engine, workspace: str, old_id: int, new_id: int
                 ) -> list[ItemComparison]:
    """Item by item (matched by the item's key): what got worse, what got better."""
    old = {r["item_key"]: r for r in run_results(engine, workspace, old_id)}
    new = {r["item_key"]: r for r in run_results(engine, workspace, new_id)}
    rows = []
    for key in [k for k in new if k in old]:
        a, b = old[key]["metrics"], new[key]["metrics"]
        worse, better = _changes(a, b)
        verdict = "schlechter" if worse else "besser" if better else "gleich"
        rows.append(ItemComparison(key, new[key]["question"], new[key]["kind"],
                                   {**a, "answer": old[key]["answer"], "mode": old[key]["mode"]},
                                   {**b, "answer": new[key]["answer"], "mode": new[key]["mode"]},
                                   verdict, worse or better))
    return rows


def _changes(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[str], list[str]]:
    worse: list[str] = []
    better: list[str] = []

    def flag(name: str, before: Any, after: Any) -> None:
        if before and not after:
            worse.append(name)
        elif after and not before:
            better.append(name)

    flag("richtiges Verhalten", a.get("kind_correct"), b.get("kind_correct"))
    if "hit@k" in a and "hit@k" in b:
        flag("Quelle gefunden", a["hit@k"], b["hit@k"])
    for key, step, name in (("f1", F1_CHANGE, "Token-F1"),
                            ("groundedness", GROUNDED_CHANGE, "Belegt durch Quellen")):
        if a.get(key) is not None and b.get(key) is not None:
            if b[key] <= a[key] - step:
                worse.append(f"{name} {a[key]:.2f} → {b[key]:.2f}")
            elif b[key] >= a[key] + step:
                better.append(f"{name} {a[key]:.2f} → {b[key]:.2f}")
    return worse, better


@dataclass(frozen=True)
class PairedTest:
    """One metric of two runs over the items both answered: how many items got better or
    worse, and the exact two-sided sign test on them (for a yes/no metric this is McNemar's
    exact test). `verdict` says in German whether the difference is more than chance."""

    metric: str
    items: int
    old_mean: float
    new_mean: float
    better: int
    worse: int
    p_value: float | None  # None when no item changed
    verdict: str


# Per-item metrics tested between two runs, and the change that counts for the sign test.
PAIRED_METRICS: dict[str, tuple[str, float]] = {
    "kind_correct": ("Richtiges Verhalten", 0.5),
    "hit@k": ("Quelle gefunden", 0.5),
    "reciprocal_rank": ("Rang der Quelle (MRR)", 1e-9),
    "f1": ("Token-F1", 1e-9),
    "groundedness": ("Belegt durch Quellen", 1e-9),
}
SIGNIFICANCE = 0.05


def paired_tests(rows: list[ItemComparison]) -> list[PairedTest]:
    """The sign test per metric over the compared items: is the new run better or worse than
    the old one by more than chance? Items without the metric in either run are left out."""
    tests = []
    for key, (label, step) in PAIRED_METRICS.items():
        pairs = [(float(r.old[key]), float(r.new[key])) for r in rows
                 if r.old.get(key) is not None and r.new.get(key) is not None]
        if not pairs:
            continue
        better = sum(b - a >= step for a, b in pairs)
        worse = sum(a - b >= step for a, b in pairs)
        p_value = sign_test(better, worse)
        tests.append(PairedTest(label, len(pairs), fmean(a for a, _ in pairs),
                                fmean(b for _, b in pairs), better, worse, p_value,
                                sign_verdict(better, worse, p_value)))
    return tests


def sign_test(wins: int, losses: int) -> float | None:
    """Exact two-sided binomial test of wins against losses (ties left out); None without
    either."""
    if wins + losses == 0:
        return None
    return float(binomtest(wins, wins + losses, 0.5).pvalue)


def sign_verdict(wins: int, losses: int, p_value: float | None,
                 winner: str = "neu besser", loser: str = "neu schlechter") -> str:
    if p_value is None:
        return "kein Unterschied"
    if p_value >= SIGNIFICANCE:
        return f"kein belastbarer Unterschied (p = {p_value:.2f})".replace(".", ",")
    return f"{winner if wins > losses else loser} (p = {p_value:.3f})".replace(".", ",")


def leaderboard(engine: Engine, workspace: str, testset: str) -> list[dict[str, Any]]:
    """The newest finished run of every bot version on `testset`, best first (by the mean of
    hit rate, F1, groundedness and right behaviour that the run measured)."""
    newest: dict[tuple[str, int], RunInfo] = {}
    for run in list_runs(engine, workspace, testset):
        if run.status == "fertig":
            newest.setdefault((run.bot, run.version), run)
    rows = []
    for run in newest.values():
        s = run.summary
        parts = [s.get(k) for k in ("hit_rate", "f1", "groundedness", "kind_accuracy")]
        present = [float(p) for p in parts if p is not None]
        rows.append({"run": run.id, "bot": run.bot, "version": run.version,
                     "label": run.label, "answer_mode": run.answer_mode,
                     "score": round(fmean(present), 4) if present else None,
                     **{k: s.get(k) for k in METRIC_LABELS}})
    return sorted(rows, key=lambda r: -(r["score"] or 0))


def run_row(session: Any, workspace: str, run_id: int) -> EvalRun:
    run = session.scalar(select(EvalRun).join(Workspace).where(
        Workspace.slug == workspace, EvalRun.id == run_id))
    if run is None:
        raise TestSetError(f"Einen Lauf Nr. {run_id} gibt es im Arbeitsbereich „{workspace}“ "
                           "nicht.")
    return run


def _info(run: EvalRun) -> RunInfo:
    return RunInfo(run.id, run.testset_name, run.bot_slug, run.bot_version, run.label,
                   run.answer_mode, run.status, run.started_at, run.finished_at,
                   dict(run.summary or {}))
