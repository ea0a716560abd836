"""The weekly digest's walking-bus and parent-group section.

Registered with ``outreach.digests.build.register_section`` at import; ``outreach.web.
_register_walking_buses`` imports this module so the section exists once the app is built.
For the digest's week (Monday to Friday, Europe/London school days) it says, per route, how
many walks were checked in out of those planned, how many children walked (one per check-in),
how many children have a place, and the days the rota is short of adults; and per parent
group, the meetings held and the parents who came. Counts only: the digest is emailed to heads
and trust leads, so no child or parent is named. A school with neither routes nor groups gets
no section (None), rather than a table of zeros.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from outreach.core.timeutil import to_london
from outreach.digests.build import DigestContext, Link, Section, Table, register_section, short_day
from outreach.extensions import db
from outreach.parent_groups.models import ParentGroup, ParentGroupAttendance, ParentGroupMeeting
from outreach.walking_bus import services
from outreach.walking_bus.models import WalkingBusRoute, WalkingBusWalk, WalkingBusWalkPupil

SCHOOL_DAYS = 5  # Monday to Friday


def _routes_in_week(school_id: int, monday: date) -> list[WalkingBusRoute]:
    friday = monday + timedelta(days=SCHOOL_DAYS - 1)
    return list(db.session.scalars(select(WalkingBusRoute).where(
        WalkingBusRoute.school_id == school_id, WalkingBusRoute.start_date <= friday,
        WalkingBusRoute.end_date.is_(None) | (WalkingBusRoute.end_date >= monday)).order_by(WalkingBusRoute.name)))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class RouteWeek:
    name: str
    planned: int  # route-days it was due to run with children on it (Monday to Friday)
    checked_in: int  # walks whose register was taken
    walked: int  # check-ins: one per child per walk
    enrolled: int  # children with a place on some day of the week
    gaps: list[str]  # days short of adults, e.g. "3 Mar (1 short)"

    def row(self) -> list[str]:
        return [self.name, f"{self.checked_in:,} of {self.planned:,}", f"{self.walked:,}", f"{self.enrolled:,}",
                ", ".join(self.gaps) or "None"]


@dataclass(frozen=True)
class GroupWeek:
    name: str
    held: int
    came: int  # each parent once
    unrecorded: int  # meetings held with no attendance taken yet

    def row(self) -> list[str]:
        return [self.name, f"{self.held:,}",
                f"{self.came:,}" + (f" ({self.unrecorded} not recorded yet)" if self.unrecorded else "")]


def route_weeks(school_id: int, monday: date) -> list[RouteWeek]:
    """One per route that ran at some point in the week."""
    friday = monday + timedelta(days=SCHOOL_DAYS - 1)
    routes = _routes_in_week(school_id, monday)
    if not routes:
        return []
    planned = Counter(rd.route_id for rd in services.week_route_days(school_id, monday) if rd.children > 0)
    checked = dict(db.session.execute(
        select(WalkingBusWalk.route_id, func.count()).where(
            WalkingBusWalk.school_id == school_id, WalkingBusWalk.date >= monday, WalkingBusWalk.date <= friday,
            WalkingBusWalk.checked_at.is_not(None)).group_by(WalkingBusWalk.route_id)).all())
    walked = dict(db.session.execute(
        select(WalkingBusWalk.route_id, func.count()).join(WalkingBusWalkPupil, WalkingBusWalkPupil.walk_id == WalkingBusWalk.id)
        .where(WalkingBusWalk.school_id == school_id, WalkingBusWalk.date >= monday, WalkingBusWalk.date <= friday)
        .group_by(WalkingBusWalk.route_id)).all())
    gaps: dict[int, list[str]] = {}
    for gap in services.current_gaps(school_id, monday):
        gaps.setdefault(gap.route_id, []).append(f"{short_day(gap.day)} ({gap.short} short)")
    rows: list = []
    for route in routes:
        enrolled = {e.pupil_id for offset in range(SCHOOL_DAYS)
                    for e in services.enrolments_on(route.id, monday + timedelta(days=offset))}
        rows.append(RouteWeek(route.name, planned.get(route.id, 0), int(checked.get(route.id, 0)),
                              int(walked.get(route.id, 0)), len(enrolled), gaps.get(route.id, [])))
    return rows


def group_weeks(school_id: int, monday: date, today: date) -> list[GroupWeek]:
    """One row per active parent group (and any inactive one that met this week). A meeting is
    held when it was not cancelled and its day has come; "parents who came" counts each parent
    once however many meetings they came to."""
    sunday = monday + timedelta(days=6)
    last = min(sunday, today)
    meetings = list(db.session.scalars(select(ParentGroupMeeting).where(
        ParentGroupMeeting.school_id == school_id, ParentGroupMeeting.date >= monday,
        ParentGroupMeeting.date <= last, ParentGroupMeeting.cancelled.is_(False))))
    met = {m.group_id for m in meetings}
    groups = list(db.session.scalars(select(ParentGroup).where(
        ParentGroup.school_id == school_id, ParentGroup.active.is_(True) | ParentGroup.id.in_(met or {-1}))
        .order_by(ParentGroup.name)))
    came: dict[int, set[int]] = {}
    if meetings:
        for group_id, contact_id in db.session.execute(
                select(ParentGroupMeeting.group_id, ParentGroupAttendance.contact_id)
                .join(ParentGroupMeeting, ParentGroupMeeting.id == ParentGroupAttendance.meeting_id)
                .where(ParentGroupAttendance.meeting_id.in_([m.id for m in meetings]))):
            came.setdefault(group_id, set()).add(contact_id)
    rows: list = []
    for group in groups:
        held = [m for m in meetings if m.group_id == group.id]
        unrecorded = sum(1 for m in held if m.attendance_recorded_at is None)
        rows.append(GroupWeek(group.name, len(held), len(came.get(group.id, set())), unrecorded))
    return rows


def walking_bus_section(ctx: DigestContext) -> Section | None:
    sid, monday = ctx.school.id, ctx.week_start
    routes = route_weeks(sid, monday)
    groups = group_weeks(sid, monday, to_london(ctx.now).date())
    if not routes and not groups:
        return None
    paragraphs: list[str] = []
    tables: list[Table] = []
    links: list[Link] = []
    if routes:
        walks, children = sum(r.checked_in for r in routes), sum(r.walked for r in routes)
        short = sum(1 for r in routes if r.gaps)
        paragraphs.append(f"Walking buses: {_plural(walks, 'walk')} checked in, {children:,} "
                          f"{'child' if children == 1 else 'children'} walked."
                          + (f" {_plural(short, 'route')} short of adults on the rota." if short else ""))
        tables.append(Table("Walking buses this week",
                            ["Route", "Walks checked in", "Children walked", "Children with a place", "Rota gaps"],
                            [r.row() for r in routes]))
        links.append(Link("Walking buses", f"/walking-buses/{ctx.school.urn}"))
    if groups:
        meetings = sum(g.held for g in groups)
        paragraphs.append(f"Parent groups: {_plural(meetings, 'meeting')} held, "
                          f"{_plural(sum(g.came for g in groups), 'parent')} came.")
        tables.append(Table("Parent groups this week", ["Group", "Meetings held", "Parents who came"],
                            [g.row() for g in groups]))
        links.append(Link("Parent groups", f"/parent-groups/{ctx.school.urn}"))
    return Section("walking_bus", "Walking buses and parent groups", paragraphs, tables, links)


register_section("walking_bus", walking_bus_section, order=60)
