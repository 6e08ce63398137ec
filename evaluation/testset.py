"""The bot test sets (JSONL: question, expected answer, expected source, kind)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ItemKind = Literal["answerable", "no_answer", "out_of_scope", "handoff"]


@dataclass(frozen=True)
class TestItem:
    __test__ = False  # a test-set item, not a pytest test class

    id: str
    question: str
    expected_answer: str
    expected_source: str
    kind: ItemKind
    also_sources: tuple[str, ...] = ()
    history: tuple[str, ...] = field(default=())

    @property
    def sources(self) -> set[str]:
        return {s for s in (self.expected_source, *self.also_sources) if s}


def load_testset(path: Path) -> list[TestItem]:
    items: list[TestItem] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            items.append(
                TestItem(
                    id=str(raw["id"]),
                    question=str(raw["question"]),
                    expected_answer=str(raw.get("expected_answer", "")),
                    expected_source=str(raw.get("expected_source", "")),
                    kind=raw.get("kind", "answerable"),
                    also_sources=tuple(raw.get("also_sources", [])),
                    history=tuple(raw.get("history", [])),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, Zeile {number}: ungültiger Eintrag ({exc})") from exc
    return items
