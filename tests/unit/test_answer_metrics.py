"""Answer metrics: SQuAD v1.1 EM/F1 (by hand and against torchmetrics), the German variant,
sentence splitting, offline groundedness, the judge's reply format, and the item kinds."""

from __future__ import annotations

import random

import numpy as np
import pytest

from evaluation.answer_metrics import (
    exact_match,
    exact_match_de,
    groundedness_offline,
    kind_correct,
    max_over_ground_truths,
    normalize_answer,
    normalize_answer_de,
    parse_judge_reply,
    semantic_similarity,
    sentences,
    token_f1,
    token_f1_de,
)

# --------------------------------------------------------------------------- SQuAD v1.1


@pytest.mark.parametrize(("text", "normalized"), [
    # lower -> "the  cat's hat!" -> no punctuation "the  cats hat" -> no article -> collapse
    ("The  Cat's hat!", "cats hat"),
    ("an apple, a pear", "apple pear"),
    # Articles only as whole words; punctuation is deleted, not replaced by a blank.
    ("Another theater", "another theater"),
    ("e-mail U.S.A.", "email usa"),
    # string.punctuation is ASCII: German quotes and the en dash stay, German articles too.
    ("„Die Katze“ – ja", "„die katze“ – ja"),
    ("37,00 Euro", "3700 euro"),
    ("  \t\n", ""),
])
def test_normalize_answer_is_squads(text: str, normalized: str) -> None:
    assert normalize_answer(text) == normalized


@pytest.mark.parametrize(("prediction", "truth", "expected"), [
    # pred: cat sat on mat (4), truth: cat on mat (3), common 3:
    # P = 3/4, R = 3/3, F1 = 2 * 0.75 * 1 / 1.75 = 6/7
    ("the cat sat on the mat", "a cat on a mat", 6 / 7),
    # Multiset overlap: x x y & x y y = {x: 1, y: 1} -> 2; P = R = 2/3 -> F1 = 2/3
    ("x x y", "x y y", 2 / 3),
    # pred: ein personalausweis kostet 3700 euro (5), truth: 3700 euro (2), common 2:
    # P = 2/5, R = 1, F1 = 0.8 / 1.4 = 4/7
    ("Ein Personalausweis kostet 37,00 Euro.", "37,00 Euro", 4 / 7),
    # "37 Euro" vs "3700 euro": only "euro" in common; P = 1/2, R = 1/2 -> 1/2
    ("37 Euro", "37,00 Euro", 0.5),
    ("Rathaus", "Bürgerbüro", 0.0),
    # v1.1 scores 0 when nothing overlaps, also for two empty answers (v2.0 would give 1).
    ("", "", 0.0),
    ("the", "a", 0.0),
    ("", "Rathaus", 0.0),
])
def test_token_f1_by_hand(prediction: str, truth: str, expected: float) -> None:
    assert token_f1(prediction, truth) == pytest.approx(expected)


@pytest.mark.parametrize(("prediction", "truth", "expected"), [
    ("The Eiffel Tower!", "eiffel tower", 1.0),
    ("Eiffel Tower", "Eiffel Towers", 0.0),
    ("37 Euro", "37,00 Euro", 0.0),
    ("die Katze", "Katze", 0.0),  # no German articles in SQuAD
    ("", "", 1.0),
])
def test_exact_match_by_hand(prediction: str, truth: str, expected: float) -> None:
    assert exact_match(prediction, truth) == expected


def test_max_over_ground_truths_takes_the_best_reference() -> None:
    truths = ["dog", "the cat on a mat", "cat"]

    assert max_over_ground_truths(token_f1, "cat on mat", truths) == 1.0
    # "cat" alone: P = 1/3, R = 1 -> 0.5 is the best of dog (0) and cat (0.5).
    assert max_over_ground_truths(token_f1, "cat on mat", ["dog", "cat"]) == pytest.approx(0.5)
    assert max_over_ground_truths(exact_match, "Cat.", truths) == 1.0
    with pytest.raises(ValueError, match="Referenzantwort"):
        max_over_ground_truths(token_f1, "cat", [])


_VOCABULARY = [
    "the", "a", "an", "The", "A", "der", "die", "das", "ein", "Hund", "hund", "Hunde",
    "Steuer", "96", "37,00", "Euro", "€", "cat", "cat's", "e-mail", "U.S.", "(Rathaus)",
    "„Bürgerbüro“", "Müll", "muell", "–", "-", "!", "?", "...", "theater", "another",
    "Straße", "x", "y", "x,", "Anmeldung.",
]


def _random_text(rng: random.Random) -> str:
    words = [rng.choice(_VOCABULARY) for _ in range(rng.randint(0, 8))]
    separators = [rng.choice([" ", "  ", "\t", "\n", ", "]) for _ in words]
    return "".join(w + s for w, s in zip(words, separators, strict=True)).strip()


def test_squad_metrics_agree_with_torchmetrics_on_generated_pairs() -> None:
    from torchmetrics.functional.text import squad

    rng = random.Random(20240611)
    compared = 0
    for index in range(1500):
        prediction = _random_text(rng)
        truths = [_random_text(rng) for _ in range(rng.randint(1, 3))]
        if not normalize_answer(prediction) and any(not normalize_answer(t) for t in truths):
            continue  # both empty: v1.1 gives 0, torchmetrics (v2.0 rule) 1; tested below
        reference = squad(
            {"prediction_text": prediction, "id": str(index)},
            {"answers": {"text": truths, "answer_start": [0] * len(truths)},
             "id": str(index)},
        )
        assert max_over_ground_truths(token_f1, prediction, truths) == pytest.approx(
            float(reference["f1"]) / 100, abs=1e-5), (prediction, truths)
        assert max_over_ground_truths(exact_match, prediction, truths) == pytest.approx(
            float(reference["exact_match"]) / 100), (prediction, truths)
        compared += 1
    assert compared > 1200


def test_the_one_known_difference_to_torchmetrics_is_two_empty_answers() -> None:
    from torchmetrics.functional.text import squad

    reference = squad({"prediction_text": "the", "id": "1"},
                      {"answers": {"text": ["a"], "answer_start": [0]}, "id": "1"})

    assert float(reference["f1"]) == 100.0
    assert token_f1("the", "a") == 0.0  # SQuAD v1.1's f1_score: num_same == 0 -> 0


# --------------------------------------------------------------------------- German variant


@pytest.mark.parametrize(("text", "normalized"), [
    ("Die Gebühr: 37,00 €.", "gebuehr 37 euro"),
    ("1.200,00 Euro", "1200 euro"),
    ("22,80 Euro", "2280 euro"),
    ("„Straße“ – eine Ausnahme", "strasse ausnahme"),
    ("Mu\u0308ll", "muell"),  # u + combining diaeresis, as macOS writes file names
    ("the Rathaus", "rathaus"),
])
def test_normalize_answer_de(text: str, normalized: str) -> None:
    assert normalize_answer_de(text) == normalized


def test_german_variant_scores_german_answers_fairly() -> None:
    prediction, truth = "Ein Personalausweis kostet 37 €.", "37,00 Euro"

    # German: personalausweis kostet 37 euro (4) vs 37 euro (2): P = 1/2, R = 1 -> 2/3
    assert token_f1_de(prediction, truth) == pytest.approx(2 / 3)
    # SQuAD: ein personalausweis kostet 37 € vs 3700 euro: nothing in common
    assert token_f1(prediction, truth) == 0.0
    assert exact_match_de("das Bürgerbüro", "Buergerbuero") == 1.0
    assert exact_match("das Bürgerbüro", "Buergerbuero") == 0.0


# --------------------------------------------------------------------------- similarity


class _TableEmbedder:
    """Fixed vectors per text (not unit length, to check the cosine is computed)."""

    name = "tabelle"
    dimension = 2

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table

    def __hash__(self) -> int:
        return id(self)

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray([self.table[t] for t in texts], dtype=np.float32)


def test_semantic_similarity_is_the_clipped_cosine() -> None:
    embedder = _TableEmbedder({"a": [3.0, 0.0], "b": [2.0, 2.0], "c": [-1.0, 0.0],
                               "d": [0.0, 0.0]})

    assert semantic_similarity(embedder, "a", "b") == pytest.approx(np.sqrt(0.5))
    assert semantic_similarity(embedder, "a", "a") == pytest.approx(1.0)
    assert semantic_similarity(embedder, "a", "c") == 0.0  # cosine -1, clipped
    assert semantic_similarity(embedder, "a", "d") == 0.0  # zero vector
    assert semantic_similarity(embedder, "a", " ") == 0.0  # empty text, not embedded


# --------------------------------------------------------------------------- sentences


def test_sentences_keep_abbreviations_dates_and_markers() -> None:
    text = ("Bitte bringen Sie z. B. Ihren Ausweis mit. Die Gebühr beträgt 37 Euro [1]. "
            "Ab dem 1. Januar gilt Nr. 5 der Satzung. Zuständig ist das Amt. [2] "
            "Mo. bis Fr. geöffnet! Fertig?\n"
            "- Personalausweis\n"
            "- **15. März** ist Stichtag. [1][2]\n\n"
            "Danke.")

    assert sentences(text) == [
        "Bitte bringen Sie z. B. Ihren Ausweis mit.",
        "Die Gebühr beträgt 37 Euro [1].",
        "Ab dem 1. Januar gilt Nr. 5 der Satzung.",
        "Zuständig ist das Amt. [2]",
        "Mo. bis Fr. geöffnet!",
        "Fertig?",
        "- Personalausweis",
        "- 15. März ist Stichtag. [1][2]",
        "Danke.",
    ]
    assert sentences("") == [] and sentences(" \n ") == []


# --------------------------------------------------------------------------- groundedness

HUND = ("Die Hundesteuer beträgt für den ersten Hund 96,00 Euro im Jahr, für jeden weiteren "
        "Hund 144,00 Euro. Die Steuer wird jährlich zum 1. Juli fällig. Anmelden können Sie "
        "Ihren Hund beim Steueramt im Rathaus, Telefon 01234 567-2200.")
AUSWEIS = ("Der Personalausweis kostet 37,00 Euro. Antragstellende unter 24 Jahren zahlen "
           "22,80 Euro. Die Bearbeitung dauert drei bis vier Wochen. Ein Termin im Bürgerbüro "
           "ist erforderlich; Termine gibt es ab dem 15.03.2027 auch online.")
CHUNKS = [HUND, AUSWEIS]


def _only(answer: str, chunks: list[str] = CHUNKS) -> tuple[bool, int | None]:
    result = groundedness_offline(answer, chunks)
    assert len(result.sentences) == 1
    support = result.sentences[0]
    assert result.share == (1.0 if support.supported else 0.0)
    return support.supported, support.best_source_index


@pytest.mark.parametrize("answer", [
    "Die Steuer wird jährlich zum 1. Juli fällig. [1]",
    "Der Personalausweis kostet 37,00 Euro.",
    "Die Bearbeitung dauert drei bis vier Wochen. [2]",
])
def test_verbatim_sentences_are_supported(answer: str) -> None:
    result = groundedness_offline(answer, CHUNKS)

    assert result.sentences[0].supported and result.sentences[0].score == 1.0


@pytest.mark.parametrize(("answer", "source"), [
    ("Für den ersten Hund zahlen Sie 96 Euro Hundesteuer pro Jahr [1].", 0),
    ("Melden Sie Ihren Hund im Rathaus beim Steueramt an, Tel. 01234 567-2200.", 0),
    ("Ein Ausweis kostet 37 €.", 1),
    ("Die Bearbeitung dauert 3 bis 4 Wochen.", 1),
    ("Ab 15. März 2027 können Sie Termine auch online buchen. [2]", 1),
    ("Die Hundesteuer für einen zweiten Hund liegt bei 144 Euro jährlich.", 0),
])
def test_paraphrases_with_the_same_facts_are_supported(answer: str, source: int) -> None:
    assert _only(answer) == (True, source)


@pytest.mark.parametrize("answer", [
    "Die Hundesteuer beträgt für den ersten Hund 80 Euro im Jahr. [1]",  # fee
    "Die Steuer wird jährlich zum 1. August fällig. [1]",  # date
    "Die Steuer wird jährlich zum 2. Juli fällig. [1]",  # day
    "Das Steueramt erreichen Sie unter 01234 567-2299. [1]",  # phone
    "Die Bearbeitung dauert drei bis sechs Wochen. [2]",  # number word
    "Ein Termin im Bürgerbüro ist nicht erforderlich. [2]",  # negation
])
def test_hallucinated_facts_are_unsupported(answer: str) -> None:
    result = groundedness_offline(answer, CHUNKS)

    assert result.share == 0.0
    assert not result.sentences[0].supported


def test_a_wrong_number_is_named() -> None:
    support = groundedness_offline("Für den ersten Hund sind 80 Euro fällig. [1]",
                                   CHUNKS).sentences[0]

    assert support.missing_numbers == ("80",)
    assert support.best_source_index == 0 and support.score >= 0.5


@pytest.mark.parametrize("answer", [
    "Die Stadtbibliothek hat samstags von zehn bis vierzehn Uhr geöffnet.",
    "Für einen Reisepass brauchen Sie ein biometrisches Passfoto. [2]",
    "Sperrmüll holt die Stadt zweimal jährlich kostenlos ab.",
])
def test_sentences_on_another_topic_are_unsupported(answer: str) -> None:
    supported, _ = _only(answer)

    assert not supported


def test_shared_keywords_alone_do_not_support_a_sentence() -> None:
    # Hund and Jahr are in the chunk, Stadtpark, Leine and the rest are not: 2 of 6 words.
    support = groundedness_offline(
        "Im Stadtpark müssen Hunde das ganze Jahr an der Leine geführt werden.", CHUNKS
    ).sentences[0]

    assert support.score == pytest.approx(2 / 6)
    assert not support.supported


def test_share_counts_supported_sentences() -> None:
    answer = ("Gerne helfe ich! Die Hundesteuer beträgt für den ersten Hund 96 Euro im Jahr. [1] "
              "Für jeden weiteren Hund sind es 150 Euro. [1] Sie ist jährlich zum 1. Juli "
              "fällig. [1]")

    result = groundedness_offline(answer, CHUNKS)

    assert [s.supported for s in result.checked] == [True, False, True]
    assert result.share == pytest.approx(2 / 3)
    assert not result.empty
    greeting = result.sentences[0]
    assert greeting.sentence == "Gerne helfe ich!" and not greeting.checked


@pytest.mark.parametrize("answer", ["", "   ", "Gerne! Hallo."])
def test_an_answer_without_claims_is_flagged_empty(answer: str) -> None:
    result = groundedness_offline(answer, CHUNKS)

    assert result.empty and result.share == 0.0
    assert not result.checked


def test_citation_markers_pick_the_chunk_to_check_first() -> None:
    same = "Ein Termin im Bürgerbüro ist erforderlich."
    chunks = [same, "Vorab: " + same]

    assert _only("Ein Termin im Bürgerbüro ist erforderlich. [2]", chunks) == (True, 1)
    assert _only("Ein Termin im Bürgerbüro ist erforderlich.", chunks) == (True, 0)
    # A wrong marker does not make a supported sentence unsupported.
    assert _only("Der Personalausweis kostet 37 Euro. [1]") == (True, 1)
    # Markers beyond the chunks are ignored.
    assert _only("Der Personalausweis kostet 37 Euro. [7]") == (True, 1)


class _SameVectorEmbedder:
    """Every text gets the same vector: cosine 1.0 for any pair."""

    name = "gleich"
    dimension = 2

    def __hash__(self) -> int:
        return id(self)

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.tile(np.asarray([0.6, 0.8], dtype=np.float32), (len(texts), 1))


@pytest.mark.parametrize(("answer", "supported"), [
    # 2 of 6 content words (see above): between floor and threshold, similar -> supported
    ("Im Stadtpark müssen Hunde das ganze Jahr an der Leine geführt werden.", True),
    # 1 of 6 ("jährlich"): below the floor similarity does not count
    ("Sperrmüll holt die Stadt zweimal jährlich kostenlos ab.", False),
    # a wrong number stays wrong however similar
    ("Die Hundesteuer beträgt für den ersten Hund 80 Euro im Jahr.", False),
])
def test_similarity_helps_only_above_the_floor_and_never_with_wrong_numbers(
        answer: str, supported: bool) -> None:
    support = groundedness_offline(answer, CHUNKS, embedder=_SameVectorEmbedder()).sentences[0]

    assert support.semantic == pytest.approx(1.0)
    assert support.supported is supported
    assert groundedness_offline(answer, CHUNKS).sentences[0].supported is False


def test_no_chunks_support_nothing() -> None:
    result = groundedness_offline("Der Personalausweis kostet 37 Euro. [1]", [])

    assert result.share == 0.0 and not result.empty
    assert result.sentences[0].best_source_index is None


def test_threshold_decides_for_partial_overlap() -> None:
    answer = "Für den ersten Hund zahlen Sie 96 Euro Hundesteuer pro Jahr."
    score = groundedness_offline(answer, CHUNKS).sentences[0].score
    assert 0.5 <= score < 1.0

    assert groundedness_offline(answer, CHUNKS, threshold=score).share == 1.0
    assert groundedness_offline(answer, CHUNKS, threshold=score + 0.01).share == 0.0


# --------------------------------------------------------------------------- judge replies


@pytest.mark.parametrize(("reply", "verdicts"), [
    ("1: gestützt\n2: nicht gestützt\n3: gestützt", [True, False, True]),
    ("Hier meine Prüfung:\n\n**1:** nicht gestützt\nSatz 2 - gestützt (steht in [1])\n"
     "3) Nicht Gestützt", [False, True, False]),
    ("1. gestuetzt\n2. nicht gestuetzt\n3. gestützt\n3: gestützt", [True, False, True]),
])
def test_judge_replies_are_read(reply: str, verdicts: list[bool]) -> None:
    assert parse_judge_reply(reply, 3) == (verdicts, "")


@pytest.mark.parametrize(("reply", "reason"), [
    ("1: gestützt\n3: gestützt", "Satz 2"),
    ("Alle Sätze sind korrekt.", "Satz 1, 2, 3"),
    ("1: gestützt\n2: gestützt\n2: nicht gestützt\n3: gestützt", "Widersprüchliche"),
    ("1: gestützt\n2: gestützt\n3: gestützt\n4: gestützt", "Satz 4"),
    ("1: belegt\n2: gestützt\n3: gestützt", "Satz 1"),
])
def test_unreadable_judge_replies_give_a_reason(reply: str, reason: str) -> None:
    verdicts, why = parse_judge_reply(reply, 3)

    assert verdicts is None
    assert reason in why


# --------------------------------------------------------------------------- item kinds


@pytest.mark.parametrize(("kind", "mode", "handoff", "no_answer", "correct"), [
    ("answerable", "llm", False, False, True),
    ("answerable", "extractive", True, False, True),  # answered, handoff after an LLM fault
    ("answerable", "kuratiert", False, False, True),
    ("answerable", "keine_antwort", True, True, False),
    ("answerable", "verweis", False, False, False),
    ("answerable", "mensch", True, True, False),
    ("no_answer", "keine_antwort", False, True, True),
    ("no_answer", "keine_antwort", True, True, True),
    ("no_answer", "mensch", True, True, True),
    ("no_answer", "verweis", False, False, True),
    ("no_answer", "llm", False, False, False),  # an invented answer
    ("no_answer", "extractive", True, False, False),
    ("no_answer", "kuratiert", False, False, False),
    ("out_of_scope", "verweis", False, False, True),
    ("out_of_scope", "keine_antwort", True, True, True),
    ("out_of_scope", "llm", False, False, False),
    ("out_of_scope", "extractive", False, False, False),
    ("out_of_scope", "mensch", True, True, False),
    ("handoff", "mensch", True, True, True),
    ("handoff", "keine_antwort", True, True, True),
    ("handoff", "keine_antwort", False, True, False),
    ("handoff", "llm", False, False, False),
    ("handoff", "verweis", False, False, False),
    ("unbekannt", "llm", False, False, None),
])
def test_kind_correct(kind: str, mode: str, handoff: bool, no_answer: bool,
                      correct: bool | None) -> None:
    assert kind_correct(kind, mode, handoff, no_answer) is correct
