"""Plain German: rule checker, readability, and simplification into Leichte / Einfache Sprache.

    from pipelines.plain import check, readability, simplify, highlight_segments, read_upload

    result = check(text, "leicht")            # CheckResult: findings with positions, counts
    segments = highlight_segments(text, result.findings)   # for gradio.HighlightedText
    scores = readability(text)                # Readability: Flesch-Amstad, WSTF, LIX, counts
    simple = simplify(text, "einfach", provider)   # SimplificationResult, mode llm/regelbasiert

No UI library is imported here; all messages for people are German.
"""

from __future__ import annotations

from pipelines.plain.documents import UPLOAD_EXTENSIONS, read_upload
from pipelines.plain.errors import PlainLanguageError
from pipelines.plain.glossary import GlossaryEntry, load_glossary
from pipelines.plain.readability import Readability, readability
from pipelines.plain.rulebased import Change, simplify_by_rules
from pipelines.plain.rules import (
    RULE_NAMES,
    RULES,
    SEVERITY_LABELS,
    TARGET_NAMES,
    CheckResult,
    Finding,
    Target,
    highlight_segments,
)
from pipelines.plain.simplify import (
    DEFAULT_MAX_ROUNDS,
    MAX_LLM_TEXT_CHARS,
    MAX_TEXT_CHARS,
    Round,
    SimplificationResult,
    check,
    simplify,
    validate_text,
)

__all__ = [
    "DEFAULT_MAX_ROUNDS", "MAX_LLM_TEXT_CHARS", "MAX_TEXT_CHARS", "RULES", "RULE_NAMES",
    "SEVERITY_LABELS", "TARGET_NAMES", "UPLOAD_EXTENSIONS", "Change", "CheckResult", "Finding",
    "GlossaryEntry", "PlainLanguageError", "Readability", "Round", "SimplificationResult",
    "Target", "check", "highlight_segments", "load_glossary", "read_upload", "readability",
    "simplify", "simplify_by_rules", "validate_text",
]
