"""Chunking: chunks stay in one page and section, split at sentences, overlap, tables alone."""

from __future__ import annotations

from pipelines.documents.chunking import Chunk, chunk_blocks
from pipelines.documents.readers import Block


def _sentence(n: int, words: int = 8) -> str:
    """A German sentence of exactly `words` words, numbered so each one is recognisable."""
    filler = ["Die", "Stadt", "prüft", "den", "Antrag", "sorgfältig", "und", "schnell", "heute"]
    body = filler[: words - 2]
    return f"Satz{n} {' '.join(body)} Ende{n}."


def _paragraph(sentences: int, words: int = 8) -> str:
    return " ".join(_sentence(i, words) for i in range(1, sentences + 1))


def _words(text: str) -> int:
    return len(text.split())


def test_sentence_helper_has_the_requested_length() -> None:
    assert _words(_sentence(1)) == 8
    assert _words(_paragraph(10)) == 80


def test_small_paragraphs_of_one_section_are_packed_into_one_chunk() -> None:
    blocks = [
        Block("Erster kurzer Absatz.", 1, ("Antrag",)),
        Block("Zweiter kurzer Absatz.", 1, ("Antrag",)),
    ]
    assert chunk_blocks(blocks, 50, 10) == [
        Chunk("Erster kurzer Absatz.\nZweiter kurzer Absatz.", 1, "Antrag", "text")
    ]


def test_chunks_never_cross_a_section_or_a_page() -> None:
    blocks = [
        Block("Text A auf Seite eins.", 1, ("Merkblatt", "Antrag")),
        Block("Text B auf Seite eins.", 1, ("Merkblatt", "Gebühren")),
        Block("Text C auf Seite zwei.", 2, ("Merkblatt", "Gebühren")),
        Block("Text D auf Seite zwei.", 2, ("Merkblatt", "Gebühren")),
    ]
    chunks = chunk_blocks(blocks, 100, 20)
    assert [(c.text, c.page, c.section) for c in chunks] == [
        ("Text A auf Seite eins.", 1, "Merkblatt › Antrag"),
        ("Text B auf Seite eins.", 1, "Merkblatt › Gebühren"),
        ("Text C auf Seite zwei.\nText D auf Seite zwei.", 2, "Merkblatt › Gebühren"),
    ]


def test_a_section_seen_again_later_is_not_merged_with_its_first_part() -> None:
    blocks = [
        Block("Erster Teil.", None, ("A",)),
        Block("Dazwischen.", None, ("B",)),
        Block("Zweiter Teil.", None, ("A",)),
    ]
    chunks = chunk_blocks(blocks, 100, 0)
    assert [(c.text, c.section) for c in chunks] == [
        ("Erster Teil.", "A"), ("Dazwischen.", "B"), ("Zweiter Teil.", "A"),
    ]


def test_long_paragraph_is_split_at_sentence_boundaries() -> None:
    paragraph = _paragraph(10)  # 80 words
    chunks = chunk_blocks([Block(paragraph, 3, ("Gebühren",))], 20, 0)
    assert len(chunks) == 5  # two 8-word sentences fit in 20 words
    for chunk in chunks:
        assert _words(chunk.text) <= 20
        assert (chunk.page, chunk.section, chunk.kind) == (3, "Gebühren", "text")
        for line in chunk.text.split("\n"):
            # every line is one whole sentence: "SatzN ... EndeN."
            first, last = line.split()[0], line.split()[-1]
            assert first.startswith("Satz") and last == f"Ende{first.removeprefix('Satz')}."
    # nothing lost, nothing repeated without overlap
    assert " ".join(c.text.replace("\n", " ") for c in chunks) == paragraph


def test_paragraph_within_the_size_stays_whole() -> None:
    paragraph = _paragraph(2)  # 16 words, sentences not split apart
    chunks = chunk_blocks([Block(paragraph)], 16, 0)
    assert [c.text for c in chunks] == [paragraph]


def test_abbreviations_do_not_cut_sentences_when_splitting() -> None:
    paragraph = (
        "Bitte bringen Sie z. B. den Ausweis und die Meldebescheinigung mit. "
        "Das Formular Nr. 5 liegt im Bürgerbüro am Markt aus. "
        "Die Frist endet am 15. Februar für alle Anträge dieses Jahres."
    )
    chunks = chunk_blocks([Block(paragraph)], 12, 0)
    assert [c.text for c in chunks] == [
        "Bitte bringen Sie z. B. den Ausweis und die Meldebescheinigung mit.",
        "Das Formular Nr. 5 liegt im Bürgerbüro am Markt aus.",
        "Die Frist endet am 15. Februar für alle Anträge dieses Jahres.",
    ]


def test_overlap_carries_the_tail_of_a_chunk_into_the_next() -> None:
    chunks = chunk_blocks([Block(_paragraph(10))], 24, 8)
    assert len(chunks) > 1
    for previous, current in zip(chunks, chunks[1:], strict=False):
        tail = previous.text.split("\n")[-1]
        assert current.text.split("\n")[0] == tail
        assert _words(tail) <= 8
    # all sentences appear, in order, when the repeated tails are skipped
    seen: list[str] = []
    for chunk in chunks:
        for line in chunk.text.split("\n"):
            if not seen or line != seen[-1]:
                seen.append(line)
    assert seen == [_sentence(i) for i in range(1, 11)]


def test_overlap_takes_only_whole_pieces_that_fit() -> None:
    # 8-word sentences with an overlap of 7 words: no sentence fits, so no overlap at all
    chunks = chunk_blocks([Block(_paragraph(6))], 16, 7)
    lines = [line for c in chunks for line in c.text.split("\n")]
    assert len(lines) == len(set(lines)) == 6


def test_zero_overlap_repeats_nothing() -> None:
    chunks = chunk_blocks([Block(_paragraph(9))], 24, 0)
    lines = [line for c in chunks for line in c.text.split("\n")]
    assert lines == [_sentence(i) for i in range(1, 10)]


def test_tables_are_never_merged_with_text() -> None:
    table = (
        "Tabelle: Gebühren\n"
        "Leistung: Reisepass; Gebühr: 70,00\n"
        "Leistung: Ausweis; Gebühr: 37,00"
    )
    blocks = [
        Block("Die Gebühren richten sich nach der Satzung.", 2, ("Gebühren",)),
        Block(table, 2, ("Gebühren",), "table"),
        Block("Zahlbar bar oder mit Karte.", 2, ("Gebühren",)),
    ]
    chunks = chunk_blocks(blocks, 200, 50)
    assert [(c.text, c.kind) for c in chunks] == [
        ("Die Gebühren richten sich nach der Satzung.", "text"),
        (table, "table"),
        ("Zahlbar bar oder mit Karte.", "text"),
    ]
    assert all((c.page, c.section) == (2, "Gebühren") for c in chunks)


def test_a_table_larger_than_the_chunk_size_stays_one_chunk() -> None:
    table = "\n".join(f"Leistung: Bescheinigung {i}; Gebühr: {i},00 Euro" for i in range(40))
    chunks = chunk_blocks([Block(table, None, (), "table")], 20, 5)
    assert chunks == [Chunk(table, None, "", "table")]


def test_consecutive_tables_stay_separate() -> None:
    blocks = [Block("Zone: A", None, ("Parken",), "table"),
              Block("Zone: B", None, ("Parken",), "table")]
    assert [c.text for c in chunk_blocks(blocks, 200, 0)] == ["Zone: A", "Zone: B"]


def test_no_blocks_no_chunks() -> None:
    assert chunk_blocks([], 100, 10) == []
