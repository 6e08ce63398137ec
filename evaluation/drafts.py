"""Draft test items from a bot's documents, which an evaluator accepts or rejects before use.

With a language model: per passage a few question/answer pairs (prompt
pipelines/prompts/de/draft_questions.md, strict "F:/A:" lines). Without one, or when its reply
cannot be read: rules over the passages – questions the documents ask themselves (FAQ lines
ending in "?", with the sentence after as the answer), definitions ("Ein X ist …", "Als X gilt
…" → "Was bedeutet „X“?"), and headings ("Was gilt für „…“?", answered by the section's first
sentence). Every draft names its source file; drafts are stored with status "entwurf" and are
not run until accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from evaluation.testset import ImportReport, TestItem, add_items
from pipelines.bots import BotRepository
from pipelines.documents.ingest import Ingestor
from pipelines.engine import Engine
from pipelines.german import split_sentences
from pipelines.llm.providers import LLMError, LLMProvider, Message
from pipelines.prompts import render_prompt

PAIRS_PER_PASSAGE = 2
MIN_QUESTION_CHARS = 12
MAX_PASSAGE_CHARS = 2500
_DEFINITION = re.compile(
    r"^(?:Der|Die|Das|Ein|Eine)\s+(?P<term>[A-ZÄÖÜ][\wäöüß-]+(?:\s+[A-ZÄÖÜ][\wäöüß-]+)?)\s+"
    r"(?:ist|sind|bezeichnet|bedeutet)\s+(?P<rest>.{15,})$")
_COUNTS_AS = re.compile(
    r"^Als\s+(?P<term>[A-ZÄÖÜ][\wäöüß -]{2,40}?)\s+gilt,?\s+(?P<rest>.{10,})$")
_HEADING_NUMBER = re.compile(r"^\s*[\d.]+\s*")
_LLM_PAIR = re.compile(r"^F:\s*(?P<q>.+?)\s*\n+A:\s*(?P<a>.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Passage:
    source: str
    section: str
    text: str


def passages(engine: Engine, workspace: str, bot_slug: str) -> Iterator[Passage]:
    """Every passage of the bot's knowledge bases, document by document."""
    with engine.session() as session:
        config = BotRepository(session, workspace).get(bot_slug)[0]
    for kb in config.effective_knowledge_bases():
        ingestor = Ingestor(engine, workspace, kb)
        for document in ingestor.documents():
            for chunk in ingestor.index.chunks_of(document.doc_key):
                yield Passage(document.name, str(chunk.get("section") or ""),
                              str(chunk.get("text") or ""))


def rule_drafts(passage: Passage) -> list[TestItem]:
    """Questions the rules find in one passage (FAQ questions, definitions, its heading)."""
    found: list[TestItem] = []
    sentences = [s.strip() for s in split_sentences(passage.text) if s.strip()]
    for index, sentence in enumerate(sentences):
        if sentence.endswith("?") and len(sentence) >= MIN_QUESTION_CHARS \
                and index + 1 < len(sentences) and not sentences[index + 1].endswith("?"):
            found.append(_draft(sentence, sentences[index + 1], passage))
            continue
        match = _DEFINITION.match(sentence) or _COUNTS_AS.match(sentence)
        if match:
            found.append(_draft(f"Was bedeutet „{match.group('term')}“?", sentence, passage))
    heading = _HEADING_NUMBER.sub("", passage.section.split("›")[-1]).strip()
    if heading and sentences and not found and len(heading) >= 4:
        found.append(_draft(f"Was gilt für „{heading}“?", sentences[0], passage))
    return found


def llm_drafts(provider: LLMProvider, passage: Passage, count: int = PAIRS_PER_PASSAGE
               ) -> list[TestItem] | None:
    """Pairs the language model writes for one passage; None when it fails or its reply has
    no readable "F:/A:" pair."""
    prompt = render_prompt("draft_questions", count=str(count),
                           passage=passage.text[:MAX_PASSAGE_CHARS])
    try:
        reply = "".join(provider.stream_chat([Message("user", prompt)]))
    except LLMError:
        return None
    pairs = [(m.group("q").strip(), m.group("a").strip()) for m in _LLM_PAIR.finditer(reply)]
    pairs = [(q, a) for q, a in pairs if q.endswith("?") and len(q) >= MIN_QUESTION_CHARS and a]
    return [_draft(q, a, passage) for q, a in pairs[:count]] or None


def generate_drafts(engine: Engine, workspace: str, testset: str, bot_slug: str,
                    limit: int = 30, provider: LLMProvider | None = None) -> ImportReport:
    """Up to `limit` new draft items for `testset` from the bot's documents, by the language
    model when `provider` answers, else by the rules; stored with status "entwurf"."""
    use_llm = provider is not None and provider.is_available()
    by_llm: list[TestItem] = []
    by_rules: list[TestItem] = []
    seen: set[str] = set()
    for passage in passages(engine, workspace, bot_slug):
        if len(by_llm) + len(by_rules) >= limit:
            break
        drafted = llm_drafts(provider, passage) if use_llm and provider is not None else None
        target = by_llm if drafted else by_rules
        for item in drafted or rule_drafts(passage):
            key = item.question.casefold()
            if key not in seen and len(by_llm) + len(by_rules) < limit:
                seen.add(key)
                target.append(item)
    report = add_items(engine, workspace, testset, by_llm, status="entwurf",
                       origin="entwurf_llm")
    more = add_items(engine, workspace, testset, by_rules, status="entwurf",
                     origin="entwurf_regeln")
    report.created += more.created
    report.duplicates += more.duplicates
    report.problems += more.problems
    return report


def _draft(question: str, answer: str, passage: Passage) -> TestItem:
    return TestItem("", " ".join(question.split()), " ".join(answer.split()), passage.source,
                    "answerable")
