"""Messaging tables.

Message content and sending rules (templates with language variants, per-school quiet hours)
are at the end of this module; the outbox's tables sit beside them.
"""
from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.timeutil import utcnow
from outreach.extensions import db


# --- Message content: templates and quiet hours ---------------------------------------------

class MessageTemplate(db.Model):
    """A named message for one purpose at one school (e.g. ``first_day_absence``). Its text lives
    in language variants; every template has an English variant, the fallback for contacts whose
    language has none."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))  # led by the unique key
    name: Mapped[str] = mapped_column(String(60))
    purpose: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    variants: Mapped[list["MessageTemplateVariant"]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="MessageTemplateVariant.language")

    __table_args__ = (UniqueConstraint("school_id", "name", name="uq_message_templates_school_name"),)

    def variant(self, language: str) -> "MessageTemplateVariant | None":
        return next((v for v in self.variants if v.language == language), None)


class MessageTemplateVariant(db.Model):
    """The body of a template in one language (``en``, ``pl``, ``ur``, ``ro`` ...)."""

    __tablename__ = "message_template_variants"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("message_templates.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    template: Mapped[MessageTemplate] = relationship(back_populates="variants")

    __table_args__ = (UniqueConstraint("template_id", "language", name="uq_message_template_variants_template_language"),)


class SchoolMessagingSettings(db.Model):
    """A school's own quiet hours; schools without a row use the configured defaults
    (``OUTREACH_QUIET_HOURS``, ``OUTREACH_QUIET_DAYS``)."""

    __tablename__ = "school_messaging_settings"

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True)
    quiet_start: Mapped[time] = mapped_column(Time)
    quiet_end: Mapped[time] = mapped_column(Time)
    closed_days: Mapped[str] = mapped_column(String(30), default="sun")  # "sun", "sat,sun", ""
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


# --- The outbox: every SMS is a row before it is sent -----------------------------------------

OUTBOX_STATUSES = ("scheduled", "queued", "sent", "delivered", "undelivered", "failed", "cancelled", "blocked")


class OutboxMessage(db.Model):
    """One SMS to one phone. The row exists before any send; ``idempotency_key`` is unique, so
    asking for the same message twice makes one row; ``twilio_sid`` is stored in the transaction
    that marks it sent, so a restarted sender reconciles instead of sending again."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(10), default="en")
    purpose: Mapped[str] = mapped_column(String(40))
    pupil_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # UTC; quiet hours already applied
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    twilio_sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("status in ('scheduled','queued','sent','delivered','undelivered','failed','cancelled','blocked')",
                        name="status"),
        # The sender's question: what is due now? (status, not_before) answers it from the index.
        Index("ix_outbox_messages_due", "status", "not_before"),
        Index("ix_outbox_messages_school_created", "school_id", "created_at"),
    )


class OptOut(db.Model):
    """A number that replied STOP (or another opt-out word). Carriers and Twilio apply opt-outs
    per sending number, and outreach sends from one number or messaging service, so an opt-out
    holds for every school; ``school_id`` records where it was received."""

    __tablename__ = "opt_outs"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)  # E.164
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"))
    keyword: Mapped[str] = mapped_column(String(20))
    message_sid: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
