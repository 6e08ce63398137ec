"""German text helpers: compound splitting, search terms, sentence splitting (no engine)."""

from __future__ import annotations

import pytest

from pipelines.german import (
    STOPWORDS,
    compound_parts,
    content_terms,
    expand_compounds,
    split_sentences,
    stem,
    words,
)

# -- compound_parts ------------------------------------------------------------------------


def test_hundesteuer_splits_into_hund_and_steuer() -> None:
    assert compound_parts("Hundesteuer") == ("hunde", "steuer")


def test_compound_parts_ignore_the_case_of_the_input() -> None:
    assert compound_parts("hundesteuer") == compound_parts("Hundesteuer")


def test_personalausweisantrag_splits_recursively() -> None:
    parts = compound_parts("Personalausweisantrag")
    assert {"personalausweis", "antrag"} <= set(parts)
    # the first part is itself a compound and is split again
    assert {"personal", "ausweis"} <= set(parts)


def test_bewohnerparkausweis_splits_recursively() -> None:
    parts = set(compound_parts("Bewohnerparkausweis"))
    assert {"bewohner", "parkausweis", "park", "ausweis"} <= parts


def test_parts_are_lowercase_and_unique() -> None:
    for word in ("Hundesteuer", "Personalausweisantrag", "Bewohnerparkausweis"):
        parts = compound_parts(word)
        assert parts, word
        assert all(part == part.lower() for part in parts)
        assert len(parts) == len(set(parts))


@pytest.mark.parametrize("word", ["Verwaltung", "Anmeldung", "Informationen", "Gebühr", "Hund"])
def test_non_compounds_are_not_split(word: str) -> None:
    assert compound_parts(word) == ()


def test_short_words_are_never_split() -> None:
    # below MIN_COMPOUND_LENGTH (8 letters), even a real compound like "Rathaus" stays whole
    assert compound_parts("Rathaus") == ()


def test_hyphenated_words_split_at_the_hyphen() -> None:
    assert [p.lower() for p in compound_parts("Kita-Gebühren")] == ["kita", "gebühren"]
    # parts shorter than three letters are dropped
    assert [p.lower() for p in compound_parts("E-Mail-Adresse")] == ["mail", "adresse"]


def test_bescheinigung_is_not_a_compound() -> None:
    assert compound_parts("Bescheinigung") == ()


@pytest.mark.parametrize(
    ("word", "fragment"), [("Straßenreinigung", "ung"), ("Abfallkalender", "der")]
)
def test_recursive_split_yields_no_suffix_fragments(word: str, fragment: str) -> None:
    assert fragment not in compound_parts(word)


# -- expand_compounds ----------------------------------------------------------------------


def test_expand_compounds_appends_parts_after_the_original_text() -> None:
    text = "Die Hundesteuer ist am 1. Juli fällig."
    expanded = expand_compounds(text)
    assert expanded.startswith(text + "\n")
    assert expanded.split("\n")[-1].split() == ["hunde", "steuer"]


def test_expand_compounds_lists_each_compound_once() -> None:
    expanded = expand_compounds("Hundesteuer, Hundesteuer und auch hundesteuer.")
    assert expanded.split("\n")[-1].split() == ["hunde", "steuer"]


def test_expand_compounds_leaves_text_without_compounds_unchanged() -> None:
    text = "Die Verwaltung hilft Ihnen gern."
    assert expand_compounds(text) == text


def test_expand_compounds_collects_parts_of_several_compounds() -> None:
    extra = expand_compounds("Hundesteuer und Bewohnerparkausweis").split("\n")[-1].split()
    assert {"hunde", "steuer", "bewohner", "parkausweis", "ausweis"} <= set(extra)


# -- words / content_terms -----------------------------------------------------------------


def test_words_keeps_umlauts_and_hyphenated_words_and_drops_numbers() -> None:
    assert words("Die Kita-Gebühr für 2 Kinder: 37,50 € (Straße)") == [
        "Die", "Kita-Gebühr", "für", "Kinder", "Straße",
    ]


def test_content_terms_drop_stopwords_and_stem() -> None:
    terms = content_terms("Was kostet die Steuer für meinen Hund?")
    assert terms == {stem("kostet"), stem("steuer"), stem("hund")}
    assert not terms & STOPWORDS


def test_content_terms_of_a_compound_cover_a_question_with_its_parts() -> None:
    question = content_terms("Steuer für meinen Hund")
    assert question == {stem("steuer"), stem("hund")}
    assert question <= content_terms("Die Hundesteuer ist fällig.")


def test_content_terms_ignore_case() -> None:
    assert content_terms("HUNDESTEUER") == content_terms("hundesteuer")


def test_content_terms_of_only_stopwords_is_empty() -> None:
    assert content_terms("Ich möchte bitte wissen, wie und wo") == {stem("wissen")}
    assert content_terms("und oder aber") == set()


# -- split_sentences -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Bitte bringen Sie z. B. Ihren Ausweis mit. Danach geht es weiter.",
            ["Bitte bringen Sie z. B. Ihren Ausweis mit.", "Danach geht es weiter."],
        ),
        (
            "Das Formular Nr. 5 ist auszufüllen. Es liegt im Rathaus aus.",
            ["Das Formular Nr. 5 ist auszufüllen.", "Es liegt im Rathaus aus."],
        ),
        (
            "Die Steuer ist bis zum 15. Februar zu zahlen. Danach wird gemahnt.",
            ["Die Steuer ist bis zum 15. Februar zu zahlen.", "Danach wird gemahnt."],
        ),
        (
            "Es gibt u. a. Bücher. Äpfel auch.",
            ["Es gibt u. a. Bücher.", "Äpfel auch."],
        ),
        (
            "Das kostet ca. 5 Euro. Zahlbar bar.",
            ["Das kostet ca. 5 Euro.", "Zahlbar bar."],
        ),
        (
            "Der Antrag ist bis 31.12. einzureichen. Später nicht.",
            ["Der Antrag ist bis 31.12. einzureichen.", "Später nicht."],
        ),
        (
            "Erster Satz! Zweiter Satz? Dritter Satz.",
            ["Erster Satz!", "Zweiter Satz?", "Dritter Satz."],
        ),
        (
            "Der Ausweis kostet 37 Euro. 2027 steigt der Preis.",
            ["Der Ausweis kostet 37 Euro.", "2027 steigt der Preis."],
        ),
        (
            "Erster Absatz endet hier\n\nZweiter Absatz beginnt hier",
            ["Erster Absatz endet hier", "Zweiter Absatz beginnt hier"],
        ),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_list_items_become_their_own_sentences() -> None:
    text = "Folgende Unterlagen:\n- Ausweis\n- Meldebescheinigung\n• Foto\n– Geburtsurkunde"
    assert split_sentences(text) == [
        "Folgende Unterlagen:", "- Ausweis", "- Meldebescheinigung", "• Foto", "– Geburtsurkunde",
    ]


def test_lowercase_after_period_does_not_start_a_sentence() -> None:
    assert split_sentences("Siehe Abs. 2 bzw. die Anlage. Fertig.") == [
        "Siehe Abs. 2 bzw. die Anlage.", "Fertig.",
    ]


def test_line_breaks_inside_a_paragraph_are_joined() -> None:
    assert split_sentences("Der Antrag\nist schriftlich\n  zu stellen.") == [
        "Der Antrag ist schriftlich zu stellen."
    ]


def test_empty_and_blank_text_give_no_sentences() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n\n \t ") == []


def test_sentence_ending_with_a_year_is_split() -> None:
    assert split_sentences("Die Satzung gilt ab 1. Januar 2027. Danach entfällt die alte.") == [
        "Die Satzung gilt ab 1. Januar 2027.", "Danach entfällt die alte.",
    ]


def test_sentence_ending_with_so_is_split() -> None:
    assert split_sentences("Das war schon immer so. Dann kam die Reform.") == [
        "Das war schon immer so.", "Dann kam die Reform.",
    ]


def test_sentence_ending_in_a_quote_is_split() -> None:
    assert split_sentences("Er sagte: „Bitte warten.“ Dann ging er.") == [
        "Er sagte: „Bitte warten.“", "Dann ging er.",
    ]


def test_abbreviation_inside_a_quote_does_not_end_the_sentence() -> None:
    assert split_sentences("Das Schild sagt „ca. 5 Minuten“ Wartezeit. Danach weiter.") == [
        "Das Schild sagt „ca. 5 Minuten“ Wartezeit.", "Danach weiter.",
    ]
