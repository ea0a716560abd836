"""Demo step: one weekly parent group at the primary, with members and two past meetings.

"Brew and Biscuits" meets on Fridays at 08:45 in the hall, after drop-off. A few of the
primary's contacts join three weeks before the demo's today; the two Fridays before today each
have a meeting with some of them recorded as coming, and the next Friday is scheduled. Choices
come from ``ctx.random`` (same seed, same rows); everything goes through the group services.
"""
from __future__ import annotations

from datetime import date, time, timedelta

from outreach.demo.steps import DemoContext, register_demo_step
from outreach.parent_groups import services

NAME = "Brew and Biscuits"
FRIDAY = 4
MEMBERS = 8


def _friday_before(day: date) -> date:
    back = (day.weekday() - FRIDAY) % 7 or 7
    return day - timedelta(days=back)


def add_parent_group(ctx: DemoContext) -> str | None:
    school = ctx.schools.get("primary")
    contacts = ctx.contact_ids.get("primary") or []
    if school is None or not contacts:
        return None
    rng = ctx.random("parent_groups")
    group = services.create_group(school, name=NAME, weekday=FRIDAY, start_time=time(8, 45), place="School hall",
                                  purpose="A cuppa after drop-off: parents meet each other and the attendance team.",
                                  created_by="demo")
    members = sorted(rng.sample(contacts, min(MEMBERS, len(contacts))))
    last = _friday_before(ctx.today)
    for contact_id in members:
        services.add_member(school, group.id, contact_id, joined_on=last - timedelta(days=14))
    came = 0
    for day in (last - timedelta(days=7), last):
        meeting = services.schedule_meeting(school, group.id, day)
        present = sorted(rng.sample(members, rng.randint(max(1, len(members) // 3), max(1, len(members) * 2 // 3))))
        services.record_attendance(school, meeting.id, present, today=ctx.today)
        came += len(present)
    services.schedule_meeting(school, group.id, last + timedelta(days=7))
    return f"1 parent group, {len(members)} members, 2 meetings ({came} attendances)"


register_demo_step("parent groups", add_parent_group, order=30)
