"""The weekly digest's walking-bus and parent-group section (outreach/walking_bus/digest.py),
on rows made through the walking-bus and parent-group services."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import Flask

from outreach.attendance import rollups
from outreach.digests import build
from outreach.extensions import db as _db
from outreach.digests.render import render
from outreach.parent_groups import services as groups
from outreach.walking_bus import services
from tests.factories import add_marks, make_contact, make_school
from tests.walking_bus.builders import enrol_children, make_ambassador, make_route, phone

MONDAY = date(2026, 1, 12)
NOW = datetime(2026, 1, 19, 7, 0, tzinfo=timezone.utc)  # the Monday after: the digest's usual time


def _walking_school():
    school = make_school()
    route = make_route(school, "Green Lane", min_adults=2)
    kids = enrol_children(school, route, 3)
    make_route(school, "Mill Road", min_adults=1)  # nobody enrolled, nobody walked: still listed
    make_ambassador(school, "Sam Walker")
    make_ambassador(school, "Jo Strider", days="mon,tue,wed,thu")  # so Green Lane is one adult short on Friday
    services.generate_rota(school, MONDAY, now=datetime(2026, 1, 9, 12, tzinfo=timezone.utc))
    services.check_in(school, route.id, date(2026, 1, 12), [k.id for k in kids], by="Sam Walker",
                      now=datetime(2026, 1, 12, 8, 40, tzinfo=timezone.utc))
    services.check_in(school, route.id, date(2026, 1, 13), [kids[0].id, kids[1].id], by="Sam Walker",
                      now=datetime(2026, 1, 13, 8, 41, tzinfo=timezone.utc))
    services.check_in(school, route.id, date(2026, 1, 5), [kids[0].id], by="Sam Walker",  # the week before
                      now=datetime(2026, 1, 5, 8, 41, tzinfo=timezone.utc))
    return school, kids


def _group(school):
    group = groups.create_group(school, name="Brew and Biscuits", weekday="wed", start_time=time(8, 45),
                                place="Hall", created_by="test")
    parents = [make_contact(school, [], name=f"Parent {i}", phone=phone()) for i in range(3)]
    for p in parents:
        groups.add_member(school, group.id, p.id, joined_on=date(2026, 1, 5))
    first = groups.schedule_meeting(school, group.id, date(2026, 1, 14))
    groups.record_attendance(school, first.id, [parents[0].id, parents[1].id], today=date(2026, 1, 14))
    second = groups.schedule_meeting(school, group.id, date(2026, 1, 16))
    groups.record_attendance(school, second.id, [parents[0].id], today=date(2026, 1, 16))
    groups.schedule_meeting(school, group.id, date(2026, 1, 21))  # next week: not counted
    return group


def _section(school, now: datetime = NOW):
    return next((s for s in build.build(school, MONDAY, now).sections if s.key == "walking_bus"), None)


def test_walks_children_places_and_rota_gaps_per_route(app: Flask, db) -> None:
    school, _ = _walking_school()
    section = _section(school)
    assert section is not None and section.title == "Walking buses and parent groups"
    [table] = section.tables
    assert table.headers == ["Route", "Walks checked in", "Children walked", "Children with a place", "Rota gaps"]
    assert table.rows == [["Green Lane", "2 of 5", "5", "3", "16 Jan (1 short)"],
                          ["Mill Road", "0 of 0", "0", "0", "None"]]
    assert section.paragraphs == ["Walking buses: 2 walks checked in, 5 children walked. 1 route short of adults on the rota."]
    assert section.pupil_ids == []  # counts only: nobody named in an email


def test_parent_group_meetings_held_and_parents_who_came(app: Flask, db) -> None:
    school = make_school()
    _group(school)
    section = _section(school)
    assert section is not None
    [table] = section.tables  # no routes: no walking-bus table
    assert table.rows == [["Brew and Biscuits", "2", "2"]]  # one parent came twice: counted once
    assert section.paragraphs == ["Parent groups: 2 meetings held, 2 parents came."]
    # built mid-week, Friday's meeting has not happened yet
    midweek = _section(school, datetime(2026, 1, 15, 12, tzinfo=timezone.utc))
    assert midweek is not None and midweek.tables[0].rows == [["Brew and Biscuits", "1", "2"]]


def test_no_routes_and_no_groups_means_no_section(app: Flask, db) -> None:
    assert _section(make_school()) is None


def test_the_section_is_registered_at_start_up_and_in_the_email(app: Flask, db) -> None:
    assert "walking_bus" in [key for key, _ in build.registered_sections()]
    school, kids = _walking_school()
    _group(school)
    for pupil in kids:  # a week with sessions: the full digest, not the "no sessions" note
        add_marks(pupil, [(MONDAY + timedelta(days=d), s, "/" if s == "AM" else "\\") for d in range(5) for s in ("AM", "PM")])
    rollups.refresh(_db.session, school.id, MONDAY, MONDAY + timedelta(days=6))
    _db.session.commit()
    content = build.build(school, MONDAY, NOW)
    keys = [s.key for s in content.sections]
    assert keys.index("walking_bus") == keys.index("interventions") + 1  # order 60, after interventions (50)
    email = render(school, content)
    assert "WALKING BUSES AND PARENT GROUPS" in email.text and "Brew and Biscuits" in email.text
    assert "Walking buses and parent groups" in email.html and "Green Lane" in email.html and "16 Jan (1 short)" in email.html
