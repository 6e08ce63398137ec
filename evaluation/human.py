"""Human scoring of a run's answers: a rubric 1–5 per dimension, assignment of answers to
evaluators with their progress, blind pairwise comparison of two runs with sides drawn at
random, agreement between evaluators and with the automatic metrics, export of all scores."""

from __future__ import annotations

import csv
import io
import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from evaluation.agreement import (
    Correlation,
    DimensionAgreement,
    ScoreRow,
    agreement_table,
    mean_score_per_item,
    metric_correlation,
)
from evaluation.runs import run_results, run_row, sign_test, sign_verdict
from evaluation.testset import TestSetError
from pipelines.engine import Engine
from pipelines.store.models import (
    EvalAssignment,
    EvalResult,
    EvalRun,
    HumanScore,
    PairwiseVote,
    Workspace,
)

RUBRIC: dict[str, tuple[str, str]] = {
    "korrekt": ("korrekt", "Stimmt, was die Antwort sagt (Beträge, Fristen, Zuständigkeit)?"),
    "vollstaendig": ("vollständig", "Enthält sie alles, was für die Frage nötig ist?"),
    "verstaendlich": ("verständlich", "Versteht man sie ohne Verwaltungswissen?"),
    "quellen": ("Quellen passend", "Stützen die genannten Quellen die Antwort?"),
    "ton": ("Ton", "Freundlich, sachlich, angemessen für Bürgerinnen und Bürger?"),
}
SCALE = (1, 2, 3, 4, 5)
CHOICES = ("links", "rechts", "gleich")
MAX_COMMENT_CHARS = 2000
# Automatic metrics lined up with the mean human score ("korrekt") per answer.
PAIR_DIMENSION = "paarvergleich"
COMPARED_METRICS = ("f1", "semantic", "groundedness", "groundedness_llm")


@dataclass(frozen=True)
class Assignment:
    result_id: int
    item_key: str
    question: str
    answer: str
    sources: list[Any]
    done: bool


@dataclass(frozen=True)
class Progress:
    evaluator: str
    assigned: int
    done: int


@dataclass(frozen=True)
class Pair:
    """What an evaluator sees: the question and two answers, left and right, without which
    run gave which."""

    item_key: str
    question: str
    left_run: int
    right_run: int
    left_answer: str
    right_answer: str


def assign(engine: Engine, workspace: str, run_id: int, evaluators: list[str],
           per_answer: int = 2) -> int:
    """Give every answer of the run to `per_answer` evaluators, in turn; returns how many new
    assignments were made (existing ones stay)."""
    people = sorted({e.strip() for e in evaluators if e.strip()})
    if not people:
        raise TestSetError("Bitte mindestens eine bewertende Person nennen.")
    if not 1 <= per_answer <= len(people):
        raise TestSetError(f"Je Antwort 1 bis {len(people)} Bewertende (so viele sind genannt), "
                           f"nicht {per_answer}.")
    made = 0
    with engine.session() as session:
        run = run_row(session, workspace, run_id)
        existing = {(a.result_id, a.evaluator) for a in session.scalars(
            select(EvalAssignment).join(EvalResult).where(EvalResult.run_id == run.id))}
        for index, result in enumerate(run.results):
            for offset in range(per_answer):
                person = people[(index + offset) % len(people)]
                if (result.id, person) not in existing:
                    session.add(EvalAssignment(result_id=result.id, evaluator=person))
                    made += 1
    return made


def assignments_for(engine: Engine, workspace: str, run_id: int, evaluator: str,
                    everything: bool = False) -> list[Assignment]:
    """The answers assigned to `evaluator`, each marked done once scored; `everything`: all
    answers of the run (for scoring without assignments)."""
    with engine.session() as session:
        run = run_row(session, workspace, run_id)
        mine = {a.result_id for a in session.scalars(
            select(EvalAssignment).join(EvalResult).where(
                EvalResult.run_id == run.id, EvalAssignment.evaluator == evaluator))}
        scored = _scored(session, run.id, evaluator)
        return [Assignment(r.id, r.item_key, r.question, r.answer, list(r.sources or []),
                           r.id in scored) for r in run.results if everything or r.id in mine]


def progress(engine: Engine, workspace: str, run_id: int) -> list[Progress]:
    with engine.session() as session:
        run = run_row(session, workspace, run_id)
        assigned = Counter(a.evaluator for a in session.scalars(
            select(EvalAssignment).join(EvalResult).where(EvalResult.run_id == run.id)))
        rows = session.execute(
            select(HumanScore.evaluator, HumanScore.result_id).join(EvalResult)
            .join(EvalAssignment, (EvalAssignment.result_id == HumanScore.result_id)
                  & (EvalAssignment.evaluator == HumanScore.evaluator))
            .where(EvalResult.run_id == run.id)).all()
        done = Counter(evaluator for evaluator, _ in rows)
        return [Progress(e, n, done.get(e, 0)) for e, n in sorted(assigned.items())]


def save_score(engine: Engine, workspace: str, result_id: int, evaluator: str,
               scores: dict[str, int], comment: str = "") -> None:
    """Store (or replace) `evaluator`'s rubric scores for one answer; every dimension 1–5."""
    problems = [f"„{RUBRIC[d][0]}“ fehlt" for d in RUBRIC if d not in scores]
    problems += [f"„{d}“ gehört nicht zur Bewertung" for d in scores if d not in RUBRIC]
    problems += [f"„{RUBRIC[d][0]}“ muss 1 bis 5 sein, nicht {v!r}" for d, v in scores.items()
                 if d in RUBRIC and (isinstance(v, bool) or v not in SCALE)]
    if len(comment) > MAX_COMMENT_CHARS:
        problems.append(f"der Kommentar ist länger als {MAX_COMMENT_CHARS} Zeichen")
    if not evaluator.strip():
        problems.append("wer bewertet, fehlt")
    if problems:
        raise TestSetError("Bewertung nicht gespeichert: " + "; ".join(problems) + ".")
    with engine.session() as session:
        result = _result(session, workspace, result_id)
        row = session.scalar(select(HumanScore).where(HumanScore.result_id == result.id,
                                                      HumanScore.evaluator == evaluator))
        if row is None:
            row = HumanScore(result_id=result.id, evaluator=evaluator)
            session.add(row)
        row.scores = {d: int(scores[d]) for d in RUBRIC}
        row.comment = comment.strip()


def score_rows(engine: Engine, workspace: str, run_id: int) -> list[ScoreRow]:
    with engine.session() as session:
        run = run_row(session, workspace, run_id)
        rows = session.execute(select(EvalResult.item_key, HumanScore.evaluator,
                                      HumanScore.scores).join(EvalResult)
                               .where(EvalResult.run_id == run.id)).all()
    return [ScoreRow(key, evaluator, dimension, int(value))
            for key, evaluator, scores in rows for dimension, value in scores.items()]


def agreement(engine: Engine, workspace: str, run_id: int) -> list[DimensionAgreement]:
    """Agreement between the evaluators, per rubric dimension."""
    return agreement_table(score_rows(engine, workspace, run_id), list(RUBRIC))


def human_vs_metrics(engine: Engine, workspace: str, run_id: int,
                     dimension: str = "korrekt") -> dict[str, Correlation]:
    """Mean human score per answer against each automatic metric of the same answers."""
    means = mean_score_per_item(score_rows(engine, workspace, run_id), dimension)
    metrics = {r["item_key"]: r["metrics"] for r in run_results(engine, workspace, run_id)}
    keys = [k for k in means if k in metrics]
    return {name: metric_correlation([means[k] for k in keys],
                                     [_number(metrics[k].get(name)) for k in keys])
            for name in COMPARED_METRICS}


# --------------------------------------------------------------------------- pairwise


def next_pair(engine: Engine, workspace: str, run_a: int, run_b: int, evaluator: str,
              rng: random.Random | None = None) -> Pair | None:
    """The next item both runs answered that `evaluator` has not compared yet, sides drawn at
    random; None when all are done."""
    if run_a == run_b:
        raise TestSetError("Für einen Vergleich braucht es zwei verschiedene Läufe.")
    first, second = sorted((run_a, run_b))
    answers_a = {r["item_key"]: r for r in run_results(engine, workspace, first)}
    answers_b = {r["item_key"]: r for r in run_results(engine, workspace, second)}
    with engine.session() as session:
        voted = set(session.scalars(select(PairwiseVote.item_key).where(
            PairwiseVote.run_a_id == first, PairwiseVote.run_b_id == second,
            PairwiseVote.evaluator == evaluator)))
    open_keys = [k for k in answers_a if k in answers_b and k not in voted]
    if not open_keys:
        return None
    key = open_keys[0]
    left, right = (first, second) if (rng or random.SystemRandom()).random() < 0.5 \
        else (second, first)
    answers = {first: answers_a[key], second: answers_b[key]}
    return Pair(key, answers[first]["question"], left, right, answers[left]["answer"],
                answers[right]["answer"])


def save_vote(engine: Engine, workspace: str, pair: Pair, evaluator: str, choice: str,
              comment: str = "") -> None:
    if choice not in CHOICES:
        raise TestSetError(f"Die Wahl muss {', '.join(CHOICES)} sein, nicht „{choice}“.")
    first, second = sorted((pair.left_run, pair.right_run))
    with engine.session() as session:
        for run_id in (first, second):
            run_row(session, workspace, run_id)
        row = session.scalar(select(PairwiseVote).where(
            PairwiseVote.run_a_id == first, PairwiseVote.run_b_id == second,
            PairwiseVote.item_key == pair.item_key, PairwiseVote.evaluator == evaluator))
        if row is None:
            row = PairwiseVote(run_a_id=first, run_b_id=second, item_key=pair.item_key,
                               evaluator=evaluator)
            session.add(row)
        row.left_run_id = pair.left_run
        row.choice = choice
        row.comment = comment.strip()[:MAX_COMMENT_CHARS]


def pairwise_summary(engine: Engine, workspace: str, run_a: int, run_b: int
                     ) -> dict[str, Any]:
    """Wins of each run (the lower run number is "first") and ties, resolved from the side
    each answer was shown on."""
    first, second = sorted((run_a, run_b))
    with engine.session() as session:
        for run_id in (first, second):
            run_row(session, workspace, run_id)
        votes = session.scalars(select(PairwiseVote).where(
            PairwiseVote.run_a_id == first, PairwiseVote.run_b_id == second)).all()
        wins: Counter[int | str] = Counter()
        left_chosen = 0
        preferences = [ScoreRow(vote.item_key, vote.evaluator, PAIR_DIMENSION,
                                _preference(vote, first)) for vote in votes]
        for vote in votes:
            right_run = second if vote.left_run_id == first else first
            if vote.choice == "gleich":
                wins["gleich"] += 1
            else:
                wins[vote.left_run_id if vote.choice == "links" else right_run] += 1
                left_chosen += vote.choice == "links"
    decided = wins[first] + wins[second]
    p_value = sign_test(wins[second], wins[first])
    left_p = sign_test(left_chosen, decided - left_chosen)
    return {"votes": len(votes), "first_run": first, "second_run": second,
            "first_wins": wins[first], "second_wins": wins[second], "gleich": wins["gleich"],
            "share_first": round(wins[first] / decided, 4) if decided else None,
            # Sign test of the wins: is the newer (second) run preferred by more than chance?
            "p_value": p_value,
            "verdict": sign_verdict(wins[second], wins[first], p_value,
                                    f"Lauf {second} bevorzugt", f"Lauf {first} bevorzugt"),
            # Position bias check: how often the left side won among decided votes.
            "left_share": round(left_chosen / decided, 4) if decided else None,
            "left_p_value": left_p,
            "agreement": agreement_table(preferences, [PAIR_DIMENSION])[0]}


def _preference(vote: PairwiseVote, first: int) -> int:
    """A vote on the ordinal scale 1 = first run better, 2 = equal, 3 = second run better,
    whichever side each was shown on: evaluators agree when they prefer the same run."""
    if vote.choice == "gleich":
        return 2
    chose_first = (vote.choice == "links") == (vote.left_run_id == first)
    return 1 if chose_first else 3


# --------------------------------------------------------------------------- export


def export_scores(engine: Engine, workspace: str, run_id: int) -> bytes:
    """All rubric scores of the run as CSV (semicolon, UTF-8 with BOM for Excel)."""
    with engine.session() as session:
        run = run_row(session, workspace, run_id)
        rows = session.execute(
            select(EvalResult.item_key, EvalResult.question, HumanScore.evaluator,
                   HumanScore.scores, HumanScore.comment, HumanScore.created_at)
            .join(EvalResult).where(EvalResult.run_id == run.id)
            .order_by(EvalResult.id, HumanScore.evaluator)).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["lauf", "nr", "frage", "bewertet_von", *RUBRIC, "kommentar", "zeitpunkt"])
    for key, question, evaluator, scores, comment, at in rows:
        writer.writerow([run_id, key, question, evaluator, *(scores.get(d) for d in RUBRIC),
                         comment, at.isoformat()])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _scored(session: Any, run_id: int, evaluator: str) -> set[int]:
    return set(session.scalars(select(HumanScore.result_id).join(EvalResult).where(
        EvalResult.run_id == run_id, HumanScore.evaluator == evaluator)))


def _result(session: Any, workspace: str, result_id: int) -> EvalResult:
    row = session.scalar(select(EvalResult).join(EvalRun).join(Workspace).where(
        Workspace.slug == workspace, EvalResult.id == result_id))
    if row is None:
        raise TestSetError(f"Eine Antwort Nr. {result_id} gibt es im Arbeitsbereich "
                           f"„{workspace}“ nicht.")
    return row


def _number(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return math.nan if value is None else float(value)
    return float(value)
