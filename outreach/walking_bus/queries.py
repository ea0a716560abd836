"""Read helpers for the walking-bus pages, API and CLI: routes with their times, the week's rota
as a calendar, a morning's check-in beside the register, and impact."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import select

from outreach.attendance.codes import Category, UnknownCode, classify, lookup
from outreach.extensions import db
from outreach.impact.data import measure_programme
from outreach.impact.stats import MIN_PUPILS, ImpactResult
from outreach.registers.models import Mark
from outreach.registers.store import week_bounds
from outreach.schools.models import Pupil
from outreach.walking_bus import services
from outreach.walking_bus.models import (RotaAssignment, WalkingBusAlert, WalkingBusEnrolment,
                                         WalkingBusRoute, WalkingBusWalk)
from outreach.walking_bus.rota import adults_needed
from outreach.walking_bus.times import days_label, parse_days, pickup_times


@dataclass(frozen=True)
class StopTime:
    id: int
    position: int
    name: str
    description: str | None
    minutes_to_next: int
    pickup: time


def stop_times(route: WalkingBusRoute) -> list[StopTime]:
    times = pickup_times(route.arrival_time, [s.minutes_to_next for s in route.stops]) if route.stops else []
    return [StopTime(s.id, s.position, s.name, s.description, s.minutes_to_next, t) for s, t in zip(route.stops, times)]


def routes(school_id: int) -> list[WalkingBusRoute]:
    return list(db.session.scalars(select(WalkingBusRoute).where(WalkingBusRoute.school_id == school_id)
                                   .order_by(WalkingBusRoute.name)))


def route_summary(route: WalkingBusRoute, on: date) -> dict[str, Any]:
    children = len(services.enrolments_on(route.id, on))
    return {"id": route.id, "name": route.name, "days": parse_days(route.days), "days_label": days_label(parse_days(route.days)),
            "start_date": route.start_date, "end_date": route.end_date, "arrival_time": route.arrival_time,
            "max_children": route.max_children, "children_per_adult": route.children_per_adult,
            "min_adults": route.min_adults, "children": children,
            "adults_needed": adults_needed(children, route.children_per_adult, route.min_adults),
            "stops": stop_times(route)}


@dataclass
class Place:
    enrolment: WalkingBusEnrolment
    pupil: Pupil
    stop_name: str


def places(route: WalkingBusRoute, on: date) -> list[Place]:
    stops = {s.id: s.name for s in route.stops}
    enrolments = services.enrolments_on(route.id, on)
    pupils = {p.id: p for p in db.session.scalars(select(Pupil).where(Pupil.id.in_([e.pupil_id for e in enrolments])))}
    out = [Place(e, pupils[e.pupil_id], stops.get(e.stop_id, "?")) for e in enrolments]
    return sorted(out, key=lambda p: (p.enrolment.stop.position, p.pupil.surname, p.pupil.forename))


@dataclass
class Cell:
    route_id: int
    day: date
    runs: bool
    children: int = 0
    needed: int = 0
    people: list[dict[str, Any]] = field(default_factory=list)  # assignment_id, ambassador_id, name, source

    @property
    def short(self) -> int:
        return max(0, self.needed - len(self.people))


@dataclass
class WeekCalendar:
    monday: date
    days: list[date]
    rows: list[tuple[WalkingBusRoute, list[Cell]]]
    version: int | None
    schedules_sent: bool

    @property
    def gaps(self) -> list[Cell]:
        return [c for _, cells in self.rows for c in cells if c.runs and c.short]


def week_calendar(school_id: int, monday: date) -> WeekCalendar:
    days = [monday + timedelta(days=i) for i in range(5)]
    week = services.get_week(school_id, monday)
    labels = services.ambassador_labels(school_id)
    assigned: dict[tuple[int, date], list[RotaAssignment]] = {}
    if week is not None:
        for a in services.week_assignments(week):
            assigned.setdefault((a.route_id, a.date), []).append(a)
    need = {rd.key: rd for rd in services.week_route_days(school_id, monday)}
    rows = []
    for route in routes(school_id):
        cells = []
        for day in days:
            rd = need.get((route.id, day))
            people = [{"assignment_id": a.id, "ambassador_id": a.ambassador_id, "name": labels.get(a.ambassador_id, "?"),
                       "source": a.source} for a in assigned.get((route.id, day), [])]
            cells.append(Cell(route.id, day, rd is not None, rd.children if rd else 0, rd.needed if rd else 0, people))
        rows.append((route, cells))
    return WeekCalendar(monday, days, rows, week.version if week else None,
                        bool(week and week.schedules_version is not None))


def open_alerts(school_id: int, limit: int = 50) -> list[WalkingBusAlert]:
    return list(db.session.scalars(select(WalkingBusAlert).where(
        WalkingBusAlert.school_id == school_id, WalkingBusAlert.resolved_at.is_(None))
        .order_by(WalkingBusAlert.date, WalkingBusAlert.created_at).limit(limit)))


@dataclass(frozen=True)
class CheckInRow:
    pupil: Pupil
    stop_name: str
    walked: bool
    am_code: str | None
    am_meaning: str | None
    arrived: bool  # present (or approved educational activity) in the morning register
    flagged: bool  # neither walked nor present: someone should find out where the child is


@dataclass
class CheckIn:
    route: WalkingBusRoute
    day: date
    walk: WalkingBusWalk | None
    rows: list[CheckInRow]

    @property
    def flagged(self) -> list[CheckInRow]:
        return [r for r in self.rows if r.flagged]


def check_in_view(school_id: int, route: WalkingBusRoute, day: date) -> CheckIn:
    """Each child with a place that morning, whether they walked, and their AM register mark.
    A child is flagged when they did not walk and the register does not show them present
    (no mark yet counts as not present: the register is the school's own record)."""
    walk = db.session.scalar(select(WalkingBusWalk).where(WalkingBusWalk.route_id == route.id, WalkingBusWalk.date == day))
    walked = {c.pupil_id for c in walk.children} if walk else set()
    rows = []
    the_places = places(route, day)
    marks = dict(db.session.execute(select(Mark.pupil_id, Mark.code).where(
        Mark.school_id == school_id, Mark.week_start == week_bounds(day, day)[0], Mark.date == day, Mark.session == "AM",
        Mark.pupil_id.in_([p.pupil.id for p in the_places]))).all())
    for place in the_places:
        code = marks.get(place.pupil.id)
        meaning, present = None, False
        if code:
            try:
                meaning = lookup(code, day).meaning
                present = classify(code, day) in (Category.PRESENT, Category.AEA)
            except UnknownCode:
                meaning = "unknown code"
        did_walk = place.pupil.id in walked
        rows.append(CheckInRow(place.pupil, place.stop_name, did_walk, code, meaning, present, not did_walk and not present))
    return CheckIn(route, day, walk, rows)


def participants(route_id: int) -> dict[int, date]:
    """Each child ever given a place on the route, with the date of their first place."""
    out: dict[int, date] = {}
    for pupil_id, start in db.session.execute(select(WalkingBusEnrolment.pupil_id, WalkingBusEnrolment.start_date)
                                              .where(WalkingBusEnrolment.route_id == route_id)):
        out[pupil_id] = min(start, out.get(pupil_id, start))
    return out


def route_impact(school_id: int, route_id: int, weeks: int = 6, min_pupils: int = MIN_PUPILS) -> ImpactResult:
    """Children on the route: attendance in the ``weeks`` school weeks before their place and the
    ``weeks`` from it, against similar pupils with no place on any route (one impact module)."""
    on_any = set(db.session.scalars(select(WalkingBusEnrolment.pupil_id).where(WalkingBusEnrolment.school_id == school_id)))
    return measure_programme(school_id, participants(route_id), label="children on the route", weeks=weeks,
                             min_pupils=min_pupils, exclude=on_any)
