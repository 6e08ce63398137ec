"""A real SMTP server on 127.0.0.1 for the e-mail tests (aiosmtpd; load via `pytest_plugins`).

    def test_reply(smtp_server, make_settings):
        send_mail(make_settings(smtp_host=smtp_server.host, smtp_port=smtp_server.port), ...)
        [mail] = smtp_server.wait_for(1)
        assert mail["Subject"] == "Ihre Anfrage"

Messages are parsed with `email.policy.default`, so headers and bodies read back decoded
(umlauts as umlauts, not RFC 2047 or quoted-printable).
"""

from __future__ import annotations

import email
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
_START_ATTEMPTS = 3  # another process may take the free port between probing and binding


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted mail: what the envelope said and what the data was."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class _CollectingHandler:
    """aiosmtpd handler: accepts every mail and keeps it."""

    received: list[ReceivedMail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        mail = ReceivedMail(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            raw=raw,
            message=message,
        )
        with self.lock:
            self.received.append(mail)
        return "250 Message accepted for delivery"


class SMTPTestServer:
    """A running aiosmtpd server plus what it received."""

    def __init__(self, controller: Controller, handler: _CollectingHandler) -> None:
        self._controller = controller
        self._handler = handler
        self.host: str = HOST
        self.port: int = controller.port

    @property
    def received(self) -> list[ReceivedMail]:
        """Every accepted mail with its envelope, oldest first (a copy)."""
        with self._handler.lock:
            return list(self._handler.received)

    @property
    def messages(self) -> list[EmailMessage]:
        """Every accepted mail as parsed message, oldest first (a copy)."""
        return [mail.message for mail in self.received]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until at least `count` mails arrived; return all messages received so far."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages
            if len(messages) >= count:
                return messages
            if time.monotonic() >= deadline:
                subjects = [str(message["Subject"]) for message in messages]
                raise AssertionError(
                    f"SMTP test server {self.host}:{self.port} received {len(messages)} mail(s) "
                    f"within {timeout:g} s, expected {count}; subjects so far: {subjects}"
                )
            time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _start_controller(handler: _CollectingHandler) -> Controller:
    # aiosmtpd 1.4 checks readiness by connecting to the configured port, so port 0 won't do.
    last_error: Exception | None = None
    for _ in range(_START_ATTEMPTS):
        controller = Controller(handler, hostname=HOST, port=_free_port())
        try:
            controller.start()
        except Exception as exc:  # port taken meanwhile: try another
            last_error = exc
            continue
        return controller
    raise RuntimeError(f"SMTP test server did not start: {last_error!r}") from last_error


@contextmanager
def running_smtp_server() -> Iterator[SMTPTestServer]:
    """A real SMTP server on a free loopback port until the context ends (for fixtures of a
    wider scope than one test, e.g. a server subprocess shared by a module)."""
    handler = _CollectingHandler()
    controller = _start_controller(handler)
    try:
        yield SMTPTestServer(controller, handler)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SMTPTestServer]:
    """A real SMTP server on a free loopback port for one test, stopped afterwards."""
    with running_smtp_server() as server:
        yield server
