"""Any SQuAD-format file (v1.1 or v2.0) as paragraphs and the questions about them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SquadParagraph:
    paragraph_id: str
    title: str
    context: str


@dataclass(frozen=True)
class SquadQuestion:
    question_id: str
    question: str
    paragraph_id: str
    answers: tuple[str, ...]


def load_squad(path: Path) -> tuple[list[SquadParagraph], list[SquadQuestion]]:
    """Paragraphs and answerable questions; unanswerable (v2 'is_impossible') ones are left out."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        articles = document["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: keine SQuAD-Datei ({type(exc).__name__}: {exc})") from exc
    paragraphs: list[SquadParagraph] = []
    questions: list[SquadQuestion] = []
    for a_index, article in enumerate(articles):
        title = str(article.get("title", ""))
        for p_index, paragraph in enumerate(article.get("paragraphs", [])):
            paragraph_id = f"p{a_index:04d}-{p_index:03d}"
            paragraphs.append(SquadParagraph(paragraph_id, title, paragraph["context"]))
            for qa in paragraph.get("qas", []):
                if qa.get("is_impossible"):
                    continue
                answers = tuple(a["text"] for a in qa.get("answers", []))
                questions.append(
                    SquadQuestion(str(qa.get("id", len(questions))), qa["question"],
                                  paragraph_id, answers)
                )
    if not paragraphs or not questions:
        raise ValueError(f"{path}: enthält keine Absätze mit beantwortbaren Fragen")
    return paragraphs, questions
