"""Builders for walking-bus tests: real rows through the real services."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from itertools import count

from outreach.schools.models import Pupil, School
from outreach.walking_bus import services
from outreach.walking_bus.models import Ambassador, WalkingBusRoute
from tests.factories import make_contact, make_pupil

_phones = count(100)
CONSENT_AT = datetime(2026, 1, 2, 10, 0, tzinfo=timezone.utc)


def phone() -> str:
    return f"+4477009{next(_phones):05d}"


def make_route(school: School, name: str = "Green Lane", *, days: str = "mon,tue,wed,thu,fri",
               start: date = date(2026, 1, 5), arrival: time = time(8, 40), max_children: int = 18,
               per_adult: int = 6, min_adults: int = 2,
               stops: tuple[tuple[str, int], ...] = (("Library", 5), ("Park gate", 7), ("Corner shop", 10))) -> WalkingBusRoute:
    route = services.create_route(school, name=name, days=days, start_date=start, arrival_time=arrival,
                                  max_children=max_children, children_per_adult=per_adult, min_adults=min_adults,
                                  created_by="test")
    for stop_name, minutes in stops:
        services.add_stop(school, route.id, name=stop_name, minutes_to_next=minutes, description=f"by the {stop_name}")
    return route


def enrol_children(school: School, route: WalkingBusRoute, n: int, *, start: date = date(2026, 1, 5),
                   notify: bool = False, with_contact: bool = True, **pupil_fields) -> list[Pupil]:
    out = []
    for _ in range(n):
        pupil = make_pupil(school, **pupil_fields)
        contact = make_contact(school, [pupil], name=f"Parent of {pupil.forename}", phone=phone()) if with_contact else None
        services.enrol(school, route.id, pupil_id=pupil.id, stop_id=route.stops[0].id, start_date=start,
                       consent_by=contact.name if contact else "Parent", consent_method="written",
                       consent_at=CONSENT_AT, consent_contact_id=contact.id if contact else None,
                       notify_arrival=notify, created_by="test", now=CONSENT_AT)
        out.append(pupil)
    return out


def make_ambassador(school: School, name: str = "Sam Walker", *, days: str = "mon,tue,wed,thu,fri",
                    preferred: tuple[int, ...] = (), number: str | None = None) -> Ambassador:
    contact = make_contact(school, [], name=name, phone=number or phone())
    return services.add_ambassador(school, contact_id=contact.id, days=days, preferred_route_ids=preferred)
