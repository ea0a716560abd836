"""Pickup times and days of the week for walking-bus routes. Pure (no Flask, no database).

A route is timed backwards from its arrival at school: each stop's ``minutes_to_next`` is the
walk to the following stop (for the last stop, to the school gate), so a stop's pickup time is the
arrival time less every walking leg from that stop onwards. Officers change one leg and every
earlier pickup moves with it.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Iterable, Sequence

from outreach.messaging.quiet_hours import parse_days as week_days

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")  # walking buses run on school days only
DAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_LEG_MINUTES = 120


def pickup_times(arrival: time, minutes_to_next: Sequence[int]) -> list[time]:
    """Pickup time at each stop, in stop order, for a route arriving at school at ``arrival``.

    >>> pickup_times(time(8, 40), [5, 7, 10])
    [datetime.time(8, 18), datetime.time(8, 23), datetime.time(8, 30)]
    """
    for i, minutes in enumerate(minutes_to_next):
        if not 0 <= minutes <= MAX_LEG_MINUTES:
            raise ValueError(f"stop {i + 1}: walking minutes must be 0 to {MAX_LEG_MINUTES}, got {minutes}")
    anchor = datetime.combine(date(2000, 1, 3), arrival)
    out: list[time] = []
    remaining = sum(minutes_to_next)
    for minutes in minutes_to_next:
        moment = anchor - timedelta(minutes=remaining)
        if moment.date() != anchor.date():
            raise ValueError("the first pickup would be before midnight: check the arrival time and walking minutes")
        out.append(moment.time())
        remaining -= minutes
    return out


def parse_days(text: str | Iterable[str]) -> tuple[int, ...]:
    """'mon,wed,fri' (or 'Mon Wed', or a list) as sorted weekday numbers (Monday = 0), school
    days only. Raises ValueError naming a day it does not know."""
    parts = [p for p in (re.split(r"[,\s/]+", text) if isinstance(text, str) else [str(p) for p in text]) if p.strip()]
    days: set[int] = set()
    for part in parts:
        try:
            (day,) = week_days(part)
        except ValueError:
            day = 7
        if day > 4:
            raise ValueError(f"unknown school day {part.strip().lower()!r}: use mon, tue, wed, thu, fri")
        days.add(day)
    return tuple(sorted(days))


def days_text(days: Iterable[int]) -> str:
    return ",".join(WEEKDAYS[d] for d in sorted(set(days)))


def days_label(days: Iterable[int]) -> str:
    """'Mon, Wed, Fri' or 'Every school day'."""
    days = sorted(set(days))
    if days == [0, 1, 2, 3, 4]:
        return "Every school day"
    return ", ".join(DAY_LABELS[d][:3] for d in days) or "No days"


def short_date(day: date) -> str:
    """'Mon 3 Mar' (what fits an SMS)."""
    return f"{DAY_LABELS[day.weekday()][:3]} {day.day} {day:%b}"


def hhmm(moment: time) -> str:
    return f"{moment:%H:%M}"
