"""Read helpers for the messaging pages: the outbox with its filters and counts, the officer
inbox, the opt-out list, and a per-school overview. Nothing here writes.

Every function takes a school already checked by ``require_school`` (or ids from
``scope_to_user``): scoping is decided before a query is built, never inside it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import Select, func, or_, select

from outreach.core.errors import UserError
from outreach.core.timeutil import LONDON, utcnow
from outreach.extensions import db
from outreach.messaging.models import OUTBOX_STATUSES, InboxMessage, OptOut, OutboxMessage
from outreach.schools.models import Contact, Pupil, School
from outreach.schools.queries import on_roll, year_group_order

MAX_DAYS = 3660  # a date filter further apart than ten years is a typo


@dataclass(frozen=True)
class OutboxFilter:
    """The outbox page's filters, already checked (``parse_outbox_filter``)."""

    status: str | None = None
    purpose: str | None = None
    due_from: date | None = None  # London dates, inclusive
    due_to: date | None = None
    phone: str | None = None  # digits to look for, in E.164 form without the '+'

    def as_args(self) -> dict[str, str]:
        """The filters as query arguments (for the pager's links and the status tabs)."""
        out = {"status": self.status, "purpose": self.purpose,
               "from": self.due_from.isoformat() if self.due_from else None,
               "to": self.due_to.isoformat() if self.due_to else None, "phone": self.phone}
        return {k: v for k, v in out.items() if v}


def _parse_date(raw: str, label: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise UserError(f"{label} must be a date such as 2025-03-05", details=[f"{label}: {raw[:20]!r}"]) from None


def phone_digits(raw: str) -> str | None:
    """What a person types ('07700 900 123', '+44 7700', '900123') as digits to search the
    E.164 numbers for: a leading 0 is the UK trunk prefix, so '07700' looks for '447700'."""
    digits = re.sub(r"\D", "", raw or "")
    if not digits:
        return None
    if digits.startswith("00"):  # international prefix
        digits = digits[2:]
    elif digits.startswith("0"):  # UK trunk prefix
        digits = "44" + digits[1:]
    return digits[:15] or None


def parse_outbox_filter(args: Mapping[str, str]) -> OutboxFilter:
    """Check the outbox page's query arguments. A bad value is a UserError naming it."""
    status = (args.get("status") or "").strip() or None
    if status is not None and status not in OUTBOX_STATUSES:
        raise UserError(f"unknown status {status[:20]!r}", details=[f"statuses: {', '.join(OUTBOX_STATUSES)}"])
    purpose = (args.get("purpose") or "").strip()[:40] or None
    due_from = _parse_date(args.get("from") or "", "From")
    due_to = _parse_date(args.get("to") or "", "To")
    if due_from and due_to and due_from > due_to:
        raise UserError("the From date is after the To date")
    if due_from and due_to and (due_to - due_from).days > MAX_DAYS:
        raise UserError("choose a date range of at most ten years")
    phone_raw = (args.get("phone") or "").strip()[:30]
    phone = phone_digits(phone_raw)
    if phone_raw and phone is None:
        raise UserError("search for a phone number by its digits, e.g. 07700 900123 or the last few digits")
    return OutboxFilter(status=status, purpose=purpose, due_from=due_from, due_to=due_to, phone=phone)


def london_midnight_utc(day: date) -> datetime:
    """The UTC instant a London calendar day starts (23:00 UTC the evening before in summer)."""
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(timezone.utc)


def _filtered(stmt: Select[Any], school: School, f: OutboxFilter, *, with_status: bool = True) -> Select[Any]:
    stmt = stmt.where(OutboxMessage.school_id == school.id)
    if with_status and f.status:
        stmt = stmt.where(OutboxMessage.status == f.status)
    if f.purpose:
        stmt = stmt.where(OutboxMessage.purpose == f.purpose)
    if f.due_from:
        stmt = stmt.where(OutboxMessage.not_before >= london_midnight_utc(f.due_from))
    if f.due_to:
        stmt = stmt.where(OutboxMessage.not_before < london_midnight_utc(f.due_to + timedelta(days=1)))
    if f.phone:
        stmt = stmt.where(OutboxMessage.phone.contains(f.phone, autoescape=True))
    return stmt


def outbox_query(school: School, f: OutboxFilter) -> Select[tuple[OutboxMessage]]:
    """The school's outbox rows matching ``f``, newest first (for ``paginate``)."""
    return _filtered(select(OutboxMessage), school, f).order_by(OutboxMessage.not_before.desc(), OutboxMessage.id.desc())


def status_counts(school: School, f: OutboxFilter) -> dict[str, int]:
    """Rows per status under every filter but the status itself (the status tabs' numbers)."""
    stmt = _filtered(select(OutboxMessage.status, func.count()), school, f, with_status=False).group_by(OutboxMessage.status)
    counts = {s: 0 for s in OUTBOX_STATUSES}
    counts.update({status: int(n) for status, n in db.session.execute(stmt)})
    return counts


def purposes_used(school: School) -> list[str]:
    """Purposes the school's outbox holds (the purpose filter's choices)."""
    return list(db.session.scalars(select(OutboxMessage.purpose).where(OutboxMessage.school_id == school.id)
                                   .group_by(OutboxMessage.purpose).order_by(OutboxMessage.purpose)))


def contacts_by_id(school: School, ids: Iterable[int | None]) -> dict[int, Contact]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return {c.id: c for c in db.session.scalars(select(Contact).where(Contact.id.in_(wanted), Contact.school_id == school.id))}


def pupils_by_id(school: School, ids: Iterable[int]) -> dict[int, Pupil]:
    """Pupils of this school only: ids stored in JSON are never trusted across schools."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    return {p.id: p for p in db.session.scalars(select(Pupil).where(Pupil.id.in_(wanted), Pupil.school_id == school.id))}


def get_message(school: School, message_id: int) -> OutboxMessage | None:
    if not 0 < message_id <= 2_147_483_647:
        return None
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.school_id == school.id))


# --- inbox ------------------------------------------------------------------------------------

def inbox_query(school: School, status: str = "new") -> Select[tuple[InboxMessage]]:
    """Replies waiting for an officer (``new``), or those dealt with (``done``), newest first."""
    stmt = select(InboxMessage).where(InboxMessage.school_id == school.id)
    if status in ("new", "done"):
        stmt = stmt.where(InboxMessage.status == status)
    return stmt.order_by(InboxMessage.received_at.desc(), InboxMessage.id.desc())


def inbox_counts(school_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(school_ids))
    if not ids:
        return {}
    stmt = (select(InboxMessage.school_id, func.count()).where(InboxMessage.school_id.in_(ids), InboxMessage.status == "new")
            .group_by(InboxMessage.school_id))
    return {sid: int(n) for sid, n in db.session.execute(stmt)}


def get_inbox_item(school: School, item_id: int) -> InboxMessage | None:
    if not 0 < item_id <= 2_147_483_647:
        return None
    return db.session.scalar(select(InboxMessage).where(InboxMessage.id == item_id, InboxMessage.school_id == school.id))


def earlier_messages(school: School, phone: str, before: datetime, limit: int = 3) -> list[OutboxMessage]:
    """What the school last texted this number before a reply came (the reply's context)."""
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.school_id == school.id, OutboxMessage.phone == phone,
                                    OutboxMessage.status.in_(("sent", "delivered", "undelivered")),
                                    OutboxMessage.not_before <= before)
        .order_by(OutboxMessage.not_before.desc()).limit(limit)))


# --- opt-outs ---------------------------------------------------------------------------------

def opt_outs_query(school: School, phone: str | None = None) -> Select[tuple[OptOut]]:
    """Opted-out numbers that concern this school: received here, or belonging to one of its
    contacts (an opt-out holds for every school, see ``OptOut``). Newest first."""
    school_phones = select(Contact.phone).where(Contact.school_id == school.id, Contact.phone.is_not(None))
    stmt = select(OptOut).where(or_(OptOut.school_id == school.id, OptOut.phone.in_(school_phones)))
    if phone:
        stmt = stmt.where(OptOut.phone.contains(phone, autoescape=True))
    return stmt.order_by(OptOut.created_at.desc(), OptOut.phone)


def contacts_by_phone(school: School, phones: Iterable[str]) -> dict[str, list[Contact]]:
    wanted = sorted(set(phones))
    out: dict[str, list[Contact]] = {}
    if wanted:
        for contact in db.session.scalars(select(Contact).where(Contact.school_id == school.id, Contact.phone.in_(wanted))
                                          .order_by(Contact.name, Contact.id)):
            out.setdefault(contact.phone or "", []).append(contact)
    return out


# --- overview ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SchoolMessaging:
    school: School
    new_replies: int
    waiting: int  # scheduled or being sent
    problems_7d: int  # failed or undelivered in the last 7 days


def overview(schools: list[School], now: datetime | None = None) -> list[SchoolMessaging]:
    """Per school: replies waiting, messages waiting to go, failures this week (three grouped
    queries whatever the number of schools)."""
    ids = [s.id for s in schools]
    if not ids:
        return []
    since = (now or utcnow()) - timedelta(days=7)
    waiting = dict(db.session.execute(
        select(OutboxMessage.school_id, func.count()).where(OutboxMessage.school_id.in_(ids),
                                                            OutboxMessage.status.in_(("scheduled", "queued")))
        .group_by(OutboxMessage.school_id)).all())
    problems = dict(db.session.execute(
        select(OutboxMessage.school_id, func.count()).where(OutboxMessage.school_id.in_(ids),
                                                            OutboxMessage.status.in_(("failed", "undelivered")),
                                                            OutboxMessage.updated_at >= since)
        .group_by(OutboxMessage.school_id)).all())
    replies = inbox_counts(ids)
    return [SchoolMessaging(s, replies.get(s.id, 0), int(waiting.get(s.id, 0)), int(problems.get(s.id, 0))) for s in schools]


def inbox_status_counts(school: School) -> dict[str, int]:
    stmt = select(InboxMessage.status, func.count()).where(InboxMessage.school_id == school.id).group_by(InboxMessage.status)
    counts = {"new": 0, "done": 0}
    counts.update({s: int(n) for s, n in db.session.execute(stmt)})
    counts["all"] = counts["new"] + counts["done"]
    return counts


# --- compose form choices ---------------------------------------------------------------------

@dataclass(frozen=True)
class AudienceChoices:
    year_groups: list[str]
    reg_groups: list[str]
    on_roll: int


def audience_choices(school: School, day: date) -> AudienceChoices:
    """The year and registration groups the school's pupils on roll are in (the form's boxes)."""
    base = select(Pupil).where(Pupil.school_id == school.id, on_roll(day)).subquery()
    years = [y for y in db.session.scalars(select(base.c.year_group).distinct()) if y]
    regs = sorted(r for r in db.session.scalars(select(base.c.reg_group).distinct()) if r)
    count = int(db.session.scalar(select(func.count()).select_from(base)) or 0)
    return AudienceChoices(sorted(years, key=lambda y: (year_group_order(y), y)), regs, count)
