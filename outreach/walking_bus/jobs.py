"""What the clock calls (thin and idempotent: running one twice, or late after a restart, sends
nothing twice, because every text has its idempotency key and every week records its schedule).

* ``send_weekly_schedules(now)``: every 15 minutes or so; acts once the schedule time has passed
  (Sunday 18:00 London by default) and until the week's first morning.
* ``send_reminders(now)``: likewise for the evening-before reminders.
* ``generate_next_week_rotas(now)``: daily; makes next week's rota if it is missing, so gaps
  show on the rota page days ahead.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Callable

from sqlalchemy import select

from outreach.core.timeutil import to_london, utcnow, week_start
from outreach.extensions import db
from outreach.schools.models import School
from outreach.walking_bus import services
from outreach.walking_bus.models import WalkingBusRoute

log = logging.getLogger(__name__)


def _schools() -> list[int]:
    return list(db.session.scalars(select(WalkingBusRoute.school_id).distinct().order_by(WalkingBusRoute.school_id)))


def _each_school(action: Callable[[School], int], what: str) -> int:
    total = 0
    for school_id in _schools():
        try:
            school = db.session.get(School, school_id)
            assert school is not None
            total += action(school)
        except Exception:  # noqa: BLE001 - one school's bad data must not stop the others
            db.session.rollback()
            log.exception("walking bus %s failed for school %s", what, school_id)
    return total


def send_weekly_schedules(now: datetime | None = None) -> int:
    """Enqueue the weekly schedules that are due. Returns how many texts were enqueued."""
    now = now or utcnow()
    t = services.timing()
    this_monday = week_start(to_london(now).date())
    due = [m for m in (this_monday, this_monday + timedelta(days=7))
           if services.schedule_due(m, t) <= now < services.walk_morning(m)]
    return sum(_each_school(lambda s, m=m: services.send_week_schedules(s, m, now=now), "schedules") for m in due)


def send_reminders(now: datetime | None = None) -> int:
    """Enqueue the evening-before reminders that are due."""
    now = now or utcnow()
    t = services.timing()
    today = to_london(now).date()
    days: list[date] = [d for d in (today, today + timedelta(days=1))
                        if d.weekday() < 5 and services.reminder_due(d, t) <= now < services.walk_morning(d)]
    return sum(_each_school(lambda s, d=d: services.send_day_reminders(s, d, now=now), "reminders") for d in days)


def generate_next_week_rotas(now: datetime | None = None) -> int:
    """Next week's rota for every school with routes, where it does not exist yet."""
    now = now or utcnow()
    monday = week_start(to_london(now).date()) + timedelta(days=7)

    def make(school: School) -> int:
        if services.get_week(school.id, monday) is not None:
            return 0
        services.generate_rota(school, monday, by="clock", now=now)
        return 1

    return _each_school(make, "rota generation")
