"""Walking-bus and parent-group rows in the dashboard test world, made when a route-walk case
first asks for them (so other tests of the world pay nothing)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from outreach.core.timeutil import london_today, week_start
from outreach.extensions import db
from outreach.parent_groups import services as pg
from outreach.schools.models import School
from outreach.walking_bus import services
from outreach.walking_bus.models import WalkingBusAlert
from tests.dashboard.world import World
from tests.walking_bus.builders import enrol_children, make_ambassador, make_route


def _build(school: School) -> dict[str, int]:
    today = london_today()
    monday = week_start(today)
    route = make_route(school, "World route", start=monday - timedelta(days=7))
    enrol_children(school, route, 1, start=monday)
    amb = make_ambassador(school, f"Ambassador {school.urn}")
    assignment = services.assign(school, route.id, monday, amb.id, by="world")
    alert = WalkingBusAlert(school_id=school.id, route_id=route.id, date=monday, kind="gap", text="World gap")
    db.session.add(alert)
    group = pg.create_group(school, name="World group", weekday=today.weekday(), start_time=route.arrival_time,
                            place="Hall")
    meeting = pg.schedule_meeting(school, group.id, today + timedelta(days=7))
    db.session.commit()
    return {"route": route.id, "stop": route.stops[0].id, "place": services.enrolments_on(route.id, monday)[0].id,
            "ambassador": amb.id, "assignment": assignment.id, "alert": alert.id, "group": group.id,
            "meeting": meeting.id}


def wb(key: str, what: str) -> Callable[[World], Any]:
    """The id of ``what`` (route, stop, place, ambassador, assignment, alert, group, meeting) at
    school ``key`` of the world; "missing" gives an id no row has."""
    def get(w: World) -> Any:
        if key == "missing":
            return 2_000_000
        store = w.extra.setdefault("walking_bus", {})
        if key not in store:
            store[key] = _build(w.schools[key])
        return store[key][what]
    return get
