"""Office hours as people write them ("Mo–Do 8:00–16:00; Fr 8:00–12:00") and when an office
next answers.

Days: Mo Di Mi Do Fr Sa So, single or as a range; several ranges per day separated by commas
("Mo 8-12, 14-18"); entries separated by semicolons. Public holidays are not known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

DAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
DAY_NAMES = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
_DASH = r"\s*[-–—]\s*"
_TIME = r"(\d{1,2})(?:[:.](\d{2}))?"
_SPAN_RE = re.compile(rf"^{_TIME}{_DASH}{_TIME}(?:\s*Uhr)?$")
_DAYS_RE = re.compile(rf"^({'|'.join(DAYS)})\.?(?:{_DASH}({'|'.join(DAYS)})\.?)?$")


class OfficeHoursError(ValueError):
    pass


@dataclass(frozen=True)
class Span:
    weekday: int  # 0 = Monday
    start: time
    end: time


def parse_hours(text: str) -> list[Span]:
    """The opening spans of `text`; raises OfficeHoursError in German naming the bad part."""
    spans: list[Span] = []
    for entry in (part.strip() for part in text.split(";")):
        if not entry:
            continue
        match = re.match(r"^([A-Za-zÄÖÜäöü.\s–—-]+?)\s+(\d.*)$", entry)
        if not match:
            raise OfficeHoursError(
                f"„{entry}“: erwartet Tage und Uhrzeiten, z. B. „Mo–Fr 8:00–16:00“.")
        days = _days(match.group(1).strip(), entry)
        for part in (p.strip() for p in match.group(2).split(",")):
            span = _SPAN_RE.match(part)
            if not span:
                raise OfficeHoursError(
                    f"„{part}“ in „{entry}“: erwartet eine Zeitspanne wie „8:00–16:00“.")
            start = _time(span.group(1), span.group(2), entry)
            end = _time(span.group(3), span.group(4), entry)
            if end <= start:
                raise OfficeHoursError(f"„{part}“ in „{entry}“: das Ende liegt vor dem Beginn.")
            spans.extend(Span(day, start, end) for day in days)
    return sorted(spans, key=lambda s: (s.weekday, s.start))


def is_open(spans: list[Span], moment: datetime) -> bool:
    now = moment.time()
    return any(s.weekday == moment.weekday() and s.start <= now < s.end for s in spans)


def next_opening(spans: list[Span], moment: datetime) -> datetime | None:
    """The start of the next opening span after `moment` (same timezone); None: never open."""
    for offset in range(8):
        day = (moment + timedelta(days=offset)).date()
        for span in spans:
            if span.weekday != day.weekday():
                continue
            start = datetime.combine(day, span.start, tzinfo=moment.tzinfo)
            if start > moment:
                return start
    return None


def describe_moment(moment: datetime) -> str:
    """'Montag, 24.11., 8:00 Uhr'."""
    return (f"{DAY_NAMES[moment.weekday()]}, {moment:%d.%m.}, "
            f"{moment.hour}:{moment.minute:02d} Uhr")


def _days(text: str, entry: str) -> list[int]:
    match = _DAYS_RE.match(text.replace(" ", ""))
    if not match:
        raise OfficeHoursError(
            f"„{text}“ in „{entry}“: Tage bitte als Mo, Di, Mi, Do, Fr, Sa, So oder als "
            "Spanne wie „Mo–Fr“.")
    first = DAYS.index(match.group(1))
    last = DAYS.index(match.group(2)) if match.group(2) else first
    if last < first:
        raise OfficeHoursError(f"„{text}“ in „{entry}“: die Spanne läuft rückwärts.")
    return list(range(first, last + 1))


def _time(hours: str, minutes: str | None, entry: str) -> time:
    hour, minute = int(hours), int(minutes or 0)
    if hour == 24 and minute == 0:
        return time(23, 59, 59)
    if hour > 23 or minute > 59:
        raise OfficeHoursError(f"„{hours}:{minutes or '00'}“ in „{entry}“ ist keine Uhrzeit.")
    return time(hour, minute)
