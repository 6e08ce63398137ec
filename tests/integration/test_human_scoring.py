"""Human scoring on real runs: assignment and progress, rubric validation, agreement from the
stored scores (checked against scikit-learn), human scores against the automatic metrics,
blind pairwise comparison with random sides, the CSV export, workspaces apart."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from evaluation import human
from evaluation.agreement import COHEN_QUADRATIC
from evaluation.runs import RunInfo, run_results, run_testset
from evaluation.testset import TestItem, TestSetError, add_items, create_testset
from pipelines.engine import Engine
from tests.support.corpus import bot_on_corpus

DOCS = {
    "reisepass.md": "# Reisepass\n\nEin Reisepass kostet 70,00 Euro.\n",
    "hundesteuer.md": "# Hundesteuer\n\nDie Hundesteuer beträgt 96 Euro im Jahr.\n",
    "sperrmuell.md": "# Sperrmüll\n\nSperrmüll melden Sie online über das Abfallportal an.\n",
    "biotonne.md": "# Biotonne\n\nDie Biotonne wird alle zwei Wochen geleert.\n",
}
BOT = "menschen-bot"
WS = "standard"
QUESTIONS = ["Was kostet ein Reisepass?", "Wie hoch ist die Hundesteuer?",
             "Wie melde ich Sperrmüll an?", "Wann wird die Biotonne geleert?",
             "Wann hat das Hallenbad geöffnet?", "Was kostet ein Parkausweis?"]
EXPECTED = ["70,00 Euro", "96 Euro im Jahr", "online über das Abfallportal", "alle zwei Wochen",
            "", ""]


@pytest.fixture
def two_runs(engine: Engine, corpus: Path) -> tuple[Engine, RunInfo, RunInfo]:
    bot_on_corpus(engine, corpus, BOT)
    create_testset(engine, WS, "sechs")
    add_items(engine, WS, "sechs", [TestItem(f"q{i}", q, e, "", "answerable") for i, (q, e)
                                    in enumerate(zip(QUESTIONS, EXPECTED, strict=True), 1)])
    return engine, run_testset(engine, WS, BOT, "sechs"), run_testset(engine, WS, BOT, "sechs")


def scores(value: int) -> dict[str, int]:
    return {dimension: value for dimension in human.RUBRIC}


def test_assignment_spreads_answers_and_progress_counts_only_assigned_work(
        two_runs: tuple[Engine, RunInfo, RunInfo]) -> None:
    engine, run, _ = two_runs

    assert human.assign(engine, WS, run.id, ["anna", "ben", "cem"], per_answer=2) == 12
    assert human.assign(engine, WS, run.id, ["anna", "ben", "cem"], per_answer=2) == 0
    mine = human.assignments_for(engine, WS, run.id, "anna")
    assert len(mine) == 4 and not any(a.done for a in mine)
    human.save_score(engine, WS, mine[0].result_id, "anna", scores(4), "passt")
    # A score for an answer not assigned to her is kept but is no progress on her list.
    other = next(r for r in run_results(engine, WS, run.id)
                 if r["result_id"] not in {a.result_id for a in mine})
    human.save_score(engine, WS, other["result_id"], "anna", scores(2))

    progress = {p.evaluator: (p.assigned, p.done) for p in human.progress(engine, WS, run.id)}
    assert progress == {"anna": (4, 1), "ben": (4, 0), "cem": (4, 0)}
    assert human.assignments_for(engine, WS, run.id, "anna")[0].done
    # Scoring without assignments: every answer of the run, the two she scored marked done.
    everything = human.assignments_for(engine, WS, run.id, "anna", everything=True)
    assert len(everything) == len(QUESTIONS)
    assert {a.result_id for a in everything if a.done} == {mine[0].result_id,
                                                            other["result_id"]}
    with pytest.raises(TestSetError, match="1 bis 3 Bewertende"):
        human.assign(engine, WS, run.id, ["anna", "ben", "cem"], per_answer=4)


@pytest.mark.parametrize(("given", "words"), [
    ({**scores(3), "korrekt": 6}, "„korrekt“ muss 1 bis 5 sein, nicht 6"),
    ({**scores(3), "ton": True}, "„Ton“ muss 1 bis 5 sein"),
    ({k: 3 for k in list(human.RUBRIC)[:-1]}, "„Ton“ fehlt"),
    ({**scores(3), "witz": 5}, "„witz“ gehört nicht zur Bewertung"),
])
def test_bad_scores_are_refused_by_name(two_runs: tuple[Engine, RunInfo, RunInfo],
                                        given: dict[str, int], words: str) -> None:
    engine, run, _ = two_runs
    result_id = run_results(engine, WS, run.id)[0]["result_id"]

    with pytest.raises(TestSetError, match=words):
        human.save_score(engine, WS, result_id, "anna", given)

    assert human.score_rows(engine, WS, run.id) == []


def test_agreement_from_stored_scores_matches_scikit_learn(
        two_runs: tuple[Engine, RunInfo, RunInfo]) -> None:
    engine, run, _ = two_runs
    results = run_results(engine, WS, run.id)
    anna = [5, 4, 4, 2, 1, 3]
    ben = [5, 3, 4, 2, 2, 3]
    for result, a, b in zip(results, anna, ben, strict=True):
        human.save_score(engine, WS, result["result_id"], "anna", {**scores(3), "korrekt": a})
        human.save_score(engine, WS, result["result_id"], "ben", {**scores(3), "korrekt": b})

    table = {row.dimension: row for row in human.agreement(engine, WS, run.id)}

    correct = {s.name: s for s in table["korrekt"].statistics}
    expected = cohen_kappa_score(anna, ben, weights="quadratic", labels=[1, 2, 3, 4, 5])
    assert correct[COHEN_QUADRATIC].value == pytest.approx(expected)
    assert "Übereinstimmung" in correct[COHEN_QUADRATIC].interpretation
    assert table["korrekt"].items == 6 and table["korrekt"].raters == 2
    # Everyone gave 3 for the tone: agreement is not computable, and the page says why.
    tone = table["ton"].statistics[0]
    assert tone.value != tone.value and "nicht berechenbar" in tone.interpretation


def test_human_scores_line_up_with_the_automatic_metrics(
        two_runs: tuple[Engine, RunInfo, RunInfo]) -> None:
    engine, run, _ = two_runs
    results = run_results(engine, WS, run.id)
    f1 = {r["result_id"]: r["metrics"].get("f1") for r in results}
    for result_id, value in f1.items():
        # A rater who agrees with token-F1 (and scores answers without one in the middle).
        human.save_score(engine, WS, result_id, "anna",
                         {**scores(3), "korrekt": 3 if value is None else 1 + round(4 * value)})

    correlations = human.human_vs_metrics(engine, WS, run.id)

    assert set(correlations) == set(human.COMPARED_METRICS)
    measured = correlations["f1"]
    assert measured.n == sum(1 for v in f1.values() if v is not None) == 4
    assert measured.spearman > 0.8, measured
    assert correlations["groundedness_llm"].n == 0  # no language model judged this run


def test_blind_pairs_draw_sides_at_random_and_count_wins_per_run(
        two_runs: tuple[Engine, RunInfo, RunInfo]) -> None:
    engine, first, second = two_runs
    rng = random.Random(7)
    lefts = []
    while (pair := human.next_pair(engine, WS, second.id, first.id, "anna", rng)) is not None:
        lefts.append(pair.left_run)
        # Anna always prefers the answer of the first run, wherever it is shown.
        human.save_vote(engine, WS, pair, "anna",
                        "links" if pair.left_run == first.id else "rechts")

    assert len(lefts) == len(QUESTIONS)
    assert {first.id, second.id} == set(lefts)  # both sides occurred
    summary = human.pairwise_summary(engine, WS, first.id, second.id)
    assert (summary["first_run"], summary["first_wins"], summary["second_wins"]) == \
        (first.id, len(QUESTIONS), 0)
    assert summary["share_first"] == 1.0
    assert summary["left_share"] == pytest.approx(lefts.count(first.id) / len(QUESTIONS),
                                                  abs=1e-4)
    # Six of six for the first run: the exact sign test gives 2 · 0.5⁶.
    assert summary["p_value"] == pytest.approx(2 * 0.5 ** 6)
    assert summary["verdict"] == f"Lauf {first.id} bevorzugt (p = 0,031)"
    with pytest.raises(TestSetError, match="links, rechts, gleich"):
        human.save_vote(engine, WS, pair or human.Pair("q1", "", first.id, second.id, "", ""),
                        "anna", "beide")


def test_pairwise_agreement_counts_the_run_preferred_not_the_side(
        two_runs: tuple[Engine, RunInfo, RunInfo]) -> None:
    engine, first, second = two_runs
    # 1 = first run better, 2 = equal, 3 = second run better, per question.
    wanted = {"anna": [1, 1, 3, 2, 1, 3], "ben": [1, 1, 3, 1, 2, 3]}
    choice = {2: "gleich"}
    for evaluator, preferences in wanted.items():
        rng = random.Random(evaluator)
        for preference in preferences:
            pair = human.next_pair(engine, WS, first.id, second.id, evaluator, rng)
            assert pair is not None
            preferred = {1: first.id, 3: second.id}.get(preference)
            human.save_vote(engine, WS, pair, evaluator, choice.get(preference) or (
                "links" if pair.left_run == preferred else "rechts"))

    summary = human.pairwise_summary(engine, WS, first.id, second.id)

    assert (summary["first_wins"], summary["second_wins"], summary["gleich"]) == (6, 4, 2)
    assert summary["verdict"].startswith("kein belastbarer Unterschied")
    agreement = summary["agreement"]
    assert (agreement.raters, agreement.items) == (2, len(QUESTIONS))
    kappa = next(s for s in agreement.statistics if s.name == COHEN_QUADRATIC)
    assert kappa.value == pytest.approx(
        cohen_kappa_score(wanted["anna"], wanted["ben"], weights="quadratic"))


def test_export_holds_every_score_and_other_workspaces_see_nothing(
        two_runs: tuple[Engine, RunInfo, RunInfo]) -> None:
    engine, run, _ = two_runs
    result_id = run_results(engine, WS, run.id)[0]["result_id"]
    human.save_score(engine, WS, result_id, "anna", scores(4), "Betrag fehlt; sonst gut")

    text = human.export_scores(engine, WS, run.id).decode("utf-8")

    header, line = text.lstrip("\ufeff").splitlines()
    assert header.split(";")[:4] == ["lauf", "nr", "frage", "bewertet_von"]
    assert line.split(";")[1:4] == ["q1", QUESTIONS[0], "anna"]
    assert '"Betrag fehlt; sonst gut"' in line
    with pytest.raises(TestSetError, match="gibt es im Arbeitsbereich „jena“ nicht"):
        human.save_score(engine, "jena", result_id, "anna", scores(4))
    with pytest.raises(TestSetError, match="Lauf"):
        human.export_scores(engine, "jena", run.id)
