"""Readability formulas against values computed by hand (constants: FORMULAS.md)."""

from __future__ import annotations

import pytest

from pipelines.plain import PlainLanguageError, readability
from pipelines.plain.readability import flesch_label, lix_label, syllables, wiener_label


def test_small_text_by_hand() -> None:
    # "Der Hund bellt laut. Die Nachbarin ruft die Polizei."
    # Words (letters, syllables): Der(3,1) Hund(4,1) bellt(5,1) laut(4,1) | Die(3,1)
    #   Nach-ba-rin(9,3) ruft(4,1) die(3,1) Po-li-zei(7,3)
    # 2 sentences, 9 words, 13 syllables, 42 letters.
    # ASL = 9/2 = 4.5; ASW = 13/9.
    # Flesch-Amstad = 180 − 4.5 − 58.5·13/9 = 180 − 4.5 − 84.5 = 91.0
    # Long words (≥ 7 letters): Nachbarin, Polizei → IW = 2/9 = 22.2 %
    # ≥ 3 syllables: Nachbarin, Polizei → MS = 22.2 %; 1 syllable: 7 → ES = 77.8 %
    # WSTF 1 = 0.1935·200/9 + 0.1672·4.5 + 0.1297·200/9 − 0.0327·700/9 − 0.875
    #        = 4.3 + 0.7524 + 2.882222 − 2.543333 − 0.875 = 4.516289
    # WSTF 2 = 0.2007·200/9 + 0.1682·4.5 + 0.1373·200/9 − 2.779
    #        = 4.46 + 0.7569 + 3.051111 − 2.779 = 5.489011
    # WSTF 3 = 0.2963·200/9 + 0.1905·4.5 − 1.1144 = 6.584444 + 0.85725 − 1.1144 = 6.327294
    # WSTF 4 = 0.2744·200/9 + 0.2656·4.5 − 1.693 = 6.097778 + 1.1952 − 1.693 = 5.599978
    # LIX = 4.5 + 100·2/9 = 26.722222
    scores = readability("Der Hund bellt laut. Die Nachbarin ruft die Polizei.")

    assert (scores.sentences, scores.words, scores.syllables, scores.letters) == (2, 9, 13, 42)
    assert (scores.long_words, scores.polysyllables, scores.monosyllables) == (2, 2, 7)
    assert scores.avg_sentence_length == pytest.approx(4.5)
    assert scores.avg_syllables_per_word == pytest.approx(13 / 9)
    assert scores.flesch_amstad == pytest.approx(91.0)
    assert scores.wiener_sachtextformel == pytest.approx(4.516289, abs=1e-6)
    assert scores.wiener_sachtextformel_2 == pytest.approx(5.489011, abs=1e-6)
    assert scores.wiener_sachtextformel_3 == pytest.approx(6.327294, abs=1e-6)
    assert scores.wiener_sachtextformel_4 == pytest.approx(5.599978, abs=1e-6)
    assert scores.lix == pytest.approx(26.722222, abs=1e-6)
    assert scores.flesch_label == "sehr leicht"
    assert scores.lix_label == "sehr leicht"


def test_numbers_abbreviations_and_mediopunkt_by_hand() -> None:
    # "Das Bürger·amt hat z. B. am 3. Mai zu."
    # One sentence ("3. Mai" is a date, "z. B." an abbreviation), 8 words:
    # Das(1) Bür-ger·amt(3, 9 letters: long) hat(1) z. B. = "zum Bei-spiel"(3, not long)
    # am(1) 3.(number: 1 syllable, not long) Mai(1) zu(1) → 12 syllables, 1 long word.
    # Flesch-Amstad = 180 − 8 − 58.5·12/8 = 180 − 8 − 87.75 = 84.25
    # LIX = 8 + 100·1/8 = 20.5
    scores = readability("Das Bürger·amt hat z. B. am 3. Mai zu.")

    assert (scores.sentences, scores.words, scores.syllables, scores.long_words) == (1, 8, 12, 1)
    assert scores.flesch_amstad == pytest.approx(84.25)
    assert scores.lix == pytest.approx(20.5)


def test_officialese_scores_harder_than_plain_text() -> None:
    hard = readability("Die Inanspruchnahme der Leistungen setzt die fristgerechte Einreichung "
                       "sämtlicher antragsbegründender Unterlagen bei der zuständigen Behörde "
                       "voraus.")
    easy = readability("Sie möchten Geld vom Amt? Dann füllen Sie den Antrag aus. "
                       "Bringen Sie den Antrag bis zum 1. Mai zu uns.")

    assert hard.flesch_amstad < 30 < 70 < easy.flesch_amstad
    assert hard.wiener_sachtextformel > 12 > 6 > easy.wiener_sachtextformel
    assert hard.lix > 60 > 40 > easy.lix
    assert hard.flesch_label == "sehr schwer" and hard.lix_label == "sehr schwer"


@pytest.mark.parametrize(("word", "count"), [
    ("Hund", 1), ("ist", 1), ("Straße", 2), ("Verwaltung", 3),
    ("Bürgeramt", 3),  # pyphen: Bür-ge-r-amt; the vowel-less "r" is no syllable
    ("Aggressionen", 5), ("E-Mail", 2), ("2026", 1),
])
def test_syllables(word: str, count: int) -> None:
    assert syllables(word) == count


def test_labels_bands() -> None:
    assert [flesch_label(v) for v in (95, 85, 75, 65, 55, 40, 10)] == [
        "sehr leicht", "leicht", "eher leicht", "mittel", "eher schwer", "schwer", "sehr schwer"]
    assert [lix_label(v) for v in (25, 35, 45, 55, 65)] == [
        "sehr leicht", "leicht", "mittel", "schwer", "sehr schwer"]
    assert wiener_label(4.2).startswith("sehr leicht") and "Schulstufe 15" in wiener_label(17)


@pytest.mark.parametrize("text", ["", "   ", "... !!!", "– • –"])
def test_text_without_words_is_refused(text: str) -> None:
    with pytest.raises(PlainLanguageError, match="keine Wörter"):
        readability(text)
