"""Outgoing e-mail over SMTP: replies to citizens and notices to offices (human handoff).

Plain UTF-8 text only. Every failure, including "e-mail is not set up", is a MailError with a
German message an operator can act on; callers never see smtplib's exceptions.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from pipelines.settings import Settings

NOT_CONFIGURED = "E-Mail-Versand ist nicht eingerichtet (CHATWERKSTATT_SMTP_HOST fehlt)."
MAX_ADDRESS_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64
MAX_DOMAIN_LABEL_LENGTH = 63
# Characters that are legal only inside quoted local parts or display names; a plain address
# with them is almost always a typo or an attempt to smuggle in a second address.
_FORBIDDEN_IN_ADDRESS = frozenset('<>()[]\\,;:"')
# Long enough to recognise an address in an error message, short enough for one log line.
_SHOWN_ADDRESS_LENGTH = 100


class MailError(RuntimeError):
    """An e-mail was not sent. The message is German and meant for the operator."""

    def __init__(self, message: str, recipient: str | None = None) -> None:
        super().__init__(message)
        self.recipient = recipient

    @classmethod
    def for_recipient(cls, recipient: str, reason: str) -> MailError:
        reason = reason.rstrip(". ")
        text = f"E-Mail an {_shown(recipient)} konnte nicht gesendet werden: {reason}."
        return cls(text, recipient)


def mail_enabled(settings: Settings) -> bool:
    """Whether an SMTP server is configured (CHATWERKSTATT_SMTP_HOST)."""
    return bool(settings.smtp_host and settings.smtp_host.strip())


def valid_address(address: str) -> bool:
    """A practical check of a bare address ("name@amt.example.de"), no display names.

    Rejects anything that could add a header or a second recipient (line breaks, commas,
    angle brackets), so a checked address is safe to put into To or Reply-To.
    """
    if not 3 <= len(address) <= MAX_ADDRESS_LENGTH:
        return False
    if any(ch.isspace() or not ch.isprintable() or ch in _FORBIDDEN_IN_ADDRESS for ch in address):
        return False
    if address.count("@") != 1:
        return False
    local, domain = address.split("@")
    if not local or len(local) > MAX_LOCAL_PART_LENGTH:
        return False
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    labels = domain.split(".")
    if len(labels) < 2:
        return False
    return all(
        0 < len(label) <= MAX_DOMAIN_LABEL_LENGTH and label[0] != "-" and label[-1] != "-"
        for label in labels
    )


def send_mail(
    settings: Settings, to: str, subject: str, body: str, reply_to: str | None = None
) -> None:
    """Send one plain-text mail to one recipient; raises MailError if it was not accepted."""
    if not mail_enabled(settings):
        raise MailError(NOT_CONFIGURED, to)
    if not valid_address(to):
        raise MailError.for_recipient(to, "ungültige Empfängeradresse")
    if reply_to is not None and not valid_address(reply_to):
        raise MailError.for_recipient(to, f"ungültige Antwortadresse {_shown(reply_to)}")
    if "\r" in subject or "\n" in subject:
        raise MailError.for_recipient(to, "der Betreff enthält einen Zeilenumbruch")
    message = _build_message(settings, to, subject, body, reply_to)
    _deliver(settings, message, to)


def _build_message(
    settings: Settings, to: str, subject: str, body: str, reply_to: str | None
) -> EmailMessage:
    message = EmailMessage()  # policy.default: RFC 2047 for non-ASCII headers
    try:
        message["From"] = settings.smtp_sender
    except ValueError as exc:  # a line break in the configured sender
        raise MailError.for_recipient(
            to, f"Absenderadresse ungültig (CHATWERKSTATT_SMTP_SENDER: {exc})"
        ) from exc
    message["To"] = to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    # An explicit domain: make_msgid() would otherwise ask DNS for this host's name.
    sender_domain = parseaddr(settings.smtp_sender)[1].rpartition("@")[2] or "chatwerkstatt.invalid"
    message["Message-ID"] = make_msgid(domain=sender_domain)
    # Quoted-printable keeps the wire 7-bit, so umlauts survive servers without 8BITMIME.
    message.set_content(body, subtype="plain", charset="utf-8", cte="quoted-printable")
    return message


def _deliver(settings: Settings, message: EmailMessage, to: str) -> None:
    host = (settings.smtp_host or "").strip()
    port, timeout = settings.smtp_port, settings.smtp_timeout
    try:
        client: smtplib.SMTP
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError.for_recipient(to, _reason(exc, settings, connected=False)) from exc

    sent = False
    try:
        if settings.smtp_security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        # Envelope sender from the From header (a display name in smtp_sender is fine).
        client.send_message(message, to_addrs=[to])
        sent = True
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError.for_recipient(to, _reason(exc, settings, connected=True)) from exc
    finally:
        _close(client, polite=sent)


def _close(client: smtplib.SMTP, polite: bool) -> None:
    """QUIT after a delivered mail (its failure no longer matters); just hang up otherwise."""
    if polite:
        try:
            client.quit()
            return
        except (smtplib.SMTPException, OSError):
            pass
    client.close()


def _reason(exc: BaseException, settings: Settings, connected: bool) -> str:
    """A German reason for an smtplib/socket failure; never contains the password."""
    server = _server(settings)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"Anmeldung als {settings.smtp_username} an {server} abgelehnt ({_reply(exc)})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = "; ".join(f"{code} {_text(text)}" for code, text in exc.recipients.values())
        return f"Empfänger von {server} abgelehnt ({replies})"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"Absender {settings.smtp_sender} von {server} abgelehnt ({_reply(exc)})"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{server} unterstützt das nicht ({exc})"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{server} hat die Verbindung beendet"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{server} antwortete mit Fehler ({_reply(exc)})"
    if isinstance(exc, smtplib.SMTPException):
        return f"Fehler im Gespräch mit {server} ({exc})"
    if isinstance(exc, TimeoutError):
        return f"{server} antwortet nicht (keine Antwort nach {settings.smtp_timeout:g} s)"
    if isinstance(exc, ssl.SSLError):
        detail = getattr(exc, "verify_message", None) or exc.reason or str(exc)
        return f"TLS-Verbindung zu {server} fehlgeschlagen ({detail})"
    if isinstance(exc, socket.gaierror):
        return f"Server {settings.smtp_host} nicht gefunden ({exc.strerror or exc})"
    if isinstance(exc, OSError):
        detail = exc.strerror or str(exc) or type(exc).__name__
        if connected:
            return f"Verbindung zu {server} abgebrochen ({detail})"
        return f"{server} nicht erreichbar ({detail})"
    return str(exc) or type(exc).__name__


def _server(settings: Settings) -> str:
    host = (settings.smtp_host or "").strip()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"Server {host}:{settings.smtp_port}"


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_text(exc.smtp_error)}"


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())


def _shown(address: str) -> str:
    """The address as it may appear in a message: line breaks visible, not acted on."""
    shown = address.replace("\r", "\\r").replace("\n", "\\n")
    shown = "".join(ch if ch.isprintable() else "?" for ch in shown)
    if len(shown) > _SHOWN_ADDRESS_LENGTH:
        shown = shown[: _SHOWN_ADDRESS_LENGTH - 1] + "…"
    return shown
