"""Scope gate and handoff on the Musterstadt test set: the sample bot with its scope (topics and
redirects) against the same bot without, in one run.

Per kind of item:
- out_of_scope with an expected office: redirected to that office (the expected office's words
  all occur in the redirect's name and text);
- out_of_scope without one (weather, recipes): not answered from the documents;
- answerable: wrongly refused = redirected or no answer (a redirect whose text contains the
  expected answer is counted separately: the city bot then still gave the right information);
- no_answer: refused, and the handoff offered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evaluation.testset import TestItem, load_testset
from pipelines.assistant import Assistant, TurnResult
from pipelines.bots import BotConfig, CuratedSettings, ScopeSettings, parse_bot_yaml
from pipelines.engine import Engine
from pipelines.german import content_terms
from pipelines.settings import REPO_ROOT

SAMPLE_BOT = REPO_ROOT / "data" / "sample" / "bots" / "musterstadt-buergerservice.yaml"
SAMPLE_TESTSET = REPO_ROOT / "data" / "sample" / "musterstadt_testset.jsonl"
ANSWERED = ("llm", "extractive", "kuratiert")
# (kind, verdict) pairs listed as mistakes in the report.
WRONG = {("answerable", "wrongly_refused"), ("out_of_scope", "guessed"),
         ("out_of_scope", "wrong_redirect"), ("out_of_scope", "refused_no_redirect"),
         ("out_of_scope", "answered"), ("no_answer", "answered")}


def run(engine: Engine, testset: Path = SAMPLE_TESTSET, bot_file: Path = SAMPLE_BOT,
        say: Callable[[str], None] | None = None) -> dict[str, Any]:
    items = load_testset(testset)
    # Curated answers stay out of it: the gate alone is measured.
    config = parse_bot_yaml(bot_file.read_text(encoding="utf-8"))
    config = config.model_copy(update={"curated": CuratedSettings(enabled=False)})
    without = config.model_copy(update={"scope": ScopeSettings()})
    results = {}
    for label, variant in (("ohne Zuständigkeitsprüfung", without),
                           ("mit Zuständigkeitsprüfung", config)):
        if say:
            say(f"{label}: {len(items)} Fragen …")
        results[label] = evaluate(engine, variant, items)
    return {"testset": str(testset), "items": len(items),
            "kinds": dict(Counter(i.kind for i in items)), "results": results}


def evaluate(engine: Engine, config: BotConfig, items: list[TestItem]) -> dict[str, Any]:
    assistant = Assistant(engine, config.slug, config=config)
    redirect_texts = {r.message: r.name + " " + r.message for r in config.scope.redirects}
    counts: Counter[str] = Counter()
    wrong: list[str] = []
    for item in items:
        conversation = None
        for earlier in item.history:
            conversation = assistant.ask(earlier, conversation).conversation_id
        result = assistant.ask(item.question, conversation)
        counts[item.kind] += 1
        verdict = _verdict(item, result, redirect_texts)
        counts[f"{item.kind}:{verdict}"] += 1
        if (item.kind, verdict) in WRONG:
            wrong.append(f"{item.id} {verdict}: {item.question}")
        if result.handoff:
            counts[f"{item.kind}:handoff_offered"] += 1
        if result.mode == "verweis":
            counts[f"{item.kind}:any_redirect"] += 1
    return {
        "out_of_scope_with_office": counts["out_of_scope:redirected_correctly"]
        + counts["out_of_scope:wrong_redirect"] + counts["out_of_scope:guessed"]
        + counts["out_of_scope:refused_no_redirect"],
        "redirected_correctly": counts["out_of_scope:redirected_correctly"],
        "out_of_scope_refused_without_office": counts["out_of_scope:refused"],
        "out_of_scope_answered_from_documents": counts["out_of_scope:guessed"]
        + counts["out_of_scope:answered"],
        "answerable": counts["answerable"],
        "answerable_wrongly_refused": counts["answerable:wrongly_refused"],
        # Of those and the next: sent elsewhere by the gate (not refused for low confidence).
        "answerable_redirected": counts["answerable:any_redirect"],
        "answerable_redirected_with_expected_answer": counts["answerable:redirect_with_answer"],
        "no_answer": counts["no_answer"],
        "no_answer_refused": counts["no_answer:refused"] + counts["no_answer:redirected"],
        "no_answer_handoff_offered": counts["no_answer:handoff_offered"],
        "wrong": wrong,
    }


def _verdict(item: TestItem, result: TurnResult, redirect_texts: dict[str, str]) -> str:
    redirected = result.mode == "verweis"
    if item.kind == "answerable":
        if result.mode in ANSWERED:
            return "answered"
        if redirected and _contains(redirect_texts.get(result.answer, ""),
                                    item.expected_answer):
            return "redirect_with_answer"
        return "wrongly_refused"
    if item.kind == "out_of_scope":
        if item.expected_answer:
            if redirected:
                return ("redirected_correctly" if _contains(
                    redirect_texts.get(result.answer, ""), item.expected_answer)
                    else "wrong_redirect")
            return "guessed" if result.mode in ANSWERED else "refused_no_redirect"
        return "answered" if result.mode in ANSWERED else "refused"
    if redirected:
        return "redirected"
    return "answered" if result.mode in ANSWERED else "refused"


def _contains(text: str, expected: str) -> bool:
    """Every content word of `expected` (stems, compound parts) occurs in `text`."""
    wanted = content_terms(expected)
    return bool(wanted) and wanted <= content_terms(text)


def summary(payload: dict[str, Any]) -> dict[str, Any]:
    rows = {}
    for label, figures in payload["results"].items():
        sent_away = (figures["answerable_redirected"]
                     - figures["answerable_redirected_with_expected_answer"])
        rows[label] = (
            f"Verweis richtig {figures['redirected_correctly']}/"
            f"{figures['out_of_scope_with_office']}, ohne Stelle abgelehnt "
            f"{figures['out_of_scope_refused_without_office']}/"
            f"{payload['kinds'].get('out_of_scope', 0) - figures['out_of_scope_with_office']}, "
            f"beantwortbare fälschlich abgelehnt {figures['answerable_wrongly_refused']}/"
            f"{figures['answerable']} (davon verwiesen "
            f"{sent_away}; +{figures['answerable_redirected_with_expected_answer']} "
            f"Verweise mit der erwarteten Auskunft), nicht beantwortbare abgelehnt "
            f"{figures['no_answer_refused']}/{figures['no_answer']}, Übergabe angeboten "
            f"{figures['no_answer_handoff_offered']}/{figures['no_answer']}")
    return {"Fragen": payload["items"], **rows}
