"""Outgoing e-mail against a real SMTP server on loopback (aiosmtpd): what arrives is what was
meant, umlauts included; bad addresses and header injection never reach the server; every
failure is a MailError in German that names the recipient."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from pipelines.mail import MailError, mail_enabled, send_mail, valid_address
from pipelines.settings import Settings
from tests.conftest import closed_port_url
from tests.support.smtp import SMTPTestServer

CITIZEN = "erika.mustermann@example.de"
OFFICE = "buergerservice@musterstadt.example"
SUBJECT = "Ihre Anfrage zur Hundesteuer – Rückfrage vom Bürgerbüro"
BODY = (
    "Guten Tag Frau Mustermann,\n\n"
    "vielen Dank für Ihre Nachricht. Die Hundesteuer beträgt 96 € im Jahr; "
    "für einen zweiten Hund gilt ein höherer Satz. Grüße aus Übersee-Straße 5, Löwenstadt.\n\n"
    "Mit freundlichen Grüßen\nIhr Bürgerbüro ÄÖÜäöüß\n"
)

MakeSettings = Callable[..., Settings]


def address_of_length(length: int) -> str:
    """A well-formed address of exactly `length` characters (64-character local part)."""
    domain_length = length - 65
    labels = ["d" * 63, "d" * 63, "d" * (domain_length - 63 - 63 - 2 - 3), "de"]
    address = "x" * 64 + "@" + ".".join(labels)
    assert len(address) == length
    return address


def mail_settings(
    make_settings: MakeSettings, server: SMTPTestServer, **overrides: object
) -> Settings:
    return make_settings(smtp_host=server.host, smtp_port=server.port, **overrides)


def test_umlauts_arrive_intact_with_from_to_and_reply_to(
    smtp_server: SMTPTestServer, make_settings: MakeSettings
) -> None:
    settings = mail_settings(make_settings, smtp_server)

    send_mail(settings, CITIZEN, SUBJECT, BODY, reply_to=OFFICE)

    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == SUBJECT
    assert message.get_content().replace("\r\n", "\n") == BODY  # SMTP lines end in CRLF
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message["From"] == "chatwerkstatt@localhost"
    assert message["To"] == CITIZEN
    assert message["Reply-To"] == OFFICE
    assert message["Date"] is not None and message["Date"].datetime is not None
    assert re.fullmatch(r"<[^<>@\s]+@localhost>", str(message["Message-ID"]))
    [received] = smtp_server.received
    assert received.mail_from == "chatwerkstatt@localhost"
    assert received.rcpt_tos == [CITIZEN]  # Reply-To is no recipient
    # 7-bit on the wire, so servers without 8BITMIME/SMTPUTF8 pass the umlauts through too.
    received.raw.decode("ascii")
    assert "Bürgerbüro".encode() not in received.raw


def test_sender_with_display_name_and_no_reply_to(
    smtp_server: SMTPTestServer, make_settings: MakeSettings
) -> None:
    sender = f"Bürgerbüro Musterstadt <{OFFICE}>"
    settings = mail_settings(make_settings, smtp_server, smtp_sender=sender)

    send_mail(settings, CITIZEN, "Neue Anfrage", "Bitte übernehmen.\n")

    [message] = smtp_server.wait_for(1)
    [address] = message["From"].addresses
    assert address.display_name == "Bürgerbüro Musterstadt"
    assert address.addr_spec == OFFICE
    assert message["Reply-To"] is None
    assert message["Message-ID"].endswith("@musterstadt.example>")
    assert message.get_content() == "Bitte übernehmen.\r\n"
    [received] = smtp_server.received
    assert received.mail_from == OFFICE
    received.raw.decode("ascii")  # short lines too: no raw 8-bit on the wire


@pytest.mark.parametrize("host", [None, "", "   "])
def test_mail_off_is_a_german_error(make_settings: MakeSettings, host: str | None) -> None:
    settings = make_settings(smtp_host=host)

    assert mail_enabled(settings) is False
    with pytest.raises(MailError) as caught:
        send_mail(settings, CITIZEN, SUBJECT, BODY)
    assert str(caught.value) == (
        "E-Mail-Versand ist nicht eingerichtet (CHATWERKSTATT_SMTP_HOST fehlt)."
    )


def test_mail_on_when_host_set(make_settings: MakeSettings) -> None:
    assert mail_enabled(make_settings(smtp_host="mail.musterstadt.example")) is True


@pytest.mark.parametrize(
    "recipient",
    [
        "a@b.de\nBcc: x@y.de",
        "a@b.de\r\nBcc: x@y.de",
        "a@b.de, x@y.de",
        "a@b.de,x@y.de",
        "Erika <a@b.de>",
        "keine-adresse",
        "",
    ],
)
def test_invalid_recipient_is_refused_and_nothing_sent(
    smtp_server: SMTPTestServer, make_settings: MakeSettings, recipient: str
) -> None:
    settings = mail_settings(make_settings, smtp_server)

    with pytest.raises(MailError, match="ungültige Empfängeradresse") as caught:
        send_mail(settings, recipient, SUBJECT, BODY)
    assert "\n" not in str(caught.value) and "\r" not in str(caught.value)
    assert caught.value.recipient == recipient

    # The server works: the next, valid mail is the only one it ever got.
    send_mail(settings, CITIZEN, "Kontrolle", "ok\n")
    smtp_server.wait_for(1)
    assert [mail.rcpt_tos for mail in smtp_server.received] == [[CITIZEN]]


def test_header_injection_error_names_the_recipient_visibly(
    smtp_server: SMTPTestServer, make_settings: MakeSettings
) -> None:
    settings = mail_settings(make_settings, smtp_server)

    with pytest.raises(MailError) as caught:
        send_mail(settings, "a@b.de\nBcc: x@y.de", SUBJECT, BODY)
    assert str(caught.value) == (
        "E-Mail an a@b.de\\nBcc: x@y.de konnte nicht gesendet werden: ungültige Empfängeradresse."
    )
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    ("reply_to", "subject", "reason"),
    [
        (f"{OFFICE}\nBcc: x@y.de", SUBJECT, "ungültige Antwortadresse"),
        ("", SUBJECT, "ungültige Antwortadresse"),
        (OFFICE, "Anfrage\nBcc: x@y.de", "Betreff enthält einen Zeilenumbruch"),
        (OFFICE, "Anfrage\rBcc: x@y.de", "Betreff enthält einen Zeilenumbruch"),
    ],
)
def test_injection_via_reply_to_or_subject_is_refused(
    smtp_server: SMTPTestServer,
    make_settings: MakeSettings,
    reply_to: str,
    subject: str,
    reason: str,
) -> None:
    settings = mail_settings(make_settings, smtp_server)

    with pytest.raises(MailError, match=reason) as caught:
        send_mail(settings, CITIZEN, subject, BODY, reply_to=reply_to)
    assert str(caught.value).startswith(f"E-Mail an {CITIZEN} konnte nicht gesendet werden: ")
    assert smtp_server.messages == []


def test_unreachable_server_names_the_recipient(make_settings: MakeSettings) -> None:
    port = int(closed_port_url().rsplit(":", 1)[1])
    settings = make_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=2.0)

    with pytest.raises(MailError) as caught:
        send_mail(settings, CITIZEN, SUBJECT, BODY)
    assert str(caught.value).startswith(
        f"E-Mail an {CITIZEN} konnte nicht gesendet werden: "
        f"Server 127.0.0.1:{port} nicht erreichbar ("
    )
    assert caught.value.recipient == CITIZEN
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"smtp_security": "starttls"}, "unterstützt das nicht"),
        ({"smtp_security": "ssl"}, "TLS-Verbindung zu Server"),
        ({"smtp_username": "amt", "smtp_password": "geheim-123"}, "unterstützt das nicht"),
    ],
)
def test_security_and_login_settings_are_honoured(
    smtp_server: SMTPTestServer,
    make_settings: MakeSettings,
    overrides: dict[str, object],
    reason: str,
) -> None:
    """The test server offers neither TLS nor AUTH, so each setting must make sending fail."""
    settings = mail_settings(make_settings, smtp_server, smtp_timeout=3.0, **overrides)

    with pytest.raises(MailError, match=reason) as caught:
        send_mail(settings, CITIZEN, SUBJECT, BODY)
    assert str(caught.value).startswith(f"E-Mail an {CITIZEN} konnte nicht gesendet werden: ")
    assert "geheim-123" not in str(caught.value)
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    "address",
    [
        "a@b.de",
        CITIZEN,
        "vorname.nachname+chat@stadt.musterstadt.de",
        "info@xn--mnchen-3ya.de",
        "bürger@münchen.de",
        address_of_length(254),
    ],
)
def test_valid_addresses(address: str) -> None:
    assert valid_address(address) is True


@pytest.mark.parametrize(
    "address",
    [
        "",
        "keine-adresse",
        "a@b",
        "a@@b.de",
        "a@b@c.de",
        "@b.de",
        "a@.de",
        "a@b.",
        "a@b..de",
        "a@-b.de",
        ".a@b.de",
        "a.@b.de",
        "a..b@c.de",
        "a b@c.de",
        "a@b.de ",
        "a@b.de\n",
        "a@b.de\r",
        "a@b.de\nBcc: x@y.de",
        "a@b.de\tx",
        "a@b.de\x00",
        "a@b.de,x@y.de",
        "a@b.de;x@y.de",
        "<a@b.de>",
        '"a"@b.de',
        "x" * 65 + "@b.de",
        address_of_length(255),
        "a@" + "d" * 64 + ".de",  # a DNS label has at most 63 characters
    ],
)
def test_invalid_addresses(address: str) -> None:
    assert valid_address(address) is False
