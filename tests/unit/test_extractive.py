"""Extractive answers: verbatim sentences covering the question, in reading order, at most three."""

from __future__ import annotations

from pipelines.extractive import MAX_SENTENCES, extract_sentences, extractive_answer
from pipelines.index import Hit


def hit(text: str, kind: str = "text", source: str = "quelle.md", score: float = 1.0) -> Hit:
    return Hit(chunk_id=f"{source}-0", doc_key="doc", source=source, source_path=f"/{source}",
               title="", page=None, section="", url="", kind=kind, text=text, score=score)


ABFALL = hit(
    "Die Stadt informiert über die Abfuhr. Die Biotonne wird jeden Dienstag geleert. "
    "Bitte stellen Sie die Tonne bis 6 Uhr bereit. Gelbe Säcke gibt es im Bürgerbüro."
)


def test_picks_the_sentence_with_the_query_terms() -> None:
    sentences = extract_sentences("Wann wird die Biotonne geleert?", [ABFALL])

    assert [s.text for s in sentences][0] == "Die Biotonne wird jeden Dienstag geleert."
    assert "Gelbe Säcke gibt es im Bürgerbüro." not in [s.text for s in sentences]
    assert all(s.source_number == 1 for s in sentences)


def test_sentences_are_verbatim() -> None:
    for sentence in extract_sentences("Biotonne Tonne Säcke Abfuhr", [ABFALL]):
        assert sentence.text in ABFALL.text


def test_keeps_reading_order() -> None:
    passage = hit(
        "Die Hundesteuer beträgt 96 Euro für den ersten Hund. Das Steueramt sitzt im Rathaus. "
        "Für jeden weiteren Hund beträgt die Hundesteuer 144 Euro. "
        "Die Hundesteuer wird am 1. Juli fällig."
    )

    sentences = extract_sentences("Wie hoch ist die Hundesteuer für einen weiteren Hund?",
                                  [passage])
    texts = [s.text for s in sentences]

    assert "Für jeden weiteren Hund beträgt die Hundesteuer 144 Euro." in texts
    assert texts == sorted(texts, key=passage.text.index)
    assert len(texts) >= 2


def test_reading_order_follows_passage_rank() -> None:
    first = hit("Sperrmüll holen wir zweimal im Jahr kostenlos ab.", source="a.md")
    second = hit("Sperrmüll melden Sie online im Abfallportal an.", source="b.md")

    sentences = extract_sentences("Sperrmüll anmelden und abholen", [first, second])

    assert [s.source_number for s in sentences] == sorted(s.source_number for s in sentences)
    assert {s.source_number for s in sentences} <= {1, 2}


def test_at_most_three_sentences() -> None:
    passage = hit(" ".join(f"Der Reisepass kostet in Fall {i} Gebühren." for i in range(1, 9)))

    sentences = extract_sentences("Was kostet der Reisepass an Gebühren?", [passage])

    assert MAX_SENTENCES == 3
    assert len(sentences) == 3


def test_only_the_first_three_passages_are_read() -> None:
    fillers = [hit(f"Das Standesamt hat Zimmer {i}.", source=f"f{i}.md") for i in range(3)]
    late = hit("Die Biotonne wird jeden Dienstag geleert.", source="spaet.md")

    assert extract_sentences("Wann wird die Biotonne geleert?", [*fillers, late]) == []


def test_table_lines_are_sentences() -> None:
    table = hit(
        "Tabelle: Gebühren Bürgerbüro\n"
        "Leistung: Personalausweis; Gebühr: 37,00 Euro\n"
        "Leistung: Reisepass; Gebühr: 70,00 Euro\n"
        "Leistung: Meldebescheinigung; Gebühr: 10,00 Euro",
        kind="table",
    )

    sentences = extract_sentences("Welche Gebühr hat der Reisepass?", [table])
    texts = [s.text for s in sentences]

    assert texts[0] == "Leistung: Reisepass; Gebühr: 70,00 Euro"
    assert not any(t.startswith("Tabelle:") for t in texts)
    assert all("\n" not in t for t in texts)


def test_table_caption_is_used_when_it_is_all_there_is() -> None:
    table = hit("Tabelle: Gebühren Reisepass", kind="table")

    texts = [s.text for s in extract_sentences("Gebühren Reisepass", [table])]

    assert texts == ["Tabelle: Gebühren Reisepass"]


def test_nothing_when_no_overlap() -> None:
    assert extract_sentences("Wie beantrage ich einen Waffenschein?", [ABFALL]) == []
    assert extractive_answer("Wie beantrage ich einen Waffenschein?", [ABFALL]) == ""


def test_nothing_for_question_of_only_stopwords_or_no_hits() -> None:
    assert extract_sentences("Was ist das denn?", [ABFALL]) == []
    assert extract_sentences("Wann wird die Biotonne geleert?", []) == []


def test_answer_lines_carry_source_numbers() -> None:
    other = hit("Die Biotonne gibt es in drei Größen.", source="groessen.md")

    answer = extractive_answer("Biotonne", [ABFALL, other])

    lines = answer.splitlines()
    assert lines and all(line.endswith(("[1]", "[2]")) for line in lines)
    assert "Die Biotonne gibt es in drei Größen. [2]" in lines
    assert "Die Biotonne wird jeden Dienstag geleert. [1]" in lines


def test_abbreviations_do_not_cut_sentences() -> None:
    passage = hit("Die Gebühr für den Anwohnerparkausweis beträgt z. B. 30 Euro im Jahr. "
                  "Am 15. Mai beginnt die neue Zone.")

    texts = [s.text for s in extract_sentences("Gebühr Anwohnerparkausweis", [passage])]

    assert texts == ["Die Gebühr für den Anwohnerparkausweis beträgt z. B. 30 Euro im Jahr."]
