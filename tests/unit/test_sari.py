"""SARI against published reference values (Xu et al. 2016 via tensor2tensor's tests and the
`evaluate` metric card)."""

from __future__ import annotations

import pytest

from evaluation.sari import corpus_sari, sentence_sari, sentence_sari_parts, tokenize

SOURCE = "About 95 species are currently accepted ."
REFERENCES = ["About 95 species are currently known .", "About 95 species are now accepted .",
              "95 species are now accepted ."]


@pytest.mark.parametrize(("output", "expected"), [
    # tensor2tensor sari_hook_test: testSariSent1..3 (the paper's three outputs)
    ("About 95 you now get in .", 26.95360),
    ("About 95 species are now agreed .", 61.70966),
    ("About 95 species are currently agreed .", 50.88682),
])
def test_paper_examples(output: str, expected: float) -> None:
    assert sentence_sari(SOURCE, output, REFERENCES, tokenized=True) == pytest.approx(
        expected, abs=1e-4)


def test_evaluate_metric_card_example_exactly() -> None:
    # evaluate's card: sources without the space before "." (its tokenizer splits it off)
    score = corpus_sari(["About 95 species are currently accepted."],
                        ["About 95 you now get in."],
                        [["About 95 species are currently known.",
                          "About 95 species are now accepted.",
                          "95 species are now accepted."]])

    assert score.sari == pytest.approx(26.953601953601954, rel=1e-12)


def test_perfect_matches_score_100() -> None:
    assert sentence_sari(SOURCE, SOURCE, [SOURCE]) == pytest.approx(100.0)
    # tensor2tensor: output == reference scores 1 even when it differs from the input
    source = "3 1 4 1 5 9 2 6 5".split()
    output = "3 1 4 1 80 70".split()
    assert sentence_sari_parts(source, output, [output]).sari == pytest.approx(1.0)
    # unigram counts do not matter for add/keep when the tokens agree as sets
    parts = sentence_sari_parts(["3", "1", "4"], "3 3 1 1 1 4".split(),
                                ["3 3 3 1 1 4 4".split()], max_n=1)
    assert parts.sari == pytest.approx(1.0)


def test_parts_of_a_simple_deletion() -> None:
    # Input "a b", references drop "b". Output keeps both: nothing deleted (precision 1 by
    # 0/0 = 1), keep precision 1/2 ... and adding nothing where nothing is added scores 1.
    kept = sentence_sari_parts(["a", "b"], ["a", "b"], [["a"]], max_n=1)
    dropped = sentence_sari_parts(["a", "b"], ["a"], [["a"]], max_n=1)

    assert kept.delete == 1.0 and kept.keep == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert dropped.sari == pytest.approx(1.0)
    assert dropped.sari > kept.sari


def test_identity_is_a_baseline_not_a_winner() -> None:
    source = "Die Inanspruchnahme der Leistung ist gebührenpflichtig ."
    reference = "Die Leistung kostet Geld ."

    identity = sentence_sari(source, source, [reference])
    good = sentence_sari(source, reference, [reference])

    assert good == pytest.approx(100.0)
    assert identity < 50.0


def test_tokenizer_keeps_german_numbers_and_lowercases() -> None:
    assert tokenize("Die Gebühr: 1.250,50 Euro (z.B. bar).") == [
        "die", "gebühr", ":", "1.250,50", "euro", "(", "z", ".", "b", ".", "bar", ")", "."]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError):
        corpus_sari(["a"], ["a", "b"], [["a"]])
    with pytest.raises(ValueError):
        corpus_sari([], [], [])
    with pytest.raises(ValueError):
        sentence_sari("a", "a", [])
