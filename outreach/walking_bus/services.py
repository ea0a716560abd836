"""What changes walking-bus state. Each public function validates first (a ``UserError`` naming
every problem, nothing written), then writes and commits in one transaction.

Texts go through the outbox only (``outreach.messaging.outbox.enqueue``) with one idempotency key
per business event, so a job or a reply handled twice never texts anyone twice:

* ``wb-schedule:{ambassador}:{iso week}:{rota version}`` the weekly schedule;
* ``wb-change:{ambassador}:{iso week}:{rota version}`` a change notice after the rota changed;
* ``wb-remind:{ambassador}:{date}:{route}`` the evening-before reminder;
* ``wb-arrived:{route}:{date}:{contact}`` a parent's "arrived at school" text.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Sequence

from flask import current_app
from sqlalchemy import delete, select

from outreach.core.errors import NotFound, UserError
from outreach.core.timeutil import LONDON, london_today, to_london, utcnow, week_start
from outreach.extensions import db
from outreach.interventions.services import log_intervention
from outreach.messaging.compose import OutgoingMessage, child_names, textable_phone
from outreach.messaging.outbox import enqueue, enqueue_many, is_opted_out
from outreach.messaging.quiet_hours import QuietHoursPolicy, _parse_time, next_allowed_send, parse_days as parse_week_days
from outreach.messaging.quiet_hours_settings import policy_for_school
from outreach.schools import closures
from outreach.schools.models import Contact, Pupil, PupilContact, School
from outreach.walking_bus import messages, rota as rota_logic
from outreach.walking_bus.models import (CONSENT_METHODS, Ambassador, AmbassadorAbsence, RotaAssignment, RotaWeek,
                                         WalkingBusAlert, WalkingBusEnrolment, WalkingBusRoute, WalkingBusStop,
                                         WalkingBusWalk, WalkingBusWalkPupil)
from outreach.walking_bus.times import days_text, parse_days, pickup_times, short_date

log = logging.getLogger(__name__)

MAX_NAME = 100
WALK_CUTOFF = time(7, 0)  # schedules and reminders for a morning are pointless after this


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def get_route(school_id: int, route_id: int) -> WalkingBusRoute:
    route = db.session.get(WalkingBusRoute, route_id) if 0 < route_id < 2**31 else None
    if route is None or route.school_id != school_id:
        raise NotFound("Route not found")
    return route


def get_ambassador(school_id: int, ambassador_id: int) -> Ambassador:
    row = db.session.get(Ambassador, ambassador_id) if 0 < ambassador_id < 2**31 else None
    if row is None or row.school_id != school_id:
        raise NotFound("Ambassador not found")
    return row


# --- routes, stops, enrolments -----------------------------------------------------------------

def create_route(school: School, *, name: str, days: str | Iterable[str], start_date: date, arrival_time: time,
                 end_date: date | None = None, max_children: int = 18, children_per_adult: int = 6,
                 min_adults: int = 2, created_by: str | None = None) -> WalkingBusRoute:
    """A new route. Defaults follow common local-authority walking-bus guidance: two adults at
    least (one leads, one walks at the back), one adult per six primary-age children."""
    problems: list[str] = []
    name = (name or "").strip()
    if not name:
        problems.append("give the route a name")
    elif len(name) > MAX_NAME:
        problems.append(f"the name is {len(name)} characters; at most {MAX_NAME}")
    try:
        day_numbers = parse_days(days)
        if not day_numbers:
            problems.append("choose at least one day the route runs")
    except ValueError as exc:
        problems.append(str(exc))
        day_numbers = ()
    if end_date is not None and end_date < start_date:
        problems.append("the end date is before the start date")
    if not 1 <= max_children <= 60:
        problems.append("the maximum number of children must be 1 to 60")
    if not 1 <= children_per_adult <= 15:
        problems.append("children per adult must be 1 to 15")
    if not 1 <= min_adults <= 10:
        problems.append("the minimum number of adults must be 1 to 10")
    if name and db.session.scalar(select(WalkingBusRoute.id).where(WalkingBusRoute.school_id == school.id,
                                                                   WalkingBusRoute.name == name)):
        problems.append(f"this school already has a route called {name!r}")
    if problems:
        raise UserError("the route cannot be created", details=problems)
    route = WalkingBusRoute(school_id=school.id, name=name, days=days_text(day_numbers), start_date=start_date,
                            end_date=end_date, arrival_time=arrival_time, max_children=max_children,
                            children_per_adult=children_per_adult, min_adults=min_adults, created_by=created_by)
    db.session.add(route)
    db.session.commit()
    return route


def add_stop(school: School, route_id: int, *, name: str, minutes_to_next: int, description: str | None = None,
             position: int | None = None) -> WalkingBusStop:
    """Add a stop at ``position`` (1 = first; default last). Later stops move down one."""
    route = get_route(school.id, route_id)
    problems = []
    name = (name or "").strip()
    if not name:
        problems.append("give the stop a name")
    elif len(name) > MAX_NAME:
        problems.append(f"the stop name is {len(name)} characters; at most {MAX_NAME}")
    if description and len(description) > 300:
        problems.append("the place description is over 300 characters")
    count = len(route.stops)
    if position is None:
        position = count + 1
    if not 1 <= position <= count + 1:
        problems.append(f"the position must be 1 to {count + 1}")
    minutes = [s.minutes_to_next for s in route.stops]
    minutes.insert(position - 1, minutes_to_next)
    try:
        pickup_times(route.arrival_time, minutes)
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        raise UserError("the stop cannot be added", details=problems)
    # Move later stops down from the end first, so the unique (route, position) holds throughout.
    for stop in sorted(route.stops, key=lambda s: -s.position):
        if stop.position >= position:
            stop.position += 1
            db.session.flush()
    stop = WalkingBusStop(school_id=school.id, route_id=route.id, position=position, name=name,
                          description=_clean(description), minutes_to_next=minutes_to_next)
    db.session.add(stop)
    db.session.commit()
    db.session.refresh(route)
    return stop


def enrolments_on(route_id: int, day: date) -> list[WalkingBusEnrolment]:
    return list(db.session.scalars(
        select(WalkingBusEnrolment).where(
            WalkingBusEnrolment.route_id == route_id, WalkingBusEnrolment.start_date <= day,
            (WalkingBusEnrolment.end_date.is_(None)) | (WalkingBusEnrolment.end_date >= day))
        .order_by(WalkingBusEnrolment.pupil_id)))


def _overlapping(route_id: int, start: date, end: date | None):  # type: ignore[no-untyped-def]
    cond = [WalkingBusEnrolment.route_id == route_id,
            (WalkingBusEnrolment.end_date.is_(None)) | (WalkingBusEnrolment.end_date >= start)]
    if end is not None:
        cond.append(WalkingBusEnrolment.start_date <= end)
    return select(WalkingBusEnrolment).where(*cond)


def enrol(school: School, route_id: int, *, pupil_id: int, stop_id: int, start_date: date, consent_by: str,
          consent_method: str, consent_at: datetime | None = None, consent_contact_id: int | None = None,
          notify_arrival: bool = False, end_date: date | None = None, created_by: str = "officer",
          now: datetime | None = None) -> WalkingBusEnrolment:
    """Give a child a place at a stop, with the parent's consent recorded (who, when, how).

    Refused when the route is full on any day of the place (``max_children`` counts places that
    overlap), when the child already has a place on it then, or without consent. Logs a
    ``walking_bus_place`` intervention, so the child's timeline and "what works here" see it."""
    now = now or utcnow()
    route = get_route(school.id, route_id)
    problems: list[str] = []
    pupil = db.session.get(Pupil, pupil_id) if 0 < pupil_id < 2**31 else None
    if pupil is None or pupil.school_id != school.id:
        raise NotFound("Pupil not found")
    stop = db.session.get(WalkingBusStop, stop_id) if 0 < stop_id < 2**31 else None
    if stop is None or stop.route_id != route.id:
        problems.append("choose a stop on this route")
    consent_by = (consent_by or "").strip()
    if not consent_by:
        problems.append("record who gave consent (the parent or carer's name)")
    elif len(consent_by) > 200:
        problems.append("the consent name is over 200 characters")
    if consent_method not in CONSENT_METHODS:
        problems.append(f"how was consent given? one of: {', '.join(CONSENT_METHODS)}")
    consent_at = consent_at or now
    if consent_at.tzinfo is None:
        problems.append("the consent time must include a time zone")
    elif consent_at > now + timedelta(minutes=5):
        problems.append("consent cannot be recorded in the future")
    if consent_contact_id is not None:
        contact = db.session.get(Contact, consent_contact_id)
        if contact is None or contact.school_id != school.id:
            problems.append("the consenting contact is not a contact of this school")
    if notify_arrival and consent_contact_id is None and not _first_contact(pupil.id):
        problems.append("arrival texts need a contact for the child")
    if end_date is not None and end_date < start_date:
        problems.append("the end date is before the start date")
    if start_date < route.start_date or (route.end_date and start_date > route.end_date):
        problems.append("the place starts outside the route's dates")
    overlapping = list(db.session.scalars(_overlapping(route.id, start_date, end_date)))
    if any(e.pupil_id == pupil.id for e in overlapping):
        problems.append("this child already has a place on this route then")
    elif rota_logic.peak_places([(e.start_date, e.end_date) for e in overlapping], start_date, end_date) >= route.max_children:
        problems.append(f"the route is full: {route.max_children} children is its maximum")
    if problems:
        raise UserError("the child cannot be enrolled", details=problems)
    intervention = log_intervention(
        school, type="walking_bus_place", pupil_ids=[pupil.id], recorded_by=created_by,
        occurred_at=datetime.combine(start_date, time(9, 0), LONDON).astimezone(timezone.utc) if start_date <= to_london(now).date() else now,
        outcome=f"Place on the {route.name} walking bus from {start_date:%d %b %Y}", now=now, commit=False)
    row = WalkingBusEnrolment(school_id=school.id, route_id=route.id, stop_id=stop_id, pupil_id=pupil.id,
                              start_date=start_date, end_date=end_date, consent_contact_id=consent_contact_id,
                              consent_by=consent_by, consent_at=consent_at.astimezone(timezone.utc),
                              consent_method=consent_method, notify_arrival=notify_arrival,
                              intervention_id=intervention.id, created_by=created_by)
    db.session.add(row)
    db.session.commit()
    return row


def end_enrolment(school: School, enrolment_id: int, end_date: date) -> WalkingBusEnrolment:
    row = db.session.get(WalkingBusEnrolment, enrolment_id) if 0 < enrolment_id < 2**31 else None
    if row is None or row.school_id != school.id:
        raise NotFound("Place not found")
    if end_date < row.start_date:
        raise UserError("the place cannot end before it starts", details=[f"it starts {row.start_date:%d %b %Y}"])
    row.end_date = end_date
    db.session.commit()
    return row


def _first_contact(pupil_id: int) -> Contact | None:
    return db.session.scalar(select(Contact).join(PupilContact, PupilContact.contact_id == Contact.id)
                             .where(PupilContact.pupil_id == pupil_id).order_by(PupilContact.priority, Contact.id))


# --- ambassadors -------------------------------------------------------------------------------

def add_ambassador(school: School, *, contact_id: int, days: str | Iterable[str],
                   preferred_route_ids: Sequence[int] = ()) -> Ambassador:
    contact = db.session.get(Contact, contact_id) if 0 < contact_id < 2**31 else None
    if contact is None or contact.school_id != school.id:
        raise NotFound("Contact not found")
    problems = []
    try:
        day_numbers = parse_days(days)
    except ValueError as exc:
        problems.append(str(exc))
        day_numbers = ()
    routes = set(db.session.scalars(select(WalkingBusRoute.id).where(WalkingBusRoute.school_id == school.id)))
    unknown = sorted(set(preferred_route_ids) - routes)
    if unknown:
        problems.append(f"no route(s) {', '.join(map(str, unknown))} at this school")
    existing = db.session.scalar(select(Ambassador).where(Ambassador.school_id == school.id,
                                                          Ambassador.contact_id == contact.id))
    if existing is not None and existing.active:
        problems.append("this contact is already an ambassador")
    if problems:
        raise UserError("the ambassador cannot be added", details=problems)
    row = existing or Ambassador(school_id=school.id, contact_id=contact.id)
    row.days, row.preferred_route_ids, row.active = days_text(day_numbers), sorted(set(preferred_route_ids)), True
    db.session.add(row)
    db.session.commit()
    return row


def set_availability(school: School, ambassador_id: int, *, days: str | Iterable[str],
                     preferred_route_ids: Sequence[int] | None = None, active: bool | None = None) -> Ambassador:
    """Change an ambassador's usual days (and preferences). Existing rotas are not rewritten:
    regenerate a week to apply it there."""
    row = get_ambassador(school.id, ambassador_id)
    try:
        row.days = days_text(parse_days(days))
    except ValueError as exc:
        raise UserError("the availability cannot be saved", details=[str(exc)]) from None
    if preferred_route_ids is not None:
        routes = set(db.session.scalars(select(WalkingBusRoute.id).where(WalkingBusRoute.school_id == school.id)))
        if unknown := sorted(set(preferred_route_ids) - routes):
            raise UserError("the availability cannot be saved", details=[f"no route(s) {unknown} at this school"])
        row.preferred_route_ids = sorted(set(preferred_route_ids))
    if active is not None:
        row.active = active
    db.session.commit()
    return row


# --- the rota ----------------------------------------------------------------------------------

def routes_running(school_id: int, day: date) -> list[WalkingBusRoute]:
    """Routes that walk on ``day``: within their dates, on one of their days, and not on a day
    the school is closed (half terms, INSET days: ``schools.closures``)."""
    if closures.is_closed(school_id, day):
        return []
    routes = db.session.scalars(select(WalkingBusRoute).where(
        WalkingBusRoute.school_id == school_id, WalkingBusRoute.start_date <= day,
        (WalkingBusRoute.end_date.is_(None)) | (WalkingBusRoute.end_date >= day)).order_by(WalkingBusRoute.id))
    return [r for r in routes if day.weekday() in parse_days(r.days)]


def week_route_days(school_id: int, monday: date) -> list[rota_logic.RouteDay]:
    out = []
    for offset in range(5):
        day = monday + timedelta(days=offset)
        for route in routes_running(school_id, day):
            children = len(enrolments_on(route.id, day))
            out.append(rota_logic.RouteDay(route.id, day, children,
                                           rota_logic.adults_needed(children, route.children_per_adult, route.min_adults)))
    return out


def week_adults(school_id: int, monday: date) -> list[rota_logic.Adult]:
    """Active ambassadors with the dates of ``monday``'s week they can walk (absences removed)."""
    absences: dict[int, set[date]] = {}
    for amb_id, day in db.session.execute(select(AmbassadorAbsence.ambassador_id, AmbassadorAbsence.date).where(
            AmbassadorAbsence.school_id == school_id, AmbassadorAbsence.date >= monday,
            AmbassadorAbsence.date < monday + timedelta(days=7))):
        absences.setdefault(amb_id, set()).add(day)
    adults = []
    for amb in db.session.scalars(select(Ambassador).where(Ambassador.school_id == school_id, Ambassador.active)
                                  .order_by(Ambassador.id)):
        usual = set(parse_days(amb.days))
        dates = frozenset(monday + timedelta(days=d) for d in usual) - absences.get(amb.id, set())
        adults.append(rota_logic.Adult(amb.id, dates, frozenset(amb.preferred_route_ids or ())))
    return adults


def get_week(school_id: int, monday: date) -> RotaWeek | None:
    return db.session.scalar(select(RotaWeek).where(RotaWeek.school_id == school_id, RotaWeek.week_start == monday))


def week_assignments(week: RotaWeek) -> list[RotaAssignment]:
    return list(db.session.scalars(select(RotaAssignment).where(RotaAssignment.rota_week_id == week.id)
                                   .order_by(RotaAssignment.date, RotaAssignment.route_id, RotaAssignment.ambassador_id)))


@dataclass
class RotaResult:
    week: RotaWeek
    gaps: list[rota_logic.Gap]
    changed: bool
    notices: int = 0


def _monday(day: date) -> date:
    if day.weekday() != 0:
        raise UserError("a rota week starts on a Monday", details=[f"{day:%A %d %b %Y} is not a Monday"])
    return day


def generate_rota(school: School, monday: date, *, by: str = "system", replace: bool = False,
                  now: datetime | None = None, commit: bool = True) -> RotaResult:
    """Build (or top up) the rota for the week starting ``monday``.

    An existing week keeps its assignments, except ones that are no longer possible (the
    ambassador is now unavailable, inactive, or the route-day no longer runs or needs fewer
    adults); places still open are filled. ``replace`` rebuilds from scratch, keeping only the
    officer's own assignments. Gaps become alerts at once; if the week's schedules were already
    sent, everyone whose walks changed gets a change notice."""
    now = now or utcnow()
    _monday(monday)
    route_days = week_route_days(school.id, monday)
    adults = week_adults(school.id, monday)
    by_id = {a.id: a for a in adults}
    week = get_week(school.id, monday)
    created = week is None
    if week is None:
        week = RotaWeek(school_id=school.id, week_start=monday, version=1, generated_by=by, generated_at=now)
        db.session.add(week)
        db.session.flush()
    existing = week_assignments(week)
    before = {(a.route_id, a.date, a.ambassador_id) for a in existing}
    needed = {rd.key: rd.needed for rd in route_days}
    fixed: dict[tuple[int, date], list[int]] = {}
    keep: list[RotaAssignment] = []
    for a in sorted(existing, key=lambda a: (a.source != "officer", a.id)):
        key = (a.route_id, a.date)
        ok = (a.ambassador_id in by_id and a.date in by_id[a.ambassador_id].available and key in needed
              and len(fixed.get(key, [])) < needed[key] and (not replace or a.source == "officer"))
        if ok:
            fixed.setdefault(key, []).append(a.ambassador_id)
            keep.append(a)
        else:
            db.session.delete(a)
    db.session.flush()
    result = rota_logic.build_rota(route_days, adults, fixed)
    kept = {(a.route_id, a.date, a.ambassador_id) for a in keep}
    for route_id, day, amb_id in result.pairs():
        if (route_id, day, amb_id) not in kept:
            db.session.add(RotaAssignment(school_id=school.id, rota_week_id=week.id, route_id=route_id, date=day,
                                          ambassador_id=amb_id, source="generated", created_by=by))
    after = set(result.pairs())
    changed = created or after != before
    if changed and not created:
        week.version += 1
    week.generated_at, week.generated_by = now, by
    db.session.flush()
    _sync_gap_alerts(school.id, monday, result.gaps, now)
    notices = _change_notices(school, week, before, after, now) if not created else 0
    if commit:
        db.session.commit()
    return RotaResult(week, result.gaps, changed, notices)


@closures.on_change
def _closure_changed(school: School, first: date, last: date) -> None:
    """A closure was added or removed: rework every rota week already made that it touches and
    that is not over. Walks on the closed days go (their ambassadors get a change notice if the
    week's schedules went out); days that reopen are filled. In the closure's own transaction."""
    today = london_today()
    monday = week_start(max(first, today))
    while monday <= last:
        if get_week(school.id, monday) is not None:
            generate_rota(school, monday, by="closure", commit=False)
        monday += timedelta(days=7)


def current_gaps(school_id: int, monday: date) -> list[rota_logic.Gap]:
    """Route-days of the week with fewer adults than they need, from what is stored now."""
    week = get_week(school_id, monday)
    counts: dict[tuple[int, date], int] = {}
    if week is not None:
        for a in week_assignments(week):
            counts[(a.route_id, a.date)] = counts.get((a.route_id, a.date), 0) + 1
    return [rota_logic.Gap(rd.route_id, rd.day, rd.needed, counts.get(rd.key, 0))
            for rd in week_route_days(school_id, monday) if counts.get(rd.key, 0) < rd.needed]


def _route_names(school_id: int) -> dict[int, str]:
    return dict(db.session.execute(select(WalkingBusRoute.id, WalkingBusRoute.name)
                                   .where(WalkingBusRoute.school_id == school_id)).all())


def _sync_gap_alerts(school_id: int, monday: date, gaps: Sequence[rota_logic.Gap], now: datetime) -> None:
    """One open 'gap' alert per short route-day of the week; alerts for filled days resolve."""
    names = _route_names(school_id)
    open_alerts = {(a.route_id, a.date): a for a in db.session.scalars(select(WalkingBusAlert).where(
        WalkingBusAlert.school_id == school_id, WalkingBusAlert.kind == "gap", WalkingBusAlert.resolved_at.is_(None),
        WalkingBusAlert.date >= monday, WalkingBusAlert.date < monday + timedelta(days=7)))}
    wanted = {(g.route_id, g.day): g for g in gaps}
    for key, alert in open_alerts.items():
        if key not in wanted:
            alert.resolved_at, alert.resolved_by = now, "rota filled"
    for key, gap in wanted.items():
        text = (f"{names.get(gap.route_id, 'Route')} on {short_date(gap.day)} is short by {gap.short} "
                f"adult{'s' if gap.short != 1 else ''} ({gap.assigned} of {gap.needed})")
        if key in open_alerts:
            open_alerts[key].text = text
        else:
            db.session.add(WalkingBusAlert(school_id=school_id, route_id=gap.route_id, date=gap.day, kind="gap",
                                           text=text, created_at=now))


def refresh_gaps(school_id: int, monday: date, now: datetime | None = None) -> list[rota_logic.Gap]:
    gaps = current_gaps(school_id, monday)
    _sync_gap_alerts(school_id, monday, gaps, now or utcnow())
    return gaps


def assign(school: School, route_id: int, day: date, ambassador_id: int, *, by: str,
           now: datetime | None = None) -> RotaAssignment:
    """An officer puts an ambassador on a route-day (the week's rota is created if needed)."""
    now = now or utcnow()
    route = get_route(school.id, route_id)
    amb = get_ambassador(school.id, ambassador_id)
    problems = []
    if route not in routes_running(school.id, day):
        problems.append(f"{route.name} does not run on {short_date(day)}")
    if not amb.active:
        problems.append("this ambassador is not active")
    if db.session.scalar(select(AmbassadorAbsence.id).where(AmbassadorAbsence.ambassador_id == amb.id,
                                                            AmbassadorAbsence.date == day)):
        problems.append(f"this ambassador said they cannot walk on {short_date(day)}")
    other = db.session.scalar(select(RotaAssignment).where(RotaAssignment.ambassador_id == amb.id,
                                                           RotaAssignment.date == day))
    if other is not None:
        problems.append("this ambassador already walks " + ("this route" if other.route_id == route.id else
                        f"{_route_names(school.id).get(other.route_id, 'another route')}") + " that morning")
    if problems:
        raise UserError("the ambassador cannot be assigned", details=problems)
    monday = week_start(day)
    week = get_week(school.id, monday)
    if week is None:
        week = RotaWeek(school_id=school.id, week_start=monday, version=0, generated_by=by, generated_at=now)
        db.session.add(week)
        db.session.flush()
    before = {(a.route_id, a.date, a.ambassador_id) for a in week_assignments(week)}
    row = RotaAssignment(school_id=school.id, rota_week_id=week.id, route_id=route.id, date=day,
                         ambassador_id=amb.id, source="officer", created_by=by)
    db.session.add(row)
    week.version += 1
    db.session.flush()
    _after_edit(school, week, before, now)
    db.session.commit()
    return row


def unassign(school: School, assignment_id: int, *, by: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    row = db.session.get(RotaAssignment, assignment_id) if 0 < assignment_id < 2**31 else None
    if row is None or row.school_id != school.id:
        raise NotFound("Assignment not found")
    week = db.session.get(RotaWeek, row.rota_week_id)
    before = {(a.route_id, a.date, a.ambassador_id) for a in week_assignments(week)}
    db.session.delete(row)
    week.version += 1
    db.session.flush()
    _after_edit(school, week, before, now)
    db.session.commit()


def _after_edit(school: School, week: RotaWeek, before: set, now: datetime) -> int:
    after = {(a.route_id, a.date, a.ambassador_id) for a in week_assignments(week)}
    _sync_gap_alerts(school.id, week.week_start, current_gaps(school.id, week.week_start), now)
    return _change_notices(school, week, before, after, now)


# --- texts to ambassadors ----------------------------------------------------------------------

def ambassador_policy(school_id: int) -> QuietHoursPolicy:
    """Quiet hours for ambassadors' rota texts: the school's night window, but not its closed
    days. A rota is work the ambassador has agreed to, and Sunday evening is when next week is
    planned; a text in the night is never acceptable, whatever it is about."""
    policy = policy_for_school(school_id)
    return QuietHoursPolicy(quiet_start=policy.quiet_start, quiet_end=policy.quiet_end, closed_days=frozenset(),
                            timezone=policy.timezone)


def walk_for(route: WalkingBusRoute, day: date) -> messages.Walk:
    stops = route.stops
    first_stop = stops[0].name if stops else "school"
    first_pickup = pickup_times(route.arrival_time, [s.minutes_to_next for s in stops])[0] if stops else route.arrival_time
    return messages.Walk(day, route.name, first_stop, first_pickup, len(enrolments_on(route.id, day)))


def ambassador_walks(school_id: int, ambassador_id: int, monday: date) -> list[messages.Walk]:
    rows = db.session.execute(select(RotaAssignment.route_id, RotaAssignment.date).where(
        RotaAssignment.school_id == school_id, RotaAssignment.ambassador_id == ambassador_id,
        RotaAssignment.date >= monday, RotaAssignment.date < monday + timedelta(days=7))
        .order_by(RotaAssignment.date)).all()
    return [walk_for(get_route(school_id, route_id), day) for route_id, day in rows]


def _ambassador_message(school: School, amb: Ambassador, body: str, purpose: str, key: str,
                        now: datetime) -> OutgoingMessage | None:
    contact = db.session.get(Contact, amb.contact_id)
    phone, problem = textable_phone(contact, school.id, is_opted_out)
    if phone is None:
        log.info("walking bus: ambassador %s cannot be texted (%s)", amb.id, problem[0] if problem else "?")
        return None
    return OutgoingMessage(school_id=school.id, contact_id=contact.id, phone=phone, body=body,
                           language="en", purpose=purpose, pupil_ids=(),
                           not_before_utc=next_allowed_send(now.astimezone(timezone.utc), ambassador_policy(school.id)),
                           idempotency_key=key)


def texting_problem(amb: Ambassador) -> str | None:
    """Why this ambassador's rota texts cannot be sent (for the page), or None."""
    from outreach.messaging.compose import REASONS

    _, problem = textable_phone(amb.contact, amb.school_id, is_opted_out)
    return REASONS[problem[0]] if problem else None


def ambassadors_of(school_id: int) -> list[Ambassador]:
    return list(db.session.scalars(select(Ambassador).where(Ambassador.school_id == school_id)
                                   .order_by(Ambassador.active.desc(), Ambassador.id)))


def iso_week(monday: date) -> str:
    year, number, _ = monday.isocalendar()
    return f"{year}-W{number:02d}"


def _change_notices(school: School, week: RotaWeek, before: set, after: set, now: datetime) -> int:
    """Tell each ambassador whose walks changed (only once their week's schedule has gone; before
    that, the schedule itself carries the latest rota). Past walks are not mentioned."""
    if week.schedules_version is None:
        return 0
    today = to_london(now).date()
    changed = {a for (_, d, a) in before ^ after if d >= today}
    out = []
    for amb_id in sorted(changed):
        amb = db.session.get(Ambassador, amb_id)
        if amb is None:
            continue
        walks = [w for w in ambassador_walks(school.id, amb_id, week.week_start) if w.day >= today]
        body = messages.change(amb.contact.name, week.week_start, walks, school.name)
        msg = _ambassador_message(school, amb, body, "walking_bus_change",
                                  f"wb-change:{amb_id}:{iso_week(week.week_start)}:{week.version}", now)
        if msg:
            out.append(msg)
    enqueue_many(out, created_by="walking bus")
    return len(out)


def send_week_schedules(school: School, monday: date, *, now: datetime | None = None) -> int:
    """Each ambassador on the week's rota gets their walks (generating the rota if missing).
    Sent once per week: later changes go as change notices. Returns messages enqueued."""
    now = now or utcnow()
    week = get_week(school.id, monday)
    if week is None:
        week = generate_rota(school, monday, by="schedule", now=now).week
    if week.schedules_version is not None:
        return 0
    amb_ids = sorted({a.ambassador_id for a in week_assignments(week)})
    out = []
    for amb_id in amb_ids:
        amb = db.session.get(Ambassador, amb_id)
        walks = ambassador_walks(school.id, amb_id, monday)
        body = messages.schedule(amb.contact.name, monday, walks, school.name)
        msg = _ambassador_message(school, amb, body, "walking_bus_schedule",
                                  f"wb-schedule:{amb_id}:{iso_week(monday)}:{week.version}", now)
        if msg:
            out.append(msg)
    enqueue_many(out, created_by="walking bus")
    week.schedules_sent_at, week.schedules_version = now, week.version
    db.session.commit()
    return len(out)


def send_day_reminders(school: School, day: date, *, now: datetime | None = None) -> int:
    """The evening-before reminder for each ambassador walking on ``day``. Skipped when the
    week's schedule went in the previous 24 hours (a Monday walk's reminder would repeat
    Sunday's schedule; anyone put on the rota since then had a change notice)."""
    now = now or utcnow()
    week = get_week(school.id, week_start(day))
    if week is None:
        return 0
    sent = week.schedules_sent_at.replace(tzinfo=timezone.utc) if week.schedules_sent_at and week.schedules_sent_at.tzinfo is None else week.schedules_sent_at
    if sent is not None and abs(reminder_due(day, timing()) - sent) < timedelta(hours=24):
        return 0
    out = []
    for a in week_assignments(week):
        if a.date != day:
            continue
        amb = db.session.get(Ambassador, a.ambassador_id)
        body = messages.reminder(amb.contact.name, walk_for(get_route(school.id, a.route_id), day), school.name)
        msg = _ambassador_message(school, amb, body, "walking_bus_reminder",
                                  f"wb-remind:{a.ambassador_id}:{day.isoformat()}:{a.route_id}", now)
        if msg:
            out.append(msg)
    enqueue_many(out, created_by="walking bus")
    db.session.commit()
    return len(out)


# --- CANT: unavailable, substitute, officer told ------------------------------------------------

@dataclass
class CantResult:
    days: list[date]
    covered: list[tuple[int, date, int]] = field(default_factory=list)  # route, day, substitute
    uncovered: list[tuple[int, date]] = field(default_factory=list)
    alert_ids: list[int] = field(default_factory=list)


def cant_walk(school: School, ambassador_id: int, days: Sequence[date], *, source: str = "sms",
              now: datetime | None = None) -> CantResult:
    """``ambassador_id`` cannot walk on ``days``: record it, take them off those mornings, put
    the best free ambassador on each place (told by a change notice), and alert the officer,
    who sees any place nobody could cover as a gap."""
    now = now or utcnow()
    amb = get_ambassador(school.id, ambassador_id)
    result = CantResult(sorted(set(days)))
    names = _route_names(school.id)
    for day in result.days:
        if not db.session.scalar(select(AmbassadorAbsence.id).where(AmbassadorAbsence.ambassador_id == amb.id,
                                                                    AmbassadorAbsence.date == day)):
            db.session.add(AmbassadorAbsence(school_id=school.id, ambassador_id=amb.id, date=day, source=source,
                                             created_at=now))
        db.session.flush()
        mine = db.session.scalar(select(RotaAssignment).where(RotaAssignment.ambassador_id == amb.id,
                                                              RotaAssignment.date == day))
        if mine is None:
            continue
        week = db.session.get(RotaWeek, mine.rota_week_id)
        before = {(a.route_id, a.date, a.ambassador_id) for a in week_assignments(week)}
        route_id = mine.route_id
        db.session.delete(mine)
        db.session.flush()
        adults = week_adults(school.id, week.week_start)
        assignments = week_assignments(week)
        busy = {a.ambassador_id for a in assignments if a.date == day}
        loads: dict[int, int] = {}
        for a in assignments:
            loads[a.ambassador_id] = loads.get(a.ambassador_id, 0) + 1
        sub = rota_logic.choose_substitute(route_id, day, adults, busy, loads)
        if sub is not None:
            db.session.add(RotaAssignment(school_id=school.id, rota_week_id=week.id, route_id=route_id, date=day,
                                          ambassador_id=sub, source="substitute", created_by="cant reply"))
            result.covered.append((route_id, day, sub))
            text = (f"An ambassador can't walk {names.get(route_id, 'a route')} on {short_date(day)}; "
                    f"a substitute was assigned and told")
        else:
            result.uncovered.append((route_id, day))
            text = (f"An ambassador can't walk {names.get(route_id, 'a route')} on {short_date(day)} and no "
                    f"substitute is free: find cover")
        alert = WalkingBusAlert(school_id=school.id, route_id=route_id, date=day, kind="cant", text=text, created_at=now)
        db.session.add(alert)
        week.version += 1
        db.session.flush()
        result.alert_ids.append(alert.id)
        _after_edit(school, week, before, now)
    db.session.commit()
    return result


# --- check-ins ---------------------------------------------------------------------------------

def _walk(school_id: int, route_id: int, day: date) -> WalkingBusWalk:
    walk = db.session.scalar(select(WalkingBusWalk).where(WalkingBusWalk.route_id == route_id,
                                                          WalkingBusWalk.date == day))
    if walk is None:
        walk = WalkingBusWalk(school_id=school_id, route_id=route_id, date=day)
        db.session.add(walk)
        db.session.flush()
    return walk


def record_arrival(school: School, route_id: int, day: date, *, by: str, at: datetime | None = None,
                   count: int | None = None) -> WalkingBusWalk:
    """The walk reached school (a DONE reply, or the page). The first report's time stands."""
    at = at or utcnow()
    route = get_route(school.id, route_id)
    if count is not None and not 0 <= count <= 200:
        raise UserError("the count must be 0 to 200")
    walk = _walk(school.id, route.id, day)
    if walk.arrived_at is None:
        walk.arrived_at, walk.arrived_reported_by = at, by
    if count is not None:
        walk.reported_count = count
    db.session.commit()
    return walk


def record_count(school: School, route_id: int, day: date, count: int, *, by: str) -> WalkingBusWalk:
    if not 0 <= count <= 200:
        raise UserError("the count must be 0 to 200")
    walk = _walk(school.id, get_route(school.id, route_id).id, day)
    walk.reported_count = count
    db.session.commit()
    return walk


def check_in(school: School, route_id: int, day: date, pupil_ids: Iterable[int], *, by: str,
             now: datetime | None = None) -> WalkingBusWalk:
    """Record which children walked (the page's ticks replace the list). Children newly ticked
    whose parents asked for it get an "arrived at school" text."""
    now = now or utcnow()
    route = get_route(school.id, route_id)
    enrolled = {e.pupil_id: e for e in enrolments_on(route.id, day)}
    wanted = set(pupil_ids)
    if stray := sorted(wanted - enrolled.keys()):
        raise UserError("only children with a place on this route that day can be checked in",
                        details=[f"pupil id {p}" for p in stray])
    walk = _walk(school.id, route.id, day)
    had = {c.pupil_id for c in walk.children}
    walk.children = [c for c in walk.children if c.pupil_id in wanted]
    for pid in sorted(wanted - had):
        walk.children.append(WalkingBusWalkPupil(pupil_id=pid, school_id=school.id))
    walk.checked_by, walk.checked_at = by, now
    if walk.arrived_at is None and wanted:
        walk.arrived_at, walk.arrived_reported_by = now, by
    db.session.flush()
    _arrival_texts(school, route, day, [enrolled[p] for p in sorted(wanted - had) if enrolled[p].notify_arrival],
                   to_london(walk.arrived_at or now).time(), now)
    db.session.commit()
    return walk


def _arrival_texts(school: School, route: WalkingBusRoute, day: date, enrolments: list[WalkingBusEnrolment],
                   at: time, now: datetime) -> None:
    by_contact: dict[int, list[int]] = {}
    for e in enrolments:
        contact = db.session.get(Contact, e.consent_contact_id) if e.consent_contact_id else _first_contact(e.pupil_id)
        if contact is not None:
            by_contact.setdefault(contact.id, []).append(e.pupil_id)
    out = []
    policy = policy_for_school(school.id)
    for contact_id, pids in sorted(by_contact.items()):
        contact = db.session.get(Contact, contact_id)
        phone, _ = textable_phone(contact, school.id, is_opted_out)
        if phone is None:
            continue
        pupils = list(db.session.scalars(select(Pupil).where(Pupil.id.in_(pids))))
        body = messages.arrival(contact.name, child_names(pupils, "en"), route.name, at, school.name)
        key = f"wb-arrived:{route.id}:{day.isoformat()}:{contact_id}:" + ",".join(map(str, sorted(pids)))
        out.append(OutgoingMessage(school_id=school.id, contact_id=contact_id, phone=phone, body=body, language="en",
                                   purpose="walking_bus_arrival", pupil_ids=tuple(sorted(pids)),
                                   not_before_utc=next_allowed_send(now.astimezone(timezone.utc), policy),
                                   idempotency_key=key[:100]))
    enqueue_many(out, created_by="walking bus")


def resolve_alert(school: School, alert_id: int, *, by: str, now: datetime | None = None) -> WalkingBusAlert:
    alert = db.session.get(WalkingBusAlert, alert_id) if 0 < alert_id < 2**31 else None
    if alert is None or alert.school_id != school.id:
        raise NotFound("Alert not found")
    if alert.resolved_at is None:
        alert.resolved_at, alert.resolved_by = now or utcnow(), by
        db.session.commit()
    return alert


# --- settings ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    schedule_weekday: int  # Monday = 0
    schedule_time: time
    reminder_time: time


def timing() -> Timing:
    """``WALKING_BUS_SCHEDULE_DAY`` / ``_TIME`` and ``WALKING_BUS_REMINDER_TIME`` (London)."""
    config = current_app.config
    try:
        days = parse_week_days(config.get("WALKING_BUS_SCHEDULE_DAY") or "sun")
        if len(days) != 1:
            raise ValueError("WALKING_BUS_SCHEDULE_DAY must be one day, e.g. sun")
        return Timing(next(iter(days)), _parse_time(config.get("WALKING_BUS_SCHEDULE_TIME") or "18:00", "schedule time"),
                      _parse_time(config.get("WALKING_BUS_REMINDER_TIME") or "18:00", "reminder time"))
    except ValueError as exc:
        raise RuntimeError(f"walking bus setting: {exc}") from exc


def schedule_due(monday: date, t: Timing) -> datetime:
    """When the schedule for the week starting ``monday`` is due, in UTC: the configured weekday
    of the week before, at the configured London time (18:00 stays 18:00 across clock changes)."""
    due_day = monday - timedelta(days=7) + timedelta(days=t.schedule_weekday)
    return datetime.combine(due_day, t.schedule_time, LONDON).astimezone(timezone.utc)


def walk_morning(day: date) -> datetime:
    return datetime.combine(day, WALK_CUTOFF, LONDON).astimezone(timezone.utc)


def reminder_due(day: date, t: Timing) -> datetime:
    return datetime.combine(day - timedelta(days=1), t.reminder_time, LONDON).astimezone(timezone.utc)


def delete_week(school: School, monday: date) -> None:
    """Drop a week's rota (tests and the CLI's --replace path use generate_rota instead)."""
    week = get_week(school.id, monday)
    if week is not None:
        db.session.execute(delete(RotaAssignment).where(RotaAssignment.rota_week_id == week.id))
        db.session.delete(week)
        db.session.commit()


def contact_display(contact_id: int) -> str:
    contact = db.session.get(Contact, contact_id)
    return contact.name if contact else "?"


def ambassador_labels(school_id: int) -> dict[int, str]:
    return {a.id: a.contact.name for a in db.session.scalars(
        select(Ambassador).where(Ambassador.school_id == school_id).order_by(Ambassador.id))}


def json_safe(value: Any) -> Any:  # small helper for CLI output
    return value.isoformat() if isinstance(value, (date, datetime, time)) else value
