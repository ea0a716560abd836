"""Time: stored in UTC, shown and scheduled in Europe/London.

One place for "now" so tests and the clock agree, and one place for school-week arithmetic.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

# Dates people may type: anything outside is a typo, and near date.min/date.max "the next week" or
# "the day before" overflows. Forms refuse such a date as a 400 instead of failing later as a 500.
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2100, 12, 31)


def implausible(day: date) -> str | None:
    """Why ``day`` cannot be meant (outside 2000-2100), or None."""
    if EARLIEST_DATE <= day <= LATEST_DATE:
        return None
    return f"{day.isoformat()} is outside {EARLIEST_DATE.year}-{LATEST_DATE.year}"


def utcnow() -> datetime:
    """Timezone-aware now in UTC (a callable for column defaults, never a value)."""
    return datetime.now(timezone.utc)


def to_london(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(LONDON)


def london_today() -> date:
    return datetime.now(LONDON).date()


def week_start(day: date) -> date:
    """The Monday of ``day``'s week: the key of pupil-week rollups and weekly trends."""
    return day - timedelta(days=day.weekday())


def academic_year_start(day: date) -> date:
    """1 September on or before ``day``: the DfE academic year runs September to August."""
    year = day.year if day.month >= 9 else day.year - 1
    return date(year, 9, 1)


def academic_year_label(day: date) -> str:
    start = academic_year_start(day).year
    return f"{start}/{(start + 1) % 100:02d}"


def ensure_utc(moment: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite hands ``DateTime(timezone=True)`` back naive)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def london_midday(day: date) -> datetime:
    """Midday London time on ``day``, in UTC: a date without a time recorded there never slips to
    another day in UTC, whatever the season."""
    return datetime.combine(day, time(12, 0), tzinfo=LONDON).astimezone(timezone.utc)


def moment_for_day(day: date, now: datetime | None = None) -> datetime:
    """The UTC moment recorded for something that happened on ``day`` when no time was given:
    midday London time (it never slips to another day in UTC), except on today's date before
    midday, when it is the present minute. A first-day call logged at 09:10 without a time must
    not be refused as "in the future"."""
    now = ensure_utc(now) if now is not None else utcnow()
    midday = london_midday(day)
    if midday > now and to_london(now).date() == day:
        return now.replace(second=0, microsecond=0)
    return midday
