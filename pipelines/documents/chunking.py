"""Cut blocks into chunks that stay inside one section and one page, so citations are exact."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from pipelines.documents.readers import Block
from pipelines.german import split_sentences


@dataclass(frozen=True)
class Chunk:
    text: str
    page: int | None
    section: str
    kind: str


def chunk_blocks(blocks: list[Block], size_words: int, overlap_words: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    for (page, section), group in groupby(blocks, key=lambda b: (b.page, b.section)):
        pending: list[str] = []
        for block in group:
            if block.kind == "table":
                chunks.extend(_flush(pending, page, section, size_words, overlap_words))
                pending = []
                chunks.append(Chunk(block.text, page, section, "table"))
                continue
            pending.append(block.text)
        chunks.extend(_flush(pending, page, section, size_words, overlap_words))
    return chunks


def _flush(
    paragraphs: list[str], page: int | None, section: str, size: int, overlap: int
) -> list[Chunk]:
    """Pack paragraphs into chunks of about `size` words; split long ones by sentences."""
    pieces: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph.split()) <= size:
            pieces.append(paragraph)
        else:
            pieces.extend(split_sentences(paragraph))
    chunks: list[Chunk] = []
    current: list[str] = []
    count = 0
    for piece in pieces:
        words = len(piece.split())
        if current and count + words > size:
            chunks.append(Chunk("\n".join(current), page, section, "text"))
            current, count = _overlap_tail(current, overlap)
        current.append(piece)
        count += words
    if current:
        chunks.append(Chunk("\n".join(current), page, section, "text"))
    return chunks


def _overlap_tail(pieces: list[str], overlap: int) -> tuple[list[str], int]:
    """The last pieces of a chunk (at most `overlap` words) start the next one."""
    tail: list[str] = []
    count = 0
    for piece in reversed(pieces):
        words = len(piece.split())
        if count + words > overlap:
            break
        tail.insert(0, piece)
        count += words
    return tail, count
