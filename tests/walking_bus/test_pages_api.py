"""Pages and API over HTTP (the Flask test client, real database, real CSRF): what officers see
and do, and that another school's rows are 404 to those who cannot see it."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from outreach.core.accounts import services as accounts
from outreach.core.audit.models import AuditEvent
from outreach.core.timeutil import london_today, week_start
from outreach.extensions import db
from outreach.walking_bus import services
from outreach.walking_bus.models import WalkingBusRoute
from tests.dashboard.world import World, csrf_token, signed_in_client
from tests.factories import add_marks
from tests.walking_bus.builders import enrol_children, make_ambassador, make_route


def _post(client, path: str, data: dict[str, Any]):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **data})


def test_officer_sets_up_a_route_through_the_pages(app, world: World) -> None:  # type: ignore[no-untyped-def]
    officer = signed_in_client(app, world.email("officer"))
    start = week_start(london_today())
    r = _post(officer, "/walking-buses/100001/routes", {"name": "Green Lane", "days": ["mon", "wed"],
                                                       "start_date": start.isoformat(), "arrival_time": "08:40",
                                                       "max_children": "12", "children_per_adult": "6", "min_adults": "2"})
    assert r.status_code == 303
    route = db.session.scalar(select(WalkingBusRoute))
    assert route.days == "mon,wed" and route.max_children == 12
    _post(officer, f"/walking-buses/100001/routes/{route.id}/stops", {"name": "Library", "minutes_to_next": "12"})
    page = officer.get(f"/walking-buses/100001/routes/{route.id}").get_data(as_text=True)
    assert "Library" in page and "08:28" in page  # 08:40 less 12 minutes
    pupil = world.pupils["A"][0]
    r = _post(officer, f"/walking-buses/100001/routes/{route.id}/places",
              {"pupil_id": str(pupil.id), "stop_id": str(route.stops[0].id), "start_date": start.isoformat(),
               "consent_by": "Ms Khan", "consent_method": "written"})
    page = officer.get(f"/walking-buses/100001/routes/{route.id}", follow_redirects=True).get_data(as_text=True)
    assert pupil.display_name in page and "Ms Khan, written" in page
    # Bad input: a clear message, nothing changed, never a 500.
    r = _post(officer, f"/walking-buses/100001/routes/{route.id}/places",
              {"pupil_id": "abc", "stop_id": "1", "start_date": "tomorrow"})
    assert r.status_code == 303
    page = officer.get(r.headers["Location"]).get_data(as_text=True)
    assert "pupil id must be a whole number" in page
    # Viewing the places is audited.
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pupils.list")) is not None


def test_rota_page_highlights_gaps_and_head_cannot_change_it(app, world: World) -> None:  # type: ignore[no-untyped-def]
    school = world.schools["A"]
    monday = week_start(london_today())
    route = make_route(school, days="mon,tue,wed,thu,fri", start=monday - timedelta(days=7))
    enrol_children(school, route, 7, start=monday)  # 2 adults needed
    make_ambassador(school, "Only One")
    officer = signed_in_client(app, world.email("officer"))
    r = _post(officer, "/walking-buses/100001/rota/generate", {"week": monday.isoformat()})
    page = officer.get(r.headers["Location"]).get_data(as_text=True)
    assert "5 route-day(s) are short of adults" in page
    assert page.count('class="wb-gap"') == 5 and "Short by 1" in page
    assert "Green Lane on" in page and "is short by 1 adult (1 of 2)" in page  # alerts shown at once
    assert page.count(">Dealt with<") == 5  # the officer can clear each alert
    head = signed_in_client(app, world.email("head"))
    assert ">Dealt with<" not in head.get(f"/walking-buses/100001/rota?week={monday.isoformat()}").get_data(as_text=True)
    assert "Short by 1" in head.get(f"/walking-buses/100001/rota?week={monday.isoformat()}").get_data(as_text=True)
    assert _post(head, "/walking-buses/100001/rota/generate", {"week": monday.isoformat()}).status_code == 403


def test_check_in_page_beside_register(app, world: World) -> None:  # type: ignore[no-untyped-def]
    school = world.schools["A"]
    monday = week_start(london_today())
    route = make_route(school, start=monday - timedelta(days=7))
    walked, missing = enrol_children(school, route, 2, start=monday)
    add_marks(walked, [(monday, "AM", "/")])
    db.session.commit()
    officer = signed_in_client(app, world.email("officer"))
    _post(officer, f"/walking-buses/100001/routes/{route.id}/check-in", {"date": monday.isoformat(), "walked": [str(walked.id)]})
    page = officer.get(f"/walking-buses/100001/routes/{route.id}/check-in?date={monday.isoformat()}").get_data(as_text=True)
    assert "1 child with a place neither walked nor is marked present" in page
    assert "Not walked, not present" in page and "no mark yet" in page


def test_another_schools_route_is_404_on_pages_and_api(app, world: World) -> None:  # type: ignore[no-untyped-def]
    theirs = make_route(world.schools["C"], "Their route")
    officer = signed_in_client(app, world.email("officer"))
    assert officer.get(f"/walking-buses/100003/routes/{theirs.id}").status_code == 404
    assert officer.get(f"/walking-buses/100001/routes/{theirs.id}").status_code == 404  # not via my school either
    token = accounts.create_token(world.users["officer"], "t")[1]
    r = app.test_client().get(f"/api/v1/schools/100001/walking-bus/routes/{theirs.id}",
                              headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 404 and r.json["error"] == "Route not found"


def test_api_create_route_enrol_rota_and_check_in(app, world: World) -> None:  # type: ignore[no-untyped-def]
    token = accounts.create_token(world.users["officer"], "t")[1]
    client = app.test_client()
    h = {"Authorization": f"Bearer {token}"}
    monday = week_start(london_today())
    r = client.post("/api/v1/schools/100001/walking-bus/routes", headers=h,
                    json={"name": "Mill Road", "days": ["mon", "tue"], "start_date": monday.isoformat(), "arrival_time": "08:45"})
    assert r.status_code == 201, r.json
    rid = r.json["id"]
    again = client.post("/api/v1/schools/100001/walking-bus/routes", headers=h,
                        json={"name": "Mill Road", "days": ["mon"], "start_date": monday.isoformat(), "arrival_time": "8.45"})
    assert again.status_code == 400 and "arrival_time" in again.json["details"]  # the shape is wrong: 400
    again = client.post("/api/v1/schools/100001/walking-bus/routes", headers=h,
                        json={"name": "Mill Road", "days": ["mon"], "start_date": monday.isoformat(), "arrival_time": "08:45"})
    assert again.status_code == 409 and "already has a route called 'Mill Road'" in again.json["details"][0]
    r = client.post(f"/api/v1/schools/100001/walking-bus/routes/{rid}/stops", headers=h, json={"name": "Mill", "minutes_to_next": 15})
    assert r.status_code == 201 and r.json["pickup"] == "08:30"
    pupil = world.pupils["A"][1]
    r = client.post(f"/api/v1/schools/100001/walking-bus/routes/{rid}/places", headers=h,
                    json={"pupil_id": pupil.id, "stop_id": r.json["id"], "start_date": monday.isoformat(),
                          "consent_by": "Mr Lee", "consent_method": "phone"})
    assert r.status_code == 201 and r.json["stop_name"] == "Mill"
    r = client.post(f"/api/v1/schools/100001/walking-bus/routes/{rid}/places", headers=h,
                    json={"pupil_id": pupil.id, "stop_id": 1, "start_date": monday.isoformat(), "consent_by": "X",
                          "consent_method": "telepathy"})
    assert r.status_code == 400 and "consent_method" in r.json["details"]
    r = client.post("/api/v1/schools/100001/walking-bus/rota", headers=h, json={"week": monday.isoformat()})
    assert r.status_code == 200 and r.json["gaps"] == 2  # two walks, no ambassadors yet
    assert {c["short"] for c in r.json["cells"] if c["runs"]} == {2}
    r = client.post(f"/api/v1/schools/100001/walking-bus/routes/{rid}/check-ins", headers=h,
                    json={"date": monday.isoformat(), "pupil_ids": [pupil.id]})
    assert r.status_code == 200 and r.json["children"][0]["walked"] is True
    r = client.get(f"/api/v1/schools/100001/walking-bus/routes/{rid}/impact", headers=h)
    assert r.status_code == 200 and r.json["too_few"] is True
    head_token = accounts.create_token(world.users["head"], "t")[1]
    r = client.post("/api/v1/schools/100001/walking-bus/rota", headers={"Authorization": f"Bearer {head_token}"},
                    json={"week": monday.isoformat()})
    assert r.status_code == 403
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/schools/{urn}/walking-bus/rota" in paths and "/api/v1/schools/{urn}/parent-groups/{group_id}" in paths


def test_parent_group_pages(app, world: World) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_contact

    officer = signed_in_client(app, world.email("officer"))
    r = _post(officer, "/parent-groups/100001/groups", {"name": "Brew and Biscuits", "weekday": "0", "start_time": "09:00",
                                                      "place": "Community room", "purpose": "Tea and a chat"})
    assert r.status_code == 303
    from outreach.parent_groups.models import ParentGroup, ParentGroupMeeting

    group = db.session.scalar(select(ParentGroup))
    meetings = list(db.session.scalars(select(ParentGroupMeeting).order_by(ParentGroupMeeting.date)))
    assert len(meetings) == 3 and all(m.date.weekday() == 0 for m in meetings)
    mum = make_contact(world.schools["A"], [world.pupils["A"][0]], name="Ms Khan", phone="+447700900431")
    db.session.commit()
    _post(officer, f"/parent-groups/100001/groups/{group.id}/members", {"contact_id": str(mum.id), "reminders": "1"})
    page = officer.get(f"/parent-groups/100001/groups/{group.id}").get_data(as_text=True)
    assert "Ms Khan" in page and world.pupils["A"][0].display_name in page
    _post(officer, f"/parent-groups/100001/meetings/{meetings[0].id}/invite", {"contact_ids": [str(mum.id)]})
    page = officer.get(f"/parent-groups/100001/meetings/{meetings[0].id}").get_data(as_text=True)
    assert "Ms Khan: texted" in page


def test_officer_records_and_removes_a_closure_head_only_reads(app, world: World) -> None:  # type: ignore[no-untyped-def]
    from outreach.schools.models import SchoolClosure

    officer = signed_in_client(app, world.email("officer"))
    first = week_start(london_today()) + timedelta(days=14)
    r = _post(officer, "/walking-buses/100001/closures", {"reason": "Autumn half term", "first_day": first.isoformat(),
                                                         "last_day": (first + timedelta(days=4)).isoformat()})
    assert r.status_code == 303
    page = officer.get(r.headers["Location"]).get_data(as_text=True)
    assert f"Closure recorded (Autumn half term: {first:%a %-d %b} to" in page
    assert page.count("Autumn half term:") == 2  # the message and the list
    # Bad input: named, nothing recorded.
    r = _post(officer, "/walking-buses/100001/closures", {"reason": "INSET", "first_day": "31/12/2026"})
    page = officer.get(r.headers["Location"]).get_data(as_text=True)
    assert "first day must be a date like 2026-03-02, got &#39;31/12/2026&#39;" in page
    assert db.session.scalar(select(SchoolClosure.reason)) == "Autumn half term"
    # The head sees the closures but no form, and may not remove one.
    head = signed_in_client(app, world.email("head"))
    page = head.get("/walking-buses/100001").get_data(as_text=True)
    assert "Autumn half term:" in page and "Record closure" not in page
    closure_id = db.session.scalar(select(SchoolClosure.id))
    assert _post(head, f"/walking-buses/100001/closures/{closure_id}/delete", {}).status_code == 403
    r = _post(officer, f"/walking-buses/100001/closures/{closure_id}/delete", {})
    assert "Closure removed" in officer.get(r.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(SchoolClosure.id)) is None


def test_dates_far_outside_this_century_are_refused_or_ignored_never_a_500(app, world: World) -> None:  # type: ignore[no-untyped-def]
    """Near date.max "the next week" overflowed: the rota and check-in pages, the intervention
    log's filter and every API endpoint gave a 500 for 9999-12-27."""
    route = make_route(world.schools["A"])
    officer = signed_in_client(app, world.email("officer"))
    for path in ("/walking-buses/100001/rota?week=9999-12-27", "/walking-buses/100001/rota?week=0001-01-01",
                 f"/walking-buses/100001/routes/{route.id}/check-in?date=9999-12-31"):
        assert officer.get(path).status_code == 200, path  # read as "no week chosen", as for any bad date
    page = officer.get("/schools/100001/interventions?to=9999-12-31")
    assert page.status_code == 400 and "9999-12-31 is outside 2000-2100" in page.get_data(as_text=True)
    token = accounts.create_token(world.users["officer"], "t")[1]
    client = app.test_client()
    r = client.get("/api/v1/schools/100001/walking-bus/rota?week=9999-12-27", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422 and r.json["details"] == {"week": ["9999-12-27 is outside 2000-2100"]}
