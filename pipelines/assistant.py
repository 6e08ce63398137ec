"""One turn of a conversation: question in, sourced answer out, logged with its timings.

Steps: language -> history/condense -> retrieval -> confidence decision -> answer (LLM with
citations, or extractive) -> log. Every step's milliseconds go into the turn's record.

The log holds question, search query and answer only after `pipelines.privacy.redact`; the
caller still gets the raw answer. Follow-ups therefore see the redacted history.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sqlalchemy import select

from pipelines import curated
from pipelines.bots import BotConfig, BotRepository
from pipelines.engine import Engine
from pipelines.extractive import extractive_answer
from pipelines.handoff import offer_text, wants_person
from pipelines.index import Hit
from pipelines.language import detect_language
from pipelines.llm.providers import LLMError, LLMProvider, Message, get_provider
from pipelines.plain import PlainLanguageError, SimplificationResult, simplify
from pipelines.privacy import redact
from pipelines.prompts import render_prompt
from pipelines.retrieval import confidence, retrieve, term_statistics
from pipelines.scope import ScopeDecision, check_scope, outside_scope
from pipelines.store.models import Conversation
from pipelines.store.models import Message as MessageRow

# llm / extractive: from the documents; kuratiert: a curated answer of the administration;
# verweis: the question belongs to another office (scope gate); mensch: the citizen asked for a
# person; keine_antwort: no reliable answer.
AnswerMode = Literal["llm", "extractive", "kuratiert", "verweis", "mensch", "keine_antwort"]
HISTORY_TURNS = 3
# Where a question came from: the workspace's test chat, the public chat on a town's website,
# voice input, the JSON API, the command line.
CHANNELS = ("workspace", "public", "voice", "api", "cli")
SNIPPET_CHARS = 300

MODE_LABELS = {
    "llm": "Antwort des Sprachmodells aus den Quellen",
    "extractive": "Extraktiver Modus: wörtliche Sätze aus den Quellen, ohne Sprachmodell",
    "kuratiert": "Geprüfte Antwort der Verwaltung",
    "verweis": "Verweis an die zuständige Stelle",
    "mensch": "Übergabe an einen Menschen angeboten",
    "keine_antwort": "Keine verlässliche Antwort in den Unterlagen gefunden",
}
NO_ANSWER_TEXT = (
    "Dazu finde ich in den Unterlagen keine verlässliche Auskunft. Bitte wenden Sie sich an die "
    "Verwaltung oder formulieren Sie die Frage anders."
)
STYLE_TEXT = {
    "kurz": "kurz und klar, höchstens vier Sätze.",
    "ausfuehrlich": "ausführlich und vollständig, mit allen Schritten und Unterlagen.",
    "stichpunkte": "in übersichtlichen Stichpunkten.",
}
LANGUAGE_NAMES = {
    "de": "Deutsch", "en": "Englisch", "tr": "Türkisch", "ar": "Arabisch", "ru": "Russisch",
    "uk": "Ukrainisch", "pl": "Polnisch", "ro": "Rumänisch", "fr": "Französisch",
    "es": "Spanisch", "it": "Italienisch", "fa": "Persisch", "nl": "Niederländisch",
    "hr": "Kroatisch", "vi": "Vietnamesisch",
}
CITATION_RE = re.compile(r"\[(\d{1,2})\]")
OFFLINE_LIMITS = ("Übersetzungen brauchen ein Sprachmodell; ohne eines zeigt der Assistent "
                  "die Sätze der deutschen Quellen.")
PLAIN_NOTICES = {
    "llm": "In Einfache Sprache übertragen vom Sprachmodell, geprüft nach den Regeln für "
           "Einfache Sprache.",
    "regelbasiert": "In Einfache Sprache übertragen ohne Sprachmodell (regelbasiert: "
                    "Amtsdeutsch ersetzt, lange Sätze geteilt, Zahlen als Ziffern).",
}
PLAIN_ROUNDS = 2
# Key in a stored turn's timings: how many personal-data spans were redacted (not milliseconds).
REDACTIONS_KEY = "schwaerzungen"


@dataclass
class Citation:
    number: int
    source: str
    title: str
    page: int | None
    section: str
    url: str
    snippet: str
    score: float
    chunk_id: str


@dataclass
class TurnResult:
    answer: str
    mode: AnswerMode
    mode_label: str
    confidence: float
    no_answer: bool
    language: str
    citations: list[Citation]
    retrieved: list[dict[str, Any]]
    timings_ms: dict[str, float]
    conversation_id: str
    message_id: int | None = None
    bot: str = ""
    bot_version: int = 0
    model: str | None = None
    notice: str = ""
    search_query: str = ""
    # The turn offers the handoff to a person: why (pipelines.handoff.REASON_LABELS) and the
    # offer in the citizen's language.
    handoff: bool = False
    handoff_reason: str = ""
    handoff_offer: str = ""
    curated_answer_id: int | None = None
    # Why the scope gate decided as it did ("Verweis an …: Stichwort „…“"), for "Warum?".
    scope_note: str = ""
    # The language model answered in another language than the German sources: the chat
    # says "maschinell übersetzt" and names the German source.
    translated: bool = False
    plain_language: bool = False
    # The whole text of each cited passage at the position of its number [n] ("" for sources
    # the answer does not cite), for evaluation; not logged and not in to_dict.
    cited_passages: list[str] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("cited_passages")
        return data


@dataclass
class TurnEvent:
    """'delta' (text to append), 'reset' (discard streamed text), 'final' (result)."""

    kind: Literal["delta", "reset", "final"]
    text: str = ""
    result: TurnResult | None = None


@dataclass
class _Timer:
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.timings[name] = round(self.timings.get(name, 0.0) + elapsed, 2)


class Assistant:
    """Answers questions for one bot version of one workspace."""

    def __init__(self, engine: Engine, bot_slug: str, workspace: str | None = None,
                 version: int | None = None, channel: str = "cli", log_turns: bool = True,
                 config: BotConfig | None = None) -> None:
        """`channel`: where the question came from (see CHANNELS), stored with every turn.
        `log_turns=False` only for generated data (demo-logs, evaluation), never for people's
        questions. `config`: answer with this configuration instead of the stored version
        (evaluation of a change before it is saved; never logged)."""
        if channel not in CHANNELS:
            raise ValueError(f"Unbekannter Kanal „{channel}“; möglich: {', '.join(CHANNELS)}.")
        self.engine = engine
        self.workspace = workspace or engine.settings.default_workspace
        self.channel = channel
        self.log_turns = log_turns
        # Turns that are not logged (evaluation runs) keep their history here, so follow-up
        # questions see it as they would in a logged conversation.
        self._memory: dict[str, list[_PastTurn]] = {}
        with engine.session() as session:
            repo = BotRepository(session, self.workspace)
            self.bot, self.version = repo.get(bot_slug, version)
            if config is not None:
                self.bot, self.log_turns = config, False
            self.bot_id = repo.get_row(bot_slug).id
            self.workspace_id = repo.workspace.id

    @property
    def provider(self) -> LLMProvider | None:
        llm = self.bot.llm
        return get_provider(self.engine.settings, llm.provider, llm.model, llm.temperature)

    # -- public API ------------------------------------------------------------------
    def ask(self, question: str, conversation_id: str | None = None,
            on_delta: Callable[[str], None] | None = None, language: str | None = None,
            plain_language: bool = False) -> TurnResult:
        result: TurnResult | None = None
        for event in self.stream(question, conversation_id, language, plain_language):
            if event.kind == "delta" and on_delta:
                on_delta(event.text)
            elif event.kind == "final":
                result = event.result
        assert result is not None
        return result

    def stream(self, question: str, conversation_id: str | None = None,
               language: str | None = None, plain_language: bool = False
               ) -> Iterator[TurnEvent]:
        """`language`: answer in this language (ISO code) instead of the question's (the
        public chat's language switch); `plain_language` (or the bot's setting of that name):
        the answer in Einfache Sprache – the language model is asked for it (prompt
        pipelines/prompts/de/plain_language.md), and a German answer then goes through
        pipelines.plain.simplify (checked by the rules, revised; rule-based without a model)."""
        question = " ".join(question.split())
        plain = plain_language or self.bot.plain_language
        cited_text = ""
        timer = _Timer()
        started = time.perf_counter()
        conversation_id = conversation_id or str(uuid.uuid4())
        with timer.step("sprache"):
            language = language or detect_language(question)
        history = self._history(conversation_id)
        provider = self.provider
        llm_up = False
        if provider is not None:
            with timer.step("llm_verfuegbar"):
                llm_up = provider.is_available()
        search_query = question
        notice = ""
        handoff_reason = ""
        hits: list[Hit] = []
        score = 0.0
        citations: list[Citation] = []
        passages: list[str] = []
        model: str | None = None
        found: curated.CuratedMatch | None = None
        mode: AnswerMode = "keine_antwort"  # set below on every path; read by the "verweis" check
        answer = ""
        if self.bot.handoff.enabled and wants_person(question):
            mode, answer, no_answer, handoff_reason = "mensch", offer_text(language), True, "mensch"
        else:
            with timer.step("gepruefte_antworten"):
                found = self._curated(question, provider if llm_up else None)
        with timer.step("zustaendigkeit"):
            decision = (check_scope(self.bot.scope, question, self.engine.embedder)
                        if not handoff_reason and found is None else ScopeDecision("unknown"))
        redirect = decision.redirect if decision.kind == "redirect" else None
        # A redirect keyword in a question that also names one of the bot's own topics ("Das
        # Jobcenter will eine Meldebescheinigung"): the documents decide; only when they have
        # no good answer does the redirect stand.
        contested = redirect is not None and bool(decision.topic)
        scope_note = decision.explain()
        if handoff_reason:
            pass
        elif found is not None:
            mode, answer, no_answer, score = "kuratiert", found.answer, False, found.score
            # Which question the administration answered, so a near miss shows itself.
            notice = f"Geprüfte Antwort zur Frage „{found.matched_question}“."
            citations = [Citation(1, found.source, found.source, None, "", "", "", found.score,
                                  "")] if found.source else []
        elif redirect is not None and not contested:
            mode, answer, no_answer = "verweis", redirect.message, False
        if handoff_reason or found is not None or mode == "verweis":
            yield TurnEvent("delta", answer)
        else:
            if history:
                with timer.step("umformulieren"):
                    search_query, notice = self._condense(question, history, provider, llm_up)
            with timer.step("suche"):
                hits = retrieve(self.engine, self.workspace,
                                self.bot.effective_knowledge_bases(), search_query,
                                k=self.bot.retrieval.top_k,
                                text_weight=self.bot.retrieval.text_weight)
            with timer.step("bewertung"):
                stats = term_statistics(self.engine, self.workspace,
                                        self.bot.effective_knowledge_bases())
                score = confidence(search_query, hits, stats)
            no_answer = not hits or score < self.bot.retrieval.confidence_threshold
            if no_answer:
                mode, answer = "keine_antwort", NO_ANSWER_TEXT
            elif provider is not None and llm_up:
                mode, model = "llm", provider.model
                with timer.step("antwort"):
                    try:
                        for delta in provider.stream_chat(self._answer_messages(
                                search_query, hits, language, plain)):
                            answer += delta
                            yield TurnEvent("delta", delta)
                    except LLMError as exc:
                        failure = f"Das Sprachmodell hat nicht vollständig geantwortet ({exc})."
                    else:
                        failure = "" if answer.strip() else "Das Sprachmodell hat leer geantwortet."
                if failure:
                    if answer:
                        yield TurnEvent("reset")
                    notice = (f"{failure} Die Antwort wurde stattdessen aus den Quellen "
                              "zusammengestellt.")
                    mode, model, answer, handoff_reason = "extractive", None, "", "llm_fehler"
            else:
                mode = "extractive"
                if provider is not None:
                    notice = ("Kein Sprachmodell erreichbar – die Antwort besteht aus wörtlichen "
                              "Sätzen der Quellen (extraktiver Modus).")
            if mode == "extractive" and language != "de":
                # Without a language model there is no translation.
                notice = " ".join(filter(None, [notice, OFFLINE_LIMITS]))
            if mode == "extractive":
                with timer.step("antwort"):
                    answer = extractive_answer(search_query, hits)
                if not answer:
                    mode, answer, no_answer = "keine_antwort", NO_ANSWER_TEXT, True
                else:
                    yield TurnEvent("delta", answer)
            if plain and language == "de" and mode in ("llm", "extractive"):
                with timer.step("einfache_sprache"):
                    simpler = self._plain(answer, provider if mode == "llm" else None)
                if simpler is not None:
                    cited_text, answer = answer, simpler.text
                    notice = " ".join(filter(None, [notice, PLAIN_NOTICES[simpler.mode]]))
                    yield TurnEvent("reset")
                    yield TurnEvent("delta", answer)
            if mode == "keine_antwort" and redirect is not None:
                mode, answer, no_answer = "verweis", redirect.message, False
                yield TurnEvent("delta", answer)
            elif redirect is not None:
                scope_note = (f"Stichwort „{decision.matched}“ gehört zu {redirect.name}, die "
                              f"Frage aber auch zum Thema „{decision.topic}“, und die Unterlagen "
                              "antworten darauf.")
            if mode == "keine_antwort":
                handoff_reason = "keine_antwort"
                if outside_scope(self.bot.scope, decision):
                    answer, handoff_reason = self.bot.scope.outside_message, "zustaendigkeit"
                yield TurnEvent("delta", answer)
            elif mode != "verweis":
                # A plain-language answer cites what the original answer cited.
                citations = self._citations(cited_text or answer, hits)
                # Numbered like the sources the answer cites as [n]; uncited ones left empty.
                cited = {c.number for c in citations}
                passages = [h.text if n in cited else "" for n, h in enumerate(hits, start=1)]
        offer = handoff_reason and self.bot.handoff.enabled
        timer.timings["gesamt"] = round((time.perf_counter() - started) * 1000, 2)
        result = TurnResult(
            answer=answer.strip(),
            mode=mode,
            mode_label=MODE_LABELS[mode],
            confidence=score,
            no_answer=no_answer,
            language=language,
            citations=citations,
            retrieved=[_hit_summary(h) for h in hits],
            timings_ms=timer.timings,
            conversation_id=conversation_id,
            bot=self.bot.slug,
            bot_version=self.version,
            model=model,
            notice=notice,
            search_query=search_query,
            handoff=bool(offer),
            handoff_reason=handoff_reason if offer else "",
            handoff_offer=offer_text(language) if offer else "",
            curated_answer_id=found.id if found else None,
            scope_note=scope_note,
            translated=mode == "llm" and language != "de",
            plain_language=bool(cited_text),
            cited_passages=passages,
        )
        if found is not None and self.log_turns:
            curated.record_hit(self.engine, found.id)
        if self.log_turns:
            with timer.step("protokoll"):
                result.message_id = self._log(question, result)
        else:
            self._memory.setdefault(conversation_id, []).append(
                _PastTurn(question, result.answer, search_query))
        result.timings_ms = timer.timings
        yield TurnEvent("final", result=result)

    # -- steps -----------------------------------------------------------------------
    def _curated(self, question: str, judge: LLMProvider | None) -> curated.CuratedMatch | None:
        if not self.bot.curated.enabled:
            return None
        return curated.match(self.engine, self.workspace, self.bot.slug, question,
                             self.bot.curated.threshold, judge)

    def _history(self, conversation_id: str) -> list[_PastTurn]:
        if not self.log_turns:
            return self._memory.get(conversation_id, [])[-HISTORY_TURNS:]
        with self.engine.session() as session:
            rows = session.scalars(
                select(MessageRow)
                .where(MessageRow.conversation_id == conversation_id)
                .order_by(MessageRow.id.desc())
                .limit(HISTORY_TURNS)
            ).all()
            return [
                _PastTurn(row.question, row.answer, row.search_query or row.question)
                for row in reversed(rows)
            ]

    def _condense(self, question: str, history: list[_PastTurn],
                  provider: LLMProvider | None, llm_up: bool) -> tuple[str, str]:
        """A follow-up made self-contained: by the LLM, or (offline) joined to the question
        that set the topic, which keeps its topic words for retrieval."""
        offline = f"{_topic_question(history)} {question}"
        if provider is not None and llm_up:
            transcript = "\n".join(f"Frage: {t.question}\nAntwort: {t.answer}" for t in history)
            prompt = render_prompt("condense_question", history=transcript, question=question)
            try:
                condensed = "".join(provider.stream_chat([Message("user", prompt)])).strip()
            except LLMError as exc:
                return offline, f"Umformulieren fehlgeschlagen: {exc}"
            if condensed:
                return condensed.splitlines()[0].strip(), ""
        return offline, ""

    def _plain(self, answer: str, provider: LLMProvider | None
               ) -> SimplificationResult | None:
        """The answer in Einfache Sprache with the citation marks taken out (the sources stay
        listed under it); None when the text cannot be simplified (then the answer stays)."""
        try:
            return simplify(CITATION_RE.sub("", answer).strip(), "einfach", provider,
                            max_rounds=PLAIN_ROUNDS)
        except PlainLanguageError:
            return None

    def _answer_messages(self, question: str, hits: list[Hit], language: str,
                         plain_language: bool = False) -> list[Message]:
        bot = self.bot
        extra = [bot.system_prompt]
        if plain_language:
            extra.append(render_prompt("plain_language"))
        system = render_prompt(
            "answer_system",
            bot_name=bot.name,
            persona=bot.persona,
            language_name=LANGUAGE_NAMES.get(language, language),
            answer_style=STYLE_TEXT[bot.answer_style],
            extra_instructions="\n\n".join(filter(None, extra)),
        )
        sources = "\n\n".join(
            f"[{i}] {_source_label(hit)}\n{hit.text}" for i, hit in enumerate(hits, start=1)
        )
        user = render_prompt("answer_user", sources=sources, question=question)
        return [Message("system", system), Message("user", user)]

    def _citations(self, answer: str, hits: list[Hit]) -> list[Citation]:
        """Sources the answer cites as [n]; if it cites none, the passages it rests on."""
        cited = sorted({int(n) for n in CITATION_RE.findall(answer) if 0 < int(n) <= len(hits)})
        numbers = cited or list(range(1, min(len(hits), 3) + 1))
        return [
            Citation(
                number=n,
                source=hits[n - 1].source,
                title=hits[n - 1].title,
                page=hits[n - 1].page,
                section=hits[n - 1].section,
                url=hits[n - 1].url,
                snippet=hits[n - 1].text[:SNIPPET_CHARS],
                score=round(hits[n - 1].score, 4),
                chunk_id=hits[n - 1].chunk_id,
            )
            for n in numbers
        ]

    def _log(self, question: str, result: TurnResult) -> int:
        """Store the turn with personal data redacted (the raw text never reaches the database);
        the number of redacted spans of question and answer goes into the stored timings as
        "schwaerzungen", for analytics on how often citizens type personal data."""
        stored_question = redact(question)
        stored_answer = redact(result.answer)
        timings = {**result.timings_ms,
                   REDACTIONS_KEY: len(stored_question.spans) + len(stored_answer.spans)}
        with self.engine.session() as session:
            conversation = session.get(Conversation, result.conversation_id)
            if conversation is None:
                conversation = Conversation(
                    id=result.conversation_id,
                    workspace_id=self.workspace_id,
                    bot_id=self.bot_id,
                    bot_version=self.version,
                    channel=self.channel,
                )
                session.add(conversation)
            row = MessageRow(
                conversation_id=result.conversation_id,
                question=stored_question.text,
                search_query=redact(result.search_query).text,
                answer=stored_answer.text,
                language=result.language,
                mode=result.mode,
                confidence=result.confidence,
                no_answer=result.no_answer,
                handoff=result.handoff,
                handoff_reason=result.handoff_reason or None,
                curated_answer_id=result.curated_answer_id,
                citations=[asdict(c) for c in result.citations],
                timings_ms=timings,
                error=result.notice or None,
            )
            session.add(row)
            session.flush()
            return int(row.id)


@dataclass(frozen=True)
class _PastTurn:
    question: str
    answer: str
    search_query: str


def _topic_question(history: list[_PastTurn]) -> str:
    """The question that set the topic of the last turn: its own question when it stood
    alone, else the start of its joined search query (the offline condensing below)."""
    last = history[-1]
    if last.search_query == last.question or not last.search_query.endswith(last.question):
        return last.search_query
    return last.search_query[: -len(last.question)].strip() or last.question


def _source_label(hit: Hit) -> str:
    parts = [hit.title or hit.source]
    if hit.section:
        parts.append(hit.section)
    if hit.page:
        parts.append(f"Seite {hit.page}")
    return " – ".join(parts)


def _hit_summary(hit: Hit) -> dict[str, Any]:
    return {
        "chunk_id": hit.chunk_id,
        "source": hit.source,
        "page": hit.page,
        "section": hit.section,
        "score": round(hit.score, 4),
        "text_score": round(hit.text_score, 4),
        "vector_similarity": round(hit.vector_similarity, 4),
        "knowledge_base": hit.extra.get("knowledge_base", ""),
        "text": hit.text[:SNIPPET_CHARS],
    }


def ensure_bot(engine: Engine, slug: str, workspace: str | None = None) -> tuple[BotConfig, bool]:
    """The bot `slug`, created with default settings if it does not exist (returns created)."""
    from pipelines.bots import default_bot_config

    with engine.session() as session:
        repo = BotRepository(session, workspace or engine.settings.default_workspace)
        if repo.exists(slug):
            return repo.get(slug)[0], False
        config = default_bot_config(slug, engine.settings.top_k,
                                    engine.settings.confidence_threshold)
        repo.save(config, note="automatisch beim Einlesen angelegt")
        return config, True
