"""Demo step: two walking-bus routes at the primary, as the school in the research ran them.

Both routes started six weeks before the demo's today. Children with a place are drawn mostly
from the pupils who were persistently absent when the routes started (the point of a walking bus)
and partly from their neighbours; each place has a parent's written consent. Six of the primary's
contacts are ambassadors with their usual days. This week's and next week's rotas are generated,
and every past walk is checked in from the register: a child walked that morning if their AM mark
says they were in school. No "arrived" texts are asked for, so loading the demo queues no SMS.
Everything goes through the walking-bus services; choices come from ``ctx.random``.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from outreach.attendance.codes import Category, classify
from outreach.attendance.queries import persistent_absence_list
from outreach.core.timeutil import academic_year_start, week_start
from outreach.demo.steps import DemoContext, register_demo_step
from outreach.extensions import db
from outreach.registers.models import Mark
from outreach.registers.store import week_bounds
from outreach.schools.models import Contact, PupilContact
from outreach.walking_bus import services
from outreach.walking_bus.times import parse_days

LONDON = ZoneInfo("Europe/London")
WEEKS_RUNNING = 6
ROUTES = (
    # name, days, arrival, places, stops (name, description, minutes to the next stop)
    ("Riverside Estate", "mon,tue,wed,thu,fri", time(8, 40), 12,
     (("Community centre", "by the noticeboard at the front doors", 6),
      ("Mill Lane shops", "outside the pharmacy", 5),
      ("St Anne's church gate", "the lych gate on Church Street", 7))),
    ("Park Road", "mon,wed,fri", time(8, 45), 8,
     (("Park Road play area", "the gate nearest the swings", 8),
      ("Brook Street bus stop", "the shelter on the school side", 6))),
)
AMBASSADORS = 6


def _first_contacts(pupil_ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(select(PupilContact.pupil_id, PupilContact.contact_id)
                              .where(PupilContact.pupil_id.in_(pupil_ids))
                              .order_by(PupilContact.pupil_id, PupilContact.priority, PupilContact.contact_id)).all()
    first: dict[int, int] = {}
    for pupil_id, contact_id in rows:
        first.setdefault(pupil_id, contact_id)
    return first


def add_walking_buses(ctx: DemoContext) -> str | None:
    school = ctx.schools.get("primary")
    contacts = ctx.contact_ids.get("primary") or []
    if school is None or not contacts:
        return None
    rng = ctx.random("walking_bus")
    start = week_start(ctx.today) - timedelta(weeks=WEEKS_RUNNING)
    absent = [p.pupil_id for p in persistent_absence_list(school.id, academic_year_start(start), start - timedelta(days=1))]
    on_roll = [pid for pid in ctx.pupil_ids["primary"] if pid not in set(absent)]
    with_contact = _first_contacts(absent + on_roll)
    pool = [p for p in absent if p in with_contact]
    rng.shuffle(pool)
    others = [p for p in on_roll if p in with_contact]
    rng.shuffle(others)

    places = 0
    routes = []
    for name, days, arrival, want, stops in ROUTES:
        route = services.create_route(school, name=name, days=days, start_date=start, arrival_time=arrival,
                                      created_by="demo")
        for stop_name, description, minutes in stops:
            services.add_stop(school, route.id, name=stop_name, description=description, minutes_to_next=minutes)
        stop_ids = [s.id for s in route.stops]
        chosen = [pool.pop() for _ in range(min(len(pool), want * 2 // 3))]
        chosen += [others.pop() for _ in range(min(len(others), want - len(chosen)))]
        consent_at = datetime.combine(start - timedelta(days=3), time(15, 20), LONDON)
        for pupil_id in chosen:
            contact = db.session.get(Contact, with_contact[pupil_id])
            services.enrol(school, route.id, pupil_id=pupil_id, stop_id=rng.choice(stop_ids), start_date=start,
                           consent_by=contact.name, consent_method="written", consent_at=consent_at,
                           consent_contact_id=contact.id, created_by="demo", now=consent_at)
        places += len(chosen)
        routes.append((route, chosen))

    for contact_id in sorted(rng.sample(contacts, min(AMBASSADORS, len(contacts)))):
        days = sorted(rng.sample(["mon", "tue", "wed", "thu", "fri"], rng.randint(2, 4)))
        services.add_ambassador(school, contact_id=contact_id, days=days)
    for monday in (week_start(ctx.today), week_start(ctx.today) + timedelta(days=7)):
        services.generate_rota(school, monday, by="demo")

    walks = 0
    for route, chosen in routes:
        days_run = parse_days(route.days)
        am = db.session.execute(select(Mark.pupil_id, Mark.date, Mark.code).where(
            Mark.pupil_id.in_(chosen), Mark.week_start.between(*week_bounds(start, ctx.today)), Mark.session == "AM",
            Mark.date >= start, Mark.date < ctx.today)).all()
        came: dict[date, list[int]] = {}
        for pupil_id, day, code in am:
            if day.weekday() in days_run and classify(code, day) is Category.PRESENT:
                came.setdefault(day, []).append(pupil_id)
        for day in sorted(came):
            arrived = datetime.combine(day, route.arrival_time, LONDON)
            services.check_in(school, route.id, day, sorted(came[day]), by="demo", now=arrived)
            walks += 1
    return f"{len(routes)} walking bus routes, {places} places, {AMBASSADORS} ambassadors, {walks} walks checked in"


register_demo_step("walking buses", add_walking_buses, order=20)
