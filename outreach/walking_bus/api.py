"""``/api/v1`` for walking buses: routes with stops and times, places (audited), the week's rota
with its gaps, check-ins beside the register (audited), and impact."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, time
from typing import Any, Iterator

from flask_login import current_user

from outreach.core import audit
from outreach.core.api import ApiBlueprint
from outreach.core.errors import Conflict, UserError
from outreach.core.scoping import require_school
from outreach.core.timeutil import london_today, week_start
from outreach.interventions.schemas import ImpactQuery, ImpactResultOut
from outreach.walking_bus import queries, services
from outreach.walking_bus.schemas import (CheckInIn, CheckInOut, CheckInQuery, PlaceIn, PlaceOut, RouteDetailOut, RouteIn,
                                          RouteListOut, RouteOut, RotaIn, RotaOut, StopIn, StopOut, WeekQuery)
from outreach.walking_bus.times import WEEKDAYS

bp = ApiBlueprint("walking_bus_api", __name__, tag="Walking buses",
                  description="Walking-bus routes, places, the weekly rota, check-ins and impact.")
BASE = "/schools/<urn>/walking-bus"
CONFLICT = ("409: the body is well formed but the school's data does not allow it (a name already in use, "
            "a full route, a date outside the route's, a child without a place that day); the details say which.")


@contextmanager
def as_conflicts() -> Iterator[None]:
    """A service's refusal of schema-valid input is a 409 with the service's own words: the
    schema checked the shape, the data decided."""
    try:
        yield
    except UserError as exc:
        if exc.status_code != 400:
            raise
        raise Conflict(exc.message, exc.details) from None


def _route_out(route: Any, on: date) -> dict[str, Any]:
    out = queries.route_summary(route, on)
    out["days"] = [WEEKDAYS[d] for d in out["days"]]
    out["stops"] = [s.__dict__ for s in out["stops"]]
    return out


def _place_out(place: queries.Place) -> dict[str, Any]:
    e = place.enrolment
    return {"id": e.id, "pupil_id": e.pupil_id, "display_name": place.pupil.display_name, "stop_id": e.stop_id,
            "stop_name": place.stop_name, "start_date": e.start_date, "end_date": e.end_date, "consent_by": e.consent_by,
            "consent_method": e.consent_method, "consent_at": e.consent_at, "notify_arrival": e.notify_arrival}


@bp.endpoint(BASE + "/routes", summary="Walking-bus routes of a school", response=RouteListOut)
def list_routes(urn: str) -> dict[str, Any]:
    school = require_school(current_user, urn)
    today = london_today()
    return {"data": [_route_out(r, today) for r in queries.routes(school.id)]}


@bp.endpoint(BASE + "/routes", summary="Create a route", methods=["POST"], body=RouteIn, response=RouteOut, status=201,
             errors=(400, 403, 404, 409), description=CONFLICT)
def create_route(urn: str, body: dict[str, Any]) -> dict[str, Any]:
    school = require_school(current_user, urn, write=True)
    with as_conflicts():
        route = services.create_route(school, created_by=current_user.email,
                                      **{**body, "arrival_time": time.fromisoformat(body["arrival_time"])})
    return _route_out(route, london_today())


@bp.endpoint(BASE + "/routes/<int:route_id>", summary="A route with its stops and today's places", response=RouteDetailOut,
             audited=True, errors=(404,))
def get_route(urn: str, route_id: int) -> dict[str, Any]:
    school = require_school(current_user, urn)
    route = services.get_route(school.id, route_id)
    places = queries.places(route, london_today())
    audit.record("pupils.list", school=school, pupil_ids=[p.pupil.id for p in places], detail={"walking_bus_route": route.id})
    return {**_route_out(route, london_today()), "places": [_place_out(p) for p in places]}


@bp.endpoint(BASE + "/routes/<int:route_id>/stops", summary="Add a stop", methods=["POST"], body=StopIn, response=StopOut,
             status=201, errors=(400, 403, 404, 409), description=CONFLICT)
def add_stop(urn: str, route_id: int, body: dict[str, Any]) -> dict[str, Any]:
    school = require_school(current_user, urn, write=True)
    with as_conflicts():
        stop = services.add_stop(school, route_id, **body)
    route = services.get_route(school.id, route_id)
    return next(s.__dict__ for s in queries.stop_times(route) if s.id == stop.id)


@bp.endpoint(BASE + "/routes/<int:route_id>/places", summary="Give a child a place (with consent)", methods=["POST"],
             body=PlaceIn, response=PlaceOut, status=201, errors=(400, 403, 404, 409), description=CONFLICT)
def enrol(urn: str, route_id: int, body: dict[str, Any]) -> dict[str, Any]:
    school = require_school(current_user, urn, write=True)
    with as_conflicts():
        row = services.enrol(school, route_id, created_by=current_user.email, **body)
    from outreach.extensions import db
    from outreach.schools.models import Pupil

    return _place_out(queries.Place(row, db.session.get(Pupil, row.pupil_id), row.stop.name))


def _rota_out(school_id: int, monday: date) -> dict[str, Any]:
    cal = queries.week_calendar(school_id, monday)
    cells = [{**c.__dict__, "short": c.short} for _, row in cal.rows for c in row]
    return {"week_start": monday, "version": cal.version, "schedules_sent": cal.schedules_sent, "cells": cells,
            "gaps": len(cal.gaps)}


@bp.endpoint(BASE + "/rota", summary="The week's rota, with gaps", query=WeekQuery, response=RotaOut)
def get_rota(urn: str, query: dict[str, Any]) -> dict[str, Any]:
    school = require_school(current_user, urn)
    return _rota_out(school.id, week_start(query.get("week") or london_today()))


@bp.endpoint(BASE + "/rota", summary="Generate (or top up) a week's rota", methods=["POST"], body=RotaIn, response=RotaOut,
             errors=(400, 403, 404, 409), description=CONFLICT)
def generate_rota(urn: str, body: dict[str, Any]) -> dict[str, Any]:
    school = require_school(current_user, urn, write=True)
    monday = week_start(body["week"])
    with as_conflicts():
        services.generate_rota(school, monday, by=current_user.email, replace=body["replace"])
    return _rota_out(school.id, monday)


def _check_in_out(school_id: int, route: Any, day: date) -> dict[str, Any]:
    view = queries.check_in_view(school_id, route, day)
    return {"route_id": route.id, "date": day, "arrived_at": view.walk.arrived_at if view.walk else None,
            "reported_count": view.walk.reported_count if view.walk else None,
            "children": [{"pupil_id": r.pupil.id, "display_name": r.pupil.display_name, "stop_name": r.stop_name,
                          "walked": r.walked, "am_code": r.am_code, "arrived": r.arrived, "flagged": r.flagged}
                         for r in view.rows]}


@bp.endpoint(BASE + "/routes/<int:route_id>/check-ins", summary="A morning's check-in beside the register",
             query=CheckInQuery, response=CheckInOut, audited=True, errors=(404,))
def get_check_in(urn: str, route_id: int, query: dict[str, Any]) -> dict[str, Any]:
    school = require_school(current_user, urn)
    route = services.get_route(school.id, route_id)
    out = _check_in_out(school.id, route, query.get("date") or london_today())
    audit.record("pupils.list", school=school, pupil_ids=[c["pupil_id"] for c in out["children"]],
                 detail={"walking_bus_check_in": route.id})
    return out


@bp.endpoint(BASE + "/routes/<int:route_id>/check-ins", summary="Record which children walked", methods=["POST"],
             body=CheckInIn, response=CheckInOut, errors=(400, 403, 404, 409), description=CONFLICT)
def save_check_in(urn: str, route_id: int, body: dict[str, Any]) -> dict[str, Any]:
    school = require_school(current_user, urn, write=True)
    with as_conflicts():
        services.check_in(school, route_id, body["date"], body["pupil_ids"], by=current_user.email)
    return _check_in_out(school.id, services.get_route(school.id, route_id), body["date"])


@bp.endpoint(BASE + "/routes/<int:route_id>/impact", summary="Attendance before and since joining, against similar pupils",
             query=ImpactQuery, response=ImpactResultOut, errors=(404,))
def route_impact(urn: str, route_id: int, query: dict[str, Any]) -> Any:
    school = require_school(current_user, urn)
    route = services.get_route(school.id, route_id)
    return queries.route_impact(school.id, route.id, weeks=query["weeks"], min_pupils=query["min_pupils"])
