"""PDF text with structure from the fonts: headings by size and weight, paragraphs by spacing.

pypdf's plain text loses the layout; its text visitor reports each run's font and size. Lines
set larger than the body text (or bold and short) are headings, their level from the size;
a wider vertical gap than the usual line spacing starts a new paragraph; small print in the top
and bottom margins (running headers, "Seite 2 von 3") is dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

HEADING_SIZE_FACTOR = 1.12
SMALL_PRINT_FACTOR = 0.9
MARGIN_SHARE = 0.08
PARAGRAPH_GAP_FACTOR = 1.3
MAX_HEADING_WORDS = 16
BULLETS = ("•", "-", "–", "▪", "◦")
CELL_GAP_EMS = 1.5


@dataclass
class Line:
    page: int
    y: float
    size: float
    bold: bool
    text: str


@dataclass
class LayoutBlock:
    page: int
    text: str
    heading_level: int | None = None  # 0 = biggest heading of the document


@dataclass
class _Collector:
    page: int
    lines: list[Line] = field(default_factory=list)
    _current: dict[str, Any] | None = None

    def visit(self, text: str, cm: list[float], tm: list[float], font: dict[str, Any] | None,
              size: float) -> None:
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = abs(tm[3] * cm[3]) or 1.0
        name = str((font or {}).get("/BaseFont", ""))
        for i, piece in enumerate(text.split("\n")):
            if i > 0:
                self._flush()
            if not piece.strip():
                continue
            current = self._current
            if current is None or abs(current["y"] - y) > 1.0:
                self._flush()
                current = self._current = {"y": y, "parts": [], "sizes": Counter(),
                                           "bold": Counter(), "end": x}
            elif i == 0 and x > current["end"] + size * scale * CELL_GAP_EMS:
                # A jump to the right on the same line: the next cell of a table row.
                current["parts"].append(" | ")
            current["parts"].append(piece)
            # Rough end of the run: DejaVu/Helvetica average about half an em per character.
            current["end"] = max(current["end"], x) + len(piece) * size * scale * 0.5
            chars = len(piece.strip())
            current["sizes"][round(size * scale, 1)] += chars
            current["bold"]["bold" in name.lower() or "black" in name.lower()] += chars

    def _flush(self) -> None:
        current, self._current = self._current, None
        if not current:
            return
        text = " ".join("".join(current["parts"]).split())
        if text:
            size = current["sizes"].most_common(1)[0][0]
            bold = current["bold"][True] > current["bold"][False]
            self.lines.append(Line(self.page, current["y"], size, bold, text))

    def finish(self) -> list[Line]:
        self._flush()
        return self.lines


def extract_lines(reader: Any) -> tuple[list[Line], list[float]]:
    """All text lines of the document, and each page's height."""
    lines: list[Line] = []
    heights: list[float] = []
    for number, page in enumerate(reader.pages, start=1):
        collector = _Collector(number)
        page.extract_text(visitor_text=collector.visit)
        lines.extend(collector.finish())
        heights.append(float(page.mediabox.height))
    return lines, heights


def layout_blocks(lines: list[Line], heights: list[float]) -> list[LayoutBlock]:
    if not lines:
        return []
    weights: Counter[float] = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    body = weights.most_common(1)[0][0]
    running = _running_lines(lines, heights)
    lines = [
        line for line in lines
        if not _is_margin_print(line, body, heights) and _normalized(line.text) not in running
    ]
    heading_sizes = sorted({ln.size for ln in lines if _is_heading(ln, body)}, reverse=True)
    spacing = _typical_spacing(lines, body)
    blocks: list[LayoutBlock] = []
    previous: Line | None = None
    for line in lines:
        if _is_heading(line, body):
            level = heading_sizes.index(line.size)
            last = blocks[-1] if blocks else None
            # A heading wrapped over two lines continues the same heading.
            if (last and last.heading_level == level and previous and previous.page == line.page
                    and _is_heading(previous, body) and previous.y - line.y < 2.2 * line.size):
                last.text = f"{last.text} {line.text}"
            else:
                blocks.append(LayoutBlock(line.page, line.text, level))
        else:
            starts_item = line.text.startswith(BULLETS) or re.match(r"^\(?\d{1,2}[.)]\s", line.text)
            gap = previous.y - line.y if previous and previous.page == line.page else None
            last = blocks[-1] if blocks else None
            continues = (
                last is not None and last.heading_level is None and last.page == line.page
                and gap is not None and 0 < gap <= spacing * PARAGRAPH_GAP_FACTOR
                and not starts_item
            )
            if continues and last is not None:
                last.text = _join(last.text, line.text)
            else:
                blocks.append(LayoutBlock(line.page, line.text))
        previous = line
    return blocks


def _is_heading(line: Line, body: float) -> bool:
    words = len(line.text.split())
    if words > MAX_HEADING_WORDS or line.text.endswith((".", ",", ";")):
        return False
    return line.size >= body * HEADING_SIZE_FACTOR or (line.bold and line.size >= body)


def _is_margin_print(line: Line, body: float, heights: list[float]) -> bool:
    height = heights[line.page - 1] or 842.0
    in_margin = line.y > height * (1 - MARGIN_SHARE) or line.y < height * MARGIN_SHARE
    return in_margin and line.size < body * SMALL_PRINT_FACTOR


def _normalized(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower())


def _running_lines(lines: list[Line], heights: list[float]) -> set[str]:
    """Texts in the top/bottom margin that recur on at least half of the pages (at least 2):
    running headers and footers such as the town's name or "Seite 2 von 3"."""
    if len(heights) < 2:
        return set()
    pages: dict[str, set[int]] = {}
    for line in lines:
        height = heights[line.page - 1] or 842.0
        if height * MARGIN_SHARE * 1.5 < line.y < height * (1 - MARGIN_SHARE * 1.5):
            continue
        pages.setdefault(_normalized(line.text), set()).add(line.page)
    return {text for text, seen in pages.items() if len(seen) >= max(2, len(heights) / 2)}


def _typical_spacing(lines: list[Line], body: float) -> float:
    gaps = Counter(
        round(a.y - b.y, 0)
        for a, b in zip(lines, lines[1:], strict=False)
        if a.page == b.page and a.size == body and b.size == body and a.y > b.y
    )
    return float(gaps.most_common(1)[0][0]) if gaps else body * 1.5


def _join(text: str, more: str) -> str:
    if text.endswith("-") and more[:1].islower():
        return text[:-1] + more
    return f"{text} {more}"
