"""The interventions pages through the test client on the real database: every page and form on
constructed data, bad input (a 400 naming the problem, nothing changed), read-only roles (no
forms, 403 on POST), another school's rows (404) and audit rows for views and exports."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from outreach.core.audit.models import AuditEvent
from outreach.extensions import db
from outreach.interventions.models import Intervention, Referral, RuleSettings, Task
from tests.dashboard.conftest import _fast_hashing, world  # noqa: F401 (fixtures)
from tests.dashboard.world import World, csrf_token, signed_in_client
from tests.interventions.web_world import add_interventions


@pytest.fixture()
def data(world: World) -> dict[str, Any]:
    return add_interventions(world)


@pytest.fixture()
def officer(app: Flask, world: World) -> FlaskClient:
    return signed_in_client(app, world.email("officer"))


@pytest.fixture()
def head(app: Flask, world: World) -> FlaskClient:
    return signed_in_client(app, world.email("head"))


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    return client.post(url, data={"csrf_token": csrf_token(client, "/account"), **(data or {})}, **kw)


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def audit_actions(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


A = "/schools/100001"
C = "/schools/100003"


# --- navigation -------------------------------------------------------------------------------

def test_navigation_and_school_pickers(officer: FlaskClient, head: FlaskClient, data: dict[str, Any]) -> None:
    page = text(officer.get("/tasks"))
    for label in ("Tasks", "Interventions", "Referrals", "What works here"):
        assert f">{label}</a>" in page
    assert "Ash Primary" in page and "Birch Academy" in page and "Cedar School" not in page
    assert head.get("/tasks").headers["Location"].endswith(f"{A}/tasks")  # one school: straight there
    assert head.get("/interventions").headers["Location"].endswith(f"{A}/interventions")
    assert head.get("/referrals").headers["Location"].endswith(f"{A}/referrals")


# --- tasks ------------------------------------------------------------------------------------

def test_task_list_shows_the_suggested_next_step_and_filters(officer: FlaskClient, data: dict[str, Any]) -> None:
    page = text(officer.get(f"{A}/tasks"))
    assert "First-day contact due" in page and "Contact the family today" in page
    assert data["A"]["pupil"].display_name in page
    assert "1 task" in page
    assert "No done tasks match" in text(officer.get(f"{A}/tasks?status=done"))
    assert "No open tasks match" in text(officer.get(f"{A}/tasks?rule=monday_friday"))
    assert "No open tasks match" in text(officer.get(f"{A}/tasks?assigned=somebody"))
    assert "1 task" in text(officer.get(f"{A}/tasks?unassigned=1"))
    assert len(audit_actions("tasks.list")) == 5


def test_close_dismiss_reopen_and_assign_a_task(officer: FlaskClient, world: World, data: dict[str, Any]) -> None:
    task_id = data["A"]["task"].id
    url = f"{A}/tasks/{task_id}"
    page = text(officer.get(url))
    assert "Suggested next step" in page and "Log a first-day call" in page and "Close task" in page

    refused = post(officer, f"{url}/close", {"status": "dismissed", "note": ""})
    assert refused.status_code == 400
    assert "give a reason for dismissing the task" in text(refused) and "Nothing was changed" in text(refused)
    assert db.session.get(Task, task_id).status == "open"
    assert post(officer, f"{url}/close", {"status": "sideways"}).status_code == 400

    assert post(officer, f"{url}/close", {"status": "dismissed", "note": "in hospital"}).status_code == 302
    db.session.expire_all()
    task = db.session.get(Task, task_id)
    assert (task.status, task.closed_note, task.closed_by) == ("dismissed", "in hospital", world.email("officer"))
    again = post(officer, f"{url}/close", {"status": "done"})
    assert again.status_code == 400 and "already dismissed" in text(again)

    assert post(officer, f"{url}/reopen").status_code == 302
    db.session.expire_all()
    assert db.session.get(Task, task_id).status == "open"
    assert post(officer, f"{url}/reopen").status_code == 400  # already open

    assert post(officer, f"{url}/assign", {"me": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Task, task_id).assigned_to == world.email("officer")
    assert post(officer, f"{url}/assign", {"assigned_to": "x" * 201}).status_code == 400
    assert post(officer, f"{url}/assign", {"assigned_to": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Task, task_id).assigned_to is None


def test_read_only_roles_see_tasks_without_forms_and_cannot_change(head: FlaskClient, data: dict[str, Any]) -> None:
    url = f"{A}/tasks/{data['A']['task'].id}"
    page = text(head.get(url))
    assert "Suggested next step" in page
    assert "Close task" not in page and "Assign to me" not in page and "Log a first-day call" not in page
    assert post(head, f"{url}/close", {"status": "done"}).status_code == 403
    assert post(head, f"{url}/assign", {"me": "1"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Task, data["A"]["task"].id).status == "open"
    assert head.get(f"{A}/interventions/new").status_code == 403
    assert head.get(f"{A}/letters").status_code == 403


def test_another_schools_rows_are_not_found(officer: FlaskClient, data: dict[str, Any]) -> None:
    c = data["C"]
    assert officer.get(f"{A}/tasks/{c['task'].id}").status_code == 404
    assert officer.get(f"{C}/tasks/{c['task'].id}").status_code == 404  # a school not theirs
    assert post(officer, f"{A}/tasks/{c['task'].id}/close", {"status": "done"}).status_code == 404
    assert officer.get(f"{A}/interventions/{c['intervention'].id}").status_code == 404
    assert officer.get(f"{A}/referrals/{c['referral'].id}").status_code == 404
    assert post(officer, f"{A}/referrals/{c['referral'].id}/withdraw", {"reason": "x"}).status_code == 404
    assert officer.get(f"{A}/pupils/{c['pupil'].id}/timeline").status_code == 404
    assert post(officer, f"{A}/pupils/{c['pupil'].id}/pack", {"format": "csv"}).status_code == 404
    assert officer.get(f"{A}/tasks/99999999999").status_code == 404  # beyond any id: 404, not a 500
    db.session.expire_all()
    assert db.session.get(Task, c["task"].id).status == "open"
    assert db.session.get(Referral, c["referral"].id).status == "draft"
    assert audit_actions("case.export") == []


# --- the intervention log ---------------------------------------------------------------------

def test_log_a_call_for_siblings_from_a_task(officer: FlaskClient, world: World, data: dict[str, Any]) -> None:
    task = data["A"]["task"]
    child, sibling = world.pupils["A"][1], world.pupils["A"][2]
    form = text(officer.get(f"{A}/interventions/new?pupil_ids={child.id}&type=first_day_call&task_id={task.id}"))
    assert f'value="{child.id}" selected' in form and 'value="first_day_call" selected' in form
    assert f"Mark task {task.id} done" in form
    before = count(Intervention)
    response = post(officer, f"{A}/interventions/new", {
        "type": "first_day_call", "pupil_ids": [str(child.id)], "siblings": "1", "task_id": str(task.id),
        "close_task": "1", "occurred_on": data["today"].isoformat(), "occurred_time": "00:05",
        "outcome": "spoke to mum: ill, back tomorrow", "next_step": "check register", "next_step_date": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{A}/tasks/{task.id}")
    assert count(Intervention) == before + 1
    row = db.session.scalars(select(Intervention).order_by(Intervention.id.desc())).first()
    assert (row.type, row.recorded_by, sorted(row.pupil_ids)) == ("first_day_call", world.email("officer"),
                                                                  sorted([child.id, sibling.id]))
    assert db.session.get(Task, task.id).status == "done"
    detail = text(officer.get(f"{A}/interventions/{row.id}"))
    assert "spoke to mum" in detail and "Record an outcome" in detail


def test_log_refuses_bad_input_and_changes_nothing(officer: FlaskClient, world: World, data: dict[str, Any]) -> None:
    pupil = world.pupils["A"][1]
    before = count(Intervention)
    cases = [
        ({"type": "notice_to_improve", "improvement_weeks": "9"}, "improvement period of 3 to 6 weeks"),
        ({"type": "penalty_notice"}, "give decided_by"),
        ({"type": "home_visit", "occurred_on": (data["today"] + timedelta(days=3)).isoformat()}, "is in the future"),
        ({"type": "home_visit", "occurred_on": "2025-03-30", "occurred_time": "01:30"}, "does not exist in UK time"),
        ({"type": "home_visit", "occurred_on": "12/11/2024"}, "must be a date (YYYY-MM-DD)"),
        ({"type": "home_visit", "occurred_time": "25:99"}, "must be HH:MM"),
        ({"type": "teleport"}, "unknown intervention type"),
        ({"type": "home_visit", "next_step_date": "2020-01-01"}, "next-step date is before the intervention"),
        ({"type": "home_visit", "pupil_ids": [str(data["C"]["pupil"].id)]}, "not at this school"),
        ({"type": "home_visit", "pupil_ids": []}, "choose at least one pupil"),
        ({"type": "home_visit", "outcome": "x" * 301}, "outcome is 301 characters"),
    ]
    for extra, message in cases:
        form = {"pupil_ids": [str(pupil.id)], "occurred_on": "2025-01-15", **extra}
        response = post(officer, f"{A}/interventions/new", form)
        assert response.status_code == 400, (extra, response.status_code)
        assert message in text(response), (extra, message)
        assert "Nothing was changed" in text(response)
    assert count(Intervention) == before
    # The form is shown again with what was typed.
    again = post(officer, f"{A}/interventions/new", {"type": "notice_to_improve", "pupil_ids": [str(pupil.id)],
                                                     "occurred_on": "2025-01-15", "outcome": "kept text"})
    assert 'value="kept text"' in text(again) and f'value="{pupil.id}" selected' in text(again)


def test_times_across_the_clock_changes(officer: FlaskClient, world: World, data: dict[str, Any]) -> None:
    pupil = world.pupils["A"][1]
    for day, clock, utc in (("2025-10-26", "01:30", datetime(2025, 10, 26, 0, 30, tzinfo=timezone.utc)),  # BST, first 01:30
                            ("2025-10-26", "02:30", datetime(2025, 10, 26, 2, 30, tzinfo=timezone.utc)),  # GMT
                            ("2025-03-30", "02:30", datetime(2025, 3, 30, 1, 30, tzinfo=timezone.utc)),   # BST
                            ("2025-03-29", "23:30", datetime(2025, 3, 29, 23, 30, tzinfo=timezone.utc))):  # GMT
        assert post(officer, f"{A}/interventions/new", {"type": "text", "pupil_ids": [str(pupil.id)],
                                                        "occurred_on": day, "occurred_time": clock}).status_code == 302
        row = db.session.scalars(select(Intervention).order_by(Intervention.id.desc())).first()
        assert row.occurred_at.replace(tzinfo=timezone.utc) == utc, (day, clock)


def test_log_list_filters_and_due_next_steps(officer: FlaskClient, data: dict[str, Any]) -> None:
    page = text(officer.get(f"{A}/interventions"))
    assert "Next steps due" in page and "call tomorrow" in page and "Home visit" in page
    assert "3 interventions" in page  # the home visit, a letter, an early-help referral's submission
    assert "No interventions match" in text(officer.get(f"{A}/interventions?type=attendance_contract"))
    assert "1 intervention" in text(officer.get(f"{A}/interventions?type=home_visit"))
    assert "2 interventions" in text(officer.get(f"{A}/interventions?pupil={data['A']['pupil'].id}"))  # visit and letter
    yesterday = (data["today"] - timedelta(days=1)).isoformat()
    assert "No interventions match" in text(officer.get(f"{A}/interventions?from={yesterday}&type=home_visit"))
    bad = officer.get(f"{A}/interventions?from=soon")
    assert bad.status_code == 400 and "must be a date" in text(bad)
    events = audit_actions("interventions.list")
    assert events and data["A"]["pupil"].id in [p.pupil_id for p in events[0].pupils]


def test_record_an_outcome(officer: FlaskClient, data: dict[str, Any]) -> None:
    row_id = data["A"]["intervention"].id
    url = f"{A}/interventions/{row_id}/outcome"
    bad = post(officer, url, {"outcome": "x", "next_step_date": "2001-01-01"})
    assert bad.status_code == 400 and "before the intervention" in text(bad)
    assert post(officer, url, {"outcome": "x", "next_step_date": "someday"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Intervention, row_id).outcome == "nobody home"
    ok = post(officer, url, {"outcome": "met mum at the gate", "next_step": "meeting", "notes": "agreed to meet"})
    assert ok.status_code == 302
    db.session.expire_all()
    row = db.session.get(Intervention, row_id)
    assert (row.outcome, row.next_step, row.notes) == ("met mum at the gate", "meeting", "agreed to meet")


# --- letters ----------------------------------------------------------------------------------

def test_letter_preview_send_print_and_pdf(officer: FlaskClient, world: World, data: dict[str, Any]) -> None:
    child, sibling = world.pupils["A"][1], world.pupils["A"][2]
    before = count(Intervention)
    query = f"kind=attendance_concern&pupil_ids={child.id}&pupil_ids={sibling.id}&sender=Ms+Patel&preview=1"
    page = text(officer.get(f"{A}/letters?{query}"))
    assert '<iframe class="letter-preview"' in page and "Send this letter" in page and "Ms Khan" in page
    preview = officer.get(f"{A}/letters/preview?{query}")
    assert preview.status_code == 200 and child.display_name in text(preview) and sibling.display_name in text(preview)
    assert "script-src" not in preview.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    assert count(Intervention) == before  # a preview records nothing

    missing = officer.get(f"{A}/letters?kind=meeting_invitation&pupil_ids={child.id}&sender=Ms+Patel&preview=1")
    assert missing.status_code == 400 and "the letter needs place" in text(missing) and "<iframe" not in text(missing)
    refused = post(officer, f"{A}/letters", {"kind": "notice_to_improve", "pupil_ids": [str(child.id)],
                                             "sender": "Ms Patel", "improvement_weeks": "12"})
    assert refused.status_code == 400 and "3 to 6 weeks" in text(refused)
    assert count(Intervention) == before

    sent = post(officer, f"{A}/letters", {"kind": "attendance_concern", "pupil_ids": [str(child.id), str(sibling.id)],
                                          "sender": "Ms Patel", "sender_role": "Attendance lead"})
    assert sent.status_code == 302
    row = db.session.scalars(select(Intervention).order_by(Intervention.id.desc())).first()
    assert row.type == "letter" and row.letter_html and sorted(row.pupil_ids) == sorted([child.id, sibling.id])
    copy = officer.get(f"{A}/interventions/{row.id}/letter")
    assert copy.status_code == 200 and "Attendance lead" in text(copy) and text(copy) == row.letter_html
    pdf = officer.get(f"{A}/interventions/{row.id}/letter.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and "attachment" in pdf.headers["Content-Disposition"]
    assert [e.detail["format"] for e in audit_actions("letter.export")] == ["pdf"]
    assert officer.get(f"{A}/interventions/{data['A']['intervention'].id}/letter").status_code == 404  # no letter
    assert "Printable letter" in text(officer.get(f"{A}/interventions/{row.id}"))


# --- the timeline and packs -------------------------------------------------------------------

def test_timeline_shows_the_case_and_is_audited(officer: FlaskClient, world: World, data: dict[str, Any]) -> None:
    pupil = data["A"]["pupil"]
    page = text(officer.get(f"{A}/pupils/{pupil.id}/timeline"))
    assert pupil.display_name in page and "Home visit: nobody home" in page
    assert "Task: First-day contact due" in page and "Early-help referral" in page and "Export a case pack" in page
    [event] = audit_actions("pupil.view")
    assert [p.pupil_id for p in event.pupils] == [pupil.id] and event.user_email == world.email("officer")


def test_case_pack_exports_are_audited(officer: FlaskClient, head: FlaskClient, world: World, data: dict[str, Any]) -> None:
    pupil = data["A"]["pupil"]
    url = f"{A}/pupils/{pupil.id}/pack"
    csv = post(officer, url, {"format": "csv", "purpose": "targeting meeting"})
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "Home visit: nobody home" in csv.data.decode("utf-8-sig")
    assert f"case-100001-{pupil.upn}" in csv.headers["Content-Disposition"]
    bad = post(officer, url, {"format": "docx"})
    assert bad.status_code == 400 and "format must be one of" in text(bad)
    zipped = post(head, url, {"format": "zip"})  # exporting is reading: a head may, and it is recorded
    assert zipped.status_code == 200 and zipped.data[:2] == b"PK"
    events = audit_actions("case.export")
    assert [(e.user_email, e.detail["format"]) for e in events] == [(world.email("officer"), "csv"), (world.email("head"), "zip")]
    assert all([p.pupil_id for p in e.pupils] == [pupil.id] for e in events)
    assert events[0].detail["purpose"] == "targeting meeting"


# --- referrals --------------------------------------------------------------------------------

def test_referral_workflow_through_the_pages(officer: FlaskClient, world: World, data: dict[str, Any]) -> None:
    pupil = world.pupils["A"][3]
    assert post(officer, f"{A}/referrals/new", {"pupil_id": str(pupil.id), "reason": " "}).status_code == 400
    before = count(Referral)
    assert post(officer, f"{A}/referrals/new", {"pupil_id": "", "reason": "x"}).status_code == 400
    assert count(Referral) == before
    drafted = post(officer, f"{A}/referrals/new", {"pupil_id": str(pupil.id), "reason": "Anxious about school"})
    assert drafted.status_code == 302
    ref = db.session.scalars(select(Referral).order_by(Referral.id.desc())).first()
    base = f"{A}/referrals/{ref.id}"
    page = text(officer.get(base))
    assert "Record consent" in page and "Record the family's consent first" in page

    early = post(officer, f"{base}/decide", {"accepted": "yes", "lead_practitioner": "Sam Reid"})
    assert early.status_code == 400 and "it must be submitted first" in text(early)
    assert post(officer, f"{base}/submit", {"to": "Hub"}).status_code == 400  # no consent yet
    assert "give who gave consent" in text(post(officer, f"{base}/consent", {"given": "yes", "by_whom": "", "method": "phone"}))
    assert post(officer, f"{base}/consent", {"given": "maybe", "by_whom": "Ms Khan", "method": "phone"}).status_code == 400
    assert post(officer, f"{base}/consent", {"given": "yes", "by_whom": "Ms Khan (mother)", "method": "phone"}).status_code == 302
    assert post(officer, f"{base}/submit", {"to": "County early help hub"}).status_code == 302
    no_lead = post(officer, f"{base}/decide", {"accepted": "yes"})
    assert no_lead.status_code == 400 and "needs its lead practitioner" in text(no_lead)
    first = data["first_review"]
    assert post(officer, f"{base}/decide", {"accepted": "yes", "lead_practitioner": "Sam Reid",
                                            "first_review": first.isoformat()}).status_code == 302
    past = post(officer, f"{base}/review", {"due_date": "2020-01-01"})
    assert past.status_code == 400 and "in the past" in text(past)
    later = first + timedelta(weeks=6)
    assert post(officer, f"{base}/review", {"due_date": later.isoformat()}).status_code == 302
    db.session.expire_all()
    ref = db.session.get(Referral, ref.id)
    assert ref.status == "accepted" and [r.due_date for r in ref.reviews] == [first, later]
    review = ref.reviews[0]
    assert post(officer, f"{base}/reviews/{review.id}/done", {"notes": "going well"}).status_code == 302
    other = data["A"]["referral"]
    assert post(officer, f"{A}/referrals/{other.id}/reviews/{review.id}/done", {}).status_code == 404  # wrong referral
    assert post(officer, f"{base}/close", {"outcome": "solved"}).status_code == 400
    assert post(officer, f"{base}/close", {"outcome": "needs met", "notes": "attending well"}).status_code == 302
    assert post(officer, f"{base}/teleport", {}).status_code == 404
    db.session.expire_all()
    ref = db.session.get(Referral, ref.id)
    assert (ref.status, ref.outcome, [r.status for r in ref.reviews]) == ("closed", "needs met", ["done", "cancelled"])
    assert "needs met" in text(officer.get(base))
    listing = text(officer.get(f"{A}/referrals?status=closed"))
    assert f"Referral {ref.id}" in listing and f"Referral {other.id}" not in listing

    assert post(officer, f"{A}/referrals/{other.id}/withdraw", {"reason": ""}).status_code == 400
    assert post(officer, f"{A}/referrals/{other.id}/withdraw", {"reason": "family moved"}).status_code == 302
    pack = post(officer, f"{base}/pack", {"format": "html"})
    assert pack.status_code == 200 and "attachment" in pack.headers["Content-Disposition"]
    assert post(officer, f"{base}/pack", {"format": "csv"}).status_code == 400
    [event] = audit_actions("referral.export")
    assert event.detail == {"format": "html", "referral_id": ref.id} and [p.pupil_id for p in event.pupils] == [pupil.id]


def test_head_sees_a_referral_without_forms(head: FlaskClient, data: dict[str, Any]) -> None:
    url = f"{A}/referrals/{data['A']['referral'].id}"
    page = text(head.get(url))
    assert "Early-help referral" in page and "Record consent" not in page and "Withdraw the referral" not in page
    assert post(head, f"{url}/withdraw", {"reason": "x"}).status_code == 403
    assert head.get(f"{A}/referrals/new").status_code == 403


# --- rule settings ----------------------------------------------------------------------------

def test_rule_settings_page(officer: FlaskClient, head: FlaskClient, world: World, data: dict[str, Any]) -> None:
    page = text(officer.get(f"{A}/rules"))
    assert "the defaults from the guidance" in page and "Save settings" in page
    form = {name: "on" for name in ("first_day_contact", "n_code_overdue", "consecutive_absence", "persistent_absence",
                                    "severe_absence", "attendance_drop", "penalty_threshold")}
    form.update(drop_points="99", consecutive_days="three")
    bad = post(officer, f"{A}/rules", form)
    assert bad.status_code == 400
    assert "drop_points must be between 1 and 50" in text(bad) and "consecutive_days must be a whole number" in text(bad)
    assert db.session.get(RuleSettings, world.schools["A"].id) is None
    form.update(drop_points="7.5", consecutive_days="4")
    assert post(officer, f"{A}/rules", form).status_code == 302
    db.session.expire_all()
    row = db.session.get(RuleSettings, world.schools["A"].id)
    assert (row.drop_points, row.consecutive_days, row.monday_friday, row.first_day_contact) == (7.5, 4, False, True)
    assert "last changed by" in text(officer.get(f"{A}/rules"))
    read_only = text(head.get(f"{A}/rules"))
    assert "Save settings" not in read_only and "7.5" in read_only
    assert post(head, f"{A}/rules", form).status_code == 403


# --- what works here --------------------------------------------------------------------------

def test_impact_pages(app: Flask, officer: FlaskClient, world: World, data: dict[str, Any]) -> None:
    page = text(officer.get(f"{A}/impact"))
    assert "Home visit" in page and "too few pupils to tell" in page and "Too few pupils to tell" in page
    assert officer.get(f"{A}/impact?weeks=99").status_code == 400
    lead = signed_in_client(app, world.email("trust_lead"))
    trust_page = text(lead.get("/impact"))
    assert "What works here" in trust_page and "Ash Primary" in trust_page and "All schools" in trust_page
    admin = signed_in_client(app, world.email("admin"))
    assert "Choose a trust" in text(admin.get("/impact"))
    north = world.schools["A"].trust_id
    assert "Ash Primary" in text(admin.get(f"/impact?trust={north}"))
    assert lead.get(f"/impact?trust={world.schools['C'].trust_id}").status_code == 404
