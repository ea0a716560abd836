"""The early-help referral workflow, its state machine, scheduled reviews and the referral pack."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from outreach.core.errors import NotFound, UserError
from outreach.extensions import db
from outreach.interventions import jobs, packs, referrals, services
from outreach.interventions.models import Intervention, Referral, Task
from tests.factories import make_contact, make_pupil, make_school
from tests.interventions.builders import absent_on, school_days, write_register

T0 = datetime(2024, 11, 18, 10, 0, tzinfo=timezone.utc)


@pytest.fixture()
def pupil(school):
    pupil = make_pupil(school, forename="Amira", surname="Khan")
    make_contact(school, [pupil], name="Ms Khan", phone="+447700900123")
    write_register(school, {pupil: absent_on(school_days(date(2024, 11, 4), date(2024, 11, 8)), "O")}, end=date(2024, 11, 15))
    services.log_intervention(school, type="home_visit", pupil_ids=[pupil.id], recorded_by="Mr Jones", outcome="family at home",
                              occurred_at=datetime(2024, 11, 11, 14, tzinfo=timezone.utc), now=T0)
    return pupil


def _draft(school, pupil):
    return referrals.draft_referral(school, pupil.id, reason="Attendance falling; family asked for help with housing",
                                    created_by="Ms Patel", now=T0)


def test_draft_is_prefilled_with_attendance_interventions_and_contacts(school, pupil):
    referral = _draft(school, pupil)
    prefill = referral.prefill
    assert prefill["attendance"]["absent_sessions"] == 10 and prefill["attendance"]["days_missed"] == "5 days"
    assert prefill["attendance"]["persistent_absence"] is True
    assert prefill["interventions"] == [{"date": "2024-11-11", "type": "Home visit", "outcome": "family at home",
                                         "recorded_by": "Mr Jones"}]
    assert prefill["contacts"][0]["name"] == "Ms Khan" and prefill["contacts"][0]["phone"] == "+447700900123"
    assert referral.status == "draft" and [e.action for e in referral.events] == ["drafted"]


def test_full_workflow_with_scheduled_reviews_and_reminders(school, pupil):
    referral = _draft(school, pupil)
    referrals.record_consent(school.id, referral.id, given=True, by_whom="Ms Khan (mother)", method="in person",
                             recorded_by="Ms Patel", now=T0 + timedelta(hours=1))
    referrals.submit(school.id, referral.id, by="Ms Patel", to="County early help hub", now=T0 + timedelta(hours=2))
    logged = db.session.scalars(select(Intervention).where(Intervention.type == "early_help_referral")).all()
    assert len(logged) == 1 and logged[0].pupil_ids == [pupil.id]
    referrals.decide(school.id, referral.id, accepted=True, by="Ms Patel", lead_practitioner="Sam Reid (family support)",
                     lead_practitioner_contact="01632 960111", now=T0 + timedelta(days=3))
    referral = db.session.get(Referral, referral.id)
    assert referral.status == "accepted" and [r.due_date for r in referral.reviews] == [date(2025, 1, 2)]  # six weeks on
    first_review = referral.reviews[0]

    # Not yet within the reminder lead time (5 days by default): no task.
    assert jobs.due_referral_reviews(datetime(2024, 12, 27, 8, tzinfo=timezone.utc)) == 0
    assert jobs.due_referral_reviews(datetime(2024, 12, 28, 8, tzinfo=timezone.utc)) == 1
    assert jobs.due_referral_reviews(datetime(2024, 12, 29, 8, tzinfo=timezone.utc)) == 0  # once only
    task = db.session.scalar(select(Task).where(Task.rule == "referral_review"))
    assert task.assigned_to == "Ms Patel" and task.due_date == date(2025, 1, 2) and task.status == "open"
    assert "Sam Reid" in task.summary

    referrals.complete_review(school.id, first_review.id, by="Ms Patel", notes="Attendance improving",
                              next_review=date(2025, 2, 10), now=datetime(2025, 1, 2, 12, tzinfo=timezone.utc))
    assert db.session.get(Task, task.id).status == "done"
    assert [r.status for r in db.session.get(Referral, referral.id).reviews] == ["done", "scheduled"]

    referrals.close(school.id, referral.id, by="Ms Patel", outcome="needs met", notes="Housing sorted",
                    now=datetime(2025, 1, 20, 12, tzinfo=timezone.utc))
    referral = db.session.get(Referral, referral.id)
    assert referral.status == "closed" and [r.status for r in referral.reviews] == ["done", "cancelled"]
    assert jobs.due_referral_reviews(datetime(2025, 2, 9, 8, tzinfo=timezone.utc)) == 0
    assert [e.action for e in referral.events] == ["drafted", "consent given", "submitted", "accepted",
                                                    "review scheduled", "review held", "review scheduled", "closed"]


def test_cannot_accept_an_unsubmitted_referral(school, pupil):
    referral = _draft(school, pupil)
    with pytest.raises(UserError) as err:
        referrals.decide(school.id, referral.id, accepted=True, by="Ms Patel", lead_practitioner="Sam Reid")
    assert "is a draft: it cannot be accepted" in err.value.message and "submitted first" in err.value.details[0]
    db.session.rollback()
    assert db.session.get(Referral, referral.id).status == "draft"


def test_cannot_submit_without_consent_and_refused_consent_blocks(school, pupil):
    referral = _draft(school, pupil)
    with pytest.raises(UserError) as err:
        referrals.submit(school.id, referral.id, by="Ms Patel", to="hub")
    assert "consent" in err.value.details[0]
    referrals.record_consent(school.id, referral.id, given=False, by_whom="Mr Khan", method="phone", recorded_by="Ms Patel")
    with pytest.raises(UserError) as err:
        referrals.submit(school.id, referral.id, by="Ms Patel", to="hub")
    assert "refused" in err.value.details[0]
    assert db.session.get(Referral, referral.id).status == "draft"


def test_accepting_needs_a_lead_practitioner_and_nothing_changes_on_error(school, pupil):
    referral = _draft(school, pupil)
    referrals.record_consent(school.id, referral.id, given=True, by_whom="Ms Khan", method="written", recorded_by="Ms Patel")
    referrals.submit(school.id, referral.id, by="Ms Patel", to="hub")
    with pytest.raises(UserError) as err:
        referrals.decide(school.id, referral.id, accepted=True, by="Ms Patel")
    assert "lead practitioner" in err.value.details[0]
    db.session.rollback()
    assert db.session.get(Referral, referral.id).status == "submitted"


def test_declined_referral_closes_and_finished_ones_cannot_move(school, pupil):
    referral = _draft(school, pupil)
    referrals.record_consent(school.id, referral.id, given=True, by_whom="Ms Khan", method="written", recorded_by="Ms Patel")
    referrals.submit(school.id, referral.id, by="Ms Patel", to="hub")
    referrals.decide(school.id, referral.id, accepted=False, by="Ms Patel", note="Threshold not met; signposted")
    with pytest.raises(UserError):
        referrals.schedule_review(school.id, referral.id, date(2030, 1, 1), by="Ms Patel")
    referrals.close(school.id, referral.id, by="Ms Patel", outcome="declined by early help")
    with pytest.raises(UserError) as err:
        referrals.withdraw(school.id, referral.id, by="Ms Patel", reason="x")
    assert "nothing (finished)" in err.value.details[0]
    with pytest.raises(UserError):
        referrals.close(school.id, referral.id, by="Ms Patel", outcome="not an outcome")


def test_referral_of_another_school_is_not_found(school, pupil):
    referral = _draft(school, pupil)
    other = make_school(urn="100002")
    with pytest.raises(NotFound):
        referrals.submit(other.id, referral.id, by="x", to="y")


def test_referral_pack_html_and_pdf_are_audited(school, pupil):
    referral = _draft(school, pupil)
    calls = []

    def audit(action, **kw):
        calls.append((action, kw))

    html = packs.referral_pack(school, referral.id, "html", requested_by="Ms Patel", audit=audit, now=T0)
    assert b"Amira Khan" in html.content and b"family at home" in html.content and b"Ms Khan" in html.content
    pdf = packs.referral_pack(school, referral.id, "pdf", requested_by="Ms Patel", audit=audit, now=T0)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Amira Khan" in text and "Early-help referral" in text
    assert calls == [("referral.export", {"school_id": school.id, "pupil_ids": [pupil.id],
                                          "detail": {"format": "html", "referral_id": referral.id}}),
                     ("referral.export", {"school_id": school.id, "pupil_ids": [pupil.id],
                                          "detail": {"format": "pdf", "referral_id": referral.id}})]
    with pytest.raises(UserError):
        packs.referral_pack(school, referral.id, "pdf", requested_by="Ms Patel", audit=None)
