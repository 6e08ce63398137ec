"""Simplify German text into Leichte or Einfache Sprache.

With a language model: generate → check (the rule checker, not the model's own judgement) →
revise, at most `max_rounds` model calls, stopping as soon as the checker finds no
violation ("error" severity). Without one, or when it fails, the rule-based simplification
answers and the result says so (`mode == "regelbasiert"` and a German notice).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pipelines.german import german_number
from pipelines.llm.providers import LLMError, LLMProvider, Message
from pipelines.plain.errors import PlainLanguageError
from pipelines.plain.readability import Readability, readability
from pipelines.plain.rulebased import Change, simplify_by_rules
from pipelines.plain.rules import (
    RULE_NAMES,
    TARGET_NAMES,
    TARGETS,
    CheckResult,
    Finding,
    Target,
    check_text,
)
from pipelines.prompts import render_prompt

Mode = Literal["llm", "regelbasiert"]
MAX_TEXT_CHARS = 30_000
# The revise prompt carries source, draft and findings; beyond this the model's context
# (8k tokens by default) would silently cut the text.
MAX_LLM_TEXT_CHARS = 6_000
DEFAULT_MAX_ROUNDS = 3
MAX_ROUNDS_LIMIT = 10
MAX_FINDINGS_IN_PROMPT = 25

RULE_BASED_NOTICE = (
    "Regelbasierte Vereinfachung ohne Sprachmodell: Abkürzungen ausgeschrieben, Amtsdeutsch "
    "ersetzt oder erklärt, Zahlen als Ziffern, lange Sätze an Bindewörtern geteilt{compounds}. "
    "Passiv, Verneinungen und Nominalstil bleiben stehen – bitte den Text von Hand prüfen."
)


@dataclass
class Round:
    """One model call of the loop and what the checker found in its text."""

    number: int
    kind: Literal["generate", "revise"]
    text: str
    findings: list[Finding]
    counts: dict[str, int]
    severe: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["findings"] = [f.to_dict() for f in self.findings]
        return data


@dataclass
class SimplificationResult:
    source: str
    text: str
    target: Target
    mode: Mode
    notice: str  # German, shown next to the result
    findings: list[Finding]  # of `text`
    source_findings: list[Finding]  # of `source`
    readability_before: Readability | None
    readability_after: Readability | None
    rounds: list[Round] = field(default_factory=list)  # model calls (also when it failed)
    changes: list[Change] = field(default_factory=list)  # edits of the rule-based mode
    model: str | None = None
    error: str | None = None  # why the model was not used or failed, German
    chosen_round: int | None = None
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        return CheckResult(self.text, self.target, self.findings).counts

    @property
    def source_counts(self) -> dict[str, int]:
        return CheckResult(self.source, self.target, self.source_findings).counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text, "target": self.target, "mode": self.mode,
            "notice": self.notice, "model": self.model, "error": self.error,
            "chosen_round": self.chosen_round, "seconds": round(self.seconds, 3),
            "counts": self.counts, "source_counts": self.source_counts,
            "findings": [f.to_dict() for f in self.findings],
            "source_findings": [f.to_dict() for f in self.source_findings],
            "readability_before": self.readability_before.to_dict()
            if self.readability_before else None,
            "readability_after": self.readability_after.to_dict()
            if self.readability_after else None,
            "rounds": [r.to_dict() for r in self.rounds],
            "changes": [asdict(c) for c in self.changes],
        }


def validate_text(text: object, max_chars: int = MAX_TEXT_CHARS) -> str:
    """The text if it can be worked on; else PlainLanguageError with the reason in German."""
    if not isinstance(text, str):
        raise PlainLanguageError("Bitte einen Text übergeben (keine Datei oder Zahl).")
    if "\x00" in text:
        raise PlainLanguageError("Der Text enthält Binärdaten (Nullzeichen); bitte nur Text "
                                 "einfügen.")
    if not text.strip():
        raise PlainLanguageError("Der Text ist leer. Bitte einen Text eingeben oder eine Datei "
                                 "hochladen.")
    if len(text) > max_chars:
        raise PlainLanguageError(
            f"Der Text ist zu lang ({german_number(len(text))} Zeichen); erlaubt sind "
            f"höchstens {german_number(max_chars)} Zeichen. Bitte den Text in Teilen "
            "bearbeiten.")
    if not re.search(r"[^\W\d_]", text):
        raise PlainLanguageError("Der Text enthält keine Wörter.")
    return text


def _target(target: str) -> Target:
    if target not in TARGETS:
        raise PlainLanguageError(
            f"Unbekanntes Ziel „{target}“. Möglich sind „leicht“ (Leichte Sprache) und "
            "„einfach“ (Einfache Sprache).")
    return target  # type: ignore[return-value]


def check(text: str, target: str = "leicht") -> CheckResult:
    """Rule findings for `text` (positions into `text`) and per-rule counts."""
    return check_text(validate_text(text), _target(target))


def _readability_or_none(text: str) -> Readability | None:
    try:
        return readability(text)
    except PlainLanguageError:
        return None


def _rule_based(source: str, target: Target, reason: str | None, started: float,
                rounds: list[Round] | None = None, model: str | None = None,
                source_findings: list[Finding] | None = None) -> SimplificationResult:
    text, changes = simplify_by_rules(source, target)
    compounds = ", lange Wörter mit Mediopunkt gegliedert" if target == "leicht" else ""
    notice = RULE_BASED_NOTICE.format(compounds=compounds)
    if reason:
        notice = f"{reason} {notice}"
    return SimplificationResult(
        source=source, text=text, target=target, mode="regelbasiert", notice=notice,
        findings=check_text(text, target).findings,
        source_findings=source_findings if source_findings is not None
        else check_text(source, target).findings,
        readability_before=_readability_or_none(source),
        readability_after=_readability_or_none(text),
        rounds=rounds or [], changes=changes, model=model, error=reason,
        seconds=time.perf_counter() - started,
    )


def simplify(text: str, target: str = "leicht", provider: LLMProvider | None = None,
             max_rounds: int = DEFAULT_MAX_ROUNDS,
             on_round: Callable[[Round], None] | None = None) -> SimplificationResult:
    """Simplify `text` into Leichte (`"leicht"`) or Einfache (`"einfach"`) Sprache.

    With a reachable `provider`: the model loop (mode "llm"); else, and when the model fails
    on the way, the rule-based simplification (mode "regelbasiert") with a German notice.
    Raises PlainLanguageError for empty, too long or non-text input and a wrong target.
    """
    started = time.perf_counter()
    source = validate_text(text)
    goal = _target(target)
    if not 1 <= max_rounds <= MAX_ROUNDS_LIMIT:
        raise PlainLanguageError(
            f"Die Zahl der Runden muss zwischen 1 und {MAX_ROUNDS_LIMIT} liegen.")
    if provider is None:
        return _rule_based(source, goal, "Kein Sprachmodell eingestellt.", started)
    if len(source) > MAX_LLM_TEXT_CHARS:
        return _rule_based(
            source, goal,
            f"Der Text ist für das Sprachmodell zu lang ({german_number(len(source))} Zeichen, "
            f"höchstens {german_number(MAX_LLM_TEXT_CHARS)}).", started, model=provider.model)
    if not provider.is_available():
        return _rule_based(
            source, goal,
            f"Das Sprachmodell ({provider.name}: {provider.model}) ist nicht erreichbar.",
            started, model=provider.model)
    return _llm_loop(source, goal, provider, max_rounds, on_round, started)


def _ask(provider: LLMProvider, messages: list[Message]) -> str:
    answer = "".join(provider.stream_chat(messages))
    cleaned = clean_model_text(answer)
    if not cleaned:
        raise LLMError("Das Sprachmodell hat eine leere Antwort geliefert.")
    return cleaned


def clean_model_text(answer: str) -> str:
    """The model's text without code fences, quotes around it or a "Übersetzung:" label."""
    text = answer.strip()
    previous = None
    while text != previous:
        previous = text
        text = re.sub(r"^(?:Übersetzung|Text|Überarbeitete Übersetzung|Verbesserte Übersetzung)"
                      r"(?: in (?:Leichter|Einfacher) Sprache)?\s*:\s*\n?", "", text,
                      flags=re.IGNORECASE).strip()
        text = re.sub(r"^```[a-zA-Z]*\s*\n?|\n?```$", "", text).strip()
        text = re.sub(r'^"""\s*|\s*"""$', "", text).strip()
    return text


def findings_for_prompt(findings: list[Finding]) -> str:
    """The checker's findings as a German bullet list for the revise prompt, severe first."""
    ordered = sorted(findings, key=lambda f: ({"error": 0, "warning": 1, "info": 2}[f.severity],
                                               f.start))
    lines = []
    for finding in ordered[:MAX_FINDINGS_IN_PROMPT]:
        if finding.severity == "info":
            continue
        excerpt = finding.text if len(finding.text) <= 120 else finding.text[:117] + "…"
        lines.append(f"- {RULE_NAMES[finding.rule]}: „{excerpt}“ – {finding.message} "
                     f"{finding.suggestion}")
    rest = len([f for f in ordered[MAX_FINDINGS_IN_PROMPT:] if f.severity != "info"])
    if rest:
        lines.append(f"- … und {rest} weitere Stellen derselben Art.")
    return "\n".join(lines)


def _llm_loop(source: str, target: Target, provider: LLMProvider, max_rounds: int,
              on_round: Callable[[Round], None] | None, started: float) -> SimplificationResult:
    target_name = TARGET_NAMES[target]
    system = render_prompt("plain_system", target_name=target_name,
                           rules=render_prompt(f"plain_rules_{target}"))
    source_findings = check_text(source, target).findings
    rounds: list[Round] = []
    draft = ""
    for number in range(1, max_rounds + 1):
        if number == 1:
            kind: Literal["generate", "revise"] = "generate"
            user = render_prompt("plain_generate", target_name=target_name, text=source)
        else:
            kind = "revise"
            user = render_prompt("plain_revise", target_name=target_name, text=source,
                                 draft=draft, findings=findings_for_prompt(rounds[-1].findings))
        round_started = time.perf_counter()
        try:
            draft = _ask(provider, [Message("system", system), Message("user", user)])
        except (LLMError, OSError, ValueError) as exc:
            reason = (f"Das Sprachmodell ist in Runde {number} ausgefallen ({exc}). "
                      "Stattdessen:")
            return _rule_based(source, target, reason, started, rounds, provider.model,
                               source_findings)
        result = check_text(draft, target)
        round_ = Round(number, kind, draft, result.findings, result.counts,
                       len(result.severe), time.perf_counter() - round_started)
        rounds.append(round_)
        if on_round is not None:
            on_round(round_)
        if round_.severe == 0:
            break
    # The round with the fewest violations; on a tie the later (more revised) one.
    best = min(rounds, key=lambda r: (r.severe, -r.number))
    remaining = best.severe
    notice = (f"Vereinfacht mit dem Sprachmodell {provider.model} in {len(rounds)} "
              f"{'Runde' if len(rounds) == 1 else 'Runden'}, geprüft mit den Regeln für "
              f"{target_name}.")
    if remaining:
        notice += (f" Es bleiben {remaining} Verstöße gegen die Regeln (markiert) – bitte von "
                   "Hand prüfen.")
    if best.number != rounds[-1].number:
        notice += f" Gezeigt wird Runde {best.number}, sie hat die wenigsten Verstöße."
    return SimplificationResult(
        source=source, text=best.text, target=target, mode="llm", notice=notice,
        findings=best.findings, source_findings=source_findings,
        readability_before=_readability_or_none(source),
        readability_after=_readability_or_none(best.text),
        rounds=rounds, model=provider.model, chosen_round=best.number,
        seconds=time.perf_counter() - started,
    )
