"""Personal data out of chat logs: rule-based redaction before anything is stored.

`redact(text)` replaces personal data with typed placeholders (`[E-MAIL]`, `[TELEFON]`, …) and
lists what it found. Pure Python and `re`, no model: it runs offline, in about 0.1 ms per
question, and every decision can be read below. Rules favour recall — a stored phone number is
worse than a redacted opening hour — but each rule is shaped to let the look-alikes of municipal
questions through: Aktenzeichen and Kassenzeichen, opening hours, fees, paragraph numbers,
postcodes, years and ordinary dates (measured in `evaluation/privacy.py` on
`evaluation/data/pii_de.jsonl`).

Choices worth knowing:
- Numbers that carry a checksum are validated: IBAN (ISO 13616, mod 97, length per country),
  card numbers (Luhn), Steuer-IdNr (ISO 7064 MOD 11,10 and its digit-repetition rule). After a
  keyword ("IBAN", "Steuer-ID", "Kreditkarte") a number is redacted even if the checksum fails:
  a typo does not make it less personal.
- Every phone number is redacted, the town's own service number included. Telling the citizen's
  number from the town hall's would need a list of the town's numbers; redacting a public number
  in a log costs nothing, keeping a private one would. Short service numbers (115, 110) stay.
- The same holds for addresses ("Schaden am Marktplatz 1" is redacted) and for names after a
  salutation (a clerk's "Herr Becker" too): the rules do not know whose data it is.
- Dates are redacted only in birth context ("geboren am", "geb.", "Geburtsdatum", "*"); a date
  alone ("Frist bis 15.03.2027") is not personal.
- Placeholders contain no digits and no "@", and are masked before the rules run, so
  redacting a redacted text changes nothing ("[GEBURTSDATUM]" is no birth keyword).
- Known limits: names without a trigger ("Mein Sohn ist Max"), a "Nachname, Vorname" after
  "mein Name ist" (only the surname goes), dates far from their birth keyword, fairy-tale
  characters after "Frau" ("Frau Holle" is redacted).
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

Kind = Literal["E-MAIL", "IP", "IBAN", "KARTE", "STEUER-ID", "TELEFON", "GEBURTSDATUM",
               "KENNZEICHEN", "ADRESSE", "NAME"]
# Priority when candidates overlap: the earlier kind wins (then the longer span). Checksummed
# and unmistakable formats come first, so e.g. the digits inside an IBAN never become a phone.
KINDS: tuple[Kind, ...] = ("E-MAIL", "IP", "IBAN", "KARTE", "STEUER-ID", "TELEFON",
                           "GEBURTSDATUM", "KENNZEICHEN", "ADRESSE", "NAME")
_PRIORITY = {kind: rank for rank, kind in enumerate(KINDS)}
# Kinds made of digits; a reference number of the administration is not one of them.
_NUMERIC_KINDS = frozenset({"TELEFON", "KARTE", "STEUER-ID"})


def placeholder(kind: Kind) -> str:
    return f"[{kind}]"


@dataclass(frozen=True)
class Span:
    """Personal data of `kind` at text[start:end] of the original text."""

    kind: Kind
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    text: str
    spans: tuple[Span, ...]

    @property
    def counts(self) -> dict[str, int]:
        """How many spans of each kind were redacted, e.g. {"TELEFON": 1}."""
        return dict(Counter(span.kind for span in self.spans))


def redact(text: str) -> Redaction:
    """`text` with every found piece of personal data replaced by its placeholder."""
    spans = find_personal_data(text)
    parts: list[str] = []
    position = 0
    for span in spans:
        parts.append(text[position:span.start])
        parts.append(placeholder(span.kind))
        position = span.end
    parts.append(text[position:])
    return Redaction("".join(parts), tuple(spans))


def redact_text(text: str | None) -> str:
    """Only the redacted text; None and "" stay empty."""
    return redact(text).text if text else ""


def find_personal_data(text: str) -> list[Span]:
    """Non-overlapping spans in text order; on overlap the higher-priority kind wins."""
    # Placeholders of an earlier redaction are hidden behind a neutral character of the same
    # length: "[GEBURTSDATUM]" must not act as the keyword "Geburtsdatum", nor "[IBAN]" as
    # "IBAN", when a redacted text is redacted again.
    text = _PLACEHOLDER_RE.sub(lambda m: _MASK * len(m.group()), text)
    protected = [m.span(1) for m in _REFERENCE_RE.finditer(text)]
    candidates: list[Span] = []
    for detector in _DETECTORS:
        for span in detector(text):
            if span.end <= span.start:
                continue
            if span.kind in _NUMERIC_KINDS and _overlaps_any(span, protected):
                continue
            candidates.append(span)
    candidates.sort(key=lambda s: (_PRIORITY[s.kind], -(s.end - s.start), s.start))
    chosen: list[Span] = []
    for span in candidates:
        if not _overlaps_any(span, [(c.start, c.end) for c in chosen]):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def _overlaps_any(span: Span, ranges: list[tuple[int, int]]) -> bool:
    return any(span.start < end and start < span.end for start, end in ranges)


# --------------------------------------------------------------------------- shared pieces

_PLACEHOLDER_RE = re.compile("|".join(re.escape(placeholder(kind)) for kind in KINDS))
# A private-use character: no letter, digit or space, so no rule matches it or across it.
_MASK = "\ue000"

# Horizontal white space only: a line break ends a phone number, an address or a name.
_SP_CHARS = " \t\u00a0\u202f"
_SP = f"[{_SP_CHARS}]"
# A number the administration gave the case (not the citizen's data): its digits are exempt
# from the numeric kinds. Group 1 is the reference itself, up to the next word.
_REFERENCE_RE = re.compile(
    r"(?i:\b(?:Az|Gz)\.?|\b(?:Akten|Kassen|Geschäfts|Buchungs)zeichen|"
    r"\b(?:Vorgangs|Bescheid|Rechnungs|Kunden|Antrags|Mandats|Vertrags)(?:-?nummer|-?nr\.?)|"
    r"\bFlurstück|\bTarifstelle|\bGebührennummer)"
    rf"{_SP}*(?::|ist|lautet|lauten)?{_SP}*"
    rf"(\d[\w./-]*(?:{_SP}\d[\w./-]*)*)"
)
# A number directly followed by a unit is an amount, a duration or a time, not data.
_UNIT_AFTER = re.compile(
    rf"{_SP}*(?:Uhr|h\b|€|EUR\b|Euro|%|Prozent|Jahre?n?\b|Tage?n?\b|Wochen?\b|Monate?n?\b|"
    r"Stunden?\b|Std\b|Minuten?\b|Min\b|Personen\b|Stück\b|km\b|m²|m³|qm\b|x\b|mal\b)"
)


def _unit_follows(text: str, end: int) -> bool:
    return _UNIT_AFTER.match(text, end) is not None


def _context_before(text: str, start: int, pattern: re.Pattern[str], width: int = 40) -> bool:
    return pattern.search(text, max(0, start - width), start) is not None


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


# --------------------------------------------------------------------------- e-mail

# Local part and domain as in real addresses (Unicode letters allowed: müller.de); "(at)" and
# "[at]" are the usual disguise against spam harvesters.
_EMAIL_RE = re.compile(
    r"(?<![\w.%+-])[\w.%+-]+(?:@|\s?[(\[]at[)\]]\s?)[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])"
)


def _emails(text: str) -> Iterator[Span]:
    for m in _EMAIL_RE.finditer(text):
        yield Span("E-MAIL", m.start(), m.end())


# --------------------------------------------------------------------------- IP addresses

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4_RE = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\d)")
# Candidates for IPv6 (hex groups with at least two colons); ipaddress decides. Times such as
# 12:30:00 are not valid IPv6 addresses and fall out there.
_IPV6_RE = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_IP_CONTEXT_RE = re.compile(r"(?i)\b(?:IP|IPv[46]|Adresse|Server|Rechner|Router|Host)\b")


def _ips(text: str) -> Iterator[Span]:
    for m in _IPV4_RE.finditer(text):
        # "Abschnitt 1.2.3.4", "Nr. 3.1.4.2": four single digits read as an outline number
        # unless the text speaks of addresses or computers right before.
        single_digits = all(len(part) == 1 for part in m.group().split("."))
        if single_digits and not _context_before(text, m.start(), _IP_CONTEXT_RE, 30):
            continue
        yield Span("IP", m.start(), m.end())
    for m in _IPV6_RE.finditer(text):
        value = m.group()
        if value.count(":") < 2 or not re.search(r"[0-9A-Fa-f]", value):
            continue
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            continue
        yield Span("IP", m.start(), m.end())


# --------------------------------------------------------------------------- IBAN

# Length of the IBAN per country (ISO 13616 registry); unknown countries are not guessed.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
# Country, check digits, then letters/digits in groups of any size separated by single spaces.
# The candidate may run into the next word; it is cut to the country's length below.
_IBAN_RE = re.compile(rf"(?<![\w])[A-Za-z]{{2}}\d{{2}}(?:{_SP}?[A-Za-z0-9]){{11,30}}")
_IBAN_CONTEXT_RE = re.compile(r"(?i)\b(?:IBAN|Konto(?:nummer)?|Bankverbindung|Kontoverbindung)\b")


def iban_is_valid(compact: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to 10..35, mod 97 == 1."""
    value = compact.upper()
    if len(value) != IBAN_LENGTHS.get(value[:2], -1) or not value[2:4].isdigit():
        return False
    if not value.isalnum() or not value.isascii():
        return False
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _ibans(text: str) -> Iterator[Span]:
    for m in _IBAN_RE.finditer(text):
        country = m.group()[:2].upper()
        length = IBAN_LENGTHS.get(country)
        if length is None:
            continue
        # Walk the candidate until `length` letters/digits are taken.
        taken, end = 0, m.start()
        for end in range(m.start(), m.end()):
            if text[end].isalnum():
                taken += 1
                if taken == length:
                    break
        if taken < length:
            continue
        end += 1
        if end < len(text) and text[end].isalnum():
            continue  # glued to more characters: part of some longer token
        compact = re.sub(r"\s", "", text[m.start():end])
        if not compact[2:4].isdigit():
            continue
        # A wrong checksum is a typo when "IBAN" or "Konto" stands right before (a German
        # IBAN then still has to be all digits after the country).
        typo = (_context_before(text, m.start(), _IBAN_CONTEXT_RE, 25)
                and (country != "DE" or compact[4:].isdigit()))
        if iban_is_valid(compact) or typo:
            yield Span("IBAN", m.start(), end)


# --------------------------------------------------------------------------- card numbers

# A run of digit groups separated by single spaces or hyphens (4-4-4-4, 4-6-5 or unbroken).
_DIGIT_RUN_RE = re.compile(r"(?<![\w+,./-])\d+(?:[ -]\d+)*(?![\w])")
_CARD_CONTEXT_RE = re.compile(
    r"(?i)\b(?:Kredit-?karte\w*|Karten-?nummer|Karte|Visa|Master-?card|Amex|American Express)\b"
)


def luhn_is_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _cards(text: str) -> Iterator[Span]:
    for m in _DIGIT_RUN_RE.finditer(text):
        groups = [(g.start(), g.end()) for g in re.finditer(r"\d+", m.group())]
        context = _context_before(text, m.start(), _CARD_CONTEXT_RE, 30)
        first = 0
        while first < len(groups):
            end = _card_end(m.group(), groups, first, context)
            if end is None:
                first += 1
                continue
            yield Span("KARTE", m.start() + groups[first][0], m.start() + end)
            first = next((i for i, g in enumerate(groups) if g[0] >= end), len(groups))


def _card_end(run: str, groups: list[tuple[int, int]], first: int, context: bool) -> int | None:
    """End of the longest card number made of whole groups from `first` on: 13-19 digits, Luhn
    (or a card keyword before the run), issuer digit 2-6 (Mastercard, Amex/Diners, Visa,
    Mastercard, Discover), which keeps out phone numbers: they start with 0 or +."""
    best: int | None = None
    if run[groups[first][0]] not in "23456":
        return None
    count = 0
    for start, end in groups[first:]:
        count += end - start
        if count > 19:
            break
        if count >= 13:
            digits = _digits(run[groups[first][0]:end])
            if luhn_is_valid(digits) or context:
                best = end
    return best


# --------------------------------------------------------------------------- tax numbers

# Steuer-IdNr: 11 digits, unbroken or as 2-3-3-3.
_TAX_ID_RE = re.compile(
    rf"(?<![\w+,./-])\d{{2}}{_SP}?\d{{3}}{_SP}?\d{{3}}{_SP}?\d{{3}}(?![\w,/-]|\.\d)"
)
# Steuernummer in the Länder formats that do not look like anything else: 2-3/3/5 digits (most
# Länder) and 5/5 (Baden-Württemberg). 3/4/4 (NRW), 2/3/4/1 (Rheinland-Pfalz) and the 13-digit
# federal form look like Aktenzeichen and are only taken after a keyword (below).
_TAX_NUMBER_RE = re.compile(r"(?<![\w/.-])(?:\d{2,3}/\d{3}/\d{5}|\d{5}/\d{5})(?![\w/-])")
_TAX_CONTEXT_RE = re.compile(
    r"(?i)\b(?:Steuer-?ID|Steuer-?Id(?:ent)?-?Nr\.?|Steuer-?identifikationsnummer|"
    r"Identifikationsnummer|IdNr\.?|Steuer-?nummer|Steuer-?Nr\.?|St\.?-?Nr\.?)"
    rf"{_SP}*(?::|ist|lautet)?{_SP}*"
    rf"(\d[\d/{_SP_CHARS}]{{7,16}}\d)(?![\w])"
)


def tax_id_is_valid(digits: str) -> bool:
    """Steuer-IdNr: no leading 0; in the first ten digits exactly one digit occurs twice or three
    times (three never in a row) and none other repeats; the 11th is the ISO 7064 MOD 11,10
    check digit."""
    if len(digits) != 11 or not digits.isdigit() or digits[0] == "0":
        return False
    counts = Counter(digits[:10])
    repeated = [digit for digit, n in counts.items() if n > 1]
    if len(repeated) != 1 or counts[repeated[0]] not in (2, 3):
        return False
    if counts[repeated[0]] == 3 and repeated[0] * 3 in digits[:10]:
        return False
    product = 10
    for char in digits[:10]:
        total = (int(char) + product) % 10 or 10
        product = (total * 2) % 11
    check = 11 - product
    return (0 if check == 10 else check) == int(digits[10])


def _tax_numbers(text: str) -> Iterator[Span]:
    for m in _TAX_ID_RE.finditer(text):
        if tax_id_is_valid(_digits(m.group())):
            yield Span("STEUER-ID", m.start(), m.end())
    for m in _TAX_NUMBER_RE.finditer(text):
        yield Span("STEUER-ID", m.start(), m.end())
    for m in _TAX_CONTEXT_RE.finditer(text):
        if 10 <= len(_digits(m.group(1))) <= 13:
            yield Span("STEUER-ID", m.start(1), m.end(1))


# --------------------------------------------------------------------------- phone numbers

# One group of digits, possibly in parentheses: "30", "(0361)", "(0)351", "(0) 30". A closing
# parenthesis belongs to the number only if it opened one: "(… 567-5150)" ends before it.
_PHONE_GROUP = rf"(?:\(\d+\)(?:{_SP}?\d+)?|\d+)"
# Between groups: a space, or "/" or a hyphen/dash with optional spaces ("030 / 123", "49-1234").
_PHONE_SEP = rf"(?:{_SP}?[/\-–]{_SP}?|{_SP})"
# At most ten groups ("+49 (0) 30 12 34 56 78" has seven): a long run of numbers is scanned in
# bounded pieces, which keeps the scan linear.
_PHONE_RE = re.compile(
    rf"(?<![\w+/.,:\-–])(?=[+(0])(?:\+{_SP}?|\(\+)?{_PHONE_GROUP}"
    rf"(?:{_PHONE_SEP}{_PHONE_GROUP}){{0,9}}"
)
_PHONE_CONTEXT_RE = re.compile(
    r"(?i)\b(?:Tel(?:efon)?(?:-?nummer|-?nr)?\.?|Handy(?:-?nummer)?|"
    r"Mobil(?:-?nummer|funk(?:nummer)?)?|Festnetz(?:-?nummer)?|Fax(?:-?nummer)?|Rufnummer|"
    r"Durchwahl|WhatsApp|Rückruf(?:nummer)?)"
    rf"{_SP}*(?::|ist|lautet|unter|an)?{_SP}*"
    rf"((?:\+{_SP}?)?\(?\d[\d(){_SP_CHARS}/\-–]*\d)"
)


def _phone_is_plausible(value: str) -> bool:
    head = value.lstrip("(")
    digits = _digits(value)
    if head.startswith("+"):
        return 8 <= len(digits) <= 16  # E.164: at most 15, plus a written "(0)"
    if head.startswith("00"):
        return 10 <= len(digits) <= 17 and digits[2] != "0"
    if head.startswith("0"):
        # National: trunk 0, area code, subscriber number. Fewer than 7 digits is a time range
        # ("08-12"), a postcode (01067) or the start of a date.
        return 7 <= len(digits) <= 14
    return False


def _phones(text: str) -> Iterator[Span]:
    position = 0
    while (m := _PHONE_RE.search(text, position)) is not None:
        found = _phone_in(text, m)
        if found is not None:
            yield found
            position = found.end
        else:
            # Nothing starts here; a number may start at a later group of the same run.
            first_group = re.match(r"\D*\d+", m.group())
            position = m.start() + (first_group.end() if first_group else 1)


def _phone_in(text: str, m: re.Match[str]) -> Span | None:
    """The longest plausible phone number at the start of candidate `m`: the candidate may
    have run into a following number ("0171 2345678 2 Personen", "0171 2345678 0351 …")."""
    value, digits, ends = m.group(), 0, []
    for index, char in enumerate(value):
        if not char.isdigit():
            continue
        digits += 1
        if digits > 17:  # the most any rule below allows
            break
        following = value[index + 1:index + 2]
        if not following.isdigit():
            ends.append(m.start() + index + 1 + (following == ")"))
    for end in reversed(ends):
        if _phone_is_plausible(text[m.start():end]) and not _unit_follows(text, end):
            return Span("TELEFON", m.start(), end)
    return None


def _phones_after_keyword(text: str) -> Iterator[Span]:
    for m in _PHONE_CONTEXT_RE.finditer(text):
        # After "Tel." a local number without area code counts too ("Tel. 5 43 21").
        number = m.group(1)
        if len(_digits(number)) >= 5 and not _unit_follows(text, m.end(1)):
            yield Span("TELEFON", m.start(1), m.end(1))


# --------------------------------------------------------------------------- dates of birth

_MONTHS = (r"(?:Januar|Jänner|Jan|Februar|Feb|März|Maerz|Mär|Mrz|April|Apr|Mai|Juni|Jun|Juli|"
           r"Jul|August|Aug|September|Sept|Sep|Oktober|Okt|November|Nov|Dezember|Dez)")
_DATE = (
    rf"(?:\d{{1,2}}\.{_SP}?\d{{1,2}}\.(?:{_SP}?(?:\d{{4}}|\d{{2}})(?!\d))?"
    rf"|\d{{1,2}}\.{_SP}?{_MONTHS}\.?(?:{_SP}\d{{4}})?"
    r"|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})(?!\d))"
)
# Birth keyword, then at most a few words (no digits, no sentence end), then the date:
# "geboren am 3. Oktober 1990", "Geburtstag meines Vaters: 08.02.1941", "*15.08.2012" (one
# star: "**1. März**" is Markdown bold).
_BIRTH_BEFORE_RE = re.compile(
    rf"(?:(?i:\bgeboren|\bgeb\.|\bGeburtsdatum|\bGeburtstag|\bGeb\.-?Datum|\bGeburtsdat\.)"
    rf"[^\d.!?\n{_MASK}]{{0,30}}?|(?<![*\w])\*{_SP}?)(?<![\d.])({_DATE})"
)
# Date, then "geboren" within a few words: "ich bin am 12.03.1985 geboren".
_BIRTH_AFTER_RE = re.compile(
    rf"(?<![\d.])({_DATE})[^\d.!?\n{_MASK}]{{0,25}}?(?i:\bgeboren\b)"
)


def _birth_dates(text: str) -> Iterator[Span]:
    for pattern in (_BIRTH_BEFORE_RE, _BIRTH_AFTER_RE):
        for m in pattern.finditer(text):
            yield Span("GEBURTSDATUM", m.start(1), m.end(1))


# --------------------------------------------------------------------------- licence plates

# District code (1-3 letters, umlauts in e.g. LÖ, SÜW), 1-2 letters, 1-4 digits, E (electric) or
# H (historic). With a hyphen after the district it is taken as is; written only with spaces
# ("M AB 123") it needs the E/H suffix or a vehicle word nearby (50 characters before, 30 after),
# since "DIN A 4" looks the same.
_PLATE_RE = re.compile(
    rf"(?<![\w-])([A-ZÄÖÜ]{{1,3}})(-|{_SP})([A-Z]{{1,2}})(?:{_SP}|-)?(\d{{1,4}})([EH])?(?![\w-])"
)
_VEHICLE_CONTEXT_RE = re.compile(
    r"(?i)\b(?:\w*kennzeichen|Kfz|Auto|Wagen|Pkw|Lkw|Fahrzeug|Motorrad|Anhänger|Wohnmobil|"
    r"Transporter|parkt|abgeschleppt|zugelassen)"
)
# Upper-case abbreviations of norms, laws and techniques that can precede "A 4" or "II 12".
_NOT_DISTRICTS = frozenset({
    "DIN", "EN", "ISO", "SGB", "EU", "BGB", "BMG", "AO", "IT", "ID", "PC", "TV", "CD", "EC", "PDF",
    "USB", "GG", "StVO", "VO", "NR", "ABS", "ART", "KW", "WC", "DSL", "LTE", "GPS", "UV", "CO",
})


def _plates(text: str) -> Iterator[Span]:
    for m in _PLATE_RE.finditer(text):
        district, separator, letters, number, suffix = m.groups()
        if district in _NOT_DISTRICTS or len(district) + len(letters) + len(number) > 8:
            continue
        window = text[max(0, m.start() - 50):m.end() + 30]
        if separator != "-" and not suffix and not _VEHICLE_CONTEXT_RE.search(window):
            continue
        yield Span("KENNZEICHEN", m.start(), m.end())


# --------------------------------------------------------------------------- addresses

_SUFFIXES = (r"straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|steig|pfad|"
             r"markt|stieg|graben|kamp|wall|promenade|zeile|anger|twiete")
_SUFFIX_WORDS = (r"Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer|Chaussee|Steig|"
                 r"Pfad|Markt|Stieg|Graben|Kamp|Wall|Promenade|Zeile|Anger|Twiete")
_WORD = r"[A-ZÄÖÜ][\wäöüß'’]*"
# House number: 1-3 digits, an optional letter ("22a", "15 b") and an optional range ("3-5").
_HOUSE = (rf"{_SP}?\d{{1,3}}(?:{_SP}?[a-hA-H](?![\w]))?(?:{_SP}?[-/]{_SP}?\d{{1,3}}[a-hA-H]?)?"
          r"(?![\d,.]\d|\d)")
# Optional postcode and town: ", 07743 Jena", " in 99423 Weimar", "79098 Freiburg im Breisgau".
_TOWN = (rf"(?:,?{_SP}(?:in{_SP})?\d{{5}}{_SP}{_WORD}(?:-{_WORD})*"
         rf"(?:{_SP}(?:an{_SP}der|am|im|in|ob|bei|vor{_SP}der){_SP}{_WORD})?)?")
# "Hauptstraße 5", "Karl-Marx-Allee 93", "Schulstr. 4", "hauptstraße 5" (typed in lower case).
_STREET_GLUED = (rf"(?:{_WORD}|[a-zäöü][\wäöüß]*(?=stra(?:ß|ss)e))(?:-{_WORD})*?-?"
                 rf"(?i:{_SUFFIXES})")
# "Lange Straße 5", "Alter Markt 3", "Am Anger 7", "Unter den Linden 12" (the last only with
# address context, see below).
_PREPOSITIONS = (rf"(?:Am|Im|Zum|Zur|An{_SP}der|An{_SP}den|Auf{_SP}der|Auf{_SP}dem|In{_SP}der|"
                 rf"In{_SP}den|Hinter{_SP}der|Hinter{_SP}dem|Unter{_SP}den|Vor{_SP}dem)")
_NOT_STREET_WORDS = (r"(?:Die|Der|Das|Den|Dem|Des|Ein|Eine|Einen|Einem|Diese|Dieser|Jede|Jeder|"
                     r"Welche|Welcher|Unsere|Unser|Meine|Mein|Ihre|Ihr|Seine|Auf|In|Über|Nach|Bis|"
                     r"Von|Vom|Für|Zu|Mit|Bei)")
_ADDRESS_RE = re.compile(
    rf"(?<![\w-])(?:"
    rf"(?P<glued>{_STREET_GLUED})"
    rf"|(?P<two>(?!{_NOT_STREET_WORDS}{_SP}){_WORD}{_SP}(?:{_SUFFIX_WORDS}))"
    rf"|(?P<prep>{_PREPOSITIONS}{_SP}{_WORD}(?:-{_WORD})*)"
    rf")(?P<house>{_HOUSE})(?P<town>{_TOWN})"
)
_ADDRESS_CONTEXT_RE = re.compile(
    r"(?i)\b(?:wohne\w*|wohnt|wohnhaft|Adresse|Anschrift|Wohnung|umgezogen|ziehe\w*|gezogen|"
    r"zusenden|schicken|senden|Pflegeheim|Grundstück|Hausnummer)\b"
)
# Compounds ending like a street that name something else ("Parkplatz 3 ist gesperrt").
_NOT_STREETS = frozenset(word.lower() for word in (
    "Parkplatz", "Stellplatz", "Arbeitsplatz", "Abstellplatz", "Kitaplatz", "Krippenplatz",
    "Studienplatz", "Ausbildungsplatz", "Sitzplatz", "Listenplatz", "Pflegeplatz", "Heimplatz",
    "Campingplatz", "Schulweg", "Rückweg", "Heimweg", "Umweg", "Rechtsweg", "Dienstweg",
    "Lieferweg", "Arbeitsweg", "Wochenmarkt", "Weihnachtsmarkt", "Flohmarkt", "Arbeitsmarkt",
    "Wohnungsmarkt", "Ehering", "Schlüsselring",
))


def _addresses(text: str) -> Iterator[Span]:
    for m in _ADDRESS_RE.finditer(text):
        if m.group("glued") and m.group("glued").lower() in _NOT_STREETS:
            continue
        if _unit_follows(text, m.end("house")):
            continue
        if m.group("prep") and not m.group("town"):
            # "Am Mühlbach 6" is an address, "Im Zimmer 12" is not: the prepositional form
            # needs a street word ("Am Anger 7") or an address word within 40 characters.
            street = m.group("prep").split()[-1]
            is_street_word = re.fullmatch(rf"(?i:\w*(?:{_SUFFIXES}))", street) is not None
            window = text[max(0, m.start() - 40):m.end() + 40]
            if not is_street_word and not _ADDRESS_CONTEXT_RE.search(window):
                continue
        yield Span("ADRESSE", m.start(), m.end())


# --------------------------------------------------------------------------- names

# Common first names in Germany (German, Turkish, Arabic, Slavic, Italian, … origin). Used only
# where a salutation alone would be too weak: "Ich bin Anna", the second word of "Frau Anna
# Schmidt", "Anna Schmidt" anywhere. Names that are also ordinary words (Mark, Kai, Ernst,
# Frank, Rosa, Will) are left out on purpose.
FIRST_NAMES = frozenset("""
adelheid adrian ahmad ahmed aisha alexander alexandra ali alina amelie amir ana andrea andreas
angelika anja anke anna anne annemarie annette anton antonia arne astrid ayse ayşe barbara beate
ben benedikt benjamin bernd bettina birgit björn brigitte carina carl carla carmen carolin
caroline charlotte chiara christa christian christiane christina christine christoph clara
claudia cornelia dagmar daniel daniela david denise dennis detlef diana dieter dirk dominik doris
dorothea edith elena elias elif elisabeth elke ella emilia emily emma emre erika erik esra eva
fabian fatima felix finn florian franziska friedrich frieda gabriele georg gerhard gerda gertrud
gisela greta gudrun günter günther hanna hannah hannelore hans hans-jürgen hans-peter harald
heike heinz heinz-dieter helga helmut henrik herbert hildegard holger horst hüseyin ibrahim ida
ilse ines ingeborg ingrid irene iris isabel jakob jan jana janina jannik jasmin jens jessica
joachim johann johanna johannes jonas jonathan josef julia julian juliane jürgen justus
karin karl karl-heinz karsten katharina kathrin katja katrin kerstin kevin klaus konstantin
kristina lara lars laura lea lena leon leonie lina linda lisa louisa luca lucas luis luisa
lukas lutz magdalena maja mandy manfred manuel manuela marc marcel marco margarete margit maria
marie marina mario marion markus martha martin martina marvin mathias matthias max maximilian
mehmet melanie merve mia michael michaela michelle mila milan mohamed mohammed monika moritz
mustafa nadine natalia natalie nico nicole niklas nils nina noah norbert olaf olga oliver
olivia oskar pascal patrick paul paula peter petra philipp pia rainer ralf ralph regina
reinhard renate robert roland romy ronja rudolf ruth sabine sabrina samuel sandra sara sarah
sascha sebastian selin sergej silke simon simone sofia sophia sophie stefan stefanie steffen
stephan stephanie susanne svea sven svenja swen tanja theo thomas thorsten tim timo tobias tom
torsten ulla ulrich ulrike ursula ute uwe valentina vanessa vera viktor viktoria volker walter
waltraud werner wilhelm wolfgang yasemin yusuf zeynep
""".split())
# Capitalised words that follow a salutation, "ich bin" or a closing formula without being a
# name: titles and roles ("Herr Bürgermeister"), pronouns and sentence starts ("LG Ihr Team").
_NOT_NAMES = frozenset("""
bürgermeister bürgermeisterin oberbürgermeister oberbürgermeisterin doktor pfarrer pfarrerin
kollege kollegin nachbar nachbarin minister ministerin direktor direktorin präsident präsidentin
professor professorin landrat landrätin amtsleiter amtsleiterin sachbearbeiter sachbearbeiterin
rechtsanwalt rechtsanwältin anwalt anwältin notar notarin vorsitzende vorsitzender stadtrat
stadträtin ortsvorsteher ortsvorsteherin abgeordnete abgeordneter lehrer lehrerin
ich du er sie es wir ihr ihnen ihre ihrer euch euer eure dir mein meine unser unsere alle allen
der die das den dem des ein eine und oder aber hier bitte danke dank vielen hallo guten team
stadt gemeinde verwaltung stadtverwaltung rathaus amt bürgerbüro
""".split())
# Lower-case particles of surnames: "von Bülow", "von der Leyen", "de Vries", "van Dijk".
_FIRST_PARTICLES = frozenset({"von", "vom", "van", "de", "zu", "al", "el", "da", "di", "du",
                              "la", "le", "ten", "ter", "bin", "ibn"})
_PARTICLES = _FIRST_PARTICLES | {"der", "den"}
_TITLES_RE = re.compile(rf"(?:{_SP}*(?:Dr\.|Prof\.|Dipl\.-\w+\.|med\.|rer\.|nat\.|Mag\.))*")
_TOKEN_RE = re.compile(rf"{_SP}*([^\W\d_][\w'’]*(?:-[^\W\d_][\w'’]*)*)")
# Salutations; "Familie" signs letters ("Viele Grüße Familie Schröder").
_SALUTATION_RE = re.compile(r"(?<![\w-])(?:Herrn?|Frau|Hr\.|Hrn\.|Fr\.|Familie|Fam\.)(?![\w-])")
# Self-introductions and form fields: whatever capitalised words follow are the name.
_INTRODUCTION_RE = re.compile(
    r"(?i:\bmein(?:\s+vollständiger)?\s+name\s+(?:ist|lautet)|\bich\s+hei(?:ß|ss)e|"
    r"\b(?:vor|nach|familien|geburts)?name(?:\s+(?:des|der|meines|meiner)\s+\w+)?\s*:)"
)
# "Ich bin Anna (Schmidt)", "hier spricht Anna", "Ich, Anna Schmidt, …": only with a known first
# name, since "Ich bin Rentnerin" has the same shape.
_SELF_RE = re.compile(r"(?i:\bich\s+bin|\bhier\s+(?:ist|spricht|schreibt)|\bich\s*,)")
# "meine Tochter Lena", "mein Sohn heißt Paul": also only with a known first name.
_FAMILY_RE = re.compile(
    r"(?i:\b(?:Sohn|Tochter|Kind|Enkel|Enkelin|Mann|Ehemann|Ehefrau|Partner|Partnerin|Mutter|"
    r"Vater|Bruder|Schwester|Oma|Opa)\b,?(?:\s+heißt)?)"
)
# Closing formulas at the start of the text or a line, or after a sentence end.
_SIGN_OFF_RE = re.compile(
    r"(?:^|(?<=[.!?\n]))\s*(?:Mit\s+freundlichen\s+Grüßen|Freundliche\s+Grüße|"
    r"(?:Viele|Liebe|Beste|Herzliche|Schöne|Sonnige)\s+Grüße|Gruß|Grüße|MfG|LG|VG)\s*,?",
    re.MULTILINE,
)
_LINE_END_RE = re.compile(rf"{_SP}*[.!]?{_SP}*(?:\n|$)")
# Lower-case words that cannot be a name typed in lower case after "ich heiße".
_EVERYDAY_WORDS = frozenset("""
und oder aber ich bin du sie er es wir ihr mich mir mein meine aus in im am an auf bei mit von
vom zu zur zum nach für wohne komme habe hätte möchte will wollte brauche frage suche
falsch richtig nicht auch noch schon so wie jetzt seit hier da dort eine einen ein der die das
den dem des wurde wird ist war
""".split())
# "Maria Schulz geb. Meier": the birth name.
_MAIDEN_RE = re.compile(r"\bgeb\.(?=\s*[A-ZÄÖÜ])")
_ANY_WORD_RE = re.compile(r"(?<![\w-])[^\W\d_][\w'’-]*")


def _is_name_word(word: str) -> bool:
    return (word[0].isupper() and word.lower() not in _NOT_NAMES
            and _SALUTATION_RE.fullmatch(word) is None)


def _name_at(text: str, position: int, free_words: int, first_must_be_known: bool,
             lower_case: bool = False) -> tuple[int, int] | None:
    """The name starting at `position`, as (start, end), or None.

    Up to three capitalised words. The first `free_words` are taken as they come (after an
    explicit "mein Name ist" two, after a salutation one); beyond that a word is taken only after
    a known first name ("Frau Ingrid Weber", but "Frau Schneider Bescheid geben" stops at
    Schneider). Surname particles ("von der Leyen") are kept when a capitalised word follows.
    With `lower_case` (after "ich heiße"), a name typed in lower case counts as well
    ("ich heiße max mustermann"), as long as its words are not everyday words.
    """
    words: list[tuple[int, int, str]] = []
    cursor = position
    while len(words) < 6:
        m = _TOKEN_RE.match(text, cursor)
        if m is None:
            break
        words.append((m.start(1), m.end(1), m.group(1)))
        cursor = m.end()
    start: int | None = None
    end = position
    taken = 0
    previous_known = False
    index = 0
    while index < len(words) and taken < 3:
        word_start, word_end, word = words[index]
        lower = word.lower()
        if lower_case and word.islower() and taken < free_words and lower not in _EVERYDAY_WORDS \
                and (taken == 0 or text[start or 0].islower()):
            start = word_start if start is None else start
            end = word_end
            taken += 1
            index += 1
            continue
        if not word[0].isupper():
            # Particles only before a surname: at the start or after a known first name.
            if lower not in _FIRST_PARTICLES or first_must_be_known and taken == 0:
                break
            if taken and not previous_known:
                break
            following = index + 1
            while following < len(words) and words[following][2].lower() in _PARTICLES \
                    and following - index < 2:
                following += 1
            if following >= len(words) or not _is_name_word(words[following][2]):
                break
            start = word_start if start is None else start
            end = words[following][1]
            taken += 1
            break  # the surname ends the name
        if not _is_name_word(word):
            break
        known = lower in FIRST_NAMES
        if taken == 0 and first_must_be_known and not known:
            return None
        if taken >= free_words and not previous_known:
            break
        start = word_start if start is None else start
        end = word_end
        taken += 1
        previous_known = known
        index += 1
    if start is None:
        return None
    return start, end


def _names(text: str) -> Iterator[Span]:
    for m in _SALUTATION_RE.finditer(text):
        titles = _TITLES_RE.match(text, m.end())
        found = _name_at(text, titles.end() if titles else m.end(), 1, False)
        if found:
            yield Span("NAME", *found)
    for m in _INTRODUCTION_RE.finditer(text):
        found = _name_at(text, m.end(), 2, False, lower_case=True)
        if found:
            yield Span("NAME", *found)
    for pattern in (_SELF_RE, _FAMILY_RE):
        for m in pattern.finditer(text):
            found = _name_at(text, m.end(), 1, True)
            if found:
                yield Span("NAME", *found)
    for m in _SIGN_OFF_RE.finditer(text):
        found = _name_at(text, m.end(), 2, False)
        # A signature ends its line: "LG Sandra", but not "LG Berlin hat entschieden".
        if found and _LINE_END_RE.match(text, found[1]):
            yield Span("NAME", *found)
    for m in _MAIDEN_RE.finditer(text):
        found = _name_at(text, m.end(), 1, False)
        if found:
            yield Span("NAME", *found)
    # A known first name and a surname anywhere: "Sabine Krüger".
    for m in _ANY_WORD_RE.finditer(text):
        if m.group()[0].isupper() and m.group().lower() in FIRST_NAMES:
            found = _name_at(text, m.start(), 1, True)
            if found and found[1] > m.end():
                yield Span("NAME", *found)


_DETECTORS: tuple[Callable[[str], Iterator[Span]], ...] = (
    _emails, _ips, _ibans, _cards, _tax_numbers, _phones, _phones_after_keyword, _birth_dates,
    _plates, _addresses, _names,
)
