"""Email out: SMTP through smtplib, or the console backend when no ``SMTP_HOST`` is set.

Settings: ``SMTP_HOST``, ``SMTP_PORT`` (25), ``SMTP_USERNAME``/``SMTP_PASSWORD`` (login only when
a username is set), ``SMTP_STARTTLS`` (upgrade the connection before logging in; required by
most providers on port 587), ``SMTP_TIMEOUT_SECONDS``, ``MAIL_FROM``. The message is
multipart/alternative (text, then HTML) with the HTML and its chart in multipart/related, so the
chart shows inline without loading anything from the internet.
"""
from __future__ import annotations

import smtplib
import ssl
import sys
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Mapping, Protocol, Sequence, TextIO


class MailBackend(Protocol):
    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, Any]:
        """Send, or raise; returns the recipients the server refused while accepting the others."""


def build_message(*, subject: str, sender: str, recipients: Sequence[str], html: str, text: str,
                  images: Mapping[str, tuple[str, bytes]], message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id  # stable per school-week: a resend is recognisably the same digest
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    html_part = message.get_payload()[1]
    for key, (cid, png) in images.items():
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{key}.png",
                              disposition="inline")
    return message


class SmtpBackend:
    def __init__(self, host: str, port: int = 25, username: str | None = None, password: str | None = None,
                 starttls: bool = False, timeout: float = 30.0):
        self.host, self.port, self.username, self.password = host, port, username, password
        self.starttls, self.timeout = starttls, timeout

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, Any]:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
            # every recipient refused raises SMTPRecipientsRefused; some refused returns them (the
            # others have the message: sending again would give them a second copy)
            return dict(smtp.send_message(message, to_addrs=list(recipients)))


class ConsoleBackend:
    """The embedded default: prints the headers and the plain-text part instead of sending."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, Any]:
        out = self.stream or sys.stdout
        text_part = message.get_body(preferencelist=("plain",))
        print(f"--- email (console backend: SMTP_HOST not set) to {', '.join(recipients)}", file=out)
        for header in ("From", "Subject", "Message-ID"):
            print(f"{header}: {message[header]}", file=out)
        print("", file=out)
        print(text_part.get_content() if text_part is not None else "", file=out)
        print("--- end of email", file=out)
        return {}


def backend_from_config(config: Mapping[str, Any]) -> MailBackend:
    host = config.get("SMTP_HOST")
    if not host:
        return ConsoleBackend()
    return SmtpBackend(host, int(config.get("SMTP_PORT") or 25), config.get("SMTP_USERNAME"),
                       config.get("SMTP_PASSWORD"), bool(config.get("SMTP_STARTTLS")),
                       float(config.get("SMTP_TIMEOUT_SECONDS") or 30.0))
