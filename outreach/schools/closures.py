"""Days a school is closed to pupils, entered ahead by the officer.

Registers tell us afterwards which days had sessions, but walking-bus rotas, ambassadors'
schedules and weekly parent-group meetings are planned days or weeks ahead: without the school's
half terms and INSET days they would text volunteers to walk in the holidays. A closure is a range
of days (first and last inclusive) with a reason shown on the pages.

Features that plan ahead react to a change through ``on_change`` listeners (registered at start-up,
in memory), so this module knows nothing of walking buses: a listener gets the school and the
range that opened or closed, inside the same transaction, before the commit.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Callable

from sqlalchemy import select

from outreach.core.errors import NotFound, UserError
from outreach.core.timeutil import EARLIEST_DATE, LATEST_DATE, implausible
from outreach.extensions import db
from outreach.schools.models import School, SchoolClosure

MAX_DAYS = 366  # a closure longer than a year is a typo in the year
MAX_REASON = 100

Listener = Callable[[School, date, date], None]
_listeners: list[Listener] = []


def on_change(listener: Listener) -> Listener:
    """Call ``listener(school, first_day, last_day)`` after a closure is added or removed (in the
    same transaction). Idempotent: registering the same function twice keeps one."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def closures_of(school_id: int, *, from_day: date | None = None) -> list[SchoolClosure]:
    """The school's closures in date order (those ending before ``from_day`` left out)."""
    query = select(SchoolClosure).where(SchoolClosure.school_id == school_id)
    if from_day is not None:
        query = query.where(SchoolClosure.last_day >= from_day)
    return list(db.session.scalars(query.order_by(SchoolClosure.first_day, SchoolClosure.id)))


def closed_days(school_id: int, start: date, end: date) -> set[date]:
    """Every day from ``start`` to ``end`` (inclusive) inside one of the school's closures."""
    rows = db.session.execute(select(SchoolClosure.first_day, SchoolClosure.last_day).where(
        SchoolClosure.school_id == school_id, SchoolClosure.first_day <= end, SchoolClosure.last_day >= start)).all()
    days: set[date] = set()
    for first, last in rows:
        day = max(first, start)
        while day <= min(last, end):
            days.add(day)
            day += timedelta(days=1)
    return days


def is_closed(school_id: int, day: date) -> bool:
    return bool(closed_days(school_id, day, day))


def add_closure(school: School, first_day: date, last_day: date | None, reason: str, *, by: str) -> SchoolClosure:
    """Record a closure (``last_day`` None = one day). Refused, with every reason at once: a last
    day before the first, more than a year, no reason or one over 100 characters, or an overlap
    with a closure already recorded (edit that one instead: two would hide which reason holds)."""
    last_day = last_day or first_day
    reason = " ".join((reason or "").split())
    problems = []
    if implausible(first_day) or implausible(last_day):
        raise UserError("the closure was not recorded",
                        details=[f"dates must be between {EARLIEST_DATE:%d %b %Y} and {LATEST_DATE:%d %b %Y}"])
    if last_day < first_day:
        problems.append(f"the last day ({last_day:%d %b %Y}) is before the first ({first_day:%d %b %Y})")
    elif (last_day - first_day).days + 1 > MAX_DAYS:
        problems.append(f"a closure can be at most {MAX_DAYS} days")
    if not reason:
        problems.append("say why the school is closed (e.g. 'Autumn half term', 'INSET day')")
    elif len(reason) > MAX_REASON:
        problems.append(f"the reason is over {MAX_REASON} characters")
    if not problems:
        clash = db.session.scalar(select(SchoolClosure).where(
            SchoolClosure.school_id == school.id, SchoolClosure.first_day <= last_day,
            SchoolClosure.last_day >= first_day).order_by(SchoolClosure.first_day))
        if clash is not None:
            problems.append(f"it overlaps '{clash.reason}' ({_span(clash)})")
    if problems:
        raise UserError("the closure was not recorded", details=problems)
    row = SchoolClosure(school_id=school.id, first_day=first_day, last_day=last_day, reason=reason, created_by=by)
    db.session.add(row)
    db.session.flush()
    _changed(school, first_day, last_day)
    db.session.commit()
    return row


def delete_closure(school: School, closure_id: int) -> None:
    row = db.session.get(SchoolClosure, closure_id) if 0 < closure_id < 2**31 else None
    if row is None or row.school_id != school.id:
        raise NotFound("Closure not found")
    first, last = row.first_day, row.last_day
    db.session.delete(row)
    db.session.flush()
    _changed(school, first, last)
    db.session.commit()


def _changed(school: School, first: date, last: date) -> None:
    for listener in _listeners:
        listener(school, first, last)


def _span(row: SchoolClosure) -> str:
    if row.first_day == row.last_day:
        return f"{row.first_day:%a %-d %b %Y}"
    return f"{row.first_day:%a %-d %b} to {row.last_day:%a %-d %b %Y}"


def describe(row: SchoolClosure) -> str:
    """'Autumn half term: Mon 26 Oct to Fri 30 Oct 2026' (pages, texts)."""
    return f"{row.reason}: {_span(row)}"
