"""ISO weeks as the digest names them ("2026-W48"): pure, no Flask or database.

A digest covers one Monday-to-Sunday school week. The default is the last complete week as of
today in London, so the Monday 07:00 run reports on the week that ended the night before.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from outreach.core.errors import UserError
from outreach.core.timeutil import LONDON, to_london, week_start

_WEEK_RE = re.compile(r"^(\d{4})-?W(\d{2})$", re.IGNORECASE)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(raw: str) -> date:
    """``"2026-W48"`` (or ``2026W48``) -> the Monday of that ISO week; UserError otherwise."""
    match = _WEEK_RE.match((raw or "").strip())
    if not match:
        raise UserError(f"week must look like 2026-W48 (ISO year and week), got {raw!r}")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        raise UserError(f"{year} has no ISO week {week}") from None


def last_complete_week(today: date) -> date:
    """The Monday of the last Monday-to-Sunday week that has ended before ``today``."""
    return week_start(today) - timedelta(days=7)


def last_complete_week_at(moment: datetime) -> date:
    return last_complete_week(to_london(moment).date())


def london_bounds(monday: date) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) London, as UTC: the week for events stored with a time
    (interventions, tasks), correct in the weeks the clocks change."""
    start = datetime.combine(monday, time(0, 0), tzinfo=LONDON)
    end = datetime.combine(monday + timedelta(days=7), time(0, 0), tzinfo=LONDON)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)
