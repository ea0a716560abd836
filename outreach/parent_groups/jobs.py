"""What the clock calls for parent groups (idempotent: every text has its idempotency key).

* ``send_group_reminders(now)``: every 15 minutes or so; from 16:00 London the day before a
  meeting until it starts, members who want reminders get one.
* ``plan_meetings(now)``: daily; each active group's weekly meetings three weeks ahead exist, so
  invitations can be sent for them.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from outreach.core.timeutil import to_london, utcnow
from outreach.extensions import db
from outreach.parent_groups import services
from outreach.parent_groups.models import ParentGroup, ParentGroupMeeting
from outreach.schools.models import School

log = logging.getLogger(__name__)


def send_group_reminders(now: datetime | None = None) -> int:
    now = now or utcnow()
    today = to_london(now).date()
    total = 0
    for day in (today, today + timedelta(days=1)):
        schools = db.session.scalars(select(ParentGroupMeeting.school_id).where(ParentGroupMeeting.date == day).distinct())
        for school_id in list(schools):
            meetings = db.session.scalars(select(ParentGroupMeeting).where(ParentGroupMeeting.school_id == school_id,
                                                                           ParentGroupMeeting.date == day))
            if not any(services.reminder_due(day) <= now < services.meeting_start(m) for m in meetings):
                continue
            try:
                total += services.send_meeting_reminders(db.session.get(School, school_id), day, now=now)
            except Exception:  # noqa: BLE001 - one school's failure must not stop the others
                db.session.rollback()
                log.exception("parent group reminders failed for school %s", school_id)
    return total


def plan_meetings(now: datetime | None = None) -> int:
    now = now or utcnow()
    today = to_london(now).date()
    made = 0
    for group in list(db.session.scalars(select(ParentGroup).where(ParentGroup.active.is_(True)))):
        made += services.ensure_meetings(db.session.get(School, group.school_id), group, today)
    return made
