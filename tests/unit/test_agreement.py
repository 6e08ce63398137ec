"""Agreement statistics: our own implementations against the reference libraries on the same
inputs (scikit-learn, statsmodels, krippendorff, scipy), published examples, degenerate data,
interpretation bands, and the per-dimension table."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import krippendorff
import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as reference_fleiss

from evaluation.agreement import (
    ALPHA_ORDINAL,
    COHEN_QUADRATIC,
    FLEISS,
    Level,
    ScoreRow,
    Weights,
    agreement_table,
    cohen_kappa,
    fleiss_kappa,
    interpret,
    krippendorff_alpha,
    mean_score_per_item,
    metric_correlation,
)

REL = 1e-9
DIMENSIONS = ("korrekt", "vollständig", "verständlich", "quellen_passend", "ton")


def rubric_scores(seed: int, items: int, raters: int, noise: float = 0.35) -> np.ndarray:
    """items × raters scores 1–5 like real rubric data: a true quality per answer, each rater
    off by one now and then, one rater a little stricter."""
    rng = np.random.default_rng(seed)
    quality = rng.integers(1, 6, size=items)
    offsets = rng.choice([-1, 0, 1], size=(items, raters), p=[noise / 2, 1 - noise, noise / 2])
    offsets[:, 0] -= rng.random(items) < 0.15
    return np.clip(quality[:, np.newaxis] + offsets, 1, 5)


def reference_alpha(reliability: Sequence[Sequence[Any]], level: Level,
                    value_domain: Sequence[str] | None = None) -> float:
    """krippendorff.alpha with our None as its np.nan."""
    data = [[np.nan if value is None else value for value in row] for row in reliability]
    return float(krippendorff.alpha(data, level_of_measurement=level, value_domain=value_domain))


def with_missing(matrix: np.ndarray, share: float, seed: int) -> list[list[int | None]]:
    rng = np.random.default_rng(seed)
    mask = rng.random(matrix.shape) < share
    return [[None if gone else int(v) for v, gone in zip(row, gaps, strict=True)]
            for row, gaps in zip(matrix, mask, strict=True)]


# --- Cohen's kappa ------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@pytest.mark.parametrize("seed, items", [(1, 12), (2, 40), (3, 150), (4, 7)])
def test_cohen_matches_sklearn_on_rubric_scores(seed: int, items: int, weights: Weights) -> None:
    scores = rubric_scores(seed, items, raters=2)
    a, b = scores[:, 0].tolist(), scores[:, 1].tolist()
    ours = cohen_kappa(a, b, weights=weights)
    assert ours == pytest.approx(cohen_kappa_score(a, b, weights=weights), rel=REL)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@pytest.mark.parametrize("seed", [5, 6, 7])
def test_cohen_matches_sklearn_on_uniform_random_data(seed: int, weights: Weights) -> None:
    """Little agreement, kappa near or below zero: the sign must be right too."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(1, 6, 60).tolist(), rng.integers(1, 6, 60).tolist()
    ours = cohen_kappa(a, b, weights=weights)
    assert ours == pytest.approx(cohen_kappa_score(a, b, weights=weights), rel=REL)


def test_cohen_string_labels_and_their_order() -> None:
    rng = np.random.default_rng(8)
    scale = ["nein", "teilweise", "ja"]
    a = rng.choice(scale, 50).tolist()
    b = [x if rng.random() < 0.6 else str(rng.choice(scale)) for x in a]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), rel=REL)
    # Weighted: the order of `labels` decides the distances, as in sklearn.
    ordered = cohen_kappa(a, b, weights="quadratic", labels=scale)
    assert ordered == pytest.approx(
        cohen_kappa_score(a, b, weights="quadratic", labels=scale), rel=REL)
    alphabetical = cohen_kappa(a, b, weights="quadratic")
    assert alphabetical == pytest.approx(cohen_kappa_score(a, b, weights="quadratic"), rel=REL)
    assert ordered != pytest.approx(alphabetical)


def test_cohen_unused_scale_value_keeps_its_distance() -> None:
    """Nobody used 3: with labels 1..5 the distance 2→4 stays 2, as in sklearn with labels."""
    a = [1, 2, 4, 5, 2, 4, 1, 5, 4, 2]
    b = [2, 2, 4, 4, 1, 5, 1, 5, 2, 4]
    scale = [1, 2, 3, 4, 5]
    with_scale = cohen_kappa(a, b, weights="quadratic", labels=scale)
    assert with_scale == pytest.approx(
        cohen_kappa_score(a, b, weights="quadratic", labels=scale), rel=REL)
    assert with_scale != pytest.approx(cohen_kappa(a, b, weights="quadratic"))
    # Unweighted kappa does not care about unused categories.
    assert cohen_kappa(a, b, labels=scale) == pytest.approx(cohen_kappa(a, b), rel=REL)


def test_cohen_by_hand() -> None:
    # p_o = 3/4; both marginals (1/2, 1/2) and (1/4, 3/4): p_e = 1/8 + 3/8 = 1/2 → 0.5.
    assert cohen_kappa([1, 1, 2, 2], [1, 2, 2, 2]) == pytest.approx(0.5, rel=REL)
    # sklearn's documented example.
    y1 = ["negative", "positive", "negative", "neutral", "positive"]
    y2 = ["negative", "positive", "negative", "neutral", "negative"]
    assert cohen_kappa(y1, y2) == pytest.approx(0.6875, rel=REL)
    assert cohen_kappa([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], weights="quadratic") == 1.0
    assert cohen_kappa([1, 2], [2, 1]) == pytest.approx(-1.0, rel=REL)


def test_cohen_undefined_when_everyone_gives_one_category() -> None:
    assert math.isnan(cohen_kappa([3, 3, 3], [3, 3, 3]))
    assert math.isnan(cohen_kappa([3, 3, 3], [3, 3, 3], weights="linear"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(cohen_kappa_score([3, 3, 3], [3, 3, 3]))


def test_cohen_rejects_malformed_input() -> None:
    with pytest.raises(ValueError, match="gleich lang"):
        cohen_kappa([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="Keine Bewertungen"):
        cohen_kappa([], [])
    with pytest.raises(ValueError, match="Gewichtung"):
        cohen_kappa([1, 2], [1, 2], weights="cubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="außerhalb"):
        cohen_kappa([1, 2, 6], [1, 2, 3], labels=[1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="ordnen"):
        cohen_kappa([1, "ja"], [1, "nein"])


# --- Fleiss' kappa ------------------------------------------------------------------------

# Fleiss (1971): 30 patients, 6 psychiatrists each, 5 diagnoses. Fleiss reports kappa = 0.430.
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]

# Wikipedia's worked example: 10 items, 14 raters, counts per category 1..5; kappa = 0.210.
WIKIPEDIA_COUNTS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def statsmodels_fleiss(ratings: Sequence[Sequence[Any]]) -> float:
    table, _ = aggregate_raters(np.asarray(ratings))
    return float(reference_fleiss(table))


def test_fleiss_1971_example() -> None:
    ours = fleiss_kappa(FLEISS_1971)
    assert ours == pytest.approx(0.430, abs=5e-4)
    assert ours == pytest.approx(statsmodels_fleiss(FLEISS_1971), rel=REL)


def test_fleiss_wikipedia_example() -> None:
    ratings = [[category for category, n in enumerate(row, start=1) for _ in range(n)]
               for row in WIKIPEDIA_COUNTS]
    ours = fleiss_kappa(ratings)
    assert ours == pytest.approx(0.210, abs=5e-4)
    assert ours == pytest.approx(float(reference_fleiss(np.array(WIKIPEDIA_COUNTS))), rel=REL)


@pytest.mark.parametrize("raters", [2, 3, 5])
@pytest.mark.parametrize("seed, items", [(11, 10), (12, 40), (13, 120)])
def test_fleiss_matches_statsmodels_on_rubric_scores(seed: int, items: int, raters: int) -> None:
    ratings = rubric_scores(seed, items, raters).tolist()
    assert fleiss_kappa(ratings) == pytest.approx(statsmodels_fleiss(ratings), rel=REL)


@pytest.mark.parametrize("seed", [14, 15])
def test_fleiss_matches_statsmodels_on_string_labels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ratings = rng.choice(["hilfreich", "teilweise", "falsch"], size=(25, 4),
                         p=[0.5, 0.3, 0.2]).tolist()
    assert fleiss_kappa(ratings) == pytest.approx(statsmodels_fleiss(ratings), rel=REL)


def test_fleiss_allows_different_raters_per_item_with_equal_counts() -> None:
    """Four people, each answer scored by three of them: None where someone did not score."""
    full = rubric_scores(16, 30, 4)
    rng = np.random.default_rng(16)
    skipped = rng.integers(0, 4, size=30)
    ratings = [[None if r == skip else int(v) for r, v in enumerate(row)]
               for row, skip in zip(full, skipped, strict=True)]
    compact = [[v for v in row if v is not None] for row in ratings]
    assert fleiss_kappa(ratings) == pytest.approx(statsmodels_fleiss(compact), rel=REL)


def test_fleiss_categories() -> None:
    ratings = rubric_scores(17, 20, 3).tolist()
    assert fleiss_kappa(ratings, categories=[1, 2, 3, 4, 5, 6]) == pytest.approx(
        fleiss_kappa(ratings), rel=REL)
    with pytest.raises(ValueError, match="außerhalb"):
        fleiss_kappa([[1, 2, 3], [1, 1, 6]], categories=[1, 2, 3, 4, 5])


def test_fleiss_perfect_and_undefined() -> None:
    assert fleiss_kappa([[1, 1, 1], [2, 2, 2], [5, 5, 5]]) == 1.0
    assert math.isnan(fleiss_kappa([[4, 4, 4], [4, 4, 4]]))


def test_fleiss_rejects_differing_numbers_of_ratings() -> None:
    with pytest.raises(ValueError, match="gleich viele Bewertungen je Antwort.*2 und 3"):
        fleiss_kappa([[1, 2, 3], [1, None, 2]])
    with pytest.raises(ValueError, match="gleich viele"):
        fleiss_kappa([[1, 2, 3], [1, 2]])
    with pytest.raises(ValueError, match="mindestens zwei"):
        fleiss_kappa([[1, None], [2, None]])
    with pytest.raises(ValueError, match="Keine"):
        fleiss_kappa([])


# --- Krippendorff's alpha -----------------------------------------------------------------

# Examples from the krippendorff package's documentation (Krippendorff 2011 and Wikipedia).
WIKIPEDIA_ALPHA = [
    [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
    [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
    [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
]
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
WORDS = {1: "sehr niedrig", 2: "niedrig", 3: "mittel", 4: "hoch", 5: "sehr hoch"}


@pytest.mark.parametrize("data, level, published, digits", [
    (WIKIPEDIA_ALPHA, "nominal", 0.691358, 6),
    (WIKIPEDIA_ALPHA, "interval", 0.810845, 6),
    (KRIPPENDORFF_2011, "ordinal", 0.815, 3),
    (KRIPPENDORFF_2011, "ratio", 0.797, 3),
])
def test_alpha_published_examples(data: list[list[int | None]], level: Level,
                                  published: float, digits: int) -> None:
    ours = krippendorff_alpha(data, level=level)
    assert round(ours, digits) == published
    assert ours == pytest.approx(reference_alpha(data, level), rel=REL)


def test_alpha_ordinal_text_labels_need_their_order() -> None:
    words = [[None if v is None else WORDS[v] for v in row] for row in KRIPPENDORFF_2011]
    domain = list(WORDS.values())
    ours = krippendorff_alpha(words, level="ordinal", value_domain=domain)
    assert ours == pytest.approx(krippendorff_alpha(KRIPPENDORFF_2011, level="ordinal"), rel=REL)
    assert ours == pytest.approx(
        reference_alpha(words, "ordinal", value_domain=domain), rel=REL)
    nominal = krippendorff_alpha(words, level="nominal")
    assert nominal == pytest.approx(0.743, abs=5e-4)
    assert nominal == pytest.approx(reference_alpha(words, "nominal"), rel=REL)
    with pytest.raises(ValueError, match="value_domain"):
        krippendorff_alpha(words, level="ordinal")
    with pytest.raises(ValueError, match="Zahlen"):
        krippendorff_alpha(words, level="interval", value_domain=domain)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("raters, items, missing, seed", [
    (2, 30, 0.0, 21), (2, 50, 0.2, 22), (3, 40, 0.25, 23), (5, 25, 0.4, 24), (5, 80, 0.1, 25),
])
def test_alpha_matches_krippendorff_on_rubric_scores(
    raters: int, items: int, missing: float, seed: int, level: Level
) -> None:
    reliability = with_missing(rubric_scores(seed, items, raters).T, missing, seed)
    ours = krippendorff_alpha(reliability, level=level)
    assert ours == pytest.approx(reference_alpha(reliability, level), rel=REL)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_matches_krippendorff_on_uniform_random_data_with_nan(level: Level) -> None:
    """Little agreement (alpha near zero), fractional values, NaN as the missing marker."""
    rng = np.random.default_rng(26)
    data = rng.integers(0, 9, size=(4, 35)) / 2 + 0.5
    data[rng.random(data.shape) < 0.3] = np.nan
    ours = krippendorff_alpha(data.tolist(), level=level)
    reference = krippendorff.alpha(data, level_of_measurement=level)
    assert ours == pytest.approx(float(reference), rel=REL)


def test_alpha_nominal_string_labels_with_missing() -> None:
    rng = np.random.default_rng(27)
    truth = rng.choice(["ja", "nein", "unklar"], size=30)
    reliability: list[list[str | None]] = [
        [None if rng.random() < 0.2 else (t if rng.random() < 0.75 else "unklar")
         for t in truth.tolist()]
        for _ in range(3)
    ]
    ours = krippendorff_alpha(reliability, level="nominal")
    assert ours == pytest.approx(reference_alpha(reliability, "nominal"), rel=REL)


def test_alpha_ordinal_is_not_interval() -> None:
    data = with_missing(rubric_scores(28, 40, 3).T, 0.1, 28)
    assert krippendorff_alpha(data, level="ordinal") != pytest.approx(
        krippendorff_alpha(data, level="interval"))


def test_alpha_perfect_and_undefined() -> None:
    assert krippendorff_alpha([[1, 2, 5, None], [1, 2, 5, 3]], level="ordinal") == 1.0
    assert math.isnan(krippendorff_alpha([[4, 4, 4], [4, 4, None]]))
    # No answer with two ratings: nothing pairable.
    assert math.isnan(krippendorff_alpha([[1, None, 3], [None, 2, None]]))


def test_alpha_rejects_malformed_input() -> None:
    with pytest.raises(ValueError, match="gleich viele Spalten"):
        krippendorff_alpha([[1, 2, 3], [1, 2]])
    with pytest.raises(ValueError, match="Skalenniveau"):
        krippendorff_alpha([[1, 2], [1, 2]], level="metrisch")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="außerhalb"):
        krippendorff_alpha([[1, 2], [1, 7]], level="ordinal", value_domain=[1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="Keine"):
        krippendorff_alpha([])


# --- Interpretation -----------------------------------------------------------------------


@pytest.mark.parametrize("value, band", [
    (-0.01, "schlechter als Zufall"),
    (0.0, "geringe Übereinstimmung"),
    (0.20, "geringe Übereinstimmung"),
    (0.2001, "ausreichende Übereinstimmung"),
    (0.40, "ausreichende Übereinstimmung"),
    (0.41, "mittelmäßige Übereinstimmung"),
    (0.60, "mittelmäßige Übereinstimmung"),
    (0.61, "beachtliche Übereinstimmung"),
    (0.80, "beachtliche Übereinstimmung"),
    (0.81, "(fast) vollkommene Übereinstimmung"),
    (1.0, "(fast) vollkommene Übereinstimmung"),
])
def test_kappa_bands(value: float, band: str) -> None:
    assert interpret(value, "kappa") == f"{band} (Landis & Koch)"
    assert interpret(value, FLEISS) == f"{band} (Landis & Koch)"
    assert interpret(value, COHEN_QUADRATIC) == f"{band} (Landis & Koch)"


@pytest.mark.parametrize("value, start", [
    (1.0, "verlässliche Übereinstimmung"),
    (0.800, "verlässliche Übereinstimmung"),
    (0.7999, "nur für vorläufige Schlüsse"),
    (0.667, "nur für vorläufige Schlüsse"),
    (0.6669, "nicht verlässlich"),
    (2 / 3, "nicht verlässlich"),
    (-0.2, "nicht verlässlich"),
])
def test_alpha_bands(value: float, start: str) -> None:
    assert interpret(value, "alpha").startswith(start)
    assert interpret(value, ALPHA_ORDINAL).startswith(start)
    assert "Krippendorff" in interpret(value, ALPHA_ORDINAL)


@pytest.mark.parametrize("value, reading", [
    (0.05, "kein nennenswerter Zusammenhang"),
    (-0.0999, "kein nennenswerter Zusammenhang"),
    (0.1, "schwacher positiver Zusammenhang"),
    (-0.29, "schwacher negativer Zusammenhang"),
    (0.3, "mittlerer positiver Zusammenhang"),
    (0.5, "starker positiver Zusammenhang"),
    (-0.9, "starker negativer Zusammenhang"),
])
def test_correlation_bands(value: float, reading: str) -> None:
    assert interpret(value, "korrelation") == f"{reading} (Cohen 1988)"


def test_interpret_nan_and_unknown_statistic() -> None:
    assert interpret(math.nan, "kappa") == "nicht berechenbar"
    assert interpret(math.nan, "alpha") == "nicht berechenbar"
    with pytest.raises(ValueError, match="Unbekannte Kennzahl"):
        interpret(0.5, "Cronbach")


# --- Agreement table ----------------------------------------------------------------------


def rows_from(matrix: Sequence[Sequence[int | None]], dimension: str = "korrekt",
              raters: tuple[str, ...] = ("anna", "ben", "cem", "dora", "emil")) -> list[ScoreRow]:
    """Rows of an items × raters matrix; None = that person did not score that answer."""
    return [ScoreRow(f"frage-{i}", raters[r], dimension, value)
            for i, row in enumerate(matrix) for r, value in enumerate(row) if value is not None]


def test_table_two_raters_uses_quadratic_cohen_and_ordinal_alpha() -> None:
    matrix = rubric_scores(31, 40, 2).tolist()
    [row] = agreement_table(rows_from(matrix), ["korrekt"])
    assert (row.dimension, row.raters, row.items) == ("korrekt", 2, 40)
    assert [s.name for s in row.statistics] == [COHEN_QUADRATIC, ALPHA_ORDINAL]
    cohen, alpha = row.statistics
    a, b = [m[0] for m in matrix], [m[1] for m in matrix]
    assert cohen.value == pytest.approx(
        cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4, 5]), rel=REL)
    assert alpha.value == pytest.approx(reference_alpha([a, b], "ordinal"), rel=REL)
    assert cohen.interpretation == interpret(cohen.value, "kappa")
    assert alpha.interpretation == interpret(alpha.value, "alpha")


def test_table_two_raters_scale_gap_keeps_distance() -> None:
    """Nobody gave a 3: the weights still treat 2 and 4 as two steps apart."""
    matrix = [[1, 2], [2, 2], [4, 5], [5, 4], [2, 4], [4, 4], [1, 1], [5, 2]]
    [row] = agreement_table(rows_from(matrix), ["korrekt"])
    a, b = [m[0] for m in matrix], [m[1] for m in matrix]
    assert row.statistics[0].value == pytest.approx(
        cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4, 5]), rel=REL)


def test_table_two_raters_only_answers_both_scored() -> None:
    matrix: list[list[int | None]] = [[int(v) for v in r] for r in rubric_scores(32, 20, 2)]
    matrix += [[3, None], [None, 5], [1, None]]
    [row] = agreement_table(rows_from(matrix), ["korrekt"])
    assert row.items == 20
    full = matrix[:20]
    a, b = [int(m[0]) for m in full], [int(m[1]) for m in full]  # type: ignore[arg-type]
    scale = list(range(min(a + b), max(a + b) + 1))
    assert row.statistics[0].value == pytest.approx(
        cohen_kappa_score(a, b, weights="quadratic", labels=scale), rel=REL)
    reliability = [[m[0] for m in matrix], [m[1] for m in matrix]]
    assert row.statistics[1].value == pytest.approx(
        reference_alpha(reliability, "ordinal"), rel=REL)


@pytest.mark.parametrize("raters", [3, 5])
def test_table_complete_raters_use_fleiss(raters: int) -> None:
    matrix = rubric_scores(33 + raters, 30, raters).tolist()
    [row] = agreement_table(rows_from(matrix), ["korrekt"])
    assert (row.raters, row.items) == (raters, 30)
    assert [s.name for s in row.statistics] == [FLEISS, ALPHA_ORDINAL]
    assert row.statistics[0].value == pytest.approx(statsmodels_fleiss(matrix), rel=REL)
    transposed = [list(r) for r in zip(*matrix, strict=True)]
    assert row.statistics[1].value == pytest.approx(
        reference_alpha(transposed, "ordinal"), rel=REL)


def test_table_incomplete_raters_explain_missing_fleiss() -> None:
    matrix = with_missing(rubric_scores(40, 30, 4), 0.2, 40)
    [row] = agreement_table(rows_from(matrix), ["korrekt"])
    fleiss, alpha = row.statistics
    assert fleiss.name == FLEISS and math.isnan(fleiss.value)
    assert fleiss.interpretation.startswith("nicht berechenbar: Fleiss-Kappa braucht gleich viele")
    transposed = [list(r) for r in zip(*matrix, strict=True)]
    assert alpha.value == pytest.approx(reference_alpha(transposed, "ordinal"), rel=REL)
    assert row.items == sum(1 for r in matrix if sum(v is not None for v in r) >= 2)


def test_table_keeps_dimensions_apart_and_in_order() -> None:
    good = rows_from([[1, 1], [3, 3], [5, 5], [2, 2]], dimension="ton")
    poor = rows_from([[1, 5], [5, 1], [2, 4], [4, 2]], dimension="korrekt")
    table = agreement_table(good + poor, DIMENSIONS)
    assert [row.dimension for row in table] == list(DIMENSIONS)
    by_name = {row.dimension: row for row in table}
    assert by_name["ton"].statistics[0].value == 1.0
    assert by_name["korrekt"].statistics[0].value < 0
    assert by_name["korrekt"].statistics[0].interpretation.startswith("schlechter als Zufall")
    empty = by_name["vollständig"]
    assert (empty.raters, empty.items) == (0, 0)
    assert [s.name for s in empty.statistics] == [ALPHA_ORDINAL]
    assert empty.statistics[0].interpretation == (
        "nicht berechenbar: keine Bewertungen in dieser Dimension")


def test_table_later_row_wins_for_a_repeated_score() -> None:
    rows = rows_from([[1, 1], [3, 3], [5, 5]])
    [before] = agreement_table(rows, ["korrekt"])
    corrected = [*rows, ScoreRow("frage-0", "anna", "korrekt", 5)]
    [after] = agreement_table(corrected, ["korrekt"])
    assert before.statistics[0].value == 1.0
    assert after.statistics[0].value < 1.0
    assert after.items == 3


@pytest.mark.parametrize("matrix, reason", [
    ([[3], [4], [5]], "nur eine Person"),
    ([[3, 4], [None, 5], [2, None]], "nur 1 Antwort(en)"),
    ([[None, 5, None], [2, None, None]], "nur 0 Antwort(en)"),
    ([[4, 4], [4, 4], [4, 4]], "alle Bewertungen lauten 4"),
    ([[4, 4, 4], [4, 4, None], [4, 4, 4]], "alle Bewertungen lauten 4"),
])
def test_table_degenerate_data_gives_nan_with_reason(
    matrix: list[list[int | None]], reason: str
) -> None:
    [row] = agreement_table(rows_from(matrix), ["korrekt"])
    assert row.statistics
    for statistic in row.statistics:
        assert math.isnan(statistic.value)
        assert statistic.interpretation.startswith("nicht berechenbar: ")
        assert reason in statistic.interpretation


# --- Human scores against automatic metrics -------------------------------------------------


@pytest.mark.parametrize("seed, n", [(51, 8), (52, 30), (53, 200)])
def test_correlation_matches_scipy_with_ties(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    human = rng.integers(1, 6, n).astype(float)
    automatic = np.clip(human / 5 + rng.normal(0, 0.2, n), 0, 1).round(1)  # ties on both sides
    result = metric_correlation(human.tolist(), automatic.tolist())
    assert result.n == n
    assert result.spearman == pytest.approx(float(spearmanr(human, automatic).statistic), rel=REL)
    assert result.pearson == pytest.approx(float(pearsonr(human, automatic).statistic), rel=REL)
    assert result.interpretation.startswith(interpret(result.spearman, "korrelation"))
    assert ("wenig belastbar" in result.interpretation) == (n < 10)


def test_correlation_matches_scipy_on_integers_only() -> None:
    rng = np.random.default_rng(54)
    human, other = rng.integers(1, 6, 50).tolist(), rng.integers(1, 6, 50).tolist()
    result = metric_correlation(human, other)
    assert result.spearman == pytest.approx(float(spearmanr(human, other).statistic), rel=REL)
    assert result.pearson == pytest.approx(float(pearsonr(human, other).statistic), rel=REL)


def test_correlation_by_hand() -> None:
    # Monotone but not linear: rank correlation 1, Pearson below 1.
    result = metric_correlation([1, 2, 3, 4, 5], [1, 4, 9, 16, 100])
    assert result.spearman == pytest.approx(1.0, rel=REL)
    assert result.pearson < 0.95
    # Ties get the mean rank: x ranks (1, 2.5, 2.5, 4) against y ranks (4, 3, 2, 1).
    tied = metric_correlation([10, 20, 20, 30], [4, 3, 2, 1])
    assert tied.spearman == pytest.approx(-0.9486832980505138, rel=REL)
    assert "nur 4 Wertepaare" in tied.interpretation


def test_correlation_skips_missing_pairs() -> None:
    human = [1, 2, None, 4, 5, 3, 2, 4, 5, 1, 3]
    automatic = [0.1, 0.3, 0.9, math.nan, 0.8, 0.5, 0.2, 0.7, 0.9, 0.2, 0.4]
    result = metric_correlation(human, automatic)  # type: ignore[arg-type]
    kept = [(h, m) for h, m in zip(human, automatic, strict=True)
            if h is not None and not math.isnan(m)]
    assert result.n == len(kept) == 9
    x, y = [h for h, _ in kept], [m for _, m in kept]
    assert result.spearman == pytest.approx(float(spearmanr(x, y).statistic), rel=REL)
    assert result.pearson == pytest.approx(float(pearsonr(x, y).statistic), rel=REL)
    assert result.interpretation.endswith("; nur 9 Wertepaare, wenig belastbar")


@pytest.mark.parametrize("human, automatic, reason", [
    ([3, 3, 3, 3], [0.1, 0.5, 0.7, 0.2], "alle menschlichen Bewertungen sind gleich"),
    ([1, 2, 3, 4], [0.5, 0.5, 0.5, 0.5], "alle automatischen Werte sind gleich"),
    ([4], [0.3], "weniger als zwei vollständige Wertepaare"),
    ([], [], "weniger als zwei vollständige Wertepaare"),
    ([1, 2, None], [math.nan, 0.4, 0.5], "weniger als zwei vollständige Wertepaare"),
])
def test_correlation_not_computable(human: list[float], automatic: list[float],
                                    reason: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from a division by zero either
        result = metric_correlation(human, automatic)
    assert math.isnan(result.spearman) and math.isnan(result.pearson)
    assert result.interpretation == f"nicht berechenbar: {reason}"


def test_correlation_rejects_different_lengths() -> None:
    with pytest.raises(ValueError, match="gleich lang"):
        metric_correlation([1, 2, 3], [0.1, 0.2])


def test_mean_score_per_item() -> None:
    rows = [*rows_from([[1, 3], [4, None]]), *rows_from([[5, 5]], dimension="ton")]
    assert mean_score_per_item(rows, "korrekt") == {"frage-0": 2.0, "frage-1": 4.0}
    assert mean_score_per_item(rows, "ton") == {"frage-0": 5.0}


def test_sign_test_matches_the_binomial_sums_by_hand() -> None:
    from evaluation.runs import sign_test, sign_verdict

    # 9 wins, 1 loss: P(X ≤ 1) for Bin(10, ½) is (1 + 10) / 1024; two-sided doubles it.
    assert sign_test(9, 1) == pytest.approx(22 / 1024)
    assert sign_test(5, 5) == 1.0
    assert sign_test(0, 0) is None
    assert sign_verdict(9, 1, sign_test(9, 1)) == "neu besser (p = 0,021)"
    assert sign_verdict(1, 9, sign_test(1, 9)) == "neu schlechter (p = 0,021)"
    assert sign_verdict(0, 0, None) == "kein Unterschied"
