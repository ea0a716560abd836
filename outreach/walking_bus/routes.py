"""Walking-bus pages: routes with stops and times, places, ambassadors, the rota as a week
calendar with gaps highlighted, morning check-ins beside the register, and impact.

Views are thin: parse the form (``forms``), call a service, flash the outcome, redirect. A
``UserError`` is flashed with its details and changes nothing."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from outreach.core import audit
from outreach.core.errors import UserError
from outreach.core.scoping import can_write, require_school, visible_schools
from outreach.core.timeutil import london_today, week_start
from outreach.extensions import db
from outreach.messaging.quiet_hours import DAY_NAMES
from outreach.schools import closures
from outreach.schools.models import Contact, Pupil
from outreach.walking_bus import forms, queries, services
from outreach.walking_bus.models import CONSENT_METHODS, WalkingBusAlert, WalkingBusRoute
from outreach.walking_bus.times import WEEKDAYS, days_label, parse_days

bp = Blueprint("walking_bus", __name__, url_prefix="/walking-buses")

MAX_CHOICES = 1000  # pupils/contacts offered in a select; beyond, type the id


def _by() -> str:
    return current_user.email


@bp.get("")
@login_required
def index():  # type: ignore[no-untyped-def]
    schools = visible_schools(current_user)[:200]
    ids = [s.id for s in schools]
    routes = dict(db.session.execute(select(WalkingBusRoute.school_id, func.count()).where(
        WalkingBusRoute.school_id.in_(ids)).group_by(WalkingBusRoute.school_id)).all()) if ids else {}
    alerts = dict(db.session.execute(select(WalkingBusAlert.school_id, func.count()).where(
        WalkingBusAlert.school_id.in_(ids), WalkingBusAlert.resolved_at.is_(None))
        .group_by(WalkingBusAlert.school_id)).all()) if ids else {}
    return render_template("walking_bus/index.html", schools=schools, routes=routes, alerts=alerts)


@bp.get("/<urn>")
@login_required
def school(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    today = london_today()
    routes = [queries.route_summary(r, today) for r in queries.routes(school.id)]
    ambassadors = services.ambassadors_of(school.id)
    route_names = {r["id"]: r["name"] for r in routes}
    contacts = list(db.session.scalars(select(Contact).where(Contact.school_id == school.id)
                                       .order_by(Contact.name).limit(MAX_CHOICES)))
    return render_template("walking_bus/school.html", school=school, routes=routes, ambassadors=ambassadors,
                           alerts=queries.open_alerts(school.id), route_names=route_names, contacts=contacts,
                           texting={a.id: services.texting_problem(a) for a in ambassadors},
                           can_write=can_write(current_user, school), weekdays=WEEKDAYS, parse_days=parse_days,
                           days_label=days_label, today=today, this_week=week_start(today),
                           closures=closures.closures_of(school.id, from_day=today), describe_closure=closures.describe)


@bp.post("/<urn>/closures")
@login_required
def add_closure(urn: str):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        row = closures.add_closure(school, forms.day("first_day"), forms.day("last_day", required=False),
                                   forms.text("reason", max_len=closures.MAX_REASON) or "", by=_by())
        return f"Closure recorded ({closures.describe(row)}): no walks and no group meetings then."
    return forms.change(urn, act, url_for("walking_bus.school", urn=urn) + "#closures-heading")


@bp.post("/<urn>/closures/<int:closure_id>/delete")
@login_required
def delete_closure(urn: str, closure_id: int):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        closures.delete_closure(school, closure_id)
        return "Closure removed: walks on those days are back on the rota."
    return forms.change(urn, act, url_for("walking_bus.school", urn=urn) + "#closures-heading")


@bp.post("/<urn>/routes")
@login_required
def create_route(urn: str):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        route = services.create_route(
            school, name=forms.text("name", required=True, max_len=100) or "",
            days=request.form.getlist("days"), start_date=forms.day("start_date"),
            end_date=forms.day("end_date", required=False), arrival_time=forms.clock("arrival_time"),
            max_children=forms.integer("max_children", lo=1, hi=60), children_per_adult=forms.integer("children_per_adult", lo=1, hi=15),
            min_adults=forms.integer("min_adults", lo=1, hi=10), created_by=_by())
        return f"Route {route.name} created. Add its stops next."
    return forms.change(urn, act, url_for("walking_bus.school", urn=urn))


@bp.get("/<urn>/routes/<int:route_id>")
@login_required
def route(urn: str, route_id: int):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    route = services.get_route(school.id, route_id)
    today = london_today()
    places = queries.places(route, today)
    pupils = list(db.session.scalars(select(Pupil).where(Pupil.school_id == school.id, Pupil.leaving_date.is_(None) | (Pupil.leaving_date >= today))
                                     .order_by(Pupil.surname, Pupil.forename).limit(MAX_CHOICES)))
    weeks = forms.weeks_arg()
    impact = queries.route_impact(school.id, route.id, weeks=weeks)
    audit.record("pupils.list", school=school, pupil_ids=[p.pupil.id for p in places],
                 detail={"walking_bus_route": route.id})
    return render_template("walking_bus/route.html", school=school, route=route, summary=queries.route_summary(route, today),
                           places=places, pupils=pupils, consent_methods=CONSENT_METHODS, impact=impact, weeks=weeks,
                           can_write=can_write(current_user, school), today=today)


@bp.post("/<urn>/routes/<int:route_id>/stops")
@login_required
def add_stop(urn: str, route_id: int):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        stop = services.add_stop(school, route_id, name=forms.text("name", required=True, max_len=100) or "",
                                 description=forms.text("description"), minutes_to_next=forms.integer("minutes_to_next", lo=0, hi=120),
                                 position=forms.integer("position", required=False, lo=1, hi=100))
        return f"Stop {stop.name} added."
    return forms.change(urn, act, url_for("walking_bus.route", urn=urn, route_id=route_id))


@bp.post("/<urn>/routes/<int:route_id>/places")
@login_required
def enrol(urn: str, route_id: int):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        services.enrol(school, route_id, pupil_id=forms.integer("pupil_id", lo=1), stop_id=forms.integer("stop_id", lo=1),
                       start_date=forms.day("start_date"), consent_by=forms.text("consent_by", required=True, max_len=200) or "",
                       consent_method=forms.text("consent_method", required=True, max_len=20) or "",
                       notify_arrival=forms.checked("notify_arrival"), created_by=_by())
        return "Place added, with the consent recorded."
    return forms.change(urn, act, url_for("walking_bus.route", urn=urn, route_id=route_id))


@bp.post("/<urn>/places/<int:enrolment_id>/end")
@login_required
def end_place(urn: str, enrolment_id: int):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        row = services.end_enrolment(school, enrolment_id, forms.day("end_date"))
        return f"The place ends on {row.end_date:%d %b %Y}."
    back = request.form.get("route_id", "")
    target = url_for("walking_bus.route", urn=urn, route_id=int(back)) if back.isdigit() else url_for("walking_bus.school", urn=urn)
    return forms.change(urn, act, target)


@bp.post("/<urn>/ambassadors")
@login_required
def add_ambassador(urn: str):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        services.add_ambassador(school, contact_id=forms.integer("contact_id", lo=1), days=request.form.getlist("days"),
                                preferred_route_ids=forms.ids("preferred_route_ids"))
        return "Ambassador added."
    return forms.change(urn, act, url_for("walking_bus.school", urn=urn))


@bp.post("/<urn>/ambassadors/<int:ambassador_id>")
@login_required
def update_ambassador(urn: str, ambassador_id: int):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        services.set_availability(school, ambassador_id, days=request.form.getlist("days"),
                                  preferred_route_ids=forms.ids("preferred_route_ids"),
                                  active=request.form.get("active") != "0")
        return "Availability saved. Regenerate a week's rota to apply it there."
    return forms.change(urn, act, url_for("walking_bus.school", urn=urn))


def _week_arg() -> date:
    try:
        chosen = forms.day("week", required=False, source="args", default=None)
    except UserError:
        chosen = None
    return week_start(chosen or london_today())


@bp.get("/<urn>/rota")
@login_required
def rota(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    monday = _week_arg()
    calendar = queries.week_calendar(school.id, monday)
    ambassadors = [a for a in services.ambassadors_of(school.id) if a.active]
    return render_template("walking_bus/rota.html", school=school, cal=calendar, ambassadors=ambassadors,
                           alerts=queries.open_alerts(school.id), can_write=can_write(current_user, school),
                           prev_week=monday - timedelta(days=7), next_week=monday + timedelta(days=7),
                           day_names=DAY_NAMES)


@bp.post("/<urn>/rota/generate")
@login_required
def generate(urn: str):  # type: ignore[no-untyped-def]
    monday = week_start(forms.day("week", required=False, default=london_today()) or london_today())

    def act(school):  # type: ignore[no-untyped-def]
        result = services.generate_rota(school, monday, by=_by(), replace=forms.checked("replace"))
        gaps = f" {len(result.gaps)} route-day(s) are short of adults: see the highlighted cells." if result.gaps else " Every walk has enough adults."
        return f"Rota for the week of {monday:%d %b} {'updated' if result.changed else 'unchanged'}.{gaps}"
    return forms.change(urn, act, url_for("walking_bus.rota", urn=urn, week=monday.isoformat()))


@bp.post("/<urn>/rota/assign")
@login_required
def assign(urn: str):  # type: ignore[no-untyped-def]
    day = forms.day("date", required=False) or london_today()

    def act(school):  # type: ignore[no-untyped-def]
        services.assign(school, forms.integer("route_id", lo=1), day, forms.integer("ambassador_id", lo=1), by=_by())
        return "Ambassador assigned; anyone whose walks changed is told once the week's schedule has gone."
    return forms.change(urn, act, url_for("walking_bus.rota", urn=urn, week=week_start(day).isoformat()))


@bp.post("/<urn>/rota/unassign/<int:assignment_id>")
@login_required
def unassign(urn: str, assignment_id: int):  # type: ignore[no-untyped-def]
    week = forms.day("week", required=False, default=london_today()) or london_today()

    def act(school):  # type: ignore[no-untyped-def]
        services.unassign(school, assignment_id, by=_by())
        return "Taken off the rota; they are told if their schedule had gone."
    return forms.change(urn, act, url_for("walking_bus.rota", urn=urn, week=week_start(week).isoformat()))


@bp.post("/<urn>/alerts/<int:alert_id>/resolve")
@login_required
def resolve_alert(urn: str, alert_id: int):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        services.resolve_alert(school, alert_id, by=_by())
        return "Marked as dealt with."
    return forms.change(urn, act, request.form.get("next") if (request.form.get("next") or "").startswith("/walking-buses/")
                 else url_for("walking_bus.school", urn=urn))


@bp.get("/<urn>/routes/<int:route_id>/check-in")
@login_required
def check_in(urn: str, route_id: int):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    route = services.get_route(school.id, route_id)
    try:
        day = forms.day("date", required=False, source="args", default=london_today()) or london_today()
    except UserError:
        day = london_today()
    view = queries.check_in_view(school.id, route, day)
    audit.record("pupils.list", school=school, pupil_ids=[r.pupil.id for r in view.rows],
                 detail={"walking_bus_check_in": route.id, "date": day.isoformat()})
    return render_template("walking_bus/check_in.html", school=school, route=route, view=view, day=day,
                           runs=route in services.routes_running(school.id, day),
                           prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
                           can_write=can_write(current_user, school))


@bp.post("/<urn>/routes/<int:route_id>/check-in")
@login_required
def save_check_in(urn: str, route_id: int):  # type: ignore[no-untyped-def]
    day = forms.day("date", required=False, default=london_today()) or london_today()

    def act(school):  # type: ignore[no-untyped-def]
        walk = services.check_in(school, route_id, day, forms.ids("walked"), by=_by())
        return f"Check-in saved: {len(walk.children)} children walked."
    return forms.change(urn, act, url_for("walking_bus.check_in", urn=urn, route_id=route_id, date=day.isoformat()))
