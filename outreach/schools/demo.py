"""Demo step: each demo school's closures from the demo's today to the end of the calendar it
was generated with (half terms, holidays, INSET days, bank holidays), so the walking-bus rota and
the parent group skip them as a real school's would once its officer had entered them."""
from __future__ import annotations

from datetime import date, timedelta

from outreach.demo.calendar import YEARS, DayKind, SchoolYear
from outreach.demo.steps import DemoContext, register_demo_step
from outreach.schools import closures

HOLIDAY_BY_MONTH = {12: "Christmas holidays", 1: "Christmas holidays", 3: "Easter holidays", 4: "Easter holidays",
                    7: "Summer holidays", 8: "Summer holidays"}


def _reason(year: SchoolYear, day: date) -> str | None:
    """Why a weekday has no pupils, or None on a pupil day."""
    kind = year.kind(day)
    if kind is DayKind.PUPIL:
        return None
    if kind is DayKind.INSET:
        return "INSET day"
    if any(first <= day <= last for first, last in year.breaks):
        return "Half term"
    if any(first <= day <= last for first, last in year.terms):
        return "Bank holiday"
    return HOLIDAY_BY_MONTH.get(day.month, "School holidays")


def closure_ranges(start: date, years: tuple[SchoolYear, ...] = YEARS) -> list[tuple[date, date, str]]:
    """(first, last, reason) for each run of closed weekdays from ``start`` on, a run going over
    the weekends inside it (a fortnight's holiday is one closure, not two)."""
    out: list[tuple[date, date, str]] = []
    for year in years:
        day = max(start, year.start)
        while day <= year.end:
            reason = _reason(year, day) if day.weekday() < 5 else None
            if reason is not None:
                if out and out[-1][2] == reason and (day - out[-1][1]).days <= 3:
                    out[-1] = (out[-1][0], day, reason)
                else:
                    out.append((day, day, reason))
            day += timedelta(days=1)
    return out


def add_closures(ctx: DemoContext) -> str | None:
    ranges = closure_ranges(ctx.today)
    for school in ctx.schools.values():
        for first, last, reason in ranges:
            closures.add_closure(school, first, last, reason, by="demo")
    return f"{len(ranges)} closures at each of {len(ctx.schools)} schools" if ranges else None


register_demo_step("school closures", add_closures, order=5)
