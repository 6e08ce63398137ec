"""Agreement between human raters, and between human scores and automatic metrics.

Own implementations (numpy only) of Cohen's kappa (unweighted, linear, quadratic), Fleiss'
kappa and Krippendorff's alpha (nominal, ordinal, interval, ratio), plus Spearman's rho and
Pearson's r. The unit tests check them against scikit-learn, statsmodels, krippendorff and scipy
on the same inputs; production code does not depend on those libraries for this.

Contract of the low-level functions: malformed input (different lengths, ragged tables, values
outside the given categories, unknown options) raises ``ValueError`` with a German message;
input on which the statistic is mathematically undefined (e.g. every rating identical, so the
agreement expected by chance is already perfect) returns NaN, as scikit-learn does.
`agreement_table` never raises on rating data: it reports NaN with a German reason instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Label = int | str
Value = float | int | str  # a rating; Krippendorff's interval level allows fractions
Weights = Literal["linear", "quadratic"] | None
Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")

COHEN_QUADRATIC = "Cohen-Kappa (quadratisch gewichtet)"
FLEISS = "Fleiss-Kappa"
ALPHA_ORDINAL = "Krippendorff-Alpha (ordinal)"

NOT_COMPUTABLE = "nicht berechenbar"

FloatArray = npt.NDArray[np.float64]


# --- Cohen's kappa ------------------------------------------------------------------------


def cohen_kappa(
    a: Sequence[Label],
    b: Sequence[Label],
    weights: Weights = None,
    labels: Sequence[Label] | None = None,
) -> float:
    """Cohen's kappa of two raters who rated the same items (same definition as scikit-learn's
    `cohen_kappa_score`).

    `labels` fixes the categories and their order; the linear and quadratic weights use the
    distance of the *positions* in that order, so for a 1–5 scale pass ``labels=range(1, 6)``
    (otherwise a scale value nobody used shrinks the distances). NaN when the chance
    disagreement is zero, i.e. both raters used one and the same category throughout.
    """
    if len(a) != len(b):
        raise ValueError(
            f"Beide Bewertungsreihen müssen gleich lang sein (hier {len(a)} und {len(b)})."
        )
    if not a:
        raise ValueError("Keine Bewertungen übergeben.")
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"Unbekannte Gewichtung {weights!r}: erlaubt sind None, "
                         "'linear' und 'quadratic'.")
    order = _category_order([*a, *b], labels, sort=True)
    position = {label: i for i, label in enumerate(order)}
    observed = np.zeros((len(order), len(order)))
    for x, y in zip(a, b, strict=True):
        observed[position[x], position[y]] += 1
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    positions = np.arange(len(order))
    distance = np.abs(positions[:, np.newaxis] - positions[np.newaxis, :]).astype(float)
    if weights is None:
        weight = (distance > 0).astype(float)
    elif weights == "linear":
        weight = distance
    else:
        weight = distance**2
    chance_disagreement = float((weight * expected).sum())
    if chance_disagreement == 0:
        return math.nan
    return 1 - float((weight * observed).sum()) / chance_disagreement


# --- Fleiss' kappa ------------------------------------------------------------------------


def fleiss_kappa(
    ratings: Sequence[Sequence[Label | None]],
    categories: Sequence[Label] | None = None,
) -> float:
    """Fleiss' kappa (1971) for items × raters, nominal categories.

    The raters may differ from item to item, but every item needs the same number of ratings;
    None marks a rating that is not there and is only accepted when that number still agrees.
    For incomplete data use `krippendorff_alpha`. NaN when all ratings fall into one category.
    """
    rows = [[value for value in map(_present, item) if value is not None] for item in ratings]
    if not rows:
        raise ValueError("Keine bewerteten Antworten übergeben.")
    counts = {len(row) for row in rows}
    if len(counts) > 1:
        raise ValueError(
            "Fleiss-Kappa braucht gleich viele Bewertungen je Antwort; hier sind es zwischen "
            f"{min(counts)} und {max(counts)}. Bei fehlenden Bewertungen Krippendorff-Alpha "
            "verwenden."
        )
    raters = counts.pop()
    if raters < 2:
        raise ValueError("Fleiss-Kappa braucht mindestens zwei Bewertungen je Antwort.")
    order = _category_order([value for row in rows for value in row], categories, sort=False)
    position = {label: i for i, label in enumerate(order)}
    table = np.zeros((len(rows), len(order)))
    for i, row in enumerate(rows):
        for value in row:
            table[i, position[value]] += 1
    if np.count_nonzero(table.sum(axis=0)) < 2:
        return math.nan
    category_share = table.sum(axis=0) / table.sum()
    item_agreement = ((table**2).sum(axis=1) - raters) / (raters * (raters - 1))
    observed = float(item_agreement.mean())
    by_chance = float((category_share**2).sum())
    return (observed - by_chance) / (1 - by_chance)


# --- Krippendorff's alpha -----------------------------------------------------------------


def krippendorff_alpha(
    reliability: Sequence[Sequence[float | int | str | None]],
    level: Level = "interval",
    value_domain: Sequence[float | int | str] | None = None,
) -> float:
    """Krippendorff's alpha for raters × items (the orientation of the krippendorff package's
    `reliability_data`); None or NaN marks a missing rating.

    Items with fewer than two ratings do not count. `value_domain` orders the values for the
    ordinal level (needed for text labels such as "niedrig" < "mittel" < "hoch"); without it
    numbers are ordered by size. NaN when no item has two ratings or no disagreement is
    possible (a single value throughout).
    """
    if level not in LEVELS:
        raise ValueError(f"Unbekanntes Skalenniveau {level!r}: erlaubt sind {', '.join(LEVELS)}.")
    matrix = [[_present(value) for value in row] for row in reliability]
    if not matrix:
        raise ValueError("Keine Bewertungen übergeben.")
    n_items = len(matrix[0])
    if any(len(row) != n_items for row in matrix):
        raise ValueError("Jede Zeile (eine bewertende Person) braucht gleich viele Spalten "
                         "(Antworten); fehlende Bewertungen als None angeben.")
    present = [value for row in matrix for value in row if value is not None]
    domain = _alpha_domain(present, level, value_domain)
    position = {value: i for i, value in enumerate(domain)}
    value_counts = np.zeros((n_items, len(domain)))
    for row in matrix:
        for item, value in enumerate(row):
            if value is not None:
                value_counts[item, position[value]] += 1

    per_item = value_counts.sum(axis=1)
    pairable = value_counts[per_item >= 2]
    if len(pairable) == 0:
        return math.nan
    # Coincidence matrix: every ordered pair of ratings within an item, weighted 1/(m_u - 1).
    scaled = pairable / (pairable.sum(axis=1) - 1)[:, np.newaxis]
    coincidences = scaled.T @ pairable - np.diag(scaled.sum(axis=0))
    marginals = coincidences.sum(axis=0)
    total = float(marginals.sum())
    delta = _alpha_distances(domain, marginals, level)
    expected = float((np.outer(marginals, marginals) * delta).sum())
    if expected == 0:
        return math.nan
    return 1 - (total - 1) * float((coincidences * delta).sum()) / expected


def _alpha_domain(
    present: list[float | int | str],
    level: Level,
    value_domain: Sequence[float | int | str] | None,
) -> list[float | int | str]:
    if value_domain is not None:
        domain = list(dict.fromkeys(value_domain))
        known = set(domain)
        outside = sorted({repr(value) for value in present if value not in known})
        if outside:
            raise ValueError("Werte außerhalb des Wertebereichs: " + ", ".join(outside) + ".")
    else:
        domain = list(dict.fromkeys(present))
        if level != "nominal":
            if any(isinstance(value, str) for value in domain):
                raise ValueError("Für Text-Kategorien ist außer beim nominalen Skalenniveau eine "
                                 "geordnete value_domain nötig.")
            domain.sort(key=float)
    if level in ("interval", "ratio") and any(isinstance(value, str) for value in domain):
        raise ValueError(f"Beim Skalenniveau {level!r} müssen alle Werte Zahlen sein.")
    return domain


def _alpha_distances(
    domain: list[float | int | str], marginals: FloatArray, level: Level
) -> FloatArray:
    """Squared difference function δ² between every pair of domain values."""
    size = len(domain)
    if level == "nominal":
        return 1.0 - np.eye(size)
    if level == "ordinal":
        # Ranks by frequency: everything between the two values counts, the ends half.
        cumulative = np.concatenate(([0.0], np.cumsum(marginals)))
        low = np.minimum.outer(np.arange(size), np.arange(size))
        high = np.maximum.outer(np.arange(size), np.arange(size))
        between = cumulative[high + 1] - cumulative[low]
        ends = (marginals[:, np.newaxis] + marginals[np.newaxis, :]) / 2
        result: FloatArray = (between - ends) ** 2
        return result
    numbers = np.array([float(value) for value in domain])
    difference = numbers[:, np.newaxis] - numbers[np.newaxis, :]
    if level == "interval":
        squared: FloatArray = difference**2
        return squared
    summed = numbers[:, np.newaxis] + numbers[np.newaxis, :]
    ratio = np.divide(difference, summed, out=np.zeros_like(difference), where=summed != 0)
    squared_ratio: FloatArray = ratio**2
    return squared_ratio


# --- Interpretation -----------------------------------------------------------------------


def interpret(value: float, statistic: str) -> str:
    """German reading of a statistic for the UI.

    `statistic` is "kappa", "alpha" or "korrelation", or one of the names this module uses
    (e.g. "Fleiss-Kappa", "Krippendorff-Alpha (ordinal)"). Kappa: Landis & Koch (1977), each
    band closed at its upper end (0.20 is still "geringe"). Alpha: Krippendorff (2004),
    α ≥ 0.800 reliable, 0.667 ≤ α < 0.800 for tentative conclusions only. Correlation: Cohen
    (1988) on |r|: 0.1 weak, 0.3 medium, 0.5 strong.
    """
    kind = statistic.lower()
    if "kappa" in kind:
        family = "kappa"
    elif "alpha" in kind:
        family = "alpha"
    elif any(word in kind for word in ("korrelation", "spearman", "pearson")):
        family = "korrelation"
    else:
        raise ValueError(f"Unbekannte Kennzahl {statistic!r}: erwartet Kappa, Alpha oder "
                         "Korrelation.")
    if math.isnan(value):
        return NOT_COMPUTABLE
    if family == "kappa":
        return _interpret_kappa(value)
    if family == "alpha":
        return _interpret_alpha(value)
    return _interpret_correlation(value)


def _interpret_kappa(value: float) -> str:
    if value < 0:
        band = "schlechter als Zufall"
    elif value <= 0.20:
        band = "geringe Übereinstimmung"
    elif value <= 0.40:
        band = "ausreichende Übereinstimmung"
    elif value <= 0.60:
        band = "mittelmäßige Übereinstimmung"
    elif value <= 0.80:
        band = "beachtliche Übereinstimmung"
    else:
        band = "(fast) vollkommene Übereinstimmung"
    return f"{band} (Landis & Koch)"


def _interpret_alpha(value: float) -> str:
    if value >= 0.800:
        return "verlässliche Übereinstimmung (Krippendorff: α ≥ 0,800)"
    if value >= 0.667:
        return "nur für vorläufige Schlüsse ausreichend (Krippendorff: 0,667 ≤ α < 0,800)"
    return "nicht verlässlich (Krippendorff: α < 0,667)"


def _interpret_correlation(value: float) -> str:
    size = abs(value)
    if size < 0.1:
        return "kein nennenswerter Zusammenhang (Cohen 1988)"
    direction = "positiver" if value > 0 else "negativer"
    strength = "schwacher" if size < 0.3 else "mittlerer" if size < 0.5 else "starker"
    return f"{strength} {direction} Zusammenhang (Cohen 1988)"


# --- Agreement per rubric dimension ---------------------------------------------------------


@dataclass(frozen=True)
class ScoreRow:
    """One rubric score: `rater` gave `value` (1–5) to the answer `item_key` in `dimension`."""

    item_key: str
    rater: str
    dimension: str
    value: int


@dataclass(frozen=True)
class AgreementStatistic:
    name: str
    value: float  # NaN when not computable; `interpretation` then says why
    interpretation: str


@dataclass(frozen=True)
class DimensionAgreement:
    dimension: str
    raters: int
    items: int  # answers with at least two ratings in this dimension
    statistics: tuple[AgreementStatistic, ...]


def agreement_table(
    scores: Iterable[ScoreRow], dimensions: Sequence[str]
) -> list[DimensionAgreement]:
    """Agreement of the raters per rubric dimension, in the order of `dimensions`.

    Exactly two raters: quadratically weighted Cohen's kappa over the answers both scored.
    Three or more: Fleiss' kappa over the answers with at least two ratings, if all of them
    have the same number (else NaN with the reason). Always Krippendorff's alpha (ordinal),
    which copes with missing ratings. If one person scored an answer twice in a dimension,
    the later row counts.
    """
    by_dimension: dict[str, dict[str, dict[str, int]]] = {name: {} for name in dimensions}
    for row in scores:
        items = by_dimension.get(row.dimension)
        if items is not None:
            items.setdefault(row.item_key, {})[row.rater] = row.value
    return [_dimension_agreement(name, by_dimension[name]) for name in dimensions]


def _dimension_agreement(
    dimension: str, items: Mapping[str, Mapping[str, int]]
) -> DimensionAgreement:
    raters = sorted({rater for by_rater in items.values() for rater in by_rater})
    rated = {key: by_rater for key, by_rater in items.items() if len(by_rater) >= 2}
    names = ([COHEN_QUADRATIC] if len(raters) == 2
             else [FLEISS] if len(raters) >= 3 else []) + [ALPHA_ORDINAL]

    reason = _why_not_computable(len(raters), rated)
    if reason is not None:
        statistics = tuple(AgreementStatistic(name, math.nan, f"{NOT_COMPUTABLE}: {reason}")
                           for name in names)
        return DimensionAgreement(dimension, len(raters), len(rated), statistics)

    results: list[AgreementStatistic] = []
    if len(raters) == 2:
        first, second = raters
        values = [v for by_rater in rated.values() for v in by_rater.values()]
        scale = list(range(min(values), max(values) + 1))  # a gap in use keeps its distance
        kappa = cohen_kappa([rated[k][first] for k in rated], [rated[k][second] for k in rated],
                            weights="quadratic", labels=scale)
        results.append(_statistic(COHEN_QUADRATIC, kappa))
    elif len(raters) >= 3:
        counts = {len(by_rater) for by_rater in rated.values()}
        if len(counts) == 1:
            fleiss = fleiss_kappa([list(by_rater.values()) for by_rater in rated.values()])
            results.append(_statistic(FLEISS, fleiss))
        else:
            results.append(AgreementStatistic(
                FLEISS, math.nan,
                f"{NOT_COMPUTABLE}: Fleiss-Kappa braucht gleich viele Bewertungen je Antwort "
                f"(hier {min(counts)} bis {max(counts)}); Krippendorff-Alpha berücksichtigt "
                "fehlende Bewertungen",
            ))
    reliability = [[items[key].get(rater) for key in items] for rater in raters]
    results.append(_statistic(ALPHA_ORDINAL, krippendorff_alpha(reliability, level="ordinal")))
    return DimensionAgreement(dimension, len(raters), len(rated), tuple(results))


def _why_not_computable(raters: int, rated: Mapping[str, Mapping[str, int]]) -> str | None:
    if raters == 0:
        return "keine Bewertungen in dieser Dimension"
    if raters == 1:
        return "nur eine Person hat bewertet, Übereinstimmung braucht mindestens zwei"
    if len(rated) < 2:
        return (f"nur {len(rated)} Antwort(en) von mindestens zwei Personen bewertet, "
                "nötig sind mindestens zwei")
    used = {value for by_rater in rated.values() for value in by_rater.values()}
    if len(used) == 1:
        return (f"alle Bewertungen lauten {used.pop()}; ohne Streuung lässt sich Übereinstimmung "
                "nicht von Zufall unterscheiden")
    return None


def _statistic(name: str, value: float) -> AgreementStatistic:
    if math.isnan(value):
        return AgreementStatistic(name, value, f"{NOT_COMPUTABLE}: zu wenig Streuung in den "
                                               "Bewertungen")
    return AgreementStatistic(name, value, interpret(value, name))


# --- Human scores against automatic metrics -------------------------------------------------


@dataclass(frozen=True)
class Correlation:
    spearman: float  # rho, average ranks for ties; NaN when not computable
    pearson: float
    n: int  # pairs used (pairs with a missing value are left out)
    interpretation: str  # read from Spearman's rho: human scores are ordinal


def metric_correlation(human: Sequence[float], automatic: Sequence[float]) -> Correlation:
    """Spearman's rho and Pearson's r between human scores and an automatic metric, item by
    item. Pairs where either side is None or NaN are left out; a constant side gives NaN."""
    if len(human) != len(automatic):
        raise ValueError(f"Beide Reihen müssen gleich lang sein (hier {len(human)} und "
                         f"{len(automatic)}).")
    pairs = [(float(h), float(m)) for h, m in zip(human, automatic, strict=True)
             if not _is_missing(h) and not _is_missing(m)]
    x = np.array([h for h, _ in pairs], dtype=float)
    y = np.array([m for _, m in pairs], dtype=float)
    n = len(pairs)
    if n < 2:
        return Correlation(math.nan, math.nan, n,
                           f"{NOT_COMPUTABLE}: weniger als zwei vollständige Wertepaare")
    if np.all(x == x[0]) or np.all(y == y[0]):
        side = "menschlichen Bewertungen" if np.all(x == x[0]) else "automatischen Werte"
        return Correlation(math.nan, math.nan, n,
                           f"{NOT_COMPUTABLE}: alle {side} sind gleich")
    spearman = _pearson(_average_ranks(x), _average_ranks(y))
    reading = _interpret_correlation(spearman)
    if n < 10:
        reading += f"; nur {n} Wertepaare, wenig belastbar"
    return Correlation(spearman, _pearson(x, y), n, reading)


def mean_score_per_item(scores: Iterable[ScoreRow], dimension: str) -> dict[str, float]:
    """Mean human score per answer in one dimension, to line up with an automatic metric."""
    collected: dict[str, list[int]] = {}
    for row in scores:
        if row.dimension == dimension:
            collected.setdefault(row.item_key, []).append(row.value)
    return {key: sum(values) / len(values) for key, values in collected.items()}


def _average_ranks(values: FloatArray) -> FloatArray:
    """Ranks 1..n; tied values share the mean of the ranks they occupy."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    last_rank = np.cumsum(counts)
    mean_rank: FloatArray = last_rank - (counts - 1) / 2
    return mean_rank[inverse]


def _pearson(x: FloatArray, y: FloatArray) -> float:
    centred_x = x - x.mean()
    centred_y = y - y.mean()
    denominator = float(np.linalg.norm(centred_x) * np.linalg.norm(centred_y))
    if denominator == 0:
        return math.nan
    return max(-1.0, min(1.0, float(centred_x @ centred_y) / denominator))


# --- Helpers --------------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def _present(value: Value | None) -> Value | None:
    """None for a missing rating (None or NaN), else the rating."""
    return None if _is_missing(value) else value


def _category_order(
    present: Sequence[Value], given: Sequence[Value] | None, *, sort: bool
) -> list[Value]:
    """The categories: `given` in its order (checked against the data), else those present."""
    if given is not None:
        order: list[Value] = list(given)
        if len(set(order)) != len(order):
            raise ValueError("Die vorgegebenen Kategorien enthalten Dopplungen.")
        known = set(order)
        outside = sorted({repr(value) for value in present if value not in known})
        if outside:
            raise ValueError("Werte außerhalb der vorgegebenen Kategorien: "
                             + ", ".join(outside) + ".")
        return order
    order = list(dict.fromkeys(present))
    if sort:
        try:
            order.sort()
        except TypeError:
            raise ValueError("Die Kategorien lassen sich nicht ordnen (Zahlen und Text "
                             "gemischt?); bitte labels angeben.") from None
    return order
