"""School closures (half terms, INSET days): no walks, no schedules, no group meetings on them,
and a closure entered after the week's texts went out takes the walks off with a change notice."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from outreach.core.errors import UserError
from outreach.core.timeutil import london_today, week_start
from outreach.extensions import db
from outreach.messaging.models import OutboxMessage
from outreach.parent_groups import services as groups
from outreach.parent_groups.models import ParentGroupMeeting
from outreach.schools import closures
from outreach.schools.models import SchoolClosure
from outreach.walking_bus import services
from outreach.walking_bus.models import WalkingBusAlert
from tests.factories import make_school
from tests.walking_bus.builders import enrol_children, make_ambassador, make_route


def next_monday() -> date:
    return week_start(london_today()) + timedelta(days=7)


def walk_days(school_id: int, monday: date) -> list[date]:
    week = services.get_week(school_id, monday)
    return sorted({a.date for a in services.week_assignments(week)}) if week else []


def test_rota_has_no_walks_or_gaps_on_closed_days(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school, days="mon,tue,wed,thu,fri")
    enrol_children(school, route, 6)
    make_ambassador(school, "Amb 1"), make_ambassador(school, "Amb 2")
    monday = next_monday()
    closures.add_closure(school, monday + timedelta(days=2), None, "INSET day", by="officer")
    result = services.generate_rota(school, monday)
    assert walk_days(school.id, monday) == [monday + timedelta(days=d) for d in (0, 1, 3, 4)]
    assert not result.gaps
    # A whole week closed (half term): no route runs, so nothing to staff and nobody is short.
    half_term = monday + timedelta(days=7)
    closures.add_closure(school, half_term, half_term + timedelta(days=4), "Half term", by="officer")
    assert services.week_route_days(school.id, half_term) == []
    assert services.generate_rota(school, half_term).gaps == []


def test_closure_after_schedules_went_takes_walks_off_and_tells_the_walkers(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school, days="mon,fri")
    enrol_children(school, route, 13)  # three adults needed; two ambassadors: a gap each day
    a, b = make_ambassador(school, "Amb 1", days="mon,fri"), make_ambassador(school, "Amb 2", days="mon,fri")
    monday, friday = next_monday(), next_monday() + timedelta(days=4)
    services.generate_rota(school, monday)
    assert services.send_week_schedules(school, monday) == 2
    open_gaps = lambda: sorted(al.date for al in db.session.scalars(select(WalkingBusAlert).where(  # noqa: E731
        WalkingBusAlert.school_id == school.id, WalkingBusAlert.kind == "gap", WalkingBusAlert.resolved_at.is_(None))))
    assert open_gaps() == [monday, friday]

    closures.add_closure(school, friday, friday, "Snow: school closed", by="officer")
    assert walk_days(school.id, monday) == [monday]
    notices = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "walking_bus_change")))
    assert sorted(m.contact_id for m in notices) == sorted([a.contact_id, b.contact_id])
    assert all(f"{friday:%a} {friday.day} {friday:%b}" not in m.body for m in notices)
    assert open_gaps() == [monday]  # the closed day's gap is no longer the officer's problem

    # Reopened: Friday is staffed again and both walkers are told once more.
    closures.delete_closure(school, db.session.scalar(select(SchoolClosure.id)))
    assert walk_days(school.id, monday) == [monday, friday]
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.purpose == "walking_bus_change")) == 4
    assert open_gaps() == [monday, friday]


def test_bad_closures_are_refused_with_every_reason_and_change_nothing(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    day = next_monday()
    with pytest.raises(UserError) as err:
        closures.add_closure(school, day, day - timedelta(days=1), "  ", by="officer")
    assert err.value.details == [f"the last day ({day - timedelta(days=1):%d %b %Y}) is before the first ({day:%d %b %Y})",
                                 "say why the school is closed (e.g. 'Autumn half term', 'INSET day')"]
    with pytest.raises(UserError, match="not recorded") as err:
        closures.add_closure(school, day, day + timedelta(days=400), "Typo in the year", by="officer")
    assert err.value.details == ["a closure can be at most 366 days"]
    with pytest.raises(UserError) as err:  # near date.max the day-by-day walk would overflow: a 400, not a 500
        closures.add_closure(school, date(9999, 12, 30), None, "Typo", by="officer")
    assert err.value.details == ["dates must be between 01 Jan 2000 and 31 Dec 2100"]
    closures.add_closure(school, day, day + timedelta(days=4), "Half   term", by="officer")
    with pytest.raises(UserError) as err:
        closures.add_closure(school, day + timedelta(days=4), day + timedelta(days=8), "INSET", by="officer")
    assert err.value.details == [f"it overlaps 'Half term' ({day:%a %-d %b} to {day + timedelta(days=4):%a %-d %b %Y})"]
    assert db.session.scalar(select(func.count()).select_from(SchoolClosure)) == 1
    # Another school's closure is its own.
    other = make_school("100002", "Other Primary")
    closures.add_closure(other, day, day, "INSET day", by="officer")
    assert closures.closed_days(school.id, day, day + timedelta(days=9)) == {day + timedelta(days=n) for n in range(5)}
    assert closures.closed_days(other.id, day - timedelta(days=1), day + timedelta(days=1)) == {day}


def test_weekly_group_meetings_skip_closed_days(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    group = groups.create_group(school, name="Brew and Biscuits", weekday="wed", start_time=time(9, 0),
                                place="Community room")
    monday = next_monday()
    closures.add_closure(school, monday, monday + timedelta(days=4), "Half term", by="officer")
    assert groups.ensure_meetings(school, group, monday, weeks=3) == 2
    dates = list(db.session.scalars(select(ParentGroupMeeting.date).order_by(ParentGroupMeeting.date)))
    assert dates == [monday + timedelta(days=9), monday + timedelta(days=16)]
