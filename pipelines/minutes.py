"""Minutes ("Protokoll") from a meeting transcript, with or without a language model.

    minutes = make_minutes(transcript, "Bauausschuss 12. März", provider)   # provider may be None
    minutes_markdown(minutes) -> str;  minutes_docx(minutes) -> bytes

The transcript is cut into contributions ("Beiträge") wherever the speakers pause for at least
`minutes_turn_gap_seconds`. That is pause-based, not speaker recognition: two people may share
a Beitrag and one person may get several; every output says so.

With a reachable LLM the minutes follow a municipal template (Anwesende, Tagesordnungspunkte,
Beschlüsse, Aufgaben mit Verantwortlichen und Fristen) from a JSON answer (prompt files
minutes_system.md / minutes_user.md; long transcripts go in parts and the parts are merged).
Without one, or when its answer cannot be used, the same template is filled by rules and an
extractive summary, labelled as automatic extraction without a language model.
"""

from __future__ import annotations

import io
import json
import math
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from pipelines.german import STOPWORDS, split_sentences, stem, words
from pipelines.llm.providers import LLMError, LLMProvider, Message
from pipelines.prompts import render_prompt
from pipelines.settings import Settings, get_settings
from pipelines.speech import AudioSource, Segment, Transcript, transcribe_file

MinutesMode = Literal["llm", "extractive"]
OPEN = "offen"
# Characters of transcript per LLM call: the context window minus instructions and answer,
# at about three characters per token for German.
_RESERVED_TOKENS = 2500
_CHARS_PER_TOKEN = 3
_MIN_PART_CHARS = 2000

PAUSE_NOTE = (
    "Die Beiträge sind an Sprechpausen von mindestens {gap} Sekunden getrennt – das ist keine "
    "Erkennung der sprechenden Personen: Ein Beitrag kann mehrere Personen enthalten, eine "
    "Person mehrere Beiträge."
)
CHECK_NOTE = "Automatisch erstellt aus einer Tonaufnahme – bitte vor der Verwendung prüfen."


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Turn:
    """A contribution: consecutive speech without a pause of `gap` seconds."""

    number: int
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class AgendaItem:
    number: str
    title: str
    summary: str = ""
    start: float | None = None


@dataclass(frozen=True)
class Decision:
    text: str
    vote: str = ""
    agenda: str = ""
    start: float | None = None


@dataclass(frozen=True)
class Task:
    task: str
    owner: str = OPEN
    due: str = OPEN
    start: float | None = None


@dataclass
class Minutes:
    title: str
    meeting_date: date
    mode: MinutesMode
    attendees: list[str]
    agenda: list[AgendaItem]
    decisions: list[Decision]
    tasks: list[Task]
    summary: list[str]
    turns: list[Turn]
    duration: float = 0.0
    language: str = ""
    source_name: str = ""
    llm_model: str = ""
    gap_seconds: float = 1.5
    notes: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    seconds: float = 0.0
    llm_raw: str = ""

    @property
    def mode_label(self) -> str:
        if self.mode == "llm":
            return f"Protokollentwurf vom Sprachmodell ({self.llm_model})"
        return "Automatische Auszüge ohne Sprachmodell (Regeln und Satzauswahl)"


def timestamp(seconds: float | None) -> str:
    """hh:mm:ss"""
    if seconds is None:
        return ""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def german_date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


# --------------------------------------------------------------------------- turns


def split_turns(segments: Sequence[Segment], gap_seconds: float = 1.5) -> list[Turn]:
    """Join transcript segments into Beiträge; a pause of at least `gap_seconds` starts one."""
    turns: list[Turn] = []
    current: list[Segment] = []

    def close() -> None:
        text = " ".join(" ".join(s.text.split()) for s in current).strip()
        if text:
            turns.append(Turn(len(turns) + 1, current[0].start, current[-1].end, text))

    for segment in sorted(segments, key=lambda s: (s.start, s.end)):
        if not segment.text.strip():
            continue
        if current and segment.start - current[-1].end >= gap_seconds - 1e-6:
            close()
            current = []
        current.append(segment)
    if current:
        close()
    return turns


@dataclass(frozen=True)
class _Sentence:
    text: str
    start: float
    turn: int


def _sentences(turns: Sequence[Turn]) -> list[_Sentence]:
    return [_Sentence(sentence, turn.start, turn.number)
            for turn in turns for sentence in split_sentences(turn.text)]


# --------------------------------------------------------------------------- rules

_MONTHS = ("Januar|Februar|März|Maerz|April|Mai|Juni|Juli|August|September|Oktober|November|"
           "Dezember")
_WEEKDAYS = "Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag"
_NUMBER_WORDS = {
    "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8,
    "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12, "dreizehn": 13, "vierzehn": 14,
    "fünfzehn": 15,
}
_ORDINAL_WORDS = {
    "erst": 1, "zweit": 2, "dritt": 3, "viert": 4, "fünft": 5, "sechst": 6, "siebt": 7,
    "acht": 8, "neunt": 9, "zehnt": 10, "elft": 11, "zwölft": 12,
}
_NUMBER = r"\d{1,2}|" + "|".join(_NUMBER_WORDS)
_AGENDA_RE = re.compile(
    rf"\b(?:TOP|Top|Tagesordnungspunkt|Punkt)\s*(?:Nr\.?\s*|Nummer\s+)?(?P<num>{_NUMBER})\b"
    rf"(?P<rest>.*)$"
    rf"|\b(?P<ord>{'|'.join(_ORDINAL_WORDS)})e[nmrs]?\s+(?:Tagesordnungspunkt|Punkt)\b(?P<rest2>.*)$",
    re.IGNORECASE,
)
_TITLE_LEAD_RE = re.compile(
    r"^(?:[\s,:;.–—-]+|(?:ist|sind|betrifft|behandelt|lautet|heißt|mit|zu[mr]?|zum Thema|"
    r"Thema|das Thema|der|die|das|den|dem|des)\b\s*)+", re.IGNORECASE)
_DECISION_RE = re.compile(
    r"\b(?:beschlossen|beschließt|beschließen|beschliessen|Beschluss|einstimmig|angenommen|"
    r"abgelehnt|mehrheitlich|zugestimmt|stimmt\s+(?:\w+\s+){0,3}zu|stimmen\s+(?:\w+\s+){0,3}zu)\b",
    re.IGNORECASE,
)
_VOTE_RE = re.compile(
    r"\b(?:einstimmig|mehrheitlich|(?:\d+|" + "|".join(_NUMBER_WORDS) + r"|eine?)\s+"
    r"(?:Ja-?Stimmen|Ja|Nein-?Stimmen|Nein|Stimmen\s+dafür|Stimmen\s+dagegen|dafür|dagegen|"
    r"Gegenstimmen?|Enthaltungen|Enthaltung))\b",
    re.IGNORECASE,
)
_TASK_TRIGGER_RE = re.compile(
    r"\b(?:übernimmt|übernehme|übernehmen|kümmert\s+sich|kümmere\s+mich|kümmern\s+sich|"
    r"ist\s+zuständig|sind\s+zuständig|zuständig\s+ist|"
    r"(?:wird|werde|werden)\s+(?:\S+\s+){0,8}?(?:erledigen|erstellen|prüfen|vorbereiten|"
    r"einholen|klären|schicken|senden|versenden|verschicken|informieren|organisieren|"
    r"beauftragen|vorlegen|ausarbeiten|überarbeiten|anfragen|einladen|abstimmen|nachreichen)|"
    r"(?:soll|sollen|muss|müssen)\s+(?:\S+\s+){0,8}?bis\b)",
    re.IGNORECASE,
)
_DUE_RE = re.compile(
    r"\bbis\s+(?:spätestens\s+)?(?:zum\s+|am\s+)?"
    r"(?P<due>\d{1,2}\.\s?\d{1,2}\.(?:\d{2,4})?"
    rf"|\d{{1,2}}\.\s?(?:{_MONTHS})(?:\s+\d{{4}})?"
    rf"|(?:Ende\s+)?(?:des\s+Monats|der\s+Woche|(?:{_MONTHS})(?:\s+\d{{4}})?)"
    r"|nächste[nmrs]?\s+(?:Woche|Monat|Sitzung|Jahr)"
    r"|zur\s+nächsten\s+Sitzung"
    rf"|(?:kommenden\s+)?(?:{_WEEKDAYS}))"
    r"|\b(?P<due2>zur\s+nächsten\s+Sitzung)",
    re.IGNORECASE,
)
_TITLES = (r"Frau|Herrn?|Dr\.|Prof\.|Bürgermeister(?:in)?|Oberbürgermeister(?:in)?|"
           r"Stadträtin|Stadtrat|Gemeinderätin|Gemeinderat|Ortsvorsteher(?:in)?|Kämmerer|"
           r"Kämmerin|Amtsleiter(?:in)?|Kollegin|Kollege")
_NAME = r"[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)?"
_PERSON_RE = re.compile(rf"\b(?:(?:{_TITLES})\s+)+{_NAME}(?:\s+{_NAME})?")
_OFFICE_RE = re.compile(
    r"\b(?:[Dd]as|[Dd]ie|[Dd]er|[Dd]em|[Dd]en)\s+(?P<office>[A-ZÄÖÜ][a-zäöüß]*(?:amt|abteilung|referat|verwaltung|"
    r"dezernat|bauhof)|Kämmerei|Bauhof|Verwaltung|Fachbereich\s+\d+)\b")
_FIRST_PERSON_TASK_RE = re.compile(
    r"\b(?:ich\s+übernehme|ich\s+kümmere|übernehme\s+ich|kümmere\s+ich|mache\s+ich|"
    r"ich\s+werde)\b", re.IGNORECASE)
_PRESENT_RE = re.compile(
    r"\b(?:anwesend\s+(?:sind|waren|ist|war)(?:\s+heute)?|Anwesend)\s*:?\s*(?P<list>.+)$"
    r"|^(?P<list2>.+?)\s+(?:sind|ist)\s+(?:heute\s+)?anwesend\b",
    re.IGNORECASE,
)
_GREETING_RE = re.compile(
    r"\b(?:begrüße|begrüßen|willkommen|guten\s+(?:Morgen|Tag|Abend)|hallo)\b", re.IGNORECASE)
_LIST_SPLIT_RE = re.compile(r"\s*(?:,|;|\bund\b|\bsowie\b)\s*")
_LIST_LEAD_RE = re.compile(r"^(?:heute|außerdem|auch|noch|sowie|ferner)\s+", re.IGNORECASE)


def _number_of(value: str) -> str:
    lowered = value.lower()
    if lowered.isdigit():
        return str(int(lowered))
    if lowered in _NUMBER_WORDS:
        return str(_NUMBER_WORDS[lowered])
    return str(_ORDINAL_WORDS.get(lowered, lowered))


def _clean_title(rest: str) -> str:
    title = _TITLE_LEAD_RE.sub("", rest.strip())
    title = title.strip(" .,:;!?–—-\"„“")
    if len(title) > 90:
        title = title[:90].rsplit(" ", 1)[0] + " …"
    return title[:1].upper() + title[1:]


def _person(raw: str) -> str:
    text = " ".join(raw.split())
    return re.sub(r"\bHerrn\b", "Herr", text)


def _surname(name: str) -> str:
    return name.split()[-1].casefold()


def _add_unique(names: list[str], name: str) -> None:
    if name and all(_surname(name) != _surname(known) for known in names):
        names.append(name)


def find_attendees(sentences: Sequence[str]) -> list[str]:
    """Names from "Anwesend sind …" lists and from greetings ("Ich begrüße Frau Schulz …")."""
    names: list[str] = []
    for sentence in sentences:
        present = _PRESENT_RE.search(sentence)
        if present:
            listed = (present.group("list") or present.group("list2") or "").rstrip(" .!")
            for item in _LIST_SPLIT_RE.split(listed):
                item = _LIST_LEAD_RE.sub("", item.strip(" .:"))
                person = _PERSON_RE.search(item)
                if person:
                    _add_unique(names, _person(person.group(0)))
                elif re.fullmatch(rf"{_NAME}(?:\s+{_NAME}){{0,2}}", item):
                    _add_unique(names, item)
            continue
        if _GREETING_RE.search(sentence):
            for person in _PERSON_RE.finditer(sentence):
                _add_unique(names, _person(person.group(0)))
    return names


def find_agenda(sentences: Sequence[_Sentence]) -> list[AgendaItem]:
    """Tagesordnungspunkte announced as "TOP 1", "Tagesordnungspunkt zwei", "Punkt drei" …"""
    items: list[AgendaItem] = []
    seen: set[str] = set()
    for sentence in sentences:
        match = _AGENDA_RE.search(sentence.text)
        if not match:
            continue
        number = _number_of(match.group("num") or match.group("ord") or "")
        if number in seen:
            continue
        seen.add(number)
        title = _clean_title(match.group("rest") or match.group("rest2") or "")
        items.append(AgendaItem(number, title or f"Tagesordnungspunkt {number}",
                                start=sentence.start))
    return items


def _agenda_at(agenda: Sequence[AgendaItem], start: float) -> str:
    current = ""
    for item in agenda:
        if item.start is not None and item.start <= start:
            current = item.number
    return current


def find_decisions(sentences: Sequence[_Sentence],
                   agenda: Sequence[AgendaItem] = ()) -> list[Decision]:
    """Sentences that state a decision ("einstimmig angenommen", "Der Ausschuss beschließt …")."""
    found: list[Decision] = []
    for sentence in sentences:
        text = sentence.text.strip()
        if text.endswith("?") or not _DECISION_RE.search(text):
            continue
        votes = [" ".join(v.group(0).split()) for v in _VOTE_RE.finditer(text)]
        found.append(Decision(text, ", ".join(votes), _agenda_at(agenda, sentence.start),
                              sentence.start))
    return found


def _owner(text: str, trigger: re.Match[str] | None, turn: int) -> str:
    people = list(_PERSON_RE.finditer(text))
    if people:
        anchor = trigger.start() if trigger else 0
        nearest = min(people, key=lambda p: abs(p.start() - anchor))
        return _person(nearest.group(0))
    office = _OFFICE_RE.search(text)
    if office:
        return office.group("office")
    if _FIRST_PERSON_TASK_RE.search(text):
        return f"Sprecher/in von Beitrag {turn} (Name nicht genannt)"
    return OPEN


def find_tasks(sentences: Sequence[_Sentence]) -> list[Task]:
    """Sentences that hand out work ("Frau Schulz übernimmt …", "… bis zum 15. März")."""
    found: list[Task] = []
    for sentence in sentences:
        text = sentence.text.strip()
        if text.endswith("?"):
            continue
        trigger = _TASK_TRIGGER_RE.search(text)
        due_match = _DUE_RE.search(text)
        if not trigger and not (due_match and re.search(
                r"\b(?:soll|sollen|muss|müssen|wird|werden|bitte)\b", text, re.IGNORECASE)):
            continue
        due = OPEN
        if due_match:
            due = " ".join((due_match.group("due") or due_match.group("due2") or "").split())
        found.append(Task(text, _owner(text, trigger, sentence.turn), due or OPEN,
                          sentence.start))
    return found


# --------------------------------------------------------------------------- summary


def _terms(text: str) -> list[str]:
    return [stem(w.lower()) for w in words(text)
            if len(w) > 2 and w.lower() not in STOPWORDS]


def centrality(texts: Sequence[str]) -> list[float]:
    """Each text's summed TF-IDF cosine similarity to all others (a one-step TextRank)."""
    bags = [Counter(_terms(t)) for t in texts]
    documents = Counter(term for bag in bags for term in bag)
    count = len(texts)
    vectors: list[dict[str, float]] = []
    for bag in bags:
        vector = {term: (1 + math.log(tf)) * math.log((1 + count) / (1 + documents[term]) + 1)
                  for term, tf in bag.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors.append({term: v / norm for term, v in vector.items()})
    scores = []
    for index, vector in enumerate(vectors):
        total = 0.0
        for other_index, other in enumerate(vectors):
            if other_index != index:
                total += sum(weight * other.get(term, 0.0) for term, weight in vector.items())
        scores.append(total)
    return scores


def extractive_summary(turns: Sequence[Turn], max_sentences: int | None = None) -> list[str]:
    """The most central sentences of the meeting, in the order they were said."""
    sentences = [s.text for s in _sentences(turns) if len(words(s.text)) >= 5]
    if not sentences:
        return []
    wanted = max_sentences or max(3, min(8, round(len(sentences) * 0.15)))
    if len(sentences) <= wanted:
        return sentences
    scores = centrality(sentences)
    best = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))[:wanted]
    return [sentences[i] for i in sorted(best)]


@dataclass
class MinutesDraft:
    attendees: list[str] = field(default_factory=list)
    agenda: list[AgendaItem] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)


def extract_without_llm(turns: Sequence[Turn]) -> MinutesDraft:
    """Anwesende, TOPs, Beschlüsse, Aufgaben by rules; summary by sentence centrality."""
    sentences = _sentences(turns)
    agenda = find_agenda(sentences)
    texts = [s.text for s in sentences]
    scores = centrality(texts) if texts else []
    with_summary: list[AgendaItem] = []
    for index, item in enumerate(agenda):
        stop = agenda[index + 1].start if index + 1 < len(agenda) else None
        inside = [i for i, s in enumerate(sentences)
                  if item.start is not None and s.start >= item.start
                  and (stop is None or s.start < stop)
                  and not _AGENDA_RE.search(s.text) and len(words(s.text)) >= 5]
        best = max(inside, key=lambda i: scores[i], default=None)
        with_summary.append(AgendaItem(item.number, item.title,
                                       sentences[best].text if best is not None else "",
                                       item.start))
    return MinutesDraft(
        attendees=find_attendees(texts),
        agenda=with_summary,
        decisions=find_decisions(sentences, agenda),
        tasks=find_tasks(sentences),
        summary=extractive_summary(turns),
    )


# --------------------------------------------------------------------------- LLM


_KEY_ALIASES = {
    "anwesende": "attendees", "teilnehmende": "attendees", "teilnehmer": "attendees",
    "tagesordnungspunkte": "agenda", "tagesordnung": "agenda", "tops": "agenda",
    "beschluesse": "decisions", "beschlüsse": "decisions",
    "aufgaben": "tasks", "zusammenfassung": "summary",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value if _text(v))
    if isinstance(value, dict):
        return ", ".join(_text(v) for v in value.values() if _text(v))
    return " ".join(str(value).split())


def _field(item: dict[str, Any], *names: str) -> str:
    lowered = {str(k).casefold(): v for k, v in item.items()}
    for name in names:
        if name in lowered:
            return _text(lowered[name])
    return ""


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def parse_llm_answer(answer: str) -> MinutesDraft | None:
    """The JSON object of an LLM answer as a draft; None when nothing usable is in it.

    Tolerates reasoning blocks, code fences, text around the object and trailing commas.
    """
    text = re.sub(r"<think>.*?</think>", "", answer, flags=re.DOTALL)
    fence = re.search(r"```(?:json|JSON)?\s*(.*?)```", text, re.DOTALL)
    if fence:
        text = fence.group(1)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    candidate = text[start : end + 1]
    data: Any = None
    for attempt in (candidate, re.sub(r",\s*([}\]])", r"\1", candidate)):
        try:
            data = json.loads(attempt)
            break
        except json.JSONDecodeError:
            continue
    if not isinstance(data, dict):
        return None
    fields = {_KEY_ALIASES[k.casefold()]: v for k, v in data.items()
              if isinstance(k, str) and k.casefold() in _KEY_ALIASES}
    if not fields:
        return None
    draft = MinutesDraft()
    for value in _items(fields.get("attendees")):
        name = _field(value, "name") if isinstance(value, dict) else _text(value)
        if name and name.casefold() not in {a.casefold() for a in draft.attendees}:
            draft.attendees.append(name)
    for index, value in enumerate(_items(fields.get("agenda")), start=1):
        if isinstance(value, dict):
            title = _field(value, "titel", "title", "thema")
            number = _field(value, "nummer", "number", "top", "nr") or str(index)
            summary = _field(value, "zusammenfassung", "summary", "inhalt")
        else:
            title, number, summary = _text(value), str(index), ""
        if title or summary:
            draft.agenda.append(AgendaItem(number, title or f"Tagesordnungspunkt {number}",
                                           summary))
    for value in _items(fields.get("decisions")):
        if isinstance(value, dict):
            decision = Decision(_field(value, "text", "beschluss", "inhalt"),
                                _field(value, "abstimmung", "ergebnis", "vote"),
                                _field(value, "top", "tagesordnungspunkt", "nummer"))
        else:
            decision = Decision(_text(value))
        if decision.text:
            draft.decisions.append(decision)
    for value in _items(fields.get("tasks")):
        if isinstance(value, dict):
            task = Task(_field(value, "aufgabe", "task", "text"),
                        _field(value, "verantwortlich", "zuständig", "owner") or OPEN,
                        _field(value, "frist", "termin", "due", "bis") or OPEN)
        else:
            task = Task(_text(value))
        if task.task:
            draft.tasks.append(task)
    overview = fields.get("summary")
    if overview:
        parts = [_text(s) for s in _items(overview)]
        draft.summary = [p for p in parts if p]
    return draft


def transcript_lines(turns: Sequence[Turn]) -> list[str]:
    return [f"[{timestamp(t.start)}] Beitrag {t.number}: {t.text}" for t in turns]


def _parts(turns: Sequence[Turn], budget: int) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    used = 0
    for line in transcript_lines(turns):
        if parts[-1] and used + len(line) > budget:
            parts.append([])
            used = 0
        parts[-1].append(line[: budget])
        used += len(line) + 1
    return parts


def _merge(drafts: Sequence[MinutesDraft]) -> MinutesDraft:
    merged = MinutesDraft()
    by_number: dict[str, int] = {}
    for draft in drafts:
        for name in draft.attendees:
            if name.casefold() not in {a.casefold() for a in merged.attendees}:
                merged.attendees.append(name)
        for item in draft.agenda:
            known = by_number.get(item.number)
            if known is None:
                by_number[item.number] = len(merged.agenda)
                merged.agenda.append(item)
            else:  # the same TOP went on across two parts
                before = merged.agenda[known]
                summary = " ".join(s for s in (before.summary, item.summary) if s)
                merged.agenda[known] = AgendaItem(before.number, before.title, summary)
        merged.decisions += draft.decisions
        merged.tasks += draft.tasks
        merged.summary += draft.summary
    return merged


class _Unusable(Exception):
    """The LLM did not give usable minutes; the message is the German reason."""


def _with_llm(turns: Sequence[Turn], title: str, provider: LLMProvider,
              settings: Settings) -> tuple[MinutesDraft, str]:
    budget = max(_MIN_PART_CHARS,
                 (settings.llm_context_window - _RESERVED_TOKENS) * _CHARS_PER_TOKEN)
    parts = _parts(turns, budget)
    system = render_prompt("minutes_system")
    drafts: list[MinutesDraft] = []
    answers: list[str] = []
    for index, lines in enumerate(parts, start=1):
        part = (f"Dies ist Teil {index} von {len(parts)} der Abschrift; protokolliere nur "
                "diesen Teil.\n") if len(parts) > 1 else ""
        user = render_prompt("minutes_user", title=title, part=part,
                             transcript="\n".join(lines))
        try:
            answer = "".join(provider.stream_chat([Message("system", system),
                                                   Message("user", user)]))
        except LLMError as exc:
            raise _Unusable(f"Das Sprachmodell ist ausgefallen ({exc}).") from exc
        answers.append(answer)
        draft = parse_llm_answer(answer)
        if draft is None:
            raise _Unusable("Die Antwort des Sprachmodells ließ sich nicht als Protokoll "
                            "auswerten (kein gültiges JSON im verlangten Aufbau).")
        drafts.append(draft)
    return _merge(drafts), "\n\n".join(answers)


# --------------------------------------------------------------------------- entry point


def make_minutes(transcript: Transcript | Sequence[Segment], title: str,
                 provider: LLMProvider | None = None, *, settings: Settings | None = None,
                 meeting_date: date | None = None, gap_seconds: float | None = None) -> Minutes:
    """Minutes of a transcript: by the LLM when `provider` answers, else by rules.

    Never raises for an unusable or unreachable LLM: the result then has mode "extractive"
    and a note with the reason. An empty transcript gives empty minutes with a note.
    """
    started = time.perf_counter()
    settings = settings or get_settings()
    gap = settings.minutes_turn_gap_seconds if gap_seconds is None else gap_seconds
    if isinstance(transcript, Transcript):
        segments: Sequence[Segment] = transcript.segments
        duration, language, source = transcript.duration, transcript.language, transcript.name
    else:
        segments = list(transcript)
        duration = max((s.end for s in segments), default=0.0)
        language, source = "", ""
    turns = split_turns(segments, gap)
    title = " ".join(title.split()) or "Sitzung"
    notes = [CHECK_NOTE, PAUSE_NOTE.format(gap=f"{gap:g}".replace(".", ","))]
    minutes = Minutes(title=title, meeting_date=meeting_date or date.today(), mode="extractive",
                      attendees=[], agenda=[], decisions=[], tasks=[], summary=[], turns=turns,
                      duration=duration, language=language, source_name=source,
                      gap_seconds=gap, notes=notes)
    if not turns:
        notes.append("Die Abschrift ist leer: In der Aufnahme wurde kein Text erkannt.")
        minutes.seconds = time.perf_counter() - started
        return minutes
    draft: MinutesDraft | None = None
    if provider is None:
        notes.append("Kein Sprachmodell eingestellt: Anwesende, Tagesordnungspunkte, Beschlüsse "
                     "und Aufgaben sind nach Regeln aus der Abschrift gezogen, die Zusammenfassung "
                     "besteht aus ausgewählten Sätzen.")
    elif not provider.is_available():
        notes.append(f"Sprachmodell „{provider.model}“ nicht erreichbar: stattdessen "
                     "automatische Auszüge ohne Sprachmodell.")
    else:
        try:
            draft, minutes.llm_raw = _with_llm(turns, title, provider, settings)
            minutes.mode = "llm"
            minutes.llm_model = provider.model
        except _Unusable as exc:
            notes.append(f"{exc} Stattdessen automatische Auszüge ohne Sprachmodell.")
    if draft is None:
        draft = extract_without_llm(turns)
    minutes.attendees = draft.attendees
    minutes.agenda = draft.agenda
    minutes.decisions = draft.decisions
    minutes.tasks = draft.tasks
    minutes.summary = draft.summary
    minutes.seconds = time.perf_counter() - started
    return minutes


def minutes_from_recording(source: AudioSource, name: str, title: str, settings: Settings,
                           provider: LLMProvider | None = None,
                           meeting_date: date | None = None) -> Minutes:
    """A meeting recording (path, bytes or file) to minutes: transcribed up to the length
    allowed for recordings, then `make_minutes`. Raises SpeechError (German, naming the file)
    for audio that cannot be used or a missing speech model."""
    transcript = transcribe_file(source, settings, name=name,
                                 max_seconds=settings.speech_max_recording_seconds)
    return make_minutes(transcript, title, provider, settings=settings,
                        meeting_date=meeting_date)


# --------------------------------------------------------------------------- export


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|") or "–"


def _metadata(minutes: Minutes) -> list[tuple[str, str]]:
    rows = [("Sitzung", minutes.title), ("Datum", german_date(minutes.meeting_date)),
            ("Erstellt", f"{minutes.mode_label}, "
                         f"{minutes.created_at.strftime('%d.%m.%Y %H:%M')}")]
    if minutes.source_name:
        rows.append(("Aufnahme", minutes.source_name))
    if minutes.duration:
        rows.append(("Dauer der Aufnahme", timestamp(minutes.duration)))
    if minutes.language:
        rows.append(("Sprache (erkannt)", minutes.language))
    rows.append(("Beiträge", str(len(minutes.turns))))
    return rows


def _agenda_heading(item: AgendaItem) -> str:
    return f"TOP {item.number}: {item.title}" if item.number else item.title


def _decision_line(decision: Decision) -> str:
    extra = [part for part in (f"Abstimmung: {decision.vote}" if decision.vote else "",
                               f"TOP {decision.agenda}" if decision.agenda else "",
                               f"[{timestamp(decision.start)}]" if decision.start is not None
                               else "") if part]
    return decision.text + (f" ({'; '.join(extra)})" if extra else "")


def minutes_markdown(minutes: Minutes) -> str:
    lines = [f"# Protokoll: {minutes.title}", ""]
    lines += [f"- **{label}:** {value}" for label, value in _metadata(minutes)]
    lines.append("")
    lines += [f"> {note}" for note in minutes.notes]
    lines += ["", "## Anwesende", ""]
    lines += [f"- {name}" for name in minutes.attendees] or ["Keine erkannt."]
    lines += ["", "## Tagesordnungspunkte", ""]
    if not minutes.agenda:
        lines.append("Keine erkannt.")
    for item in minutes.agenda:
        when = f" [{timestamp(item.start)}]" if item.start is not None else ""
        lines.append(f"### {_agenda_heading(item)}{when}")
        if item.summary:
            lines += ["", item.summary]
        lines.append("")
    lines += ["", "## Beschlüsse", ""]
    lines += [f"{i}. {_decision_line(d)}" for i, d in enumerate(minutes.decisions, 1)] or [
        "Keine erkannt."]
    lines += ["", "## Aufgaben", ""]
    if minutes.tasks:
        lines += ["| Aufgabe | verantwortlich | Frist |", "|---|---|---|"]
        lines += [f"| {_md_cell(t.task)} | {_md_cell(t.owner)} | {_md_cell(t.due)} |"
                  for t in minutes.tasks]
    else:
        lines.append("Keine erkannt.")
    lines += ["", "## Zusammenfassung", ""]
    lines += [" ".join(minutes.summary)] if minutes.summary else ["Keine."]
    lines += ["", "## Anhang: Abschrift", ""]
    lines += [f"**[{timestamp(t.start)}] Beitrag {t.number}:** {t.text}  " for t in minutes.turns]
    if not minutes.turns:
        lines.append("Leer.")
    return "\n".join(lines).rstrip() + "\n"


def minutes_docx(minutes: Minutes) -> bytes:
    """The minutes as a Word document: metadata table, sections, task table, transcript."""
    from docx import Document
    from docx.shared import Pt

    document = Document()
    document.core_properties.title = f"Protokoll: {minutes.title}"
    document.core_properties.subject = minutes.mode_label
    document.core_properties.author = "Chatwerkstatt"
    document.add_heading(f"Protokoll: {minutes.title}", level=0)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in _metadata(minutes):
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].text = value
    for note in minutes.notes:
        document.add_paragraph().add_run(note).italic = True

    def empty(text: str = "Keine erkannt.") -> None:
        document.add_paragraph(text)

    document.add_heading("Anwesende", level=1)
    for name in minutes.attendees:
        document.add_paragraph(name, style="List Bullet")
    if not minutes.attendees:
        empty()
    document.add_heading("Tagesordnungspunkte", level=1)
    for item in minutes.agenda:
        when = f" [{timestamp(item.start)}]" if item.start is not None else ""
        document.add_heading(_agenda_heading(item) + when, level=2)
        if item.summary:
            document.add_paragraph(item.summary)
    if not minutes.agenda:
        empty()
    document.add_heading("Beschlüsse", level=1)
    for decision in minutes.decisions:
        document.add_paragraph(_decision_line(decision), style="List Number")
    if not minutes.decisions:
        empty()
    document.add_heading("Aufgaben", level=1)
    if minutes.tasks:
        tasks = document.add_table(rows=1, cols=3)
        tasks.style = "Table Grid"
        for cell, label in zip(tasks.rows[0].cells, ("Aufgabe", "verantwortlich", "Frist"),
                               strict=True):
            cell.text = label
            cell.paragraphs[0].runs[0].bold = True
        for task in minutes.tasks:
            cells = tasks.add_row().cells
            cells[0].text, cells[1].text, cells[2].text = task.task, task.owner, task.due
    else:
        empty()
    document.add_heading("Zusammenfassung", level=1)
    document.add_paragraph(" ".join(minutes.summary) if minutes.summary else "Keine.")
    document.add_heading("Anhang: Abschrift", level=1)
    for turn in minutes.turns:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"[{timestamp(turn.start)}] Beitrag {turn.number}: ").bold = True
        paragraph.add_run(turn.text).font.size = Pt(10)
    if not minutes.turns:
        empty("Leer.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_UMLAUTS = {ord("ä"): "ae", ord("ö"): "oe", ord("ü"): "ue", ord("ß"): "ss"}


def minutes_filename(minutes: Minutes, extension: str) -> str:
    """protokoll-2026-03-12-bauausschuss.docx"""
    slug = re.sub(r"[^a-z0-9]+", "-", minutes.title.casefold().translate(_UMLAUTS))
    slug = slug.strip("-")[:50].strip("-") or "sitzung"
    return f"protokoll-{minutes.meeting_date.isoformat()}-{slug}.{extension.lstrip('.')}"
