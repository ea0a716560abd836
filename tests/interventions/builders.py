"""Constructed registers on a real English school calendar (2024/25 and the start of 2025/26)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Callable, Iterable, Mapping

from outreach.extensions import db
from outreach.registers import store
from outreach.schools.models import Pupil, School

# Holidays (inclusive): October half term, Christmas, February half term, Easter, May half term,
# summer; plus the Monday bank holiday of 5 May 2025.
HOLIDAYS: tuple[tuple[date, date], ...] = (
    (date(2024, 10, 28), date(2024, 11, 1)),
    (date(2024, 12, 23), date(2025, 1, 3)),
    (date(2025, 2, 17), date(2025, 2, 21)),
    (date(2025, 4, 7), date(2025, 4, 18)),
    (date(2025, 5, 5), date(2025, 5, 5)),
    (date(2025, 5, 26), date(2025, 5, 30)),
    (date(2025, 7, 23), date(2025, 9, 2)),
    (date(2025, 10, 27), date(2025, 10, 31)),
)
YEAR_START = date(2024, 9, 4)


def is_school_day(day: date) -> bool:
    return day.weekday() < 5 and not any(a <= day <= b for a, b in HOLIDAYS)


def school_days(start: date, end: date) -> list[date]:
    days, day = [], start
    while day <= end:
        if is_school_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def nth_school_day_after(day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        if is_school_day(day):
            n -= 1
    return day


CodeFn = Callable[[date, str], str]


def present(day: date, session: str) -> str:
    return "/" if session == "AM" else "\\"


def write_register(school: School, plans: Mapping[Pupil, Mapping[date, str | tuple[str, str]] | CodeFn],
                   start: date = YEAR_START, end: date = date(2025, 7, 22), batch_id: int | None = None) -> None:
    """Marks for every school day in [start, end]: present unless the plan says otherwise (a code
    for the whole day, an (AM, PM) pair, or a function of (date, session)); then rollups."""
    rows = []
    days = school_days(start, end)
    for pupil, plan in plans.items():
        for day in days:
            for i, session in enumerate(("AM", "PM")):
                if callable(plan):
                    code = plan(day, session)
                else:
                    entry = plan.get(day)
                    code = present(day, session) if entry is None else (entry if isinstance(entry, str) else entry[i])
                rows.append((pupil.id, day, session, code))
    db.session.flush()
    store.write(db.session, school.id, rows, batch_id)
    db.session.commit()


def absent_on(days: Iterable[date], code: str = "O") -> dict[date, str]:
    return {d: code for d in days}
