"""Inbound SMS dispatch: how features (walking-bus ambassadors, later others) answer replies.

The Twilio webhook verifies the signature, records the message once (by MessageSid) and handles
the carrier words itself (STOP, START, HELP ...). Everything else is offered to the registered
handlers in order of ``priority``; the first that returns an ``InboundOutcome`` owns the reply.
A message no handler claims goes to the officer inbox.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable


@dataclass(frozen=True)
class InboundSms:
    """One received text, already matched to what we know of its sender."""

    message_sid: str
    phone: str  # E.164, the sender
    body: str
    received_at: datetime  # UTC
    school_ids: tuple[int, ...] = ()  # schools whose contacts have this number
    contact_ids: tuple[int, ...] = ()  # contacts with this number


@dataclass(frozen=True)
class InboundOutcome:
    """What a handler did with a message.

    ``reply``: the text to answer with (sent through the outbox), or None for no answer.
    ``to_inbox``: also put the message in the officer inbox (e.g. not understood, or an
    officer must act); ``summary`` says in a few words what happened, for the inbox and logs
    (no pupil names). ``school_id`` and ``pupil_ids`` link the inbox entry."""

    handler: str
    reply: str | None = None
    to_inbox: bool = False
    summary: str = ""
    school_id: int | None = None
    contact_id: int | None = None
    pupil_ids: tuple[int, ...] = field(default_factory=tuple)


InboundHandler = Callable[[InboundSms], "InboundOutcome | None"]

_HANDLERS: list[tuple[int, str, InboundHandler]] = []


def register_inbound_handler(name: str, handler: InboundHandler, priority: int = 100) -> None:
    """Add a handler (idempotent by name); lower ``priority`` is asked first."""
    global _HANDLERS
    _HANDLERS = [h for h in _HANDLERS if h[1] != name] + [(priority, name, handler)]
    _HANDLERS.sort(key=lambda h: (h[0], h[1]))


def dispatch(sms: InboundSms) -> InboundOutcome | None:
    """The first registered handler's outcome, or None (then: officer inbox)."""
    for _, _, handler in _HANDLERS:
        outcome = handler(sms)
        if outcome is not None:
            return outcome
    return None
