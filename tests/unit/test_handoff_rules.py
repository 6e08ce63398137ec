"""Requests for a person (every language of pipelines/resources/person_requests.yaml), office
hours, routing by topic keywords: positives and negatives, hand-checked."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pipelines.bots import HandoffSettings, Office
from pipelines.handoff import GENERAL_OFFICE, expectation, offer_text, route, wants_person
from pipelines.office_hours import (
    OfficeHoursError,
    describe_moment,
    is_open,
    next_opening,
    parse_hours,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("question", [
    "Ich möchte mit einem Menschen sprechen",
    "kann ich mit nem echten menschen reden",
    "Bitte verbinden Sie mich mit einer Sachbearbeiterin",
    "Ich will einen Mitarbeiter sprechen!",
    "Ich will keinen Bot, sondern eine echte Person",
    "Bitte um Rückruf",
    "I want to talk to a real person",
    "Can I speak to someone?",
    "connect me with an agent please",
    "Я хочу поговорити з людиною",
    "Можна з оператором?",
    "Хочу поговорить с живым человеком",
    "Bir insanla konuşmak istiyorum",
    "أريد التحدث مع موظف",
    "Chcę rozmawiać z konsultantem",
    "Je voudrais parler à un humain",
])
def test_requests_for_a_person_are_recognised(question: str) -> None:
    assert wants_person(question)


@pytest.mark.parametrize("question", [
    "Wie viele Menschen wohnen in Musterstadt?",
    "Was kostet ein Personalausweis?",
    "Brauche ich für die Ummeldung meinen Personalausweis?",
    "Muss ich persönlich erscheinen?",
    "Wie viele Mitarbeiter hat das Bürgerbüro?",
    "Kann ich mit meinem Reisepass wählen?",
    "How much is a passport?",
    "Who is the mayor of Musterstadt?",
    "Скільки коштує паспорт?",
])
def test_ordinary_questions_are_not_requests_for_a_person(question: str) -> None:
    assert not wants_person(question)


def test_offer_in_the_citizens_language_and_german_otherwise() -> None:
    assert "Mitarbeiter" in offer_text("de")
    assert "member of staff" in offer_text("en")
    assert "працівник" in offer_text("uk")
    assert offer_text("vi") == offer_text("de")


# --------------------------------------------------------------------------- office hours


def test_office_hours_parse_ranges_several_spans_and_entries() -> None:
    spans = parse_hours("Mo–Mi 8:00–12:00, 13:00–16:00; Fr 8-12 Uhr")
    assert [(s.weekday, s.start.hour, s.end.hour) for s in spans] == [
        (0, 8, 12), (0, 13, 16), (1, 8, 12), (1, 13, 16), (2, 8, 12), (2, 13, 16), (4, 8, 12)]


@pytest.mark.parametrize(("text", "message"), [
    ("Mo 9-8", "das Ende liegt vor dem Beginn"),
    ("Xy 8-9", "Tage bitte als Mo"),
    ("Fr-Mo 8-9", "rückwärts"),
    ("Mo 8", "Zeitspanne"),
    ("Mo 25-26", "keine Uhrzeit"),
    ("montags", "erwartet Tage und Uhrzeiten"),
])
def test_bad_office_hours_are_named_in_german(text: str, message: str) -> None:
    with pytest.raises(OfficeHoursError, match=message):
        parse_hours(text)
    with pytest.raises(ValueError, match=message):
        Office(key="amt", name="Amt", hours=text)


def test_open_and_next_opening_across_the_weekend() -> None:
    spans = parse_hours("Mo–Do 8:00–16:00; Fr 8:00–12:00")
    friday_afternoon = datetime(2026, 11, 27, 14, 0, tzinfo=BERLIN)
    assert not is_open(spans, friday_afternoon)
    assert is_open(spans, datetime(2026, 11, 27, 11, 59, tzinfo=BERLIN))
    opening = next_opening(spans, friday_afternoon)
    assert opening == datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN)
    assert describe_moment(opening) == "Montag, 30.11., 8:00 Uhr"
    # Before opening on a working day: the same day.
    assert next_opening(spans, datetime(2026, 11, 24, 6, 0, tzinfo=BERLIN)) == datetime(
        2026, 11, 24, 8, 0, tzinfo=BERLIN)


def test_expectation_uses_the_installation_timezone() -> None:
    office = Office(key="amt", name="Bürgerbüro", hours="Mo–Fr 8:00–16:00")
    # 15:30 UTC is 16:30 in Berlin in November: closed, next Monday.
    text = expectation(office, "Europe/Berlin",
                       datetime(2026, 11, 27, 15, 30, tzinfo=ZoneInfo("UTC")))
    assert "gerade niemand erreichbar" in text and "Montag, 30.11., 8:00 Uhr" in text


# --------------------------------------------------------------------------- routing


def test_route_by_most_matching_topic_keywords() -> None:
    settings = HandoffSettings(offices=[
        Office(key="buergerbuero", name="Bürgerbüro", topics=["Ausweis", "Reisepass"]),
        Office(key="steueramt", name="Steueramt", topics=["Hundesteuer", "Hund"]),
    ])
    assert route(settings, "Wie melde ich meinen Hund zur Hundesteuer an?")[0].key == "steueramt"
    office, topic = route(settings, "Mein Personalausweis ist weg")
    assert (office.key, topic) == ("buergerbuero", "Ausweis")  # compound part counts
    assert route(settings, "Wann ist Wochenmarkt?") == (settings.offices[0], "")
    assert route(HandoffSettings(), "egal")[0] == GENERAL_OFFICE
