"""Early-help referrals: draft -> consent -> submitted -> accepted/declined -> reviews -> closed.

Early help is voluntary: a referral is submitted only with the family's consent, recorded with
who gave it, when and how. Each step is checked against ``REFERRAL_TRANSITIONS`` (no accepting a
referral that was never submitted) and written as a ``ReferralEvent`` for the case timeline.
Review dates are rows; the clock's ``due_referral_reviews`` turns those coming due into tasks.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from outreach.attendance.measures import SessionCounts
from outreach.attendance.models import PupilWeek
from outreach.core.errors import UserError
from outreach.core.timeutil import academic_year_label, academic_year_start, to_london, utcnow, week_start
from outreach.extensions import db
from outreach.interventions import services
from outreach.interventions.models import Intervention, InterventionPupil, Referral, ReferralEvent, ReferralReview, Task
from outreach.interventions.rules import days_text
from outreach.interventions.vocabulary import (CONSENT_METHODS, INTERVENTION_TYPES, REFERRAL_OUTCOMES,
                                               REFERRAL_TRANSITIONS)
from outreach.schools.models import Contact, Pupil, PupilContact, School

log = logging.getLogger(__name__)

DEFAULT_REVIEW_WEEKS = 6  # early-help plans are commonly reviewed every 6 weeks
STATUS_WORDS = {"draft": "a draft", "submitted": "submitted", "accepted": "accepted", "declined": "declined",
                "closed": "closed", "withdrawn": "withdrawn"}


def _need(value: str | None, what: str, problems: list[str]) -> str:
    value = (value or "").strip()
    if not value:
        problems.append(f"give {what}")
    return value


def _fail(message: str, problems: list[str]) -> None:
    if problems:
        raise UserError(message, details=problems)


def get_referral(school_id: int, referral_id: int) -> Referral:
    return services.get_scoped(Referral, school_id, referral_id, "referral")


def _check_move(referral: Referral, to: str) -> None:
    """Refuse a step the lifecycle does not allow, before anything is changed."""
    if to not in REFERRAL_TRANSITIONS[referral.status]:
        hint = {"accepted": "it must be submitted first", "declined": "it must be submitted first",
                "submitted": "only a draft can be submitted", "closed": "only an accepted or declined referral can be closed"}
        raise UserError(f"referral {referral.id} is {STATUS_WORDS[referral.status]}: it cannot be {to}",
                        details=[hint.get(to, f"from {referral.status} it can be: "
                                          f"{', '.join(sorted(REFERRAL_TRANSITIONS[referral.status])) or 'nothing (finished)'}")])


def _move(referral: Referral, to: str, by: str, note: str | None, now: datetime) -> None:
    _check_move(referral, to)
    referral.status = to
    _event(referral, to, by, note, now)


def _event(referral: Referral, action: str, by: str, note: str | None, now: datetime) -> None:
    referral.events.append(ReferralEvent(school_id=referral.school_id, at=now, action=action, by=by,
                                         note=(note or None) and note[:500]))


# --- the draft --------------------------------------------------------------------------------

def attendance_summary(school_id: int, pupil_id: int, as_of: date) -> dict[str, Any]:
    """This academic year's sessions for one pupil, from rollups, in days as well as sessions."""
    rows = db.session.scalars(select(PupilWeek).where(
        PupilWeek.school_id == school_id, PupilWeek.pupil_id == pupil_id,
        PupilWeek.week_start >= week_start(academic_year_start(as_of)), PupilWeek.week_start <= week_start(as_of)))
    counts = SessionCounts()
    for w in rows:
        counts = counts + SessionCounts(w.present, w.aea, w.authorised, w.unauthorised, w.late, w.not_counted, w.admin)
    return {
        "academic_year": academic_year_label(as_of), "as_of": as_of.isoformat(),
        "possible_sessions": counts.possible, "absent_sessions": counts.absent,
        "authorised_sessions": counts.authorised, "unauthorised_sessions": counts.unauthorised,
        "late_sessions": counts.late, "days_missed": days_text(counts.absent),
        "attendance_pct": None if counts.attendance_pct is None else round(counts.attendance_pct, 1),
        "persistent_absence": counts.persistent_absence, "severe_absence": counts.severe_absence,
    }


def build_prefill(school_id: int, pupil_id: int, as_of: date) -> dict[str, Any]:
    """What a referral form asks first: attendance, what the school has tried, who to contact."""
    interventions = db.session.scalars(
        select(Intervention).join(InterventionPupil, InterventionPupil.intervention_id == Intervention.id)
        .where(Intervention.school_id == school_id, InterventionPupil.pupil_id == pupil_id)
        .order_by(Intervention.occurred_at))
    contacts = db.session.execute(
        select(Contact, PupilContact).join(PupilContact, PupilContact.contact_id == Contact.id)
        .where(PupilContact.pupil_id == pupil_id, Contact.school_id == school_id).order_by(PupilContact.priority, Contact.id))
    return {
        "attendance": attendance_summary(school_id, pupil_id, as_of),
        "interventions": [{"date": to_london(i.occurred_at).date().isoformat(), "type": INTERVENTION_TYPES[i.type].label,
                           "outcome": i.outcome, "recorded_by": i.recorded_by} for i in interventions],
        "contacts": [{"name": c.name, "relationship": link.relationship_label, "phone": c.phone, "email": c.email,
                      "language": c.preferred_language} for c, link in contacts],
    }


def draft_referral(school: School, pupil_id: int, *, reason: str, created_by: str, officer: str | None = None,
                   now: datetime | None = None) -> Referral:
    now = now or utcnow()
    problems: list[str] = []
    reason = _need(reason, "the reason for the referral", problems)
    created_by = _need(created_by, "who is making the referral", problems)
    _fail("the referral cannot be drafted", problems)
    pupil = services.school_pupils(school.id, [pupil_id])[0]
    referral = Referral(school_id=school.id, pupil_id=pupil.id, status="draft", reason=reason, created_by=created_by,
                        created_at=now, officer=(officer or created_by).strip(),
                        prefill=build_prefill(school.id, pupil.id, to_london(now).date()))
    db.session.add(referral)
    _event(referral, "drafted", created_by, None, now)
    db.session.commit()
    return referral


def refresh_prefill(school_id: int, referral_id: int, now: datetime | None = None) -> Referral:
    """Re-gather the attendance summary, interventions and contacts (a draft only: what was
    submitted stays as it was sent)."""
    referral = get_referral(school_id, referral_id)
    if referral.status != "draft":
        raise UserError(f"referral {referral_id} is {STATUS_WORDS[referral.status]}: only a draft is refreshed")
    referral.prefill = build_prefill(school_id, referral.pupil_id, to_london(now or utcnow()).date())
    db.session.commit()
    return referral


def record_consent(school_id: int, referral_id: int, *, given: bool, by_whom: str, method: str, recorded_by: str,
                   at: datetime | None = None, now: datetime | None = None) -> Referral:
    """Who gave (or refused) consent, when and how. Refused consent is recorded too: the referral
    then cannot be submitted unless consent is given later."""
    now = now or utcnow()
    referral = get_referral(school_id, referral_id)
    problems: list[str] = []
    by_whom = _need(by_whom, "who gave consent", problems)
    recorded_by = _need(recorded_by, "who recorded it", problems)
    if method not in CONSENT_METHODS:
        problems.append(f"consent method must be one of: {', '.join(CONSENT_METHODS)}")
    at = at or now
    if at.tzinfo is None:
        problems.append("the consent time needs a timezone")
    elif not 2000 <= at.year < 2100:
        problems.append(f"{at.year} is not a year to record: check the date")
    elif at > now + timedelta(minutes=5):
        problems.append("consent cannot be recorded in the future")
    if referral.status != "draft":
        problems.append(f"referral {referral_id} is {STATUS_WORDS[referral.status]}: consent is recorded on a draft")
    _fail("consent cannot be recorded", problems)
    referral.consent_given, referral.consent_by, referral.consent_method = given, by_whom, method
    referral.consent_at, referral.consent_recorded_by = at, recorded_by
    _event(referral, "consent given" if given else "consent refused", recorded_by, f"{by_whom}, {method}", now)
    db.session.commit()
    return referral


def submit(school_id: int, referral_id: int, *, by: str, to: str, now: datetime | None = None) -> Referral:
    """Send the referral (outside the software) and record it; logs an early-help intervention."""
    now = now or utcnow()
    referral = get_referral(school_id, referral_id)
    problems: list[str] = []
    by = _need(by, "who submitted it", problems)
    to = _need(to, "the service it went to (e.g. the early help hub)", problems)
    if referral.status == "draft" and referral.consent_given is not True:
        problems.append("record the family's consent first: early help is voluntary" if referral.consent_given is None
                        else "the family refused consent: record consent given before submitting")
    _check_move(referral, "submitted")
    _fail("the referral cannot be submitted", problems)
    _move(referral, "submitted", by, f"to {to}", now)
    referral.submitted_at, referral.submitted_by, referral.submitted_to = now, by, to
    school = db.session.get(School, school_id)
    assert school is not None
    services.log_intervention(school, type="early_help_referral", pupil_ids=[referral.pupil_id], recorded_by=by,
                              occurred_at=now, outcome="submitted", notes=f"Early-help referral {referral.id} to {to}",
                              now=now, commit=False)
    db.session.commit()
    return referral


def decide(school_id: int, referral_id: int, *, accepted: bool, by: str, note: str | None = None,
           lead_practitioner: str | None = None, lead_practitioner_contact: str | None = None,
           first_review: date | None = None, now: datetime | None = None) -> Referral:
    """Record early help's answer. An accepted referral names its lead practitioner and gets its
    first review date (default six weeks on)."""
    now = now or utcnow()
    referral = get_referral(school_id, referral_id)
    by = (by or "").strip()
    problems: list[str] = []
    if not by:
        problems.append("say who recorded the decision")
    today = to_london(now).date()
    if accepted:
        if not (lead_practitioner or "").strip():
            problems.append("an accepted referral needs its lead practitioner")
        if first_review is not None and first_review < today:
            problems.append("the first review date is in the past")
    _check_move(referral, "accepted" if accepted else "declined")
    _fail("the decision cannot be recorded", problems)
    _move(referral, "accepted" if accepted else "declined", by, note, now)
    referral.decided_at, referral.decision_note = now, (note or "").strip() or None
    if accepted:
        referral.lead_practitioner = lead_practitioner.strip()  # type: ignore[union-attr]
        referral.lead_practitioner_contact = (lead_practitioner_contact or "").strip() or None
        due = first_review or today + timedelta(weeks=DEFAULT_REVIEW_WEEKS)
        referral.reviews.append(ReferralReview(school_id=school_id, due_date=due, status="scheduled"))
        _event(referral, "review scheduled", by, due.isoformat(), now)
    db.session.commit()
    return referral


def schedule_review(school_id: int, referral_id: int, due_date: date, *, by: str, now: datetime | None = None) -> ReferralReview:
    now = now or utcnow()
    referral = get_referral(school_id, referral_id)
    problems: list[str] = []
    by = _need(by, "who scheduled it", problems)
    if referral.status != "accepted":
        problems.append(f"referral {referral_id} is {STATUS_WORDS[referral.status]}: reviews are for accepted referrals")
    if due_date < to_london(now).date():
        problems.append("the review date is in the past")
    if any(r.due_date == due_date and r.status == "scheduled" for r in referral.reviews):
        problems.append(f"a review is already scheduled for {due_date.isoformat()}")
    _fail("the review cannot be scheduled", problems)
    review = ReferralReview(school_id=school_id, due_date=due_date, status="scheduled")
    referral.reviews.append(review)
    _event(referral, "review scheduled", by, due_date.isoformat(), now)
    db.session.commit()
    return review


def get_review(school_id: int, review_id: int) -> ReferralReview:
    return services.get_scoped(ReferralReview, school_id, review_id, "referral review")


def complete_review(school_id: int, review_id: int, *, by: str, notes: str | None = None,
                    next_review: date | None = None, now: datetime | None = None) -> ReferralReview:
    """Record that a review took place (closing its reminder task) and optionally book the next."""
    now = now or utcnow()
    review = get_review(school_id, review_id)
    referral = review.referral
    problems: list[str] = []
    by = _need(by, "who recorded the review", problems)
    if review.status != "scheduled":
        problems.append(f"review {review_id} is already {review.status}")
    if referral.status != "accepted":
        problems.append(f"referral {referral.id} is {STATUS_WORDS[referral.status]}")
    if next_review is not None and next_review <= to_london(now).date():
        problems.append("the next review must be after today")
    _fail("the review cannot be recorded", problems)
    review.status, review.completed_at, review.completed_by = "done", now, by
    review.notes = (notes or "").strip() or None
    _close_reminder(review, by, "review recorded", now)
    _event(referral, "review held", by, (notes or "")[:200] or None, now)
    if next_review is not None:
        referral.reviews.append(ReferralReview(school_id=school_id, due_date=next_review, status="scheduled"))
        _event(referral, "review scheduled", by, next_review.isoformat(), now)
    db.session.commit()
    return review


def _close_reminder(review: ReferralReview, by: str, note: str, now: datetime) -> None:
    if review.reminder_task_id is None:
        return
    task = db.session.get(Task, review.reminder_task_id)
    if task is not None and task.status == "open":
        task.status, task.closed_at, task.closed_by, task.closed_note = "done", now, by, note


def close(school_id: int, referral_id: int, *, by: str, outcome: str, notes: str | None = None,
          now: datetime | None = None) -> Referral:
    """Close an accepted (or declined) referral with its outcome; outstanding reviews are cancelled."""
    now = now or utcnow()
    referral = get_referral(school_id, referral_id)
    problems: list[str] = []
    by = _need(by, "who closed it", problems)
    if outcome not in REFERRAL_OUTCOMES:
        problems.append(f"outcome must be one of: {', '.join(REFERRAL_OUTCOMES)}")
    _check_move(referral, "closed")
    _fail("the referral cannot be closed", problems)
    _move(referral, "closed", by, outcome, now)
    referral.closed_at, referral.outcome, referral.outcome_notes = now, outcome, (notes or "").strip() or None
    for review in referral.reviews:
        if review.status == "scheduled":
            review.status = "cancelled"
            _close_reminder(review, by, "referral closed", now)
    db.session.commit()
    return referral


def withdraw(school_id: int, referral_id: int, *, by: str, reason: str, now: datetime | None = None) -> Referral:
    now = now or utcnow()
    referral = get_referral(school_id, referral_id)
    problems: list[str] = []
    by = _need(by, "who withdrew it", problems)
    reason = _need(reason, "the reason", problems)
    _check_move(referral, "withdrawn")
    _fail("the referral cannot be withdrawn", problems)
    _move(referral, "withdrawn", by, reason, now)
    referral.closed_at = now
    db.session.commit()
    return referral


# --- the clock --------------------------------------------------------------------------------

def create_review_reminders(now: datetime) -> int:
    """A task for the referral's officer for each scheduled review of an accepted referral due
    within the school's reminder lead time (``review_reminder_days``) that has no reminder yet."""
    today = to_london(now).date()
    horizon = today + timedelta(days=60)  # the largest lead time allowed
    rows = db.session.execute(
        select(ReferralReview, Referral).join(Referral, Referral.id == ReferralReview.referral_id)
        .where(ReferralReview.status == "scheduled", ReferralReview.reminder_task_id.is_(None),
               ReferralReview.due_date <= horizon, Referral.status == "accepted")
        .order_by(ReferralReview.due_date, ReferralReview.id)).all()
    lead: dict[int, int] = {}
    created = 0
    for review, referral in rows:
        if referral.school_id not in lead:
            lead[referral.school_id] = services.rule_config(referral.school_id).review_reminder_days
        if review.due_date > today + timedelta(days=lead[referral.school_id]):
            continue
        task = services.create_task(
            referral.school_id, referral.pupil_id, "referral_review", f"review:{review.id}",
            summary=f"Early-help review due {review.due_date:%a %d %b %Y} (referral {referral.id}, "
                    f"lead practitioner {referral.lead_practitioner})",
            episode_start=review.due_date, detail={"referral_id": referral.id, "review_id": review.id},
            assigned_to=referral.officer or referral.created_by, due_date=review.due_date, now=now)
        if task is not None:
            review.reminder_task_id = task.id
            created += 1
    db.session.commit()
    if created:
        log.info("referral review reminders created: %d", created)
    return created


def list_referrals(school_id: int, status: str | None = None, pupil_id: int | None = None) -> list[Referral]:
    stmt = select(Referral).where(Referral.school_id == school_id).order_by(Referral.created_at.desc(), Referral.id.desc())
    if status:
        stmt = stmt.where(Referral.status == status)
    if pupil_id is not None:
        stmt = stmt.where(Referral.pupil_id == pupil_id)
    return list(db.session.scalars(stmt))


def pupil_of(referral: Referral) -> Pupil:
    pupil = db.session.get(Pupil, referral.pupil_id)
    assert pupil is not None
    return pupil
