"""Builders for attendance registers in tests: marks through the real models, rollups through
``rollups.refresh`` (as the importer does)."""
from __future__ import annotations

from datetime import date, timedelta

from outreach.attendance import rollups
from outreach.extensions import db
from tests.factories import add_marks


def school_days(start: date, count: int) -> list[date]:
    """``count`` weekdays from ``start`` (inclusive)."""
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def register(pupil, start: date, sessions: list[tuple[str, str]]) -> list[tuple[date, str, str]]:
    """Marks for consecutive weekdays from ``start``: one (AM code, PM code) pair a day; an empty
    code leaves that session without a mark. Returns the marks added."""
    marks = []
    for day, (am, pm) in zip(school_days(start, len(sessions)), sessions):
        if am:
            marks.append((day, "AM", am))
        if pm:
            marks.append((day, "PM", pm))
    add_marks(pupil, marks)
    return marks


def refresh(school, first: date = date(2020, 1, 1), last: date = date(2030, 12, 31)) -> None:
    """Rollups for the school's marks in [first, last], the way an import leaves them."""
    rollups.refresh(db.session, school.id, first, last)
    db.session.flush()
