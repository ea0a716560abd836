"""The intervention log, tasks, settings, the case timeline (with a plugged-in source) and its export."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from outreach.core.errors import NotFound, UserError
from outreach.extensions import db
from outreach.interventions import packs, queries, referrals, services
from outreach.interventions.models import Intervention, RuleSettings
from outreach.registers.models import ImportBatch, MarkChange
from tests.factories import make_pupil, make_school
from tests.interventions.builders import school_days, write_register

NOW = datetime(2024, 11, 20, 15, 0, tzinfo=timezone.utc)


def test_log_an_intervention_for_siblings(school):
    a, b = make_pupil(school), make_pupil(school)
    row = services.log_intervention(school, type="attendance_meeting", pupil_ids=[b.id, a.id], recorded_by="Ms Patel",
                                    occurred_at=NOW - timedelta(hours=2), outcome="agreed a morning plan",
                                    next_step="review in two weeks", next_step_date=date(2024, 12, 4), now=NOW)
    assert sorted(row.pupil_ids) == sorted([a.id, b.id]) and row.school_id == school.id
    assert [i.id for i in queries.list_interventions(school.id, pupil_id=a.id)] == [row.id]
    assert [i.id for i in queries.due_next_steps(school.id, date(2024, 12, 4))] == [row.id]
    services.record_outcome(school.id, row.id, outcome="plan working", notes="Mum called back")
    services.record_outcome(school.id, row.id, notes="Second note")
    assert db.session.get(Intervention, row.id).notes == "Mum called back\n\nSecond note"


@pytest.mark.parametrize("kwargs, expected", [
    ({"type": "detention"}, "unknown intervention type"),
    ({"pupil_ids": []}, "choose at least one pupil"),
    ({"recorded_by": " "}, "say who recorded it"),
    ({"occurred_at": NOW + timedelta(days=1)}, "is in the future"),
    ({"occurred_at": datetime(2024, 11, 20, 9)}, "timezone"),
    ({"next_step_date": date(2024, 11, 1)}, "next-step date is before"),
    ({"type": "notice_to_improve"}, "3 to 6 weeks"),
    ({"type": "notice_to_improve", "details": {"improvement_weeks": 8}}, "3 to 6 weeks"),
    ({"type": "penalty_notice"}, "decided_by"),
    ({"type": "home_visit", "details": {"improvement_weeks": 3}}, "does not apply"),
])
def test_bad_input_is_refused_and_nothing_is_written(school, kwargs, expected):
    pupil = make_pupil(school)
    args = {"type": "home_visit", "pupil_ids": [pupil.id], "recorded_by": "Ms Patel", "occurred_at": NOW - timedelta(hours=1)}
    args.update(kwargs)
    with pytest.raises(UserError) as err:
        services.log_intervention(school, now=NOW, **args)
    assert expected in err.value.message + " ".join(err.value.details or [])
    db.session.rollback()
    assert db.session.scalars(select(Intervention)).all() == []


def test_a_penalty_notice_is_recorded_only_with_the_person_who_decided(school):
    pupil = make_pupil(school)
    row = services.log_intervention(school, type="penalty_notice", pupil_ids=[pupil.id], recorded_by="Ms Patel",
                                    details={"decided_by": "LA attendance team (J Smith)", "reference": "PN-123"},
                                    occurred_at=NOW, now=NOW)
    assert row.details == {"decided_by": "LA attendance team (J Smith)", "reference": "PN-123", "recorded_only": True}


def test_pupil_of_another_school_is_refused(school):
    other = make_pupil(make_school(urn="100002"))
    with pytest.raises(UserError, match="not at this school"):
        services.log_intervention(school, type="text", pupil_ids=[other.id], recorded_by="x", now=NOW, occurred_at=NOW)


def test_rule_settings_are_checked(school):
    with pytest.raises(UserError) as err:
        services.update_rule_settings(school, {"penalty_sessions": 0, "drop_points": "lots", "nonsense": 1,
                                               "parent_texts": True}, "Ms Patel")
    details = " | ".join(err.value.details)
    assert "penalty_sessions must be between 1 and 100" in details and "drop_points must be a number" in details
    assert "unknown setting 'nonsense'" in details and "no message template 'attendance_concern'" in details
    assert db.session.get(RuleSettings, school.id) is None
    row = services.update_rule_settings(school, {"penalty_sessions": "12", "monday_friday": "off"}, "Ms Patel")
    assert (row.penalty_sessions, row.monday_friday, row.consecutive_days) == (12, False, 3)


def test_tasks_close_with_a_reason_and_reopen(school):
    pupil = make_pupil(school)
    days = school_days(date(2024, 11, 11), date(2024, 11, 13))
    write_register(school, {pupil: {d: "I" for d in days}}, end=days[-1])
    task = [t for t in services.evaluate_rules(school, days[-1], now=NOW).created if t.rule == "consecutive_absence"][0]
    with pytest.raises(UserError, match="cannot be closed"):
        services.close_task(school.id, task.id, status="dismissed", by="Ms Patel")
    services.close_task(school.id, task.id, status="dismissed", by="Ms Patel", note="in hospital, school knows")
    assert queries.list_tasks(school.id, pupil_id=pupil.id, rule="consecutive_absence") == []
    with pytest.raises(UserError, match="cannot be closed"):
        services.close_task(school.id, task.id, status="done", by="Ms Patel")
    services.reopen_task(school.id, task.id)
    assert [t.id for t in queries.list_tasks(school.id, rule="consecutive_absence")] == [task.id]
    with pytest.raises(NotFound):
        services.close_task(school.id + 99, task.id, status="done", by="x")


def _timeline_fixture(school):
    pupil = make_pupil(school, forename="Amira", surname="Khan")
    batch = ImportBatch(school_id=school.id, file_name="week46.csv", format="long", status="completed",
                        created_at=datetime(2024, 11, 15, 16, tzinfo=timezone.utc),
                        finished_at=datetime(2024, 11, 15, 16, 1, tzinfo=timezone.utc), created_by="Ms Office")
    db.session.add(batch)
    db.session.flush()
    write_register(school, {pupil: {date(2024, 11, 11): ("N", "N")}}, start=date(2024, 11, 11), end=date(2024, 11, 15),
                   batch_id=batch.id)
    fix = ImportBatch(school_id=school.id, file_name="week46-fix.csv", format="long", status="completed",
                      created_at=datetime(2024, 11, 18, 9, tzinfo=timezone.utc), created_by="Ms Office")
    db.session.add(fix)
    db.session.flush()
    db.session.add_all([MarkChange(batch_id=fix.id, school_id=school.id, pupil_id=pupil.id, date=date(2024, 11, 11),
                                   session=s, old_code="N", new_code="I") for s in ("AM", "PM")])
    db.session.commit()
    services.log_intervention(school, type="first_day_call", pupil_ids=[pupil.id], recorded_by="Ms Office",
                              occurred_at=datetime(2024, 11, 11, 9, 15, tzinfo=timezone.utc), outcome="no answer",
                              now=NOW)
    referrals.draft_referral(school, pupil.id, reason="Help with routines", created_by="Ms Patel",
                             now=datetime(2024, 11, 19, 12, tzinfo=timezone.utc))
    return pupil


def test_case_timeline_is_chronological_across_sources(school):
    pupil = _timeline_fixture(school)
    events = queries.case_timeline(school.id, pupil.id)
    assert [(e.kind, e.title) for e in events] == [
        ("intervention", "First-day call: no answer"),
        ("import", "Register import: 10 marks (Mon 11 Nov 2024 to Fri 15 Nov 2024)"),
        ("mark_change", "2 marks corrected"),
        ("referral", f"Early-help referral {referrals.list_referrals(school.id)[0].id}: drafted"),
    ]
    assert events[2].detail == "Mon 11 Nov 2024 AM: N to I; Mon 11 Nov 2024 PM: N to I"
    assert events[0].london.hour == 9  # GMT in November
    assert queries.case_timeline(school.id, pupil.id, sources=["interventions"])[0].kind == "intervention"
    with pytest.raises(UserError):
        queries.case_timeline(school.id, pupil.id, sources=["nope"])


def test_a_feature_can_plug_in_its_own_timeline_source(school):
    pupil = _timeline_fixture(school)

    def messages(school_id, pupil_id):
        yield queries.TimelineEvent(datetime(2024, 11, 11, 8, 30, tzinfo=timezone.utc), "message",
                                    "Text sent: first day of absence", "to the first contact")

    queries.register_timeline_source("test_messages", messages)
    try:
        events = queries.case_timeline(school.id, pupil.id)
        assert events[0].kind == "message"
    finally:
        queries._SOURCES.pop("test_messages")


def test_case_pack_exports_are_audited(school):
    pupil = _timeline_fixture(school)
    calls = []

    def audit(action, **kw):
        calls.append((action, kw["pupil_ids"], kw["detail"]["format"]))

    html = packs.case_pack(school, pupil.id, "html", requested_by="Ms Patel", purpose="targeting meeting", audit=audit, now=NOW)
    assert b"Amira Khan" in html.content and b"2 marks corrected" in html.content and b"targeting meeting" in html.content
    rows = list(csv.DictReader(io.StringIO(packs.case_pack(school, pupil.id, "csv", requested_by="Ms Patel", audit=audit,
                                                           now=NOW).content.decode("utf-8-sig"))))
    assert [r["kind"] for r in rows] == ["intervention", "import", "mark_change", "referral"]
    assert rows[0]["when_uk"] == "2024-11-11 09:15"
    archive = zipfile.ZipFile(io.BytesIO(packs.case_pack(school, pupil.id, "zip", requested_by="Ms Patel", audit=audit,
                                                         now=NOW).content))
    names = sorted(archive.namelist())
    assert [n.split("/")[1] for n in names] == ["summary.html", "summary.pdf", "timeline.csv"]
    pdf = archive.read([n for n in names if n.endswith(".pdf")][0])
    assert "Amira Khan" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert calls == [("case.export", [pupil.id], f) for f in ("html", "csv", "zip")]
    with pytest.raises(UserError):
        packs.case_pack(school, pupil.id, "docx", requested_by="Ms Patel", audit=audit)
    with pytest.raises(UserError):
        packs.case_pack(school, pupil.id, "html", requested_by="Ms Patel", audit=None)
