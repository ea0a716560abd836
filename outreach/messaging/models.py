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
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The Twilio status last reported (accepted, queued, sending, sent, delivered, ...): finer than
    # ``status``, for the outbox page.
    twilio_status: Mapped[str | None] = mapped_column(String(20))
    # SIDs of earlier attempts that Twilio accepted but could not deliver (30003, retried): the
    # reconciler must never take one of them for the current attempt.
    superseded_sids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The inbound MessageSid this row answers (HELP, a handler's reply): a direct reply to a text
    # just received is not held back by quiet hours.
    reply_to_sid: Mapped[str | None] = mapped_column(String(40))
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


# --- Inbound: every received SMS once, and the officer inbox ----------------------------------

INBOUND_KINDS = ("opt_out", "opt_in", "help", "handler", "inbox")
INBOX_STATUSES = ("new", "done")


class InboundMessage(db.Model):
    """One text received from Twilio, recorded once: ``message_sid`` is unique, so a replayed
    webhook finds its row and changes nothing. ``kind`` says what was done with it (an opt-out
    word, an opt-in word, HELP, claimed by a feature's handler, or put in the officer inbox)."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(40), unique=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164, the sender
    to_number: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))
    handler: Mapped[str | None] = mapped_column(String(60))
    summary: Mapped[str | None] = mapped_column(String(300))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (CheckConstraint("kind in ('opt_out','opt_in','help','handler','inbox')", name="kind"),)


class InboxMessage(db.Model):
    """A reply an officer should read: one row per school the sender is a contact at (a parent
    with children at two schools is seen by both), linked to that school's contact and pupils.
    ``school_id`` is null when the number belongs to no known contact (trust admins see those)."""

    __tablename__ = "inbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    pupil_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    handler: Mapped[str | None] = mapped_column(String(60))  # a feature handler that also sent it here
    summary: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(8), default="new")
    handled_by: Mapped[str | None] = mapped_column(String(200))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    inbound: Mapped[InboundMessage] = relationship()

    __table_args__ = (
        CheckConstraint("status in ('new','done')", name="status"),
        UniqueConstraint("inbound_id", "school_id", name="uq_inbox_messages_inbound_school"),
        Index("ix_inbox_messages_school_status_received", "school_id", "status", "received_at"),
    )
