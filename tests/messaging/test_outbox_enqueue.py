"""The outbox contract every feature relies on: one row per idempotency key, opted-out numbers
blocked at enqueue."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from outreach.extensions import db
from outreach.messaging import outbox
from outreach.messaging.compose import OutgoingMessage
from outreach.messaging.models import OptOut, OutboxMessage
from tests.factories import make_contact, make_pupil, make_school


def _message(school_id: int, contact_id: int, phone: str, key: str) -> OutgoingMessage:
    return OutgoingMessage(school_id=school_id, contact_id=contact_id, phone=phone, body="Hello", language="en",
                           purpose="test", pupil_ids=(1,), not_before_utc=datetime(2026, 1, 5, 9, tzinfo=timezone.utc),
                           idempotency_key=key)


def test_same_key_twice_makes_one_row():
    school = make_school()
    contact = make_contact(school, [make_pupil(school)])
    first = outbox.enqueue(_message(school.id, contact.id, contact.phone, "k1"), commit=True)
    again = outbox.enqueue(_message(school.id, contact.id, contact.phone, "k1"), commit=True)
    assert first.id == again.id
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert first.status == "scheduled"
    assert first.not_before.replace(tzinfo=timezone.utc) == datetime(2026, 1, 5, 9, tzinfo=timezone.utc)


def test_opted_out_number_is_blocked_not_dropped():
    school = make_school()
    contact = make_contact(school, [make_pupil(school)], phone="+447700900123")
    db.session.add(OptOut(phone="+447700900123", school_id=school.id, keyword="STOP"))
    db.session.commit()
    assert outbox.is_opted_out(school.id, "+447700900123")
    rows = outbox.enqueue_many([_message(school.id, contact.id, "+447700900123", "a"),
                                _message(school.id, contact.id, "+447700900124", "b")], commit=True)
    assert [r.status for r in rows] == ["blocked", "scheduled"]
