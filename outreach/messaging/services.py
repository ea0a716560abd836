"""What Twilio's reports and families' replies change: opt-outs, bad numbers, delivery statuses,
the officer inbox. Each function owns its transaction (commits) unless it says otherwise.

Replies (HELP, a feature handler's answer) go through the outbox like every other text, so they
are recorded, rate-limited and never sent twice; being answers to a text just received, they are
exempt from quiet hours (``OutboxMessage.reply_to_sid``).
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from outreach.core.timeutil import ensure_utc, utcnow
from outreach.extensions import db
from outreach.messaging import delivery, inbound
from outreach.messaging.compose import OutgoingMessage
from outreach.messaging.models import InboundMessage, InboxMessage, OptOut, OutboxMessage
from outreach.messaging.outbox import enqueue
from outreach.schools.models import Contact, PupilContact, School

log = logging.getLogger(__name__)

HELP_PURPOSE = "help_reply"
REPLY_PURPOSE = "inbound_reply"


# --- opt-outs and bad numbers ----------------------------------------------------------------

def record_opt_out(phone: str, *, school_id: int | None, keyword: str, message_sid: str | None,
                   now: datetime | None = None) -> int:
    """Record that ``phone`` opted out (kept if it already had) and block its scheduled rows.
    Returns how many rows were blocked. Runs in the caller's transaction."""
    now = now or utcnow()
    if db.session.get(OptOut, phone) is None:
        try:
            with db.session.begin_nested():
                db.session.add(OptOut(phone=phone, school_id=school_id, keyword=keyword[:20],
                                      message_sid=message_sid, created_at=now))
        except IntegrityError:  # a concurrent STOP from the same number recorded it first
            pass
    result = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.phone == phone, OutboxMessage.status == "scheduled")
        .values(status="blocked", error_message="number opted out (replied STOP)", updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def record_opt_in(phone: str) -> bool:
    """Forget ``phone``'s opt-out (it replied START). Rows blocked earlier stay blocked: they were
    about something that has passed. Runs in the caller's transaction."""
    result = db.session.execute(delete(OptOut).where(OptOut.phone == phone).execution_options(synchronize_session=False))
    return bool(result.rowcount)


def mark_number_invalid(phone: str, reason: str, *, error_code: int | None, now: datetime | None = None,
                        except_id: int | None = None) -> int:
    """Twilio says ``phone`` cannot be texted: put the reason on every contact with that number
    (an officer corrects it on the contact page) and fail its other scheduled rows instead of
    sending each one into the same error. Returns the contacts marked. Caller's transaction."""
    now = now or utcnow()
    marked = db.session.execute(
        update(Contact).where(Contact.phone == phone, Contact.phone_invalid_reason.is_(None))
        .values(phone_invalid_reason=reason[:200]).execution_options(synchronize_session=False)).rowcount or 0
    stmt = (update(OutboxMessage).where(OutboxMessage.phone == phone, OutboxMessage.status == "scheduled")
            .values(status="failed", error_code=error_code, error_message=f"number marked invalid: {reason}"[:300],
                    updated_at=now).execution_options(synchronize_session=False))
    if except_id is not None:
        stmt = stmt.where(OutboxMessage.id != except_id)
    db.session.execute(stmt)
    return marked


# --- status callbacks -------------------------------------------------------------------------

@dataclass(frozen=True)
class StatusOutcome:
    outbox_id: int | None
    changed: bool
    note: str


def apply_status_callback(message_sid: str, twilio_status: str, *, error_code: int | None = None,
                          outbox_id: int | None = None, max_attempts: int = 6, retry_base_seconds: float = 30.0,
                          now: datetime | None = None) -> StatusOutcome:
    """Apply one Twilio status report. Safe to replay and to receive out of order: a row only
    moves forward (a late ``sent`` after ``delivered`` changes nothing), and its first final
    status stays. ``outbox_id`` (from the callback URL) finds a row whose sender has not stored
    the SID yet, or died before it could: the SID is stored from here. 30003 (handset
    unreachable) is retried with backoff; a bad-number code marks the contact. Commits."""
    now = now or utcnow()
    query = select(OutboxMessage).with_for_update()
    if outbox_id is not None:
        query = query.where(OutboxMessage.id == outbox_id)
    else:
        query = query.where(OutboxMessage.twilio_sid == message_sid)
    row = db.session.scalar(query)
    if row is None:
        db.session.rollback()
        return StatusOutcome(outbox_id, False, "no such message")
    if row.twilio_sid is None:
        if row.status != "queued" or message_sid in (row.superseded_sids or []):
            db.session.rollback()
            return StatusOutcome(row.id, False, "not an attempt of this row")
        # The sender's answer was not stored (yet): Twilio's word is as good.
        row.twilio_sid, row.status, row.sent_at, row.claimed_by = message_sid, "sent", now, None
    elif row.twilio_sid != message_sid:
        db.session.rollback()
        return StatusOutcome(row.id, False, "callback for an earlier attempt")
    kind = delivery.classify_failure(None, error_code) if error_code else None
    final_failure = twilio_status in ("undelivered", "failed")
    if final_failure and kind is not None and kind.retry and row.status == "sent" and row.attempts < max_attempts:
        row.superseded_sids = list(row.superseded_sids or []) + [message_sid]
        row.twilio_sid = None
        row.status = "scheduled"
        row.twilio_status = twilio_status
        row.error_code = error_code
        row.error_message = f"Twilio {error_code}: will try again"
        row.next_attempt_at = now + delivery.backoff(row.attempts, retry_base_seconds)
        db.session.commit()
        return StatusOutcome(row.id, True, "retry scheduled")
    new = delivery.status_after_callback(row.status, twilio_status)
    if new is None:
        db.session.commit()  # keeps a SID stored above, if any
        return StatusOutcome(row.id, False, f"{twilio_status} after {row.status}: unchanged")
    row.status = new
    row.twilio_status = twilio_status
    if new == "delivered":
        row.delivered_at = now
    if final_failure:
        row.error_code = error_code
        row.error_message = f"Twilio reported {twilio_status}" + (f" ({error_code})" if error_code else "")
        if kind is not None and kind.bad_number:
            mark_number_invalid(row.phone, kind.bad_number, error_code=error_code, now=now, except_id=row.id)
        elif kind is not None and kind.opted_out:
            record_opt_out(row.phone, school_id=row.school_id, keyword=f"TWILIO-{error_code}", message_sid=None, now=now)
    db.session.commit()
    return StatusOutcome(row.id, True, new)


# --- inbound texts ---------------------------------------------------------------------------

@dataclass(frozen=True)
class InboundResult:
    inbound_id: int
    kind: str
    replayed: bool = False
    reply_id: int | None = None  # the outbox row answering it


def _contacts(phone: str) -> list[Contact]:
    return list(db.session.scalars(select(Contact).where(Contact.phone == phone).order_by(Contact.school_id, Contact.id)))


def _pupils_of(contact_ids: Iterable[int]) -> dict[int, list[int]]:
    ids = sorted(set(contact_ids))
    out: dict[int, list[int]] = defaultdict(list)
    if ids:
        for contact_id, pupil_id in db.session.execute(
                select(PupilContact.contact_id, PupilContact.pupil_id).where(PupilContact.contact_id.in_(ids))
                .order_by(PupilContact.pupil_id)):
            out[contact_id].append(pupil_id)
    return out


def help_text(schools: list[School]) -> str:
    """The HELP answer: who is texting and how to reach them, and how to stop."""
    if not schools:
        return "Attendance messages from your child's school. Reply STOP to stop them."
    parts = []
    for school in schools[:3]:
        from outreach.messaging.templates import format_school_phone

        reach = " or ".join(x for x in (format_school_phone(school.contact_phone), school.contact_email) if x)
        parts.append(f"{school.name}: {reach}" if reach else f"{school.name}: please contact the school office")
    return "Attendance messages from " + "; ".join(parts) + ". Reply STOP to stop them."


def _reply(sms: inbound.InboundSms, *, school_id: int, contact_id: int | None, body: str, purpose: str,
           pupil_ids: tuple[int, ...], language: str, now: datetime) -> OutboxMessage:
    row = enqueue(OutgoingMessage(school_id=school_id, contact_id=contact_id, phone=sms.phone, body=body,  # type: ignore[arg-type]
                                  language=language, purpose=purpose, pupil_ids=pupil_ids, not_before_utc=now,
                                  idempotency_key=f"reply:{sms.message_sid}"))
    row.reply_to_sid = sms.message_sid
    return row


def _to_inbox(record: InboundMessage, contacts: list[Contact], outcome: inbound.InboundOutcome | None) -> None:
    pupils = _pupils_of(c.id for c in contacts)
    by_school: dict[int | None, list[Contact]] = defaultdict(list)
    for contact in contacts:
        by_school[contact.school_id].append(contact)
    if outcome is not None and outcome.school_id is not None:
        by_school = {outcome.school_id: by_school.get(outcome.school_id, [])}
    if not by_school:
        by_school = {None: []}
    for school_id, school_contacts in by_school.items():
        pupil_ids = sorted({p for c in school_contacts for p in pupils.get(c.id, [])})
        contact_id = school_contacts[0].id if school_contacts else None
        if outcome is not None and outcome.pupil_ids:
            pupil_ids = sorted(set(outcome.pupil_ids))
        if outcome is not None and outcome.contact_id is not None:
            contact_id = outcome.contact_id
        db.session.add(InboxMessage(inbound_id=record.id, school_id=school_id, contact_id=contact_id,
                                    phone=record.phone, body=record.body, pupil_ids=pupil_ids,
                                    received_at=record.received_at, handler=outcome.handler if outcome else None,
                                    summary=(outcome.summary[:300] or None) if outcome else None))


def receive_inbound(message_sid: str, phone: str, body: str, *, to_number: str | None = None,
                    now: datetime | None = None) -> InboundResult:
    """Handle one received text exactly once (by MessageSid). Opt-out words record an opt-out and
    block the number's scheduled texts; opt-in words remove it; HELP is answered with the
    school's contact details; anything else is offered to the feature handlers
    (``inbound.dispatch``) and, unclaimed or when the handler asks, put in the officer inbox of
    each school the sender is a contact at. Commits."""
    now = ensure_utc(now) if now else utcnow()
    existing = db.session.scalar(select(InboundMessage).where(InboundMessage.message_sid == message_sid))
    if existing is not None:
        return InboundResult(existing.id, existing.kind, replayed=True)
    contacts = _contacts(phone)
    school_ids = tuple(dict.fromkeys(c.school_id for c in contacts))
    record = InboundMessage(message_sid=message_sid, phone=phone, to_number=to_number, body=body or "",
                            kind="inbox", received_at=now)
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:  # the same webhook, delivered twice at once: the other one handles it
        db.session.rollback()
        existing = db.session.scalar(select(InboundMessage).where(InboundMessage.message_sid == message_sid))
        return InboundResult(existing.id if existing else 0, existing.kind if existing else "inbox", replayed=True)
    sms = inbound.InboundSms(message_sid=message_sid, phone=phone, body=body or "", received_at=now,
                             school_ids=school_ids, contact_ids=tuple(c.id for c in contacts))
    reply_id = None
    word = delivery.keyword(body or "")
    if word is not None and word[0] == "opt_out":
        record.kind = "opt_out"
        blocked = record_opt_out(phone, school_id=school_ids[0] if school_ids else None, keyword=word[1],
                                 message_sid=message_sid, now=now)
        record.summary = f"opted out ({word[1]}); {blocked} scheduled message(s) blocked"
    elif word is not None and word[0] == "opt_in":
        record.kind = "opt_in"
        record.summary = "opted back in" if record_opt_in(phone) else "opt-in word; was not opted out"
    elif word is not None and word[0] == "help":
        record.kind = "help"
        schools = [db.session.get(School, s) for s in school_ids]
        if contacts:
            first = contacts[0]
            reply = _reply(sms, school_id=first.school_id, contact_id=first.id, body=help_text([s for s in schools if s]),
                           purpose=HELP_PURPOSE, pupil_ids=(), language="en", now=now)
            reply_id = reply.id
            record.summary = "answered with the school's contact details"
        else:
            record.summary = "HELP from an unknown number: not answered"
    else:
        outcome = inbound.dispatch(sms)
        if outcome is not None:
            record.kind = "inbox" if outcome.to_inbox else "handler"
            record.handler = outcome.handler[:60]
            record.summary = outcome.summary[:300] or None
            if outcome.reply:
                school_id = outcome.school_id or (school_ids[0] if school_ids else None)
                if school_id is not None:
                    language = next((c.preferred_language for c in contacts if c.school_id == school_id), "en")
                    reply = _reply(sms, school_id=school_id,
                                   contact_id=outcome.contact_id or next((c.id for c in contacts if c.school_id == school_id), None),
                                   body=outcome.reply, purpose=REPLY_PURPOSE, pupil_ids=tuple(outcome.pupil_ids),
                                   language=language, now=now)
                    reply_id = reply.id
            if outcome.to_inbox:
                _to_inbox(record, contacts, outcome)
        else:
            _to_inbox(record, contacts, None)
    db.session.commit()
    log.info("inbound sms id=%s kind=%s", record.id, record.kind)
    return InboundResult(record.id, record.kind, reply_id=reply_id)
