"""Minutes without a language model: pause-based Beiträge, rule-based extraction of Anwesende,
Tagesordnungspunkte, Beschlüsse and Aufgaben, the extractive summary, the LLM answer parser and
the Markdown export — on a hand-written German committee meeting."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipelines.minutes import (
    AgendaItem,
    Decision,
    Task,
    Turn,
    extract_without_llm,
    extractive_summary,
    find_agenda,
    find_attendees,
    find_decisions,
    find_tasks,
    make_minutes,
    minutes_filename,
    minutes_markdown,
    parse_llm_answer,
    split_turns,
    timestamp,
)
from pipelines.settings import Settings
from pipelines.speech import Segment

# A Bauausschuss meeting as a speech model would segment it: (start, end, text). Pauses of
# 2 s separate Beiträge, shorter ones (0.2 s, 0.5 s) do not.
MEETING: list[tuple[float, float, str]] = [
    (0.0, 6.0, "Guten Abend, ich eröffne die Sitzung des Bauausschusses."),
    (6.2, 12.0, "Ich begrüße Frau Schulz, Herrn Becker und Bürgermeisterin Wagner."),
    (14.0, 20.0, "Anwesend sind außerdem Herr Yilmaz und Frau Dr. Klein."),
    (22.0, 30.0, "Wir kommen zu TOP 1, Sanierung der Turnhalle an der Grundschule."),
    (30.5, 40.0, "Die Kosten für die Sanierung der Turnhalle liegen nach der Schätzung des "
                 "Bauamts bei 1,2 Millionen Euro."),
    (42.0, 50.0, "Die Sanierung der Turnhalle soll in den Sommerferien beginnen, damit der "
                 "Schulsport an der Grundschule nicht ausfällt."),
    (52.0, 58.0, "Der Ausschuss beschließt einstimmig die Sanierung der Turnhalle."),
    (60.0, 70.0, "Frau Schulz übernimmt die Ausschreibung und legt sie bis zum 15. März vor."),
    (72.0, 78.0, "Tagesordnungspunkt zwei: Radweg an der Hauptstraße."),
    (80.0, 90.0, "Der Radweg an der Hauptstraße ist an mehreren Stellen beschädigt und muss "
                 "ausgebessert werden."),
    (92.0, 100.0, "Der Antrag auf Ausbesserung des Radwegs wird mit 7 Ja-Stimmen, "
                  "2 Nein-Stimmen und 1 Enthaltung angenommen."),
    (102.0, 108.0, "Herr Becker kümmert sich um die Abstimmung mit dem Bauhof bis Ende April."),
    (110.0, 115.0, "Das Bauamt wird die Anwohner bis zur nächsten Sitzung informieren."),
    (117.0, 122.0, "Wird der Antrag zum Parkplatz heute noch angenommen?"),
    (124.0, 130.0, "Punkt drei, Verschiedenes."),
    (132.0, 138.0, "Ein wichtiger Punkt ist die Beschlussvorlage zum Zeitpunkt der Ferien."),
    (140.0, 146.0, "Ich kümmere mich um das Protokoll."),
    (148.0, 152.0, "Vielen Dank, die Sitzung ist geschlossen."),
]


def segments() -> list[Segment]:
    return [Segment(start, end, text) for start, end, text in MEETING]


def turns() -> list[Turn]:
    return split_turns(segments(), gap_seconds=1.5)


def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]


# --------------------------------------------------------------------------- turns


def test_pauses_of_the_gap_or_longer_start_a_new_beitrag() -> None:
    parts = split_turns([Segment(0.0, 2.0, "Eins."), Segment(2.4, 4.0, "Zwei."),
                         Segment(5.5, 7.0, "Drei."), Segment(8.49, 9.0, "Vier."),
                         Segment(20.0, 21.0, "Fünf.")], gap_seconds=1.5)

    assert [(t.number, t.start, t.end, t.text) for t in parts] == [
        (1, 0.0, 4.0, "Eins. Zwei."),   # 0.4 s pause: same Beitrag
        (2, 5.5, 9.0, "Drei. Vier."),   # 1.5 s exactly starts one, 1.49 s does not
        (3, 20.0, 21.0, "Fünf."),
    ]


def test_gap_is_configurable_and_blank_segments_are_dropped() -> None:
    parts = [Segment(0.0, 1.0, "A."), Segment(1.8, 2.0, "  "), Segment(2.2, 3.0, "B.")]

    assert [t.text for t in split_turns(parts, gap_seconds=1.5)] == ["A. B."]
    assert [t.text for t in split_turns(parts, gap_seconds=0.5)] == ["A.", "B."]
    assert split_turns([], 1.5) == []


def test_segments_out_of_order_are_sorted_by_time() -> None:
    parts = split_turns([Segment(5.0, 6.0, "Später."), Segment(0.0, 1.0, "Früher.")], 1.5)

    assert [t.text for t in parts] == ["Früher.", "Später."]


def test_meeting_turns() -> None:
    parts = turns()

    assert parts[0].text.startswith("Guten Abend") and parts[0].text.endswith("Wagner.")
    assert parts[2].start == 22.0 and parts[2].end == 40.0  # 0.5 s pause inside
    assert len(parts) == len(MEETING) - 2


def test_timestamp_format() -> None:
    assert timestamp(0) == "00:00:00"
    assert timestamp(61.9) == "00:01:01"
    assert timestamp(3 * 3600 + 5) == "03:00:05"
    assert timestamp(None) == ""


# --------------------------------------------------------------------------- rules


def test_attendees_from_greeting_and_attendance_list() -> None:
    found = find_attendees([text for _s, _e, text in MEETING])

    assert found == ["Frau Schulz", "Herr Becker", "Bürgermeisterin Wagner", "Herr Yilmaz",
                     "Frau Dr. Klein"]


@pytest.mark.parametrize("sentence, expected", [
    ("Anwesend: Anna Schulz, Peter Becker sowie Frau Klein.",
     ["Anna Schulz", "Peter Becker", "Frau Klein"]),
    ("Herr Meier und Frau Öztürk sind heute anwesend.", ["Herr Meier", "Frau Öztürk"]),
    ("Herzlich willkommen, Herr Stadtrat Jansen.", ["Herr Stadtrat Jansen"]),
    ("Guten Morgen zusammen.", []),
    ("Herr Meier hat gestern angerufen.", []),          # a name, but no greeting or list
    ("Frau Schulz fehlt heute entschuldigt.", []),
])
def test_attendee_rules(sentence: str, expected: list[str]) -> None:
    assert find_attendees([sentence]) == expected


def test_agenda_items_with_number_words_and_titles() -> None:
    from pipelines.minutes import _sentences

    found = find_agenda(_sentences(turns()))

    assert [(a.number, a.title) for a in found] == [
        ("1", "Sanierung der Turnhalle an der Grundschule"),
        ("2", "Radweg an der Hauptstraße"),
        ("3", "Verschiedenes"),
    ]
    assert found[0].start == 22.0 and found[1].start == 72.0


@pytest.mark.parametrize("sentence, expected", [
    ("TOP 4: Haushalt 2026.", ("4", "Haushalt 2026")),
    ("Zu Tagesordnungspunkt Nr. 5, Bebauungsplan Am Mühlbach.",
     ("5", "Bebauungsplan Am Mühlbach")),
    ("Der dritte Tagesordnungspunkt betrifft die Friedhofssatzung.", ("3", "Friedhofssatzung")),
    ("Jetzt Punkt zwölf.", ("12", "Tagesordnungspunkt 12")),
    ("Ein wichtiger Punkt ist die Finanzierung.", None),
    ("Zum Zeitpunkt 3 Uhr war niemand da.", None),
    ("Das steht in der Stoppuhr.", None),
])
def test_agenda_rules(sentence: str, expected: tuple[str, str] | None) -> None:
    from pipelines.minutes import _Sentence

    found = find_agenda([_Sentence(sentence, 0.0, 1)])

    assert [(a.number, a.title) for a in found] == ([expected] if expected else [])


def test_decisions_with_votes_and_their_agenda_item() -> None:
    from pipelines.minutes import _sentences

    sentences = _sentences(turns())
    found = find_decisions(sentences, find_agenda(sentences))

    assert [(d.vote, d.agenda) for d in found] == [
        ("einstimmig", "1"),
        ("7 Ja-Stimmen, 2 Nein-Stimmen, 1 Enthaltung", "2"),
    ]
    assert found[0].text == "Der Ausschuss beschließt einstimmig die Sanierung der Turnhalle."
    assert found[1].start == 92.0
    texts = " ".join(d.text for d in found)
    assert "Parkplatz" not in texts            # a question is no decision
    assert "Beschlussvorlage" not in texts     # "Beschluss" only as a word of its own
    assert "geschlossen" not in texts          # "geschlossen" is not "beschlossen"


@pytest.mark.parametrize("sentence, is_decision", [
    ("Der Antrag wurde mehrheitlich abgelehnt.", True),
    ("Alle stimmen dem Vorschlag zu.", True),
    ("Der Gemeinderat hat den Beschluss gefasst, die Gebühren zu senken.", True),
    ("Wir haben die Unterlagen angenommen und gelesen.", True),  # rules are rules: a false hit
    ("Die Beschlussvorlage kommt nächste Woche.", False),
    ("Wird das beschlossen?", False),
    ("Das Wetter war gestern schön.", False),
])
def test_decision_rules(sentence: str, is_decision: bool) -> None:
    from pipelines.minutes import _Sentence

    assert bool(find_decisions([_Sentence(sentence, 0.0, 1)])) is is_decision


def test_tasks_with_owner_and_due_date() -> None:
    from pipelines.minutes import _sentences

    found = find_tasks(_sentences(turns()))

    assert [(t.owner, t.due) for t in found] == [
        ("Frau Schulz", "15. März"),
        ("Herr Becker", "Ende April"),
        ("Bauamt", "zur nächsten Sitzung"),
        (f"Sprecher/in von Beitrag {len(MEETING) - 3} (Name nicht genannt)", "offen"),
    ]
    assert found[0].task.startswith("Frau Schulz übernimmt die Ausschreibung")
    assert found[0].start == 60.0


@pytest.mark.parametrize("sentence, owner, due", [
    ("Die Einladung verschickt Herr Kaya bis spätestens 01.04.2026, das übernimmt er.",
     "Herr Kaya", "01.04.2026"),
    ("Die Kämmerei wird die Zahlen bis Freitag prüfen.", "Kämmerei", "Freitag"),
    ("Frau Berger soll den Bericht bis Ende des Monats vorlegen.", "Frau Berger",
     "Ende des Monats"),
    ("Das übernimmt Herr Lange.", "Herr Lange", "offen"),
    ("Der Bauhof kümmert sich um die Bänke bis nächste Woche.", "Bauhof", "nächste Woche"),
])
def test_task_rules(sentence: str, owner: str, due: str) -> None:
    from pipelines.minutes import _Sentence

    found = find_tasks([_Sentence(sentence, 0.0, 1)])

    assert [(t.owner, t.due) for t in found] == [(owner, due)]


@pytest.mark.parametrize("sentence", [
    "Der Radweg muss ausgebessert werden.",      # work, but nobody and no date
    "Die Sitzung endet um 20 Uhr.",
    "Übernimmt jemand die Leitung?",
])
def test_not_a_task(sentence: str) -> None:
    from pipelines.minutes import _Sentence

    assert find_tasks([_Sentence(sentence, 0.0, 1)]) == []


# --------------------------------------------------------------------------- summary


def test_extractive_summary_picks_the_central_sentences_in_order() -> None:
    summary = extractive_summary(turns())
    said = [text for _s, _e, text in MEETING]

    assert len(summary) == 3
    assert all(sentence in said for sentence in summary)
    assert [said.index(s) for s in summary] == sorted(said.index(s) for s in summary)
    # The meeting is mostly about the gym: its sentences share the most terms.
    assert sum("Turnhalle" in s for s in summary) >= 2


def test_extractive_summary_of_short_input_keeps_everything() -> None:
    short = split_turns([Segment(0, 3, "Der Haushalt wurde heute lange beraten.")], 1.5)

    assert extractive_summary(short) == ["Der Haushalt wurde heute lange beraten."]
    assert extractive_summary([]) == []


def test_agenda_items_get_a_sentence_from_their_own_stretch() -> None:
    draft = extract_without_llm(turns())

    top1, top2, top3 = draft.agenda
    assert "Turnhalle" in top1.summary and not top1.summary.startswith("Wir kommen zu TOP")
    assert "Radweg" in top2.summary or "Bauhof" in top2.summary or "Anwohner" in top2.summary
    assert top3.summary  # "Ein wichtiger Punkt ist die Beschlussvorlage …"


# --------------------------------------------------------------------------- LLM answer parser


GOOD_ANSWER = """{
  "anwesende": ["Frau Schulz", "Herr Becker"],
  "tagesordnungspunkte": [
    {"nummer": "1", "titel": "Turnhalle", "zusammenfassung": "Sanierung beraten."}
  ],
  "beschluesse": [{"text": "Sanierung beschlossen", "abstimmung": "einstimmig", "top": "1"}],
  "aufgaben": [{"aufgabe": "Ausschreibung", "verantwortlich": "Frau Schulz",
                "frist": "15. März"}, {"aufgabe": "Protokoll", "verantwortlich": "",
                "frist": null}],
  "zusammenfassung": "Der Ausschuss beschloss die Sanierung."
}"""


def test_parse_clean_json() -> None:
    draft = parse_llm_answer(GOOD_ANSWER)

    assert draft is not None
    assert draft.attendees == ["Frau Schulz", "Herr Becker"]
    assert draft.agenda == [AgendaItem("1", "Turnhalle", "Sanierung beraten.")]
    assert draft.decisions == [Decision("Sanierung beschlossen", "einstimmig", "1")]
    assert draft.tasks == [Task("Ausschreibung", "Frau Schulz", "15. März"),
                           Task("Protokoll", "offen", "offen")]
    assert draft.summary == ["Der Ausschuss beschloss die Sanierung."]


def test_parse_tolerates_fences_reasoning_prose_and_trailing_commas() -> None:
    wrapped = ("<think>Ich überlege {nicht JSON}.</think>Hier ist das Protokoll:\n```json\n"
               '{"anwesende": ["Frau Klein",], "beschlüsse": ["Radweg wird ausgebessert"],}\n'
               "```\nViele Grüße")

    draft = parse_llm_answer(wrapped)

    assert draft is not None
    assert draft.attendees == ["Frau Klein"]
    assert draft.decisions == [Decision("Radweg wird ausgebessert")]


@pytest.mark.parametrize("answer", [
    "Leider kann ich dazu nichts sagen.",
    '{"anwesende": ["Frau Klein"',             # cut off
    '["Frau Klein"]',                           # not an object
    '{"foo": 1, "bar": [2]}',                   # none of the template's keys
    "",
])
def test_parse_rejects_unusable_answers(answer: str) -> None:
    assert parse_llm_answer(answer) is None


# --------------------------------------------------------------------------- whole, without LLM


def test_make_minutes_without_llm_is_labelled_and_complete(tmp_path: Path) -> None:
    minutes = make_minutes(segments(), "Bauausschuss März", None, settings=settings(tmp_path),
                           meeting_date=date(2026, 3, 12))

    assert minutes.mode == "extractive"
    assert "ohne Sprachmodell" in minutes.mode_label
    assert any("keine Erkennung der sprechenden Personen" in n for n in minutes.notes)
    assert any("Kein Sprachmodell eingestellt" in n for n in minutes.notes)
    assert len(minutes.attendees) == 5 and len(minutes.agenda) == 3
    assert len(minutes.decisions) == 2 and len(minutes.tasks) == 4
    assert minutes.duration == 152.0


def test_make_minutes_of_an_empty_transcript(tmp_path: Path) -> None:
    minutes = make_minutes([], "Leer", None, settings=settings(tmp_path))

    assert minutes.turns == [] and minutes.summary == []
    assert any("Abschrift ist leer" in n for n in minutes.notes)
    assert "Leer." in minutes_markdown(minutes)


def test_markdown_export(tmp_path: Path) -> None:
    minutes = make_minutes(segments(), "Bauausschuss | März", None,
                           settings=settings(tmp_path), meeting_date=date(2026, 3, 12))

    text = minutes_markdown(minutes)

    assert text.startswith("# Protokoll: Bauausschuss | März\n")
    assert "- **Datum:** 12.03.2026" in text
    assert "Automatische Auszüge ohne Sprachmodell" in text
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections == ["## Anwesende", "## Tagesordnungspunkte", "## Beschlüsse",
                        "## Aufgaben", "## Zusammenfassung", "## Anhang: Abschrift"]
    assert "### TOP 1: Sanierung der Turnhalle an der Grundschule [00:00:22]" in text
    assert "| Aufgabe | verantwortlich | Frist |" in text
    assert "| Frau Schulz | 15. März |" in text
    assert "1. Der Ausschuss beschließt einstimmig" in text
    assert "**[00:01:00] Beitrag 6:** Frau Schulz übernimmt" in text
    assert "- Frau Dr. Klein" in text


def test_markdown_table_cells_escape_pipes() -> None:
    from pipelines.minutes import Minutes

    minutes = Minutes("T", date(2026, 1, 2), "extractive", [], [], [],
                      [Task("A | B", "X", "offen")], [], [])

    assert "| A \\| B | X | offen |" in minutes_markdown(minutes)


def test_filename() -> None:
    from pipelines.minutes import Minutes

    minutes = Minutes("Bauausschuss: Öffentliche Sitzung!", date(2026, 3, 12), "extractive",
                      [], [], [], [], [], [])

    assert minutes_filename(minutes, "docx") == (
        "protokoll-2026-03-12-bauausschuss-oeffentliche-sitzung.docx")
