"""Interventions, rule settings, tasks, pending parent messages, early-help referrals.

Every row carries its ``school_id`` (pupil data is always scoped to a school). ``recorded_by`` /
``created_by`` are free text for now; the accounts branch replaces them with user references.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, Float, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.timeutil import utcnow
from outreach.extensions import db
from outreach.interventions.rules import DEFAULTS
from outreach.interventions.vocabulary import (INTERVENTION_TYPES, REFERRAL_STATUSES, REVIEW_STATUSES, RULES,
                                               TASK_STATUSES)


def _in(column: str, values) -> str:  # type: ignore[no-untyped-def]
    return f"{column} in (" + ",".join("'" + v + "'" for v in values) + ")"


class Intervention(db.Model):
    """Something a person did (or recorded) for one or more pupils: a call, a letter, a meeting,
    a place on the walking bus, or a legal step taken outside the software."""

    __tablename__ = "interventions"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    outcome: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(String(300))
    next_step_date: Mapped[date | None] = mapped_column(Date)
    # Type-specific facts: improvement_weeks for a notice to improve, decided_by for a penalty notice,
    # letter kind for a letter ... (validated in services).
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    letter_html: Mapped[str | None] = mapped_column(Text)  # the letter exactly as sent, for the record

    pupil_links: Mapped[list["InterventionPupil"]] = relationship(
        back_populates="intervention", cascade="all, delete-orphan", order_by="InterventionPupil.pupil_id")

    __table_args__ = (
        CheckConstraint(_in("type", INTERVENTION_TYPES), name="type"),
        Index("ix_interventions_school_occurred", "school_id", "occurred_at"),
    )

    @property
    def pupil_ids(self) -> list[int]:
        return [link.pupil_id for link in self.pupil_links]


class InterventionPupil(db.Model):
    __tablename__ = "intervention_pupils"

    intervention_id: Mapped[int] = mapped_column(ForeignKey("interventions.id", ondelete="CASCADE"), primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"), primary_key=True, index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)

    intervention: Mapped[Intervention] = relationship(back_populates="pupil_links")


class RuleSettings(db.Model):
    """A school's rule thresholds. Schools without a row use the defaults (from the guidance);
    ``services.rule_settings(school_id)`` returns the row or an unsaved one with the defaults."""

    __tablename__ = "rule_settings"

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True)
    first_day_contact: Mapped[bool] = mapped_column(Boolean, default=DEFAULTS.first_day_contact)
    n_code_overdue: Mapped[bool] = mapped_column(Boolean, default=DEFAULTS.n_code_overdue)
    consecutive_absence: Mapped[bool] = mapped_column(Boolean, default=DEFAULTS.consecutive_absence)
    persistent_absence: Mapped[bool] = mapped_column(Boolean, default=DEFAULTS.persistent_absence)
    severe_absence: Mapped[bool] = mapped_column(Boolean, default=DEFAULTS.severe_absence)
    attendance_drop: Mapped[bool] = mapped_column(Boolean, default=DEFAULTS.attendance_drop)
    monday_friday: Mapped[bool] = mapped_column(Boolean, default=DEFAULTS.monday_friday)
    penalty_threshold: Mapped[bool] = mapped_column(Boolean, default=DEFAULTS.penalty_threshold)
    n_code_school_days: Mapped[int] = mapped_column(Integer, default=DEFAULTS.n_code_school_days)
    consecutive_days: Mapped[int] = mapped_column(Integer, default=DEFAULTS.consecutive_days)
    pa_min_possible: Mapped[int] = mapped_column(Integer, default=DEFAULTS.pa_min_possible)
    drop_points: Mapped[float] = mapped_column(Float, default=DEFAULTS.drop_points)
    drop_weeks: Mapped[int] = mapped_column(Integer, default=DEFAULTS.drop_weeks)
    monday_friday_weeks: Mapped[int] = mapped_column(Integer, default=DEFAULTS.monday_friday_weeks)
    monday_friday_min_days: Mapped[int] = mapped_column(Integer, default=DEFAULTS.monday_friday_min_days)
    monday_friday_ratio: Mapped[float] = mapped_column(Float, default=DEFAULTS.monday_friday_ratio)
    penalty_sessions: Mapped[int] = mapped_column(Integer, default=DEFAULTS.penalty_sessions)
    penalty_school_weeks: Mapped[int] = mapped_column(Integer, default=DEFAULTS.penalty_school_weeks)
    review_reminder_days: Mapped[int] = mapped_column(Integer, default=DEFAULTS.review_reminder_days)
    parent_texts: Mapped[bool] = mapped_column(Boolean, default=DEFAULTS.parent_texts)
    parent_text_template: Mapped[str] = mapped_column(String(60), default=DEFAULTS.parent_text_template)
    parent_text_cooldown_days: Mapped[int] = mapped_column(Integer, default=DEFAULTS.parent_text_cooldown_days)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Task(db.Model):
    """A prompt for a person: one per rule episode (the unique key makes evaluating twice harmless)."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(30))
    episode_key: Mapped[str] = mapped_column(String(60))
    episode_start: Mapped[date] = mapped_column(Date)
    episode_end: Mapped[date] = mapped_column(Date)  # the last evidence this task covers
    summary: Mapped[str] = mapped_column(String(300))
    next_step: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # counts and dates, never names
    status: Mapped[str] = mapped_column(String(10), default="open")
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(200))
    closed_note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        UniqueConstraint("school_id", "pupil_id", "rule", "episode_key", name="uq_tasks_episode"),
        CheckConstraint(_in("status", TASK_STATUSES), name="status"),
        CheckConstraint(_in("rule", RULES), name="rule"),
        Index("ix_tasks_school_status", "school_id", "status"),
    )


class RuleMessage(db.Model):
    """A supportive text a rule proposes to a parent, waiting for the messaging layer to enqueue
    it (``enqueued_at`` null). Also the record the per-contact cooldown is checked against."""

    __tablename__ = "rule_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(10))
    purpose: Mapped[str] = mapped_column(String(40))
    pupil_ids: Mapped[list[int]] = mapped_column(JSON)
    rules: Mapped[list[str]] = mapped_column(JSON)
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_rule_messages_school_contact", "school_id", "contact_id", "created_at"),)


class Referral(db.Model):
    """An early-help referral for one pupil (a whole-family assessment led by a lead practitioner).
    ``prefill`` is the attendance summary, interventions and contacts gathered for the draft."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    prefill: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    consent_given: Mapped[bool | None] = mapped_column(Boolean)
    consent_by: Mapped[str | None] = mapped_column(String(200))  # who gave (or refused) consent
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    consent_method: Mapped[str | None] = mapped_column(String(20))
    consent_recorded_by: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    submitted_to: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(String(500))
    lead_practitioner: Mapped[str | None] = mapped_column(String(200))
    lead_practitioner_contact: Mapped[str | None] = mapped_column(String(200))
    officer: Mapped[str | None] = mapped_column(String(200))  # who review reminders go to
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(60))
    outcome_notes: Mapped[str | None] = mapped_column(Text)

    events: Mapped[list["ReferralEvent"]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", order_by="ReferralEvent.id")
    reviews: Mapped[list["ReferralReview"]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", order_by="ReferralReview.due_date")

    __table_args__ = (CheckConstraint(_in("status", REFERRAL_STATUSES), name="status"),)


class ReferralEvent(db.Model):
    """Each step of a referral (drafted, consent, submitted, accepted ...): the case timeline's source."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    action: Mapped[str] = mapped_column(String(30))
    by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(500))

    referral: Mapped[Referral] = relationship(back_populates="events")


class ReferralReview(db.Model):
    """A review date for an accepted referral; the clock turns due ones into reminder tasks."""

    __tablename__ = "referral_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    reminder_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)

    referral: Mapped[Referral] = relationship(back_populates="reviews")

    __table_args__ = (
        CheckConstraint(_in("status", REVIEW_STATUSES), name="status"),
        Index("ix_referral_reviews_due", "status", "due_date"),
    )
