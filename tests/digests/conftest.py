"""A school with constructed registers, a head, and a real SMTP server on loopback (aiosmtpd)."""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Iterator

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from outreach.attendance import rollups
from outreach.core.accounts import services as accounts
from outreach.extensions import db
from outreach.schools.models import Pupil, School
from tests.dashboard.world import PASSWORD, fast_password_hashing
from tests.factories import add_marks, make_pupil, make_school

PUBLIC = "https://outreach.example.org"
WEEK = "2026-W47"
MONDAY = date(2026, 11, 16)  # Monday of 2026-W47
LAST_MONDAY = MONDAY - timedelta(days=7)
HEAD_EMAIL = "head@ash.example.org"

# Per pupil, the sessions of each week (Mon AM .. Fri PM, 10 sessions): codes as the MIS sends them.
ALL_PRESENT = ["/", "\\"] * 5


def week_codes(absences: dict[int, str]) -> list[str]:
    """ALL_PRESENT with the sessions at the given indexes replaced by absence codes."""
    codes = list(ALL_PRESENT)
    for i, code in absences.items():
        codes[i] = code
    return codes


# last week, this week: p1 always in; p2 one illness this week (PA this week only); p3 five
# unauthorised this week (SA this week, PA for the year: newly PA); p4 two unauthorised last week
# (PA before and after: not new); p5 two illness this week (newly PA for the year).
REGISTERS: dict[str, tuple[list[str], list[str]]] = {
    "p1": (ALL_PRESENT, ALL_PRESENT),
    "p2": (ALL_PRESENT, week_codes({4: "I"})),
    "p3": (ALL_PRESENT, week_codes({0: "O", 1: "O", 2: "O", 3: "O", 4: "O"})),
    "p4": (week_codes({8: "O", 9: "O"}), ALL_PRESENT),
    "p5": (ALL_PRESENT, week_codes({2: "I", 3: "I"})),
}


def session_marks(monday: date, codes: list[str]) -> list[tuple[date, str, str]]:
    return [(monday + timedelta(days=i // 2), "AM" if i % 2 == 0 else "PM", code) for i, code in enumerate(codes)]


@dataclass
class DigestWorld:
    school: School
    pupils: dict[str, Pupil]
    head_email: str = HEAD_EMAIL
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture()
def digest_world(app: Flask) -> DigestWorld:
    with fast_password_hashing(app):
        school = make_school(urn="100001", name="Ash Primary", phase="primary")
        pupils = {}
        for key, (last, this) in REGISTERS.items():
            pupil = make_pupil(school, year_group="4", forename=f"Kid{key[1]}", surname="Example",
                               admission_date=date(2026, 9, 1))
            add_marks(pupil, session_marks(LAST_MONDAY, last) + session_marks(MONDAY, this))
            pupils[key] = pupil
        rollups.refresh(db.session, school.id, LAST_MONDAY, MONDAY + timedelta(days=6))
        db.session.commit()
        accounts.create_user(HEAD_EMAIL, "head", PASSWORD, school_urns=[school.urn], name="Ash Head")
    return DigestWorld(school, pupils)


class _Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: _Inbox

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.original_content, policy=policy.default) for e in self.inbox.envelopes]  # type: ignore[misc]

    def recipients(self, index: int = 0) -> list[str]:
        return list(self.inbox.envelopes[index].rcpt_tos)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def smtp_server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 and the app configured to send through it."""
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_USERNAME": None, "SMTP_STARTTLS": False,
                       "SMTP_TIMEOUT_SECONDS": 5.0, "MAIL_FROM": "digest@outreach.example.org",
                       "OUTREACH_PUBLIC_BASE_URL": PUBLIC}.items():
        monkeypatch.setitem(app.config, key, value)
    try:
        yield SmtpServer("127.0.0.1", port, inbox)
    finally:
        controller.stop()
        time.sleep(0.01)
