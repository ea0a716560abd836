"""What officers change from the messaging pages: send a reviewed compose, cancel a scheduled
text, mark an inbox reply done. Each function owns its transaction.

(``services.py`` beside this holds what Twilio's reports and families' replies change; these are
the changes a person makes on a page, kept apart so the two can evolve without treading on
each other.)

Deliberately missing: an officer cannot opt a number back in. Carriers and Twilio hold STOP at
the sending number (Twilio answers 21610 until the family texts START), and consent withdrawn
by text is given back by text: the opt-out page tells officers to ask the family to reply START.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import Select, func, select, update

from outreach.core.errors import NotFound, UserError
from outreach.attendance.measures import is_severe_absence
from outreach.core.timeutil import academic_year_start, london_today, utcnow
from outreach.extensions import db
from outreach.messaging.compose import (
    AudienceFilter, RecipientReview, absence_sessions, compose, days_missed_values, select_pupils,
)
from outreach.messaging.compose_form import ComposeRequest, review_fingerprint
from outreach.messaging.labels import status_label
from outreach.messaging.models import InboxMessage, MessageTemplateVariant, OutboxMessage
from outreach.messaging.outbox import enqueue_many, is_opted_out
from outreach.messaging.templates import get_template
from outreach.schools.models import School


# --- compose --------------------------------------------------------------------------------

def template_version(school: School, name: str) -> str:
    """Changes whenever any language version of the template is edited (part of the episode)."""
    template = get_template(school.id, name)
    latest = db.session.scalar(select(func.max(MessageTemplateVariant.updated_at))
                               .where(MessageTemplateVariant.template_id == template.id))
    return f"{template.id}:{latest.isoformat() if latest else ''}"


def format_day(day: date) -> str:
    """'1 September' (and the year when it is not this academic year's): how since_date reads."""
    return f"{day.day} {day:%B}" + (f" {day.year}" if (london_today() - day).days > 300 else "")


def audience_for(school: School, req: ComposeRequest, on_date: date) -> AudienceFilter:
    """The request's audience, with severe absence (50% or more of sessions this academic year,
    from the rollups) applied as the list of pupils it selects: ``AudienceFilter`` knows
    persistent absence but not severe."""
    audience = req.audience
    if req.severe_absence is None:
        return audience
    sessions = absence_sessions(school.id, None, academic_year_start(on_date), on_date)
    keep = frozenset(p.id for p in select_pupils(school, audience, on_date)
                     if is_severe_absence(*sessions.get(p.id, (0, 0))) is req.severe_absence)
    return replace(audience, pupil_ids=keep)


def build_review(school: School, req: ComposeRequest, *, now: datetime | None = None,
                 on_date: date | None = None) -> tuple[RecipientReview, str]:
    """The review the page shows, and the episode key a confirm of it will use. Writes nothing."""
    now = now or utcnow()
    on_date = on_date or london_today()
    episode = req.episode_key(template_version(school, req.template), on_date)
    values = req.value_map()
    audience = audience_for(school, req, on_date)
    pupil_values = None
    if req.since is not None:
        values["since_date"] = format_day(req.since)
        pupils = select_pupils(school, audience, on_date)
        pupil_values = days_missed_values(school.id, [p.id for p in pupils], req.since, on_date)
    review = compose(school, req.template, episode_key=episode, is_opted_out=is_opted_out, audience=audience,
                     values=values, pupil_values=pupil_values, contact_mode=req.contact_mode,
                     send_after=req.send_at, now=now, on_date=on_date)
    return review, episode


class ReviewChanged(UserError):
    """The recipients changed between the review and the confirm (a new opt-out, a roster
    import): nothing was sent; the page shows the new review."""

    status_code = 409

    def __init__(self, review: RecipientReview):
        super().__init__("the recipients changed since you reviewed them: check the new list and confirm again")
        self.review = review


@dataclass(frozen=True)
class SendOutcome:
    review: RecipientReview
    created: int  # new outbox rows
    already: int  # rows that existed (this review was confirmed before)
    blocked: int  # numbers that opted out between review and confirm


def confirm_send(school: School, req: ComposeRequest, fingerprint: str, *, created_by: str | None,
                 now: datetime | None = None, on_date: date | None = None) -> SendOutcome:
    """Compose again exactly as reviewed and hand the messages to the outbox. If what would be
    sent is not what the person saw (``fingerprint``), nothing is sent (``ReviewChanged``).
    Idempotency keys come from the review's episode, so confirming twice creates nothing new."""
    review, _ = build_review(school, req, now=now, on_date=on_date)
    if review_fingerprint(m.idempotency_key for m in review.messages) != fingerprint:
        raise ReviewChanged(review)
    if not review.messages:
        raise UserError("there is no one to send this to")
    keys = [m.idempotency_key for m in review.messages]
    before = set(db.session.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(keys))))
    rows = enqueue_many(review.messages, created_by=created_by)
    db.session.commit()
    created = [r for r in rows if r.idempotency_key not in before]
    return SendOutcome(review=review, created=len(created), already=len(rows) - len(created),
                       blocked=sum(1 for r in created if r.status == "blocked"))


# --- outbox ---------------------------------------------------------------------------------

def cancel_message(school: School, message_id: int, *, by: str | None, now: datetime | None = None) -> OutboxMessage:
    """Cancel a text that has not gone yet. One conditional UPDATE: if the sender claimed it a
    moment ago the row is no longer ``scheduled`` and nothing changes (it is already on its
    way), so a cancel can never race a send. Cancelling a cancelled text is a no-op."""
    now = now or utcnow()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.school_id == school.id))
    if row is None:
        raise NotFound("No such message")
    if row.status == "cancelled":
        return row
    done = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.status == "scheduled")
        .values(status="cancelled", error_message=f"cancelled by {by or 'an officer'}"[:300], updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    db.session.refresh(row)
    if not done:
        raise UserError(f"this message cannot be cancelled: it is {status_label(row.status).word.lower()}",
                        details=[status_label(row.status).meaning])
    return row


# --- inbox ----------------------------------------------------------------------------------

def set_inbox_done(school: School, item_id: int, done: bool, *, by: str | None, now: datetime | None = None) -> InboxMessage:
    """Mark a reply dealt with (or back to new, if marked by mistake). Records who and when."""
    item = db.session.scalar(select(InboxMessage).where(InboxMessage.id == item_id, InboxMessage.school_id == school.id))
    if item is None:
        raise NotFound("No such reply")
    return _mark(item, done, by, now)


def _mark(item: InboxMessage, done: bool, by: str | None, now: datetime | None) -> InboxMessage:
    """Done (who and when, kept from the first time) or back to new; commits."""
    if done:
        if item.status != "done":
            item.status, item.handled_by, item.handled_at = "done", by, now or utcnow()
    else:
        item.status, item.handled_by, item.handled_at = "new", None, None
    db.session.commit()
    return item


# --- replies from numbers no school knows ---------------------------------------------------------

def unmatched_query(status: str = "new") -> Select[tuple[InboxMessage]]:
    """Replies from a number that is no school's contact (a parent's new phone, a wrong number),
    newest first. Only an administrator sees them: nothing says which school they belong to."""
    stmt = select(InboxMessage).where(InboxMessage.school_id.is_(None))
    if status in ("new", "done"):
        stmt = stmt.where(InboxMessage.status == status)
    return stmt.order_by(InboxMessage.received_at.desc(), InboxMessage.id.desc())


def _unmatched(item_id: int) -> InboxMessage:
    item = db.session.scalar(select(InboxMessage).where(InboxMessage.id == item_id, InboxMessage.school_id.is_(None)))
    if item is None:
        raise NotFound("No such reply")
    return item


def set_unmatched_done(item_id: int, done: bool, *, by: str | None, now: datetime | None = None) -> InboxMessage:
    return _mark(_unmatched(item_id), done, by, now)


def send_unmatched_to_school(item_id: int, school: School, *, by: str) -> InboxMessage:
    """An administrator who knows whose reply it is puts it in that school's inbox (as new), where
    its officers can act on it; the summary says who moved it."""
    item = _unmatched(item_id)
    item.school_id, item.status, item.handled_by, item.handled_at = school.id, "new", None, None
    item.summary = f"from a number the school does not have: passed on by {by}"[:300]
    db.session.commit()
    return item
