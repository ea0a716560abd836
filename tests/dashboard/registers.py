"""A constructed register for school A of the test world (tests/dashboard/world.py), this
academic year up to today, so the attendance pages have something true to show.

School A's pupils (``world.pupils["A"]``):
  0 ``good``     present every session;
  1 ``newly``    present until the last import, then absent (O) for 7 school days and N today:
                 newly persistent with the last import, and an unexplained absence today;
  2 ``chased``   one N eleven school days ago (overdue), N this morning, and a first-day call
                 logged today (so not on the "unexplained" list);
  3 ``severe``   absent (O) three days in five from September: severe absence all along;
  4 ``left``     left a week ago, present until then.
Two register imports: the previous one to nine school days ago, the last one since.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from outreach.attendance import rollups
from outreach.core.timeutil import academic_year_start, london_today
from outreach.extensions import db
from outreach.interventions.services import log_intervention
from outreach.registers.models import ImportBatch
from tests.dashboard.world import World
from tests.factories import add_marks, make_contact

MIN_DAYS = 20  # the scenario needs a few weeks of the year behind it


def school_days(first: date, last: date) -> list[date]:
    """Weekdays from ``first`` to ``last``, and ``last`` itself even at a weekend (so "today" has
    marks whatever day the suite runs)."""
    days, day = [], first
    while day <= last:
        if day.weekday() < 5 or day == last:
            days.append(day)
        day += timedelta(days=1)
    return days


def build_registers(world: World) -> dict[str, Any]:
    today = london_today()
    start = academic_year_start(today)
    days = school_days(start, today)
    if len(days) < MIN_DAYS:
        pytest.skip(f"only {len(days)} school days this academic year: the register scenario needs {MIN_DAYS}")
    school = world.schools["A"]
    good, newly, chased, severe, left = world.pupils["A"]
    for p, reg in ((good, "1A"), (newly, "1B"), (chased, "1B"), (severe, "6C"), (left, "2A")):
        p.reg_group = reg
    newly.fsm = True
    severe.sen_status = "K"

    def both(day: date, code: str, pm: str | None = None) -> list[tuple[date, str, str]]:
        return [(day, "AM", code), (day, "PM", pm or ("\\" if code == "/" else code))]

    add_marks(good, [m for d in days for m in both(d, "/")])
    add_marks(newly, [m for d in days[:-8] for m in both(d, "/")] + [m for d in days[-8:-1] for m in both(d, "O")]
              + both(days[-1], "N"))
    add_marks(chased, [m for d in days if d not in (days[-11], days[-1]) for m in both(d, "/")]
              + both(days[-11], "N", "\\") + both(days[-1], "N", "\\"))
    add_marks(severe, [m for i, d in enumerate(days) for m in both(d, "O" if i % 5 < 3 else "/")])
    left_days = [d for d in days if d <= left.leaving_date]
    add_marks(left, [m for d in left_days for m in both(d, "/")])
    rollups.refresh(db.session, school.id, start, today)
    finished = datetime.now(timezone.utc)
    db.session.add_all([
        ImportBatch(school_id=school.id, file_name="autumn.csv", format="long", status="completed", kind="registers",
                    date_from=start, date_to=days[-9], finished_at=finished - timedelta(days=7)),
        ImportBatch(school_id=school.id, file_name="this-week.csv", format="long", status="completed", kind="registers",
                    date_from=days[-8], date_to=today, finished_at=finished - timedelta(minutes=5)),
    ])
    make_contact(school, [newly], name="Alex Parent", phone="+447700900123")
    db.session.commit()
    log_intervention(school, type="first_day_call", pupil_ids=[chased.id], recorded_by="officer@example.org",
                     notes="Mum says ill")
    return {"today": today, "days": days, "good": good, "newly": newly, "chased": chased, "severe": severe,
            "left": left, "school": school}
