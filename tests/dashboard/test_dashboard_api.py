"""The attendance API on the constructed register: figures equal the read side's, filters,
pagination, audit, range validation, trust scoping, and the OpenAPI document stays valid."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from outreach.attendance import queries as aq
from outreach.core.accounts import services
from outreach.core.audit.models import AuditEvent
from outreach.extensions import db
from tests.dashboard.registers import build_registers
from tests.dashboard.world import World


@pytest.fixture()
def reg(world: World) -> dict[str, Any]:
    return build_registers(world)


@pytest.fixture()
def call(app: Flask, world: World):
    tokens: dict[str, str] = {}

    def get(who: str, path: str) -> Any:
        if who not in tokens:
            tokens[who] = services.create_token(world.users[who], "tests")[1]
        return app.test_client().get(path, headers={"Authorization": f"Bearer {tokens[who]}"})

    return get


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_school_measures_match_the_read_side_with_reference_figures(call, reg: dict[str, Any]) -> None:
    body = ok(call("head", "/api/v1/schools/100001/measures"))
    year = aq.school_measures(reg["school"].id)
    assert body["attendance_pct"] == year.attendance_pct and body["enrolments"] == year.enrolments == 5
    assert body["persistent_absence_enrolments"] == 2 and body["severe_absence_enrolments"] == 1
    assert body["date_from"] == reg["days"][0].replace(day=1).isoformat()
    assert body["reference"]["national"]["name"] == "England" and body["reference"]["phase"] == "Primary"
    september = ok(call("head", f"/api/v1/schools/100001/measures?date_from={reg['days'][0].isoformat()}"
                                f"&date_to={reg['days'][4].isoformat()}"))
    assert september["possible"] == 5 * 2 * 5  # five pupils, five days, two sessions


def test_kept_measures_follow_a_rollup_write(call, reg: dict[str, Any]) -> None:
    """The measures are kept per process; the store write every import makes bumps the school's
    figure version, so the next call has the new figures."""
    from outreach.registers import store

    before = ok(call("head", "/api/v1/schools/100001/measures"))
    assert ok(call("head", "/api/v1/schools/100001/measures")) == before
    days = [d for d in reg["days"] if d != reg["today"]][-5:]
    store.write(db.session, reg["school"].id, [(reg["good"].id, d, s, "O") for d in days for s in ("AM", "PM")])
    db.session.commit()
    after = ok(call("head", "/api/v1/schools/100001/measures"))
    assert after["unauthorised"] == before["unauthorised"] + 10
    year = aq.school_measures(reg["school"].id)
    assert (after["attendance_pct"], after["unauthorised"], after["persistent_absence_enrolments"]) == (
        year.attendance_pct, year.unauthorised, year.persistent_absence_enrolments)


def test_range_validation(call, reg: dict[str, Any]) -> None:
    for query, field in (("date_from=2026-13-01", "date_from"), ("date_from=1066-10-14", "date_from"),
                         ("date_to=9999-12-31", "date_to"), ("colour=red", "colour")):
        response = call("officer", f"/api/v1/schools/100001/trend?{query}")
        assert response.status_code == 400, query
        assert field in response.json["details"], (query, response.json)
    backwards = "date_from=2026-09-10&date_to=2026-09-01"  # ends before it starts: empty, not an error
    assert ok(call("officer", f"/api/v1/schools/100001/trend?{backwards}"))["weeks"] == []
    empty = ok(call("officer", f"/api/v1/schools/100001/measures?{backwards}"))
    assert empty["possible"] == 0 and empty["attendance_pct"] is None and empty["date_from"] == "2026-09-10"


def test_trend_and_cohorts(call, reg: dict[str, Any]) -> None:
    trend = ok(call("officer", "/api/v1/schools/100001/trend"))
    expected = aq.weekly_trend(reg["school"].id)
    assert [w["week_start"] for w in trend["weeks"]] == [p.week_start.isoformat() for p in expected]
    assert trend["weeks"][-1]["cumulative_pa_pct"] == expected[-1].cumulative_pa_pct
    cohorts = ok(call("officer", "/api/v1/schools/100001/cohorts"))
    fsm = next(g for g in cohorts["groups"] if g["dimension"] == "fsm" and g["group"] == "True")
    expected_fsm = next(g for g in aq.cohort_gaps(reg["school"].id) if g.dimension == "fsm" and g.group == "True")
    assert fsm["enrolments"] == 1 and fsm["absence_gap_pp"] == expected_fsm.absence_gap_pp < 0  # the rest has the SA pupil


def test_pupil_attendance_list_filters_sorts_pages_and_audits(call, reg: dict[str, Any]) -> None:
    body = ok(call("officer", "/api/v1/schools/100001/attendance/pupils?flag=pa&per_page=1"))
    assert body["meta"]["total"] == 2 and len(body["data"]) == 1
    first = body["data"][0]
    assert first["id"] == reg["severe"].id and first["severe_absence"] is True and first["on_roll"] is True
    second = ok(call("officer", "/api/v1/schools/100001/attendance/pupils?flag=pa&per_page=1&page=2"))
    assert second["data"][0]["id"] == reg["newly"].id
    db.session.expire_all()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "pupils.list")
                               .order_by(AuditEvent.id.desc())).first()
    assert [p.pupil_id for p in event.pupils] == [reg["newly"].id] and event.via == "api"
    left = ok(call("officer", "/api/v1/schools/100001/attendance/pupils?sort=name&include_left=true"))
    assert {p["on_roll"] for p in left["data"]} == {True, False}
    assert call("officer", "/api/v1/schools/100001/attendance/pupils?sort=height").status_code == 400


def test_one_pupil_with_projection_audited(call, reg: dict[str, Any]) -> None:
    newly = reg["newly"]
    body = ok(call("officer", f"/api/v1/pupils/{newly.id}/attendance"))
    assert body["persistent_absence"] is True and body["measures"]["unauthorised"] == 16
    projection = aq.year_end_projection(newly.school_id, pupil_ids=[newly.id]).pupils[0]
    assert body["projection"]["sessions_until_pa"] == projection.sessions_until_pa
    last_year = ok(call("officer", f"/api/v1/pupils/{newly.id}/attendance?date_from=2020-09-01&date_to=2021-07-01"))
    assert last_year["projection"] is None and last_year["measures"]["possible"] == 0
    assert last_year["measures"]["attendance_pct"] is None
    db.session.expire_all()
    views = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "pupil.view")).all()
    assert len(views) == 2 and all(v.pupils[0].pupil_id == newly.id for v in views)


def test_trust_comparison_is_for_the_trust_lead_and_admins(call, world: World, reg: dict[str, Any]) -> None:
    north = world.schools["A"].trust_id
    body = ok(call("trust_lead", f"/api/v1/trusts/{north}/comparison"))
    assert [s["urn"] for s in body["schools"]] == ["100001", "100002"]
    assert body["schools"][1]["attendance_pct"] is None and body["schools"][1]["enrolments"] == 0
    assert call("officer", f"/api/v1/trusts/{north}/comparison").status_code == 404
    assert call("trust_lead", f"/api/v1/trusts/{world.schools['C'].trust_id}/comparison").status_code == 404
    assert ok(call("admin", f"/api/v1/trusts/{world.schools['C'].trust_id}/comparison"))["name"] == "South Trust"


def test_openapi_documents_the_attendance_endpoints(app: Flask, world: World) -> None:
    from openapi_spec_validator import validate

    doc = app.test_client().get("/api/v1/openapi.json").json
    validate(doc)
    op = doc["paths"]["/api/v1/schools/{urn}/attendance/pupils"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {"year", "reg", "flag", "cohort", "q", "sort", "order", "period", "include_left", "page", "per_page"} <= names
    assert "audit log" in op["description"]
