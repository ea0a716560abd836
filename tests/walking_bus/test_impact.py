"""Impact of a route and of a parent group on constructed registers: a known effect is recovered
within its interval; no effect gives an interval covering 0; too few children says so."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest

from outreach.parent_groups import queries as pg_queries, services as pg_services
from outreach.walking_bus import queries, services
from tests.factories import make_contact, make_pupil, make_school
from tests.interventions.builders import present, write_register

JOINED = date(2024, 11, 11)  # a Monday


def _register(school, group, rest, *, helps: bool) -> None:  # type: ignore[no-untyped-def]
    def plan_for(i: int, in_group: bool):  # type: ignore[no-untyped-def]
        def plan(day: date, session: str) -> str:
            if day.weekday() in (0, 2, 4) and (day.toordinal() + 5 * i) % 9 == 0:
                return "I"  # ordinary illness on other days, different for each child and week
            if in_group and day.weekday() in (1, 3) and (day < JOINED or not helps):
                return "O"  # late on Tuesdays and Thursdays, until the walking bus (where it helps)
            return present(day, session)
        return plan

    plans = {p: plan_for(i, True) for i, p in enumerate(group)} | {p: plan_for(i + 50, False) for i, p in enumerate(rest)}
    write_register(school, plans, start=date(2024, 9, 9), end=date(2025, 1, 31))


def _route_world(helps: bool, children: int = 8):  # type: ignore[no-untyped-def]
    school = make_school()
    route = services.create_route(school, name="Green Lane", days="mon,tue,wed,thu,fri", start_date=date(2024, 9, 2),
                                  arrival_time=time(8, 40))
    services.add_stop(school, route.id, name="Library", minutes_to_next=10)
    group = [make_pupil(school, fsm=i % 2 == 0) for i in range(children)]
    rest = [make_pupil(school, fsm=i % 2 == 0) for i in range(16)]
    _register(school, group, rest, helps=helps)
    for p in group:
        services.enrol(school, route.id, pupil_id=p.id, stop_id=route.stops[0].id, start_date=JOINED,
                       consent_by="Parent", consent_method="written",
                       consent_at=datetime(2024, 11, 1, tzinfo=timezone.utc))
    return school, route, group


def test_route_impact_recovers_a_known_effect(db) -> None:  # type: ignore[no-untyped-def]
    school, route, group = _route_world(helps=True)
    result = queries.route_impact(school.id, route.id, weeks=6)
    assert result.n == 8 and not result.too_few
    # Two days of five were missed before and none since: 40 points (illness aside).
    assert result.ci_low <= 40.0 <= result.ci_high and result.ci_low > 30
    assert result.summary.startswith("Attendance of the 8 children on the route rose")
    assert "could be chance" not in result.summary


def test_route_impact_without_effect_covers_zero(db) -> None:  # type: ignore[no-untyped-def]
    school, route, _ = _route_world(helps=False)
    result = queries.route_impact(school.id, route.id, weeks=6)
    assert result.n == 8 and result.ci_low <= 0 <= result.ci_high
    assert "could be chance" in result.summary or "about the same" in result.summary


def test_route_impact_too_few_to_tell(db) -> None:  # type: ignore[no-untyped-def]
    school, route, _ = _route_world(helps=True, children=2)
    result = queries.route_impact(school.id, route.id, weeks=6)
    assert result.too_few and result.effect is None
    assert result.summary.startswith("Too few children on the route to tell: 2 measured")


def test_group_impact_counts_children_of_parents_who_came(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    group_pupils = [make_pupil(school, fsm=i % 2 == 0) for i in range(8)]
    rest = [make_pupil(school, fsm=i % 2 == 0) for i in range(16)]
    _register(school, group_pupils, rest, helps=True)
    group = pg_services.create_group(school, name="Brew and Biscuits", weekday="monday", start_time=time(9, 0),
                                     place="Community room")
    meeting = pg_services.schedule_meeting(school, group.id, JOINED)
    parents = [make_contact(school, [p], name=f"Parent {i}", phone=f"+4477009002{i:02d}") for i, p in enumerate(group_pupils)]
    no_show = make_contact(school, [rest[0]], name="Joined on paper", phone="+447700900299")
    pg_services.add_member(school, group.id, no_show.id, joined_on=JOINED)
    pg_services.record_attendance(school, meeting.id, [c.id for c in parents], today=JOINED)
    assert set(pg_queries.participants(group.id)) == {p.id for p in group_pupils}
    result = pg_queries.group_impact(school.id, group.id, weeks=6)
    assert result.n == 8 and result.ci_low <= 40.0 <= result.ci_high
    # The no-show's child is in a group's family, so never a comparison pupil.
    assert all(rest[0].id not in m.comparison_ids for m in result.matched)
