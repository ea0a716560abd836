"""The outbox: the one way any feature sends an SMS.

Features build ``OutgoingMessage`` values (``outreach.messaging.compose`` does it for templates
and audiences) and call ``enqueue``: one row per idempotency key, however often it is asked, so
re-running a job or a compose for the same episode never texts a family twice. The sender (run
by the clock) claims due rows, sends them through the gateway and records the Twilio SID in the
same transaction that marks them sent.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from outreach.core.timeutil import ensure_utc, utcnow
from outreach.extensions import db
from outreach.messaging.compose import OutgoingMessage
from outreach.messaging.models import OptOut, OutboxMessage


def is_opted_out(school_id: int | None, phone: str) -> bool:
    """True when ``phone`` replied STOP and has not opted back in (the ``OptOutCheck`` that
    ``compose`` takes). Opt-outs hold for every school: see ``OptOut``."""
    return db.session.get(OptOut, phone) is not None


def opted_out_phones(phones: Iterable[str]) -> set[str]:
    wanted = sorted(set(phones))
    if not wanted:
        return set()
    return set(db.session.scalars(select(OptOut.phone).where(OptOut.phone.in_(wanted))))


def enqueue(message: OutgoingMessage, *, created_by: str | None = None, commit: bool = False) -> OutboxMessage:
    """Store ``message`` as an outbox row (or return the row its idempotency key already made).

    A number that has opted out gets a ``blocked`` row: kept, so the outbox page shows why a
    family was not texted, and never sent. Runs in the caller's transaction unless ``commit``."""
    return enqueue_many([message], created_by=created_by, commit=commit)[0]


def enqueue_many(messages: Iterable[OutgoingMessage], *, created_by: str | None = None,
                 commit: bool = False) -> list[OutboxMessage]:
    """``enqueue`` for a batch: one INSERT ... ON CONFLICT DO NOTHING, then one read of the rows.
    Returns the rows in the order of ``messages``."""
    messages = list(messages)
    if not messages:
        return []
    blocked = opted_out_phones(m.phone for m in messages)
    now = utcnow()
    values = [{
        "school_id": m.school_id, "contact_id": m.contact_id, "phone": m.phone, "body": m.body,
        "language": m.language, "purpose": m.purpose, "pupil_ids": list(m.pupil_ids),
        "not_before": ensure_utc(m.not_before_utc), "idempotency_key": m.idempotency_key,
        "status": "blocked" if m.phone in blocked else "scheduled",
        "error_message": "number opted out (replied STOP)" if m.phone in blocked else None,
        "attempts": 0, "created_by": created_by, "created_at": now, "updated_at": now,
    } for m in messages]
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(OutboxMessage).values(values).on_conflict_do_nothing(index_elements=["idempotency_key"])
    db.session.execute(stmt)
    keys = [m.idempotency_key for m in messages]
    rows = {r.idempotency_key: r for r in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key.in_(keys)))}
    if commit:
        db.session.commit()
    return [rows[k] for k in keys]
