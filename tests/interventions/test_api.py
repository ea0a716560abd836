"""The interventions JSON API on the real database: each endpoint on constructed data, schema
errors (400) and domain refusals (422) with nothing changed, write access (403), another school's
rows (404), audit rows, and the OpenAPI document naming every endpoint."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from outreach.core.accounts import services as accounts
from outreach.core.audit.models import AuditEvent
from outreach.extensions import db
from outreach.interventions.models import Intervention, Referral, RuleSettings, Task
from tests.dashboard.conftest import _fast_hashing, world  # noqa: F401 (fixtures)
from tests.dashboard.world import World
from tests.interventions.web_world import add_interventions

A = "/api/v1/schools/100001"
C = "/api/v1/schools/100003"


@pytest.fixture()
def data(world: World) -> dict[str, Any]:
    return add_interventions(world)


@pytest.fixture()
def api(app: Flask, world: World):
    tokens: dict[str, str] = {}

    class Caller:
        def __init__(self, who: str):
            if who not in tokens:
                tokens[who] = accounts.create_token(world.users[who], "tests")[1]
            self.headers = {"Authorization": f"Bearer {tokens[who]}"}
            self.client = app.test_client()

        def get(self, path: str) -> Any:
            return self.client.get(path, headers=self.headers)

        def post(self, path: str, body: Any = None, method: str = "POST") -> Any:
            return self.client.open(path, method=method, json={} if body is None else body, headers=self.headers)

    return Caller


def count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def audited(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_tasks_list_get_close_reopen_assign(api, world: World, data: dict[str, Any]) -> None:
    officer = api("officer")
    task_id = data["A"]["task"].id
    listing = officer.get(f"{A}/tasks")
    assert listing.status_code == 200 and listing.json["meta"]["total"] == 1
    [item] = listing.json["data"]
    assert item["rule_label"] == "First-day contact due" and item["next_step"].startswith("Contact the family today")
    assert officer.get(f"{A}/tasks?status=all&rule=first_day_contact&unassigned=true").json["meta"]["total"] == 1
    assert officer.get(f"{A}/tasks?status=maybe").status_code == 400
    assert [e.pupil_ids for e in audited("tasks.list")][0] == [data["A"]["pupil"].id]

    refused = officer.post(f"{A}/tasks/{task_id}/close", {"status": "dismissed"})
    assert refused.status_code == 422 and refused.json["details"] == ["give a reason for dismissing the task"]
    assert officer.post(f"{A}/tasks/{task_id}/close", {"status": "gone"}).status_code == 400
    assert db.session.get(Task, task_id).status == "open"
    closed = officer.post(f"{A}/tasks/{task_id}/close", {"status": "done", "note": "called"})
    assert closed.status_code == 200 and closed.json["status"] == "done" and closed.json["closed_by"] == world.email("officer")
    assert officer.post(f"{A}/tasks/{task_id}/reopen").json["status"] == "open"
    assert officer.post(f"{A}/tasks/{task_id}/reopen").status_code == 422
    assert officer.post(f"{A}/tasks/{task_id}/assign", {"assigned_to": "Ms Patel"}).json["assigned_to"] == "Ms Patel"
    assert officer.get(f"{A}/tasks?assigned_to=ms patel").json["meta"]["total"] == 1
    assert officer.post(f"{A}/tasks/{task_id}/assign", {"assigned_to": None}).json["assigned_to"] is None


def test_scoping_write_access_and_other_schools(api, data: dict[str, Any]) -> None:
    head, officer = api("head"), api("officer")
    task_id = data["A"]["task"].id
    assert head.get(f"{A}/tasks/{task_id}").status_code == 200
    assert head.post(f"{A}/tasks/{task_id}/close", {"status": "done"}).status_code == 403
    assert api("trust_lead").post(f"{A}/interventions", {"type": "text", "pupil_ids": [data["A"]["pupil"].id]}).status_code == 403
    c = data["C"]
    assert officer.get(f"{A}/tasks/{c['task'].id}").status_code == 404
    assert officer.get(f"{C}/tasks/{c['task'].id}").status_code == 404
    assert officer.post(f"{A}/tasks/{c['task'].id}/close", {"status": "done"}).status_code == 404
    assert officer.get(f"{A}/interventions/{c['intervention'].id}").status_code == 404
    assert officer.get(f"{A}/referrals/{c['referral'].id}").status_code == 404
    assert officer.get(f"{A}/pupils/{c['pupil'].id}/timeline").status_code == 404
    assert officer.get(f"{A}/tasks/3000000000").status_code == 404
    db.session.expire_all()
    assert db.session.get(Task, task_id).status == "open" and db.session.get(Task, c["task"].id).status == "open"


def test_log_an_intervention_and_record_its_outcome(api, world: World, data: dict[str, Any]) -> None:
    officer = api("officer")
    siblings = [world.pupils["A"][1].id, world.pupils["A"][2].id]
    before = count(Intervention)
    made = officer.post(f"{A}/interventions", {"type": "notice_to_improve", "pupil_ids": siblings,
                                               "occurred_at": "2025-10-26T01:30:00+01:00",
                                               "details": {"improvement_weeks": 4, "reference": "NTI-7"},
                                               "next_step": "review", "next_step_date": "2025-11-23"})
    assert made.status_code == 201, made.json
    body = made.json
    assert body["occurred_at"] == "2025-10-26T00:30:00+00:00" and sorted(body["pupil_ids"]) == sorted(siblings)
    assert body["details"]["improvement_weeks"] == 4 and body["details"]["improvement_ends"] == "2025-11-23"
    assert body["stage"] == 5 and body["recorded_by"] == world.email("officer")
    for bad, status, words in (
        ({"type": "notice_to_improve", "pupil_ids": siblings, "details": {"improvement_weeks": 8}}, 422, "3 to 6 weeks"),
        ({"type": "penalty_notice", "pupil_ids": siblings}, 422, "give decided_by"),
        ({"type": "text", "pupil_ids": [data["C"]["pupil"].id]}, 422, "not at this school"),
        ({"type": "text", "pupil_ids": siblings, "occurred_at": "0202-01-01T10:00:00+00:00"}, 422, "outside 2000-2100"),
        ({"type": "text", "pupil_ids": siblings, "details": {"colour": "red"}}, 400, "Unknown field"),
        ({"type": "text", "pupil_ids": siblings, "notes": "a\x00b"}, 400, "NUL"),
        ({"type": "text", "pupil_ids": []}, 400, "pupil_ids"),
        ({"type": "text"}, 400, "pupil_ids"),
    ):
        response = officer.post(f"{A}/interventions", bad)
        assert response.status_code == status and words in str(response.json), (bad, response.json)
    assert count(Intervention) == before + 1
    assert officer.client.post(f"{A}/interventions", data="type=text", headers={
        **officer.headers, "Content-Type": "application/x-www-form-urlencoded"}).status_code == 400

    listing = officer.get(f"{A}/interventions?type=notice_to_improve&pupil_id={siblings[1]}")
    assert [i["id"] for i in listing.json["data"]] == [body["id"]]
    assert officer.get(f"{A}/interventions?since=2025-10-26&until=2025-10-26").json["meta"]["total"] == 1
    assert officer.get(f"{A}/interventions?since=2025-10-27&until=2025-10-30").json["meta"]["total"] == 0
    assert officer.get(f"{A}/interventions/{body['id']}").json["details"]["reference"] == "NTI-7"
    assert audited("intervention.view")[0].pupil_ids == sorted(siblings)

    url = f"{A}/interventions/{body['id']}/outcome"
    assert officer.post(url, {"next_step_date": "2025-01-01"}).status_code == 422
    updated = officer.post(url, {"outcome": "attendance improving", "notes": "week 2"})
    assert updated.status_code == 200 and updated.json["outcome"] == "attendance improving"
    due = officer.get(f"{A}/next-steps?by={data['today'].isoformat()}")
    assert data["A"]["intervention"].id in [i["id"] for i in due.json["data"]]


def test_letters_preview_and_send(api, world: World, data: dict[str, Any]) -> None:
    officer = api("officer")
    child = world.pupils["A"][1]
    before = count(Intervention)
    letter = {"kind": "meeting_invitation", "pupil_ids": [child.id], "sender": "Ms Patel",
              "values": {"meeting_at": "Tuesday 10 December at 9am", "place": "the school office"}}
    preview = officer.post(f"{A}/letters/preview", letter)
    assert preview.status_code == 200 and "the school office" in preview.json["html"] and child.display_name in preview.json["html"]
    assert count(Intervention) == before
    missing = officer.post(f"{A}/letters", {**letter, "values": {"place": "the office"}})
    assert missing.status_code == 422 and "the letter needs meeting at" in missing.json["details"]
    assert officer.post(f"{A}/letters", {**letter, "values": {"colour": "red"}}).status_code == 400
    assert count(Intervention) == before
    sent = officer.post(f"{A}/letters", letter)
    assert sent.status_code == 201
    assert sent.json["intervention"]["has_letter"] is True and sent.json["intervention"]["type"] == "letter"
    row = db.session.get(Intervention, sent.json["intervention"]["id"])
    assert row.letter_html == sent.json["letter"]["html"]
    assert api("head").post(f"{A}/letters/preview", letter).status_code == 403


def test_timeline_is_audited(api, data: dict[str, Any]) -> None:
    pupil = data["A"]["pupil"]
    response = api("trust_lead").get(f"{A}/pupils/{pupil.id}/timeline")
    assert response.status_code == 200 and response.json["pupil_id"] == pupil.id
    titles = [e["title"] for e in response.json["events"]]
    assert "Home visit: nobody home" in titles and "Task: First-day contact due" in titles
    assert all(e["at"].endswith("+00:00") for e in response.json["events"])
    [event] = audited("pupil.view")
    assert event.pupil_ids == [pupil.id] and event.via == "api"


def test_rule_settings(api, world: World, data: dict[str, Any]) -> None:
    officer = api("officer")
    assert officer.get(f"{A}/rule-settings").json["penalty_sessions"] == 10
    assert officer.post(f"{A}/rule-settings", {"drop_points": 99}, method="PATCH").status_code == 400
    assert officer.post(f"{A}/rule-settings", {"parent_texts": True}, method="PATCH").status_code == 422  # no template
    assert db.session.get(RuleSettings, world.schools["A"].id) is None
    changed = officer.post(f"{A}/rule-settings", {"drop_points": 7.5, "monday_friday": False}, method="PATCH")
    assert changed.status_code == 200 and changed.json["drop_points"] == 7.5 and changed.json["monday_friday"] is False
    assert changed.json["penalty_sessions"] == 10
    assert api("head").post(f"{A}/rule-settings", {"drop_points": 6}, method="PATCH").status_code == 403


def test_referral_workflow(api, world: World, data: dict[str, Any]) -> None:
    officer = api("officer")
    pupil = world.pupils["A"][3]
    assert officer.post(f"{A}/referrals", {"pupil_id": data["C"]["pupil"].id, "reason": "x"}).status_code == 422
    drafted = officer.post(f"{A}/referrals", {"pupil_id": pupil.id, "reason": "Anxious about school"})
    assert drafted.status_code == 201 and drafted.json["status"] == "draft"
    assert "attendance" in drafted.json["prefill"]
    base = f"{A}/referrals/{drafted.json['id']}"
    early = officer.post(f"{base}/decision", {"accepted": True, "lead_practitioner": "Sam Reid"})
    assert early.status_code == 422 and early.json["details"] == ["it must be submitted first"]
    assert officer.post(f"{base}/submit", {"to": "Hub"}).status_code == 422
    assert officer.post(f"{base}/consent", {"given": True, "by_whom": "Mr Ali", "method": "carrier pigeon"}).status_code == 400
    assert officer.post(f"{base}/consent", {"given": True, "by_whom": "Mr Ali (father)", "method": "phone"}).json["consent_given"]
    assert officer.post(f"{base}/submit", {"to": "County early help hub"}).json["status"] == "submitted"
    first = (data["today"] + timedelta(days=20)).isoformat()
    accepted = officer.post(f"{base}/decision", {"accepted": True, "lead_practitioner": "Sam Reid", "first_review": first})
    assert accepted.json["status"] == "accepted" and [r["due_date"] for r in accepted.json["reviews"]] == [first]
    later = (data["today"] + timedelta(days=60)).isoformat()
    assert officer.post(f"{base}/reviews", {"due_date": "2001-01-01"}).status_code == 422
    assert officer.post(f"{base}/reviews", {"due_date": later}).status_code == 201
    review_id = accepted.json["reviews"][0]["id"]
    held = officer.post(f"{A}/referral-reviews/{review_id}/done", {"notes": "going well"})
    assert held.status_code == 200 and held.json["reviews"][0]["status"] == "done"
    assert officer.post(f"{A}/referral-reviews/{review_id}/done", {}).status_code == 422  # already held
    assert officer.post(f"{C}/referral-reviews/{review_id}/done", {}).status_code == 404
    assert officer.post(f"{base}/close", {"outcome": "solved"}).status_code == 400
    closed = officer.post(f"{base}/close", {"outcome": "needs met"})
    assert closed.json["status"] == "closed" and [r["status"] for r in closed.json["reviews"]] == ["done", "cancelled"]
    other = data["A"]["referral"].id
    assert officer.post(f"{A}/referrals/{other}/withdraw", {"reason": "family moved"}).json["status"] == "withdrawn"
    listing = officer.get(f"{A}/referrals?status=closed")
    assert [r["id"] for r in listing.json["data"]] == [drafted.json["id"]]
    assert officer.get(f"{base}").json["outcome"] == "needs met"
    assert count(Referral) == 4


def test_impact(api, world: World, data: dict[str, Any]) -> None:
    school = api("officer").get(f"{A}/impact?weeks=4")
    assert school.status_code == 200 and school.json["weeks"] == 4
    visit = [r for r in school.json["data"] if r["type"] == "home_visit"][0]
    assert visit["result"]["too_few"] is True and visit["result"]["summary"].startswith("Too few")
    trust = api("trust_lead").get("/api/v1/impact")
    assert {r["school_name"] for r in trust.json["data"]} >= {"Ash Primary", "All schools"}
    assert "Cedar School" not in {r["school_name"] for r in trust.json["data"]}
    assert api("trust_lead").get(f"/api/v1/impact?trust_id={world.schools['C'].trust_id}").status_code == 404
    assert api("officer").get(f"{A}/impact?weeks=0").status_code == 400


def test_openapi_documents_every_interventions_endpoint(app: Flask, api) -> None:
    doc = app.test_client().get("/api/v1/openapi.json").json
    rules = {r.rule.replace("<urn>", "{urn}") for r in app.url_map.iter_rules() if r.endpoint.startswith("interventions_api.")}
    import re
    documented = {re.sub(r"\{(\w+)\}", r"{\1}", p) for p in doc["paths"]}
    assert {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r) for r in rules} <= documented
    close = doc["paths"]["/api/v1/schools/{urn}/tasks/{task_id}/close"]["post"]
    assert {"400", "401", "403", "404", "422"} <= set(close["responses"])
    assert doc["components"]["schemas"]["InterventionDetailsIn"]["additionalProperties"] is False
